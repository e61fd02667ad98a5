#!/usr/bin/env python3
"""Make random-weight Ultralytics YOLO exports offline (no hub / GitHub downloads).

Research for YOLO support (issue 17; findings in docs/yolo-exports.md). Not a sitegen dependency:
it needs its own venv with torch, ultralytics, onnx2tf and tensorflowjs (recipe in that page).

Usage (run with that venv's python):
    make_exports.py MODEL_YAML IMGSZ OUT_DIR [--formats saved_model,tfjs,tflite] [--ul PATH]
                    [--seed 0] [--cls-bias B] [--int8-data DATA_YAML]

  MODEL_YAML  e.g. yolov8n.yaml, yolo11n.yaml, yolov8n-seg.yaml, yolov8n-cls.yaml (built in, no download)
  IMGSZ       e.g. 320
  OUT_DIR     each format goes to OUT_DIR/<stem>_<imgsz>_<format>/ (Ultralytics writes into the CWD)
  --ul PATH   put PATH first on sys.path, e.g. /work/yolo/ul_8.4.82 (a `pip install --target` copy of an
              older ultralytics). Ultralytics >= 8.4.83 maps format 'tflite' and 'tfjs' to 'litert'
              (litert_torch), 8.4.82 still has the onnx2tf tflite and the tensorflowjs tfjs exports.
  --cls-bias  set the class-logit bias of the Detect head (default: Ultralytics' init, which gives
              scores ~1e-4 with random weights). E.g. --cls-bias 0 gives scores ~0.5, so predict() finds boxes.
              NB: every class score is then ~sigmoid(B) (random features are ~0), i.e. exact ties.
  --int8-data a dataset YAML for INT8 calibration (tflite int8 / litert quantize=8); see make_tiny_dataset().
  --int8      export INT8 (tflite format only).

Environment: sets YOLO_OFFLINE=1 and YOLO_CONFIG_DIR (default OUT_DIR/.ultralytics) before importing
ultralytics, and writes onnx2tf's calibration sample file into the CWD so that
ultralytics does not try to download it from GitHub.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

CALIB_NPY = "calibration_image_sample_data_20x128x128x3_float32.npy"


def make_tiny_dataset(root: Path, n: int = 8, size: int = 320) -> Path:
    """Write a tiny YOLO-format detection dataset (random images, one box each) and return its YAML path."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            arr = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / "images" / split / f"{i}.jpg")
            (root / "labels" / split / f"{i}.txt").write_text("0 0.5 0.5 0.3 0.3\n")
    yaml = root / "data.yaml"
    names = "\n".join(f"  {i}: c{i}" for i in range(80))
    yaml.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return yaml


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("model")
    ap.add_argument("imgsz", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--formats", default="saved_model,tfjs,tflite")
    ap.add_argument(
        "--ul", default=None, help="path to prepend to sys.path (older ultralytics copy)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cls-bias", type=float, default=None)
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--int8-data", default=None)
    a = ap.parse_args()

    out = a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_OFFLINE"] = "1"
    # tfjs export runs the `tensorflowjs_converter` console script: it must be on PATH (venv not activated)
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(out / ".ultralytics"))
    Path(os.environ["YOLO_CONFIG_DIR"]).mkdir(
        parents=True, exist_ok=True
    )  # must exist, else /tmp is used
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if a.ul:
        sys.path.insert(0, str(Path(a.ul).resolve()))

    import numpy as np
    import torch
    import ultralytics
    from ultralytics import YOLO

    print(f"ultralytics {ultralytics.__version__} from {ultralytics.__file__}", flush=True)
    stem = Path(a.model).stem
    data = a.int8_data
    if a.int8 and not data:
        data = str(make_tiny_dataset(out / "tiny_dataset", size=a.imgsz))
    for fmt in [f.strip() for f in a.formats.split(",") if f.strip()]:
        d = out / f"{stem}_{a.imgsz}_{fmt}{'_int8' if a.int8 else ''}"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        os.chdir(d)
        np.save(CALIB_NPY, np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32))
        torch.manual_seed(a.seed)
        model = YOLO(a.model)
        if a.cls_bias is not None:
            head = model.model.model[-1]
            for seq in head.cv3:  # Detect: cv3[i][-1] is the class-logit conv
                seq[-1].bias.data[:] = a.cls_bias
        kw = dict(format=fmt, imgsz=a.imgsz)
        if a.int8:
            kw.update(int8=True, data=data)
        t = time.time()
        res = model.export(**kw)
        dt = time.time() - t
        Path(CALIB_NPY).unlink(missing_ok=True)
        print(f"EXPORTED {fmt}: {res} in {dt:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
