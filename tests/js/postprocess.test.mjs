// Unit tests for assets/js/postprocess.js: `node --test tests/js/`.
//
// Hand-made cases whose right answer is known, plus one real case: TensorFlow's own raw outputs of
// the Object Detection API fixture model, whose in-graph NMS result must come out identically.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  decodeGraphOutputs,
  iou,
  makeLabelLookup,
  nonMaxSuppression,
  postprocessRaw,
  selectDetections,
} from '../../assets/js/postprocess.js';

const NMS = { scoreThreshold: 1e-8, iouThreshold: 0.6, maxPerClass: 100, maxTotal: 100, classAgnostic: false };

// Builds raw outputs from anchors given as {box: [ymin, xmin, ymax, xmax], scores: [c1, c2, ...]}.
function raw(anchors) {
  const numClasses = anchors[0].scores.length;
  const boxes = new Float32Array(anchors.length * 4);
  const scores = new Float32Array(anchors.length * (numClasses + 1));
  anchors.forEach((anchor, i) => {
    boxes.set(anchor.box, 4 * i);
    scores[i * (numClasses + 1)] = 0.5; // background: must be ignored
    anchor.scores.forEach((score, c) => {
      scores[i * (numClasses + 1) + c + 1] = score;
    });
  });
  return [boxes, scores, anchors.length];
}

const run = (anchors, nms = {}) => postprocessRaw(...raw(anchors), { ...NMS, ...nms });
const summary = (detections) => detections.map((d) => [d.classId, Number(d.score.toFixed(4))]);

// Two unit-height boxes side by side whose IoU is overlap / (2 - overlap) for a horizontal overlap.
function pairWithIou(target) {
  const overlap = (2 * target) / (1 + target);
  return [
    { box: [0, 0, 1, 1], scores: [0.9] },
    { box: [0, 1 - overlap, 1, 2 - overlap], scores: [0.8] },
  ];
}

test('iou of identical, disjoint, half-overlapping and flipped boxes', () => {
  const boxes = new Float32Array([0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 0, 0.5, 1, 1.5, 1, 1, 0, 0]);
  assert.equal(iou(boxes, 0, 1), 1);
  assert.equal(iou(boxes, 0, 2), 0);
  assert.ok(Math.abs(iou(boxes, 0, 3) - 1 / 3) < 1e-6);
  assert.equal(iou(boxes, 0, 4), 1, 'min/max of the coordinates, so a flipped box is the same box');
});

test('zero-area boxes have IoU 0 and so never suppress each other', () => {
  const boxes = new Float32Array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  assert.equal(iou(boxes, 0, 1), 0);
  const kept = nonMaxSuppression(boxes, () => 0.9, 2, { iouThreshold: 0.1, scoreThreshold: 0, maxSelected: 10 });
  assert.deepEqual(kept, [0, 1]);
});

test('a box is suppressed when its IoU is just above the threshold, kept just below', () => {
  assert.equal(run(pairWithIou(0.62)).length, 1);
  assert.equal(run(pairWithIou(0.58)).length, 2);
});

test('IoU exactly at the threshold does not suppress (strictly greater)', () => {
  // Overlap of exactly half a box: IoU = 0.5 / 1.5 = 1/3 in float32 on both sides.
  const anchors = [
    { box: [0, 0, 1, 1], scores: [0.9] },
    { box: [0, 0.5, 1, 1.5], scores: [0.8] },
  ];
  const threshold = iou(raw(anchors)[0], 0, 1);
  assert.equal(run(anchors, { iouThreshold: threshold }).length, 2);
  assert.equal(run(anchors, { iouThreshold: threshold - 1e-6 }).length, 1);
});

test('NMS is per class: overlapping boxes of different classes both stay', () => {
  const anchors = [
    { box: [0, 0, 1, 1], scores: [0.9, 0.0] },
    { box: [0, 0, 1, 1], scores: [0.0, 0.8] },
  ];
  assert.deepEqual(summary(run(anchors)), [[1, 0.9], [2, 0.8]]);
});

test('one anchor can be detected once per class', () => {
  const anchors = [{ box: [0, 0, 0.5, 0.5], scores: [0.7, 0.6] }];
  assert.deepEqual(summary(run(anchors)), [[1, 0.7], [2, 0.6]]);
});

test('class-agnostic NMS uses each anchor\'s best class and suppresses across classes', () => {
  const anchors = [
    { box: [0, 0, 1, 1], scores: [0.9, 0.1] },
    { box: [0, 0, 1, 1], scores: [0.2, 0.8] },
    { box: [0.5, 0.5, 0.9, 0.9], scores: [0.3, 0.35] },
  ];
  assert.deepEqual(summary(run(anchors, { classAgnostic: true })), [[1, 0.9], [2, 0.35]]);
  // Per class, anchors 0 and 1 suppress each other within each class; anchor 2 stays in both.
  assert.deepEqual(summary(run(anchors)), [[1, 0.9], [2, 0.8], [2, 0.35], [1, 0.3]]);
});

