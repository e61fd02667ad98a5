"""The tables site_benchmark.py prints: the main table, the ratios, and the sections from the
in-page probes (page_probes.py): the page's anatomy per frame, the steps of one frame, the
sampled profile, the cold-load timeline and the engine's threads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchmarks.page_probes import median
from benchmarks.runtime_probe import SPACED_GAP_MS

if TYPE_CHECKING:
    from benchmarks.site_benchmark import Row


def describe(row: Row) -> str:
    if row.status in ("unavailable", "absent"):
        return f"{row.status}: {row.note}"
    median = f"{row.median_ms:.1f}" if row.median_ms is not None else "-"
    return f"{row.status}, median {median} ms over {len(row.frame_ms)} frames {row.note}".strip()


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def fmt_bytes(entry: dict | None) -> str:
    if not entry or not entry["files"]:
        return "-"
    return f"{entry['gzip'] / 1024:.0f}K ({entry['raw'] / 1024:.0f}K)"


def table(rows: list[Row]) -> str:
    header = (
        "what",
        "median ms",
        "p95 ms",
        "FPS",
        "n",
        "cold 1st ms",
        "warm 1st ms",
        "runtime gz (raw)",
        "model gz (raw)",
        "rest gz (raw)",
        "heap MB",
        "buffers MB",
        "main ms",
    )
    lines = [header]
    for row in rows:
        if row.status in ("unavailable", "absent"):
            lines.append((row.name, f"{row.status}: {row.note}"))
            continue
        bytes_ = row.bytes or {}
        lines.append(
            (
                row.name + (" (partial)" if row.status == "partial" else ""),
                fmt(row.median_ms),
                fmt(row.p95_ms),
                fmt(row.fps),
                str(len(row.frame_ms)),
                fmt(row.cold_first_ms, 0),
                fmt(row.warm_first_ms, 0),
                fmt_bytes(bytes_.get("runtime")),
                fmt_bytes(bytes_.get("model")),
                fmt_bytes(bytes_.get("rest")),
                fmt(row.heap["used_mb"]) if row.heap else "-",
                fmt(row.heap.get("array_buffers_mb")) if row.heap else "-",
                fmt((row.extra.get("main_thread") or {}).get("task_duration_per_frame_ms")),
            )
        )
    widths = [
        max(len(line[i]) for line in lines if len(line) == len(header) or i == 0)
        for i in range(len(header))
    ]
    text = []
    for line in lines:
        if len(line) == len(header):
            cells = [line[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
            text.append("  ".join(cells))
        else:
            text.append(f"{line[0].ljust(widths[0])}  {line[1]}")
    return "\n".join(text)


def ratio_lines(result: dict) -> list[str]:
    if not result:
        return ["ratios: no page backend produced frames"]
    names = {"native-tf": "native TF", "native-tflite": "native TFLite", "baseline": "baseline"}
    lines = [f"ratios for the page's fastest backend ({result['page_backend']}):"]
    for kind, name in names.items():
        per_frame = result.get(f"per_frame_page_over_{kind}")
        first = result.get(f"first_detection_page_over_{kind}")
        if per_frame is None and first is None:
            lines.append(f"  page / {name}: not measured")
            continue
        lines.append(
            f"  page / {name}: per frame {fmt(per_frame, 2)}x, to first detection {fmt(first, 2)}x"
        )
    if "native_tflite_invoke_ms" in result:
        lines.append(
            f"  litert-wasm / native TFLite invoke() ({result['native_tflite_threads']} threads,"
            f" {fmt(result['native_tflite_invoke_ms'])} ms): page frame"
            f" {fmt(result.get('litert_frame_over_native_tflite_invoke'), 2)}x, bare run"
            f" {fmt(result.get('litert_bare_run_over_native_tflite_invoke'), 2)}x"
        )
    return lines


def anatomy_lines(rows: list[Row]) -> list[str]:
    """Per page row: its frame (event), the engine's run inside those frames, the page's detector
    and its own engine timed back to back, the bare run of a second runtime in the same page
    (camera playing / paused), the overheads (frame minus each), the worker round trip's parts,
    and the main thread's busy time per frame."""
    header = ("what", "frame", "engine in frame", "detector", "page's engine", "bare run")
    header += ("overhead", "main busy", "main CPU", "script", "long tasks", "FPS")
    lines = [header]
    for row in rows:
        if row.kind not in ("page", "page-throttled") or row.status in ("unavailable", "absent"):
            continue
        found = row.extra.get("probes") or {}
        main = row.extra.get("main_thread") or {}
        bases = (
            median(found.get("page_engine_playing_ms") or []),
            median(found.get("bare_run_playing_ms") or []),
            median(row.extra.get("engine_in_frame_ms") or []),
        )
        overheads = [
            None if base is None or row.median_ms is None else row.median_ms - base
            for base in bases
        ]
        long_tasks = main.get("long_tasks_per_frame")
        lines.append(
            (
                row.name,
                fmt(row.median_ms),
                fmt(bases[2]),
                pair(found.get("page_detector_playing_ms"), found.get("page_detector_ms")),
                pair(found.get("page_engine_playing_ms"), found.get("page_engine_ms")),
                pair(found.get("bare_run_playing_ms"), found.get("bare_run_ms")),
                " / ".join(fmt(value) for value in overheads),
                fmt(main.get("task_duration_per_frame_ms")),
                fmt(main.get("thread_time_per_frame_ms")),
                fmt(main.get("script_duration_per_frame_ms")),
                "-" if long_tasks is None else f"{long_tasks:.2f}/frame",
                fmt(main.get("fps")),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["page, ms per frame (medians):"]
    for line in lines:
        cells = [line[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
        text.append("  " + "  ".join(cells))
    for row in rows:
        trip = row.extra.get("round_trip") or {}
        if trip and row.kind in ("page", "page-throttled"):
            text.append(
                f"  {row.name}, the worker round trip (medians): to the worker"
                f" {fmt(trip.get('toWorkerMs'))}, in the worker {fmt(trip.get('workerMs'))}"
                f" (run {fmt(trip.get('runMs'))}), back {fmt(trip.get('backMs'))}"
            )
    text.append(ANATOMY_LEGEND)
    return text


ANATOMY_LEGEND = """\
  frame: the event's inferenceMs (draw + detectPixels); engine in frame: the event's engineMs,
  the runtime's run inside those frames; detector: window.sitegen.timeDetector (no draw, NMS
  without the score floor); page's engine: window.sitegen.timeEngine, the page's own engine run
  alone, back to back on the frame (in the worker where the page runs it there); bare run: the
  runtime's run on a prepared input, same page, same threads (with the worker: a second runtime
  on the main thread); all as camera playing / paused; overhead: frame - page's engine / frame -
  bare run / frame - engine in frame (all playing); main busy / main CPU / script: CDP
  TaskDuration (wall time in tasks) / ThreadTime (CPU) / ScriptDuration per frame over the
  steady window; long tasks: PerformanceObserver 'longtask' (> 50 ms)."""


def pair(playing: list | None, paused: list | None) -> str:
    if not playing and not paused:
        return "-"
    return f"{fmt(median(playing or []))} / {fmt(median(paused or []))}"


STEP_NAMES = {
    "draw": "draw",
    "getImageData": "getImageData",
    "rgb": "RGBA->RGB",
    "fromPixels": "fromPixels",
    "tensor": "input tensor",
    "run": "run",
    "readback": "read-back",
    "nms": "decode+NMS",
    "free": "free",
}


def step_lines(rows: list[Row]) -> list[str]:
    text = []
    for row in rows:
        found = row.extra.get("probes") or {}
        loop = found.get("loop")
        if loop and loop.get("frames"):
            text.append(
                f"{row.name}, the camera loop timed through the page's own methods"
                f" (median of {loop['frames']} frames, ms):"
            )
            if "workerCall" in loop:
                inside = (
                    f"getImageData {fmt(loop.get('input'), 2)}, round trip to the detector worker"
                    f" {fmt(loop.get('workerCall'), 2)}"
                )
            else:
                inside = (
                    f"input {fmt(loop.get('input'), 2)}, run {fmt(loop.get('run'), 2)}, tensor +"
                    f" read-back + NMS + free {fmt(loop.get('around_run'), 2)}"
                )
            text.append(
                f"  processFrame {fmt(loop.get('processFrame'), 2)} = draw {fmt(loop.get('draw'), 2)}"
                f" + detectPixels {fmt(loop.get('detectPixels'), 2)} ({inside}) + publish"
                f" {fmt(loop.get('publish'), 2)} (overlay {fmt(loop.get('overlay'), 2)}); frame"
                f" period {fmt(loop.get('frame_period'), 1)}"
            )
        threads = row.extra.get("threads")
        if threads and row.kind in ("page", "page-throttled"):
            busiest = ", ".join(
                f"{t['process']} {t['thread']} {t['cores']:.2f}" for t in threads["threads"][:5]
            )
            where = ", ".join(row.extra.get("workers") or []) or "none"
            text.append(
                f"{row.name}, cores per Chromium thread over the steady window: {busiest}"
                f" (page workers: {where})"
            )
        idle = found.get("page_engine_idle_ms") or {}
        if idle:
            gaps = ", ".join(
                f"{gap} ms idle before each {fmt(median(t))}" for gap, t in idle.items()
            )
            text.append(
                f"{row.name}, its own engine, camera paused: back to back"
                f" {fmt(median(found.get('page_engine_ms') or []))}, {gaps}"
            )
        steps = found.get("steps")
        if not steps:
            continue
        text.append(
            f"{row.name}, one frame replayed step by step (median of {found['steps_runs']}, ms):"
        )
        for label, values in (("paused", steps), ("playing", found.get("steps_playing"))):
            if not values:
                continue
            parts = [
                f"{name} {fmt(values[key], 2)}" for key, name in STEP_NAMES.items() if key in values
            ]
            text.append(f"  {label}: " + " | ".join(parts) + f" | sum {fmt(values['total'], 2)}")
        if "readbackOneCopy" in steps:
            text.append(
                f"  read-back with one copy instead of two {fmt(steps['readbackOneCopy'], 2)};"
                f" NMS without the score floor {fmt(steps['nmsNoFloor'], 2)}"
                f" ({steps['candidatesNoFloor']:.0f} candidates, {steps['outputValues']:.0f} values read back)"
            )
        spaced = median(found.get("bare_run_spaced_ms") or [])
        if spaced is not None:
            text.append(
                f"  bare run, camera playing: back to back"
                f" {fmt(median(found.get('bare_run_playing_ms') or []))}, {SPACED_GAP_MS} ms idle before each"
                f" {fmt(spaced)}"
            )
        cpu = found.get("bare_run_cpu")
        if cpu:
            text.append(
                f"  during the bare run (paused): renderer main thread"
                f" {fmt(cpu['renderer_main_cores'], 2)} cores, its workers"
                f" {fmt(cpu['renderer_workers_cores'], 2)} ({cpu['renderer_workers_active']} active),"
                f" all Chromium {fmt(cpu['all_chromium_cores'], 2)}"
            )
        profile = found.get("profile")
        if profile:
            text.append(
                f"  sampled main thread, ms per frame over {profile['frames']} frames"
                f" (busy {fmt(profile['busy_per_frame_ms'])} of"
                f" {fmt(profile.get('wall_per_frame_ms'))} wall, profiler running):"
            )
            shown = [(s, ms) for s, ms in profile["steps_per_frame_ms"].items() if s != "(idle)"]
            text += [f"    {ms:6.2f}  {step}" for step, ms in shown if ms >= 0.05]
    return text


COLD_SHOWN = (
    "html",
    "page modules",
    "config.json",
    "runtime script",
    "runtime wasm downloaded",
    "wasm compiled",
    "wasm instantiated",
    "workers created",
    "model downloaded",
    "sitegen:ready",
    "camera playing",
    "first detection",
)


def cold_lines(rows: list[Row]) -> list[str]:
    text = []
    for row in rows:
        timeline = row.extra.get("cold_timeline")
        if row.kind != "page" or not timeline:
            continue
        marks = timeline["median_ms"]
        count = len(timeline["samples"])
        parts = [
            f"{name} {fmt(marks.get(name), 0)}"
            for name in COLD_SHOWN
            if marks.get(name) is not None
        ]
        text.append(f"{row.name}, cold load, ms since navigation (median of {count}):")
        text.append("  " + " | ".join(parts))
    return text


def engine_lines(engine: dict) -> list[str]:
    if not engine:
        return []
    text = ["engine threads, the site's .tflite, ms per run (median):"]
    litert = engine.get("litert") or {}
    if litert.get("error"):
        text.append(f"  LiteRT.js: {litert['error']}")
    for result in litert.get("results", []):
        cpu = result.get("cpu") or {}
        passes = " / ".join(fmt(ms) for ms in result.get("pass_medians_ms", []))
        others = " / ".join(fmt(c, 2) for c in result.get("other_cores", []))
        text.append(
            f"  LiteRT.js bare run, numThreads {result['numThreads']}: {fmt(result['median_ms'])}"
            f" (passes {passes}; other processes {others} cores)   renderer main thread"
            f" {fmt(cpu.get('renderer_main_cores'), 2)} cores, workers"
            f" {fmt(cpu.get('renderer_workers_cores'), 2)} ({cpu.get('renderer_workers_active', '-')}"
            " active)"
        )
    for result in engine.get("native_tflite", []):
        text.append(
            f"  native TFLite invoke, num_threads {result['threads']}: {fmt(result['invoke_ms'])}"
            f"   (with the resize: {fmt(result['frame_ms'])}; other processes"
            f" {fmt((result.get('machine_load') or {}).get('other_cores'), 2)} cores)"
        )
    return text


def load_lines(rows: list[Row], machine_load: dict | None) -> list[str]:
    """How many cores other processes used while each row was measured (see MachineLoad)."""
    if not machine_load:
        return []
    parts = []
    for row in rows:
        load = row.extra.get("machine_load")
        if load:
            parts.append(f"{row.name} {load['other_cores']:.2f}")
    return [
        f"other processes' CPU use, cores of {machine_load['cpus']} (whole run"
        f" {machine_load['other_cores']:.2f}):",
        "  " + " | ".join(parts),
    ]


def print_report(
    rows: list[Row],
    result: dict,
    engine: dict,
    camera_fps: int | None,
    machine_load: dict | None = None,
) -> None:
    """The main table and its legend, the ratios, then the sections of the in-page probes."""
    print(table(rows))
    print(
        "median/p95: ms per frame after the first --skip frames (page: the event's inferenceMs);"
        "\nFPS: frames per second over those frames (a page cannot beat the camera's"
        f" {camera_fps} fps);\ncold/warm 1st: ms from navigation to the first detection (native:"
        " load + first call, no import);\nbytes: KiB of what the cold load requested, gzip level 6"
        " (raw); heap: V8 heap used after GC;\nbuffers: ArrayBuffer backing stores (WASM memory,"
        " tensor data); main ms: the page's main thread busy per frame (CDP TaskDuration)."
    )
    print()
    print("\n".join(ratio_lines(result)))
    sections = [anatomy_lines(rows), step_lines(rows), cold_lines(rows), engine_lines(engine)]
    sections.append(load_lines(rows, machine_load))
    for section in sections:
        if section:
            print()
            print("\n".join(section))
