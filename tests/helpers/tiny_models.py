"""Tiny detector SavedModels built in-process, shaped like the exports users bring.

Weights are fixed random numbers from a seed; what matters is the signature and the graph, so the
tests can check that sitegen maps outputs by name and that the browser computes what TensorFlow
computes. Each builder writes a folder and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

INPUT_SIZE = 64
GRID = 8  # anchors on an 8x8 grid, 2 per cell
NUM_CLASSES = 2
SCORE_THRESHOLD = 0.05
IOU_THRESHOLD = 0.5
MAX_TOTAL = 20

LABELMAP = """# a comment, as the OD API tools write them
item {
  id: 1
  name: 'kangaroo'
}
item {
  name: "stop"
  id: 2
}
"""

PIPELINE_CONFIG = f"""model {{
  ssd {{
    num_classes: {NUM_CLASSES}
    image_resizer {{ fixed_shape_resizer {{ height: {INPUT_SIZE} width: {INPUT_SIZE} }} }}
    post_processing {{
      batch_non_max_suppression {{
        score_threshold: {SCORE_THRESHOLD}
        iou_threshold: {IOU_THRESHOLD}
        max_detections_per_class: {MAX_TOTAL}
        max_total_detections: {MAX_TOTAL}
      }}
      score_converter: SIGMOID
    }}
  }}
}}
"""


def _anchors() -> np.ndarray:
    centers = (np.arange(GRID) + 0.5) / GRID
    cy, cx = np.meshgrid(centers, centers, indexing="ij")
    boxes = []
    for size in (0.2, 0.4):
        boxes.append(np.stack([cy, cx, np.full_like(cy, size), np.full_like(cx, size)], -1))
    return np.stack(boxes, 2).reshape(-1, 4).astype(np.float32)  # cy, cx, h, w


def _weights(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "conv1": rng.normal(0, 0.3, (3, 3, 3, 8)).astype(np.float32),
        "conv2": rng.normal(0, 0.3, (3, 3, 8, 8)).astype(np.float32),
        "box": rng.normal(0, 0.2, (1, 1, 8, 2 * 4)).astype(np.float32),
        "cls": rng.normal(0, 0.6, (1, 1, 8, 2 * (NUM_CLASSES + 1))).astype(np.float32),
    }


def _raw_outputs(tf, image, weights, page_breaking: bool = False):
    """uint8 [1,H,W,3] -> (raw boxes [1,A,4] ymin,xmin,ymax,xmax; raw scores [1,A,C+1]).

    ``page_breaking``: conv2 is a grouped convolution (two groups of 4 channels, as onnx2tf writes
    PyTorch's groups), which TensorFlow runs and TF.js cannot, and the scores are the fractional
    part of the logits times 10^6, so that the last bits in which another runtime's convolutions
    differ move them by tenths: no page backend can run the model and agree with TensorFlow."""
    x = tf.image.resize(tf.cast(image, tf.float32), [INPUT_SIZE, INPUT_SIZE])
    x = x / 127.5 - 1.0
    x = tf.nn.relu(tf.nn.conv2d(x, weights["conv1"], 2, "SAME"))  # 32
    conv2 = weights["conv2"][:, :, :4, :] if page_breaking else weights["conv2"]
    x = tf.nn.relu(tf.nn.conv2d(x, conv2, 2, "SAME"))  # 16
    x = tf.nn.avg_pool2d(x, 2, 2, "SAME")  # 8
    deltas = tf.reshape(tf.nn.conv2d(x, weights["box"], 1, "SAME"), [1, -1, 4])
    logits = tf.reshape(tf.nn.conv2d(x, weights["cls"], 1, "SAME"), [1, -1, NUM_CLASSES + 1])
    anchors = tf.constant(_anchors())
    cy = anchors[:, 0] + deltas[0, :, 0] * 0.1 * anchors[:, 2]
    cx = anchors[:, 1] + deltas[0, :, 1] * 0.1 * anchors[:, 3]
    h = anchors[:, 2] * tf.exp(deltas[0, :, 2] * 0.2)
    w = anchors[:, 3] * tf.exp(deltas[0, :, 3] * 0.2)
    boxes = tf.stack([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2], -1)[None]
    if page_breaking:
        return boxes, tf.math.floormod(logits * 1e6, 1.0)
    return boxes, tf.sigmoid(logits)


def _postprocess(tf, boxes, scores):
    """The OD API's batch_multiclass_non_max_suppression for one image, padded to MAX_TOTAL."""
    all_boxes, all_scores, all_classes = [], [], []
    for c in range(NUM_CLASSES):
        class_scores = scores[0, :, c + 1]
        keep, kept_scores = tf.image.non_max_suppression_with_scores(
            boxes[0], class_scores, MAX_TOTAL, IOU_THRESHOLD, SCORE_THRESHOLD
        )
        all_boxes.append(tf.gather(boxes[0], keep))
        all_scores.append(kept_scores)
        all_classes.append(tf.fill(tf.shape(keep), float(c + 1)))
    merged_scores = tf.concat(all_scores, 0)
    count = tf.minimum(tf.shape(merged_scores)[0], MAX_TOTAL)
    top_scores, order = tf.math.top_k(merged_scores, count)
    top_boxes = tf.clip_by_value(tf.gather(tf.concat(all_boxes, 0), order), 0.0, 1.0)
    top_classes = tf.gather(tf.concat(all_classes, 0), order)
    pad = MAX_TOTAL - count
    return {
        "detection_boxes": tf.pad(top_boxes, [[0, pad], [0, 0]])[None],
        "detection_scores": tf.pad(top_scores, [[0, pad]])[None],
        "detection_classes": tf.pad(top_classes, [[0, pad]])[None],
        "num_detections": tf.cast(count, tf.float32)[None],
    }


def build_tf2_od_api(
    folder: Path, *, seed: int = 0, raw_outputs: bool = True, page_breaking: bool = False
) -> Path:
    """An OD API TF2-style export: folder/saved_model + labelmap.pbtxt + pipeline.config
    (``page_breaking``: see ``_raw_outputs``)."""
    import tensorflow as tf

    weights = {k: tf.Variable(v, name=k) for k, v in _weights(seed).items()}

    class Detector(tf.Module):
        def __init__(self):
            super().__init__()
            self.weights = weights

        @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8, "input_tensor")])
        def serve(self, input_tensor):
            boxes, scores = _raw_outputs(tf, input_tensor, self.weights, page_breaking)
            outputs = _postprocess(tf, boxes, scores)
            outputs["detection_multiclass_scores"] = scores[:, :MAX_TOTAL, :]
            if raw_outputs:
                outputs["raw_detection_boxes"] = boxes
                outputs["raw_detection_scores"] = scores
            return outputs

    module = Detector()
    tf.saved_model.save(
        module, str(folder / "saved_model"), signatures={"serving_default": module.serve}
    )
    (folder / "labelmap.pbtxt").write_text(LABELMAP)
    (folder / "pipeline.config").write_text(PIPELINE_CONFIG)
    return folder