test('class-agnostic ties between classes go to the lower class id', () => {
  const anchors = [{ box: [0, 0, 1, 1], scores: [0.5, 0.5] }];
  assert.deepEqual(summary(run(anchors, { classAgnostic: true })), [[1, 0.5]]);
});

test('equal scores: the lower anchor index is kept and listed first', () => {
  const anchors = [
    { box: [0, 0, 0.2, 0.2], scores: [0.5] },
    { box: [0.5, 0.5, 0.7, 0.7], scores: [0.5] },
    { box: [0, 0, 0.2, 0.2], scores: [0.5] },
  ];
  const detections = run(anchors);
  assert.equal(detections.length, 2);
  assert.deepEqual(detections.map((d) => d.ymin), [0, 0.5].map(Math.fround));
});

test('equal scores across classes keep class order after the final sort', () => {
  const anchors = [
    { box: [0.5, 0.5, 0.7, 0.7], scores: [0.0, 0.4] },
    { box: [0, 0, 0.2, 0.2], scores: [0.4, 0.0] },
  ];
  assert.deepEqual(run(anchors).map((d) => d.classId), [1, 2]);
});

test('the score threshold is strict: a score equal to it is not a candidate', () => {
  const anchors = [
    { box: [0, 0, 0.2, 0.2], scores: [0.25] },
    { box: [0.5, 0.5, 0.7, 0.7], scores: [0.2500001] },
  ];
  const detections = run(anchors, { scoreThreshold: 0.25 });
  assert.equal(detections.length, 1);
  assert.ok(detections[0].score > 0.25);
});

test('boxes are clipped to [0, 1] and boxes with no area left are dropped', () => {
  const anchors = [
    { box: [-0.2, -0.1, 0.5, 1.3], scores: [0.9] }, // clipped
    { box: [1.1, 0.2, 1.4, 0.4], scores: [0.8] }, // entirely below the frame: zero area once clipped
    { box: [0.3, 0.3, 0.3, 0.6], scores: [0.7] }, // zero height
    { box: [0.1, 0.1, 0.2, 0.2], scores: [0.6] },
  ];
  const detections = run(anchors);
  assert.deepEqual(summary(detections), [[1, 0.9], [1, 0.6]]);
  assert.deepEqual([detections[0].ymin, detections[0].xmin, detections[0].ymax, detections[0].xmax], [0, 0, 0.5, 1].map(Math.fround));
});

test('clipping and dropping happen before maxTotal is applied', () => {
  const anchors = [
    { box: [1.5, 1.5, 1.8, 1.8], scores: [0.9] },
    { box: [0.1, 0.1, 0.2, 0.2], scores: [0.8] },
    { box: [0.5, 0.5, 0.6, 0.6], scores: [0.7] },
  ];
  assert.deepEqual(summary(run(anchors, { maxTotal: 2 })), [[1, 0.8], [1, 0.7]]);
});

test('maxPerClass limits each class, maxTotal the whole list', () => {
  const anchors = [];
  for (let i = 0; i < 6; i += 1) {
    anchors.push({ box: [i / 6, 0, (i + 0.5) / 6, 0.1], scores: [0.9 - i * 0.1, 0.85 - i * 0.1] });
  }
  const perClass = run(anchors, { maxPerClass: 2 });
  assert.deepEqual(summary(perClass), [[1, 0.9], [2, 0.85], [1, 0.8], [2, 0.75]]);
  const total = run(anchors, { maxTotal: 3 });
  assert.deepEqual(summary(total), [[1, 0.9], [2, 0.85], [1, 0.8]]);
});

test('suppression only looks at boxes already kept, greedily', () => {
  // B overlaps A and C; A suppresses B, so C (which only overlaps B) survives.
  const anchors = [
    { box: [0, 0, 1, 1], scores: [0.9] },
    { box: [0, 0.2, 1, 1.2], scores: [0.8] },
    { box: [0, 0.9, 1, 1.9], scores: [0.7] },
  ];
  assert.deepEqual(summary(run(anchors, { iouThreshold: 0.5 })), [[1, 0.9], [1, 0.7]]);
});

test('raw output sizes that do not fit the anchor count are rejected', () => {
  assert.throws(() => postprocessRaw(new Float32Array(8), new Float32Array(4), 3, NMS));
  assert.throws(() => postprocessRaw(new Float32Array(8), new Float32Array(2), 2, NMS));
  assert.deepEqual(postprocessRaw(new Float32Array(0), new Float32Array(0), 0, NMS), []);
});

