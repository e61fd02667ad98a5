// The page's end of the detector worker (detector_worker.js): LiteRT.js backends start and run
// there, off the main thread; TF.js backends run on the page as before (TF.js's WebAssembly
// backend loses its threads in a worker, and its WebGL one needs the page's canvas). A page whose
// browser cannot run the worker runs LiteRT.js on the main thread too, and says why.

import { LITERT_BACKENDS } from './contract.js';
import { PageError } from './errors.js';
import { BackendLauncher } from './runtime.js';

/** The worker could not start or died: the page runs everything on its main thread. */
export class WorkerUnavailable extends Error {
  constructor(message) {
    super(message);
    this.name = 'WorkerUnavailable';
  }
}

/** Requests to the worker, each answered once, in any order. */
export class DetectorWorker {
  /**
   * @param {{onProgress?: Function, onRuntimeBytes?: Function}} [listeners]
   * @param {() => Worker} [makeWorker]  injectable for tests
   */
  constructor({ onProgress = () => {}, onRuntimeBytes = () => {} } = {}, makeWorker = () => new Worker(new URL('./detector_worker.js', import.meta.url))) {
    this.pending = new Map();
    this.nextId = 1;
    this.failure = null;
    this.worker = makeWorker();
    this.worker.onmessage = (event) => {
      const message = event.data;
      if (message.op === 'progress') onProgress(message.loaded, message.total);
      else if (message.op === 'runtime-bytes') onRuntimeBytes(message.bytes);
      else this.settle(message);
    };
    // An error event reaches the page when the worker script cannot load or throws at the top.
    this.worker.onerror = (event) => {
      event.preventDefault?.();
      this.fail(new WorkerUnavailable(`the detector worker stopped (${event.message || 'it could not be loaded'})`));
    };
  }

  settle({ id, ok, result, message, pageError }) {
    const request = this.pending.get(id);
    if (!request) return;
    this.pending.delete(id);
    if (ok) request.resolve(result);
    else request.reject(pageError ? new PageError(message) : new Error(message));
  }

  fail(error) {
    this.failure = error;
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
    this.worker.terminate();
  }

  /** Sends `op` with `args` (transferring `transfer`) and resolves to the worker's answer. */
  call(op, args = {}, transfer = []) {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }
}

/** A detector running in the worker; the same interface as the page's own detectors. */
export class RemoteDetector {
  constructor(worker, name, size) {
    this.worker = worker;
    this.name = name;
    [this.height, this.width] = size;
    this.lastMemory = { numTensors: 0, runtime: 'litert' };
    this.lastTiming = null;
  }

  /** The canvas's pixels go to the worker (moved, not copied); the candidates come back. */
  async detectPixels(canvas, scoreFloor = 0) {
    // One context per canvas, kept: getContext() costs a few tenths of a ms a frame.
    if (this.canvas !== canvas) [this.canvas, this.context] = [canvas, canvas.getContext('2d', { willReadFrequently: true })];
    const pixels = this.context.getImageData(0, 0, this.width, this.height);
    const postedAt = performance.timeOrigin + performance.now();
    // The bytes alone, not the ImageData: Chromium serialises an ImageData by copying its pixels
    // even when its buffer is transferred (0.8-1.1 ms a frame at 300x300 against 0.2 for this).
    const rgba = pixels.data;
    const { candidates, memory, timing } = await this.worker.call('detect', { name: this.name, pixels: { data: rgba }, scoreFloor, postedAt }, [rgba.buffer]);
    this.lastMemory = memory;
    this.lastTiming = roundTrip(timing, performance.timeOrigin + performance.now());
    return candidates;
  }

  /** The last frame's engine run alone, in ms (timed in the worker). */
  get lastRunMs() {
    return this.lastTiming?.runMs ?? null;
  }

  /** Live LiteRT tensors in the worker, as of the last frame. */
  memory() {
    return this.lastMemory;
  }

  dispose() {
    this.worker.call('dispose', { name: this.name }).catch(() => {});
  }
}

/**
 * Where one frame's round trip went, in ms: the message to the worker, the worker's work (input
 * copy, the engine's run, read-back, NMS), of which the run alone, and the answer back to the page.
 */
export function roundTrip({ postedAt, receivedAt, runMs, answeredAt }, arrivedAt) {
  return { toWorkerMs: receivedAt - postedAt, workerMs: answeredAt - receivedAt, runMs, backMs: arrivedAt - answeredAt };
}

/**
 * BackendLauncher's interface, with LiteRT backends started in the worker (while it works) and
 * TF.js ones on the page.
 */
export class SplitLauncher {
  /**
   * @param {object} config
   * @param {(loaded: number, total: number) => void} onProgress
   * @param {DetectorWorker|null} worker  null: everything on the page
   */
  constructor(config, onProgress, worker) {
    this.config = config;
    this.local = new BackendLauncher(config, onProgress);
    this.worker = worker;
    // Why LiteRT.js runs on the main thread, when the worker failed; '' otherwise.
    this.workerProblem = '';
  }

  inWorker(name) {
    return this.worker !== null && LITERT_BACKENDS.includes(name);
  }

  prefetch(name) {
    if (this.inWorker(name)) this.worker.call('prefetch', { name }).catch(() => {});
    else this.local.prefetch(name);
  }

  async start(name) {
    if (this.inWorker(name)) {
      try {
        const { description } = await this.worker.call('start', { name });
        const detector = new RemoteDetector(this.worker, name, this.config.model.litert.input.size);
        return { name, detector, description: `${description}, in a worker` };
      } catch (error) {
        if (!(error instanceof WorkerUnavailable)) throw error;
        this.worker = null;
        this.workerProblem = error.message;
      }
    }
    return this.local.start(name);
  }
}

/**
 * Starts the worker at once, before config.json is read, so it can load LiteRT.js meanwhile.
 * @returns {{worker: DetectorWorker|null, problem: string}}
 */
export function openDetectorWorker(listeners) {
  if (typeof Worker !== 'function') return { worker: null, problem: 'this browser has no Web Workers' };
  try {
    return { worker: new DetectorWorker(listeners), problem: '' };
  } catch (error) {
    return { worker: null, problem: error?.message ?? String(error) };
  }
}

/**
 * The launcher for the page once config.json is read: LiteRT.js in the worker if it takes the
 * config, else everything on the main thread. `problem` says why the worker is not used, or ''.
 *
 * @param {{worker: DetectorWorker|null, problem: string}} opened  from openDetectorWorker
 * @returns {Promise<{launcher: SplitLauncher, problem: string}>}
 */
export async function launcherFor(config, opened, onProgress) {
  let { worker, problem } = opened;
  if (worker && !config.model.litert) {
    worker.fail(new WorkerUnavailable('no .tflite'));
    return { launcher: new SplitLauncher(config, onProgress, null), problem: '' };
  }
  if (worker) {
    try {
      await worker.call('config', { config });
    } catch (error) {
      worker.fail(error instanceof WorkerUnavailable ? error : new WorkerUnavailable(error.message));
      worker = null;
      problem = error?.message ?? String(error);
    }
  }
  return { launcher: new SplitLauncher(config, onProgress, worker), problem: config.model.litert ? problem : '' };
}
