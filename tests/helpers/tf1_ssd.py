"""Small random-weight SSD detectors with the graph of a TF1 Object Detection API export.

The TF1 OD API exporter (``export_inference_graph.py``) writes a frozen graph and a graph-mode
SavedModel whose only outputs come after the post-processor's non-maximum suppression. sitegen
cuts such graphs before the NMS, at ``Postprocessor/raw_box_locations`` and
``Postprocessor/raw_box_scores``, and runs the NMS on the page. The tests of that cut (and, built
with the MobileNetV2 backbone at 300x300, the benchmark) need graphs with the real structure and
node names, without downloading a model, so this module builds them in-process, in TF1 graph mode
with TF1 control flow, and writes them as the exporter does: ``frozen_inference_graph.pb``,
``saved_model/``, ``pipeline.config`` and ``labelmap.pbtxt``. docs/tf1-ssd-graph.md lists the
names and where they come from.

Weights are fixed random numbers from a seed. The NMS is ``tiny_models._postprocess`` (the one the
page's post-processing is checked against), with its settings written into pipeline.config.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from tests.helpers import tiny_models

INPUT_NAME = "image_tensor"
RESIZED_NAME = "Preprocessor/map/TensorArrayStack/TensorArrayGatherV3"  # the map's stacked output
NORMALISED_NAME = "Preprocessor/sub"
RAW_BOX_ENCODINGS_NAME = "Postprocessor/raw_box_encodings"
RAW_BOX_LOCATIONS_NAME = "Postprocessor/raw_box_locations"
RAW_BOX_SCORES_NAME = "Postprocessor/raw_box_scores"
OUTPUT_NAMES = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")
BACKBONES = ("tiny", "mobilenet_v2")

BOX_CODER_SCALES = (10.0, 10.0, 5.0, 5.0)  # y, x, height, width
MIN_SCALE, MAX_SCALE = 0.2, 0.95
ASPECT_RATIOS = (1.0, 2.0, 0.5, 3.0, 0.3333)
BOX_CODE_STD = 1.0  # spread of the random box encodings (ty, tx, th, tw before scaling)
CLASS_LOGIT_STD, CLASS_LOGIT_BIAS = 1.5, -3.0  # sigmoid scores spread over about 0.01 to 0.9

# MobileNetV2 inverted-residual stages: (expansion, output depth, repeats, first stride).
MOBILENET_V2_STAGES = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)  # fmt: skip
SSD_EXTRA_DEPTHS = (512, 256, 256, 128)  # the stride-2 layers after layer_19, as in the OD API


def build_tf1_ssd(
    folder: Path,
    *,
    seed: int = 0,
    input_size: int = 96,
    num_classes: int = 2,
    backbone: str = "tiny",
) -> Path:
    """Write a TF1 OD API SSD export with random weights into ``folder`` and return it.

    ``backbone`` "tiny" has two feature maps (strides 8 and 16); "mobilenet_v2" is SSD MobileNetV2
    with the OD API's six feature maps (1917 anchors at ``input_size`` 300)."""
    import tensorflow as tf

    if backbone not in BACKBONES:
        raise ValueError(f"backbone must be one of {BACKBONES}, not {backbone!r}")
    if num_classes != tiny_models.NUM_CLASSES:
        raise ValueError(f"tiny_models._postprocess handles {tiny_models.NUM_CLASSES} classes")
    graph_def, num_layers = _frozen_graph(tf, seed, input_size, num_classes, backbone)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "frozen_inference_graph.pb").write_bytes(
        graph_def.SerializeToString(deterministic=True)
    )
    _write_saved_model(tf, graph_def, folder / "saved_model")
    (folder / "pipeline.config").write_text(
        _pipeline_config(input_size, num_classes, num_layers, backbone)
    )
    (folder / "labelmap.pbtxt").write_text(tiny_models.LABELMAP)
    return folder


