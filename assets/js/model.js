// Downloads the converted graph model itself (so it can show progress and name a missing or
// truncated file, where TF.js would fail later with a shape error), builds it from memory and runs
// it on input tensors.

import { OUTPUTS_FOR } from './contract.js';
import { fetchChecked, fetchJoined, folderHintFor } from './download.js';
import { PageError } from './errors.js';
import { decodeGraphOutputs, postprocessRaw, postprocessYolo, yoloOptions } from './postprocess.js';

/**
 * Fetches model.json and every weight shard, checking HTTP status and each shard's size.
 *
 * @param {object} modelConfig  config.model
 * @param {(loaded: number, total: number) => void} onProgress  bytes of weights
 * @returns {Promise<object>} TF.js ModelArtifacts
 */
export async function fetchModelArtifacts(modelConfig, onProgress = () => {}) {
  const base = new URL('../', import.meta.url); // the site's root: this file is in its js/ folder
  const modelUrl = new URL(modelConfig.url, base);
  const folder = modelConfig.url.includes('/') ? modelConfig.url.slice(0, modelConfig.url.lastIndexOf('/') + 1) : '';
  const folderHint = folderHintFor(modelConfig.url);

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
  const weights = await fetchJoined(shards, folderHint, onProgress);

  return {
    modelTopology: manifest.modelTopology,
    weightSpecs: manifest.weightsManifest.flatMap((group) => group.weights),
    weightData: weights.buffer,
    format: manifest.format,
    generatedBy: manifest.generatedBy,
    convertedBy: manifest.convertedBy,
    signature: manifest.signature,
    userDefinedMetadata: manifest.userDefinedMetadata,
    modelInitializer: manifest.modelInitializer,
    initializerSignature: manifest.initializerSignature,
  };
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
  constructor(tf, model, modelConfig, graphNodes = [], backendName = null) {
    this.tf = tf;
    // TF.js has one active backend; a page comparing backends switches it back before each run.
    this.backendName = backendName;
    this.model = model;
    this.config = modelConfig;
    this.inputName = modelConfig.input.name;
    this.floatInput = modelConfig.input.dtype === 'float32';
    const outputs = modelConfig.outputs;
    this.postprocess = modelConfig.postprocess;
    this.raw = this.postprocess !== 'graph'; // raw SSD outputs, or YOLO's one: no NMS in the graph
    // YOLO models take pixels / 255; SSD models take 0..255 whatever their input's type.
    this.inputScale = modelConfig.yolo?.inputScale ?? 1;
    // In the contract's order, which detect() reads the values in.
    const requested = OUTPUTS_FOR[this.postprocess].map((role) => outputs[role]);
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

  /**
   * Detects on the pixels of a canvas (or anything tf.browser.fromPixels accepts).
   * @param {number} [scoreFloor]  see postprocessRaw: candidates below it are not needed
   */
  async detectPixels(pixels, scoreFloor = 0) {
    const { tf } = this;
    if (this.backendName && tf.getBackend() !== this.backendName) await tf.setBackend(this.backendName);
    const input = tf.tidy(() => {
      const image = tf.browser.fromPixels(pixels, 3); // int32 [h, w, 3]: the model's uint8 input
      if (!this.floatInput) return tf.expandDims(image, 0);
      const float = tf.cast(image, 'float32');
      return tf.expandDims(this.inputScale === 1 ? float : tf.mul(float, this.inputScale), 0);
    });
    try {
      return await this.detect(input, scoreFloor);
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

  async detect(input, scoreFloor = 0) {
    if (this.backendName && this.tf.getBackend() !== this.backendName) await this.tf.setBackend(this.backendName);
    const outputs = await this.execute(input);
    try {
      const values = await Promise.all(outputs.map((tensor) => tensor.data()));
      if (this.postprocess === 'yolo') {
        const numAnchors = outputs[0].shape[outputs[0].shape.length - 1];
        return postprocessYolo(values[0], numAnchors, yoloOptions(this.config), scoreFloor);
      }
      if (this.raw) {
        const numAnchors = outputs[0].shape.length >= 2 ? outputs[0].shape[outputs[0].shape.length - 2] : 0;
        return postprocessRaw(values[0], values[1], numAnchors, this.config.nms, scoreFloor);
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

  memory() {
    return this.tf.memory();
  }

  dispose() {
    this.model.dispose();
  }
}

/**
 * Builds the detector from artifacts being downloaded (fetchModelArtifacts) and warms it up, so
 * the first real frame does not pay for shader compilation and kernel set-up.
 */
export async function createDetector(tf, modelConfig, artifacts, backendName = null) {
  const loaded = await artifacts;
  const model = await buildModel(tf, loaded);
  let detector;
  try {
    detector = new Detector(tf, model, modelConfig, loaded.modelTopology?.node ?? [], backendName);
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
