// The detector session without a DOM: the inference queue, the frame statistics, publishing,
// the threshold re-publish, tuning, stopping a source and the load error path (`node --test tests/js/`).

import assert from 'node:assert/strict';
import test from 'node:test';

import { MESSAGES } from '../../assets/js/camera.js';
import { SourcePlayer } from '../../assets/js/player.js';
import { FrameStats } from '../../assets/js/frame_stats.js';
import { SerialQueue } from '../../assets/js/serial_queue.js';
import { DetectorSession } from '../../assets/js/session.js';

// processFrame tells a video from an image by its class; Node has neither.
globalThis.HTMLVideoElement ??= class HTMLVideoElement {};

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A PageUi stand-in that records what the session does to the page, in order. */
function fakeUi({ slider = '0.5' } = {}) {
  const log = [];
  const video = Object.assign(new HTMLVideoElement(), {
    videoWidth: 640,
    videoHeight: 480,
    srcObject: 'stream',
    pause: () => log.push(['video.pause']),
    removeAttribute: (name) => log.push(['video.removeAttribute', name]),
    load: () => log.push(['video.load']),
  });
  const image = {
    naturalWidth: 800,
    naturalHeight: 600,
    removeAttribute: (name) => log.push(['image.removeAttribute', name]),
  };
  return {
    log,
    video,
    image,
    threshold: { value: slider },
    status: { textContent: '' },
    backend: { textContent: '' },
    errorText: '',
    setStatus(text) {
      this.status.textContent = text;
      log.push(['status', text]);
    },
    showError(message) {
      this.errorText = message;
      log.push(['error', message]);
    },
    addWarning: (message) => log.push(['warning', message]),
    setProgress: () => {},
    hideProgress: () => log.push(['hideProgress']),
    setBackend(description) {
      this.backend.textContent = description;
    },
    setStats: (fps, inferenceMs) => log.push(['stats', fps, inferenceMs]),
    setThreshold: (value) => log.push(['threshold', value]),
    showMedia: (which) => log.push(['media', which]),
    showDetections: (detections, { immediate }) => log.push(['list', detections.map((d) => d.label), immediate]),
    setCameraRunning: (running) => log.push(['cameraRunning', running]),
    setCameras: () => {},
    setMaxDetections: (value) => log.push(['maxDetections', value]),
    showCounts: () => {},
    setMirrored: (mirrored) => log.push(['mirrored', mirrored]),
    setPlayback: () => {},
    setFacingSwitch: () => {},
  };
}

function fakeOverlay(log) {
  return {
    show: (element, detections, width, height) => log.push(['overlay', detections.length, width, height]),
    clear: () => log.push(['overlay.clear']),
    setLabels: () => {},
    setMirrored: () => {},
  };
}

const candidate = (classId, score) => ({ classId, score, ymin: 0.1, xmin: 0.2, ymax: 0.5, xmax: 0.6 });

/** A detector whose every run returns `candidates`, after `delayMs` (or when `gate` resolves). */
function fakeDetector(candidates, { delayMs = 0, calls = [] } = {}) {
  return {
    calls,
    disposed: false,
    gates: [],
    async detectPixels(canvas, scoreFloor) {
      calls.push(scoreFloor);
      if (this.gates.length) await this.gates.shift();
      else if (delayMs) await sleep(delayMs);
      return candidates;
    },
    memory: () => ({ numTensors: 7 }),
    dispose() {
      this.disposed = true;
    },
  };
}

function makeSession({ query = {}, slider } = {}) {
  const ui = fakeUi({ slider });
  const events = new EventTarget();
  const seen = [];
  for (const type of ['sitegen:detections', 'sitegen:ready', 'sitegen:tuned', 'sitegen:error']) {
    events.addEventListener(type, (event) => {
      ui.log.push(['event', type]);
      seen.push({ type, detail: event.detail });
    });
  }
  const released = [];
  const uploads = {
    release: () => released.push('release'),
    create: () => 'blob:fake',
    adopt: (url) => released.push(`adopt ${url}`),
    discard: (url) => released.push(`discard ${url}`),
  };
  const session = new DetectorSession({
    ui,
    overlay: fakeOverlay(ui.log),
    query: { autostart: false, backend: null, threshold: null, tune: 'auto', problems: [], ...query },
    events,
    firstRuntime: 'tfjs',
    uploads,
  });
  return { session, ui, seen, released };
}

