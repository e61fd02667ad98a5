"""A random-weight Ultralytics YOLO detector, its exports, and Ultralytics' own detections.

    python -m tests.helpers.yolo_fixture OUT --model yolov8n|yolo11n|yolo26n [--imgsz 320]

Plain random weights give every score ~1.6e-4, useless for comparing orders, so the model is
recalibrated on two scenes (BatchNorm statistics, the scale and bias of each Detect branch's last
conv, the init seed) until predict finds 5-60 boxes of varied sizes with well-spread top scores.
That model is exported (tfjs, then tflite); predict's detections go to OUT/fixture.json, paths
relative to OUT. Needs ultralytics 8.4.82, the last release with the onnx2tf tfjs/tflite exports.

YOLO26 is calibrated and exported with its classic head, [1, 4 + C, A] (end2end=False): its
end-to-end (NMS-free, [1, 300, 6]) head is not a sitegen family yet.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

CONF, IOU = 0.25, 0.7
# rect=False: a PyTorch model would otherwise get a smaller, stride-padded letterbox than an export
PREDICT_ARGS = {"conf": CONF, "iou": IOU, "rect": False, "max_det": 300, "agnostic_nms": False}
CLASS_SPREADS = (8.0, 10.0, 12.0)  # tried for max |class logit - bias| over the scenes
BOX_SPREAD, BOX_RAMP = 3.0, 0.25  # max |DFL logit - bias|, and bias = -BOX_RAMP * bin
BIAS_STEP = 0.2
MIN_BOXES, TARGET_BOXES, MAX_BOXES, MAX_SCORE, MIN_TOP_GAP = 5, 20, 60, 0.95, 1e-3
MAX_SEEDS = 20  # init seeds tried: with some, two of the top scores fall within MIN_TOP_GAP
CALIBRATION_NPY = "calibration_image_sample_data_20x128x128x3_float32.npy"


@contextlib.contextmanager
def _step(model: str, what: str):
    print(f"{model}: {what}", file=sys.stderr, flush=True)
    start = time.monotonic()
    yield
    print(f"{model}: {what}: {time.monotonic() - start:.1f} s", file=sys.stderr, flush=True)


def _picture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Blurred colour noise under translucent shapes, with grain (RGB uint8). No flat areas:
    anchors that see the same pixels get the same score, and ties make orders arbitrary."""
    import cv2

    field = cv2.GaussianBlur(rng.random((height, width, 3), dtype=np.float32), (0, 0), width / 40)
    low, high = field.min((0, 1)), field.max((0, 1))
    picture = np.ascontiguousarray((field - low) / (high - low) * 255, dtype=np.uint8)
    shapes = picture.copy()
    for _ in range(6):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        a, b = (
            int(rng.integers(width // 16, width // 4)),
            int(rng.integers(height // 16, height // 4)),
        )
        if rng.random() < 0.5:
            cv2.rectangle(shapes, (cx - a, cy - b), (cx + a, cy + b), colour, -1)
        else:
            cv2.ellipse(shapes, (cx, cy), (a, b), float(rng.integers(180)), 0, 360, colour, -1)
    picture = cv2.addWeighted(shapes, 0.6, picture, 0.4, 0)
    return np.clip(picture + rng.integers(-8, 9, picture.shape), 0, 255).astype(np.uint8)


def make_scenes(out: Path, seed: int = 0) -> dict[str, Path]:
    """square.png 320x320, and wide.png 1280x720 in 4x4 blocks, so that any bilinear resize by
    exactly 4 (a canvas, cv2.INTER_LINEAR) gives back the 320x180 picture."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    pictures = {
        "square": _picture(rng, 320, 320),
        "wide": np.repeat(np.repeat(_picture(rng, 180, 320), 4, axis=0), 4, axis=1),
    }
    for name, picture in pictures.items():
        Image.fromarray(picture, "RGB").save(out / f"{name}.png")
    return {name: out / f"{name}.png" for name in pictures}


def _letterboxed_batch(paths, imgsz: int):
    """NCHW RGB 0..1, letterboxed as predict does for a fixed-shape export (auto=False)."""
    import cv2
    import torch
    from ultralytics.data.augment import LetterBox

    boxed = [LetterBox((imgsz, imgsz), auto=False)(image=cv2.imread(str(p))) for p in paths]
    return torch.from_numpy(np.stack(boxed)[..., ::-1].copy()).permute(0, 3, 1, 2).float() / 255


def _recalibrate_batchnorm(net, x) -> None:
    """Statistics of the scenes (and their mirror images) instead of the init's 0 and 1."""
    import torch

    net.train()
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # a plain average: exactly this batch's statistics
    with torch.no_grad():
        net(torch.cat([x, x.flip(3)]))
    net.eval()


def _rescale_head(net, x) -> list:
    """Scale the last conv of each Detect branch so that max |output - bias| on the scenes is
    about 1 (class; the caller multiplies) or BOX_SPREAD (box); return the class convs."""
    import torch

    def last_conv(branch):  # yolo11n's class branches nest DWConv pairs
        return [m for m in branch.modules() if isinstance(m, torch.nn.Conv2d)][-1]

    detect = net.model[-1]
    class_convs = [last_conv(branch) for branch in detect.cv3]
    # not all 1: each level's top logit would then be exactly bias + spread, a tie
    spreads = {conv: 1.0 - 0.1 * level for level, conv in enumerate(class_convs)}
    spreads |= {last_conv(branch): BOX_SPREAD for branch in detect.cv2}
    outputs = {}
    hooks = [c.register_forward_hook(lambda c, _, y: outputs.__setitem__(c, y)) for c in spreads]
    with torch.no_grad():
        net(x)
    for hook in hooks:
        hook.remove()
    for conv, spread in spreads.items():
        conv.weight.data *= spread / (outputs[conv] - conv.bias.view(1, -1, 1, 1)).abs().max()
    # a prior on short distances in each side's DFL bins: with even bins every box is 15 strides
    ramp = -BOX_RAMP * torch.arange(detect.reg_max, dtype=torch.float32)
    for branch in detect.cv2:
        last_conv(branch).bias.data = ramp.repeat(4)  # channels are side-major
    return class_convs


def predict(model, path: Path, imgsz: int) -> list[dict]:
    boxes = model.predict(str(path), imgsz=imgsz, verbose=False, **PREDICT_ARGS)[0].boxes
    rows = zip(boxes.xyxy.tolist(), boxes.conf.tolist(), boxes.cls.tolist(), strict=True)
    return [{"box": box, "score": score, "class": int(cls)} for box, score, cls in rows]


def _top_gap(detections: list[dict]) -> float:
    """Smallest difference between the 10 best scores; float noise must not swap them."""
    scores = sorted((d["score"] for d in detections), reverse=True)[:10]
    return float(np.abs(np.diff(scores)).min()) if len(scores) > 1 else 0.0


def _is_usable(detections: list[dict], width: int, height: int) -> bool:
    if not MIN_BOXES <= len(detections) <= MAX_BOXES or detections[0]["score"] >= MAX_SCORE:
        return False
    boxes = np.array([d["box"] for d in detections])
    whole_frame = (boxes[:, :2] <= 0).all(1) & (boxes[:, 2:] >= (width, height)).all(1)
    sizes = boxes[:, 2:] - boxes[:, :2]
    return whole_frame.mean() < 0.5 and (sizes.std(0) > 0.2 * sizes.mean(0)).all()


def _choose_class_logits(yolo, class_convs, scenes: dict, sizes: dict, imgsz: int):
    """Set the class convs' (spread, bias) with usable detections and top gaps over MIN_TOP_GAP
    on every scene: most boxes up to TARGET_BOXES, then widest gaps. None if there is none."""
    unit_weights = [conv.weight.data.clone() for conv in class_convs]
    best_key, best = None, None
    for spread in CLASS_SPREADS:
        for conv, weight in zip(class_convs, unit_weights, strict=True):
            conv.weight.data = weight * spread
        for bias in np.arange(-spread, 0, BIAS_STEP):  # upwards: more and more boxes
            for conv in class_convs:
                conv.bias.data.fill_(bias)
            found = {name: predict(yolo, path, imgsz) for name, path in scenes.items()}
            if any(len(d) > MAX_BOXES for d in found.values()):
                break
            gap = min(_top_gap(d) for d in found.values())
            if gap > MIN_TOP_GAP and all(_is_usable(found[n], *sizes[n]) for n in scenes):
                key = min(min(len(d) for d in found.values()), TARGET_BOXES), gap
                if best_key is None or key > best_key:
                    best_key, best = key, (spread, round(float(bias), 2))
    if best is not None:
        for conv, weight in zip(class_convs, unit_weights, strict=True):
            conv.weight.data = weight * best[0]
            conv.bias.data.fill_(best[1])
    return best


def calibrated_model(model: str, scenes: dict, sizes: dict, imgsz: int):
    """(YOLO, init seed, class spread, class bias) for the first init seed that calibrates."""
    import torch
    from ultralytics import YOLO

    x = _letterboxed_batch(scenes.values(), imgsz)
    for seed in range(MAX_SEEDS):
        torch.manual_seed(seed)
        yolo = YOLO(f"{model}.yaml")
        _classic_head(yolo.model)
        _recalibrate_batchnorm(yolo.model, x)
        class_convs = _rescale_head(yolo.model, x)
        if logits := _choose_class_logits(yolo, class_convs, scenes, sizes, imgsz):
            return yolo, seed, *logits
    raise RuntimeError(f"{model}: no init seed below {MAX_SEEDS} gives usable detections")


def _classic_head(net) -> None:
    """A YOLO26 (or YOLOv10) Detect runs its one-to-many head, the classic [1, 4 + C, A], in
    predict and in the export, instead of the end-to-end one-to-one head."""
    detect = net.model[-1]
    if hasattr(detect, "end2end"):
        detect.end2end = False


def _saved_model_outputs(saved_model: Path, images: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    signature = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
    (name,) = signature.structured_input_signature[1]  # "images"; the output is "output_0"
    return np.concatenate([next(iter(signature(**{name: i[None]}).values())) for i in images])


def _tflite_outputs(path: Path, images: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    (given,), (wanted,) = interpreter.get_input_details(), interpreter.get_output_details()
    outputs = []
    for image in images:
        interpreter.set_tensor(given["index"], image[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(wanted["index"]))
    return np.concatenate(outputs)


def _differences(reference: np.ndarray, got: np.ndarray, box_scale: float = 1.0) -> dict:
    """Of raw [N, 4 + classes, anchors] outputs: scores, and boxes in pixels of imgsz."""
    return {
        "max_abs_score_diff": float(np.abs(got[:, 4:] - reference[:, 4:]).max()),
        "max_abs_box_diff_px": float(np.abs(got[:, :4] * box_scale - reference[:, :4]).max()),
    }


def _stand_in_for_ai_edge_litert() -> None:
    """onnx2tf 1.28 imports ai_edge_litert.interpreter on import but runs it only to check
    outputs; where that package is missing, TensorFlow's own Interpreter stands in."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        import types

        import tensorflow as tf

        interpreter = types.ModuleType("ai_edge_litert.interpreter")
        interpreter.Interpreter = tf.lite.Interpreter
        package = types.ModuleType("ai_edge_litert")
        package.interpreter = interpreter
        sys.modules.update({"ai_edge_litert": package, "ai_edge_litert.interpreter": interpreter})


def _export(yolo, fmt: str, work: Path, imgsz: int) -> Path:
    """Export in `work`, where the onnx2tf calibration file spares a download; return the
    `<stem>_saved_model` folder (the stem is the YAML's: yolov8n, yolo11n, yolo26n)."""
    with contextlib.chdir(work):  # Python 3.11+, like this venv
        yolo.export(format=fmt, imgsz=imgsz, end2end=False)  # YOLO26: the classic head
    return next(work.glob("*_saved_model"))


def _export_all(model: str, yolo, out: Path, imgsz: int, x, scenes: dict) -> dict:
    """Exports, their raw outputs against PyTorch's, and predict on the SavedModel."""
    import torch
    from ultralytics import YOLO

    with torch.no_grad():
        reference = yolo.model(x)[0].numpy()  # eval Detect returns (decoded, raw maps)
    images = x.permute(0, 2, 3, 1).numpy()
    work = out / ".export"
    work.mkdir(exist_ok=True)
    np.save(work / CALIBRATION_NPY, np.zeros((20, 128, 128, 3), np.float32))
    _stand_in_for_ai_edge_litert()
    for folder in ("tfjs", "tflite"):
        shutil.rmtree(out / folder, ignore_errors=True)
    with _step(model, "exporting tfjs"):
        saved_model = _export(yolo, "tfjs", work, imgsz)  # boxes in pixels
    stem = saved_model.name.removesuffix("_saved_model")
    with _step(model, "checking the SavedModel"):
        check = _differences(reference, _saved_model_outputs(saved_model, images))
        exported = YOLO(str(saved_model), task="detect")  # loads only by a *_saved_model name
        by_saved_model = {name: predict(exported, path, imgsz) for name, path in scenes.items()}
    # Laid out as Ultralytics writes them: format=tfjs leaves <stem>_saved_model/ (pixel boxes,
    # with its own .tflite files) beside <stem>_web_model/; format=tflite a <stem>_saved_model/
    # whose SavedModel and .tflite files are normalised.
    (out / "tfjs").mkdir()
    shutil.move(saved_model, out / "tfjs" / saved_model.name)
    shutil.move(work / f"{stem}_web_model", out / "tfjs" / f"{stem}_web_model")
    with _step(model, "exporting tflite"):
        normalised = _export(yolo, "tflite", work, imgsz)  # boxes / imgsz, unlike tfjs's
    (out / "tflite").mkdir()
    shutil.move(normalised, out / "tflite" / normalised.name)
    shutil.rmtree(work)  # .onnx and .pb
    for precision in ("float32", "float16"):
        got = _tflite_outputs(out / f"tflite/{stem}_saved_model/{stem}_{precision}.tflite", images)
        diff = _differences(reference, got, box_scale=imgsz)
        check |= {f"tflite_{precision}_{key}": value for key, value in diff.items()}
    exports = {
        "saved_model": f"tfjs/{stem}_saved_model",  # pixels, like the .tflite files in it
        "saved_model_tflite_float32": f"tfjs/{stem}_saved_model/{stem}_float32.tflite",
        "saved_model_tflite_float16": f"tfjs/{stem}_saved_model/{stem}_float16.tflite",
        "web_model": f"tfjs/{stem}_web_model/model.json",  # pixels
        "tflite_saved_model": f"tflite/{stem}_saved_model",  # normalised, and so are its .tflite
        "tflite_float32": f"tflite/{stem}_saved_model/{stem}_float32.tflite",
        "tflite_float16": f"tflite/{stem}_saved_model/{stem}_float16.tflite",
    }
    return {"exports": exports, "export_check": check, "by_saved_model": by_saved_model}


def make_fixture(out: Path, model: str, imgsz: int = 320) -> dict:
    """Write the scenes, the exports and OUT/fixture.json (paths relative to OUT); return it."""
    out = Path(out).resolve()
    (out / ".ultralytics").mkdir(parents=True, exist_ok=True)
    # read once, when ultralytics is imported; 8.4.82 wants "true", not "1"
    os.environ.update(YOLO_OFFLINE="true", YOLO_CONFIG_DIR=str(out / ".ultralytics"))
    os.environ.update(TF_CPP_MIN_LOG_LEVEL="2")
    # the tfjs export runs the venv's tensorflowjs_converter by name
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    from PIL import Image

    scenes = make_scenes(out)
    sizes = {name: Image.open(path).size for name, path in scenes.items()}
    x = _letterboxed_batch(scenes.values(), imgsz)
    with _step(model, "calibrating"):
        yolo, seed, spread, bias = calibrated_model(model, scenes, sizes, imgsz)
    found = {name: predict(yolo, path, imgsz) for name, path in scenes.items()}
    exported = _export_all(model, yolo, out, imgsz, x, scenes)
    by_saved_model = exported.pop("by_saved_model")
    fixture = {"model": model, "imgsz": imgsz, "scenes": {}, **exported}
    fixture["calibration"] = {"init_seed": seed, "class_spread": spread, "class_bias": bias}
    for name, path in scenes.items():
        fixture["scenes"][name] = {
            "path": path.name,
            "width": sizes[name][0],
            "height": sizes[name][1],
            "conf": CONF,
            "iou": IOU,
            "detections": found[name],
            "top_score_gap": _top_gap(found[name]),
            "detections_saved_model": by_saved_model[name],
        }
    (out / "fixture.json").write_text(json.dumps(fixture, indent=1))
    return fixture


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", choices=["yolov8n", "yolo11n", "yolo26n"], required=True)
    parser.add_argument("--imgsz", type=int, default=320)
    args = parser.parse_args(argv)
    start = time.monotonic()
    make_fixture(args.out, args.model, args.imgsz)
    print(f"{args.model}: done in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
