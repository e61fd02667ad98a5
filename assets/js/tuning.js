// Picks the fastest backend on this device. The build ranks the CPU backends (LiteRT.js and TF.js
// WASM) by timing them, which holds on any CPU; how fast a GPU backend is depends on the user's
// GPU, which only the page can measure. So on the first frame the page times the GPU backends that
// run on real graphics hardware against the one it started with, on that same frame, and switches
// to the fastest whose detections agree with it. Pure helpers first (node --test checks them).

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
 * the running one first. A candidate that cannot start or fails is recorded with its reason.
 *
 * @param {object} options
 * @param {{name: string, detector: object}} options.current  the backend in use
 * @param {string[]} options.candidates  backends to try
 * @param {(name: string) => Promise<{name: string, detector: object, description: string}>} options.start
 * @param {(detector: object) => Promise<object[]>} options.detect  one run on the frame
 * @param {(candidates: object[]) => object[]} options.select  candidates -> shown detections
 * @param {number} [options.runs]  timed runs after one untimed warm-up run
 */
export async function timeBackends({ current, candidates, start, detect, select, runs = 3 }) {
  const time = async (detector) => {
    const first = await detect(detector); // warm-up: shader compilation, kernel set-up
    const times = [];
    for (let i = 0; i < runs; i += 1) {
      const started = performance.now();
      await detect(detector);
      times.push(performance.now() - started);
    }
    return { shown: select(first), medianMs: median(times) };
  };
  const reference = await time(current.detector);
  const trials = [{ name: current.name, medianMs: reference.medianMs, agrees: true, started: current }];
  for (const name of candidates) {
    try {
      const started = await start(name);
      try {
        const result = await time(started.detector);
        const agrees = detectionsAgree(reference.shown, result.shown);
        trials.push({ name, medianMs: result.medianMs, agrees, started });
      } catch (error) {
        started.detector.dispose();
        throw error;
      }
    } catch (error) {
      trials.push({ name, medianMs: null, agrees: false, error: error?.message ?? String(error) });
    }
  }
  return trials;
}