/** A session whose detector is loaded, as after load(): labels, frame input and no tuning left. */
function loadedSession(options) {
  const made = makeSession(options);
  const { session } = made;
  session.detector = fakeDetector([candidate(1, 0.9), candidate(2, 0.3)]);
  session.backendName = 'wasm';
  session.labelFor = (classId) => ['none', 'kangaroo', 'stop sign'][classId];
  session.frameInput = { canvas: 'input-canvas', draws: [], draw(...args) { this.draws.push(args); }, toFrame: (candidates) => candidates };
  return made;
}

test('the queue runs one task at a time, in order, and a failure stops only its own task', async () => {
  const queue = new SerialQueue();
  const order = [];
  const first = deferred();
  const a = queue.run(async () => {
    order.push('a start');
    await first.promise;
    order.push('a end');
    return 'a';
  });
  const b = queue.run(() => {
    order.push('b');
    throw new Error('b failed');
  });
  const c = queue.run(() => {
    order.push('c');
    return 'c';
  });
  await sleep(5);
  assert.deepEqual(order, ['a start'], 'b and c wait for a');
  first.resolve();
  assert.equal(await a, 'a');
  await assert.rejects(b, /b failed/);
  assert.equal(await c, 'c');
  assert.deepEqual(order, ['a start', 'a end', 'b', 'c']);
});

test('frame statistics: fps over a window of at least a second, smoothed inference time', () => {
  let now = 0;
  const shown = [];
  const stats = new FrameStats((fps, ms) => shown.push([fps, ms]), () => now);
  stats.record(10);
  assert.deepEqual(shown.at(-1), [null, 10], 'no fps before a second has passed');
  now = 500;
  stats.record(20);
  assert.equal(shown.at(-1)[0], null);
  assert.ok(Math.abs(shown.at(-1)[1] - 12) < 1e-9, '0.8 * 10 + 0.2 * 20');
  now = 1000;
  stats.record(10);
  assert.equal(stats.fps, 2, 'two frames after the first in 1000 ms');
  assert.equal(stats.frames, 1, 'the window restarts at this frame');
  now = 1250;
  stats.record(10);
  now = 2250;
  stats.record(10);
  assert.equal(stats.fps, 1.6, 'two frames after the window start in 1250 ms');
  stats.reset();
  assert.deepEqual(shown.at(-1), [null, stats.inferenceMs], 'reset clears fps, keeps the inference time');
  now = 2300;
  stats.record(10);
  assert.equal(stats.fps, null, 'a new window starts after a reset');
  assert.equal(stats.windowStart, 2300);
});

test('the threshold starts from the address, else the slider', () => {
  assert.equal(makeSession({ query: { threshold: 0.25 }, slider: '0.7' }).session.threshold, 0.25);
  assert.equal(makeSession({ slider: '0.7' }).session.threshold, 0.7);
  assert.equal(makeSession({ slider: 'not a number' }).session.threshold, 0.5, 'DEFAULTS.threshold');
  assert.equal(makeSession().session.maxDetections, 20, 'DEFAULTS.maxDetections');
});

test('state and status texts follow loading and the source', () => {
  const { session } = makeSession();
  assert.equal(session.state, 'loading');
  assert.equal(session.idleStatus(), 'Loading the detector…');
  assert.equal(session.statusFor({ kind: 'image' }), 'Showing the uploaded image; the detector is still loading…');
  session.detector = fakeDetector([]);
  assert.equal(session.state, 'ready');
  assert.equal(session.idleStatus(), 'Ready. Press Start camera, or upload an image or video.');
  assert.equal(session.statusFor({ kind: 'camera' }), 'Camera on.');
  session.currentSource = { kind: 'image' };
  assert.equal(session.state, 'ready', 'a still image is not "running"');
  session.currentSource = { kind: 'video' };
  assert.equal(session.state, 'running');
  assert.equal(session.currentStatus(), 'Playing the uploaded video.');
  session.loadFailed = true;
  assert.equal(session.state, 'error');
  assert.equal(session.idleStatus(), 'The detector is not available.');
  assert.equal(session.statusFor({ kind: 'camera' }), 'Camera on; the detector is not available.');
  assert.deepEqual(session.memory(), { numTensors: 7 });
});

