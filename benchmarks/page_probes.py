"""In-page measurements for site_benchmark.py (issue 16): what the page does around the runtime.

Everything here drives the served site page from outside, through Playwright and CDP, and runs
the page's own modules (``js/litert.js``, ``js/model.js``, ``js/frame.js``, ``js/postprocess.js``)
from page JS evaluated by the benchmark; no product code is changed for it.

- ``INSTRUMENT_JS``: installed before the page's scripts: long tasks (PerformanceObserver), the
  ``sitegen:ready`` time, the first ``playing`` of a media element, and when each
  ``WebAssembly.compile*``/``instantiate*`` call settled (for the cold-start breakdown);
- ``MainThreadMeter``: CDP ``Performance.getMetrics`` deltas (TaskDuration, ScriptDuration, ...)
  over a window of frames, divided by the frames processed, with the long tasks in that window;
- ``profile_frames``: the CDP sampling profiler over some frames, aggregated into the page's
  steps (frame draw, getImageData, runtime, read-back, NMS, overlay, ...);
- ``RuntimeProbe``: the runtime the page uses, called directly in the page: the bare run on a
  prepared input tensor, and the page's per-frame steps replayed one by one with a timer each;
- ``ThreadClock``: CPU time of each Chromium thread (``/proc/PID/task/TID/schedstat``), to see
  how many cores a run keeps busy;
- ``cold_breakdown``: resource timing and the marks above, as milestones of a cold load.
"""

from __future__ import annotations

import gzip
import os
import re
import statistics
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote, urlsplit

# ---- instrumentation installed before the page's own scripts --------------------------------

INSTRUMENT_JS = """
(() => {
  const probe = { marks: [], longTasks: [], ready: null, playing: null };
  window.__benchmarkProbe = probe;
  addEventListener('sitegen:ready', () => { probe.ready ??= performance.now(); });
  // Media events do not bubble, but a capturing listener on the document sees them.
  document.addEventListener('playing', () => { probe.playing ??= performance.now(); }, true);
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        probe.longTasks.push({ start: entry.startTime, duration: entry.duration });
      }
    }).observe({ type: 'longtask', buffered: true });
  } catch {}
  // When the runtime starts its workers (LiteRT.js's pthread pool, TF.js's WASM threads).
  const NativeWorker = globalThis.Worker;
  if (typeof NativeWorker === 'function') {
    globalThis.Worker = class extends NativeWorker {
      constructor(...args) {
        super(...args);
        const at = performance.now();
        probe.marks.push({ what: 'worker', started: at, ended: at });
      }
    };
  }
  const wasm = globalThis.WebAssembly;
  for (const name of ['compile', 'compileStreaming', 'instantiate', 'instantiateStreaming']) {
    const original = wasm && wasm[name];
    if (typeof original !== 'function') continue;
    wasm[name] = function (...args) {
      const started = performance.now();
      const result = original.apply(this, args);
      Promise.resolve(result).then(
        () => probe.marks.push({ what: name, started, ended: performance.now() }),
        () => {},
      );
      return result;
    };
  }
})();
"""

# ms since navigation, and the number of detection events so far.
PAGE_CLOCK_JS = (
    "() => [performance.now(), window.__benchmark ? window.__benchmark.events.length : 0]"
)


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---- main-thread busy time ------------------------------------------------------------------

METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "ThreadTime")


