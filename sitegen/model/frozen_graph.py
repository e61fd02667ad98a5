"""TF1 frozen graphs (``frozen_inference_graph.pb``, what TF1 model-zoo archives and many tutorials
hand out) become a TF1-style SavedModel in the build's scratch folder, with the TF1 OD API
exporter's signature (input ``inputs`` → ``image_tensor``; outputs ``detection_*`` and
``num_detections``). Every later stage (signature, conversion, the TF1 SSD cut, verification
against TensorFlow) then reads it as it reads a TF1 SavedModel.

Needs TensorFlow; imported only when the input is a frozen graph.
"""

from __future__ import annotations

from pathlib import Path

from sitegen.errors import ModelError

INPUT_NAME = "image_tensor"
OUTPUT_NAMES = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")


def frozen_graph_to_saved_model(pb: Path, target: Path, shown: str) -> Path:
    """Write ``target`` (a SavedModel folder) from the frozen graph ``pb``; ``shown`` names the
    graph in messages as the user gave it."""
    from sitegen.model.convert_tfjs import import_converter

    import_converter()  # TensorFlow, quietly
    import tensorflow as tf

    graph_def = _read_graph_def(tf, pb, shown)
    nodes = {node.name for node in graph_def.node}
    missing = [name for name in (INPUT_NAME, *OUTPUT_NAMES) if name not in nodes]
    if missing:
        raise ModelError(
            f"{shown} has no {', '.join(missing)}; sitegen reads frozen graphs exported by the "
            "TF1 Object Detection API (export_inference_graph.py)"
        )
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
        image = graph.get_tensor_by_name(f"{INPUT_NAME}:0")
        outputs = {name: graph.get_tensor_by_name(f"{name}:0") for name in OUTPUT_NAMES}
        with v1.Session(graph=graph) as session:
            builder = v1.saved_model.Builder(str(target))
            signature = v1.saved_model.predict_signature_def({"inputs": image}, outputs)
            builder.add_meta_graph_and_variables(
                session, ["serve"], signature_def_map={"serving_default": signature}
            )
            builder.save()
    return target


def _read_graph_def(tf, pb: Path, shown: str):
    from google.protobuf.message import DecodeError

    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(pb.read_bytes())
    except (DecodeError, OSError, RuntimeWarning) as exc:
        raise ModelError(
            f"{shown} is not a readable frozen graph ({exc}); copy or download it again"
        ) from None
    if not graph_def.node:
        raise ModelError(f"{shown} holds no graph (empty or truncated); copy it again")
    return graph_def