test('a video frame is detected at the threshold and published: overlay, list, then the event', async () => {
  const { session, ui, seen } = loadedSession();
  const source = { kind: 'video', element: ui.video };
  session.currentSource = source;
  await session.serialised(() => session.processFrame(source));
  assert.deepEqual(session.detector.calls, [0.5], 'a live frame only needs candidates above the threshold');
  assert.deepEqual(session.frameInput.draws, [[ui.video, 640, 480]]);
  const detections = seen.filter((event) => event.type === 'sitegen:detections');
  assert.equal(detections.length, 1);
  const { detail } = detections[0];
  assert.deepEqual(Object.keys(detail), ['source', 'frame', 'width', 'height', 'backend', 'inferenceMs', 'engineMs', 'detections']);
  assert.equal(detail.engineMs, null); // TF.js does not time its run apart
  assert.equal(detail.source, 'video');
  assert.equal(detail.frame, 1);
  assert.equal(detail.width, 640);
  assert.equal(detail.height, 480);
  assert.equal(detail.backend, 'wasm');
  assert.equal(typeof detail.inferenceMs, 'number');
  assert.deepEqual(detail.detections.map((d) => [d.label, d.score]), [['kangaroo', 0.9]]);
  const order = ui.log.map(([what]) => what).filter((what) => ['overlay', 'list', 'event', 'stats'].includes(what));
  assert.deepEqual(order, ['overlay', 'list', 'event', 'stats'], 'the overlay is drawn before the event; stats after');
  assert.deepEqual(ui.log.find(([what]) => what === 'list'), ['list', ['kangaroo'], false], 'a live list is throttled');
  assert.deepEqual(source.last.candidates.length, 2);
});

test('a still image keeps every candidate and is listed at once; frames count up', async () => {
  const { session, ui, seen } = loadedSession();
  session.maxDetections = 1;
  session.threshold = 0.2;
  const source = { kind: 'image', element: ui.image };
  session.currentSource = source;
  await session.serialised(() => session.processFrame(source));
  await session.serialised(() => session.processFrame(source));
  assert.deepEqual(session.detector.calls, [0, 0]);
  assert.deepEqual(seen.map((event) => [event.detail.source, event.detail.frame, event.detail.width]), [['image', 1, 800], ['image', 2, 800]]);
  assert.equal(seen[0].detail.detections.length, 1, 'maxDetections');
  assert.deepEqual(ui.log.find(([what]) => what === 'list'), ['list', ['kangaroo'], true]);
});

test('work for a source that is no longer current is dropped', async () => {
  const { session, ui, seen } = loadedSession();
  const video = { kind: 'video', element: ui.video };
  await session.processFrame(video);
  assert.deepEqual(session.detector.calls, [], 'not current: not even detected');

  const gate = deferred();
  session.detector.gates.push(gate.promise);
  session.currentSource = video;
  const inFlight = session.serialised(() => session.processFrame(video));
  await sleep(0);
  assert.deepEqual(session.detector.calls, [0.5], 'the video frame is in the model');
  // An image replaces the video while the video's frame is in the model; its run waits its turn.
  const image = { kind: 'image', element: ui.image };
  session.currentSource = image;
  session.runOnce(image);
  await sleep(5);
  assert.deepEqual(session.detector.calls, [0.5], 'the image waits for the frame in flight');
  gate.resolve();
  await inFlight;
  await session.serialised(() => {});
  assert.deepEqual(session.detector.calls, [0.5, 0]);
  assert.deepEqual(seen.map((event) => event.detail.source), ['image'], 'the video result was dropped');
  assert.equal(video.last, undefined);
  assert.equal(seen[0].detail.frame, 1);
});

test('moving the threshold re-publishes a still image once, through the queue, at the new value', async () => {
  const { session, ui, seen } = loadedSession();
  const image = { kind: 'image', element: ui.image };
  session.currentSource = image;
  await session.serialised(() => session.processFrame(image));
  assert.deepEqual(seen.at(-1).detail.detections.map((d) => d.label), ['kangaroo']);

  const gate = deferred();
  session.serialised(() => gate.promise); // an inference in flight
  session.setThreshold(0.4);
  session.setThreshold(0.25);
  assert.deepEqual(ui.log.filter(([what]) => what === 'threshold'), [['threshold', 0.4], ['threshold', 0.25]]);
  await sleep(5);
  assert.equal(seen.length, 1, 'the re-publish waits for the inference in flight');
  gate.resolve();
  await session.serialised(() => {});
  assert.equal(seen.length, 2, 'two moves, one re-publish');
  assert.deepEqual(seen[1].detail.detections.map((d) => d.label), ['kangaroo', 'stop sign'], 'at 0.25');
  assert.equal(seen[1].detail.frame, 2);
  assert.equal(session.detector.calls.length, 1, 'no new inference');

  session.setThreshold(0.5);
  session.currentSource = null; // replaced before the queued re-publish ran
  await session.serialised(() => {});
  assert.equal(seen.length, 2);

  const video = { kind: 'video', element: ui.video, last: image.last };
  session.currentSource = video;
  session.setThreshold(0.1);
  await session.serialised(() => {});
  assert.equal(seen.length, 2, 'a live source gets the threshold with its next frame');
});

