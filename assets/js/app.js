// Wires the page together: makes the page cross-origin isolated through the site's service worker
// where it has one (isolation.js; this may reload the page once), creates the detector session
// (session.js) and the source player (player.js) on the page's DOM, connects the controls to
// them (remembering the person's choices, settings.js), installs `window.sitegen` (which tests
// and the build's timing read) and starts loading.

import { cameraAvailable } from './camera.js';
import { readQuery } from './config.js';
import { acceptDroppedFiles } from './drop.js';
import { ensureIsolation, keepForOffline, loadedUrls } from './isolation.js';
import { SourcePlayer } from './player.js';
import { Overlay } from './renderer.js';
import { DetectorSession } from './session.js';
import { SettingsStore, settingsKey } from './settings.js';
import { downloadCanvas, snapshotCanvas, snapshotFileName } from './snapshot.js';
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
  const settings = new SettingsStore(localStorageOrNull(), settingsKey(window.location.pathname));
  const session = new DetectorSession({
    ui,
    overlay,
    query,
    events: window,
    firstRuntime: document.documentElement.dataset.firstRuntime,
    remembered: settings.values,
    storage: localStorageOrNull(),
  });
  const player = new SourcePlayer(session, ui, settings.values);
  const offline = { files: null };
  window.sitegen = pageApi(session, overlay, isolation, offline);
  connectControls(ui, session, player, settings);

  ui.setThreshold(session.threshold);
  ui.setMaxDetections(session.maxDetections);
  ui.labelsToggle.checked = session.showLabels;
  if (isolation.reason) ui.addWarning(`Running without threads: ${isolation.reason}.`);
  session.load();
  if (query.autostart) player.startCamera();
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
    /** Why that backend runs: 'address', 'remembered', 'measured' or 'build' (see session.js). */
    get backendChoice() {
      return session.backendChoice;
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
    /** The engine's own run in those runs (LiteRT.js; null entries for TF.js). */
    timeEngine: (runs = 5) => session.timeEngine(runs),
    overlay: () => overlay.snapshot(),
    /** What the site's service worker did: {state, reason?} (state 'none' without one). */
    isolation,
    /** How many files the service worker keeps for offline use, once it has them all; else null. */
    get offlineFiles() {
      return offline.files;
    },
  };
}

function connectControls(ui, session, player, settings) {
  ui.cameraToggle.addEventListener('click', () => {
    if (player.cameraOn) player.stopCamera();
    else player.startCamera();
  });
  ui.cameraSelect.addEventListener('change', () => {
    settings.update({ cameraId: ui.cameraSelect.value });
    if (player.cameraOn) player.startCamera({ cameraId: ui.cameraSelect.value });
    else player.camera.cameraId = ui.cameraSelect.value;
  });
  ui.facingToggle.addEventListener('click', async () => {
    await player.switchFacing();
    settings.update({ facing: player.camera.facing, cameraId: '' });
    ui.setFacingSwitch(!ui.facingToggle.hidden, player.camera.facing);
  });
  ui.fileInput.addEventListener('change', () => {
    const file = ui.fileInput.files?.[0];
    if (file) player.openFile(file);
  });
  acceptDroppedFiles(ui.stage, document, (file) => player.openFile(file));
  ui.playbackToggle.addEventListener('click', () => player.togglePlayback());
  ui.video.addEventListener('play', () => ui.showPlaying(true));
  ui.video.addEventListener('pause', () => ui.showPlaying(false));
  ui.snapshotButton.addEventListener('click', () => saveSnapshot(session));
  ui.threshold.addEventListener('input', () => {
    session.setThreshold(Number(ui.threshold.value));
    settings.update({ threshold: session.threshold });
  });
  ui.maxDetections.addEventListener('change', () => {
    const value = Number(ui.maxDetections.value);
    if (!(Number.isInteger(value) && value >= 1 && value <= 1000)) {
      ui.setMaxDetections(session.maxDetections); // the field's own validation message names the range
      return;
    }
    session.setMaxDetections(value);
    settings.update({ maxDetections: value });
  });
  ui.labelsToggle.addEventListener('change', () => {
    session.setShowLabels(ui.labelsToggle.checked);
    settings.update({ showLabels: ui.labelsToggle.checked });
  });
  // A hidden page releases the camera and pauses a video: no inference nobody sees.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') player.pauseWhileHidden();
    else player.resumeWhenVisible();
  });
  if (cameraAvailable()) {
    player.refreshCameraList();
    navigator.mediaDevices.addEventListener?.('devicechange', () => player.refreshCameraList());
  }
}

// The picture on show, at its own size, with the boxes the page shows for it.
async function saveSnapshot(session) {
  const source = session.currentSource;
  if (!source?.last) {
    session.reportError('Nothing to save yet: start the camera or upload an image or video, then press Save snapshot.');
    return;
  }
  const { width, height } = source.last;
  const detections = session.select(source.last.candidates);
  try {
    const canvas = snapshotCanvas(source.element, width, height, detections, { labels: session.showLabels });
    await downloadCanvas(canvas, snapshotFileName(document.title));
    window.dispatchEvent(new CustomEvent('sitegen:snapshot', { detail: { width, height, detections } }));
  } catch (error) {
    session.reportError(`The snapshot could not be saved (${error?.message ?? error}).`);
  }
}

// localStorage is missing, or throws on access, where site data is blocked.
function localStorageOrNull() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
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
