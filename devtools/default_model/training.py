"""Train the default detector on generated scenes and export it like a TF2 Object Detection API
model.

The detector is a compact single-shot, anchor-free (FCOS-style) network: a depthwise-separable
backbone, a small feature pyramid fused down to stride 8, and one head that predicts, for every
cell of that grid, two class logits, the distances to the four box sides and a "centerness"
logit. The export wraps it in the OD API serving signature (``input_tensor`` uint8 in;
``detection_*``, ``num_detections`` and ``raw_detection_*`` out) with the box decoding and the
per-class non-max suppression inside the graph.

Run ``python -m devtools.default_model train --out models/default --seed 0``. The data
come from numpy generators seeded from the seed, batches are drawn in a seeded order, TensorFlow
runs with ``enable_op_determinism`` and a fixed number of steps; what is left is the
floating-point noise of oneDNN's multi-threaded CPU kernels (between two full runs it moved
AP@0.5 by at most 0.011, within the 0.02 the project allows). ``--exact`` turns oneDNN off for
bit-for-bit repeatable runs (about 1.7 times slower).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from devtools.default_model import scenes

# TensorFlow is imported inside the functions that need it: data generation runs in worker
# processes that should not pay for (or fork) a TensorFlow runtime.

REPOSITORY = Path(__file__).resolve().parents[2]
INPUT_SIZE = 256
STRIDE = 8
GRID = INPUT_SIZE // STRIDE
NUM_CLASSES = len(scenes.CLASSES)
SOURCE_SIZE = (640, 480)  # what the generated training scenes are drawn at, like a webcam frame


@dataclass(frozen=True)
class PostProcessing:
    """The in-graph (and in-browser) post-processing, written into ``pipeline.config``."""

    score_threshold: float = 0.05
    iou_threshold: float = 0.5
    max_detections_per_class: int = 50
    max_total_detections: int = 50


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    images: int = 5000
    steps: int = 2000
    batch_size: int = 32
    learning_rate: float = 2e-3
    warmup_steps: int = 150
    weight_decay: float = 5e-5
    # A safety cap on the training loop, not a budget: the default run trains for 11 to 14
    # minutes on 2 shared cores; stopping at the cap gives a usable but not reproducible model.
    minutes: float = 30.0
    workers: int = 2


# --------------------------------------------------------------------------------------------
# Data


def resize_bilinear(image: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """numpy twin of ``tf.image.resize(..., 'bilinear')`` (half-pixel centres, no antialias),
    the resize the exported graph (and TF.js) applies, so training sees what serving sees."""
    height, width = image.shape[:2]

    def axis(in_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        source = (np.arange(size, dtype=np.float32) + 0.5) * (in_size / size) - 0.5
        floor = np.floor(source)
        lower = np.clip(floor, 0, in_size - 1).astype(np.int64)
        upper = np.clip(np.ceil(source), 0, in_size - 1).astype(np.int64)
        return lower, upper, (source - floor).astype(np.float32)

    y0, y1, fy = axis(height)
    x0, x1, fx = axis(width)
    pixels = image.astype(np.float32)
    top = pixels[y0][:, x0] + (pixels[y0][:, x1] - pixels[y0][:, x0]) * fx[None, :, None]
    bottom = pixels[y1][:, x0] + (pixels[y1][:, x1] - pixels[y1][:, x0]) * fx[None, :, None]
    return top + (bottom - top) * fy[:, None, None]


def _render_chunk(args: tuple[int, int, int]) -> tuple[np.ndarray, list[list[scenes.Box]]]:
    """Scenes ``count`` of chunk ``chunk`` of the data set named by ``seed``, at model size."""
    import io

    from PIL import Image

    seed, chunk, count = args
    rng = np.random.default_rng(np.random.SeedSequence([seed, chunk]))
    width, height = SOURCE_SIZE
    images = np.empty((count, INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
    all_boxes = []
    for index in range(count):
        empty = rng.random() < 0.2
        image, boxes = scenes.render_scene(rng, width, height, max_objects=4, empty=empty)
        pixels = np.array(image)
        if rng.random() < 0.25:
            # Footage carries a frame code in the corner: it must never look like a sign.
            scenes.draw_frame_code(pixels, int(rng.integers(0, 2**scenes.CODE_CELLS)))
        # Evaluation images are JPEGs; train on JPEG artefacts too.
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=int(rng.integers(70, 96)))
        pixels = np.asarray(Image.open(buffer).convert("RGB"))
        images[index] = np.clip(resize_bilinear(pixels) + 0.5, 0, 255).astype(np.uint8)
        all_boxes.append(boxes)
    return images, all_boxes


def generate_dataset(
    seed: int, count: int, *, workers: int = 2, chunk_size: int = 50
) -> tuple[np.ndarray, list[list[scenes.Box]]]:
    """``count`` training scenes at model input size and their boxes (source pixels).

    Each chunk has its own seed, so the result does not depend on the number of workers."""
    chunks = [
        (seed, chunk, min(chunk_size, count - start))
        for chunk, start in enumerate(range(0, count, chunk_size))
    ]
    if workers > 1:
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers) as pool:
            results = pool.map(_render_chunk, chunks)
    else:
        results = [_render_chunk(chunk) for chunk in chunks]
    images = np.concatenate([r[0] for r in results])
    boxes = [b for r in results for b in r[1]]
    return images, boxes


def normalised_boxes(boxes: list[scenes.Box], width: int, height: int) -> np.ndarray:
    """Boxes as [K, 5] rows of (ymin, xmin, ymax, xmax) in 0..1 and the class id."""
    return np.array(
        [(b.ymin / height, b.xmin / width, b.ymax / height, b.xmax / width, b.class_id)
         for b in boxes],
        np.float32,
    ).reshape(-1, 5)  # fmt: skip


def _cell_centres() -> tuple[np.ndarray, np.ndarray]:
    centres = (np.arange(GRID, dtype=np.float32) + 0.5) / GRID
    return np.meshgrid(centres, centres, indexing="ij")  # (y, x) each GRID x GRID


def assign_targets(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FCOS targets for one image: per cell a one-hot class row and the box it must predict.

    A cell is positive for a box when it lies inside the box and within 1.5 cells of the box
    centre; when several boxes claim a cell the smallest wins. Tiny boxes that no cell centre
    falls into take the cell nearest their centre."""
    classes = np.zeros((GRID, GRID, NUM_CLASSES), np.float32)
    targets = np.zeros((GRID, GRID, 4), np.float32)
    if len(boxes) == 0:
        return classes, targets
    cy, cx = _cell_centres()
    ymin, xmin, ymax, xmax = (boxes[:, i, None, None] for i in range(4))
    radius = 1.5 / GRID
    box_cy, box_cx = (ymin + ymax) / 2, (xmin + xmax) / 2
    inside = (cy > ymin) & (cy < ymax) & (cx > xmin) & (cx < xmax)
    central = (np.abs(cy - box_cy) < radius) & (np.abs(cx - box_cx) < radius)
    claimed = inside & central
    for k in range(len(boxes)):
        if not claimed[k].any():
            row = min(int(box_cy[k, 0, 0] * GRID), GRID - 1)
            col = min(int(box_cx[k, 0, 0] * GRID), GRID - 1)
            claimed[k, row, col] = True
    areas = ((ymax - ymin) * (xmax - xmin))[:, 0, 0]
    cost = np.where(claimed, areas[:, None, None], np.inf)
    winner = cost.argmin(axis=0)
    positive = np.isfinite(cost.min(axis=0))
    class_index = boxes[winner, 4].astype(int) - 1
    rows, cols = np.nonzero(positive)
    classes[rows, cols, class_index[rows, cols]] = 1.0
    targets[rows, cols] = boxes[winner[rows, cols], :4]
    return classes, targets


