"""Write a part of the dataset as a TFRecord of ``tf.train.Example``s in the layout the TF Object
Detection API's decoder reads (``image/encoded``, ``image/object/bbox/xmin``, ...). TensorFlow is
imported only here, and only for ``--tfrecord``: everything else works without it."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image

from sitegen.dataset import AnnotatedImage
from sitegen.errors import MissingDependencyError
from sitegen.model.convert_tfjs import quiet_native_logs

# The formats the OD API decodes as they are; other images are re-encoded as (lossless) PNG.
_PASSED_THROUGH = {"JPEG": b"jpeg", "PNG": b"png"}
_PNG_MODES = {"1", "L", "LA", "I", "P", "RGB", "RGBA"}  # others (CMYK, YCbCr) become RGB first


def import_tensorflow():
    # Its start-up chatter (CUDA plugins, absl) is noise to someone preparing a dataset.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with quiet_native_logs():
            import tensorflow as tf
    except ImportError as exc:
        raise MissingDependencyError(
            f"--tfrecord needs TensorFlow ({exc}); run: pip install tensorflow "
            "(or pip install 'sitegen[convert]'), or leave out --tfrecord"
        ) from None
    return tf


def write_tfrecord(
    tf,
    path: Path,
    images: Sequence[AnnotatedImage],
    ids: dict[str, int],
    advance: Callable[[], None] = lambda: None,
) -> None:
    with tf.io.TFRecordWriter(str(path)) as writer:
        for image in images:
            writer.write(tf_example(tf, image, ids).SerializeToString())
            advance()


def tf_example(tf, image: AnnotatedImage, ids: dict[str, int]):
    """Boxes normalised to 0..1 by the image size, as the OD API expects."""
    encoded, image_format = encoded_image(image)
    name = image.filename.encode("utf-8")
    boxes = image.boxes
    features = {
        "image/height": _ints(tf, [image.height]),
        "image/width": _ints(tf, [image.width]),
        "image/filename": _bytes(tf, [name]),
        "image/source_id": _bytes(tf, [name]),
        "image/encoded": _bytes(tf, [encoded]),
        "image/format": _bytes(tf, [image_format]),
        "image/object/bbox/xmin": _floats(tf, [b.xmin / image.width for b in boxes]),
        "image/object/bbox/xmax": _floats(tf, [b.xmax / image.width for b in boxes]),
        "image/object/bbox/ymin": _floats(tf, [b.ymin / image.height for b in boxes]),
        "image/object/bbox/ymax": _floats(tf, [b.ymax / image.height for b in boxes]),
        "image/object/class/text": _bytes(tf, [b.label.encode("utf-8") for b in boxes]),
        "image/object/class/label": _ints(tf, [ids[b.label] for b in boxes]),
    }
    return tf.train.Example(features=tf.train.Features(feature=features))


def encoded_image(image: AnnotatedImage) -> tuple[bytes, bytes]:
    """The file's own bytes when the OD API can decode them (no re-compression), else PNG."""
    if image.image_format in _PASSED_THROUGH:
        return image.path.read_bytes(), _PASSED_THROUGH[image.image_format]
    with Image.open(image.path) as source:
        buffer = io.BytesIO()
        picture = source if source.mode in _PNG_MODES else source.convert("RGB")
        picture.save(buffer, format="PNG")
    return buffer.getvalue(), b"png"


def _ints(tf, values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def _floats(tf, values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def _bytes(tf, values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
