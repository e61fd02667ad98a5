// Wires the page together: loads config, TF.js and the model, runs the detector on the camera,
// an uploaded image or an uploaded video, and reports each processed frame to the overlay, the
// detection list, the readouts and a `sitegen:detections` event (which tests listen to).

import { cameraAvailable, listCameras, openCamera, stopStream, streamDeviceId } from './camera.js';
import { automaticBackendOrder, LITERT_BACKENDS, loadConfig, readQuery } from './config.js';
import { userMessage } from './errors.js';
import { FrameInput } from './frame.js';
import { runVideoLoop } from './loop.js';
import { makeLabelLookup, selectDetections } from './postprocess.js';
import { loadLiteRtRuntime } from './litert.js';
import { Overlay } from './renderer.js';
import { BackendLauncher, chooseBackend, deviceClass, hasHardwareGpu } from './runtime.js';
import { fastestAgreeing, timeBackends } from './tuning.js';
import { fileKind, playVideoFile, releaseUpload, showImage } from './sources.js';
import { PageUi } from './ui.js';

const ui = new PageUi();
const overlay = new Overlay(ui.overlayCanvas);
const query = readQuery(window.location.search);

let config = null;
let detector = null;
let backendName = null;
let launcher = null;
// "name (why)" for each backend that was tried first and could not start.
let backendFailures = [];
// Backends to time against the running one on the first frame (see tuning.js); null once done.
let tuningCandidates = null;
let tuningResult = null;
let loadFailed = false;
let frameInput = null;
let threshold = query.threshold ?? Number(ui.threshold.value);
let maxDetections = 20;
let labelFor = makeLabelLookup({});
let frameCounter = 0;
// What is being shown: {kind: 'camera'|'video'|'image', element, stream?, stopLoop?, last?}.
// Replacing it is how a source is stopped; work for a source that is no longer current is dropped.
let currentSource = null;

let settleReady;
const ready = new Promise((resolve, reject) => {
  settleReady = { resolve, reject };
});
// The page shows load errors itself; this keeps a rejection nobody awaits off the console.
ready.catch(() => {});

window.sitegen = {
  get state() {
    if (loadFailed) return 'error';
    if (!detector) return 'loading';
    return currentSource && currentSource.kind !== 'image' ? 'running' : 'ready';
  },
  get backend() {
    return backendName;
  },
  /** How the backends measured on this device: [{name, medianMs, agrees, error?}], or null. */
  get tuning() {
    return tuningResult;
  },
  get config() {
    return config;
  },
  get inputCanvas() {
    return frameInput ? frameInput.canvas : null;
  },
  ready,
  memory: () => (detector ? detector.memory() : null),
  /** Runs the detector `runs` times on the last frame it saw; ms of each run. For build-time
   * timing and benchmarks: one number per backend, without a camera's frame pacing. */
  timeDetector: (runs = 5) => serialised(async () => {
    const times = [];
    for (let i = 0; detector && frameInput && i < runs; i += 1) {
      const started = performance.now();
      await detector.detectPixels(frameInput.canvas);
      times.push(performance.now() - started);
    }
    return times;
  }),
  overlay: () => overlay.snapshot(),
};

// ---- errors and status ------------------------------------------------------------------------

// A model load error stays on screen; a camera or file error is shown after it and replaced by
// the next one.
let loadError = '';

function reportError(message) {
  ui.showError(loadError && message !== loadError ? `${loadError} ${message}` : message);
  window.dispatchEvent(new CustomEvent('sitegen:error', { detail: { message } }));
}

function clearError() {
  ui.showError(loadError);
}

// What the status line says when nothing is being shown.
function idleStatus() {
  if (loadFailed) return 'The detector is not available.';
  if (!detector) return 'Loading the detector…';
  return 'Ready. Press Start camera, or upload an image or video.';
}

// ---- loading ----------------------------------------------------------------------------------