class MainThreadMeter:
    """CDP Performance metrics of the page's main thread between ``start()`` and ``stop()``,
    per frame processed (detection events) in that window."""

    def __init__(self, session, page):
        self.session = session
        self.page = page
        session.send("Performance.enable")
        self.begin = None

    def _snapshot(self) -> dict:
        metrics = {
            m["name"]: m["value"] for m in self.session.send("Performance.getMetrics")["metrics"]
        }
        at, events = self.page.evaluate(PAGE_CLOCK_JS)
        return {"metrics": metrics, "at": at, "events": events}

    def start(self) -> None:
        self.begin = self._snapshot()

    def stop(self) -> dict | None:
        end = self._snapshot()
        begin = self.begin
        frames = end["events"] - begin["events"]
        wall_ms = end["at"] - begin["at"]
        if frames <= 0 or wall_ms <= 0:
            return None
        result = {"frames": frames, "wall_ms": wall_ms, "fps": frames * 1000 / wall_ms}
        for name in METRICS:
            if name in end["metrics"] and name in begin["metrics"]:
                delta_ms = (end["metrics"][name] - begin["metrics"][name]) * 1000
                result[f"{snake(name)}_per_frame_ms"] = delta_ms / frames
        if "task_duration_per_frame_ms" in result:
            result["busy_fraction"] = result["task_duration_per_frame_ms"] * frames / wall_ms
        tasks = self.page.evaluate(
            "([a, b]) => (window.__benchmarkProbe?.longTasks ?? [])"
            ".filter((t) => t.start >= a && t.start < b)",
            [begin["at"], end["at"]],
        )
        result["long_tasks"] = len(tasks)
        result["long_tasks_per_frame"] = len(tasks) / frames
        result["long_task_ms_per_frame"] = sum(t["duration"] for t in tasks) / frames
        return result


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


# ---- the sampling profiler ------------------------------------------------------------------

# Page functions -> the step of processFrame/publish they are (by file; some by function).
FILE_STEPS = {
    "frame.js": "frame draw (drawImage)",
    "postprocess.js": "decode + NMS (postprocess.js)",
    "renderer.js": "overlay drawing (renderer.js)",
    "ui.js": "detection list + readouts (ui.js)",
}
FUNCTION_STEPS = {
    "readOutput": "output read-back",
    "selectDetections": "publish: select + event",
    "makeLabelLookup": "publish: select + event",
    "publish": "publish: select + event",
    "select": "publish: select + event",
}
IDLE = "(idle)"