def build_targets(all_boxes: list[list[scenes.Box]]) -> tuple[np.ndarray, np.ndarray]:
    width, height = SOURCE_SIZE
    pairs = [assign_targets(normalised_boxes(b, width, height)) for b in all_boxes]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


# --------------------------------------------------------------------------------------------
# Model


def build_model():
    """Backbone (depthwise-separable, stride 32) + top-down fusion to stride 8 + FCOS head.

    Output: [batch, GRID, GRID, NUM_CLASSES + 5] = class logits, 4 side distances (log, in
    cells: top, left, bottom, right), centerness logit."""
    import keras
    from keras import layers

    def conv(x, channels: int, stride: int = 1, separable: bool = True):
        if separable:
            x = layers.DepthwiseConv2D(3, stride, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU(6.0)(x)
            x = layers.Conv2D(channels, 1, use_bias=False)(x)
        else:
            x = layers.Conv2D(channels, 3, stride, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU(6.0)(x)

    image = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="image")
    x = conv(image, 16, 2, separable=False)  # 128
    x = conv(conv(x, 32, 2), 32)  # 64
    c3 = conv(conv(x, 64, 2), 64)  # 32: stride 8
    c4 = conv(conv(conv(c3, 96, 2), 96), 96)  # 16
    c5 = conv(conv(conv(c4, 128, 2), 128), 128)  # 8
    p5 = layers.Conv2D(64, 1)(c5)
    p4 = layers.Add()([layers.Conv2D(64, 1)(c4), layers.UpSampling2D(2)(p5)])
    p4 = conv(p4, 64)
    p3 = layers.Add()([layers.Conv2D(64, 1)(c3), layers.UpSampling2D(2)(p4)])
    tower = conv(conv(p3, 64), 64)
    prior = -math.log((1 - 0.01) / 0.01)  # start every cell at p=0.01: stable focal loss
    class_logits = layers.Conv2D(
        NUM_CLASSES, 3, padding="same", bias_initializer=keras.initializers.Constant(prior)
    )(tower)
    sides = layers.Conv2D(4, 3, padding="same")(tower)
    centerness = layers.Conv2D(1, 3, padding="same")(tower)
    outputs = layers.Concatenate(name="head")([class_logits, sides, centerness])
    return keras.Model(image, outputs, name="sign_detector")


def preprocess(images):
    """uint8/float RGB at model size -> the model's input range."""
    import tensorflow as tf

    return tf.cast(images, tf.float32) / 127.5 - 1.0


def decode(head):
    """Head output -> (boxes [B, A, 4] normalised ymin,xmin,ymax,xmax clipped to 0..1,
    class scores [B, A, NUM_CLASSES]) with A = GRID * GRID cells in row-major order."""
    import tensorflow as tf

    batch = tf.shape(head)[0]
    head = tf.reshape(head, [batch, GRID * GRID, NUM_CLASSES + 5])
    class_logits = head[..., :NUM_CLASSES]
    sides = tf.exp(tf.clip_by_value(head[..., NUM_CLASSES : NUM_CLASSES + 4], -8.0, 4.0)) / GRID
    centerness = head[..., NUM_CLASSES + 4 :]
    cy, cx = (tf.constant(c.reshape(1, -1)) for c in _cell_centres())
    boxes = tf.stack(
        [cy - sides[..., 0], cx - sides[..., 1], cy + sides[..., 2], cx + sides[..., 3]], axis=-1
    )
    # Centerness down-weights off-centre cells (their boxes are worse); its square root keeps
    # scores of clear signs well above the 0.5 display threshold.
    scores = tf.sigmoid(class_logits) * tf.sqrt(tf.sigmoid(centerness))
    return tf.clip_by_value(boxes, 0.0, 1.0), scores


# --------------------------------------------------------------------------------------------
# Loss


def _giou_loss(pred, target):
    import tensorflow as tf

    def area(b):
        return tf.maximum(b[..., 2] - b[..., 0], 0.0) * tf.maximum(b[..., 3] - b[..., 1], 0.0)

    inter_min = tf.maximum(pred[..., :2], target[..., :2])
    inter_max = tf.minimum(pred[..., 2:], target[..., 2:])
    inter = tf.reduce_prod(tf.maximum(inter_max - inter_min, 0.0), axis=-1)
    union = area(pred) + area(target) - inter
    iou = inter / tf.maximum(union, 1e-9)
    hull = tf.reduce_prod(
        tf.maximum(pred[..., 2:], target[..., 2:]) - tf.minimum(pred[..., :2], target[..., :2]),
        axis=-1,
    )
    return 1.0 - iou + (hull - union) / tf.maximum(hull, 1e-9)


def detection_loss(head, class_targets, box_targets):
    """Focal loss on classes, GIoU on boxes (weighted by centerness), BCE on centerness; all
    normalised by the number of positive cells, as in FCOS."""
    import tensorflow as tf

    batch = tf.shape(head)[0]
    head = tf.reshape(head, [batch, GRID * GRID, NUM_CLASSES + 5])
    class_targets = tf.reshape(class_targets, [batch, GRID * GRID, NUM_CLASSES])
    box_targets = tf.reshape(box_targets, [batch, GRID * GRID, 4])
    positive = tf.reduce_max(class_targets, axis=-1)
    num_positive = tf.maximum(tf.reduce_sum(positive), 1.0)

    logits = head[..., :NUM_CLASSES]
    probability = tf.sigmoid(logits)
    cross_entropy = tf.nn.sigmoid_cross_entropy_with_logits(labels=class_targets, logits=logits)
    p_t = class_targets * probability + (1 - class_targets) * (1 - probability)
    alpha_t = class_targets * 0.25 + (1 - class_targets) * 0.75
    focal = tf.reduce_sum(alpha_t * (1 - p_t) ** 2 * cross_entropy) / num_positive

    sides = tf.exp(tf.clip_by_value(head[..., NUM_CLASSES : NUM_CLASSES + 4], -8.0, 4.0)) / GRID
    cy, cx = (tf.constant(c.reshape(1, -1)) for c in _cell_centres())
    predicted = tf.stack(
        [cy - sides[..., 0], cx - sides[..., 1], cy + sides[..., 2], cx + sides[..., 3]], axis=-1
    )
    distances = tf.stack(
        [cy - box_targets[..., 0], cx - box_targets[..., 1],
         box_targets[..., 2] - cy, box_targets[..., 3] - cx],
        axis=-1,
    )  # fmt: skip
    distances = tf.maximum(distances, 1e-6)
    vertical = tf.minimum(distances[..., 0], distances[..., 2]) / tf.maximum(
        distances[..., 0], distances[..., 2]
    )
    horizontal = tf.minimum(distances[..., 1], distances[..., 3]) / tf.maximum(
        distances[..., 1], distances[..., 3]
    )
    centerness_target = tf.sqrt(vertical * horizontal) * positive
    weight = centerness_target
    box = tf.reduce_sum(_giou_loss(predicted, box_targets) * weight) / tf.maximum(
        tf.reduce_sum(weight), 1e-6
    )
    centerness = (
        tf.reduce_sum(
            tf.nn.sigmoid_cross_entropy_with_logits(
                labels=centerness_target, logits=head[..., NUM_CLASSES + 4]
            )
            * positive
        )
        / num_positive
    )
    return focal, box, centerness


# --------------------------------------------------------------------------------------------
# Training


def _learning_rate(step: int, config: TrainConfig) -> float:
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(config.steps - config.warmup_steps, 1)
    return config.learning_rate * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))


