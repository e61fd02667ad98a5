// Wires the page together: creates the detector session (session.js) and the source player
// (player.js) on the page's DOM, connects the controls to them, installs `window.sitegen` (which
// tests and the build's timing read) and starts loading.

import { cameraAvailable } from './camera.js';
import { readQuery } from './config.js';
import { SourcePlayer } from './player.js';
import { Overlay } from './renderer.js';
import { DetectorSession } from './session.js';
import { PageUi } from './ui.js';

const ui = new PageUi();
const overlay = new Overlay(ui.overlayCanvas);
const query = readQuery(window.location.search);
const session = new DetectorSession({
  ui,
  overlay,
  query,
  events: window,
  firstRuntime: document.documentElement.dataset.firstRuntime,
});
const player = new SourcePlayer(session, ui);

window.sitegen = {
  get state() {
    return session.state;
  },
  get backend() {
    return session.backendName;
  },
  /** How the backends measured on this device: [{name, medianMs, agrees, error?}], or null. */
  get tuning() {
    return session.tuningResult;
  },
  get config() {
    return session.config;
  },
  get inputCanvas() {
    return session.frameInput ? session.frameInput.canvas : null;
  },
  ready: session.ready,
  memory: () => session.memory(),
  /** Runs the detector `runs` times on the last frame it saw; ms of each run. For build-time
   * timing and benchmarks: one number per backend, without a camera's frame pacing. */
  timeDetector: (runs = 5) => session.timeDetector(runs),
  overlay: () => overlay.snapshot(),
};

// ---- controls ---------------------------------------------------------------------------------

ui.cameraToggle.addEventListener('click', () => {
  if (player.cameraOn) player.stopCamera();
  else player.startCamera(ui.cameraSelect.value);
});

ui.cameraSelect.addEventListener('change', () => {
  if (player.cameraOn) player.startCamera(ui.cameraSelect.value);
});

ui.fileInput.addEventListener('change', () => {
  const file = ui.fileInput.files?.[0];
  if (file) player.openFile(file);
});

ui.threshold.addEventListener('input', () => {
  session.setThreshold(Number(ui.threshold.value));
});

if (cameraAvailable()) {
  player.refreshCameraList();
  navigator.mediaDevices.addEventListener?.('devicechange', () => player.refreshCameraList());
}

ui.setThreshold(session.threshold);
session.load();
if (query.autostart) player.startCamera(ui.cameraSelect.value);