async function load() {
  for (const problem of query.problems) ui.addWarning(problem);
  // The build says which runtime the page will most likely start with. LiteRT.js takes a few
  // hundred ms to download and compile, which can overlap fetching config.json this way. If it
  // then fails, the failure comes back when that backend is tried, and the page falls back.
  const firstRuntime = query.backend
    ? (LITERT_BACKENDS.includes(query.backend) ? 'litert' : 'tfjs')
    : document.documentElement.dataset.firstRuntime;
  if (firstRuntime === 'litert') loadLiteRtRuntime().catch(() => {});
  try {
    config = await loadConfig();
    applyConfig(config);
    // Model weights download while the runtime and its backend start (see BackendLauncher).
    launcher = new BackendLauncher(config, (loaded, total) => ui.setProgress(loaded, total));
    const backend = await chooseBackend(launcher, query.backend);
    backendName = backend.name;
    backendFailures = backend.failures;
    ui.setBackend(backend.description);
    for (const warning of backend.warnings) ui.addWarning(warning);
    const loaded = backend.detector;
    ui.hideProgress();
    detector = loaded;
    tuningCandidates = query.backend ? [] : await tuningCandidatesFor(backend.name);
  } catch (error) {
    loadFailed = true;
    ui.hideProgress();
    ui.setStatus(currentSource ? statusFor(currentSource) : idleStatus());
    const message = userMessage(error, 'The detector could not start');
    loadError = message;
    reportError(message);
    settleReady.reject(new Error(message));
    return;
  }
  ui.setStatus(currentSource ? statusFor(currentSource) : idleStatus());
  settleReady.resolve();
  window.dispatchEvent(new CustomEvent('sitegen:ready', { detail: { backend: backendName, failures: backendFailures } }));
  // An image uploaded while the model was loading gets its detections now.
  if (currentSource?.kind === 'image') runOnce(currentSource);
}

function applyConfig(loadedConfig) {
  if (query.threshold === null && typeof loadedConfig.threshold === 'number') threshold = loadedConfig.threshold;
  ui.setThreshold(threshold);
  if (Number.isInteger(loadedConfig.maxDetections) && loadedConfig.maxDetections > 0) maxDetections = loadedConfig.maxDetections;
  labelFor = makeLabelLookup(loadedConfig.labels);
  frameInput = new FrameInput(loadedConfig.model.input.size ?? null);
}

// ---- detection --------------------------------------------------------------------------------

// One inference at a time, across all sources: an image run waits for the camera frame in flight.
let queue = Promise.resolve();
function serialised(task) {
  const run = queue.then(task);
  queue = run.catch(() => {});
  return run;
}

function naturalSize(element) {
  return element instanceof HTMLVideoElement
    ? [element.videoWidth, element.videoHeight]
    : [element.naturalWidth, element.naturalHeight];
}

// The backends worth timing here against the one running: GPU backends on real graphics hardware
// (the build already ranked the CPU ones), or every other one with ?tune=all.
async function tuningCandidatesFor(running) {
  if (query.tune === 'off') return [];
  const others = automaticBackendOrder(config).filter((name) => name !== running);
  if (query.tune === 'all') return others;
  const gpu = others.filter((name) => deviceClass(name) === 'gpu');
  const hardware = await Promise.all(gpu.map((name) => hasHardwareGpu(name)));
  return gpu.filter((_, i) => hardware[i]);
}

