"""``sitegen eval``: measure what is deployed. The built site's own page (its modules, pre- and
post-processing and ``sitegen:detections`` results) runs over a set of annotated images in headless
Chromium, per backend, and TensorFlow runs the SavedModel on the same pixels; a maintained COCO
library scores both (``metrics``), and ``parity`` says where they differ."""
