"""The runtime a site page runs on, called directly from page JS (issue 16; site_benchmark.py).

``PROBE_LIBRARY_JS`` installs ``window.__probe`` in the served page: it imports the page's own
modules (``js/litert.js``, ``js/model.js``, ``js/frame.js``, ``js/postprocess.js``,
``js/contract.js``; same URLs, so the same module instances and, on the main thread, the same
runtime the page loaded) and times the engine's run on a prepared input (the "bare run") and the
page's per-frame steps one by one. ``probe_page`` runs the whole set on a page whose camera runs;
``thread_sweep`` times the bare run at several thread counts. No product file is changed.
"""

from __future__ import annotations

import time

from benchmarks import page_probes as probes

# Installs window.__probe: the page's own modules (resolved from its module script) and helpers
# that time the runtime the page runs on. Each method returns plain data for Python.
PROBE_LIBRARY_JS = r"""
async () => {
  if (window.__probe) return true;
  const app = document.querySelector('script[type="module"][src]');
  const base = app ? app.src : new URL('js/app.js', document.baseURI).href;
  const moduleUrl = (name) => new URL(name, base).href;
  const config = window.sitegen.config;
  const [postprocess, contract, frame] = await Promise.all(
    ['postprocess.js', 'contract.js', 'frame.js'].map((name) => import(moduleUrl(name))));
  const now = () => performance.now();
  const video = document.querySelector('video');
  // The last frame the page drew for the model, as its own RGBA pixels (or a fixed pattern).
  const lastPixels = (height, width) => {
    const canvas = window.sitegen.inputCanvas;
    if (canvas && canvas.width === width && canvas.height === height) {
      return canvas.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, width, height).data;
    }
    const data = new Uint8ClampedArray(height * width * 4);
    let seed = 1;
    for (let i = 0; i < data.length; i += 1) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      data[i] = i % 4 === 3 ? 255 : seed >>> 24;
    }
    return data;
  };
  const toRgb = (data, input) => {
    for (let source = 0, target = 0; target < input.length; source += 4, target += 3) {
      input[target] = data[source];
      input[target + 1] = data[source + 1];
      input[target + 2] = data[source + 2];
    }
    return input;
  };
  const threshold = Number.isFinite(config.threshold) ? config.threshold : contract.DEFAULTS.threshold;
  const frameSource = () => (video && video.videoWidth > 0 ? [video, video.videoWidth, video.videoHeight] : null);

  const litert = {
    async setup() {
      const module = await import(moduleUrl('litert.js'));
      this.runtime = await module.loadLiteRtRuntime();
      this.bytes = await module.fetchTflite(config.model.litert);
      const spec = config.model.litert.input;
      [this.height, this.width] = spec.size;
      this.inputName = spec.name;
      this.outputNames = contract.RAW_OUTPUTS.map((role) => config.model.litert.outputs[role]);
      const make = (n) => (spec.dtype === 'float32' ? new Float32Array(n) : new Uint8Array(n));
      this.pixels = toRgb(lastPixels(this.height, this.width), make(this.height * this.width * 3));
      this.input = make(this.height * this.width * 3);
      this.frameInput = new frame.FrameInput([this.height, this.width]);
      return {
        runtime: 'litert', variant: this.runtime.variant, pageThreads: this.runtime.threads,
        hardwareConcurrency: navigator.hardwareConcurrency, input: [this.height, this.width, spec.dtype],
      };
    },
    async compile(numThreads) {
      this.release();
      const started = now();
      const options = { accelerator: 'wasm', cpuOptions: { numThreads } };
      this.compiled = await this.runtime.lib.loadAndCompile(this.bytes, options);
      const compileMs = now() - started;
      await this.bare(2); // warm-up (XNNPACK set-up on the first run)
      return { numThreads, compileMs };
    },
    tensor(data) {
      return new this.runtime.lib.Tensor(data, [1, this.height, this.width, 3]);
    },
    // The engine's run alone: one input tensor made once, outputs freed outside the timer.
    // gapMs > 0 leaves the main thread idle that long before each run, as the camera loop does
    // between frames (the runtime's worker threads go to sleep meanwhile).
    async bare(runs, gapMs = 0) {
      const tensor = this.tensor(this.pixels);
      const times = [];
      try {
        for (let i = 0; i < runs; i += 1) {
          if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
          const started = now();
          const outputs = await this.compiled.run({ [this.inputName]: tensor });
          times.push(now() - started);
          for (const output of Object.values(outputs)) output.delete();
        }
      } finally {
        tensor.delete();
      }
      return times;
    },
    // The page's detectPixels + processFrame's draw, step by step (js/litert.js, js/session.js).
    async steps(runs, scoreFloor) {
      const source = frameSource();
      const context = this.frameInput.canvas.getContext('2d', { willReadFrequently: true });
      const rows = [];
      for (let i = 0; i < runs; i += 1) {
        const t = [now()];
        if (source) this.frameInput.draw(...source);
        t.push(now());
        const { data } = context.getImageData(0, 0, this.width, this.height);
        t.push(now());
        toRgb(data, this.input);
        t.push(now());
        const tensor = this.tensor(this.input);
        t.push(now());
        const outputs = await this.compiled.run({ [this.inputName]: tensor });
        t.push(now());
        // As readOutput does: toTypedArray() (a copy out of the WASM heap), then .slice().
        const [boxes, scores] = this.outputNames.map((name) => outputs[name].toTypedArray().slice());
        t.push(now());
        const found = postprocess.postprocessRaw(boxes, scores, boxes.length / 4, config.model.nms, scoreFloor);
        t.push(now());
        // Not in the page's path: what one copy would cost, and the NMS without the floor
        // (what window.sitegen.timeDetector runs).
        const u = [now()];
        const single = this.outputNames.map((name) => outputs[name].toTypedArray());
        u.push(now());
        const all = postprocess.postprocessRaw(single[0], single[1], single[0].length / 4, config.model.nms, 0);
        u.push(now());
        const freeing = now();
        tensor.delete();
        for (const output of Object.values(outputs)) output.delete();
        t.push(now() - freeing + t[t.length - 1]);
        rows.push({
          draw: t[1] - t[0], getImageData: t[2] - t[1], rgb: t[3] - t[2], tensor: t[4] - t[3],
          run: t[5] - t[4], readback: t[6] - t[5], nms: t[7] - t[6], free: t[8] - t[7], total: t[8] - t[0],
          readbackOneCopy: u[1] - u[0], nmsNoFloor: u[2] - u[1],
          candidates: found.length, candidatesNoFloor: all.length,
          outputValues: boxes.length + scores.length,
        });
      }
      return rows;
    },
    release() {
      this.compiled?.delete();
      this.compiled = null;
    },
  };

  const tfjs = {
    async setup() {
      const model = await import(moduleUrl('model.js'));
      this.tf = await import(moduleUrl('../vendor/tfjs/tf.js'));
      this.backend = this.tf.getBackend();
      let threads = null;
      if (this.backend === 'wasm') {
        const wasm = await import(moduleUrl('../vendor/tfjs/backend-wasm.js'));
        threads = typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : null;
      }
      const artifacts = await model.fetchModelArtifacts(config.model);
      const graph = await model.buildModel(this.tf, artifacts);
      const nodes = artifacts.modelTopology?.node ?? [];
      this.detector = new model.Detector(this.tf, graph, config.model, nodes, this.backend);
      await this.detector.warmUp();
      const source = frameSource();
      const size = config.model.input.size ?? (source ? [source[2], source[1]] : [300, 300]);
      [this.height, this.width] = size;
      this.frameInput = new frame.FrameInput(config.model.input.size ?? null);
      const rgba = lastPixels(this.height, this.width);
      const float = config.model.input.dtype === 'float32';
      const { tf, height, width } = this;
      // This tf.js bundle exports only what the page uses: the input goes through fromPixels.
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
      this.input = tf.tidy(() => {
        const image = tf.browser.fromPixels(canvas, 3);
        return tf.expandDims(float ? tf.cast(image, 'float32') : image, 0);
      });
      return {
        runtime: 'tfjs', backend: this.backend, pageThreads: threads,
        hardwareConcurrency: navigator.hardwareConcurrency, input: [height, width, config.model.input.dtype],
      };
    },
    async bare(runs, gapMs = 0) {
      const times = [];
      for (let i = 0; i < runs; i += 1) {
        if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
        const started = now();
        const outputs = await this.detector.execute(this.input); // wasm/cpu kernels run synchronously
        times.push(now() - started);
        this.tf.dispose(outputs);
      }
      return times;
    },
    // The page's Detector.detectPixels + processFrame's draw, step by step (js/model.js).
    async steps(runs, scoreFloor) {
      const { tf } = this;
      const source = frameSource();
      const float = config.model.input.dtype === 'float32';
      const rows = [];
      for (let i = 0; i < runs; i += 1) {
        const t = [now()];
        if (source) this.frameInput.draw(...source);
        t.push(now());
        const input = tf.tidy(() => {
          const image = tf.browser.fromPixels(this.frameInput.canvas, 3);
          return tf.expandDims(float ? tf.cast(image, 'float32') : image, 0);
        });
        t.push(now());
        const outputs = await this.detector.execute(input);
        t.push(now());
        const values = await Promise.all(outputs.map((tensor) => tensor.data()));
        t.push(now());
        let found = [];
        if (this.detector.raw) {
          const shape = outputs[0].shape;
          const numAnchors = shape.length >= 2 ? shape[shape.length - 2] : 0;
          found = postprocess.postprocessRaw(values[0], values[1], numAnchors, config.model.nms, scoreFloor);
        } else {
          found = postprocess.decodeGraphOutputs(values[0], values[1], values[2], values[3][0]);
        }
        t.push(now());
        tf.dispose(outputs);
        input.dispose();
        t.push(now());
        rows.push({
          draw: t[1] - t[0], fromPixels: t[2] - t[1], run: t[3] - t[2], readback: t[4] - t[3],
          nms: t[5] - t[4], free: t[6] - t[5], total: t[6] - t[0], candidates: found.length,
        });
      }
      return rows;
    },
    release() {
      this.detector?.dispose();
      this.detector = null;
      this.input?.dispose();
      this.input = null;
    },
  };

  window.__probe = { litert, tfjs, threshold };
  return true;
}
"""