// Runs once, on the first frame after the detector is ready, inside the serialised queue (so no
// other inference overlaps the timing); the frame is still in the input canvas.
async function tuneOnThisFrame() {
  const candidates = tuningCandidates;
  tuningCandidates = null;
  if (!candidates?.length) return;
  const previousStatus = ui.status.textContent;
  ui.setStatus('Measuring which backend is fastest on this device…');
  const current = { name: backendName, detector, description: ui.backend.textContent };
  const trials = await timeBackends({
    current,
    candidates,
    start: (name) => launcher.start(name),
    detect: (running) => running.detectPixels(frameInput.canvas),
    select: (found) => selectDetections(found, { threshold, maxDetections, labelFor }),
  });
  const chosen = fastestAgreeing(trials);
  for (const trial of trials) {
    if (trial.started && trial.name !== chosen) trial.started.detector.dispose();
  }
  tuningResult = trials.map(({ name, medianMs, agrees, error }) => ({ name, medianMs, agrees, ...(error ? { error } : {}) }));
  const winner = trials.find((trial) => trial.name === chosen);
  if (winner.started !== current) {
    detector = winner.started.detector;
    backendName = chosen;
  }
  ui.setBackend(`${winner.started.description} (fastest of ${trials.filter((t) => t.agrees).length} measured here)`);
  ui.setStatus(previousStatus);
  window.dispatchEvent(new CustomEvent('sitegen:tuned', { detail: { backend: backendName, trials: tuningResult } }));
}

async function processFrame(source) {
  if (!detector || source !== currentSource) return;
  const [width, height] = naturalSize(source.element);
  if (!width || !height) return;
  const started = performance.now();
  frameInput.draw(source.element, width, height);
  // A still image keeps every candidate, so moving the threshold slider down can show more; a
  // video frame is replaced by the next one, so only what the threshold shows is worked out.
  const candidates = await detector.detectPixels(frameInput.canvas, source.kind === 'image' ? 0 : threshold);
  const inferenceMs = performance.now() - started;
  if (source !== currentSource) return; // stopped or replaced while the model ran
  source.last = { candidates, width, height, inferenceMs };
  publish(source);
  stats.record(inferenceMs);
  if (tuningCandidates) await tuneOnThisFrame();
}

// Reports the source's last result. Runs synchronously, before the next frame can be drawn into the
// input canvas, so `sitegen:detections` listeners can read the pixels the model saw.
function publish(source) {
  const { candidates, width, height, inferenceMs } = source.last;
  const detections = selectDetections(candidates, { threshold, maxDetections, labelFor });
  frameCounter += 1;
  // The overlay first, so a listener calling window.sitegen.overlay() sees this frame's boxes.
  overlay.show(source.element, detections, width, height);
  ui.showDetections(detections, { immediate: source.kind === 'image' });
  window.dispatchEvent(new CustomEvent('sitegen:detections', {
    detail: { source: source.kind, frame: frameCounter, width, height, backend: backendName, inferenceMs, detections },
  }));
}

function runOnce(source) {
  serialised(() => processFrame(source)).catch((error) => detectionFailed(source, error));
}

function detectionFailed(source, error) {
  if (source !== currentSource) return;
  stopSource();
  reportError(userMessage(error, 'Detection failed'));
}

// Frames per second over the last second or so, and a smoothed inference time.
const stats = {
  windowStart: 0,
  frames: 0,
  fps: null,
  inferenceMs: null,
  record(inferenceMs) {
    const now = performance.now();
    if (this.frames === 0) this.windowStart = now;
    this.frames += 1;
    if (now - this.windowStart >= 1000) {
      this.fps = ((this.frames - 1) * 1000) / (now - this.windowStart);
      this.frames = 1;
      this.windowStart = now;
    }
    this.inferenceMs = this.inferenceMs === null ? inferenceMs : 0.8 * this.inferenceMs + 0.2 * inferenceMs;
    ui.setStats(this.fps, this.inferenceMs);
  },
  reset() {
    this.frames = 0;
    this.fps = null;
    ui.setStats(null, this.inferenceMs);
  },
};

// ---- sources ----------------------------------------------------------------------------------

function statusFor(source) {
  const what = { camera: 'Camera on', video: 'Playing the uploaded video', image: 'Showing the uploaded image' }[source.kind];
  if (loadFailed) return `${what}; the detector is not available.`;
  return detector ? `${what}.` : `${what}; the detector is still loading…`;
}

