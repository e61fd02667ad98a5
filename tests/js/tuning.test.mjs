// The on-device backend choice: agreement, the fastest agreeing backend, and the timing loop.

import assert from 'node:assert/strict';
import test from 'node:test';

import { detectionsAgree, fastestAgreeing, median, timeBackends } from '../../assets/js/tuning.js';

const box = (x, y, width = 0.2, height = 0.2) => ({ x, y, width, height });
const found = (classId, score, b) => ({ classId, score, box: b, label: `class ${classId}` });

test('median of odd and even lists', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('detections agree within what a person can see, not beyond', () => {
  const reference = [found(1, 0.9, box(0.1, 0.1)), found(2, 0.7, box(0.5, 0.5))];
  assert.ok(detectionsAgree(reference, [found(1, 0.905, box(0.104, 0.1)), found(2, 0.69, box(0.5, 0.509))]));
  assert.ok(!detectionsAgree(reference, reference.slice(0, 1)), 'a missing detection');
  assert.ok(!detectionsAgree(reference, [found(2, 0.9, box(0.1, 0.1)), reference[1]]), 'another class');
  assert.ok(!detectionsAgree(reference, [found(1, 0.85, box(0.1, 0.1)), reference[1]]), 'score off by 0.05');
  assert.ok(!detectionsAgree(reference, [found(1, 0.9, box(0.13, 0.1)), reference[1]]), 'box off by 3%');
  assert.ok(detectionsAgree([], []));
});

test('the fastest backend that agrees wins; the running one is the fallback', () => {
  assert.equal(fastestAgreeing([
    { name: 'litert-wasm', medianMs: 40, agrees: true },
    { name: 'webgl', medianMs: 10, agrees: false },
    { name: 'litert-webgpu', medianMs: 12, agrees: true },
    { name: 'webgpu', medianMs: null, agrees: false },
  ]), 'litert-webgpu');
  assert.equal(fastestAgreeing([
    { name: 'wasm', medianMs: 40, agrees: true },
    { name: 'webgl', medianMs: 10, agrees: false },
  ]), 'wasm');
});

test('timeBackends times each candidate on the same frame and records failures', async () => {
  const fake = (name, delayMs, result) => ({
    name,
    description: name,
    detector: {
      runs: 0,
      disposed: false,
      dispose() { this.disposed = true; },
      async detect() {
        this.runs += 1;
        const until = performance.now() + delayMs;
        while (performance.now() < until) { /* busy: a measurable run */ }
        return result;
      },
    },
  });
  const same = [found(1, 0.9, box(0.1, 0.1))];
  const current = fake('litert-wasm', 6, same);
  const started = { 'litert-webgpu': fake('litert-webgpu', 1, same), webgl: fake('webgl', 0, [found(2, 0.9, box(0.1, 0.1))]) };
  const trials = await timeBackends({
    current,
    candidates: ['litert-webgpu', 'webgl', 'webgpu'],
    start: async (name) => {
      if (!started[name]) throw new Error('no WebGPU adapter is available');
      return started[name];
    },
    detect: (detector) => detector.detect(),
    select: (candidates) => candidates,
    runs: 3,
  });
  assert.deepEqual(trials.map((t) => [t.name, t.agrees]), [['litert-wasm', true], ['litert-webgpu', true], ['webgl', false], ['webgpu', false]]);
  assert.equal(trials[3].error, 'no WebGPU adapter is available');
  assert.equal(current.detector.runs, 4, 'one warm-up run and three timed runs');
  assert.ok(trials[0].medianMs > trials[1].medianMs);
  assert.equal(fastestAgreeing(trials), 'litert-webgpu');
});

test('the backends take turns: a burst of load slows them alike', async () => {
  const order = [];
  const fake = (name) => ({ name, description: name, detector: { dispose() {}, detect: async () => { order.push(name); return []; } } });
  await timeBackends({
    current: fake('a'),
    candidates: ['b'],
    start: async (name) => fake(name),
    detect: (detector) => detector.detect(),
    select: (candidates) => candidates,
    runs: 3,
  });
  assert.deepEqual(order, ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'], 'warm-ups, then rounds');
});

test('the fastest backend is remembered per model and device, and measured again when the model changes', async () => {
  const { backendsToTime, choiceKey, recallBackend, rememberBackend } = await import('../../assets/js/choice.js');
  const data = new Map();
  const storage = { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, v) };
  const config = (sha256, verified = {}) => ({
    model: { sha256, litert: { files: [{}] } },
    backends: { order: ['litert-wasm', 'wasm', 'webgl', 'cpu'], verified },
  });
  const a = config('a'.repeat(64));
  assert.equal(choiceKey(a), `sitegen:backend:${'a'.repeat(64)}`);
  assert.equal(choiceKey(config('')), null, 'no hash, nothing remembered');
  assert.equal(recallBackend(storage, a), null);
  rememberBackend(storage, a, 'wasm', [{ name: 'wasm', medianMs: 20, started: {} }], 1000);
  assert.equal(recallBackend(storage, a, 2000), 'wasm');
  assert.deepEqual(JSON.parse(data.get(choiceKey(a))).trials, [{ name: 'wasm', medianMs: 20 }]);
  assert.equal(recallBackend(storage, config('b'.repeat(64)), 2000), null, 'another model');
  assert.equal(recallBackend(storage, config('a'.repeat(64), { wasm: false }), 2000), null, 'no longer verified');
  assert.equal(recallBackend(storage, a, 1000 + 31 * 24 * 3600 * 1000), null, 'measured too long ago');
  data.set(choiceKey(a), '{broken');
  assert.equal(recallBackend(storage, a), null);
  assert.equal(recallBackend(null, a), null);

  // What is timed against the running backend: GPU ones only on real hardware, never TF.js's cpu.
  const noGpu = async () => false;
  assert.deepEqual(await backendsToTime(a, 'litert-wasm', 'auto', noGpu), ['wasm']);
  assert.deepEqual(await backendsToTime(a, 'litert-wasm', 'auto', async () => true), ['wasm', 'webgl']);
  assert.deepEqual(await backendsToTime(a, 'litert-wasm', 'all', noGpu), ['wasm', 'webgl', 'cpu']);
  assert.deepEqual(await backendsToTime(a, 'litert-wasm', 'off', noGpu), []);
});

test('an int8 .tflite and the float TF.js model are compared by class, IoU and a looser score', async () => {
  const { agreementFor, detectionsMatch } = await import('../../assets/js/tuning.js');
  const reference = [found(1, 0.9, box(0.1, 0.1)), found(2, 0.7, box(0.5, 0.5))];
  const int8 = [found(2, 0.66, box(0.51, 0.5)), found(1, 0.95, box(0.12, 0.1))];
  assert.ok(detectionsMatch(reference, int8), 'order and small moves do not matter');
  assert.ok(!detectionsAgree(reference, int8));
  assert.ok(!detectionsMatch(reference, [found(1, 0.9, box(0.1, 0.1)), found(1, 0.7, box(0.5, 0.5))]), 'another class');
  assert.ok(!detectionsMatch(reference, [found(1, 0.9, box(0.1, 0.1)), found(2, 0.55, box(0.5, 0.5))]), 'score off by 0.15');
  assert.ok(!detectionsMatch(reference, [found(1, 0.9, box(0.1, 0.1)), found(2, 0.7, box(0.6, 0.6))]), 'IoU below 0.5');
  const config = { model: { litert: { quantization: 'int8' } } };
  assert.equal(agreementFor(config, 'litert-wasm', 'wasm'), detectionsMatch);
  assert.equal(agreementFor(config, 'litert-wasm', 'litert-webgpu'), detectionsAgree);
  assert.equal(agreementFor({ model: { litert: { quantization: 'none' } } }, 'litert-wasm', 'wasm'), detectionsAgree);
});
