"""Convert a SavedModel's serving function to a TF.js graph model, cut at the outputs the page reads.

The serving function is frozen, then handed to the ``tensorflowjs`` converter with the chosen output
tensors as the graph's outputs: for "raw" post-processing the graph ends at the decoded boxes and
per-class scores, so everything after (the OD API's NMS, whose control flow forces the slow async
executor and which TF.js WASM computes wrongly) is pruned away.

Needs TensorFlow and tensorflowjs; imported only by commands that convert.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sitegen.errors import ConversionError, MissingDependencyError
from sitegen.model.signature import SignatureInfo
from sitegen.options import Quantize


@dataclass(frozen=True)
class ConvertedModel:
    folder: Path
    input_name: str  # graph node name of the image input
    outputs: dict[str, str]  # role -> graph node name


@contextlib.contextmanager
def quiet_native_logs():
    """Hold back what TensorFlow's C++ side writes straight to file descriptor 2 (grappler and
    device notices that TF_CPP_MIN_LOG_LEVEL does not silence); it is noise to a user."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_converter():
    """Import the converter quietly: tensorflowjs pulls in TF-DF, which prints an advert (and,
    when stdout is not a terminal, tries to show it through IPython)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    try:
        with quiet_native_logs():
            import tensorflow as tf
            from tensorflowjs.converters import tf_saved_model_conversion_v2

        tf.get_logger().setLevel("ERROR")
    except ImportError as exc:
        raise MissingDependencyError(
            f"converting a SavedModel needs tensorflowjs ({exc}); "
            "run: pip install 'sitegen[convert]' (or 'make setup' in a checkout)"
        ) from None
    return tf_saved_model_conversion_v2


def convert(
    signature: SignatureInfo,
    roles: tuple[str, ...],
    out_dir: Path,
    *,
    quantize: Quantize = Quantize.none,
    shard_bytes: int = 4 * 1024 * 1024,
) -> ConvertedModel:
    converter = import_converter()
    from tensorflow.python.framework import convert_to_constants

    with quiet_native_logs():
        frozen = convert_to_constants.convert_variables_to_constants_v2(
            signature.function, lower_control_flow=True, aggressive_inlining=True
        )
    outputs = _output_nodes(signature, roles, frozen)
    input_name = _node(frozen.inputs[0].name)

    with tempfile.TemporaryDirectory(prefix="sitegen-freeze-") as tmp:
        frozen_pb = Path(tmp) / "frozen.pb"
        frozen_pb.write_bytes(frozen.graph.as_graph_def().SerializeToString())
        try:
            with contextlib.redirect_stdout(io.StringIO()), quiet_native_logs():
                converter.convert_tf_frozen_model(
                    str(frozen_pb),
                    ",".join(outputs.values()),
                    str(out_dir),
                    quantization_dtype_map=_quantization_map(quantize),
                    strip_debug_ops=True,
                    weight_shard_size_bytes=shard_bytes,
                )
        except ValueError as exc:
            raise _conversion_error(exc) from None
    flatten_fused_biases(out_dir / "model.json")
    return ConvertedModel(out_dir, input_name, outputs)


_FUSED_OPS = ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul")


def flatten_fused_biases(model_json: Path) -> int:
    """Give fused convolutions rank-1 biases. Grappler folds a broadcast ``Add`` of a [1,1,1,C]
    constant into the convolution as its bias; TF.js cpu/webgl broadcast it, but the WASM backend
    fails with "FusedConv2D only supports rank-1 bias". The data is the same either way, so only
    the declared shape changes. Returns how many weights were reshaped."""
    manifest = json.loads(model_json.read_text(encoding="utf-8"))
    weights = {w["name"]: w for group in manifest["weightsManifest"] for w in group["weights"]}
    changed = 0
    for node in manifest.get("modelTopology", {}).get("node", []):
        if node.get("op") not in _FUSED_OPS:
            continue
        for name in node.get("input", [])[2:]:
            weight = weights.get(name.split(":")[0])
            shape = weight["shape"] if weight else []
            if len(shape) > 1 and all(d == 1 for d in shape[:-1]):
                weight["shape"] = [shape[-1]]
                changed += 1
    if changed:
        model_json.write_text(json.dumps(manifest, separators=(",", ":")), encoding="utf-8")
    return changed


def _output_nodes(signature: SignatureInfo, roles: tuple[str, ...], frozen) -> dict[str, str]:
    """role -> node name in the frozen graph, looked up through the signature's output *names*
    (the converter alone would call ambiguous outputs "Identity_N" and lose which is which)."""
    import tensorflow as tf

    # structured_outputs holds specs; pack_sequence_as pairs each signature name with its graph
    # tensor through TensorFlow's own flattening contract (the one the serving runtime uses).
    function = signature.function
    by_key = tf.nest.pack_sequence_as(function.structured_outputs, function.outputs)
    nodes = {node.name for node in frozen.graph.as_graph_def().node}
    outputs = {}
    for role in roles:
        node = _node(by_key[signature.roles[role].key].name)
        if node not in nodes:
            raise ConversionError(f"output {signature.roles[role].key} vanished while freezing")
        outputs[role] = node
    return outputs


def _node(tensor_name: str) -> str:
    return tensor_name.split(":")[0]


def _quantization_map(quantize: Quantize) -> dict | None:
    dtype = quantize.effect.tfjs_dtype
    return {dtype: True} if dtype else None


def _conversion_error(exc: ValueError) -> ConversionError:
    text = str(exc)
    if "Unsupported Ops" in text:
        ops = ", ".join(line.strip() for line in text.splitlines()[1:] if line.strip())
        return ConversionError(
            f"the TF.js runtime cannot run these ops of the model: {ops}; "
            "re-export the model without them (see 'sitegen inspect')"
        )
    return ConversionError(f"the TF.js converter failed: {text.splitlines()[0][:200]}")


def unsupported_ops(signature: SignatureInfo, roles: tuple[str, ...]) -> list[str]:
    """Ops in the graph, up to the outputs for ``roles``, that TF.js has no kernel for."""
    converter = import_converter()
    import tensorflow as tf
    from tensorflow.python.framework import convert_to_constants

    frozen = convert_to_constants.convert_variables_to_constants_v2(
        signature.function, lower_control_flow=True, aggressive_inlining=True
    )
    wanted = list(_output_nodes(signature, roles, frozen).values())
    graph_def = tf.compat.v1.graph_util.extract_sub_graph(frozen.graph.as_graph_def(), wanted)
    return sorted(converter.validate(graph_def, skip_op_check=False, strip_debug_ops=True))
