// Turns a detector's output arrays into a list of detections. Pure: typed arrays in, plain objects
// out, no TF.js, no DOM, so `node --test` can check it.
//
// For "raw" models the page does non-maximum suppression itself, with exactly the semantics of the
// TensorFlow Object Detection API's post-processing (post_processing.multiclass_non_max_suppression
// + _clip_window_prune_boxes, built on tf.image.non_max_suppression_with_scores), so that the page
// matches TensorFlow box for box, in the same order. Arithmetic that decides which box survives is
// done in float32 (Math.fround), as TensorFlow's kernel does, so ties at a threshold go the same way.
//
// A candidate is {classId, score, ymin, xmin, ymax, xmax}, coordinates normalised to the frame.

const f32 = Math.fround;

/**
 * Intersection over union of boxes i and j of a flat [ymin, xmin, ymax, xmax, ...] array, as
 * TensorFlow's NonMaxSuppressionV5 kernel computes it: on the min/max of each box's coordinates
 * (so flipped boxes work), 0 when either box has no area.
 */
export function iou(boxes, i, j) {
  const a = 4 * i;
  const b = 4 * j;
  const yminI = Math.min(boxes[a], boxes[a + 2]);
  const xminI = Math.min(boxes[a + 1], boxes[a + 3]);
  const ymaxI = Math.max(boxes[a], boxes[a + 2]);
  const xmaxI = Math.max(boxes[a + 1], boxes[a + 3]);
  const yminJ = Math.min(boxes[b], boxes[b + 2]);
  const xminJ = Math.min(boxes[b + 1], boxes[b + 3]);
  const ymaxJ = Math.max(boxes[b], boxes[b + 2]);
  const xmaxJ = Math.max(boxes[b + 1], boxes[b + 3]);
  const areaI = f32(f32(ymaxI - yminI) * f32(xmaxI - xminI));
  const areaJ = f32(f32(ymaxJ - yminJ) * f32(xmaxJ - xminJ));
  if (areaI <= 0 || areaJ <= 0) return 0;
  const interH = Math.max(f32(Math.min(ymaxI, ymaxJ) - Math.max(yminI, yminJ)), 0);
  const interW = Math.max(f32(Math.min(xmaxI, xmaxJ) - Math.max(xminI, xminJ)), 0);
  const intersection = f32(interH * interW);
  return f32(intersection / f32(f32(areaI + areaJ) - intersection));
}

/**
 * Greedy hard NMS over one score column, like tf.image.non_max_suppression_with_scores.
 *
 * @param {Float32Array|number[]} boxes   flat [A*4] boxes, ymin, xmin, ymax, xmax
 * @param {(anchor: number) => number} scoreOf  score of an anchor in this column
 * @param {number} numAnchors
 * @param {{iouThreshold: number, scoreThreshold: number, maxSelected: number}} options
 * @returns {number[]} anchor indices kept, best first
 */
export function nonMaxSuppression(boxes, scoreOf, numAnchors, { iouThreshold, scoreThreshold, maxSelected, scoreFloor = 0 }) {
  const scoreLimit = f32(scoreThreshold);
  const iouLimit = f32(iouThreshold);
  const candidates = [];
  for (let anchor = 0; anchor < numAnchors; anchor += 1) {
    // Strictly greater, as the kernel does: a score equal to the threshold is not a candidate.
    const score = scoreOf(anchor);
    if (score > scoreLimit && score >= scoreFloor) candidates.push(anchor);
  }
  // Descending score; equal scores keep the lower anchor index first (the kernel's queue order).
  candidates.sort((p, q) => scoreOf(q) - scoreOf(p) || p - q);

  const selected = [];
  const limit = Math.min(maxSelected, numAnchors);
  for (let k = 0; k < candidates.length && selected.length < limit; k += 1) {
    const anchor = candidates[k];
    let suppressed = false;
    for (let s = selected.length - 1; s >= 0; s -= 1) {
      if (iou(boxes, anchor, selected[s]) > iouLimit) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) selected.push(anchor);
  }
  return selected;
}