def _frozen_graph(tf, seed: int, input_size: int, num_classes: int, backbone: str):
    """Build the detector in a fresh TF1 graph; return (frozen GraphDef, feature map count)."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), _tf1_control_flow(tf):
        layers = _Layers(tf, seed)
        image = v1.placeholder(tf.uint8, [1, None, None, 3], name=INPUT_NAME)
        preprocessed = _preprocess(tf, tf.cast(image, tf.float32, name="ToFloat"), input_size)
        with tf.name_scope("FeatureExtractor"):
            if backbone == "tiny":
                feature_maps = _tiny_features(layers, preprocessed)
            else:
                feature_maps = _mobilenet_v2_features(layers, preprocessed)
        encodings, logits, anchors = _box_predictors(layers, feature_maps, num_classes)
        detections = _postprocessor(tf, encodings, logits, anchors)
        for name in OUTPUT_NAMES:
            tf.identity(detections[name], name=name)
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            frozen = v1.graph_util.convert_variables_to_constants(
                session, graph.as_graph_def(), list(OUTPUT_NAMES)
            )
    return frozen, len(feature_maps)


@contextlib.contextmanager
def _tf1_control_flow(tf):
    """TF1 while loops (Enter/Merge/Switch/Exit, TensorArrayV3), as TF1 exports contain, for the
    graph built inside; TF2 would write a functional While with TensorList ops instead."""
    v1 = tf.compat.v1
    was_v2 = v1.control_flow_v2_enabled()
    v1.disable_control_flow_v2()
    try:
        yield
    finally:
        if was_v2:
            v1.enable_control_flow_v2()


def _preprocess(tf, images, size: int):
    """The SSD preprocess: a map_fn resizing each image (bilinear, TF1 corners), then the
    MobileNet normalisation (2/255) x - 1, named Preprocessor/mul and Preprocessor/sub."""
    v1 = tf.compat.v1

    def resize(image):
        with tf.name_scope("ResizeImage"):
            return v1.image.resize_images(
                image, [size, size], method=v1.image.ResizeMethod.BILINEAR, align_corners=False
            )

    with tf.name_scope("Preprocessor"):
        resized = tf.map_fn(resize, images, fn_output_signature=tf.float32)
        return tf.subtract(tf.multiply(2.0 / 255.0, resized, name="mul"), 1.0, name="sub")


class _Layers:
    """Convolutions whose weights are TF1 (reference) variables with fixed random values drawn
    from one seed: He-normal kernels, so activations keep their scale through the network."""

    def __init__(self, tf, seed: int):
        self.tf = tf
        self.rng = np.random.default_rng(seed)

    def variable(self, name: str, shape: tuple[int, ...], std: float, mean: float = 0.0):
        value = self.rng.normal(mean, std, shape).astype(np.float32)
        return self.tf.compat.v1.Variable(value, name=name, use_resource=False)

    def conv(self, x, depth: int, name: str, *, kernel: int = 1, stride: int = 1, relu6=True):
        tf = self.tf
        with tf.name_scope(name):
            fan_in = kernel * kernel * x.shape[-1]
            std = np.sqrt((2.0 if relu6 else 1.0) / fan_in)
            weights = self.variable("weights", (kernel, kernel, x.shape[-1], depth), std)
            y = tf.nn.conv2d(x, weights, stride, "SAME", name="Conv2D")
            y = tf.nn.bias_add(y, self.variable("biases", (depth,), 0.01), name="BiasAdd")
            return tf.nn.relu6(y, name="Relu6") if relu6 else y

    def depthwise(self, x, name: str, *, stride: int):
        tf = self.tf
        with tf.name_scope(name):
            weights = self.variable("depthwise_weights", (3, 3, x.shape[-1], 1), np.sqrt(2 / 9))
            y = tf.nn.depthwise_conv2d(x, weights, [1, stride, stride, 1], "SAME", name="depthwise")
            y = tf.nn.bias_add(y, self.variable("biases", (x.shape[-1],), 0.01), name="BiasAdd")
            return tf.nn.relu6(y, name="Relu6")


def _tiny_features(layers: _Layers, x) -> list:
    """Three stride-2 convolutions to stride 8, then one more to stride 16: two feature maps."""
    with layers.tf.name_scope("TinyNet"):
        for index, depth in enumerate((8, 16, 24)):
            x = layers.conv(x, depth, f"Conv2d_{index}", kernel=3, stride=2)
        return [x, layers.conv(x, 32, "Conv2d_3", kernel=3, stride=2)]


def _mobilenet_v2_features(layers: _Layers, x) -> list:
    """SSD MobileNetV2's six feature maps: block 13's expansion output (stride 16), the last
    1x1 convolution (stride 32) and four extra stride-2 layers, named as slim names them."""
    with layers.tf.name_scope("MobilenetV2"):
        x = layers.conv(x, 32, "Conv", kernel=3, stride=2)
        block, feature_maps = 0, []
        for expansion, depth, repeats, first_stride in MOBILENET_V2_STAGES:
            for repeat in range(repeats):
                name = f"expanded_conv_{block}" if block else "expanded_conv"
                stride = first_stride if repeat == 0 else 1
                x, expanded = _inverted_residual(layers, x, name, expansion, depth, stride)
                if block == 13:  # the OD API's 'layer_15/expansion_output'
                    feature_maps.append(expanded)
                block += 1
        x = layers.conv(x, 1280, "Conv_1")
        feature_maps.append(x)
        for index, depth in enumerate(SSD_EXTRA_DEPTHS, start=2):
            x = layers.conv(x, depth // 2, f"layer_19_1_Conv2d_{index}_1x1_{depth // 2}")
            x = layers.conv(
                x, depth, f"layer_19_2_Conv2d_{index}_3x3_s2_{depth}", kernel=3, stride=2
            )
            feature_maps.append(x)
        return feature_maps


def _inverted_residual(layers: _Layers, x, name: str, expansion: int, depth: int, stride: int):
    """One MobileNetV2 block; returns (block output, expansion output)."""
    with layers.tf.name_scope(name):
        expanded = x if expansion == 1 else layers.conv(x, x.shape[-1] * expansion, "expand")
        y = layers.depthwise(expanded, "depthwise", stride=stride)
        y = layers.conv(y, depth, "project", relu6=False)
        if stride == 1 and x.shape[-1] == depth:
            y = layers.tf.add(x, y, name="add")
        return y, expanded


def _box_predictors(layers: _Layers, feature_maps: list, num_classes: int):
    """Convolutional box predictors (BoxPredictor_i) on each feature map, concatenated as
    SSDMetaArch.predict does: box encodings `Squeeze` [1, A, 4] (ty, tx, th, tw), class logits
    with background first `concat_1` [1, A, C + 1], and the matching anchors [A, 4]."""
    tf = layers.tf
    encodings, logits, anchors = [], [], []
    for index, feature_map in enumerate(feature_maps):
        per_cell = len(_anchor_shapes(index, len(feature_maps)))
        with tf.name_scope(f"BoxPredictor_{index}"):
            unit = tf.math.l2_normalize(feature_map, axis=-1)  # heads see unit-length features
            boxes = _head(layers, unit, per_cell * 4, "BoxEncodingPredictor", BOX_CODE_STD, 0.0)
            classes = _head(
                layers, unit, per_cell * (num_classes + 1), "ClassPredictor",
                CLASS_LOGIT_STD, CLASS_LOGIT_BIAS,
            )  # fmt: skip
            encodings.append(tf.reshape(boxes, [1, -1, 1, 4], name="Reshape"))
            logits.append(tf.reshape(classes, [1, -1, num_classes + 1], name="Reshape_1"))
        height, width = feature_map.shape[1], feature_map.shape[2]
        anchors.append(_grid_anchors(height, width, _anchor_shapes(index, len(feature_maps))))
    box_encodings = tf.squeeze(tf.concat(encodings, 1, name="concat"), 2, name="Squeeze")
    class_logits = tf.concat(logits, 1, name="concat_1")
    return box_encodings, class_logits, np.concatenate(anchors)


def _head(layers: _Layers, x, depth: int, name: str, std: float, bias: float):
    """A 3x3 prediction convolution whose outputs have about ``std`` spread around ``bias``,
    given features of unit length at every position."""
    tf = layers.tf
    with tf.name_scope(name):
        weights = layers.variable("weights", (3, 3, x.shape[-1], depth), std / 3.0)
        y = tf.nn.conv2d(x, weights, 1, "SAME", name="Conv2D")
        biases = layers.variable("biases", (depth,), 0.1 * std, mean=bias)
        return tf.nn.bias_add(y, biases, name="BiasAdd")


def _anchor_shapes(layer: int, num_layers: int) -> list[tuple[float, float]]:
    """(height, width) of each anchor in a cell of feature map ``layer``, normalised, as the OD
    API's ssd_anchor_generator makes them: 3 anchors in the lowest layer, 6 in the others."""
    scales = [*np.linspace(MIN_SCALE, MAX_SCALE, num_layers), 1.0]
    scale = scales[layer]
    if layer == 0:
        specs = [(0.1, 1.0), (scale, 2.0), (scale, 0.5)]
    else:
        specs = [(scale, ratio) for ratio in ASPECT_RATIOS]
        specs.append((float(np.sqrt(scale * scales[layer + 1])), 1.0))
    return [(s / np.sqrt(ratio), s * np.sqrt(ratio)) for s, ratio in specs]


