// The page's DOM outside the picture: status, progress, errors, readouts, controls and the
// detection list. Everything coming from data (labels, file names, messages) goes in as text.

import { colourFor, describeDetection } from './renderer.js';

const byId = (id) => document.getElementById(id);

export class PageUi {
  constructor() {
    this.stage = byId('stage');
    this.video = byId('video');
    this.image = byId('image');
    this.overlayCanvas = byId('overlay');
    this.placeholder = byId('placeholder');
    this.status = byId('status');
    this.progress = byId('progress');
    this.error = byId('error');
    this.warning = byId('warning');
    this.cameraToggle = byId('camera-toggle');
    this.cameraSelect = byId('camera-select');
    this.facingToggle = byId('facing-toggle');
    this.playbackToggle = byId('playback-toggle');
    this.snapshotButton = byId('snapshot');
    this.fileInput = byId('file');
    this.threshold = byId('threshold');
    this.thresholdValue = byId('threshold-value');
    this.maxDetections = byId('max-detections');
    this.labelsToggle = byId('show-labels');
    this.counts = byId('counts');
    this.backend = byId('backend');
    this.fps = byId('fps');
    this.inferenceMs = byId('inference-ms');
    this.offline = byId('offline'); // only on sites with a service worker (sitegen publish)
    this.detections = byId('detections');
    this.listThrottle = new ListThrottle((items) => this.renderDetectionList(items));
    this.colourLegend();
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  setProgress(loaded, total) {
    this.modelBytes = { loaded, total };
    if (total > 0) {
      this.progress.max = total;
      this.progress.value = Math.min(loaded, total);
    } else {
      this.progress.removeAttribute('value'); // indeterminate
    }
    this.showLoading();
  }

  /** Bytes of the runtime (TF.js or LiteRT.js: scripts and WebAssembly) downloaded so far. */
  setRuntimeBytes(bytes) {
    this.runtimeBytes = bytes;
    if (!this.progress.hidden) this.showLoading();
  }

  showLoading() {
    const { loaded, total } = this.modelBytes ?? { loaded: 0, total: 0 };
    const model = total > 0 ? `${formatMegabytes(loaded)} of ${formatMegabytes(total)}` : formatMegabytes(loaded);
    const runtime = this.runtimeBytes ? `; runtime ${formatMegabytes(this.runtimeBytes)}` : '';
    this.setStatus(`Loading the model… ${model}${runtime}`);
  }

  hideProgress() {
    this.progress.hidden = true;
  }

  showError(message) {
    this.error.textContent = message;
  }

  addWarning(message) {
    this.warning.textContent = this.warning.textContent ? `${this.warning.textContent} ${message}` : message;
  }

  setBackend(description) {
    this.backend.textContent = description;
  }

  setOffline(text) {
    if (this.offline) this.offline.textContent = text;
  }

  setStats(fps, inferenceMs) {
    this.fps.textContent = fps === null ? '–' : fps.toFixed(1);
    this.inferenceMs.textContent = inferenceMs === null ? '–' : `${Math.round(inferenceMs)} ms`;
  }

  setCameraRunning(running) {
    this.cameraToggle.textContent = running ? 'Stop camera' : 'Start camera';
  }

  /** The front/back switch, where the device has more than one camera; it names where it goes. */
  setFacingSwitch(available, facing) {
    this.facingToggle.hidden = !available;
    this.facingToggle.textContent = facing === 'user' ? 'Use back camera' : 'Use front camera';
  }

  /** Play/pause for an uploaded video: shown while one is the source. */
  setPlayback(shown) {
    this.playbackToggle.hidden = !shown;
    this.showPlaying(!this.video.paused);
  }

  showPlaying(playing) {
    this.playbackToggle.textContent = playing ? 'Pause video' : 'Play video';
  }

  /** A mirrored picture (the front camera): the stage flips the video; the overlay flips its boxes. */
  setMirrored(mirrored) {
    this.stage.classList.toggle('mirrored', mirrored);
  }

  setMaxDetections(value) {
    this.maxDetections.value = String(value);
  }

  /** "2 kangaroo, 1 stop sign": how many of each class the current frame shows. */
  showCounts(detections) {
    const counts = new Map();
    for (const { label } of detections) counts.set(label, (counts.get(label) ?? 0) + 1);
    const text = [...counts].map(([label, count]) => `${count} ${label}`).join(', ');
    if (this.counts.textContent !== text) this.counts.textContent = text;
  }

  /** The threshold readout shows the value in use, which may be finer than the slider's steps (?threshold=0.005). */
  setThreshold(value) {
    this.threshold.value = String(value);
    this.thresholdValue.textContent = formatThreshold(value);
  }

  /** Which element shows the picture: 'video', 'image' or null (placeholder). */
  showMedia(which) {
    this.video.hidden = which !== 'video';
    this.image.hidden = which !== 'image';
    this.placeholder.hidden = which !== null;
  }

  setCameras(cameras, selectedId) {
    const select = this.cameraSelect;
    const keep = selectedId ?? select.value;
    select.replaceChildren(new Option('Default camera', ''));
    for (const camera of cameras) select.add(new Option(camera.label, camera.deviceId));
    select.value = cameras.some((camera) => camera.deviceId === keep) ? keep : '';
  }

  /** `immediate` for a still image or a cleared list: one change, nothing to throttle. */
  showDetections(detections, { immediate = false } = {}) {
    this.listThrottle.push(detections, immediate);
  }

  renderDetectionList(detections) {
    const items = detections.map((detection) => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.setAttribute('aria-hidden', 'true');
      swatch.style.backgroundColor = colourFor(detection.classId);
      item.append(swatch, describeDetection(detection));
      return item;
    });
    this.detections.replaceChildren(...items);
  }