def _photometric_jitter(images, seed):
    """Cheap per-image brightness/contrast/colour jitter (stateless, so deterministic)."""
    import tensorflow as tf

    batch = tf.shape(images)[0]
    keys = tf.random.experimental.stateless_split(seed, 3)
    brightness = tf.random.stateless_uniform([batch, 1, 1, 1], keys[0], -0.15, 0.15)
    contrast = tf.random.stateless_uniform([batch, 1, 1, 1], keys[1], 0.8, 1.2)
    colour = tf.random.stateless_uniform([batch, 1, 1, 3], keys[2], 0.92, 1.08)
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    images = (images - mean) * contrast + mean + brightness
    return tf.clip_by_value(images * colour, -1.0, 1.0)


def fit(
    images: np.ndarray,
    class_targets: np.ndarray,
    box_targets: np.ndarray,
    config: TrainConfig,
    log: Callable[[str], None] = print,
):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    model = build_model()
    optimizer = keras.optimizers.AdamW(
        learning_rate=config.learning_rate, weight_decay=config.weight_decay, clipnorm=10.0
    )
    optimizer.build(model.trainable_variables)

    @tf.function(reduce_retracing=True)
    def train_step(batch_images, batch_classes, batch_boxes, learning_rate, seed):
        optimizer.learning_rate.assign(learning_rate)
        inputs = _photometric_jitter(preprocess(batch_images), seed)
        with tf.GradientTape() as tape:
            head = model(inputs, training=True)
            focal, box, centerness = detection_loss(head, batch_classes, batch_boxes)
            loss = focal + 2.0 * box + centerness
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return focal, box, centerness

    order_rng = np.random.default_rng(np.random.SeedSequence([config.seed, 1]))
    order = np.empty(0, np.int64)
    started = time.monotonic()
    running = np.zeros(3)
    steps_done = 0
    for step in range(config.steps):
        if len(order) < config.batch_size:
            order = np.concatenate([order, order_rng.permutation(len(images))])
        batch, order = order[: config.batch_size], order[config.batch_size :]
        losses = train_step(
            tf.constant(images[batch]),
            tf.constant(class_targets[batch]),
            tf.constant(box_targets[batch]),
            tf.constant(_learning_rate(step, config), tf.float32),
            tf.constant([config.seed, step], tf.int64),
        )
        running = 0.9 * running + 0.1 * np.array([float(v) for v in losses])
        steps_done = step + 1
        elapsed = time.monotonic() - started
        if steps_done % 100 == 0 or steps_done == config.steps:
            log(
                f"step {steps_done}/{config.steps}  focal {running[0]:.3f}  giou {running[1]:.3f}"
                f"  centerness {running[2]:.3f}  {elapsed:.0f}s"
            )
        if elapsed > config.minutes * 60:
            log(f"time cap of {config.minutes} min reached after {steps_done} steps: stopping "
                "early (this run is not reproducible)")  # fmt: skip
            break
    return model, {"steps": steps_done, "train_seconds": time.monotonic() - started}


