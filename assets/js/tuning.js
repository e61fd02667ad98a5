// Picks the fastest backend on this device: on the first frame the page times the backends worth
// trying (choice.js says which) against the one it started with, on that same frame, and switches
// to the fastest whose detections agree with it. The build's own timings, from another machine,
// only decide where the page starts. Pure helpers first (node --test checks them).

import { LITERT_FULL_INTEGER } from './contract.js';

/** Median of a non-empty list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Whether two backends' detections on the same frame agree closely enough to show either: the
 * same classes in the same order, scores within `scoreTolerance` and box edges within
 * `boxTolerance` of the frame. GPU backends compute in lower precision than WASM (WebGL often in
 * float16), so the tolerances are those of what a person sees, not of bit-exactness.
 *
 * @param {{classId: number, score: number, box: {x: number, y: number, width: number, height: number}}[]} reference
 * @param {typeof reference} candidate
 */
export function detectionsAgree(reference, candidate, { scoreTolerance = 0.02, boxTolerance = 0.01 } = {}) {
  if (reference.length !== candidate.length) return false;
  return reference.every((want, i) => {
    const got = candidate[i];
    if (got.classId !== want.classId || Math.abs(got.score - want.score) > scoreTolerance) return false;
    return ['x', 'y', 'width', 'height'].every((key) => Math.abs(got.box[key] - want.box[key]) <= boxTolerance);
  });
}

/** Intersection over union of two {x, y, width, height} boxes. */
export function boxIou(a, b) {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  const inter = Math.max(0, width) * Math.max(0, height);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * The looser agreement of an int8 .tflite with the float TF.js model (the build's own rule,
 * sitegen.site.verify.compare_int8): every detection shown on either side has one on the other of
 * the same class with IoU >= 0.5 and a score within 0.1, matched one to one.
 */
export function detectionsMatch(reference, candidate, { minIou = 0.5, scoreTolerance = 0.1 } = {}) {
  if (reference.length !== candidate.length) return false;
  const unused = new Set(candidate.map((_, i) => i));
  return reference.every((want) => {
    let best = -1;
    let bestIou = minIou;
    for (const i of unused) {
      const got = candidate[i];
      if (got.classId !== want.classId || Math.abs(got.score - want.score) > scoreTolerance) continue;
      const iou = boxIou(got.box, want.box);
      if (iou >= bestIou) [best, bestIou] = [i, iou];
    }
    if (best < 0) return false;
    unused.delete(best);
    return true;
  });
}

/**
 * How two backends' detections are compared: an int8 .tflite (LiteRT) against the float TF.js
 * model by detectionsMatch, anything else by detectionsAgree.
 */
export function agreementFor(config, runningName, candidateName) {
  const int8 = config?.model?.litert?.quantization === LITERT_FULL_INTEGER;
  const litert = (name) => name.startsWith('litert-');
  return int8 && litert(runningName) !== litert(candidateName) ? detectionsMatch : detectionsAgree;
}

/**
 * The backend to keep: the fastest of those that ran and agree with the reference (the one
 * already running, which is always eligible).
 *
 * @param {{name: string, medianMs: number|null, agrees: boolean}[]} trials
 * @returns {string}
 */
export function fastestAgreeing(trials) {
  const eligible = trials.filter((trial) => trial.agrees && Number.isFinite(trial.medianMs));
  eligible.sort((a, b) => a.medianMs - b.medianMs);
  return eligible[0]?.name ?? trials[0]?.name;
}

/**
 * Times the running detector and each candidate backend on one frame and returns the trials,
 * the running one first. Every candidate is started and warmed up (shader compilation, kernel
 * set-up) before any timing, then the backends take turns, one run each per round, so a burst of
 * load on the device slows them alike instead of one of them; each backend's median is kept. A
 * candidate that cannot start or fails is recorded with its reason.
 *
 * @param {object} options
 * @param {{name: string, detector: object}} options.current  the backend in use
 * @param {string[]} options.candidates  backends to try
 * @param {(name: string) => Promise<{name: string, detector: object, description: string}>} options.start
 * @param {(detector: object) => Promise<object[]>} options.detect  one run on the frame
 * @param {(candidates: object[]) => object[]} options.select  candidates -> shown detections
 * @param {number} [options.runs]  timed rounds after the warm-up run
 * @param {(name: string, reference: object[], shown: object[]) => boolean} [options.agree]
 *   whether a candidate's detections agree with the running backend's (default detectionsAgree)
 */
export async function timeBackends({ current, candidates, start, detect, select, runs = 5, agree = (_, a, b) => detectionsAgree(a, b) }) {
  const reference = select(await detect(current.detector));
  const trials = [{ name: current.name, medianMs: null, agrees: true, started: current, times: [] }];
  for (const name of candidates) {
    let started = null;
    try {
      started = await start(name);
      const shown = select(await detect(started.detector));
      trials.push({ name, medianMs: null, agrees: agree(name, reference, shown), started, times: [] });
    } catch (error) {
      started?.detector.dispose();
      trials.push({ name, medianMs: null, agrees: false, error: error?.message ?? String(error) });
    }
  }
  for (let round = 0; round < runs; round += 1) {
    for (const trial of trials) {
      if (!trial.started || !trial.agrees || trial.error) continue;
      const began = performance.now();
      try {
        await detect(trial.started.detector);
      } catch (error) {
        trial.error = error?.message ?? String(error);
        trial.agrees = false;
        continue;
      }
      trial.times.push(performance.now() - began);
    }
  }
  for (const trial of trials) {
    if (trial.times?.length) trial.medianMs = median(trial.times);
    delete trial.times;
    if (trial.error && trial.started && trial !== trials[0]) {
      trial.started.detector.dispose();
      trial.started = null;
    }
  }
  return trials;
}
