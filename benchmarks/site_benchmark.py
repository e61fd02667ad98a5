"""The performance benchmark (issue 5): one SavedModel, one fake-camera clip, one table.

For the model given, in one run, it measures

1. native TensorFlow (Python): the serving signature on the clip's 640x480 frames, as a Python
   user would call it; and native TFLite (``tf.lite.Interpreter``, 2 threads) on the frame
   stretched to the model's input when the built site carries a ``.tflite`` (config.json
   ``model.litert``);
2. the site sitegen builds from it, in headless Chromium driven by a fake camera, per backend:
   cold load (fresh browser, empty cache) and warm load (reload: HTTP cache) to the first
   ``sitegen:detections`` event, steady per-frame latency (the event's ``detail.inferenceMs``,
   first frames skipped) and FPS, bytes requested (runtime = vendor/, model = model/, rest; raw
   and gzip level 6) and the JS heap after the steady window;
3. a baseline page written the way the popular blog tutorial's React app works
   (benchmarks/baseline/: a plain ``tensorflowjs_converter`` conversion of the whole SavedModel,
   full tf.min.js, WebGL forced, no warm-up, every output read back each frame), with the same
   measurements;
4. in each page (issue 16; page_probes.py): the main thread's busy time per frame (CDP
   Performance metrics, long tasks), a sampled profile of the frames split into the page's
   steps, the runtime's bare run on a prepared input in the same page (LiteRT.js or TF.js
   WASM) against the page's frame and detector, the page's steps replayed with a timer each, and
   the cold load's timeline (resource timing, WebAssembly compile/instantiate, sitegen:ready);
   then the first page backend again under CDP CPU throttling (``--throttle``, 4x), and
   LiteRT.js's bare run at each ``--engine-threads`` count next to native TFLite's invoke(). How
   busy other processes kept the machine is noted for every row.

An Ultralytics YOLO SavedModel export (its metadata.yaml says so; the built site's config.json
has ``model.postprocess == "yolo"``) is fed natively as its Python user feeds it: each frame
letterboxed into the fixed input (grey 114), pixels / 255, the one ``[1, 4 + C, A]`` output read
back and post-processed by sitegen's Ultralytics reference (``sitegen.model.families.yolo``: the
same NMS the page runs), for TensorFlow and TFLite alike; TensorFlow is then measured after the
build, whose config.json says how the page feeds it. The SSD-only steps are skipped with the reason
printed: the baseline page, ``--postprocess`` and the in-page steps replay.

It prints one table, the ratios page/native TF and page/baseline for the page's fastest
backend, and the sections of the in-page probes (report.py); ``--json FILE`` writes the
numbers for docs/benchmarks.md. Run from the repository root
(on a quiet machine: every number is wall-clock time):

    .venv/bin/python -m benchmarks.site_benchmark ../shared/fixtures/odapi-ssd-mobilenet-v2 \\
        --json benchmark-odapi.json
    .venv/bin/python -m benchmarks.site_benchmark models/default --json benchmark-default.json

Quick smoke run: ``--frames 10 --baseline-frames 2``. Other options: ``--backends`` (default
litert-wasm,wasm,webgl; a backend the page cannot start is reported as unavailable),
``--no-isolation`` (serve without COOP/COEP, as GitHub Pages does), ``--postprocess graph`` (build
the page with the model's in-graph post-processing instead of the raw-output cut), ``--no-baseline``,
``--workdir DIR`` (keep the site, the baseline page and the clip), ``--throttle RATE`` (0: no
throttled run), ``--no-probes``, ``--probe-runs N`` (20), ``--profile-frames N`` (10),
``--engine-threads LIST`` (1,2,3,4; '' for none).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from benchmarks import page_probes as probes
from benchmarks import runtime_probe
from benchmarks.report import describe, fmt, print_report
from sitegen.contract import NmsSettings, YoloSettings
from sitegen.site import page as page_client

REPOSITORY = Path(__file__).resolve().parent.parent
BASELINE_SOURCES = Path(__file__).resolve().parent / "baseline"
TFJS_BUNDLE = REPOSITORY / "node_modules" / "@tensorflow" / "tfjs" / "dist" / "tf.min.js"
DEFAULT_BACKENDS = "litert-wasm,wasm,webgl"
BASELINE_BACKEND = "webgl"


# Installed in every document before its own scripts run, so it sees the first event of a load.
# performance.now() counts from the navigation's start, so an event's time is "ms since the load
# began" for the cold load and for the reload alike.
RECORDER_JS = """
(() => {
  const record = { events: [], error: null };
  window.__benchmark = record;
  addEventListener('sitegen:detections', (event) => {
    const detail = event.detail;
    record.events.push({
      at: performance.now(),
      inferenceMs: detail.inferenceMs,
      engineMs: detail.engineMs ?? null,
      roundTrip: detail.roundTrip ?? null,
      backend: detail.backend,
      width: detail.width,
      height: detail.height,
      detections: detail.detections.length,
    });
  });
  addEventListener('sitegen:error', (event) => {
    record.error = event.detail?.message ?? 'error';
  });
})();
"""


def round_trip_medians(events: list[dict]) -> dict[str, float]:
    """Medians of each part of the frames' worker round trips ({} on the main thread)."""
    trips = [event["roundTrip"] for event in events if event.get("roundTrip")]
    if not trips:
        return {}
    return {key: probes.median([trip[key] for trip in trips]) for key in trips[0]}


# True once the page has n events, reported an error, or says it is in the error state.
WAIT_JS = """
(n) => {
  const record = window.__benchmark;
  if (!record) return false;
  const failed = record.error !== null || (window.sitegen && window.sitegen.state === 'error');
  return failed || record.events.length >= n;
}
"""