SPACED_GAP_MS = 15  # the camera loop's idle time between frames is up to one 33 ms frame


class RuntimeProbe:
    """The page's runtime ('litert' or 'tfjs'), driven from page JS (see PROBE_LIBRARY_JS)."""

    def __init__(self, page, runtime: str, timeout_s: float = 300):
        self.page = page
        self.runtime = runtime
        page.set_default_timeout(timeout_s * 1000)
        page.evaluate(PROBE_LIBRARY_JS)
        self.info = self._call("setup")

    def _call(self, method: str, *args):
        return self.page.evaluate(
            f"(args) => window.__probe.{self.runtime}.{method}(...args)", list(args)
        )

    @property
    def threshold(self) -> float:
        return self.page.evaluate("() => window.__probe.threshold")

    def compile(self, threads: int) -> dict:
        return self._call("compile", threads)

    def bare(self, runs: int, gap_ms: float = 0) -> list[float]:
        return self._call("bare", runs, gap_ms)

    def steps(self, runs: int, score_floor: float) -> list[dict]:
        return self._call("steps", runs, score_floor)

    def release(self) -> None:
        self._call("release")


def summarise_steps(rows: list[dict]) -> dict[str, float]:
    """Median of each step over the replayed frames."""
    if not rows:
        return {}
    return {key: probes.median(row[key] for row in rows) for key in rows[0]}


