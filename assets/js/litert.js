// Runs the site's .tflite model with LiteRT.js (XNNPACK in WebAssembly, or WebGPU): on a CPU
// 1.6-2.5x faster than TF.js WASM on the models measured (docs/benchmarks.md). The runtime (vendor/litert/, built by
// `npm run build:litert`) is imported only when a LiteRT backend is tried: its WebAssembly build is
// ~9 MB (~2.8 MB compressed). The model ends at the same raw outputs as the TF.js graph, so both
// runtimes share postprocess.js.

import { OUTPUTS_FOR } from './contract.js';
import { fetchJoined, fetchSized, folderHintFor } from './download.js';
import { PageError } from './errors.js';
import { postprocessRaw, postprocessYolo, yoloOptions } from './postprocess.js';

const RUNTIME_DIR = new URL('../vendor/litert/', import.meta.url);
// The site's root (this file is in its js/ folder): the page's base, also inside the detector worker.
const SITE_ROOT = new URL('../', import.meta.url);

/**
 * Loads LiteRT.js once: the threaded build when the page is cross-origin isolated (threads need
 * SharedArrayBuffer), else the single-threaded one, or the compat build without relaxed SIMD.
 * Once per page, not per caller: LiteRT.js itself keeps one global runtime, and loading it goes
 * through the global `self.Module`.
 *
 * @returns {Promise<{lib: object, variant: string, threads: number}>}
 */
export const loadLiteRtRuntime = once(loadRuntime);

/** `load`, called at most once; every call returns its first result. */
function once(load) {
  let result = null;
  return () => {
    result ??= load();
    return result;
  };
}

async function loadRuntime() {
  const hint = 'the site\'s vendor/litert/ folder';
  let lib;
  try {
    lib = await import(new URL('litert.js', RUNTIME_DIR).href);
  } catch (error) {
    throw new PageError(`Could not load LiteRT.js (vendor/litert/litert.js): ${error.message}. Upload every file of ${hint}.`, { cause: error });
  }
  const relaxedSimd = await lib.supportsFeature('relaxedSimd');
  const threaded = relaxedSimd && globalThis.crossOriginIsolated === true && await lib.supportsFeature('threads');
  const variant = threaded ? 'threaded' : relaxedSimd ? 'simd' : 'compat';
  const build = lib.variants[variant];
  const parts = build.wasm.map((part) => ({
    url: new URL(part.path, RUNTIME_DIR), name: `vendor/litert/${part.path}`, bytes: part.bytes,
  }));
  const compiled = compileWhileDownloading(parts.map((part) => fetchSized(part, hint)));
  compiled.catch(() => {}); // reported through instantiateWasm below
  const script = await fetchSized({ url: new URL(build.script, RUNTIME_DIR), name: `vendor/litert/${build.script}`, bytes: null }, hint);
  // The Emscripten loader runs from a blob: URL of the bytes fetched once here: the threaded
  // build starts each worker from its loader's own URL, and from the site's URL every worker
  // would download the 317 KB loader again. LiteRT.js takes a path ending in ".js" as the loader
  // itself (anything else as a folder to look in), hence the fragment, which URLs ignore.
  const scriptUrl = `${URL.createObjectURL(new Blob([script], { type: 'text/javascript' }))}#${build.script}`;
  // LiteRT.js hands `self.Module` to the Emscripten loader; its instantiateWasm hook lets the page
  // instantiate the module being compiled above instead of the loader fetching the .wasm itself,
  // so the loader script runs while the WebAssembly still downloads. The native side logs
  // INFO/WARNING lines through printErr (console.error by default); they are diagnostics, not page
  // errors, so they go to the debug log.
  let failed;
  const instantiationFailed = new Promise((_, reject) => {
    failed = reject;
  });
  const log = (text) => console.debug(`LiteRT.js: ${text}`);
  self.Module = {
    // Where the threaded build starts its threads from: by default the document's current
    // script, which a worker does not have (it would start the worker's own script instead).
    mainScriptUrlOrBlob: scriptUrl,
    print: log,
    printErr: log,
    instantiateWasm(imports, receive) {
      compiled
        .then((wasmModule) => WebAssembly.instantiate(wasmModule, imports).then((instance) => receive(instance, wasmModule)))
        .catch(failed);
      return {};
    },
  };
  try {
    // The loader waits for receive() forever when the download or instantiation fails, hence the race.
    await Promise.race([lib.loadLiteRt(scriptUrl, {}), instantiationFailed]);
  } finally {
    self.Module = undefined;
  }
  return { lib, variant, threads: threaded ? engineThreads() : 1 };
}