READ_RECORD_JS = """
() => ({
  events: window.__benchmark.events,
  error: window.__benchmark.error,
  state: window.sitegen ? window.sitegen.state : null,
  backend: window.sitegen ? window.sitegen.backend : null,
  memory: window.sitegen && window.sitegen.memory ? window.sitegen.memory() : null,
  isolated: globalThis.crossOriginIsolated,
})
"""


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the table."""
    print(message, file=sys.stderr, flush=True)


# ---- results --------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table. ``status``: ok, partial (timed out with some frames), unavailable
    (the backend or runtime could not start), absent (nothing to run, e.g. no .tflite)."""

    name: str
    kind: str  # native-tf | native-tflite | page | baseline
    backend: str | None = None
    status: str = "ok"
    note: str = ""
    frame_ms: list[float] = field(default_factory=list)
    fps: float | None = None
    cold_first_ms: float | None = None  # to the first detection: load + first frame
    warm_first_ms: float | None = None
    bytes: dict[str, dict[str, int]] | None = None  # category -> {raw, gzip, files}
    heap: dict[str, float] | None = None
    extra: dict = field(default_factory=dict)

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.frame_ms) if self.frame_ms else None

    @property
    def p95_ms(self) -> float | None:
        return float(np.percentile(self.frame_ms, 95)) if self.frame_ms else None

    def to_json(self) -> dict:
        data = asdict(self)
        data["median_ms"] = self.median_ms
        data["p95_ms"] = self.p95_ms
        data["frames"] = len(self.frame_ms)
        return data


# ---- inputs: footage, model paths -----------------------------------------------------------


def saved_model_dir(model: Path) -> Path:
    """The SavedModel folder of an OD API export folder (or the SavedModel folder itself)."""
    return model / "saved_model" if (model / "saved_model").is_dir() else model


def make_footage(path: Path, count: int, seed: int) -> Path:
    """Fake-camera footage: what ``python -m devtools.default_model scenes PATH.y4m --count COUNT --seed SEED`` writes
    (the same function, called directly)."""
    from devtools.default_model.scenes import write_footage

    write_footage(path, seed=seed, frames=count)
    return path


def footage_frames(path: Path) -> list[np.ndarray]:
    """The clip's frames as RGB, decoded the way Chromium's fake camera decodes them (BT.601,
    studio range)."""
    from devtools.default_model.scenes import read_y4m

    return list(read_y4m(path))


def footage_fps(path: Path) -> int | None:
    with open(path, "rb") as stream:
        header = stream.readline().decode("ascii").split()
    rate = next((token[1:] for token in header if token.startswith("F")), None)
    if rate is None:
        return None
    numerator, _, denominator = rate.partition(":")
    return round(int(numerator) / int(denominator or 1))


def frame_at(frames: list[np.ndarray], index: int) -> np.ndarray:
    return frames[index % len(frames)]


# ---- native TensorFlow and TFLite -----------------------------------------------------------


def load_serving(row: Row, saved_model: Path):
    """``import tensorflow`` (its time in ``row``), then the SavedModel's serving function; returns
    tf, the function, and when the load began (the cold load counts from there)."""
    started = time.perf_counter()
    import tensorflow as tf

    row.extra["import_ms"] = (time.perf_counter() - started) * 1000
    row.extra["tensorflow"] = tf.__version__
    load_started = time.perf_counter()
    loaded = tf.saved_model.load(str(saved_model))
    function = loaded.signatures["serving_default"]
    function._benchmark_keepalive = loaded  # the function needs its SavedModel's variables
    return tf, function, load_started


def measure_native_tf(saved_model: Path, frames: list[np.ndarray], skip: int, count: int) -> Row:
    """The serving signature on whole 640x480 frames (it resizes inside the graph), outputs read
    back as numpy: what a Python user would run on a camera frame."""
    row = Row("native TensorFlow", "native-tf")
    tf, function, load_started = load_serving(row, saved_model)
    ((key, spec),) = function.structured_input_signature[1].items()

    def detect(frame: np.ndarray) -> dict[str, np.ndarray]:
        outputs = function(**{key: tf.constant(frame[None], dtype=spec.dtype)})
        return {name: value.numpy() for name, value in outputs.items()}

    # Loading plus the first call (which traces and optimises the graph): the native counterpart
    # of the page's "load to first detection", not counting `import tensorflow`.
    measure_native_run(row, detect, frames, load_started, skip=skip, count=count)
    row.note = f"serving_default on {frames[0].shape[1]}x{frames[0].shape[0]} frames"
    return row


def measure_native_run(row: Row, detect, frames, load_started: float, *, skip: int, count: int):
    """Fills ``row``: the first call ends the cold load begun at ``load_started``; after the first
    ``skip`` calls, ``count`` frames are timed."""
    detect(frame_at(frames, 0))
    row.cold_first_ms = (time.perf_counter() - load_started) * 1000
    for index in range(1, skip):
        detect(frame_at(frames, index))
    row.frame_ms, row.fps = time_frames(detect, frames, first=max(skip, 1), count=count)


def time_frames(run, frames: list[np.ndarray], *, first: int, count: int):
    """Per-frame ms of ``run`` on ``count`` frames back to back, and the frames per second that
    gives."""
    timings = []
    loop_started = time.perf_counter()
    for index in range(first, first + count):
        frame = frame_at(frames, index)
        started = time.perf_counter()
        run(frame)
        timings.append((time.perf_counter() - started) * 1000)
    elapsed = time.perf_counter() - loop_started
    return timings, (count / elapsed if elapsed > 0 else None)


def litert_parts(config: dict) -> list[dict]:
    """config.json's model.litert.files (the .tflite in parts, in order); [] without a .tflite."""
    litert = (config.get("model") or {}).get("litert")
    return list(litert.get("files") or []) if isinstance(litert, dict) else []


def read_tflite(site: Path, parts: list[dict]) -> bytes:
    data = []
    for part in parts:
        chunk = (site / part["path"]).read_bytes()
        if "bytes" in part and len(chunk) != part["bytes"]:
            raise SystemExit(
                f"{part['path']} is {len(chunk)} bytes, config.json says {part['bytes']}"
            )
        data.append(chunk)
    return b"".join(data)


