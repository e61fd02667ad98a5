// Unit tests for the page's pure helpers (no DOM, no TF.js): `node --test tests/js/`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { MESSAGES, cameraError } from '../../assets/js/camera.js';
import { automaticBackendOrder, checkConfig, readQuery } from '../../assets/js/config.js';
import { PageError, userMessage } from '../../assets/js/errors.js';
import { dataSourceOf } from '../../assets/js/model.js';
import { colourFor, containRect, describeDetection } from '../../assets/js/renderer.js';
import { fileKind } from '../../assets/js/sources.js';
import { ListThrottle, formatThreshold } from '../../assets/js/ui.js';

function config(overrides = {}) {
  return {
    schema: 1,
    threshold: 0.5,
    maxDetections: 20,
    labels: { 1: 'kangaroo' },
    model: {
      url: 'model/model.json',
      format: 'graph-model',
      files: [],
      input: { name: 'input_tensor:0', dtype: 'int32', size: [320, 320] },
      outputs: { rawBoxes: 'Identity_6:0', rawScores: 'Identity_7:0' },
      postprocess: 'raw',
      numClasses: 1,
      nms: { scoreThreshold: 1e-8, iouThreshold: 0.6, maxPerClass: 100, maxTotal: 100, classAgnostic: false },
    },
    backends: { order: ['wasm', 'webgpu', 'webgl', 'cpu'], verified: { wasm: true } },
    ...overrides,
  };
}

test('every page script parses as an ES module (node --check)', () => {
  const folder = new URL('../../assets/js/', import.meta.url);
  const scripts = readdirSync(folder).filter((name) => name.endsWith('.js'));
  assert.ok(scripts.includes('app.js'));
  for (const name of scripts) {
    const result = spawnSync(process.execPath, ['--check', fileURLToPath(new URL(name, folder))], { encoding: 'utf8' });
    assert.equal(result.status, 0, `${name}: ${result.stderr}`);
  }
});

test('every page module imports in Node (no top-level DOM access)', async () => {
  const modules = readdirSync(new URL('../../assets/js/', import.meta.url)).filter((name) => name.endsWith('.js') && name !== 'app.js');
  assert.ok(modules.length >= 8);
  for (const name of modules) await import(`../../assets/js/${name}`);
});

test('query parameters', () => {
  assert.deepEqual(readQuery('?autostart=1&backend=WebGL&threshold=0.4'), { autostart: true, backend: 'webgl', threshold: 0.4, maxDetections: null, tune: 'auto', worker: true, problems: [] });
  assert.deepEqual(readQuery(''), { autostart: false, backend: null, threshold: null, maxDetections: null, tune: 'auto', worker: true, problems: [] });
  const bad = readQuery('?backend=metal&threshold=2');
  assert.equal(bad.backend, null);
  assert.equal(bad.threshold, null);
  assert.equal(bad.problems.length, 2);
  assert.equal(readQuery('?threshold=').threshold, null);
  assert.equal(readQuery('?max=100').maxDetections, 100);
  assert.equal(readQuery('?max=0').maxDetections, null);
  assert.match(readQuery('?max=2.5').problems[0], /max=2.5/);
  assert.equal(readQuery('?threshold=0').threshold, 0);
  assert.equal(readQuery('?threshold=0.005').threshold, 0.005);
});

test('automatic backend order skips backends the build found wrong', () => {
  const verified = { wasm: false, webgl: true, cpu: null };
  assert.deepEqual(automaticBackendOrder(config({ backends: { order: ['wasm', 'webgpu', 'webgl', 'cpu'], verified } })), ['webgpu', 'webgl', 'cpu']);
  assert.deepEqual(automaticBackendOrder(config({ backends: undefined })), ['wasm', 'webgpu', 'webgl', 'cpu']);
  assert.deepEqual(automaticBackendOrder(config({ backends: { order: ['cpu', 'bogus'] } })), ['cpu']);
});

test('LiteRT.js backends are tried only when the site carries a .tflite', () => {
  const litert = {
    format: 'tflite',
    files: [{ path: 'model/model.tflite.part0', bytes: 10 }],
    input: { name: 'image', dtype: 'uint8', size: [320, 320] },
    outputs: { rawBoxes: 'raw_boxes', rawScores: 'raw_scores' },
  };
  const withTflite = (backends) => {
    const base = config({ backends });
    return { ...base, model: { ...base.model, litert } };
  };
  assert.deepEqual(automaticBackendOrder(withTflite(undefined)), ['litert-wasm', 'litert-webgpu', 'wasm', 'webgpu', 'webgl', 'cpu']);
  assert.deepEqual(automaticBackendOrder(config({ backends: undefined })), ['wasm', 'webgpu', 'webgl', 'cpu']);
  const measured = { order: ['wasm', 'litert-wasm', 'cpu'], verified: { 'litert-wasm': false } };
  assert.deepEqual(automaticBackendOrder(withTflite(measured)), ['wasm', 'cpu']);
  assert.doesNotThrow(() => checkConfig(withTflite(undefined)));
  const broken = withTflite(undefined);
  broken.model.litert = { ...litert, outputs: {} };
  assert.throws(() => checkConfig(broken), /model\.litert\.outputs/);
  assert.equal(readQuery('?backend=LiteRT-WASM').backend, 'litert-wasm');
});

