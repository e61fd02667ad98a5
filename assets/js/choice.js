// Which backend runs the model on this device. The build's timings (from the build machine) only
// order the candidates: on the first frame the page times the verified backends worth trying here
// on that frame, keeps the fastest whose detections agree, and remembers it in localStorage for
// this model (keyed by config.json's model.sha256), so later visits start with it and measure
// nothing. A rebuilt model has another hash, so it is measured again.

import { automaticBackendOrder } from './config.js';
import { deviceClass } from './runtime.js';

const VERSION = 1;
// A remembered choice older than this is measured again: browsers and their engines change.
const MAX_AGE_MS = 30 * 24 * 3600 * 1000;

/** The storage key for what was measured about this site's model, or null without a hash. */
export function choiceKey(config) {
  const hash = config?.model?.sha256;
  return typeof hash === 'string' && hash ? `sitegen:backend:${hash}` : null;
}

/**
 * The backend remembered for this model on this device, if it is still one the page may pick
 * automatically (verified, carried by the site) and was measured recently; else null.
 */
export function recallBackend(storage, config, now = Date.now()) {
  const key = choiceKey(config);
  if (!key || !storage) return null;
  let stored;
  try {
    stored = JSON.parse(storage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
  if (!stored || stored.version !== VERSION || typeof stored.backend !== 'string') return null;
  if (!(now - stored.measuredAt < MAX_AGE_MS)) return null;
  return automaticBackendOrder(config).includes(stored.backend) ? stored.backend : null;
}

/** Remembers `backend` as the fastest for this model here, with the trials that chose it. */
export function rememberBackend(storage, config, backend, trials, now = Date.now()) {
  const key = choiceKey(config);
  if (!key || !storage) return;
  const measured = trials.map(({ name, medianMs }) => ({ name, medianMs }));
  try {
    storage.setItem(key, JSON.stringify({ version: VERSION, backend, measuredAt: now, trials: measured }));
  } catch {
    // Storage refused (private window, quota): measured again next visit.
  }
}

/**
 * The backends worth timing here against the running one: every other one the page may pick
 * automatically, except GPU backends without graphics hardware (a software rasteriser is many
 * times slower than WASM and takes seconds a frame to time) and TF.js's plain-JavaScript 'cpu'
 * backend where WebAssembly runs (always slower than 'wasm'). ?tune=all times every one of them;
 * ?tune=off none.
 *
 * @param {(name: string) => Promise<boolean>} hasHardware  whether a GPU backend runs on real hardware
 */
export async function backendsToTime(config, running, tune, hasHardware) {
  if (tune === 'off') return [];
  const others = automaticBackendOrder(config).filter((name) => name !== running);
  if (tune === 'all') return others;
  const hardware = await Promise.all(others.map((name) => (deviceClass(name) === 'gpu' ? hasHardware(name) : true)));
  const webAssembly = typeof WebAssembly === 'object';
  return others.filter((name, i) => hardware[i] && !(name === 'cpu' && webAssembly));
}