test('timeDetector runs the detector on the last frame, in the queue', async () => {
  const { session } = loadedSession();
  const times = await session.timeDetector(3);
  assert.equal(times.length, 3);
  assert.ok(times.every((ms) => typeof ms === 'number' && ms >= 0));
  assert.deepEqual(session.detector.calls, [undefined, undefined, undefined], 'every candidate, as detectPixels defaults');
  assert.equal((await session.timeDetector()).length, 5);
  session.detector = null;
  assert.deepEqual(await session.timeDetector(3), []);
});

test('timeEngine gives the engine run each detection reports, or null where it reports none', async () => {
  const { session } = loadedSession();
  assert.deepEqual(await session.timeEngine(2), [null, null], 'TF.js times no run apart');
  let run = 0;
  Object.defineProperty(session.detector, 'lastRunMs', { get: () => (run += 1.5) });
  assert.deepEqual(await session.timeEngine(3), [1.5, 3, 4.5]);
});

test('a failed detection stops the source and reports after the load error', async () => {
  const { session, ui, seen, released } = loadedSession();
  session.detector.detectPixels = async () => {
    throw new Error('boom');
  };
  session.loadError = 'Earlier.';
  const image = { kind: 'image', element: ui.image };
  session.currentSource = image;
  session.runOnce(image);
  await session.serialised(() => {});
  await sleep(0);
  assert.equal(session.currentSource, null);
  assert.deepEqual(seen, [{ type: 'sitegen:error', detail: { message: 'Detection failed: boom' } }]);
  assert.equal(ui.errorText, 'Earlier. Detection failed: boom');
  assert.deepEqual(released, ['release']);
  assert.ok(ui.log.some(([what, which]) => what === 'media' && which === null));
  session.clearError();
  assert.equal(ui.errorText, 'Earlier.');
});

test('stopping a camera stops its loop and tracks and resets the video and the readouts', () => {
  const { session, ui, released } = loadedSession();
  const stopped = [];
  const stream = { getTracks: () => [{ stop: () => stopped.push('track') }] };
  session.currentSource = { kind: 'camera', element: ui.video, stream, stopLoop: () => stopped.push('loop') };
  session.stopSource();
  assert.equal(session.currentSource, null);
  assert.deepEqual(stopped, ['loop', 'track']);
  assert.equal(ui.video.srcObject, null);
  assert.deepEqual(ui.log, [
    ['video.pause'], ['video.removeAttribute', 'src'], ['video.load'],
    ['overlay.clear'], ['media', null], ['list', [], true], ['cameraRunning', false], ['mirrored', false],
    ['stats', null, null],
  ]);
  assert.deepEqual(released, ['release']);
  ui.log.length = 0;
  session.stopSource();
  assert.deepEqual(ui.log, [], 'nothing shown: nothing to stop');
});

