"""The build's choices as typed values, and what each ``--quantize`` value means, spelled once.

``--quantize`` and ``--postprocess`` travel from the CLI to the stage that uses them as these enums,
never as strings. What a ``--quantize`` value does to each runtime's weights is in
``QUANTIZE_EFFECTS`` alone: the TF.js and .tflite conversions, ``sitegen inspect``'s sizes and the
CLI's help all read it there. ``tests/unit/test_options.py`` fails when another module spells a
value (the page's contract, ``sitegen/contract.py``, spells the words config.json carries).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sitegen.contract import (
    LITERT_FLOAT16,
    LITERT_FLOAT32,
    LITERT_FULL_INTEGER,
    LitertQuantization,
)


class Quantize(str, Enum):
    """``--quantize``: how the converted model's weights are stored (``effect`` says what each
    value does to each runtime)."""

    none = "none"
    float16 = "float16"
    uint8 = "uint8"
    int8 = "int8"

    def __str__(self) -> str:  # messages and f-strings show the option as the user typed it
        return self.value

    @property
    def effect(self) -> QuantizeEffect:
        return QUANTIZE_EFFECTS[self]


@dataclass(frozen=True)
class QuantizeEffect:
    """What one ``--quantize`` value does to the TF.js model's and the .tflite's weights."""

    # The TF.js converter's weight type (its quantization_dtype_map key); None: float32 weights.
    tfjs_dtype: str | None
    tfjs_bytes_per_weight: int
    tfjs_shown: str  # the TF.js conversion's progress line says "quantization <this>"
    # How the .tflite is converted, in config.json's words (litert.quantization).
    tflite: LitertQuantization
    tflite_weights: str  # the build summary's words for the .tflite's weights
    description: str  # the CLI help's words for the value


QUANTIZE_EFFECTS = {
    Quantize.none: QuantizeEffect(
        tfjs_dtype=None,
        tfjs_bytes_per_weight=4,
        tfjs_shown="none",
        tflite=LITERT_FLOAT32,
        tflite_weights="float32 weights",
        description="float32 weights in both runtimes",
    ),
    Quantize.float16: QuantizeEffect(
        tfjs_dtype="float16",
        tfjs_bytes_per_weight=2,
        tfjs_shown="float16",
        tflite=LITERT_FLOAT16,
        tflite_weights="float16-stored weights",
        description="TF.js weights as float16 (the .tflite: float16-stored)",
    ),
    # Dynamic-range quantization, the .tflite's counterpart of uint8 weights, runs about 4x slower
    # in LiteRT.js's WebAssembly (docs/benchmarks.md): the .tflite keeps float32 weights.
    Quantize.uint8: QuantizeEffect(
        tfjs_dtype="uint8",
        tfjs_bytes_per_weight=1,
        tfjs_shown="uint8",
        tflite=LITERT_FLOAT32,
        tflite_weights="float32 weights (uint8 applies to the TF.js weights; a dynamic-range "
        ".tflite runs about 4x slower in LiteRT.js)",
        description="TF.js weights as uint8 (the .tflite: float32)",
    ),
    # int8 is the .tflite's: the TF.js model, the page's fallback, stays float32.
    Quantize.int8: QuantizeEffect(
        tfjs_dtype=None,
        tfjs_bytes_per_weight=4,
        tfjs_shown="none: int8 is for the .tflite",
        tflite=LITERT_FULL_INTEGER,
        tflite_weights="full int8 (int8 weights and activations, float32 outputs)",
        description="a full-integer .tflite (faster in LiteRT.js WASM), TF.js stays float32",
    ),
}

QUANTIZE_HELP = "; ".join(f"{value}: {value.effect.description}" for value in Quantize)


class PostprocessChoice(str, Enum):
    """Where non-maximum suppression runs: chosen from the outputs, in the page, or in the graph."""

    auto = "auto"
    raw = "raw"
    graph = "graph"

    def __str__(self) -> str:  # messages and f-strings show the option as the user typed it
        return self.value


class Host(str, Enum):
    """Where a built site is served from: sitegen's own server (``local``: the site's headers
    and COOP/COEP) or a host it is published to. ``sitegen serve --as`` imitates each one;
    ``sitegen publish`` takes every one but ``local`` (``sitegen.publish.Target``)."""

    local = "local"
    github_pages = "github-pages"
    netlify = "netlify"
    static = "static"

    def __str__(self) -> str:
        return self.value
