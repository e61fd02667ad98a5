// The page's end of the detector worker, with a fake worker: a frame's pixels are moved there and
// the answer carries where the round trip went.
import assert from 'node:assert/strict';
import test from 'node:test';

import { DetectorWorker, RemoteDetector, roundTrip } from '../../assets/js/remote.js';

test('roundTrip splits a frame between the message, the worker and the answer', () => {
  const parts = roundTrip({ postedAt: 1000, receivedAt: 1001.5, runMs: 9, answeredAt: 1012 }, 1013.25);
  assert.deepEqual(parts, { toWorkerMs: 1.5, workerMs: 10.5, runMs: 9, backMs: 1.25 });
});

test('a remote frame moves its pixels to the worker and keeps the engine run it reports', async () => {
  const posted = [];
  const fake = {
    postMessage(message, transfer) {
      posted.push({ message, transfer });
      const timing = { postedAt: message.args.postedAt, receivedAt: message.args.postedAt + 1, runMs: 7.5, answeredAt: message.args.postedAt + 9 };
      queueMicrotask(() => this.onmessage({ data: { id: message.id, ok: true, result: { candidates: [{ score: 0.9 }], memory: { numTensors: 0 }, timing } } }));
    },
    terminate() {},
  };
  const worker = new DetectorWorker({}, () => fake);
  const detector = new RemoteDetector(worker, 'litert-wasm', [2, 3]);
  const data = new Uint8ClampedArray(2 * 3 * 4);
  const canvas = { getContext: () => ({ getImageData: (x, y, w, h) => ({ data, width: w, height: h }) }) };
  assert.equal(detector.lastRunMs, null);
  const candidates = await detector.detectPixels(canvas, 0.3);
  assert.deepEqual(candidates, [{ score: 0.9 }]);
  assert.equal(posted[0].message.op, 'detect');
  assert.equal(posted[0].message.args.scoreFloor, 0.3);
  assert.deepEqual(posted[0].transfer, [data.buffer]);
  // the bytes alone: an ImageData would be copied on its way, transfer or not
  assert.deepEqual(Object.keys(posted[0].message.args.pixels), ['data']);
  assert.equal(posted[0].message.args.pixels.data, data);
  assert.equal(detector.lastRunMs, 7.5);
  assert.equal(detector.lastTiming.toWorkerMs, 1);
  assert.equal(detector.lastTiming.workerMs, 8);
  assert.ok(Number.isFinite(detector.lastTiming.backMs)); // the fake answers "from the future"
});