def open_interpreter(model_bytes: bytes, threads: int, frame_size: tuple[int, int]):
    """tf.lite.Interpreter (XNNPACK) at ``threads``, tensors allocated. A dynamic-size input
    takes the whole ``(height, width)`` frame, like the serving signature."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_content=model_bytes, num_threads=threads)
    (input_detail,) = interpreter.get_input_details()
    if any(dim < 0 for dim in input_detail.get("shape_signature", input_detail["shape"])):
        interpreter.resize_tensor_input(input_detail["index"], [1, *frame_size, 3])
    interpreter.allocate_tensors()
    return interpreter


def timed_invoke(interpreter, invoke_ms: list[float]) -> None:
    """invoke(), its ms appended to ``invoke_ms``: the engine's run alone, for the comparison
    with the page's bare run."""
    started = time.perf_counter()
    interpreter.invoke()
    invoke_ms.append((time.perf_counter() - started) * 1000)


def stretched_tflite(interpreter, invoke_ms: list[float], frame_size: tuple[int, int]):
    """detect(frame) for an SSD .tflite: the frame stretched to the input as the page stretches
    it with a canvas (the resize is part of the time), every output read back."""
    from PIL import Image

    (input_detail,) = interpreter.get_input_details()
    output_details = interpreter.get_output_details()
    _, input_height, input_width, _ = (int(d) for d in input_detail["shape"])
    dtype = input_detail["dtype"]
    scale, zero_point = input_detail.get("quantization", (0.0, 0))
    height, width = frame_size

    def detect(frame: np.ndarray) -> list[np.ndarray]:
        if (input_width, input_height) != (width, height):
            image = Image.fromarray(frame).resize((input_width, input_height), Image.BILINEAR)
            frame = np.asarray(image)
        if scale:  # a quantized input takes real values through its scale and zero point
            pixels = np.round(frame[None] / scale + zero_point).astype(dtype)
        else:
            pixels = frame[None].astype(dtype, copy=False)
        interpreter.set_tensor(input_detail["index"], pixels)
        timed_invoke(interpreter, invoke_ms)
        return [interpreter.get_tensor(output["index"]) for output in output_details]

    return detect


def letterboxed_tflite(interpreter, invoke_ms: list[float], feed: YoloFeed, units: str):
    """detect(frame) for an Ultralytics .tflite, as its Python user runs it: letterbox, / 255,
    invoke, the one output read back, Ultralytics' NMS (yolo_detections)."""
    (input_detail,) = interpreter.get_input_details()
    (output_detail,) = interpreter.get_output_details()

    def detect(frame: np.ndarray) -> list[dict]:
        interpreter.set_tensor(input_detail["index"], letterboxed(frame, feed))
        timed_invoke(interpreter, invoke_ms)
        return yolo_detections(interpreter.get_tensor(output_detail["index"]), feed, units, frame)

    return detect


def measure_native_tflite(
    site: Path, config: dict, frames: list[np.ndarray], skip: int, count: int, threads: int
) -> Row:
    """tf.lite.Interpreter on the site's own .tflite, fed as the page feeds it: an SSD's frame
    stretched to the model's input, a YOLO export's letterboxed (the resize is part of the time)."""
    row = Row("native TFLite", "native-tflite")
    parts = litert_parts(config)
    if not parts:
        row.status = "absent"
        row.note = "no .tflite in this site"
        return row
    feed = yolo_feed(config)

    load_started = time.perf_counter()
    model_bytes = read_tflite(site, parts)
    interpreter = open_interpreter(model_bytes, threads, frames[0].shape[:2])
    invoke_ms: list[float] = []
    if feed is None:
        detect = stretched_tflite(interpreter, invoke_ms, frames[0].shape[:2])
    else:
        detect = letterboxed_tflite(interpreter, invoke_ms, feed, tflite_box_units(config))

    # Reading the parts, building the interpreter and the first call (XNNPACK set-up).
    measure_native_run(row, detect, frames, load_started, skip=skip, count=count)
    (input_detail,) = interpreter.get_input_details()
    _, input_height, input_width, _ = (int(d) for d in input_detail["shape"])
    dtype = np.dtype(input_detail["dtype"]).name
    row.note = f"{input_width}x{input_height} {dtype} input, {threads} threads"
    if feed is not None:
        row.note += f"; {YOLO_NATIVE_WORK}"
    row.extra["tflite_bytes"] = len(model_bytes)
    row.extra["threads"] = threads
    # invoke() alone, over the timed frames: the engine's run, comparable with the page's bare run.
    row.extra["invoke_ms"] = invoke_ms[-len(row.frame_ms) :] if row.frame_ms else []
    return row


# ---- native runs of an Ultralytics YOLO export -----------------------------------------------

# What one native YOLO frame includes, for the row notes: the same work as the page's frame.
YOLO_NATIVE_WORK = "letterbox + /255 + inference + output read + Ultralytics NMS (TF kernel)"
# Why the SSD-only steps do not run for a YOLO site.
YOLO_ALWAYS_RAW = "a YOLO export is always post-processed in the page"
YOLO_NO_BASELINE = (
    "the blog-style page draws an SSD's in-graph detection_boxes/scores/classes, which an"
    " Ultralytics export does not have"
)


@dataclass(frozen=True)
class YoloFeed:
    """How a YOLO site's page feeds and reads its model (config.json), so that the native runs
    do the same work per frame: the letterbox, the input scale, the box units and the NMS the
    page runs on video frames (its display threshold as the score floor, at most maxDetections)."""

    input_size: tuple[int, int]  # (height, width)
    yolo: YoloSettings
    nms: NmsSettings
    threshold: float
    limit: int


def yolo_feed(config: dict) -> YoloFeed | None:
    """The built site's YOLO settings; None for an SSD site."""
    model = config.get("model") or {}
    if model.get("postprocess") != "yolo" or not model.get("yolo"):
        return None
    height, width = model["input"]["size"]
    nms = NmsSettings.from_json(model["nms"])
    return YoloFeed(
        input_size=(int(height), int(width)),
        yolo=YoloSettings.from_json(model["yolo"]),
        nms=nms,
        threshold=max(float(config["threshold"]), nms.score_threshold),
        limit=int(config["maxDetections"]),
    )