# --------------------------------------------------------------------------------------------
# Export


def export(model, out_dir: Path, post: PostProcessing = PostProcessing()) -> Path:
    """Write ``saved_model/`` (OD API serving signature), ``labelmap.pbtxt`` and
    ``pipeline.config`` into ``out_dir``."""
    import keras
    import tensorflow as tf

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def serve(input_tensor):
        image = tf.image.resize(tf.cast(input_tensor, tf.float32), (INPUT_SIZE, INPUT_SIZE))
        head = model(preprocess(image), training=False)
        boxes, scores = decode(head)
        background = 1.0 - tf.reduce_max(scores, axis=-1, keepdims=True)
        outputs = postprocess(boxes[0], scores[0], post)
        outputs["raw_detection_boxes"] = boxes
        outputs["raw_detection_scores"] = tf.concat([background, scores], axis=-1)
        return outputs

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name="serving_default",
        fn=serve,
        input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8, name="input_tensor")],
    )
    saved_model_dir = out_dir / "saved_model"
    archive.write_out(str(saved_model_dir), verbose=False)
    write_labelmap(out_dir / "labelmap.pbtxt")
    write_pipeline_config(out_dir / "pipeline.config", post)
    return out_dir


def postprocess(boxes, scores, post: PostProcessing) -> dict:
    """OD API SSD post-processing for one image: per-class greedy NMS (score > threshold,
    IoU > threshold suppressed, at most ``max_detections_per_class``), merge, sort by score,
    clip to 0..1, drop zero-area boxes, keep ``max_total_detections``; pad to that many."""
    import tensorflow as tf

    per_class = post.max_detections_per_class
    all_boxes, all_scores, all_classes = [], [], []
    for class_index in range(NUM_CLASSES):
        class_scores = scores[:, class_index]
        selected, selected_scores = tf.image.non_max_suppression_with_scores(
            boxes,
            class_scores,
            max_output_size=per_class,
            iou_threshold=post.iou_threshold,
            score_threshold=post.score_threshold,
        )
        padding = per_class - tf.shape(selected)[0]
        all_boxes.append(tf.pad(tf.gather(boxes, selected), [[0, padding], [0, 0]]))
        all_scores.append(tf.pad(selected_scores, [[0, padding]], constant_values=-1.0))
        all_classes.append(tf.fill([per_class], float(class_index + 1)))
    merged_boxes = tf.clip_by_value(tf.concat(all_boxes, 0), 0.0, 1.0)
    merged_scores = tf.concat(all_scores, 0)
    merged_classes = tf.concat(all_classes, 0)
    area = (merged_boxes[:, 2] - merged_boxes[:, 0]) * (merged_boxes[:, 3] - merged_boxes[:, 1])
    valid = (merged_scores > post.score_threshold) & (area > 0)
    ranking = tf.where(valid, merged_scores, -1.0)
    keep = min(post.max_total_detections, per_class * NUM_CLASSES)
    top_scores, order = tf.math.top_k(ranking, k=keep)
    is_valid = top_scores > -1.0
    count = tf.reduce_sum(tf.cast(is_valid, tf.float32))
    mask = tf.cast(is_valid, tf.float32)
    missing = post.max_total_detections - keep
    detection_boxes = tf.pad(tf.gather(merged_boxes, order) * mask[:, None], [[0, missing], [0, 0]])
    detection_scores = tf.pad(tf.maximum(top_scores, 0.0), [[0, missing]])
    # Padding rows read class 1.0, as in the OD API (its zero class + label offset 1).
    detection_classes = tf.pad(
        tf.where(is_valid, tf.gather(merged_classes, order), 1.0), [[0, missing]],
        constant_values=1.0,
    )  # fmt: skip
    return {
        "detection_boxes": detection_boxes[None],
        "detection_scores": detection_scores[None],
        "detection_classes": detection_classes[None],
        "num_detections": tf.reshape(count, [1]),
    }