test('tuning on the first frame switches to a faster backend that agrees, once', async () => {
  const { session, ui, seen } = loadedSession();
  const found = [candidate(1, 0.9)];
  const slow = fakeDetector(found, { delayMs: 15 });
  const fast = fakeDetector(found);
  session.detector = slow;
  session.tuningCandidates = ['webgl'];
  session.launcher = { start: async (name) => ({ name, detector: fast, description: 'TF.js WebGL' }) };
  ui.backend.textContent = 'TF.js WASM';
  const video = { kind: 'video', element: ui.video };
  session.currentSource = video;
  ui.setStatus('Camera on.');
  await session.serialised(() => session.processFrame(video));
  assert.equal(session.detector, fast);
  assert.equal(session.backendName, 'webgl');
  assert.ok(slow.disposed, 'the slower backend is released');
  assert.ok(!fast.disposed);
  assert.equal(ui.backend.textContent, 'TF.js WebGL (fastest of 2 measured here)');
  assert.equal(ui.status.textContent, 'Camera on.', 'the status comes back after measuring');
  assert.ok(ui.log.some(([what, text]) => what === 'status' && text === 'Measuring which backend is fastest on this device…'));
  const tuned = seen.find((event) => event.type === 'sitegen:tuned');
  assert.equal(tuned.detail.backend, 'webgl');
  assert.deepEqual(tuned.detail.trials.map((trial) => [trial.name, trial.agrees]), [['wasm', true], ['webgl', true]]);
  assert.deepEqual(session.tuningResult, tuned.detail.trials);
  assert.equal(seen[0].type, 'sitegen:detections', 'the frame is published before tuning');
  assert.equal(seen[0].detail.backend, 'wasm');
  assert.equal(session.tuningCandidates, null);
  await session.serialised(() => session.processFrame(video));
  assert.equal(seen.filter((event) => event.type === 'sitegen:tuned').length, 1, 'only on the first frame');
  assert.equal(seen.at(-1).detail.backend, 'webgl');
});

test('a config that cannot be loaded fails the session with the page\'s message', async (t) => {
  const realFetch = globalThis.fetch;
  t.after(() => {
    globalThis.fetch = realFetch;
  });
  const requested = [];
  globalThis.fetch = async (url) => {
    requested.push(url);
    return { ok: false, status: 404 };
  };
  const { session, ui, seen } = makeSession({ query: { problems: ['Ignored backend=metal in the address.'] } });
  const image = { kind: 'image', element: ui.image };
  session.currentSource = image;
  await session.load();
  const message = 'Could not load the site configuration: config.json returned HTTP 404. Upload every file of the built site.';
  assert.deepEqual(requested, ['config.json']);
  assert.equal(session.state, 'error');
  assert.deepEqual(ui.log, [
    ['warning', 'Ignored backend=metal in the address.'],
    ['hideProgress'],
    ['status', 'Showing the uploaded image; the detector is not available.'],
    ['error', message],
    ['event', 'sitegen:error'],
  ]);
  assert.deepEqual(seen, [{ type: 'sitegen:error', detail: { message } }]);
  await assert.rejects(session.ready, new Error(message));
  assert.equal(session.loadError, message);
  session.reportError('Camera refused.');
  assert.equal(ui.errorText, `${message} Camera refused.`, 'the load error stays on screen');
});

test('the player: a file that is neither image nor video, an image, and a camera on an insecure page', async (t) => {
  const { session, ui, seen } = makeSession();
  const player = new SourcePlayer(session, ui);
  await player.openFile({ name: 'notes.pdf', type: 'application/pdf' });
  assert.equal(seen.at(-1).detail.message, 'notes.pdf is not an image or a video. Choose an image (JPEG, PNG…) or a video (MP4, WebM…).');
  assert.equal(session.currentSource, null);

  // The image is decoded off-screen first (probeImage), then shown.
  t.after(() => {
    delete globalThis.Image;
  });
  globalThis.Image = class { naturalWidth = 800; naturalHeight = 600; async decode() {} };
  ui.image.decode = async () => {};
  await player.openFile({ name: 'empty.png', type: 'image/png', size: 0 });
  assert.equal(seen.at(-1).detail.message, 'empty.png is empty (0 bytes). Choose another file.');
  assert.equal(session.currentSource, null);
  await player.openFile({ name: 'roo.png', type: 'image/png', size: 1000 });
  assert.equal(session.currentSource.kind, 'image');
  assert.equal(ui.image.src, 'blob:fake');
  assert.equal(ui.status.textContent, 'Showing the uploaded image; the detector is still loading…');
  assert.equal(session.state, 'loading');

  t.after(() => {
    delete globalThis.window;
  });
  globalThis.window = { isSecureContext: false };
  ui.log.length = 0;
  await player.startCamera();
  assert.equal(session.currentSource, null);
  assert.deepEqual(seen.at(-1).detail, { message: MESSAGES.insecure });
  const steps = ui.log.filter(([what]) => ['cameraRunning', 'status'].includes(what));
  assert.deepEqual(steps, [
    ['cameraRunning', false], // the image stopped
    ['cameraRunning', true],
    ['status', 'Starting the camera…'],
    ['cameraRunning', false],
    ['status', 'Loading the detector…'],
  ]);
  assert.ok(!player.cameraOn);
});