def pause_camera(page) -> bool:
    """Pauses the page's video: requestVideoFrameCallback stops firing, so the camera loop stops
    after the frame in flight, and the element keeps its last frame for drawImage."""
    return page.evaluate(
        "() => { const v = document.querySelector('video'); if (!v) return false; v.pause(); return true; }"
    )


def time_page_detector(page, runs: int) -> list[float]:
    """window.sitegen.timeDetector: the page's whole detector (detectPixels: getImageData, copy,
    run, read-back, decode and NMS with no score floor) on the frame in its input canvas."""
    return page.evaluate("(runs) => window.sitegen.timeDetector(runs)", runs)


# Idle time before each of the page engine's runs: the camera loop leaves the engine idle between
# frames (about 20 ms of a 33 ms frame for a 13 ms model), and its threads may wake slowly.
ENGINE_IDLE_GAPS_MS = (5, 20)

TIME_ENGINE_JS = """
async ([runs, gapMs]) => {
  if (!gapMs) return window.sitegen.timeEngine(runs);
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    times.push(...(await window.sitegen.timeEngine(1)));
  }
  return times;
}
"""


def time_page_engine(page, runs: int, gap_ms: float = 0) -> list[float]:
    """window.sitegen.timeEngine: the page's own engine run alone (LiteRT.js, where the page runs
    it: in the detector worker or on the main thread) on the input canvas's frame, back to back
    or with ``gap_ms`` of idle before each run."""
    times = page.evaluate(TIME_ENGINE_JS, [runs, gap_ms])
    return [ms for ms in times if ms is not None]


