// Downloads the converted graph model itself (so it can show progress and name a missing or
// truncated file, where TF.js would fail later with a shape error), builds it from memory and runs
// it on input tensors.

import { PageError } from './errors.js';
import { decodeGraphOutputs, postprocessRaw } from './postprocess.js';

/**
 * Fetches model.json and every weight shard, checking HTTP status and each shard's size.
 *
 * @param {object} modelConfig  config.model
 * @param {(loaded: number, total: number) => void} onProgress  bytes of weights
 * @returns {Promise<object>} TF.js ModelArtifacts
 */
export async function fetchModelArtifacts(modelConfig, onProgress = () => {}) {
  const base = document.baseURI;
  const modelUrl = new URL(modelConfig.url, base);
  const folder = modelConfig.url.includes('/') ? modelConfig.url.slice(0, modelConfig.url.lastIndexOf('/') + 1) : '';
  const folderHint = folder ? `the site's ${folder} folder` : 'the site\'s model files';

  const manifest = await fetchJson(modelConfig.url, modelUrl, folderHint);
  if (!manifest.modelTopology || !Array.isArray(manifest.weightsManifest)) {
    throw new PageError(`Could not load the model: ${modelConfig.url} is not a TF.js graph model (no modelTopology or weightsManifest). Rebuild the site with sitegen.`);
  }

  // The shards in the order TF.js expects their bytes: manifest groups, then paths within a group.
  // config.model.files names each with its size; match them by resolved URL.
  const expected = new Map((modelConfig.files ?? []).map((file) => [new URL(file.path, base).href, file]));
  const shards = manifest.weightsManifest.flatMap((group) => group.paths.map((shardPath) => {
    const url = new URL(shardPath, modelUrl);
    const known = expected.get(url.href);
    return { url, name: known?.path ?? `${folder}${shardPath}`, bytes: known ? known.bytes : null };
  }));

  // The total is known when config.json gives every shard's size; the bar is indeterminate otherwise.
  const total = shards.every((shard) => Number.isInteger(shard.bytes))
    ? shards.reduce((sum, shard) => sum + shard.bytes, 0) : 0;
  let loaded = 0;
  onProgress(0, total);
  const parts = await Promise.all(shards.map((shard) => fetchShard(shard, folderHint, (bytes) => {
    loaded += bytes;
    onProgress(loaded, total);
  })));

  return {
    modelTopology: manifest.modelTopology,
    weightSpecs: manifest.weightsManifest.flatMap((group) => group.weights),
    weightData: concatenate(parts),
    format: manifest.format,
    generatedBy: manifest.generatedBy,
    convertedBy: manifest.convertedBy,
    signature: manifest.signature,
    userDefinedMetadata: manifest.userDefinedMetadata,
    modelInitializer: manifest.modelInitializer,
    initializerSignature: manifest.initializerSignature,
  };
}

async function fetchChecked(name, url, folderHint, init = {}) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new PageError(`Could not load the model: ${name} could not be downloaded (${error.message}). Check the connection and reload the page.`, { cause: error });
  }
  if (!response.ok) {
    throw new PageError(`Could not load the model: ${name} returned HTTP ${response.status}. Upload every file of ${folderHint}.`);
  }
  return response;
}

// model.json is revalidated on every load (cheap: usually a 304), so a redeployed site does not pair a
// cached model.json with new shards.
async function fetchJson(name, url, folderHint) {
  const response = await fetchChecked(name, url, folderHint, { cache: 'no-cache' });
  try {
    return await response.json();
  } catch (error) {
    throw new PageError(`Could not load the model: ${name} is not valid JSON (truncated upload?). Upload every file of ${folderHint} again.`, { cause: error });
  }
}

// Downloads one shard and checks its size. Returns its bytes.
//
// The body is read with arrayBuffer(), not a stream reader: Chromium cancels the request of a
// response whose stream was read to the end but which is collected before the network layer
// reports completion, and its developer tools (and test harnesses) then list the shard as
// failed. Progress therefore moves one shard at a time (4 MB with the converter's default).
async function fetchShard(shard, folderHint, reportProgress) {
  const response = await fetchChecked(shard.name, shard.url, folderHint);
  let bytes;
  try {
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new PageError(`Could not load the model: downloading ${shard.name} failed (${error.message}). Check the connection and reload the page.`, { cause: error });
  }
  if (shard.bytes !== null && bytes.length !== shard.bytes) {
    throw new PageError(`Could not load the model: ${shard.name} is ${bytes.length} bytes, expected ${shard.bytes} (truncated upload?). Upload every file of ${folderHint} again.`);
  }
  reportProgress(bytes.length);
  return bytes;
}

// The weights as one ArrayBuffer, in shard order, as tf.io.fromMemory expects them.
function concatenate(parts) {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes.buffer;
}

/** Builds the GraphModel from downloaded artifacts. */
export async function buildModel(tf, artifacts) {
  try {
    return await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw new PageError(`Could not load the model: TensorFlow.js could not build it from model.json (${error.message}). Rebuild the site with sitegen.`, { cause: error });
  }
}

// TF.js refuses model.execute() on graphs whose requested outputs need control flow.
function needsAsyncExecution(error) {
  return /executeAsync|dynamic|control flow/i.test(String(error?.message ?? error));
}