test('config check names what is missing', () => {
  assert.doesNotThrow(() => checkConfig(config()));
  assert.throws(() => checkConfig(config({ schema: 2 })), /schema 2/);
  const graph = config();
  graph.model.postprocess = 'graph';
  assert.throws(() => checkConfig(graph), /model\.outputs\.boxes/);
  const noSize = config();
  noSize.model.input.size = null;
  assert.doesNotThrow(() => checkConfig(noSize));
  const badSize = config();
  badSize.model.input.size = [320];
  assert.throws(() => checkConfig(badSize), /model\.input\.size/);
  assert.throws(() => checkConfig(null), PageError);
});

test('object-fit: contain rectangle', () => {
  assert.deepEqual(containRect(800, 600, 640, 480), { x: 0, y: 0, width: 800, height: 600 });
  assert.deepEqual(containRect(800, 800, 640, 480), { x: 0, y: 100, width: 800, height: 600 });
  assert.deepEqual(containRect(1000, 600, 640, 480), { x: 100, y: 0, width: 800, height: 600 });
  assert.deepEqual(containRect(100, 100, 0, 0), { x: 0, y: 0, width: 0, height: 0 });
});

test('every class has its own colour, and the detection text is "label NN%"', () => {
  const colours = Array.from({ length: 90 }, (_, i) => colourFor(i + 1));
  assert.equal(new Set(colours).size, 90);
  assert.equal(colourFor(3), colourFor(3));
  assert.match(colourFor(1), /^#/);
  assert.match(colourFor(20), /^hsl\(/);
  assert.equal(describeDetection({ label: 'kangaroo', score: 0.871 }), 'kangaroo 87%');
});

test('camera errors become the page\'s messages', () => {
  assert.equal(cameraError({ name: 'NotAllowedError' }).message, MESSAGES.refused);
  assert.equal(cameraError({ name: 'NotFoundError' }).message, MESSAGES.notFound);
  assert.equal(cameraError({ name: 'OverconstrainedError' }).message, MESSAGES.notFound);
  assert.match(cameraError(new Error('boom')).message, /boom/);
  assert.match(MESSAGES.refused, /^Camera access was refused\. Allow camera access for this site in your browser settings, then press Start camera again\.$/);
  assert.match(MESSAGES.notFound, /^No camera was found\. Connect a camera, or upload an image or video instead\.$/);
});

test('user messages: PageError as is, anything else with what failed', () => {
  assert.equal(userMessage(new PageError('Exact words.'), 'Doing'), 'Exact words.');
  assert.equal(userMessage(new Error('detail'), 'Could not do it'), 'Could not do it: detail');
});

test('uploaded files are recognised by type, then by extension', () => {
  assert.equal(fileKind({ type: 'image/png', name: 'a' }), 'image');
  assert.equal(fileKind({ type: 'video/webm', name: 'a' }), 'video');
  assert.equal(fileKind({ type: '', name: 'clip.MP4' }), 'video');
  assert.equal(fileKind({ type: 'application/pdf', name: 'a.pdf' }), null);
});

test('threshold readout keeps finer values than the slider step', () => {
  assert.equal(formatThreshold(0.5), '0.50');
  assert.equal(formatThreshold(0.005), '0.005');
  assert.equal(formatThreshold(0), '0.00');
});

test('raw outputs are requested from the data input of exporter Identity nodes', () => {
  const nodes = [
    { name: 'Postprocessor/Squeeze', op: 'Squeeze', input: ['x'] },
    { name: 'nms/Equal', op: 'NoOp', input: [] },
    { name: 'Identity_6', op: 'Identity', input: ['Postprocessor/Squeeze', '^nms/Equal'] },
    { name: 'Identity_9', op: 'Identity', input: ['Identity_6'] },
    { name: 'Split', op: 'Split', input: ['x'] },
    { name: 'Identity_8', op: 'Identity', input: ['Split:1'] },
  ];
  assert.equal(dataSourceOf(nodes, 'Identity_6:0'), 'Postprocessor/Squeeze');
  assert.equal(dataSourceOf(nodes, 'Identity_9'), 'Postprocessor/Squeeze');
  assert.equal(dataSourceOf(nodes, 'Identity_8:0'), 'Split:1');
  assert.equal(dataSourceOf(nodes, 'Postprocessor/Squeeze:0'), 'Postprocessor/Squeeze:0');
  assert.equal(dataSourceOf(nodes, 'missing:0'), null);
});

test('the detection list is throttled for live sources, immediate for a still image', () => {
  let time = 0;
  const timers = [];
  const rendered = [];
  const throttle = new ListThrottle((items) => rendered.push(items.map(describeDetection).join(', ')), {
    now: () => time,
    setTimer: (fn, ms) => timers.push({ fn, at: time + ms }) && timers.length,
    clearTimer: (id) => { timers[id - 1] = null; },
  });
  const tick = (ms) => {
    time += ms;
    timers.forEach((timer, i) => {
      if (timer && timer.at <= time) {
        timers[i] = null;
        timer.fn();
      }
    });
  };
  const det = (label, score) => ({ label, score, classId: 1 });

  throttle.push([det('kangaroo', 0.8)]);
  assert.deepEqual(rendered, ['kangaroo 80%'], 'the first result shows at once');
  throttle.push([det('kangaroo', 0.81)]);
  throttle.push([det('kangaroo', 0.82)]);
  tick(1500);
  assert.equal(rendered.length, 1, 'only scores moved: wait longer');
  tick(3000);
  assert.deepEqual(rendered.at(-1), 'kangaroo 82%', 'the latest state is shown in the end');
  throttle.push([det('kangaroo', 0.82), det('stop', 0.6)]);
  tick(500);
  assert.equal(rendered.length, 2, 'a new label still waits for the one-second interval');
  tick(600);
  assert.equal(rendered.at(-1), 'kangaroo 82%, stop 60%');
  throttle.push([det('stop', 0.9)], true);
  assert.equal(rendered.at(-1), 'stop 90%', 'immediate skips the wait');
  throttle.push([det('stop', 0.9)]);
  tick(5000);
  assert.equal(rendered.length, 4, 'unchanged text is not rewritten');
});

test('settings are remembered per site, checked on the way in, and survive broken storage', async () => {
  const { SettingsStore, settingsKey } = await import('../../assets/js/settings.js');
  assert.equal(settingsKey('/repo/'), 'sitegen:settings:/repo/');
  assert.equal(settingsKey('/repo/index.html'), 'sitegen:settings:/repo/');
  const data = new Map();
  const storage = { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, v) };
  const store = new SettingsStore(storage, 'k');
  assert.deepEqual(store.values, {});
  store.update({ threshold: 0.7, maxDetections: 5, showLabels: false, facing: 'user' });
  store.update({ maxDetections: 0 }); // not valid: forgotten, not stored
  assert.deepEqual(new SettingsStore(storage, 'k').values, { threshold: 0.7, showLabels: false, facing: 'user' });
  data.set('k', JSON.stringify({ version: 1, threshold: 7, cameraId: 3, facing: 'sideways', showLabels: true }));
  assert.deepEqual(new SettingsStore(storage, 'k').values, { showLabels: true });
  data.set('k', '{not json');
  assert.deepEqual(new SettingsStore(storage, 'k').values, {});
  const refusing = { getItem: () => { throw new Error('blocked'); }, setItem: () => { throw new Error('quota'); } };
  const forgetful = new SettingsStore(refusing, 'k');
  forgetful.update({ threshold: 0.2 });
  assert.equal(forgetful.get('threshold'), 0.2, 'kept for this visit');
  assert.deepEqual(new SettingsStore(null, 'k').values, {});
});

test('camera resolution follows the model input; snapshot names are safe', async () => {
  const { cameraResolution } = await import('../../assets/js/camera.js');
  const { snapshotFileName } = await import('../../assets/js/snapshot.js');
  assert.deepEqual(cameraResolution(null), [640, 480]);
  assert.deepEqual(cameraResolution([300, 300]), [640, 480]);
  assert.deepEqual(cameraResolution([640, 640]), [1280, 960]);
  assert.deepEqual(cameraResolution([1024, 1024]), [1920, 1440]);
  const date = new Date(2026, 11, 3, 14, 5, 2);
  assert.equal(snapshotFileName('Road signs <demo>', date), 'road-signs-demo-2026-12-03-140502.png');
  assert.equal(snapshotFileName('***', date), 'snapshot-2026-12-03-140502.png');
});

test('a drop or paste opens the first file it carries', async () => {
  const { firstFile } = await import('../../assets/js/drop.js');
  assert.equal(firstFile({ files: [] }), null);
  assert.equal(firstFile(null), null);
  assert.equal(firstFile({ files: ['a', 'b'] }), 'a');
});
