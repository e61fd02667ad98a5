// Unit tests for the YOLO half of the page: postprocessYolo (assets/js/postprocess.js) and the
// letterbox arithmetic (assets/js/frame.js), on hand-made cases whose answer is known. The
// browser tests compare the whole page with Ultralytics' own predict.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { candidatesInFrame, letterboxPlacement, roundHalfEven } from '../../assets/js/frame.js';
import { postprocessYolo } from '../../assets/js/postprocess.js';

const NMS = { scoreThreshold: 0.001, iouThreshold: 0.7, maxPerClass: 300, maxTotal: 300, classAgnostic: false };
const SIZE = [320, 320];

// [1, 4 + C, A] from anchors given as {box: [cx, cy, w, h], scores: [c0, c1, ...]}.
function head(anchors) {
  const classes = anchors[0].scores.length;
  const count = anchors.length;
  const values = new Float32Array((4 + classes) * count);
  anchors.forEach(({ box, scores }, a) => {
    box.forEach((v, row) => { values[row * count + a] = v; });
    scores.forEach((v, c) => { values[(4 + c) * count + a] = v; });
  });
  return values;
}

test('each anchor keeps only its best class, and classIds are 1-based', () => {
  const values = head([
    { box: [100, 100, 40, 40], scores: [0.2, 0.9, 0.1] },
    { box: [200, 200, 40, 40], scores: [0.6, 0.1, 0.55] },
  ]);
  const found = postprocessYolo(values, 2, { nms: NMS, boxUnits: 'pixels', inputSize: SIZE });
  assert.deepEqual(found.map((d) => [d.classId, Math.fround(d.score)]), [[2, Math.fround(0.9)], [1, Math.fround(0.6)]]);
  assert.ok(Math.abs(found[0].xmin - 80 / 320) < 1e-7 && Math.abs(found[0].ymax - 120 / 320) < 1e-7);
});

test('overlapping boxes suppress within a class only, unless agnostic', () => {
  const anchors = [
    { box: [100, 100, 50, 50], scores: [0.9, 0.0] },
    { box: [102, 100, 50, 50], scores: [0.8, 0.0] }, // IoU ~0.92 with the first, same class
    { box: [101, 101, 50, 50], scores: [0.0, 0.7] }, // as close, other class
  ];
  const perClass = postprocessYolo(head(anchors), 3, { nms: NMS, boxUnits: 'pixels', inputSize: SIZE });
  assert.deepEqual(perClass.map((d) => d.classId), [1, 2]);
  const agnostic = postprocessYolo(head(anchors), 3, { nms: { ...NMS, classAgnostic: true }, boxUnits: 'pixels', inputSize: SIZE });
  assert.deepEqual(agnostic.map((d) => d.classId), [1]);
});

test('a box at IoU 0.7 exactly survives (suppression is strictly above the threshold)', () => {
  // Two 100x100 boxes sharing a 100 x h strip: IoU = h / (200 - h) = 0.7 at h = 1400 / 17.
  const shift = 100 - 1400 / 17;
  const values = head([
    { box: [160, 100, 100, 100], scores: [0.9] },
    { box: [160, 100 + shift, 100, 100], scores: [0.8] },
  ]);
  const found = postprocessYolo(values, 2, { nms: NMS, boxUnits: 'pixels', inputSize: SIZE });
  assert.equal(found.length, 2);
});

test('normalised boxes are scaled by the input size; scores at the floor are dropped', () => {
  const values = head([
    { box: [0.5, 0.25, 0.1, 0.2], scores: [0.5] },
    { box: [0.1, 0.1, 0.1, 0.1], scores: [0.0005] },
  ]);
  const found = postprocessYolo(values, 2, { nms: NMS, boxUnits: 'normalized', inputSize: [320, 640] });
  assert.equal(found.length, 1);
  const [d] = found;
  assert.ok(Math.abs(d.xmin - 0.45) < 1e-6 && Math.abs(d.xmax - 0.55) < 1e-6);
  assert.ok(Math.abs(d.ymin - 0.15) < 1e-6 && Math.abs(d.ymax - 0.35) < 1e-6);
});

test('maxTotal caps the result, best first; the score floor keeps the same prefix', () => {
  const anchors = Array.from({ length: 10 }, (_, i) => ({ box: [20 + 30 * i, 160, 20, 20], scores: [0.05 + 0.09 * i] }));
  const all = postprocessYolo(head(anchors), 10, { nms: NMS, boxUnits: 'pixels', inputSize: SIZE });
  assert.deepEqual(all.map((d) => d.score), [...all.map((d) => d.score)].sort((a, b) => b - a));
  const capped = postprocessYolo(head(anchors), 10, { nms: { ...NMS, maxTotal: 3 }, boxUnits: 'pixels', inputSize: SIZE });
  assert.deepEqual(capped, all.slice(0, 3));
  const floored = postprocessYolo(head(anchors), 10, { nms: NMS, boxUnits: 'pixels', inputSize: SIZE }, 0.5);
  assert.deepEqual(floored, all.filter((d) => d.score >= 0.5));
});

test('a malformed head is refused', () => {
  assert.throws(() => postprocessYolo(new Float32Array(9), 2, { nms: NMS, boxUnits: 'pixels', inputSize: SIZE }), /4 \+ classes/);
});

test('round half to even, as Python rounds', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, 0, 2, 3]);
});

test('letterbox placement is Ultralytics\': 1280x720 into 320 is 320x180 at 70 px from the top', () => {
  assert.deepEqual(letterboxPlacement(1280, 720, [320, 320]), {
    gain: 0.25, width: 320, height: 180, left: 0, top: 70, mapLeft: 0, mapTop: 70,
  });
  // A portrait 480x640 into 640x640: scale 1, 80 px either side.
  const portrait = letterboxPlacement(480, 640, [640, 640]);
  assert.equal(portrait.left, 80);
  assert.equal(portrait.top, 0);
  // An odd padding of 45 px: LetterBox puts round(22.5 - 0.1) = 22 on the left.
  assert.equal(letterboxPlacement(275, 320, [320, 320]).left, 22);
});

test('boxes map from the letterbox back to the frame, clipped to it', () => {
  const placement = letterboxPlacement(1280, 720, [320, 320]);
  // Input pixels x 80..160, y 70..250 (the whole frame's height): frame x 320..640, y 0..720.
  const [mapped] = candidatesInFrame([{ xmin: 80 / 320, xmax: 160 / 320, ymin: 70 / 320, ymax: 250 / 320 }], placement, 1280, 720, [320, 320]);
  assert.ok(Math.abs(mapped.xmin - 0.25) < 1e-9 && Math.abs(mapped.xmax - 0.5) < 1e-9);
  assert.ok(Math.abs(mapped.ymin) < 1e-9 && Math.abs(mapped.ymax - 1) < 1e-9);
  const [clipped] = candidatesInFrame([{ xmin: 0, xmax: 1, ymin: 0, ymax: 1 }], placement, 1280, 720, [320, 320]);
  assert.deepEqual([clipped.ymin, clipped.ymax], [0, 1]);
});
