// Wires the page together: makes the page cross-origin isolated through the site's service worker
// where it has one (isolation.js; this may reload the page once), creates the detector session
// (session.js) and the source player (player.js) on the page's DOM, connects the controls to
// them, installs `window.sitegen` (which tests and the build's timing read) and starts loading.

import { cameraAvailable } from './camera.js';
import { readQuery } from './config.js';
import { ensureIsolation, keepForOffline, loadedUrls } from './isolation.js';
import { SourcePlayer } from './player.js';
import { Overlay } from './renderer.js';
import { DetectorSession } from './session.js';
import { PageUi } from './ui.js';

const isolation = await ensureIsolation({
  url: document.documentElement.dataset.serviceWorker,
  serviceWorker: navigator.serviceWorker,
  storage: globalThis.sessionStorage,
  reload: () => window.location.reload(),
  isolated: globalThis.crossOriginIsolated === true,
});
// When the page reloads to become isolated, nothing else starts on this load.
if (isolation.state !== 'reloading') start(isolation);

function start(isolation) {
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
  const offline = { files: null };
  window.sitegen = pageApi(session, overlay, isolation, offline);
  connectControls(ui, session, player);

  ui.setThreshold(session.threshold);
  if (isolation.reason) ui.addWarning(`Running without threads: ${isolation.reason}.`);
  session.load();
  if (query.autostart) player.startCamera(ui.cameraSelect.value);
  if (isolation.state !== 'none' && isolation.state !== 'unavailable') {
    session.ready.then(() => keepOffline(ui, offline)).catch(() => {});
  }
}

function pageApi(session, overlay, isolation, offline) {
  return {
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
    /** What the site's service worker did: {state, reason?} (state 'none' without one). */
    isolation,
    /** How many files the service worker keeps for offline use, once it has them all; else null. */
    get offlineFiles() {
      return offline.files;
    },
  };
}

function connectControls(ui, session, player) {
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
}

// Once the detector runs, everything it needed is known: the service worker keeps it all.
async function keepOffline(ui, offline) {
  try {
    const urls = loadedUrls(window.location.href, performance.getEntriesByType('resource'));
    offline.files = await keepForOffline(navigator.serviceWorker, urls);
    ui.setOffline(`Ready offline (${offline.files} files)`);
    window.dispatchEvent(new CustomEvent('sitegen:offline-ready', { detail: { files: offline.files } }));
  } catch (error) {
    ui.setOffline(`Not available (${error?.message ?? error})`);
  }
}