def _tf1_graph(tf, seed: int):
    """A graph-mode detector: the `image_tensor` input and its raw boxes and scores."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        image = v1.placeholder(tf.uint8, [1, None, None, 3], name="image_tensor")
        weights = {k: v1.Variable(v, name=k) for k, v in _weights(seed).items()}
        boxes, scores = _raw_outputs(tf, image, weights)
    return graph, image, boxes, scores


def save_tf1_saved_model(tf, session, path: Path, image, outputs: dict) -> None:
    """A TF1 SavedModel with the TF1 OD API exporter's signature (input key `inputs`)."""
    v1 = tf.compat.v1
    builder = v1.saved_model.Builder(str(path))
    signature = v1.saved_model.predict_signature_def(inputs={"inputs": image}, outputs=outputs)
    builder.add_meta_graph_and_variables(
        session, ["serve"], signature_def_map={"serving_default": signature}
    )
    builder.save()


def build_tf1_style(folder: Path, *, seed: int = 0, unknown_shapes: bool = False) -> Path:
    """A TF1-style export: graph-mode SavedModel whose input is `image_tensor` and whose outputs
    are graph tensors named detection_boxes:0 etc., as the TF1 OD API exporter writes them.
    ``unknown_shapes`` hides the static shapes of the four detection outputs, as frozen-graph
    SavedModels do (their post-processing loops lose them)."""
    import tensorflow as tf

    v1 = tf.compat.v1
    graph, image, boxes, scores = _tf1_graph(tf, seed)
    with graph.as_default():
        post = _postprocess(tf, boxes, scores)
        if unknown_shapes:
            post = {k: v1.placeholder_with_default(v, shape=None) for k, v in post.items()}
        post["raw_detection_boxes"], post["raw_detection_scores"] = boxes, scores
        named = {key: tf.identity(value, name=key) for key, value in post.items()}
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            save_tf1_saved_model(tf, session, folder / "saved_model", image, named)
    (folder / "labelmap.pbtxt").write_text(LABELMAP)
    (folder / "pipeline.config").write_text(PIPELINE_CONFIG)
    return folder


def build_tf1_frozen(folder: Path, *, seed: int = 0) -> Path:
    """A TF1 model-zoo style folder: ``frozen_inference_graph.pb`` (the graph of
    ``build_tf1_style`` with the same weights, variables folded into constants) with its label map
    and pipeline.config, and no SavedModel."""
    import tensorflow as tf

    v1 = tf.compat.v1
    graph, _, boxes, scores = _tf1_graph(tf, seed)
    with graph.as_default():
        for key, value in _postprocess(tf, boxes, scores).items():
            tf.identity(value, name=key)
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            frozen = v1.graph_util.convert_variables_to_constants(
                session,
                graph.as_graph_def(),
                ["detection_boxes", "detection_scores", "detection_classes", "num_detections"],
            )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "frozen_inference_graph.pb").write_bytes(frozen.SerializeToString())
    (folder / "labelmap.pbtxt").write_text(LABELMAP)
    (folder / "pipeline.config").write_text(PIPELINE_CONFIG)
    return folder


def save_odd_output_model(folder: Path) -> Path:
    """A SavedModel whose one output ([1, 7]) is neither the OD API's nor a YOLO head."""
    import tensorflow as tf

    class Odd(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 64, 64, 3], tf.float32, "images")])
        def serve(self, images):
            return {"features": tf.reshape(tf.reduce_mean(images), [1, 1]) * tf.ones([1, 7])}

    module = Odd()
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})
    return folder


def save_int8_input_tflite(path: Path, *, size: int) -> Path:
    """A tiny full-integer .tflite whose input is int8 [1, size, size, 3] (what Ultralytics'
    int8 export gives), written to ``path``."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([1, size, size, 3], tf.float32)])
    def model(images):
        return tf.nn.avg_pool2d(images, 8, 8, "VALID")

    def samples():
        for seed in range(4):
            yield [np.random.default_rng(seed).random((1, size, size, 3), np.float32)]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([model.get_concrete_function()])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    path.write_bytes(converter.convert())
    return path