def wait_for_event_count(page, count: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen = page.evaluate(PAGE_CLOCK_JS)[1]
        if seen >= count:
            return seen
        time.sleep(0.05)
    return page.evaluate(PAGE_CLOCK_JS)[1]


def profile_frames(session, page, frames: int, site_url: str, timeout_s: float = 120) -> dict:
    """Samples the main thread (every 250 us) while the page processes ``frames`` more frames;
    ms per frame by step and the top functions by self time."""
    session.send("Profiler.enable")
    session.send("Profiler.setSamplingInterval", {"interval": 250})
    started, first = page.evaluate(PAGE_CLOCK_JS)
    session.send("Profiler.start")
    seen = wait_for_event_count(page, first + frames, timeout_s)
    profile = session.send("Profiler.stop")["profile"]
    ended = page.evaluate(PAGE_CLOCK_JS)[0]
    session.send("Profiler.disable")
    summary = aggregate_profile(profile, site_url)
    counted = max(1, seen - first)
    summary["frames"] = seen - first
    # The profiler slows the page down: the wall time per frame while it sampled.
    summary["wall_per_frame_ms"] = (ended - started) / counted
    summary["steps_per_frame_ms"] = {
        step: ms / counted
        for step, ms in sorted(summary.pop("steps_ms").items(), key=lambda x: -x[1])
    }
    callers = summary.pop("top_callers")
    summary["top_self_per_frame_ms"] = [
        {"function": name, "ms": ms / counted, "caller": callers.get(name)}
        for name, ms in summary.pop("top_self_ms")
    ]
    summary["sampled_per_frame_ms"] = summary.pop("sampled_ms") / counted
    summary["busy_per_frame_ms"] = summary.pop("busy_ms") / counted
    return summary


def aggregate_profile(profile: dict, site_url: str) -> dict:
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {}
    for node in profile["nodes"]:
        for child in node.get("children", []):
            parent[child] = node["id"]
    js_prefix = site_url.rstrip("/") + "/js/"
    stacks: dict[int, list[dict]] = {}

    def stack_of(node_id: int) -> list[dict]:
        if node_id not in stacks:
            frames, current = [], node_id
            while current is not None:
                frames.append(nodes[current]["callFrame"])
                current = parent.get(current)
            stacks[node_id] = frames
        return stacks[node_id]

    samples, deltas = profile.get("samples", []), profile.get("timeDeltas", [])
    steps: dict[str, float] = defaultdict(float)
    self_time: dict[str, float] = defaultdict(float)
    callers: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    sampled = 0.0
    for index, node_id in enumerate(samples):
        # timeDeltas[i] is the time from sample i-1 to sample i: sample i lasts until i+1.
        duration_ms = (deltas[index + 1] if index + 1 < len(deltas) else 0) / 1000
        sampled += duration_ms
        stack = stack_of(node_id)
        step = step_of(stack, js_prefix)
        steps[step] += duration_ms
        if step != IDLE:
            leaf = describe_frame(stack[0], js_prefix)
            self_time[leaf] += duration_ms
            caller = describe_frame(stack[1], js_prefix) if len(stack) > 1 else "-"
            callers[leaf][caller] += duration_ms
    top = sorted(self_time.items(), key=lambda x: -x[1])[:15]
    return {
        "steps_ms": dict(steps),
        "top_self_ms": top,
        "top_callers": {leaf: max(callers[leaf].items(), key=lambda x: x[1])[0] for leaf, _ in top},
        "sampled_ms": sampled,
        "busy_ms": sampled - steps.get(IDLE, 0.0),
    }


def describe_frame(frame: dict, js_prefix: str) -> str:
    url = frame.get("url", "")
    name = frame.get("functionName") or "(anonymous)"
    if not url:
        return name
    if url.startswith("wasm://") or url.endswith(".wasm"):
        return f"{name} [wasm]"
    short = url[len(js_prefix) :] if url.startswith(js_prefix) else url.rsplit("/", 1)[-1]
    if url.startswith("blob:"):
        short = "runtime loader (blob:)"
    return f"{name} ({short.split('#')[0]}:{frame.get('lineNumber', 0) + 1})"


def leaf_kind(frame: dict) -> str:
    url, name = frame.get("url", ""), frame.get("functionName", "")
    if url.startswith("wasm://") or url.endswith(".wasm"):
        return "wasm"
    if url.startswith("blob:") or "/vendor/" in url:
        return "runtime JS"
    if not url:
        return f"native {name}" if name else "native"
    return "page JS"


def step_of(stack: list[dict], js_prefix: str) -> str:
    """The step a sample belongs to: the runtime's WebAssembly and JS wherever they are called
    from, else the innermost page function on the stack (by file, some by name)."""
    leaf = stack[0]
    name = leaf.get("functionName", "")
    if name in ("(idle)", "(root)"):
        return IDLE
    if name == "(program)":
        return "browser, outside JS (rendering, media, tasks)"
    if name == "(garbage collector)":
        return "garbage collection"
    kind = leaf_kind(leaf)
    if kind == "wasm":
        return "runtime: WebAssembly (the run)"
    owner_index = next(
        (i for i, f in enumerate(stack) if f.get("url", "").startswith(js_prefix)), None
    )
    owner = stack[owner_index] if owner_index is not None else None
    # Runtime JS between the leaf and the page (a native call made by the runtime's glue, such
    # as the main thread's performance.now() spin while it waits for its workers).
    inner = stack[: owner_index if owner_index is not None else len(stack)]
    if any(leaf_kind(f) == "runtime JS" for f in inner):
        return "runtime: JS glue" if owner else "runtime: JS glue, outside page calls"
    if owner is None:
        return f"other ({describe_frame(leaf, js_prefix)})"
    file = owner["url"][len(js_prefix) :].split("?")[0]
    function = owner.get("functionName", "")
    if function in FUNCTION_STEPS:
        return FUNCTION_STEPS[function]
    if file in FILE_STEPS and not (file == "postprocess.js" and function in FUNCTION_STEPS):
        return FILE_STEPS[file]
    if function == "detectPixels":
        if kind == "native getImageData":
            return "getImageData"
        if kind == "page JS":
            return "input copy (RGBA -> RGB)"
        return f"input ({kind})"
    return f"other page JS ({file})"


# ---- the camera loop, timed through the page's own classes ---------------------------------

# Wraps methods of the page's classes (their prototypes are shared with the page's instances; no
# file changes) with a timer while the camera runs, for `frames` frames, then puts them back.
# LiteRT.js's run is timed on the page's compiled model itself, patched at its first detect.
LOOP_TIMING_JS = r"""
async ({ frames, timeoutMs }) => {
  const app = document.querySelector('script[type="module"][src]');
  const base = app ? app.src : new URL('js/app.js', document.baseURI).href;
  const names = ['frame.js', 'session.js', 'renderer.js', 'litert.js', 'model.js', 'remote.js'];
  const [frame, session, renderer, litert, model, remote] = await Promise.all(
    names.map((name) => import(new URL(name, base).href).catch(() => ({}))));
  const now = () => performance.now();
  const times = {};
  const restore = [];
  const wrap = (target, name, key, before) => {
    const original = target?.[name];
    if (typeof original !== 'function') return;
    const own = Object.prototype.hasOwnProperty.call(target, name);
    target[name] = function (...args) {
      before?.(this);
      const started = now();
      const done = () => (times[key] ??= []).push(now() - started);
      const result = original.apply(this, args);
      if (result && typeof result.then === 'function') return result.finally(done);
      done();
      return result;
    };
    restore.push(() => { if (own) target[name] = original; else delete target[name]; });
  };
  const timedModels = new Set();
  const timeRun = (detector) => {
    if (!detector.compiled || timedModels.has(detector.compiled)) return;
    timedModels.add(detector.compiled);
    wrap(detector.compiled, 'run', 'run');
  };
  wrap(session.DetectorSession?.prototype, 'processFrame', 'processFrame');
  wrap(session.DetectorSession?.prototype, 'publish', 'publish');
  wrap(frame.FrameInput?.prototype, 'draw', 'draw');
  wrap(renderer.Overlay?.prototype, 'show', 'overlay');
  for (const Detector of [litert.LiteRtDetector, model.Detector]) {
    wrap(Detector?.prototype, 'detectPixels', 'detectPixels');
    wrap(Detector?.prototype, 'detect', 'detect', timeRun);
  }
  wrap(model.Detector?.prototype, 'execute', 'run'); // TF.js: WASM kernels run synchronously
  // LiteRT.js in the detector worker (remote.js): the page posts the pixels and awaits the answer.
  wrap(remote.RemoteDetector?.prototype, 'detectPixels', 'detectPixels');
  wrap(remote.DetectorWorker?.prototype, 'call', 'workerCall');
  const deadline = now() + timeoutMs;
  const first = window.__benchmark.events.length;
  while (window.__benchmark.events.length < first + frames + 1 && now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const undo of restore.reverse()) undo();
  const gaps = [];
  const events = window.__benchmark.events.slice(first);
  for (let i = 1; i < events.length; i += 1) gaps.push(events[i].at - events[i - 1].at);
  return { times, framePeriods: gaps, inferenceMs: events.map((e) => e.inferenceMs) };
}
"""


def loop_timing(page, frames: int, timeout_s: float = 120) -> dict:
    """Medians, per frame of the camera loop, of the page's own steps: processFrame (all of it),
    draw (FrameInput.draw), detectPixels, detect, the runtime's run, publish, overlay (Overlay.show);
    and the derived input (detectPixels - detect: getImageData + copy, or fromPixels) and around
    (detect - run: input tensor, read-back, decode, NMS, free). With LiteRT.js in the detector
    worker, workerCall is the round trip to it (post, the worker's detectPixels, the answer) and
    input is detectPixels - workerCall (getImageData)."""
    data = page.evaluate(LOOP_TIMING_JS, {"frames": frames, "timeoutMs": timeout_s * 1000})
    times = data["times"]
    result = {key: median(values) for key, values in times.items()}
    result["frames"] = len(times.get("processFrame", []))
    if "detectPixels" in times and "workerCall" in times:  # getImageData, then the worker
        result["input"] = median(
            a - b for a, b in zip(times["detectPixels"], times["workerCall"], strict=False)
        )
    elif "detectPixels" in times and "detect" in times:
        result["input"] = median(
            a - b for a, b in zip(times["detectPixels"], times["detect"], strict=False)
        )
    if "detect" in times and "run" in times:
        result["around_run"] = median(
            a - b for a, b in zip(times["detect"], times["run"], strict=False)
        )
    result["frame_period"] = median(data["framePeriods"])
    result["inference"] = median(data["inferenceMs"])
    return result


# ---- per-thread CPU time (Linux /proc) ------------------------------------------------------


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def process_type(pid: int) -> str:
    """Chromium's --type (renderer, gpu-process, ...), 'browser' for its main process. Chromium
    rewrites its children's command lines into one space-separated title, so no argv split."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return "?"
    found = re.search(rb"--type=(\S+)", cmdline)
    if found:
        return found.group(1).decode(errors="replace")
    first = cmdline.split(b" ", 1)[0]
    return "browser" if b"chrom" in first else Path(first.decode(errors="replace")).name


class ThreadClock:
    """CPU ns of every thread of this process's Chromium descendants, between two snapshots."""

    available = Path("/proc/self/task").is_dir()

    def __init__(self, root: int | None = None):
        self.root = root or os.getpid()
        self.begin: dict = {}
        self.started = 0.0

    def _snapshot(self) -> dict:
        snap = {}
        for pid in descendants(self.root):
            kind = process_type(pid)
            if kind in ("node", "python", "?"):
                continue
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tids:
                try:
                    comm = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
                    ns = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
                except (OSError, ValueError, IndexError):
                    continue
                snap[(pid, int(tid))] = (kind, "main" if int(tid) == pid else comm, ns)
        return snap

    def start(self) -> None:
        if self.available:
            self.begin = self._snapshot()
        self.started = time.perf_counter()

    def stop(self) -> dict | None:
        """{wall_ms, threads: [{process, thread, cpu_ms, cores}], renderer_main_cores,
        renderer_workers_cores, renderer_workers_active}: cores = CPU time / wall time."""
        if not self.available:
            return None
        end = self._snapshot()
        wall_ms = (time.perf_counter() - self.started) * 1000
        threads = []
        for key, (kind, name, ns) in end.items():
            cpu_ms = (ns - self.begin.get(key, (kind, name, 0))[2]) / 1e6
            if cpu_ms >= 0.01 * wall_ms:
                threads.append({"process": kind, "thread": name, "cpu_ms": cpu_ms})
        threads.sort(key=lambda t: -t["cpu_ms"])
        for thread in threads:
            thread["cores"] = thread["cpu_ms"] / wall_ms if wall_ms > 0 else None
        renderer = [t for t in threads if t["process"] == "renderer"]
        main = sum(t["cores"] for t in renderer if t["thread"] == "main")
        workers = [t for t in renderer if t["thread"].startswith("DedicatedWorker")]
        return {
            "wall_ms": wall_ms,
            "threads": threads[:12],
            "renderer_main_cores": main,
            "renderer_workers_cores": sum(t["cores"] for t in workers),
            "renderer_workers_active": sum(1 for t in workers if t["cores"] >= 0.1),
            "all_chromium_cores": sum(t["cores"] for t in threads),
        }


class MachineLoad:
    """How busy the machine was with other work: all CPUs' busy time (/proc/stat) minus this
    process tree's CPU time, between start() and stop(), in cores (CPU seconds per second).

    A process's CPU time disappears with it (a closed browser's), so a thread samples the tree
    every 0.2 s and keeps each process's last-seen time."""

    INTERVAL_S = 0.2

    def __init__(self):
        self.begin = None
        self.own: dict[int, list[float]] = {}  # pid -> [at start (0 if born later), last seen]
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    @staticmethod
    def _busy_s() -> float:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    def _sample(self, first: bool = False) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        for pid in [os.getpid(), *descendants(os.getpid())]:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            cpu = (int(stat[11]) + int(stat[12])) / ticks  # utime + stime, all its threads
            entry = self.own.setdefault(pid, [cpu if first else 0.0, cpu])
            entry[1] = max(entry[1], cpu)

    def _watch(self) -> None:
        while not self.stopping.wait(self.INTERVAL_S):
            self._sample()

    def start(self) -> MachineLoad:
        if not Path("/proc/stat").is_file():
            return self
        self._sample(first=True)
        self.begin = (time.monotonic(), self._busy_s())
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> dict | None:
        if self.begin is None:
            return None
        self.stopping.set()
        self.thread.join()
        self._sample()
        wall = time.monotonic() - self.begin[0]
        if wall <= 0:
            return None
        busy = (self._busy_s() - self.begin[1]) / wall
        own = sum(last - first for first, last in self.own.values()) / wall
        return {
            "seconds": wall,
            "busy_cores": busy,
            "own_cores": own,
            "other_cores": max(0.0, busy - own),
            "cpus": os.cpu_count(),
        }


# ---- cold start ------------------------------------------------------------------------------

COLD_TIMELINE_JS = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const probe = window.__benchmarkProbe ?? {};
  return {
    timeOrigin: performance.timeOrigin,
    navigation: nav ? {
      responseEnd: nav.responseEnd, domInteractive: nav.domInteractive,
      domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    } : null,
    resources: performance.getEntriesByType('resource').map((e) => ({
      name: e.name, start: e.startTime, responseStart: e.responseStart, end: e.responseEnd,
    })),
    marks: probe.marks ?? [], ready: probe.ready ?? null, playing: probe.playing ?? null,
    first: window.__benchmark?.events[0]?.at ?? null,
  };
}
"""


def resource_group(path: str) -> str:
    if path.startswith("vendor/"):
        if ".wasm" in path:
            return "runtime wasm"
        name = path.rsplit("/", 1)[-1]
        return "runtime loader" if name.endswith("_internal.js") else "runtime script"
    if path.startswith("model/"):
        return "model"
    if path == "config.json":
        return "config.json"
    return "page"


WORKER_TIMELINE_JS = """
() => ({
  timeOrigin: performance.timeOrigin,
  resources: performance.getEntriesByType('resource').map((e) => ({
    name: e.name, start: e.startTime, responseStart: e.responseStart, end: e.responseEnd,
  })),
})
"""


def worker_resources(page, page_time_origin: float) -> tuple[list[dict], list[str]]:
    """Resource timing of the page's dedicated workers (the detector worker fetches LiteRT.js and
    the .tflite itself), shifted onto the page's clock; and the workers' script names."""
    entries, names = [], []
    for worker in page.workers:
        # Only the page's own worker scripts: a runtime's thread (started from a blob: URL) sits
        # in WebAssembly waiting for work and would never answer an evaluate.
        if not worker.url.startswith(("http:", "https:")):
            continue
        try:
            data = worker.evaluate(WORKER_TIMELINE_JS)
        except Exception:  # a worker that ended meanwhile
            continue
        names.append(worker.url.rsplit("/", 1)[-1])
        shift = data["timeOrigin"] - page_time_origin
        for entry in data["resources"]:
            entries.append({**entry, "start": entry["start"] + shift, "end": entry["end"] + shift})
    return entries, names


def cold_breakdown(page, base_url: str) -> dict:
    """Milestones of the load (ms since navigation) from resource timing (the page's and its
    workers'), the page's events and INSTRUMENT_JS's marks (page only)."""
    data = page.evaluate(COLD_TIMELINE_JS)
    extra, workers = worker_resources(page, data["timeOrigin"])
    base = urlsplit(base_url)
    groups: dict[str, dict] = {}
    for entry in data["resources"] + extra:
        url = urlsplit(entry["name"])
        if url.netloc != base.netloc or not url.path.startswith(base.path):
            continue
        group = resource_group(unquote(url.path[len(base.path) :]))
        slot = groups.setdefault(group, {"start": entry["start"], "end": entry["end"], "files": 0})
        slot["start"] = min(slot["start"], entry["start"])
        slot["end"] = max(slot["end"], entry["end"])
        slot["files"] += 1
    nav = data["navigation"] or {}
    marks = data["marks"]

    def mark_end(*names):
        ends = [m["ended"] for m in marks if m["what"] in names]
        return max(ends) if ends else None

    milestones = {
        "html": nav.get("responseEnd"),
        "page modules": groups.get("page", {}).get("end"),
        "DOMContentLoaded": nav.get("domContentLoaded"),
        "config.json": groups.get("config.json", {}).get("end"),
        "runtime script": groups.get("runtime script", {}).get("end"),
        "runtime wasm requested": groups.get("runtime wasm", {}).get("start"),
        "runtime wasm downloaded": groups.get("runtime wasm", {}).get("end"),
        "wasm compiled": mark_end("compile", "compileStreaming", "instantiateStreaming"),
        "wasm instantiated": mark_end("instantiate", "instantiateStreaming"),
        "workers created": mark_end("worker"),
        "model requested": groups.get("model", {}).get("start"),
        "model downloaded": groups.get("model", {}).get("end"),
        "sitegen:ready": data["ready"],
        "camera playing": data["playing"],
        "first detection": data["first"],
    }
    return {"milestones": milestones, "groups": groups, "marks": marks, "workers": workers}


def median_milestones(samples: list[dict]) -> dict[str, float | None]:
    names = list(samples[0]["milestones"]) if samples else []
    return {name: median(s["milestones"].get(name) for s in samples) for name in names}


# ---- heap and bytes ---------------------------------------------------------------------

GZIP_LEVEL = 6


def heap_usage(context, page) -> dict[str, float]:
    """V8's heap in MB through CDP (performance.memory is coarse and rounded in Chromium), before
    and after a forced garbage collection: the second is what the page really keeps alive."""
    session = context.new_cdp_session(page)
    try:
        before = session.send("Runtime.getHeapUsage")
        session.send("HeapProfiler.collectGarbage")
        after = session.send("Runtime.getHeapUsage")
    finally:
        session.detach()
    megabyte = 1024 * 1024
    usage = {
        "used_mb": after["usedSize"] / megabyte,
        "used_before_gc_mb": before["usedSize"] / megabyte,
        "total_mb": after["totalSize"] / megabyte,
    }
    # Newer Chromium also reports ArrayBuffer backing stores (WASM memory, tensor data) here.
    if "backingStorageSize" in after:
        usage["array_buffers_mb"] = after["backingStorageSize"] / megabyte
    return usage


def category(relative_path: str) -> str:
    if relative_path.startswith("vendor/"):
        return "runtime"
    if relative_path.startswith("model/"):
        return "model"
    return "rest"


def site_path(response, base_url: str) -> str | None:
    """The response's path inside the served folder; None for other origins, blob: and data:."""
    url, base = urlsplit(response.url), urlsplit(base_url)
    if url.scheme != base.scheme or url.netloc != base.netloc or not url.path.startswith(base.path):
        return None
    return unquote(url.path[len(base.path) :])


def cold_bytes(responses, base_url: str, folder: Path) -> tuple[dict, list]:
    """Bytes of every successful response from the site, per category (raw, and gzip level 6:
    what a host that compresses would send), and the list of requests behind them."""
    totals = {name: {"raw": 0, "gzip": 0, "files": 0} for name in ("runtime", "model", "rest")}
    requests = []
    for response in responses:
        relative = site_path(response, base_url)
        if relative is None or not 200 <= response.status < 300:
            continue
        try:
            body = response.body()
        except Exception:  # Chromium dropped the body (rare, for big bodies): same bytes on disk
            body = (folder / (relative or "index.html")).read_bytes()
        compressed = len(gzip.compress(body, compresslevel=GZIP_LEVEL))
        entry = totals[category(relative)]
        entry["raw"] += len(body)
        entry["gzip"] += compressed
        entry["files"] += 1
        requests.append({"path": relative, "raw": len(body), "gzip": compressed})
    return totals, requests


def warm_transfer(responses, base_url: str) -> dict[str, int]:
    """What the reload fetched: requests, how many the server answered 304 Not Modified, and the
    body bytes that came over the network (0 for what the HTTP cache served)."""
    summary = {"requests": 0, "not_modified": 0, "downloaded_bytes": 0}
    for response in responses:
        if site_path(response, base_url) is None:
            continue
        summary["requests"] += 1
        summary["not_modified"] += response.status == 304
        summary["downloaded_bytes"] += max(0, response.request.sizes()["responseBodySize"])
    return summary