/**
 * How many threads a threaded WebAssembly engine (LiteRT.js, TF.js WASM) is given: one per core,
 * at most 4. LiteRT.js's threaded build starts one worker per core (navigator.hardwareConcurrency)
 * and cannot start more while a model runs, so asking for more threads than cores would hang; past
 * 4, a detector this size gains little and the page loses its cores.
 */
export function engineThreads() {
  const cores = navigator.hardwareConcurrency || 1;
  return Math.max(1, Math.min(cores, 4));
}

/**
 * Compiles the WebAssembly parts as they arrive, in order: compiling a 9 MB module takes a few
 * hundred ms, which overlaps the download this way instead of following it. A part that fails to
 * download rejects with the PageError that names it.
 *
 * @param {Promise<Uint8Array>[]} downloads  the parts, already requested
 */
async function compileWhileDownloading(downloads) {
  const all = Promise.all(downloads);
  let next = 0;
  const stream = new ReadableStream({
    async pull(controller) {
      if (next === downloads.length) controller.close();
      else controller.enqueue(await downloads[next++]);
    },
  });
  const compiled = WebAssembly.compileStreaming(new Response(stream, { headers: { 'Content-Type': 'application/wasm' } }));
  compiled.catch(() => {}); // a failed download is reported through `all`, which names the part
  await all;
  return compiled;
}

/** The .tflite parts listed in config.model.litert, joined. */
export function fetchTflite(litertConfig, onProgress = () => {}) {
  const base = SITE_ROOT;
  const files = litertConfig.files.map((file) => ({ url: new URL(file.path, base), name: file.path, bytes: file.bytes }));
  return fetchJoined(files, folderHintFor(litertConfig.files[0]?.path ?? 'model/'), onProgress);
}

/** Runs the .tflite on frames; the same interface as model.js's Detector. */
export class LiteRtDetector {
  constructor(runtime, compiled, modelConfig, accelerator) {
    this.lib = runtime.lib;
    this.compiled = compiled;
    this.accelerator = accelerator;
    this.modelConfig = modelConfig;
    const litert = modelConfig.litert;
    this.inputName = litert.input.name;
    [this.height, this.width] = litert.input.size;
    this.input = litert.input.dtype === 'float32'
      ? new Float32Array(this.height * this.width * 3)
      : new Uint8Array(this.height * this.width * 3);
    this.yolo = modelConfig.postprocess === 'yolo'
      ? yoloOptions(modelConfig, litert.boxUnits ?? modelConfig.yolo.boxUnits) : null;
    // YOLO models take pixels / 255; SSD models take 0..255 whatever their input's type.
    this.inputScale = modelConfig.yolo?.inputScale ?? 1;
    // raw boxes then raw scores, or YOLO's predictions
    this.outputNames = OUTPUTS_FOR[this.yolo ? 'yolo' : 'raw'].map((role) => litert.outputs[role]);
    // LiteRT.js tensors are freed by hand; counting them lets window.sitegen.memory() show a leak.
    this.liveTensors = 0;
    // The last frame's engine run alone (compiled.run), in ms: the page's per-frame time minus
    // this is what the page adds around the engine (docs/benchmarks.md).
    this.lastRunMs = null;
  }

  memory() {
    return { numTensors: this.liveTensors, runtime: 'litert' };
  }

