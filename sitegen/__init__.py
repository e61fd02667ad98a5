"""sitegen: a trained TensorFlow object detector in, a static webcam detector site out."""

__version__ = "0.1.0"