function stopSource() {
  const source = currentSource;
  currentSource = null;
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
  releaseUpload();
  overlay.clear();
  ui.showMedia(null);
  ui.showDetections([], { immediate: true });
  ui.setCameraRunning(false);
  stats.reset();
}

function startLoop(source) {
  source.stopLoop = runVideoLoop(
    source.element,
    () => serialised(() => processFrame(source)),
    (error) => detectionFailed(source, error),
  );
}

async function startCamera(deviceId) {
  stopSource();
  clearError();
  const source = { kind: 'camera', element: ui.video, stream: null };
  currentSource = source;
  ui.setCameraRunning(true);
  ui.setStatus('Starting the camera…');
  try {
    const stream = await openCamera(deviceId);
    if (source !== currentSource) {
      stopStream(stream); // stopped or replaced while the permission prompt was open
      return;
    }
    source.stream = stream;
    ui.video.srcObject = stream;
    ui.video.muted = true;
    ui.showMedia('video'); // visible before play: hidden videos get no frame callbacks
    await ui.video.play();
    if (source !== currentSource) return;
    startLoop(source);
    ui.setStatus(statusFor(source));
    refreshCameraList(streamDeviceId(stream)); // labels are readable now that access is granted
  } catch (error) {
    if (source !== currentSource) return;
    stopSource();
    ui.setStatus(idleStatus());
    reportError(userMessage(error, 'The camera could not be started'));
  }
}

async function openFile(file) {
  const kind = fileKind(file);
  if (!kind) {
    reportError(`${file.name} is not an image or a video. Choose an image (JPEG, PNG…) or a video (MP4, WebM…).`);
    return;
  }
  stopSource();
  clearError();
  const source = { kind, element: kind === 'image' ? ui.image : ui.video };
  currentSource = source;
  try {
    if (kind === 'image') {
      await showImage(file, ui.image);
      if (source !== currentSource) return;
      ui.showMedia('image');
      ui.setStatus(statusFor(source));
      runOnce(source);
    } else {
      ui.showMedia('video');
      await playVideoFile(file, ui.video);
      if (source !== currentSource) return;
      startLoop(source);
      ui.setStatus(statusFor(source));
    }
  } catch (error) {
    if (source !== currentSource) return;
    stopSource();
    ui.setStatus(idleStatus());
    reportError(userMessage(error, `Could not open ${file.name}`));
  }
}

async function refreshCameraList(selectedId) {
  ui.setCameras(await listCameras(), selectedId);
}

// ---- controls ---------------------------------------------------------------------------------

ui.cameraToggle.addEventListener('click', () => {
  if (currentSource?.kind === 'camera') {
    stopSource();
    ui.setStatus(detector ? 'Camera off.' : idleStatus());
  } else {
    startCamera(ui.cameraSelect.value);
  }
});

ui.cameraSelect.addEventListener('change', () => {
  if (currentSource?.kind === 'camera') startCamera(ui.cameraSelect.value);
});

ui.fileInput.addEventListener('change', () => {
  const file = ui.fileInput.files?.[0];
  if (file) openFile(file);
});

ui.threshold.addEventListener('input', () => {
  threshold = Number(ui.threshold.value);
  ui.setThreshold(threshold);
  // A still image gets no new frames: show its last result again at the new threshold.
  const source = currentSource;
  if (source?.kind === 'image' && source.last && !source.republishQueued) {
    source.republishQueued = true;
    serialised(() => {
      source.republishQueued = false;
      if (source === currentSource) publish(source);
    });
  }
});

if (cameraAvailable()) {
  refreshCameraList();
  navigator.mediaDevices.addEventListener?.('devicechange', () => refreshCameraList());
}

ui.setThreshold(threshold);
load();
if (query.autostart) startCamera(ui.cameraSelect.value);