def tflite_box_units(config: dict) -> str:
    """The .tflite's box units: its own when they differ from the TF.js model's (Ultralytics'
    tflite export is normalised, its SavedModel in pixels)."""
    model = config["model"]
    return (model.get("litert") or {}).get("boxUnits") or model["yolo"]["boxUnits"]


def yolo_export(model: Path) -> bool:
    """Whether ``model`` is an Ultralytics detection export by its metadata.yaml (Ultralytics
    writes one with every export), known before the build: such a model's native TensorFlow
    run needs the built site's settings, so it is measured after the build."""
    from sitegen.model.families import yolo

    found = yolo.find_metadata(saved_model_dir(model), model)
    return found is not None and yolo.read_metadata(found) is not None


def letterboxed(frame: np.ndarray, feed: YoloFeed) -> np.ndarray:
    """[1, H, W, 3] float32: the RGB frame scaled to fit the input, centred on the pad grey, times
    the input scale, where Ultralytics' LetterBox places it (as the page's FrameInput draws it)."""
    from PIL import Image

    from sitegen.model.families import yolo

    height, width = feed.input_size
    place = yolo.letterbox(frame.shape[:2], feed.input_size)
    canvas = Image.new("RGB", (width, height), (feed.yolo.pad_value,) * 3)
    scaled = Image.fromarray(frame).resize((place.width, place.height), Image.BILINEAR)
    canvas.paste(scaled, (place.left, place.top))
    return (np.asarray(canvas, np.float32) * np.float32(feed.yolo.input_scale))[None]


def yolo_detections(
    predictions: np.ndarray, feed: YoloFeed, units: str, frame: np.ndarray
) -> list[dict]:
    """Ultralytics' predict post-processing of one [1, 4 + C, A] output (sitegen's reference, the
    one the page is verified against), with the page's score floor and limit."""
    from sitegen.model.families import yolo

    return yolo.reference_detections(
        predictions[0],
        units=units,
        input_size=feed.input_size,
        frame_size=frame.shape[:2],
        threshold=feed.threshold,
        limit=feed.limit,
        iou_threshold=feed.nms.iou_threshold,
        agnostic=feed.nms.class_agnostic,
    )


def measure_native_tf_yolo(
    saved_model: Path, feed: YoloFeed, frames: list[np.ndarray], skip: int, count: int
) -> Row:
    """The export's serving signature as its Python user calls it on a camera frame: letterboxed
    into the fixed input, / 255, the one output read back as numpy and post-processed as
    Ultralytics' predict does (the page runs the same NMS)."""
    row = Row("native TensorFlow", "native-tf")
    tf, function, load_started = load_serving(row, saved_model)
    ((key, _spec),) = function.structured_input_signature[1].items()
    output_key = only_output(function)

    def detect(frame: np.ndarray) -> list[dict]:
        outputs = function(**{key: tf.constant(letterboxed(frame, feed))})
        return yolo_detections(outputs[output_key].numpy(), feed, feed.yolo.box_units, frame)

    # As for the SSD: loading plus the first call (tracing), not counting `import tensorflow`.
    measure_native_run(row, detect, frames, load_started, skip=skip, count=count)
    height, width = feed.input_size
    row.note = (
        f"serving_default, {frames[0].shape[1]}x{frames[0].shape[0]} frames letterboxed to"
        f" {width}x{height}; {YOLO_NATIVE_WORK}"
    )
    return row


def only_output(function) -> str:
    """The signature's one output (an Ultralytics detection head has one)."""
    keys = list(function.structured_outputs)
    if len(keys) != 1:
        raise SystemExit(f"a YOLO export has one output; this serving signature has {keys}")
    return keys[0]


def native_tf_row(saved_model: Path, feed: YoloFeed | None, frames, args) -> Row:
    """native TensorFlow as the model's Python user runs it: an SSD's serving signature on whole
    frames, a YOLO export's on letterboxed ones followed by Ultralytics' NMS."""
    log("native TensorFlow ...")
    if feed is None:
        row = loaded(measure_native_tf, saved_model, frames, args.skip, args.frames)
    else:
        row = loaded(measure_native_tf_yolo, saved_model, feed, frames, args.skip, args.frames)
    log(f"  {describe(row)}")
    return row


# ---- the browser ----------------------------------------------------------------------------


@dataclass
class PageRun:
    """How one page is driven: where it is served, what it is asked for, how long to wait."""

    url: str  # with its query
    base_url: str  # the served folder's URL, to classify requests
    folder: Path  # the served folder, to read a body Chromium no longer has
    skip: int  # events not counted in the steady window
    frames: int  # events in the steady window
    timeout_s: float
    backend: str  # what the page must report in detail.backend
    cold_runs: int = 1  # cold loads in all; the row reports their median
    throttle: float | None = None  # CDP CPU throttling rate for the whole run (None: none)
    warm: bool = True  # also measure the warm load (a reload)
    probes: bool = False  # time the runtime and the page's steps in the page (page_probes)
    probe_runs: int = 20  # runs of each in-page timing
    profile_frames: int = 10  # frames under the sampling profiler (0: no profile)
    yolo: bool = False  # an Ultralytics YOLO site: the probes' SSD steps replay does not apply


def open_browser(playwright, browser_path: str, footage: Path):
    """A fresh browser per measured page: the GPU process's shader cache and the compiled-WASM
    cache are per browser, and a cold load must not inherit them from the previous page."""
    return page_client.launch(playwright, browser_path, camera=footage)


