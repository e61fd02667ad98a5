// The detector session: loads config.json, the runtime and the model, runs the detector on the
// source being shown, one inference at a time, and reports each processed frame to the overlay,
// the detection list, the readouts and a `sitegen:detections` event (which tests listen to).
// Everything it holds lives on the instance; app.js creates one for the page and wires the DOM to it.

import { stopStream } from './camera.js';
import { loadConfig } from './config.js';
import { DEFAULTS, LITERT_BACKENDS } from './contract.js';
import { userMessage } from './errors.js';
import { FrameInput } from './frame.js';
import { loadLiteRtRuntime } from './litert.js';
import { makeLabelLookup, selectDetections } from './postprocess.js';
import { backendsToTime, recallBackend, rememberBackend } from './choice.js';
import { launcherFor, openDetectorWorker } from './remote.js';
import { chooseBackend, hasHardwareGpu } from './runtime.js';
import { UploadUrl } from './sources.js';
import { FrameStats } from './frame_stats.js';
import { SerialQueue } from './serial_queue.js';
import { agreementFor, fastestAgreeing, timeBackends } from './tuning.js';
import { watchRuntimeDownloads } from './ui.js';

const SOURCE_STATUS = { camera: 'Camera on', video: 'Playing the uploaded video', image: 'Showing the uploaded image' };

function naturalSize(element) {
  return element instanceof HTMLVideoElement
    ? [element.videoWidth, element.videoHeight]
    : [element.naturalWidth, element.naturalHeight];
}