def _grid_anchors(height: int, width: int, shapes: list[tuple[float, float]]) -> np.ndarray:
    """Anchors (ycenter, xcenter, h, w) at every cell centre, in (y, x, anchor) order, which is
    the order of the box predictor's reshaped outputs."""
    y, x = np.meshgrid((np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width,
                       indexing="ij")  # fmt: skip
    sizes = np.array(shapes, np.float32)
    centres = np.stack([y, x], -1)[:, :, None, :].repeat(len(shapes), 2)
    sizes = np.broadcast_to(sizes, (height, width, *sizes.shape))
    return np.concatenate([centres, sizes], -1).reshape(-1, 4).astype(np.float32)


def _postprocessor(tf, box_encodings, class_logits, anchors: np.ndarray) -> dict:
    """SSDMetaArch.postprocess: decode, convert scores, drop the background column, NMS."""
    with tf.name_scope("Postprocessor"):
        box_encodings = tf.identity(box_encodings, name="raw_box_encodings")
        boxes = tf.identity(_decode(tf, box_encodings, anchors), name="raw_box_locations")
        scaled = tf.divide(class_logits, 1.0, name="scale_logits")  # logit_scale 1
        scores = tf.sigmoid(scaled, name="convert_scores")
        scores = tf.identity(scores, name="raw_box_scores")
        class_scores = tf.slice(scores, [0, 0, 1], [-1, -1, -1], name="Slice")
        with tf.name_scope("BatchMultiClassNonMaxSuppression"):
            # _postprocess reads class c from column c + 1: give it back an (unused) column 0.
            with_background = tf.pad(class_scores, [[0, 0], [0, 0], [1, 0]])
            return tiny_models._postprocess(tf, boxes, with_background)


def _decode(tf, box_encodings, anchors: np.ndarray):
    """The Faster R-CNN box coder's decode: (ty, tx, th, tw) [1, A, 4] against anchors
    (ycenter, xcenter, h, w) to boxes (ymin, xmin, ymax, xmax) [1, A, 4]."""
    codes = tf.reshape(box_encodings, [-1, 4])
    with tf.name_scope("Decode"):
        y_scale, x_scale, h_scale, w_scale = BOX_CODER_SCALES
        ycenter_a, xcenter_a, ha, wa = tf.unstack(tf.constant(anchors.T, name="anchors"))
        ty, tx, th, tw = tf.unstack(tf.transpose(codes))
        ycenter = ty / y_scale * ha + ycenter_a
        xcenter = tx / x_scale * wa + xcenter_a
        h = tf.exp(th / h_scale) * ha
        w = tf.exp(tw / w_scale) * wa
        corners = [ycenter - h / 2.0, xcenter - w / 2.0, ycenter + h / 2.0, xcenter + w / 2.0]
        boxes = tf.transpose(tf.stack(corners))
    return tf.reshape(boxes, [1, -1, 4])


def _write_saved_model(tf, graph_def, path: Path) -> None:
    """The exporter's SavedModel: the frozen graph (no variables), tag "serve", signature
    serving_default with input "inputs" (image_tensor) and the four detection outputs."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        v1.import_graph_def(graph_def, name="")
        image = graph.get_tensor_by_name(f"{INPUT_NAME}:0")
        outputs = {name: graph.get_tensor_by_name(f"{name}:0") for name in OUTPUT_NAMES}
        tiny_models.save_tf1_saved_model(tf, session, path, image, outputs)


def _pipeline_config(input_size: int, num_classes: int, num_layers: int, backbone: str) -> str:
    """The subset of an SSD pipeline.config that describes this graph; the NMS numbers are
    tiny_models' (those of the _postprocess the graph uses)."""
    extractor = "ssd_mobilenet_v2" if backbone == "mobilenet_v2" else "ssd_tiny_random"
    ratios = "".join(f" aspect_ratios: {ratio}" for ratio in ASPECT_RATIOS)
    y_scale, x_scale, h_scale, w_scale = BOX_CODER_SCALES
    return f"""model {{
  ssd {{
    num_classes: {num_classes}
    image_resizer {{ fixed_shape_resizer {{ height: {input_size} width: {input_size} }} }}
    feature_extractor {{ type: '{extractor}' }}
    box_coder {{
      faster_rcnn_box_coder {{
        y_scale: {y_scale} x_scale: {x_scale} height_scale: {h_scale} width_scale: {w_scale}
      }}
    }}
    anchor_generator {{
      ssd_anchor_generator {{
        num_layers: {num_layers} min_scale: {MIN_SCALE} max_scale: {MAX_SCALE}{ratios}
      }}
    }}
    post_processing {{
      batch_non_max_suppression {{
        score_threshold: {tiny_models.SCORE_THRESHOLD}
        iou_threshold: {tiny_models.IOU_THRESHOLD}
        max_detections_per_class: {tiny_models.MAX_TOTAL}
        max_total_detections: {tiny_models.MAX_TOTAL}
      }}
      score_converter: SIGMOID
    }}
  }}
}}
"""