def wait_for_events(page, count: int, deadline: float) -> dict:
    """Waits until the page has ``count`` events, fails, or the deadline passes; its record."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    remaining_ms = max(1.0, (deadline - time.monotonic()) * 1000)
    with contextlib.suppress(PlaywrightTimeout):  # what arrived by then is the result
        page.wait_for_function(WAIT_JS, arg=count, timeout=remaining_ms, polling=250)
    return page.evaluate(READ_RECORD_JS)


def unavailable_reason(page, record: dict, wanted: str) -> str | None:
    """Why the page is not running ``wanted`` (None when it is)."""
    if record["error"] or record["state"] == "error":
        return record["error"] or "the page is in the error state"
    events = record["events"]
    if events and events[0]["backend"] != wanted:
        # The page says why in its warning line; not part of its contract, so only if present.
        warning = page.evaluate("() => document.querySelector('#warning')?.textContent ?? ''")
        why = f": {' '.join(warning.split())}" if warning.strip() else ""
        return f"the page ran {events[0]['backend']} instead{why}"
    return None


def measure_page(playwright, browser_path: str, footage: Path, run: PageRun, row: Row) -> Row:
    browser = open_browser(playwright, browser_path, footage)
    try:
        context = browser.new_context()
        context.add_init_script(RECORDER_JS)
        context.add_init_script(probes.INSTRUMENT_JS)
        # Responses per load: the handler appends to whichever list is current.
        cold_responses: list = []
        loads = {"current": cold_responses}
        context.on("response", lambda response: loads["current"].append(response))
        page = context.new_page()
        session = context.new_cdp_session(page)
        throttle(session, run.throttle)
        deadline = time.monotonic() + run.timeout_s
        # Return once the navigation commits: the time to the first event is measured in the page,
        # and Playwright's own 30 s load timeout must not cut a slow (software WebGL) load short.
        page.goto(run.url, wait_until="commit", timeout=run.timeout_s * 1000)
        throttle(session, run.throttle)  # again, in case the navigation changed renderer

        # Cold load: the first event (or the reason there is none).
        record = wait_for_events(page, 1, deadline)
        reason = unavailable_reason(page, record, run.backend)
        if reason is None and not record["events"]:
            reason = f"no detections event within {run.timeout_s:.0f} s"
        if reason is not None:
            row.status, row.note = "unavailable", reason
            return row
        row.cold_first_ms = record["events"][0]["at"]
        row.extra["frame_size"] = [record["events"][0]["width"], record["events"][0]["height"]]
        row.extra["cross_origin_isolated"] = record["isolated"]
        cold_timelines = [probes.cold_breakdown(page, run.base_url)]

        # Steady state: the events after the first `skip`; the main thread's busy time over them.
        meter = probes.MainThreadMeter(session, page)
        wait_for_events(page, run.skip, deadline)
        meter.start()
        threads = probes.ThreadClock()
        threads.start()
        record = wait_for_events(page, run.skip + run.frames, deadline)
        row.extra["threads"] = threads.stop()  # which Chromium threads carried the frames
        row.extra["main_thread"] = meter.stop()
        row.extra["workers"] = [worker.url.rsplit("/", 1)[-1] for worker in page.workers]
        steady = record["events"][run.skip : run.skip + run.frames]
        if len(steady) < run.frames:
            row.status = "partial"
            row.note = f"timed out after {len(record['events'])} frames"
        row.frame_ms = [event["inferenceMs"] for event in steady]
        # The engine's own run inside those same frames (LiteRT.js times it), and where a frame's
        # round trip to the detector worker went: what the page adds is measured on its frames.
        row.extra["engine_in_frame_ms"] = [
            e["engineMs"] for e in steady if e["engineMs"] is not None
        ]
        row.extra["round_trip"] = round_trip_medians(steady)
        if len(steady) >= 2:
            span_s = (steady[-1]["at"] - steady[0]["at"]) / 1000
            row.fps = (len(steady) - 1) / span_s if span_s > 0 else None
        row.heap = probes.heap_usage(context, page)
        row.extra["tfjs_memory"] = page.evaluate(READ_RECORD_JS)["memory"]
        row.bytes, row.extra["requests"] = probes.cold_bytes(
            cold_responses, run.base_url, run.folder
        )
        if run.probes and row.status == "ok":
            row.extra["probes"] = runtime_probe.probe_page(page, session, run, log)

        if run.warm:
            # Warm load: the same context (so its HTTP cache), reloaded.
            warm_responses: list = []
            loads["current"] = warm_responses
            deadline = time.monotonic() + run.timeout_s
            page.reload(wait_until="commit", timeout=run.timeout_s * 1000)
            record = wait_for_events(page, 1, deadline)
            if record["events"] and unavailable_reason(page, record, run.backend) is None:
                row.warm_first_ms = record["events"][0]["at"]
            row.extra["warm_load"] = probes.warm_transfer(warm_responses, run.base_url)
        context.close()
    finally:
        browser.close()
    # One cold load is one sample of a noisy number: repeat it, each in a fresh browser, and
    # report the median (every sample is kept in the JSON).
    samples = [row.cold_first_ms]
    for _ in range(run.cold_runs - 1):
        first_ms, timeline = cold_load(playwright, browser_path, footage, run)
        samples.append(first_ms)
        if timeline is not None:
            cold_timelines.append(timeline)
    samples = [ms for ms in samples if ms is not None]
    row.extra["cold_first_ms_samples"] = samples
    row.cold_first_ms = statistics.median(samples)
    row.extra["cold_timeline"] = {
        "median_ms": probes.median_milestones(cold_timelines),
        "samples": cold_timelines,
    }
    return row


def throttle(session, rate: float | None) -> None:
    if rate:
        session.send("Emulation.setCPUThrottlingRate", {"rate": rate})


def cold_load(playwright, browser_path: str, footage: Path, run: PageRun):
    """ms from navigation to the first detection in a fresh browser (empty caches), and the
    load's timeline (page_probes.cold_breakdown); (None, None) when it did not detect."""
    browser = open_browser(playwright, browser_path, footage)
    try:
        context = browser.new_context()
        context.add_init_script(RECORDER_JS)
        context.add_init_script(probes.INSTRUMENT_JS)
        page = context.new_page()
        session = context.new_cdp_session(page)
        throttle(session, run.throttle)
        deadline = time.monotonic() + run.timeout_s
        page.goto(run.url, wait_until="commit", timeout=run.timeout_s * 1000)
        throttle(session, run.throttle)
        record = wait_for_events(page, 1, deadline)
        if not record["events"] or unavailable_reason(page, record, run.backend) is not None:
            return None, None
        return record["events"][0]["at"], probes.cold_breakdown(page, run.base_url)
    finally:
        browser.close()