/**
 * The tensor that carries an output's data, skipping Identity nodes.
 *
 * The Object Detection API's exporter ends the graph with Identity nodes that also carry control
 * dependencies (^node) on the in-graph NMS. Asking TF.js for raw_detection_boxes/_scores through
 * those Identities runs the whole NMS as well, with dynamic ops that force executeAsync, although
 * the raw values do not depend on it. An Identity passes its input through unchanged, so its data
 * input gives the same values without the detour.
 *
 * @param {{name: string, op: string, input?: string[]}[]} nodes  modelTopology.node of model.json
 * @param {string} tensorName  "Identity_6:0", "Identity_6" or "node:1"
 * @returns {string|null} the name to request, or null when the graph has no such node
 */
export function dataSourceOf(nodes, tensorName) {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  let name = tensorName;
  for (let hops = 0; hops < 64; hops += 1) {
    const [nodeName, index = '0'] = name.split(':');
    const node = byName.get(nodeName);
    if (!node) return hops === 0 ? null : name;
    const dataInputs = (node.input ?? []).filter((input) => !input.startsWith('^'));
    if (node.op !== 'Identity' || index !== '0' || dataInputs.length !== 1) return name;
    name = dataInputs[0];
  }
  return name;
}

/** Runs the detector on one frame and returns candidates (see postprocess.js), best first. */
export class Detector {
  /**
   * @param {object} model  the TF.js GraphModel
   * @param {object} modelConfig  config.model
   * @param {object[]} graphNodes  modelTopology.node, to find the raw outputs' data sources
   */
  constructor(tf, model, modelConfig, graphNodes = []) {
    this.tf = tf;
    this.model = model;
    this.config = modelConfig;
    this.inputName = modelConfig.input.name;
    this.floatInput = modelConfig.input.dtype === 'float32';
    const outputs = modelConfig.outputs;
    this.raw = modelConfig.postprocess === 'raw';
    const requested = this.raw
      ? [outputs.rawBoxes, outputs.rawScores]
      : [outputs.boxes, outputs.scores, outputs.classes, outputs.count];
    const missing = graphNodes.length ? requested.filter((name) => dataSourceOf(graphNodes, name) === null) : [];
    if (missing.length) {
      throw new PageError(`The site's config.json names model output ${missing.join(', ')}, which model.json does not have. Rebuild the site with sitegen.`);
    }
    this.outputNames = this.raw && graphNodes.length
      ? requested.map((name) => dataSourceOf(graphNodes, name))
      : requested;
    // "graph" models contain control flow (the NMS), so always executeAsync; "raw" outputs are
    // usually reachable without it, and the synchronous execute() is faster.
    this.useAsync = !this.raw;
  }

  /** Detects on the pixels of a canvas (or anything tf.browser.fromPixels accepts). */
  async detectPixels(pixels) {
    const { tf } = this;
    const input = tf.tidy(() => {
      const image = tf.browser.fromPixels(pixels, 3); // int32 [h, w, 3]: the model's uint8 input
      return tf.expandDims(this.floatInput ? tf.cast(image, 'float32') : image, 0);
    });
    try {
      return await this.detect(input);
    } finally {
      input.dispose();
    }
  }

  /** One inference on zeros of the model's input size, so shaders and kernels are ready before the first frame. */
  async warmUp() {
    const [height, width] = this.config.input.size ?? [300, 300];
    const zeros = this.tf.zeros([1, height, width, 3], this.floatInput ? 'float32' : 'int32');
    try {
      await this.detect(zeros);
    } finally {
      zeros.dispose();
    }
  }

  async detect(input) {
    const outputs = await this.execute(input);
    try {
      const values = await Promise.all(outputs.map((tensor) => tensor.data()));
      if (this.raw) {
        const numAnchors = outputs[0].shape.length >= 2 ? outputs[0].shape[outputs[0].shape.length - 2] : 0;
        return postprocessRaw(values[0], values[1], numAnchors, this.config.nms);
      }
      return decodeGraphOutputs(values[0], values[1], values[2], values[3][0]);
    } finally {
      this.tf.dispose(outputs);
    }
  }

  async execute(input) {
    const feed = { [this.inputName]: input };
    if (!this.useAsync) {
      try {
        return [].concat(this.model.execute(feed, this.outputNames));
      } catch (error) {
        if (!needsAsyncExecution(error)) throw error;
        this.useAsync = true;
      }
    }
    return [].concat(await this.model.executeAsync(feed, this.outputNames));
  }

  dispose() {
    this.model.dispose();
  }
}

/**
 * Builds the detector from artifacts being downloaded (fetchModelArtifacts) and warms it up, so
 * the first real frame does not pay for shader compilation and kernel set-up.
 */
export async function createDetector(tf, modelConfig, artifacts) {
  const loaded = await artifacts;
  const model = await buildModel(tf, loaded);
  let detector;
  try {
    detector = new Detector(tf, model, modelConfig, loaded.modelTopology?.node ?? []);
  } catch (error) {
    model.dispose();
    throw error;
  }
  try {
    await detector.warmUp();
  } catch (error) {
    detector.dispose();
    throw new PageError(`The model loaded but could not run: ${error.message}. The site's config.json may not match its model; rebuild the site with sitegen.`, { cause: error });
  }
  return detector;
}