def write_labelmap(path: Path) -> None:
    items = [f"item {{\n  id: {i}\n  name: '{name}'\n}}\n" for i, name in scenes.CLASSES.items()]
    Path(path).write_text("".join(items))


def write_pipeline_config(path: Path, post: PostProcessing) -> None:
    """The subset of an OD API ``pipeline.config`` that describes how to run this model."""
    Path(path).write_text(
        f"""# Written by devtools.default_model.training: an OD API pipeline.config subset for the default model.
model {{
  ssd {{
    num_classes: {NUM_CLASSES}
    image_resizer {{
      fixed_shape_resizer {{
        height: {INPUT_SIZE}
        width: {INPUT_SIZE}
      }}
    }}
    post_processing {{
      batch_non_max_suppression {{
        score_threshold: {post.score_threshold}
        iou_threshold: {post.iou_threshold}
        max_detections_per_class: {post.max_detections_per_class}
        max_total_detections: {post.max_total_detections}
      }}
      score_converter: SIGMOID
    }}
  }}
}}
"""
    )


# --------------------------------------------------------------------------------------------
# Entry points


def train(
    out_dir: Path,
    *,
    seed: int = 0,
    minutes: float = TrainConfig.minutes,
    images: int = TrainConfig.images,
    steps: int = TrainConfig.steps,
    workers: int = TrainConfig.workers,
    exact: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """Generate scenes from ``seed``, train, and export a ``models/default``-style folder.

    ``exact`` makes the run bit-for-bit repeatable by turning off TensorFlow's oneDNN kernels,
    whose multi-threaded gradients add floating-point noise from run to run; it is about 1.7
    times slower. It must be chosen before TensorFlow is first imported in the process."""
    if exact:
        _disable_onednn()
    if importlib.util.find_spec("tensorflow") is None:
        # Checked first: generating the scenes takes minutes before TensorFlow is first needed.
        raise SystemExit(
            "Error: training needs TensorFlow; install the repository's default-model group "
            "(pip install -e '.[convert]' scikit-image pycocotools)"
        )
    config = TrainConfig(seed=seed, images=images, steps=steps, minutes=minutes, workers=workers)
    started = time.monotonic()
    log(f"generating {config.images} scenes (seed {seed}) ...")
    data, boxes = generate_dataset(seed, config.images, workers=config.workers)
    class_targets, box_targets = build_targets(boxes)
    generated = time.monotonic()
    log(f"  {generated - started:.0f}s; training {config.steps} steps ...")
    model, stats = fit(data, class_targets, box_targets, config, log=log)
    export(model, out_dir)
    total = time.monotonic() - started
    log(f"exported to {out_dir} ({total / 60:.1f} min in all)")
    summary = {
        "config": asdict(config),
        "generate_seconds": round(generated - started, 1),
        "train_seconds": round(stats["train_seconds"], 1),
        "steps_done": stats["steps"],
        "total_seconds": round(total, 1),
    }
    (Path(out_dir) / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
    return Path(out_dir)


def _disable_onednn() -> None:
    if "tensorflow" in sys.modules:
        raise RuntimeError("exact training must be chosen before TensorFlow is imported")
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.default_model train",
        description="Train and export the default detector.",
    )
    # The repository's own models/default, wherever the command is run from.
    parser.add_argument("--out", type=Path, default=REPOSITORY / "models" / "default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=TrainConfig.minutes,
                        help="stop early after this long (breaks reproducibility)")  # fmt: skip
    parser.add_argument("--images", type=int, default=TrainConfig.images)
    parser.add_argument("--steps", type=int, default=TrainConfig.steps)
    parser.add_argument("--workers", type=int, default=TrainConfig.workers)
    parser.add_argument("--exact", action="store_true",
                        help="bit-for-bit repeatable (oneDNN off, about 1.7x slower)")  # fmt: skip
    args = parser.parse_args(argv)
    train(
        args.out,
        seed=args.seed,
        minutes=args.minutes,
        images=args.images,
        steps=args.steps,
        workers=args.workers,
        exact=args.exact,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
