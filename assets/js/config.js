// Reads the site's config.json (written by `sitegen build`, schema CONFIG_SCHEMA of contract.js)
// and the page's query parameters. The page knows nothing about the model that is not in config.json.

import {
  ALL_BACKENDS, CONFIG_SCHEMA, LITERT_BACKENDS, NMS_KEYS, OUTPUTS_FOR, QUERY, RAW_OUTPUTS,
} from './contract.js';
import { PageError } from './errors.js';

/**
 * @param {string} url  relative to the page, so the site works under any sub-path
 * @returns {Promise<object>} the parsed config, checked for what the page relies on
 */
export async function loadConfig(url = 'config.json') {
  let response;
  try {
    response = await fetch(url, { cache: 'no-cache' });
  } catch (error) {
    throw new PageError(`Could not load the site configuration: ${url} could not be downloaded (${error.message}). Check the connection and reload the page.`, { cause: error });
  }
  if (!response.ok) {
    throw new PageError(`Could not load the site configuration: ${url} returned HTTP ${response.status}. Upload every file of the built site.`);
  }
  let config;
  try {
    config = await response.json();
  } catch (error) {
    throw new PageError(`Could not load the site configuration: ${url} is not valid JSON.`, { cause: error });
  }
  return checkConfig(config, url);
}

/** Throws a PageError naming the first missing or malformed key the page needs. */
export function checkConfig(config, url = 'config.json') {
  const problem = findProblem(config);
  if (problem) {
    throw new PageError(`The site configuration ${url} is not usable: ${problem}. Rebuild the site with sitegen.`);
  }
  return config;
}

function findProblem(config) {
  if (config === null || typeof config !== 'object') return 'it is not a JSON object';
  if (config.schema !== CONFIG_SCHEMA) {
    return `it has schema ${JSON.stringify(config.schema)}, this page reads schema ${CONFIG_SCHEMA}`;
  }
  const model = config.model;
  if (!model || typeof model !== 'object') return '"model" is missing';
  if (typeof model.url !== 'string' || !model.url) return '"model.url" is missing';
  if (!model.input || typeof model.input.name !== 'string') return '"model.input.name" is missing';
  if (!['int32', 'float32'].includes(model.input.dtype)) return '"model.input.dtype" must be "int32" or "float32"';
  const size = model.input.size;
  if (size !== null && size !== undefined && !(Array.isArray(size) && size.length === 2 && size.every((n) => Number.isInteger(n) && n > 0))) {
    return '"model.input.size" must be [height, width] or null';
  }
  const roles = Object.hasOwn(OUTPUTS_FOR, model.postprocess ?? '') ? OUTPUTS_FOR[model.postprocess] : null;
  if (!roles) return '"model.postprocess" must be "graph", "raw" or "yolo"';
  for (const role of roles) {
    if (typeof model.outputs?.[role] !== 'string') return `"model.outputs.${role}" is missing`;
  }
  if (model.postprocess === 'yolo') {
    const yolo = model.yolo;
    if (!yolo || !['pixels', 'normalized'].includes(yolo.boxUnits) || typeof yolo.inputScale !== 'number' || typeof yolo.padValue !== 'number') {
      return '"model.yolo" must give boxUnits, inputScale and padValue';
    }
    if (!Array.isArray(size)) return '"model.input.size" is needed to letterbox a YOLO model';
  }
  if (model.postprocess !== 'graph') {
    const nms = model.nms;
    if (!nms) return '"model.nms" is missing';
    for (const key of NMS_KEYS) {
      if (typeof nms[key] !== 'number') return `"model.nms.${key}" is missing`;
    }
  }
  if (model.files !== undefined && !Array.isArray(model.files)) return '"model.files" must be a list';
  if (model.sha256 != null && !/^[0-9a-f]{64}$/.test(model.sha256)) return '"model.sha256" must be a SHA-256 hex digest';
  if (model.litert) {
    if (!Array.isArray(model.litert.files) || !model.litert.files.length) return '"model.litert.files" must list the .tflite parts';
    if (!Array.isArray(model.litert.input?.size) || typeof model.litert.input?.name !== 'string') return '"model.litert.input" is missing';
    const litertRoles = model.postprocess === 'yolo' ? OUTPUTS_FOR.yolo : RAW_OUTPUTS;
    if (!litertRoles.every((role) => typeof model.litert.outputs?.[role] === 'string')) return '"model.litert.outputs" is missing';
  }
  return null;
}

/**
 * The backends to try automatically, best first: config order minus those the build found wrong,
 * and minus LiteRT's when the site carries no .tflite.
 */
export function automaticBackendOrder(config) {
  const order = Array.isArray(config.backends?.order) && config.backends.order.length
    ? config.backends.order : ALL_BACKENDS;
  const verified = config.backends?.verified ?? {};
  const litert = Boolean(config.model?.litert);
  return order.filter((name) => ALL_BACKENDS.includes(name) && verified[name] !== false
    && (litert || !LITERT_BACKENDS.includes(name)));
}

/**
 * ?autostart=1, ?backend=litert-wasm|litert-webgpu|wasm|webgl|webgpu|cpu, ?threshold=0.4, ?max=100, ?tune=auto|all|off,
 * ?worker=off (LiteRT.js on the page's main thread, as without Web Workers: for comparisons)
 * @returns {{autostart: boolean, backend: string|null, threshold: number|null, maxDetections: number|null, tune: string, worker: boolean, problems: string[]}}
 */
export function readQuery(search) {
  const params = new URLSearchParams(search);
  const problems = [];
  const autostart = ['1', 'true', 'yes'].includes((params.get(QUERY.autostart) ?? '').toLowerCase());

  let backend = params.get(QUERY.backend);
  if (backend !== null) {
    backend = backend.toLowerCase();
    if (!ALL_BACKENDS.includes(backend)) {
      problems.push(`Ignored ${QUERY.backend}=${params.get(QUERY.backend)} in the address: use one of ${ALL_BACKENDS.join(', ')}.`);
      backend = null;
    }
  }

  let threshold = null;
  const rawThreshold = params.get(QUERY.threshold);
  if (rawThreshold !== null) {
    const value = Number(rawThreshold);
    if (rawThreshold.trim() !== '' && Number.isFinite(value) && value >= 0 && value <= 1) {
      threshold = value;
    } else {
      problems.push(`Ignored ${QUERY.threshold}=${rawThreshold} in the address: use a number from 0 to 1.`);
    }
  }
  // ?tune=off keeps the first backend; ?tune=all also times software GPU and CPU backends.
  let tune = (params.get(QUERY.tune) ?? 'auto').toLowerCase();
  if (!['auto', 'all', 'off'].includes(tune)) {
    problems.push(`Ignored ${QUERY.tune}=${params.get(QUERY.tune)} in the address: use auto, all or off.`);
    tune = 'auto';
  }
  // ?max=100 shows up to 100 boxes (sitegen eval asks for as many as COCO's AR@100 counts).
  let maxDetections = null;
  const rawMax = params.get(QUERY.maxDetections);
  if (rawMax !== null) {
    const value = Number(rawMax);
    if (Number.isInteger(value) && value >= 1 && value <= 1000) maxDetections = value;
    else problems.push(`Ignored ${QUERY.maxDetections}=${rawMax} in the address: use a whole number from 1 to 1000.`);
  }
  const worker = (params.get(QUERY.worker) ?? '').toLowerCase() !== 'off';
  return { autostart, backend, threshold, maxDetections, tune, worker, problems };
}