def measure_engine_threads(
    playwright,
    browser_path: str,
    footage: Path,
    site: Path,
    threads: list[int],
    runs: int,
    isolate: bool,
) -> dict:
    """LiteRT.js's bare run of the site's .tflite at each thread count, in the site page.

    The threaded build starts one worker per navigator.hardwareConcurrency when it loads and a
    model's XNNPACK pool keeps numThreads - 1 of them, so on this 2-core machine only 1 and 2
    threads fit beside the page's own model. Here CDP overrides hardwareConcurrency (before a
    reload) so the pool has a worker for every thread asked for; the page's own model then runs
    with min(cores, 4) threads but stays idle (no camera). CPU time per Chromium thread during
    each run comes from /proc (page_probes.ThreadClock)."""
    server, base_url = serve(site, isolate=isolate)
    pool = max(threads) + 3  # the page's own model keeps up to 3 workers
    browser = open_browser(playwright, browser_path, footage)
    try:
        context = browser.new_context()
        context.add_init_script(RECORDER_JS)
        page = context.new_page()
        session = context.new_cdp_session(page)
        page.goto(page_client.page_url(base_url, backend="litert-wasm"), wait_until="commit")
        session.send("Emulation.setHardwareConcurrencyOverride", {"hardwareConcurrency": pool})
        page.reload(wait_until="commit")
        page.wait_for_function(
            "() => window.sitegen && ['ready', 'error'].includes(window.sitegen.state)",
            timeout=300_000,
            polling=250,
        )
        state = page.evaluate("() => [window.sitegen.state, window.sitegen.backend]")
        if state != ["ready", "litert-wasm"]:
            return {"error": f"the page is {state[0]} on {state[1]}"}
        found = runtime_probe.thread_sweep(page, threads, runs, log)
        return {"pool": pool, **found}
    finally:
        browser.close()
        server.shutdown()
        server.server_close()


# ---- the two pages --------------------------------------------------------------------------


def build_site(model: Path, out: Path, postprocess: str, quantize: str = "none") -> dict:
    from sitegen.build import BuildOptions, build

    build(
        BuildOptions(model=model, out=out, postprocess=postprocess, quantize=quantize, verify=False)
    )
    return json.loads((out / "config.json").read_text(encoding="utf-8"))


def make_baseline(saved_model: Path, labels: dict, out: Path) -> Path:
    """The blog-style page: benchmarks/baseline/ + tf.min.js + the whole SavedModel converted
    by a plain tensorflowjs_converter run."""
    if not TFJS_BUNDLE.is_file():
        raise SystemExit(f"{TFJS_BUNDLE} is missing: run npm ci")
    out.mkdir(parents=True)
    for source in BASELINE_SOURCES.iterdir():
        shutil.copy2(source, out / source.name)
    (out / "vendor").mkdir()
    shutil.copy2(TFJS_BUNDLE, out / "vendor" / "tf.min.js")
    converter = Path(sys.executable).with_name("tensorflowjs_converter")
    command = [
        str(converter),
        "--input_format=tf_saved_model",
        "--signature_name=serving_default",
        str(saved_model),
        str(out / "model"),
    ]
    if not converter.is_file():
        raise SystemExit(f"{converter} is missing: pip install tensorflowjs==4.22.0")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"tensorflowjs_converter failed:\n{done.stderr[-3000:]}")
    settings = {"outputs": drawn_outputs(saved_model, out / "model" / "model.json")}
    settings["labels"] = labels
    (out / "baseline.json").write_text(json.dumps(settings, indent=1), encoding="utf-8")
    return out


def drawn_outputs(saved_model: Path, model_json: Path) -> dict[str, str]:
    """role -> the model.json signature key of the output the baseline draws boxes from.

    The converter keeps a signature name only where it is unambiguous and calls the rest
    Identity_N:0; the tutorial looked the positions up by hand. Here each output is found through
    the tensor it comes from: the serving function's output tensors, paired with the signature
    names by TensorFlow's flattening, are the tensors the converter froze."""
    import tensorflow as tf

    function = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
    by_name = tf.nest.pack_sequence_as(function.structured_outputs, function.outputs)
    signature = json.loads(model_json.read_text(encoding="utf-8"))["signature"]["outputs"]
    key_of_tensor = {entry["name"]: key for key, entry in signature.items()}
    wanted = {
        "boxes": "detection_boxes",
        "scores": "detection_scores",
        "classes": "detection_classes",
        "count": "num_detections",
    }
    found = {}
    for role, output in wanted.items():
        if output not in by_name:
            raise SystemExit(
                f"the baseline needs a {output} output; this model has {list(by_name)}"
            )
        found[role] = key_of_tensor[by_name[output].name]
    return found


def loaded(measure, *args) -> Row:
    """``measure(*args)``, its row noting how busy other processes kept the machine meanwhile."""
    load = probes.MachineLoad().start()
    row = measure(*args)
    row.extra["machine_load"] = load.stop()
    return row


def serve(folder: Path, isolate: bool):
    from sitegen.site.serve import serve_in_thread

    return serve_in_thread(folder, isolate=isolate)


def page_url(base_url: str, extra: page_client.PageQuery, backend: str) -> str:
    """The measured page's address: the camera started, ``backend`` forced, --page-query's rest."""
    query = dataclasses.replace(extra, autostart=True, backend=backend)
    return page_client.page_url(base_url, query)