def probe_page(page, session, run, log) -> dict:
    """In the page, after the steady window. With the camera playing: the sampling profile, the
    runtime's bare run (a second compiled model of the same .tflite with the page's threads, or
    the TF.js model built again, on a prepared input) and the page's detector (timeDetector,
    which holds the page's queue, so the loop waits while the video keeps playing). Then with the
    camera paused (the video keeps its last frame): the same two again, CPU time per thread
    during the bare run, and the page's per-frame steps replayed with a timer each.

    Where the page runs LiteRT.js in its detector worker (remote.js), the bare run and the steps
    run on the page's main thread with a LiteRT.js runtime of their own: the worker takes only
    its own requests, so the engine cannot be timed inside it from outside. A YOLO site
    (``run.yolo``) gets everything but the steps replay, which replays an SSD's outputs."""
    runtime = {"litert-wasm": "litert", "wasm": "tfjs", "cpu": "tfjs"}.get(run.backend)
    found: dict = {}
    if run.profile_frames:
        found["loop"] = probes.loop_timing(page, run.profile_frames, timeout_s=run.timeout_s)
    if runtime and run.profile_frames:
        log(f"  profiling {run.profile_frames} frames ...")
        found["profile"] = probes.profile_frames(session, page, run.profile_frames, run.base_url)
    probe = None
    if runtime:
        log("  timing the runtime in the page ...")
        probe = RuntimeProbe(page, runtime, timeout_s=run.timeout_s)
        found["runtime"] = probe.info
        if runtime == "litert":
            found["compile"] = probe.compile(probe.info["pageThreads"])
        events_before = page.evaluate(probes.PAGE_CLOCK_JS)[1]
        found["bare_run_playing_ms"] = probe.bare(run.probe_runs)
        # Frames the page processed meanwhile (0 when the runs never yield to its loop).
        found["bare_run_playing_interleaved"] = (
            page.evaluate(probes.PAGE_CLOCK_JS)[1] - events_before
        )
        # With the main thread idle before each run, as between the camera loop's frames.
        # Not where the page's detector runs in its worker: its loop would post frames in the
        # gaps, and the worker's run would share the cores with this one.
        if "workerCall" not in (found.get("loop") or {}):
            found["bare_run_spaced_ms"] = probe.bare(run.probe_runs, SPACED_GAP_MS)
        if run.yolo:
            log("  steps replay skipped: it replays an SSD's post-processing (postprocessRaw)")
        else:
            steps = probe.steps(run.probe_runs, probe.threshold)  # on the live video
            found["steps_playing"] = summarise_steps(steps)
    # A GPU backend on this machine's software renderer takes about a second per run.
    detector_runs = run.probe_runs if runtime else min(3, run.probe_runs)
    found["page_detector_playing_ms"] = time_page_detector(page, detector_runs)
    if runtime == "litert":
        found["page_engine_playing_ms"] = time_page_engine(page, run.probe_runs)
    pause_camera(page)
    time.sleep(0.5)  # the frame in flight finishes
    found["page_detector_ms"] = time_page_detector(page, detector_runs)
    if runtime == "litert":
        found["page_engine_ms"] = time_page_engine(page, run.probe_runs)
        found["page_engine_idle_ms"] = {
            str(gap): time_page_engine(page, run.probe_runs, gap) for gap in ENGINE_IDLE_GAPS_MS
        }
    if probe is None:
        return found
    clock = probes.ThreadClock()
    clock.start()
    found["bare_run_ms"] = probe.bare(run.probe_runs)
    found["bare_run_cpu"] = clock.stop()
    if not run.yolo:
        steps = probe.steps(run.probe_runs, probe.threshold)
        found["steps"] = summarise_steps(steps)
        found["steps_runs"] = len(steps)
    probe.release()
    return found


def thread_sweep(page, threads: list[int], runs: int, log) -> dict:
    """LiteRT.js's bare run at each thread count, in two passes (see measure_engine_threads in
    site_benchmark.py, which prepares the page)."""
    probe = RuntimeProbe(page, "litert")
    # Two passes, up then down (1,2,3,4,4,3,2,1), so a burst of other work on this shared
    # machine does not land on one thread count only; each count reports both passes.
    by_count: dict[int, dict] = {}
    for count in [*threads, *reversed(threads)]:
        compiled = probe.compile(count)
        load = probes.MachineLoad().start()
        clock = probes.ThreadClock()
        clock.start()
        times = probe.bare(runs)
        cpu = clock.stop()
        entry = by_count.setdefault(count, {"numThreads": count, "passes": []})
        entry["passes"].append(
            {
                "compile_ms": compiled["compileMs"],
                "run_ms": times,
                "median_ms": probes.median(times),
                "cpu": cpu,
                "machine_load": load.stop(),
            }
        )
        log(f"  LiteRT.js {count} thread(s): median {probes.median(times):.1f} ms")
    probe.release()
    results = []
    for entry in by_count.values():
        passes = entry["passes"]
        entry["median_ms"] = probes.median(t for p in passes for t in p["run_ms"])
        # The pass less disturbed by other processes, for the thread-use figures.
        entry["cpu"] = min(passes, key=lambda p: p["machine_load"]["other_cores"])["cpu"]
        entry["other_cores"] = [p["machine_load"]["other_cores"] for p in passes]
        entry["pass_medians_ms"] = [p["median_ms"] for p in passes]
        results.append(entry)
    return {"runtime": probe.info, "results": results}