  colourLegend() {
    for (const swatch of document.querySelectorAll('.legend .swatch[data-class-id]')) {
      swatch.style.backgroundColor = colourFor(Number(swatch.dataset.classId));
    }
  }
}

// The detection list is a live region: rewriting it every frame would make a screen reader talk
// without pause. For a live source it is rewritten at most once a second while what is detected
// changes, and every few seconds while only the scores move; the last state always gets shown. A
// still image's result, or clearing the list, is shown at once.
export class ListThrottle {
  /**
   * @param {(detections: object[]) => void} render
   * @param {{changedMs?: number, sameMs?: number, now?: () => number,
   *          setTimer?: typeof setTimeout, clearTimer?: typeof clearTimeout}} [options]  timers are injectable for tests
   */
  constructor(render, {
    changedMs = 1000,
    sameMs = 4000,
    // Wrapped: setTimeout called as a method of another object throws "Illegal invocation".
    now = () => performance.now(),
    setTimer = (fn, ms) => setTimeout(fn, ms),
    clearTimer = (id) => clearTimeout(id),
  } = {}) {
    this.render = render;
    this.changedMs = changedMs;
    this.sameMs = sameMs;
    this.now = now;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.lastRender = -Infinity;
    this.lastText = null;
    this.lastLabels = null;
    this.pending = null;
    this.timer = null;
  }

  push(detections, immediate = false) {
    this.pending = detections;
    if (immediate) this.flush(true);
    else if (this.timer === null) this.flush(false);
  }

  flush(immediate) {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    const detections = this.pending;
    if (!detections) return;
    const text = detections.map(describeDetection).join('\n');
    if (text === this.lastText) {
      this.pending = null;
      return;
    }
    const labels = detections.map((d) => d.label).join('\n');
    const wait = (labels === this.lastLabels ? this.sameMs : this.changedMs) - (this.now() - this.lastRender);
    if (wait > 0 && !immediate) {
      this.timer = this.setTimer(() => this.flush(false), wait);
      return;
    }
    this.pending = null;
    this.lastText = text;
    this.lastLabels = labels;
    this.lastRender = this.now();
    this.render(detections);
  }
}

/**
 * Reports the bytes of the runtime's files (vendor/) as each finishes downloading: the runtimes
 * fetch their WebAssembly themselves, so the page sees them only through resource timing.
 * @returns {() => void} stop
 */
export function watchRuntimeDownloads(report) {
  if (typeof PerformanceObserver !== 'function') return () => {};
  let bytes = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.name.includes('/vendor/')) bytes += entry.encodedBodySize || entry.transferSize || 0;
    }
    report(bytes);
  });
  try {
    observer.observe({ type: 'resource', buffered: true });
  } catch {
    return () => {};
  }
  return () => observer.disconnect();
}

function formatMegabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function formatThreshold(value) {
  // Two decimals for slider steps, more when the address asked for a finer value.
  return Number(value.toFixed(2)) === value ? value.toFixed(2) : String(value);
}
