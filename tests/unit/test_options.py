"""Each --quantize value's meaning is spelled once (sitegen/options.py), the words config.json
carries once more (sitegen/contract.py), and the options reach the stages as enums."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sitegen.options import QUANTIZE_EFFECTS, PostprocessChoice, Quantize

SITEGEN = Path(__file__).resolve().parents[2] / "sitegen"
# The words a --quantize value or a tensor type shares; a module that needs one imports it.
SPELLED_ONCE = {"int8", "float16", "uint8"}
ALLOWED = {SITEGEN / "options.py", SITEGEN / "contract.py"}


def _spelled(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(SITEGEN.parent)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in SPELLED_ONCE
    ]


def test_quantize_words_are_string_literals_in_options_and_contract_only():
    found = [
        line for p in sorted(SITEGEN.rglob("*.py")) if p not in ALLOWED for line in _spelled(p)
    ]
    assert not found, "import these from sitegen.options or sitegen.contract:\n" + "\n".join(found)


def test_the_scan_sees_the_literals_it_looks_for():
    assert {line.rsplit(" ", 1)[1] for line in _spelled(SITEGEN / "options.py")} >= {
        repr(word) for word in SPELLED_ONCE
    }


def test_every_quantize_value_has_one_effect():
    assert set(QUANTIZE_EFFECTS) == set(Quantize)


def test_int8_is_the_tflites_and_leaves_the_tfjs_weights_as_none_does():
    none, int8 = Quantize.none.effect, Quantize.int8.effect
    assert int8.tfjs_dtype is none.tfjs_dtype is None
    assert int8.tfjs_bytes_per_weight == none.tfjs_bytes_per_weight == 4
    assert int8.tflite == "int8" and none.tflite == "none"


@pytest.mark.parametrize("choice", [*Quantize, *PostprocessChoice])
def test_a_choice_reads_as_the_option_the_user_typed(choice):
    assert str(choice) == f"{choice}" == f"{choice:<1}" == choice.value


def test_scripts_may_pass_strings_and_the_stages_get_enums(tmp_path):
    from sitegen.build import BuildOptions

    options = BuildOptions(
        model=tmp_path, out=tmp_path / "site", quantize="int8", postprocess="raw"
    )
    assert options.quantize is Quantize.int8 and options.postprocess is PostprocessChoice.raw
    conversion = options.conversion
    assert conversion.quantize is Quantize.int8 and conversion.postprocess is PostprocessChoice.raw
    with pytest.raises(ValueError):
        BuildOptions(model=tmp_path, out=tmp_path / "site", quantize="int4")