/**
 * Post-processing of raw SSD outputs, as the Object Detection API does it in the exported graph.
 *
 * @param {Float32Array} rawBoxes   [A*4] decoded boxes, normalised ymin, xmin, ymax, xmax
 * @param {Float32Array} rawScores  [A*(C+1)] per-class scores; column 0 is the background
 * @param {number} numAnchors       A
 * @param {{scoreThreshold: number, iouThreshold: number, maxPerClass: number,
 *          maxTotal: number, classAgnostic?: boolean}} nms
 * @param {number} [scoreFloor]  skip candidates scoring below this. Greedy NMS takes boxes best
 *   first and a box is only ever suppressed by a better one, so the detections at or above the
 *   floor come out exactly as without it (the same boxes, scores and order, and the caps cut the
 *   same prefix); only those below it are missing. The page passes its display threshold for
 *   video frames, where sorting and suppressing thousands of near-zero anchors is wasted work.
 * @returns {{classId: number, score: number, ymin: number, xmin: number, ymax: number, xmax: number}[]}
 *   at most nms.maxTotal detections, highest score first, classId = score column (1-based)
 */
export function postprocessRaw(rawBoxes, rawScores, numAnchors, nms, scoreFloor = 0) {
  if (numAnchors <= 0) return [];
  if (rawBoxes.length !== numAnchors * 4) {
    throw new Error(`raw boxes hold ${rawBoxes.length} values, expected ${numAnchors} anchors x 4`);
  }
  const columns = rawScores.length / numAnchors;
  if (!Number.isInteger(columns) || columns < 2) {
    throw new Error(`raw scores hold ${rawScores.length} values, not ${numAnchors} anchors x (classes + background)`);
  }
  const numClasses = columns - 1;

  const kept = nms.classAgnostic
    ? classAgnosticNms(rawBoxes, rawScores, numAnchors, numClasses, nms, scoreFloor)
    : perClassNms(rawBoxes, rawScores, numAnchors, numClasses, nms, scoreFloor);

  // All classes together, best first. Array.prototype.sort is stable, so equal scores keep class
  // order and then NMS order, as TensorFlow's top_k does on the concatenated list.
  kept.sort((p, q) => q.score - p.score);

  // Clip to the frame and drop what has no area left, then keep the first maxTotal.
  const detections = [];
  for (const candidate of kept) {
    if (detections.length >= nms.maxTotal) break;
    const clipped = clipToUnitWindow(rawBoxes, candidate.anchor);
    const area = f32(f32(clipped.ymax - clipped.ymin) * f32(clipped.xmax - clipped.xmin));
    if (!(area > 0)) continue;
    detections.push({ classId: candidate.classId, score: candidate.score, ...clipped });
  }
  return detections;
}

function perClassNms(boxes, scores, numAnchors, numClasses, nms, scoreFloor) {
  const columns = numClasses + 1;
  const kept = [];
  for (let classId = 1; classId <= numClasses; classId += 1) {
    const scoreOf = (anchor) => scores[anchor * columns + classId];
    const anchors = nonMaxSuppression(boxes, scoreOf, numAnchors, {
      iouThreshold: nms.iouThreshold,
      scoreThreshold: nms.scoreThreshold,
      maxSelected: nms.maxPerClass,
      scoreFloor,
    });
    for (const anchor of anchors) kept.push({ anchor, classId, score: scoreOf(anchor) });
  }
  return kept;
}