def measure_site(
    args, playwright, browser_path: str, site: Path, footage: Path, yolo: bool = False
) -> list[Row]:
    server, base_url = serve(site, isolate=not args.no_isolation)
    rows = []
    try:
        for backend in args.backends:
            log(f"page, {backend} ...")
            run = PageRun(
                url=page_url(base_url, args.page_query, backend),
                base_url=base_url,
                folder=site,
                skip=args.skip,
                frames=args.frames,
                timeout_s=args.timeout,
                backend=backend,
                cold_runs=args.cold_runs,
                probes=not args.no_probes,
                probe_runs=args.probe_runs,
                profile_frames=args.profile_frames,
                yolo=yolo,
            )
            row = Row(f"page, {backend}", "page", backend=backend)
            rows.append(loaded(measure_page, playwright, browser_path, footage, run, row))
            log(f"  {describe(rows[-1])}")
        # The phone proxy: the first backend that ran, its main thread slowed down by CDP.
        ran = next((r for r in rows if r.status == "ok"), None)
        if args.throttle and ran is not None:
            log(f"page, {ran.backend}, CPU throttled {args.throttle:g}x ...")
            run = PageRun(
                url=page_url(base_url, args.page_query, ran.backend),
                base_url=base_url,
                folder=site,
                skip=args.skip,
                frames=max(2, args.frames // 2),
                timeout_s=args.timeout,
                backend=ran.backend,
                throttle=args.throttle,
                warm=False,
            )
            name = f"page, {ran.backend}, CPU {args.throttle:g}x slower"
            row = Row(name, "page-throttled", backend=ran.backend)
            row.extra["throttle"] = args.throttle
            rows.append(loaded(measure_page, playwright, browser_path, footage, run, row))
            log(f"  {describe(rows[-1])}")
    finally:
        server.shutdown()
        server.server_close()
    return rows


def measure_baseline(args, playwright, browser_path: str, folder: Path, footage: Path) -> Row:
    server, base_url = serve(folder, isolate=not args.no_isolation)
    try:
        log("baseline page ...")
        run = PageRun(
            url=base_url,
            base_url=base_url,
            folder=folder,
            skip=1,  # the first detection (shader compilation: the tutorial has no warm-up)
            frames=args.baseline_frames,
            timeout_s=args.baseline_timeout,
            backend=BASELINE_BACKEND,
            cold_runs=args.cold_runs,
        )
        row = Row("baseline (blog-style)", "baseline", backend=BASELINE_BACKEND)
        measure_page(playwright, browser_path, footage, run, row)
        log(f"  {describe(row)}")
    finally:
        server.shutdown()
        server.server_close()
    return row


# ---- report ---------------------------------------------------------------------------------


def ratios(rows: list[Row]) -> dict:
    """page / native TF and page / baseline, for the page's fastest backend (lowest median)."""
    pages = [r for r in rows if r.kind == "page" and r.median_ms is not None]
    if not pages:
        return {}
    fastest = min(pages, key=lambda r: r.median_ms)
    result: dict = {"page_backend": fastest.backend}
    for other in rows:
        if other.kind not in ("native-tf", "native-tflite", "baseline"):
            continue
        if other.median_ms is not None:
            result[f"per_frame_page_over_{other.kind}"] = fastest.median_ms / other.median_ms
        if other.cold_first_ms and fastest.cold_first_ms is not None:
            result[f"first_detection_page_over_{other.kind}"] = (
                fastest.cold_first_ms / other.cold_first_ms
            )
    return result


def engine_ratios(rows: list[Row]) -> dict:
    """The LiteRT.js page against native TFLite on the same .tflite, engine to engine: the page's
    frame and the bare run in the page over native invoke() at --tflite-threads."""
    page = next((r for r in rows if r.kind == "page" and r.backend == "litert-wasm"), None)
    native = next((r for r in rows if r.kind == "native-tflite"), None)
    if page is None or native is None or not native.extra.get("invoke_ms"):
        return {}
    invoke = probes.median(native.extra["invoke_ms"])
    result = {"native_tflite_invoke_ms": invoke, "native_tflite_threads": native.extra["threads"]}
    if page.median_ms is not None:
        result["litert_frame_over_native_tflite_invoke"] = page.median_ms / invoke
    bare = probes.median(((page.extra.get("probes") or {}).get("bare_run_ms")) or [])
    if bare is not None:
        result["litert_bare_run_over_native_tflite_invoke"] = bare / invoke
    return result


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


# ---- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="SavedModel, or OD API export folder")
    parser.add_argument("--frames", type=int, default=30, help="steady-state frames per row")
    parser.add_argument("--skip", type=int, default=5, help="first frames not counted (warm-up)")
    parser.add_argument(
        "--backends",
        default=DEFAULT_BACKENDS,
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        help=f"page backends, comma-separated (default {DEFAULT_BACKENDS})",
    )
    parser.add_argument(
        "--baseline-frames", type=int, default=3, help="baseline frames after its first detection"
    )
    parser.add_argument(
        "--cold-runs", type=int, default=3, help="cold loads per page (median reported)"
    )
    parser.add_argument(
        "--tflite-threads",
        type=int,
        default=2,
        help="native TFLite threads (2; on a busy 2-core machine 1 avoids stalls of its pool)",
    )
    parser.add_argument(
        "--postprocess",
        choices=("auto", "raw", "graph"),
        default="auto",
        help="sitegen build --postprocess for the page (graph: the model's own in-graph NMS)",
    )
    parser.add_argument(
        "--quantize",
        choices=("none", "float16", "uint8", "int8"),
        default="none",
        help="sitegen build --quantize for the page (int8: the full-integer .tflite, which native "
        "TFLite then runs too: the same file)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline page")
    parser.add_argument(
        "--throttle",
        type=float,
        default=4,
        help="extra run of the first page backend under CDP CPU throttling at this rate (0: none)",
    )
    parser.add_argument(
        "--no-probes",
        action="store_true",
        help="no in-page profile, bare runtime run or step timing (page_probes)",
    )
    parser.add_argument("--probe-runs", type=int, default=20, help="runs of each in-page timing")
    parser.add_argument(
        "--page-query",
        default="",
        type=page_client.parse_query,
        help="more query parameters for the site page, e.g. worker=off",
    )
    parser.add_argument(
        "--profile-frames",
        type=int,
        default=10,
        help="frames under the sampling profiler (0: none)",
    )
    parser.add_argument(
        "--engine-threads",
        default="1,2,3,4",
        type=lambda text: [int(n) for n in text.split(",") if n.strip()],
        help="thread counts for LiteRT.js's bare run and native TFLite's invoke ('' : none)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per page load + run")
    parser.add_argument("--baseline-timeout", type=float, default=900, help="same, baseline")
    parser.add_argument(
        "--no-isolation",
        action="store_true",
        help="serve without COOP/COEP (as GitHub Pages does): WASM single-threaded",
    )
    parser.add_argument("--footage", type=Path, help="a .y4m clip (default: generated scenes, 60)")
    parser.add_argument("--footage-frames", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0, help="footage seed")
    parser.add_argument("--browser", help="Chromium executable (default: found like sitegen)")
    parser.add_argument("--workdir", type=Path, help="keep the site, baseline and clip here")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.frames < 2 or args.baseline_frames < 1:
        parser.error("--frames must be at least 2 and --baseline-frames at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from sitegen.site.browser import find_browser

    browser_path = args.browser or find_browser()
    if browser_path is None:
        raise SystemExit("no Chromium found: apt-get install chromium")
    saved_model = saved_model_dir(args.model)
    is_yolo = yolo_export(args.model)
    postprocess = args.postprocess
    if is_yolo and postprocess != "auto":
        log(f"--postprocess {postprocess} ignored: it chooses an SSD's cut; {YOLO_ALWAYS_RAW}")
        postprocess = "auto"

    with tempfile.TemporaryDirectory(prefix="site-benchmark-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for stale in ("site", "baseline"):
            shutil.rmtree(workdir / stale, ignore_errors=True)
        footage = args.footage or make_footage(
            workdir / "footage.y4m", args.footage_frames, args.seed
        )
        frames = footage_frames(footage)
        camera_fps = footage_fps(footage)
        log(f"footage: {footage} ({len(frames)} frames, {frames[0].shape[1]}x{frames[0].shape[0]})")

        run_load = probes.MachineLoad().start()
        rows = []
        if not is_yolo:
            rows.append(native_tf_row(saved_model, None, frames, args))

        log("building the site ...")
        site = workdir / "site"
        config = build_site(args.model, site, postprocess, args.quantize)
        feed = yolo_feed(config)
        if feed is not None:
            # After the build: the letterbox, box units and NMS are the built page's own.
            rows = [native_tf_row(saved_model, feed, frames, args)]

        log("native TFLite ...")
        rows.append(
            loaded(
                measure_native_tflite,
                site,
                config,
                frames,
                args.skip,
                args.frames,
                args.tflite_threads,
            )
        )
        log(f"  {describe(rows[-1])}")

        engine: dict = {}
        if litert_parts(config) and args.engine_threads:
            engine["native_tflite"] = []
            for count in args.engine_threads:
                load = probes.MachineLoad().start()
                # 10 frames: with more threads than cores a call can take most of a second.
                frames_n = min(args.frames, 10)
                sweep = measure_native_tflite(site, config, frames, args.skip, frames_n, count)
                engine["native_tflite"].append(
                    {
                        "threads": count,
                        "invoke_ms": probes.median(sweep.extra["invoke_ms"]),
                        "frame_ms": sweep.median_ms,
                        "machine_load": load.stop(),
                    }
                )
                log(
                    f"  {count} thread(s): invoke {fmt(engine['native_tflite'][-1]['invoke_ms'])} ms"
                )

        baseline = None
        if not args.no_baseline and feed is not None:
            log(f"baseline page skipped: {YOLO_NO_BASELINE}")
        elif not args.no_baseline:
            log("converting the whole SavedModel for the baseline (tensorflowjs_converter) ...")
            baseline = make_baseline(saved_model, config.get("labels") or {}, workdir / "baseline")

        with page_client.playwright_started() as playwright:
            probe = page_client.launch(playwright, browser_path, camera=page_client.NO_CAMERA)
            browser_version = probe.version
            probe.close()
            rows += measure_site(args, playwright, browser_path, site, footage, feed is not None)
            if litert_parts(config) and args.engine_threads and "litert-wasm" in args.backends:
                log("LiteRT.js threads (bare run in the site page) ...")
                engine["litert"] = measure_engine_threads(
                    playwright,
                    browser_path,
                    footage,
                    site,
                    args.engine_threads,
                    args.probe_runs,
                    isolate=not args.no_isolation,
                )
            if baseline is not None:
                rows.append(measure_baseline(args, playwright, browser_path, baseline, footage))

    machine_load = run_load.stop()
    result = ratios(rows)
    result.update(engine_ratios(rows))
    isolation = "no COOP/COEP" if args.no_isolation else "COOP/COEP (cross-origin isolated)"
    print(
        f"model: {args.model}   page: {config['model'].get('postprocess')} post-processing,"
        f" {isolation}   camera: {len(frames)}-frame clip, {camera_fps} fps"
    )
    print_report(rows, result, engine, camera_fps, machine_load)
    if args.json:
        report = {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "model": str(args.model),
            "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
            "machine": {**machine(), "chromium": browser_version},
            "options": {
                "frames": args.frames,
                "skip": args.skip,
                "backends": args.backends,
                "baseline_frames": args.baseline_frames,
                "isolation": not args.no_isolation,
                "postprocess": config["model"].get("postprocess"),
                "footage_frames": len(frames),
                "camera_fps": camera_fps,
                "throttle": args.throttle,
                "probe_runs": args.probe_runs,
                "profile_frames": args.profile_frames,
                "engine_threads": args.engine_threads,
                "page_query": args.page_query.encoded(),
            },
            "rows": [row.to_json() for row in rows],
            "ratios": result,
            "engine": engine,
            "machine_load": machine_load,
        }
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
        log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