export class DetectorSession {
  /**
   * @param {object} options
   * @param {import('./ui.js').PageUi} options.ui
   * @param {import('./renderer.js').Overlay} options.overlay
   * @param {ReturnType<typeof import('./config.js').readQuery>} options.query  the page's query parameters
   * @param {EventTarget} options.events  where the sitegen:* events go (the window)
   * @param {string} [options.firstRuntime]  the runtime the build expects the page to start with ('litert' or 'tfjs')
   * @param {UploadUrl} [options.uploads]  the blob: URL of the uploaded file on show
   * @param {{threshold?: number, maxDetections?: number, showLabels?: boolean}} [options.remembered]
   *   the person's settings from an earlier visit (settings.js); the address still wins
   * @param {Storage|null} [options.storage]  where the fastest backend per model is remembered (choice.js)
   */
  constructor({ ui, overlay, query, events, firstRuntime, uploads = new UploadUrl(), remembered = {}, storage = null }) {
    this.ui = ui;
    this.overlay = overlay;
    this.query = query;
    this.events = events;
    this.firstRuntime = firstRuntime;
    this.uploads = uploads;
    this.remembered = remembered;
    this.storage = storage;
    // Why this backend runs: 'address' (?backend=), 'remembered' (measured fastest here on an
    // earlier visit), 'measured' (on this visit's first frame) or 'build' (the build's order).
    this.backendChoice = null;

    this.config = null;
    this.detector = null;
    this.backendName = null;
    this.launcher = null;
    // "name (why)" for each backend that was tried first and could not start.
    this.backendFailures = [];
    // Backends to time against the running one on the first frame (see tuning.js); null once done.
    this.tuningCandidates = null;
    this.tuningResult = null;
    this.loadFailed = false;
    // A model load error stays on screen; a camera or file error is shown after it and replaced by
    // the next one.
    this.loadError = '';
    this.frameInput = null;
    const slider = Number(ui.threshold.value);
    this.threshold = query.threshold ?? remembered.threshold ?? (Number.isFinite(slider) ? slider : DEFAULTS.threshold);
    this.maxDetections = query.maxDetections ?? remembered.maxDetections ?? DEFAULTS.maxDetections;
    this.showLabels = remembered.showLabels ?? true;
    overlay.setLabels(this.showLabels);
    this.labelFor = makeLabelLookup({});
    this.frameCounter = 0;
    // What is being shown: {kind: 'camera'|'video'|'image', element, stream?, stopLoop?, last?}.
    // Replacing it is how a source is stopped; work for a source that is no longer current is dropped.
    this.currentSource = null;
    // One inference at a time, across all sources: an image run waits for the camera frame in flight.
    this.queue = new SerialQueue();
    this.stats = new FrameStats((fps, inferenceMs) => ui.setStats(fps, inferenceMs));

    this.ready = new Promise((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // The page shows load errors itself; this keeps a rejection nobody awaits off the console.
    this.ready.catch(() => {});
  }

  /** 'loading', 'ready', 'running' (a camera or video is being processed) or 'error'. */
  get state() {
    if (this.loadFailed) return 'error';
    if (!this.detector) return 'loading';
    return this.currentSource && this.currentSource.kind !== 'image' ? 'running' : 'ready';
  }

  memory() {
    return this.detector ? this.detector.memory() : null;
  }

  /** Runs the detector `runs` times on the last frame it saw; ms of each run. For build-time
   * timing and benchmarks: one number per backend, without a camera's frame pacing. */
  timeDetector(runs = 5) {
    return this.timeRuns(runs).then((timed) => timed.map(({ ms }) => ms));
  }

  /**
   * The engine's own run within the same back-to-back runs, where the runtime times it apart
   * (LiteRT.js, in the worker or not; null for TF.js): the bare run of the page's own engine.
   */
  timeEngine(runs = 5) {
    return this.timeRuns(runs).then((timed) => timed.map(({ engineMs }) => engineMs));
  }

  timeRuns(runs) {
    return this.serialised(async () => {
      const timed = [];
      for (let i = 0; this.detector && this.frameInput && i < runs; i += 1) {
        const started = performance.now();
        await this.detector.detectPixels(this.frameInput.canvas);
        timed.push({ ms: performance.now() - started, engineMs: this.detector.lastRunMs ?? null });
      }
      return timed;
    });
  }

  dispatch(type, detail) {
    this.events.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // ---- errors and status ----------------------------------------------------------------------

  reportError(message) {
    const { loadError } = this;
    this.ui.showError(loadError && message !== loadError ? `${loadError} ${message}` : message);
    this.dispatch('sitegen:error', { message });
  }

  clearError() {
    this.ui.showError(this.loadError);
  }

  /** What the status line says when nothing is being shown. */
  idleStatus() {
    if (this.loadFailed) return 'The detector is not available.';
    if (!this.detector) return 'Loading the detector…';
    return 'Ready. Press Start camera, or upload an image or video.';
  }

  statusFor(source) {
    const what = SOURCE_STATUS[source.kind];
    if (this.loadFailed) return `${what}; the detector is not available.`;
    return this.detector ? `${what}.` : `${what}; the detector is still loading…`;
  }

  currentStatus() {
    return this.currentSource ? this.statusFor(this.currentSource) : this.idleStatus();
  }

  // ---- loading --------------------------------------------------------------------------------

  async load() {
    const { ui, query } = this;
    for (const problem of query.problems) ui.addWarning(problem);
    // Runtime bytes fetched by the page and by the detector worker, summed for the readout.
    const runtimeBytes = { page: 0, worker: 0 };
    const showBytes = (where, bytes) => {
      runtimeBytes[where] = bytes;
      ui.setRuntimeBytes(runtimeBytes.page + runtimeBytes.worker);
    };
    const stopWatching = watchRuntimeDownloads((bytes) => showBytes('page', bytes));
    const progress = (loaded, total) => ui.setProgress(loaded, total);
    // LiteRT.js runs in a worker, off the main thread (remote.js); it starts now.
    const opened = query.worker === false ? { worker: null, problem: '' }
      : openDetectorWorker({ onProgress: progress, onRuntimeBytes: (bytes) => showBytes('worker', bytes) });
    this.preloadRuntime(opened.worker);
    try {
      this.config = await loadConfig();
      this.applyConfig(this.config);
      // Model weights download while the runtime and its backend start (see BackendLauncher).
      const { launcher, problem } = await launcherFor(this.config, opened, progress);
      this.launcher = launcher;
      if (problem) ui.addWarning(`The detector runs on the page's main thread: ${problem}.`);
      // The backend measured fastest for this model on this device last time, unless the address
      // names one: it starts first, and nothing is measured again.
      const recalled = query.backend ? null : recallBackend(this.storage, this.config);
      const backend = await chooseBackend(this.launcher, query.backend, recalled);
      this.backendName = backend.name;
      this.backendFailures = backend.failures;
      ui.setBackend(backend.description);
      for (const warning of backend.warnings) ui.addWarning(warning);
      if (launcher.workerProblem) ui.addWarning(`The detector runs on the page's main thread: ${launcher.workerProblem}.`);
      const loaded = backend.detector;
      ui.hideProgress();
      this.detector = loaded;
      this.backendChoice = query.backend ? 'address' : recalled !== null && backend.name === recalled ? 'remembered' : 'build';
      if (this.backendChoice === 'remembered') ui.setBackend(`${backend.description} (fastest measured here)`);
      this.tuningCandidates = this.backendChoice === 'build'
        ? await backendsToTime(this.config, backend.name, query.tune, hasHardwareGpu) : [];
    } catch (error) {
      stopWatching();
      this.loadFailed = true;
      ui.hideProgress();
      ui.setStatus(this.currentStatus());
      const message = userMessage(error, 'The detector could not start');
      this.loadError = message;
      this.reportError(message);
      this.settleReady.reject(new Error(message));
      return;
    }
    stopWatching();
    ui.setStatus(this.currentStatus());
    this.settleReady.resolve();
    this.dispatch('sitegen:ready', { backend: this.backendName, failures: this.backendFailures });
    // An image uploaded while the model was loading gets its detections now.
    if (this.currentSource?.kind === 'image') this.runOnce(this.currentSource);
  }

  // The build says which runtime the page will most likely start with. LiteRT.js takes a few
  // hundred ms to download and compile, which can overlap fetching config.json this way. If it
  // then fails, the failure comes back when that backend is tried, and the page falls back.
  preloadRuntime(worker) {
    const { backend } = this.query;
    const firstRuntime = backend
      ? (LITERT_BACKENDS.includes(backend) ? 'litert' : 'tfjs')
      : this.firstRuntime;
    if (firstRuntime !== 'litert') return;
    if (worker) worker.call('preload').catch(() => {});
    else loadLiteRtRuntime().catch(() => {});
  }

  applyConfig(loadedConfig) {
    // The address, then what the person chose last time, then the build's defaults.
    const { query, remembered } = this;
    if (query.threshold === null && remembered.threshold === undefined && typeof loadedConfig.threshold === 'number') this.threshold = loadedConfig.threshold;
    this.ui.setThreshold(this.threshold);
    const configMax = Number.isInteger(loadedConfig.maxDetections) && loadedConfig.maxDetections > 0 ? loadedConfig.maxDetections : null;
    this.maxDetections = query.maxDetections ?? remembered.maxDetections ?? configMax ?? this.maxDetections;
    this.ui.setMaxDetections(this.maxDetections);
    this.labelFor = makeLabelLookup(loadedConfig.labels);
    this.frameInput = FrameInput.forModel(loadedConfig.model);
  }

  // ---- detection ------------------------------------------------------------------------------

  /** Queues `task` behind every inference already queued (see SerialQueue). */
  serialised(task) {
    return this.queue.run(task);
  }

  /** What the page shows of `candidates` at the current threshold. */
  select(candidates) {
    return selectDetections(candidates, { threshold: this.threshold, maxDetections: this.maxDetections, labelFor: this.labelFor });
  }

  // Runs once, on the first frame after the detector is ready, inside the serialised queue (so no
  // other inference overlaps the timing); the frame is still in the input canvas.
  async tuneOnThisFrame() {
    const { ui } = this;
    const candidates = this.tuningCandidates;
    this.tuningCandidates = null;
    if (!candidates?.length) return;
    const previousStatus = ui.status.textContent;
    ui.setStatus('Measuring which backend is fastest on this device…');
    const current = { name: this.backendName, detector: this.detector, description: ui.backend.textContent };
    const trials = await timeBackends({
      current,
      candidates,
      start: (name) => this.launcher.start(name),
      detect: (running) => running.detectPixels(this.frameInput.canvas),
      select: (found) => this.select(found),
      agree: (name, reference, shown) => agreementFor(this.config, current.name, name)(reference, shown),
    });
    const chosen = fastestAgreeing(trials);
    for (const trial of trials) {
      if (trial.started && trial.name !== chosen) trial.started.detector.dispose();
    }
    this.tuningResult = trials.map(({ name, medianMs, agrees, error }) => ({ name, medianMs, agrees, ...(error ? { error } : {}) }));
    const winner = trials.find((trial) => trial.name === chosen);
    if (winner.started !== current) {
      this.detector = winner.started.detector;
      this.backendName = chosen;
    }
    ui.setBackend(`${winner.started.description} (fastest of ${trials.filter((t) => t.agrees).length} measured here)`);
    rememberBackend(this.storage, this.config, chosen, trials.filter((t) => t.agrees && t.medianMs !== null));
    this.backendChoice = 'measured';
    ui.setStatus(previousStatus);
    this.dispatch('sitegen:tuned', { backend: this.backendName, trials: this.tuningResult });
  }

  async processFrame(source) {
    if (!this.detector || source !== this.currentSource) return;
    const [width, height] = naturalSize(source.element);
    if (!width || !height) return;
    const started = performance.now();
    this.frameInput.draw(source.element, width, height);
    const { placement } = this.frameInput;
    // A still image keeps every candidate, so moving the threshold slider down can show more; a
    // video frame is replaced by the next one, so only what the threshold shows is worked out.
    const found = await this.detector.detectPixels(this.frameInput.canvas, source.kind === 'image' ? 0 : this.threshold);
    const candidates = this.frameInput.toFrame(found, placement, [width, height]);
    const inferenceMs = performance.now() - started;
    if (source !== this.currentSource) return; // stopped or replaced while the model ran
    // The engine's run alone where the detector times it (LiteRT.js), so the event shows what the
    // page adds around it; the worker's round trip in parts where it ran there.
    const timing = { engineMs: this.detector.lastRunMs ?? null, ...(this.detector.lastTiming ? { roundTrip: this.detector.lastTiming } : {}) };
    source.last = { candidates, width, height, inferenceMs, timing };
    this.publish(source);
    this.stats.record(inferenceMs);
    if (this.tuningCandidates) await this.tuneOnThisFrame();
  }

  // Reports the source's last result. Runs synchronously, before the next frame can be drawn into the
  // input canvas, so `sitegen:detections` listeners can read the pixels the model saw.
  publish(source) {
    const { candidates, width, height, inferenceMs, timing } = source.last;
    const detections = this.select(candidates);
    this.frameCounter += 1;
    // The overlay first, so a listener calling window.sitegen.overlay() sees this frame's boxes.
    this.overlay.show(source.element, detections, width, height);
    this.ui.showDetections(detections, { immediate: source.kind === 'image' });
    this.ui.showCounts(detections);
    this.dispatch('sitegen:detections', {
      source: source.kind, frame: this.frameCounter, width, height, backend: this.backendName, inferenceMs, ...timing, detections,
    });
  }

  /** Detects once on `source` (a still image), after the inference in flight. */
  runOnce(source) {
    this.serialised(() => this.processFrame(source)).catch((error) => this.detectionFailed(source, error));
  }

  detectionFailed(source, error) {
    if (source !== this.currentSource) return;
    this.stopSource();
    this.reportError(userMessage(error, 'Detection failed'));
  }

  /** The threshold slider moved. */
  setThreshold(value) {
    this.threshold = value;
    this.ui.setThreshold(value);
    this.showAgain();
  }

  /** The most boxes shown per frame. */
  setMaxDetections(value) {
    this.maxDetections = value;
    this.ui.setMaxDetections(value);
    this.showAgain();
  }

  /** Whether boxes carry their label. */
  setShowLabels(shown) {
    this.showLabels = shown;
    this.overlay.setLabels(shown);
  }

  /** The front camera is shown mirrored, and its boxes with it. */
  setMirrored(mirrored) {
    this.overlay.setMirrored(mirrored);
    this.ui.setMirrored(mirrored);
  }

  // Settings changed while nothing new arrives: a still image shows its last result again (it kept
  // every candidate); a paused video's frame is detected again at the new settings.
  showAgain() {
    const source = this.currentSource;
    if (!source?.last || source.republishQueued) return;
    if (source.kind === 'video' && source.element.paused) {
      this.runOnce(source);
    } else if (source.kind === 'image') {
      source.republishQueued = true;
      this.serialised(() => {
        source.republishQueued = false;
        if (source === this.currentSource) this.publish(source);
      });
    }
  }

  // ---- the source -----------------------------------------------------------------------------

  /** Stops what is shown, clears the error a previous source left, and makes `source` current. */
  replaceSource(source) {
    this.stopSource();
    this.clearError();
    this.currentSource = source;
  }

  stopSource() {
    const { ui } = this;
    const source = this.currentSource;
    this.currentSource = null;
    if (!source) return;
    source.stopLoop?.();
    stopStream(source.stream);
    if (source.element === ui.video) {
      ui.video.pause();
      ui.video.srcObject = null;
      ui.video.removeAttribute('src');
      ui.video.load();
    } else {
      ui.image.removeAttribute('src');
    }
    this.uploads.release();
    this.overlay.clear();
    ui.showMedia(null);
    ui.showDetections([], { immediate: true });
    ui.setCameraRunning(false);
    ui.setPlayback(false);
    ui.showCounts([]);
    this.setMirrored(false);
    this.stats.reset();
  }
}