// One NMS over each anchor's best class (first one on ties), like the API's
// class_agnostic_non_max_suppression with max_classes_per_detection 1: it selects up to maxTotal.
function classAgnosticNms(boxes, scores, numAnchors, numClasses, nms, scoreFloor) {
  const columns = numClasses + 1;
  const bestClass = new Int32Array(numAnchors);
  const bestScore = new Float32Array(numAnchors);
  for (let anchor = 0; anchor < numAnchors; anchor += 1) {
    let best = 1;
    for (let classId = 2; classId <= numClasses; classId += 1) {
      if (scores[anchor * columns + classId] > scores[anchor * columns + best]) best = classId;
    }
    bestClass[anchor] = best;
    bestScore[anchor] = scores[anchor * columns + best];
  }
  const anchors = nonMaxSuppression(boxes, (anchor) => bestScore[anchor], numAnchors, {
    iouThreshold: nms.iouThreshold,
    scoreThreshold: nms.scoreThreshold,
    maxSelected: nms.maxTotal,
    scoreFloor,
  });
  return anchors.map((anchor) => ({ anchor, classId: bestClass[anchor], score: bestScore[anchor] }));
}

// box_list_ops.clip_to_window with the window [0, 0, 1, 1]: each coordinate clamped on its own.
function clipToUnitWindow(boxes, anchor) {
  const clamp = (v) => Math.max(Math.min(v, 1), 0);
  return {
    ymin: clamp(boxes[4 * anchor]),
    xmin: clamp(boxes[4 * anchor + 1]),
    ymax: clamp(boxes[4 * anchor + 2]),
    xmax: clamp(boxes[4 * anchor + 3]),
  };
}

// Ultralytics' NMS shifts each box by its class times this, so boxes of different classes never
// overlap and one class-agnostic pass suppresses within classes only.
const YOLO_CLASS_OFFSET = 7680;

/**
 * Post-processing of an Ultralytics YOLO detection output, as Ultralytics' predict does it
 * (ops.non_max_suppression with multi_label=False): each anchor's best class, candidates scoring
 * above the threshold, one NMS pass over class-shifted pixel boxes (per class; agnostic when
 * nms.classAgnostic), at most nms.maxTotal, best first. The arithmetic is float32 as in PyTorch,
 * class shift included, so borderline suppressions go the same way.
 *
 * @param {Float32Array} predictions  [(4 + C) * A], row-major [1, 4 + C, A]: cx, cy, w, h rows, then
 *   one score row per class
 * @param {number} numAnchors  A
 * @param {{nms: {scoreThreshold: number, iouThreshold: number, maxTotal: number, classAgnostic?: boolean},
 *          boxUnits: 'pixels'|'normalized', inputSize: [number, number]}} options  inputSize [height, width]
 * @param {number} [scoreFloor]  as for postprocessRaw: candidates below it are not needed
 * @returns {{classId: number, score: number, ymin: number, xmin: number, ymax: number, xmax: number}[]}
 *   coordinates as fractions of the (letterboxed) input; classId is 1-based as everywhere in
 *   sitegen (Ultralytics' class 0 is classId 1, so label files mean the same for every model)
 */