  /**
   * Detects on a canvas already drawn at the model's input size (FrameInput does that), or on its
   * RGBA bytes as `{data}` (what the page posts to the detector worker).
   * @param {number} [scoreFloor]  see postprocessRaw: candidates below it are not needed
   */
  async detectPixels(pixels, scoreFloor = 0) {
    const { data } = pixels.data ? pixels : pixels.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, this.width, this.height);
    // RGBA -> RGB, the layout of the model's [1, H, W, 3] input.
    const { input, inputScale } = this;
    if (inputScale === 1) {
      for (let source = 0, target = 0; target < input.length; source += 4, target += 3) {
        input[target] = data[source];
        input[target + 1] = data[source + 1];
        input[target + 2] = data[source + 2];
      }
    } else {
      // Math.fround(v * scale), as TF.js and PyTorch compute it in float32.
      for (let source = 0, target = 0; target < input.length; source += 4, target += 3) {
        input[target] = data[source] * inputScale;
        input[target + 1] = data[source + 1] * inputScale;
        input[target + 2] = data[source + 2] * inputScale;
      }
    }
    return this.detect(input, scoreFloor);
  }

  async warmUp() {
    this.input.fill(0);
    await this.detect(this.input);
  }

  async detect(input, scoreFloor = 0) {
    const tensor = new this.lib.Tensor(input, [1, this.height, this.width, 3]);
    this.liveTensors += 1;
    let outputs = null;
    try {
      const started = performance.now();
      outputs = await this.compiled.run({ [this.inputName]: tensor });
      this.lastRunMs = performance.now() - started;
      this.liveTensors += Object.keys(outputs).length;
      const values = await Promise.all(this.outputNames.map((name) => readOutput(outputs[name], name)));
      if (this.yolo) {
        // [1, 4 + C, A], C from config.json (the build checked the shape against it)
        const numAnchors = values[0].length / (4 + this.modelConfig.numClasses);
        return postprocessYolo(values[0], numAnchors, this.yolo, scoreFloor);
      }
      const [boxes, scores] = values;
      const numAnchors = boxes.length / 4;
      return postprocessRaw(boxes, scores, numAnchors, this.modelConfig.nms, scoreFloor);
    } finally {
      tensor.delete();
      this.liveTensors -= 1;
      for (const output of Object.values(outputs ?? {})) {
        output.delete();
        this.liveTensors -= 1;
      }
    }
  }

  dispose() {
    this.compiled.delete();
  }
}

async function readOutput(tensor, name) {
  if (!tensor) throw new Error(`the .tflite has no output named ${name}`);
  // toTypedArray() copies out of the WebAssembly heap already (HEAPU8.slice): no second copy.
  if (tensor.accelerator === 'wasm') return tensor.toTypedArray();
  const onCpu = await tensor.copyTo('wasm');
  try {
    return onCpu.toTypedArray();
  } finally {
    onCpu.delete();
  }
}

/**
 * Compiles the .tflite for an accelerator ('wasm' or 'webgpu') and warms it up.
 *
 * @param {Promise<Uint8Array>} tflite  the model bytes being downloaded (fetchTflite)
 */
export async function createLiteRtDetector(modelConfig, tflite, accelerator) {
  const [runtime, bytes] = await Promise.all([loadLiteRtRuntime(), tflite]);
  let compiled;
  try {
    compiled = await runtime.lib.loadAndCompile(bytes, {
      accelerator,
      cpuOptions: { numThreads: runtime.threads },
    });
  } catch (error) {
    throw new PageError(`Could not load the model into LiteRT.js (${error.message}). Rebuild the site with sitegen.`, { cause: error });
  }
  const detector = new LiteRtDetector(runtime, compiled, modelConfig, accelerator);
  try {
    await detector.warmUp();
  } catch (error) {
    detector.dispose();
    throw new PageError(`The model loaded into LiteRT.js but could not run: ${error.message}.`, { cause: error });
  }
  return { detector, runtime };
}
