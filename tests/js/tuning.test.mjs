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