test('reproduces TensorFlow\'s in-graph post-processing of the OD API fixture exactly', () => {
  const fixture = JSON.parse(readFileSync(new URL('./fixtures/odapi-ssd-raccoon-1.json', import.meta.url), 'utf8'));
  const floats = (b64) => {
    const bytes = Buffer.from(b64, 'base64');
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  };
  const detections = postprocessRaw(floats(fixture.rawBoxes), floats(fixture.rawScores), fixture.numAnchors, fixture.nms);
  const expectedBoxes = floats(fixture.expected.boxes);
  const expectedScores = floats(fixture.expected.scores);
  const expectedClasses = floats(fixture.expected.classes);
  assert.equal(detections.length, fixture.expected.count);
  detections.forEach((d, i) => {
    assert.equal(d.classId, expectedClasses[i], `class of detection ${i}`);
    assert.equal(d.score, expectedScores[i], `score of detection ${i}`);
    const box = [d.ymin, d.xmin, d.ymax, d.xmax];
    for (let k = 0; k < 4; k += 1) {
      assert.ok(Math.abs(box[k] - expectedBoxes[4 * i + k]) <= 1e-6, `box ${i} coordinate ${k}: ${box[k]} vs ${expectedBoxes[4 * i + k]}`);
    }
  });
});

test('graph outputs: count limits the entries, classes are rounded, order is kept', () => {
  const boxes = new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.9, 0.8, 0, 0, 0, 0]);
  const scores = new Float32Array([0.9, 0.6, 0]);
  const classes = new Float32Array([2.0000002, 1, 0]);
  const detections = decodeGraphOutputs(boxes, scores, classes, 2);
  assert.equal(detections.length, 2);
  assert.equal(detections[0].classId, 2);
  assert.equal(detections[1].classId, 1);
  assert.equal(decodeGraphOutputs(boxes, scores, classes, 0).length, 0);
  assert.equal(decodeGraphOutputs(boxes, scores, classes, 50).length, 3, 'never past the arrays');
});

test('selection: score >= threshold, at most maxDetections, boxes as x/y/width/height', () => {
  const labelFor = makeLabelLookup({ 1: 'kangaroo', 2: 'stop' });
  const candidates = [
    { classId: 1, score: 0.9, ymin: 0.1, xmin: 0.2, ymax: 0.5, xmax: 0.6 },
    { classId: 2, score: 0.5, ymin: 0, xmin: 0, ymax: 1, xmax: 1 },
    { classId: 7, score: 0.5, ymin: 0, xmin: 0, ymax: 0.5, xmax: 0.5 },
    { classId: 1, score: 0.49, ymin: 0, xmin: 0, ymax: 0.5, xmax: 0.5 },
  ];
  const shown = selectDetections(candidates, { threshold: 0.5, maxDetections: 20, labelFor });
  assert.deepEqual(shown.map((d) => d.label), ['kangaroo', 'stop', 'class 7']);
  assert.deepEqual(shown[0].box, { x: 0.2, y: 0.1, width: 0.6 - 0.2, height: 0.5 - 0.1 });
  assert.equal(selectDetections(candidates, { threshold: 0, maxDetections: 2, labelFor }).length, 2);
});

test('labels are looked up by numeric id and never come from the prototype', () => {
  const labelFor = makeLabelLookup({ 1: '<b>kangaroo</b>' });
  assert.equal(labelFor(1), '<b>kangaroo</b>');
  assert.equal(labelFor(3), 'class 3');
  assert.equal(makeLabelLookup(undefined)(1), 'class 1');
});

test('a score floor drops only what lies below it: the rest is exactly the full result', () => {
  // Deterministic pseudo-random anchors, dense enough that NMS suppresses and the caps bite.
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const anchors = Array.from({ length: 400 }, () => {
    const y = random() * 0.8;
    const x = random() * 0.8;
    return { box: [y, x, y + 0.05 + random() * 0.2, x + 0.05 + random() * 0.2], scores: [random() ** 4, random() ** 8] };
  });
  const [boxes, scores] = raw(anchors);
  let shortened = 0;
  for (const nms of [{ ...NMS, maxPerClass: 40, maxTotal: 50 }, { ...NMS, classAgnostic: true, maxTotal: 30 }, NMS]) {
    const full = postprocessRaw(boxes, scores, anchors.length, nms);
    // Floors at the scores of the full result's 1st, 2nd and 3rd quarter: each must cut.
    for (const floor of [1, 2, 3].map((q) => full[Math.floor((q * full.length) / 4)].score)) {
      const cut = postprocessRaw(boxes, scores, anchors.length, nms, floor);
      assert.deepEqual(cut, full.filter((d) => d.score >= floor), `floor ${floor}`);
      assert.ok(cut.length > 0);
      if (cut.length < full.length) shortened += 1;
    }
  }
  assert.ok(shortened >= 6, 'the floors must actually cut something for the test to mean anything');
});