export function postprocessYolo(predictions, numAnchors, { nms, boxUnits, inputSize }, scoreFloor = 0) {
  if (numAnchors <= 0) return [];
  const rows = predictions.length / numAnchors;
  if (!Number.isInteger(rows) || rows < 5) {
    throw new Error(`YOLO predictions hold ${predictions.length} values, not (4 + classes) x ${numAnchors} anchors`);
  }
  const [height, width] = inputSize;
  const toPixelsX = boxUnits === 'normalized' ? width : 1;
  const toPixelsY = boxUnits === 'normalized' ? height : 1;
  const scoreLimit = f32(nms.scoreThreshold);
  const candidates = [];
  for (let anchor = 0; anchor < numAnchors; anchor += 1) {
    let best = 0;
    let bestScore = predictions[4 * numAnchors + anchor];
    for (let classId = 1; classId < rows - 4; classId += 1) {
      const score = predictions[(4 + classId) * numAnchors + anchor];
      if (score > bestScore) {
        best = classId;
        bestScore = score;
      }
    }
    if (bestScore > scoreLimit && bestScore >= scoreFloor) candidates.push({ anchor, index: best, score: bestScore });
  }
  // Pixel corners (y1, x1, y2, x2) of each candidate, shifted by class, in candidate order.
  const shifted = new Float32Array(candidates.length * 4);
  const corners = new Float32Array(candidates.length * 4);
  candidates.forEach(({ anchor, index }, k) => {
    const cx = f32(predictions[anchor] * toPixelsX);
    const cy = f32(predictions[numAnchors + anchor] * toPixelsY);
    const halfW = f32(f32(predictions[2 * numAnchors + anchor] * toPixelsX) / 2);
    const halfH = f32(f32(predictions[3 * numAnchors + anchor] * toPixelsY) / 2);
    corners.set([f32(cy - halfH), f32(cx - halfW), f32(cy + halfH), f32(cx + halfW)], 4 * k);
    const offset = nms.classAgnostic ? 0 : index * YOLO_CLASS_OFFSET;
    for (let i = 0; i < 4; i += 1) shifted[4 * k + i] = f32(corners[4 * k + i] + offset);
  });
  const kept = nonMaxSuppression(shifted, (k) => candidates[k].score, candidates.length, {
    iouThreshold: nms.iouThreshold,
    scoreThreshold: -Infinity,
    maxSelected: nms.maxTotal,
  });
  return kept.map((k) => ({
    classId: candidates[k].index + 1,
    score: candidates[k].score,
    ymin: corners[4 * k] / height,
    xmin: corners[4 * k + 1] / width,
    ymax: corners[4 * k + 2] / height,
    xmax: corners[4 * k + 3] / width,
  }));
}

/** What postprocessYolo needs of config.model, for the runtime whose box units are `boxUnits`. */
export function yoloOptions(modelConfig, boxUnits = modelConfig.yolo.boxUnits) {
  return { nms: modelConfig.nms, boxUnits, inputSize: modelConfig.input.size };
}

/**
 * Reads the outputs of a model that post-processes in its graph (detection_boxes, _scores,
 * _classes, num_detections), already sorted and clipped by TensorFlow.
 */
export function decodeGraphOutputs(boxes, scores, classes, count) {
  const n = Math.max(0, Math.min(Math.round(count), scores.length, classes.length, boxes.length / 4));
  const detections = [];
  for (let i = 0; i < n; i += 1) {
    detections.push({
      classId: Math.round(classes[i]),
      score: scores[i],
      ymin: boxes[4 * i],
      xmin: boxes[4 * i + 1],
      ymax: boxes[4 * i + 2],
      xmax: boxes[4 * i + 3],
    });
  }
  return detections;
}

/**
 * What the page shows and reports: detections at or above the threshold, at most maxDetections,
 * with a label and a box as {x, y, width, height}, normalised to the source frame.
 *
 * @param {ReturnType<typeof postprocessRaw>} candidates  best first
 * @param {{threshold: number, maxDetections: number, labelFor: (classId: number) => string}} options
 */
export function selectDetections(candidates, { threshold, maxDetections, labelFor }) {
  const shown = [];
  for (const candidate of candidates) {
    if (shown.length >= maxDetections) break;
    if (!(candidate.score >= threshold)) continue;
    const xmin = clampUnit(Math.min(candidate.xmin, candidate.xmax));
    const xmax = clampUnit(Math.max(candidate.xmin, candidate.xmax));
    const ymin = clampUnit(Math.min(candidate.ymin, candidate.ymax));
    const ymax = clampUnit(Math.max(candidate.ymin, candidate.ymax));
    shown.push({
      label: labelFor(candidate.classId),
      classId: candidate.classId,
      score: candidate.score,
      box: { x: xmin, y: ymin, width: xmax - xmin, height: ymax - ymin },
    });
  }
  return shown;
}

function clampUnit(value) {
  return Math.max(0, Math.min(1, value));
}

/** label = labels[classId], or `class N` for an id the label map does not name. */
export function makeLabelLookup(labels) {
  const names = new Map();
  for (const [id, name] of Object.entries(labels ?? {})) names.set(Number(id), String(name));
  return (classId) => names.get(classId) ?? `class ${classId}`;
}
