// Picks the runtime and backend the detector runs on, and starts it. Two runtimes:
//   LiteRT.js  (litert-wasm, litert-webgpu) runs the site's .tflite; fastest on CPUs.
//   TF.js      (wasm, webgpu, webgl, cpu) runs the TF.js graph model; the compatible fallback.
// Each runtime and each TF.js backend is its own module, imported only when tried, and each model
// is downloaded only when a backend that needs it is tried, so the page fetches what it uses.
// Paths are relative to this file, so the site works under any sub-path.

import { automaticBackendOrder } from './config.js';
import { CPU_BACKENDS, LITERT_BACKENDS } from './contract.js';
import { PageError } from './errors.js';
import { createLiteRtDetector, engineThreads, fetchTflite } from './litert.js';
import { createDetector, fetchModelArtifacts } from './model.js';

const CORE_MODULE = '../vendor/tfjs/tf.js';
const BACKEND_MODULES = {
  wasm: '../vendor/tfjs/backend-wasm.js',
  webgpu: '../vendor/tfjs/backend-webgpu.js',
  webgl: '../vendor/tfjs/backend-webgl.js',
  cpu: '../vendor/tfjs/backend-cpu.js',
};

export async function loadTf() {
  try {
    const tf = await import(CORE_MODULE);
    tf.enableProdMode();
    return tf;
  } catch (error) {
    throw new PageError(`Could not load TensorFlow.js (vendor/tfjs/tf.js): ${error.message}. Upload every file of the built site, including its vendor/ folder.`, { cause: error });
  }
}

/** Which hardware a backend computes on: build-time timings compare only across 'cpu' backends. */
export function deviceClass(name) {
  return CPU_BACKENDS.includes(name) ? 'cpu' : 'gpu';
}

// Why a backend cannot work in this browser, found without downloading it; null if it might.
async function missingSupport(name, config) {
  if (LITERT_BACKENDS.includes(name) && !config.model.litert) return 'this site carries no .tflite model';
  const needsWebAssembly = name === 'wasm' || name === 'litert-wasm';
  if (needsWebAssembly && typeof WebAssembly !== 'object') return 'this browser has no WebAssembly';
  if (name === 'webgpu' || name === 'litert-webgpu') {
    if (!(typeof navigator === 'object' && navigator.gpu)) return 'this browser has no WebGPU';
    // navigator.gpu exists on machines without a usable GPU too; then there is no adapter.
    try {
      if (!(await navigator.gpu.requestAdapter())) return 'no WebGPU adapter is available';
    } catch {
      return 'no WebGPU adapter is available';
    }
  }
  return null;
}

/**
 * Whether a GPU backend would run on real graphics hardware: WebGL falls back to a software
 * rasteriser (SwiftShader, llvmpipe) and WebGPU to a fallback adapter, both far slower than WASM.
 */
export async function hasHardwareGpu(name) {
  try {
    if (name === 'webgl') {
      const gl = document.createElement('canvas').getContext('webgl2');
      if (!gl) return false;
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      const renderer = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
      gl.getExtension('WEBGL_lose_context')?.loseContext();
      return !/swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
    }
    if (name === 'webgpu' || name === 'litert-webgpu') {
      const adapter = await navigator.gpu?.requestAdapter();
      return Boolean(adapter) && !(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter);
    }
  } catch {
    return false;
  }
  return false;
}

/**
 * Starts backends on demand. Model downloads and runtimes are shared between the backends that
 * use them, so trying a second TF.js backend (or LiteRT's WebGPU after its WASM) downloads nothing
 * again.
 */
export class BackendLauncher {
  /** @param {(loaded: number, total: number) => void} onProgress  model download progress */
  constructor(config, onProgress = () => {}) {
    this.config = config;
    this.onProgress = onProgress;
    this.tf = null;
    this.tfjsArtifacts = null;
    this.tfliteBytes = null;
  }

  /** Starts the model downloads the first backends will need, before their runtimes load. */
  prefetch(name) {
    // A site without a .tflite cannot start LiteRT (start() says so); nothing to fetch for it.
    if (LITERT_BACKENDS.includes(name)) {
      if (this.config.model.litert) this.tflite();
    } else {
      this.artifacts();
    }
  }

  artifacts() {
    if (!this.tfjsArtifacts) {
      this.tfjsArtifacts = fetchModelArtifacts(this.config.model, this.onProgress);
      this.tfjsArtifacts.catch(() => {}); // awaited by start(); this only stops an early "unhandled"
    }
    return this.tfjsArtifacts;
  }

  tflite() {
    if (!this.tfliteBytes) {
      this.tfliteBytes = fetchTflite(this.config.model.litert, this.onProgress);
      this.tfliteBytes.catch(() => {});
    }
    return this.tfliteBytes;
  }

  /**
   * @returns {Promise<{name: string, detector: object, description: string}>}
   * @throws when the backend cannot start here (the message says why)
   */
  async start(name) {
    const unsupported = await missingSupport(name, this.config);
    if (unsupported) throw new Error(unsupported);
    if (LITERT_BACKENDS.includes(name)) {
      const accelerator = name === 'litert-webgpu' ? 'webgpu' : 'wasm';
      const { detector, runtime } = await createLiteRtDetector(this.config.model, this.tflite(), accelerator);
      return { name, detector, description: describeLiteRt(accelerator, runtime) };
    }
    const artifacts = this.artifacts();
    this.tf ??= await loadTf();
    const module = await import(BACKEND_MODULES[name]);
    // TF.js WASM's own default is half the cores (one thread on a 2-core machine); when the page is
    // cross-origin isolated it gets as many as LiteRT.js. Set before the backend initialises.
    if (name === 'wasm' && globalThis.crossOriginIsolated === true) module.setThreadsCount(engineThreads());
    // setBackend resolves false (and TF.js logs a warning) when the backend's initialisation fails.
    if (!(await this.tf.setBackend(name))) throw new Error('it failed to initialise');
    await this.tf.ready();
    const detector = await createDetector(this.tf, this.config.model, artifacts, name);
    return { name, detector, description: await describeTfjs(this.tf, name, module) };
  }
}

/**
 * Picks the backend: a forced one (?backend=) if it starts, else the `preferred` one (measured
 * fastest on this device before) if it starts, else the first of the config's order that starts
 * and that the build did not find computing wrong results.
 *
 * @returns {Promise<{name: string, detector: object, description: string, warnings: string[], failures: string[]}>}
 */
export async function chooseBackend(launcher, forced, preferred = null) {
  const { config } = launcher;
  const warnings = [];
  const automatic = automaticBackendOrder(config);
  const first = forced ?? preferred;
  const candidates = first ? [first, ...automatic.filter((name) => name !== first)] : automatic;
  const failures = [];
  if (candidates.length) launcher.prefetch(candidates[0]);

  let lastError = null;
  for (const name of candidates) {
    let started;
    try {
      started = await launcher.start(name);
    } catch (error) {
      lastError = error;
      const why = error?.message ?? String(error);
      failures.push(`${name} (${why})`);
      if (name === forced) warnings.push(`The ${name} backend asked for in the address could not start (${why}); choosing one automatically.`);
      continue;
    }
    if (config.backends?.verified?.[name] === false) {
      warnings.push(`Warning: the ${name} backend gave wrong results for this model when the site was built, so detections shown here may be wrong. Remove backend=${name} from the address to use a backend that works.`);
    }
    if (failures.length && !forced) {
      warnings.push(`Using ${started.description}: ${failures.join('; ')} could not start.`);
    }
    return { ...started, warnings, failures };
  }
  // A page error (a missing model file, say) names the fix better than the list of backends.
  if (lastError instanceof PageError) throw lastError;
  const tried = failures.length ? ` Tried: ${failures.join('; ')}.` : '';
  throw new PageError(`No backend could start in this browser, so the detector cannot run.${tried} Try a current version of Chrome, Firefox or Safari.`);
}

function describeLiteRt(accelerator, runtime) {
  if (accelerator === 'webgpu') return 'LiteRT.js WebGPU';
  if (runtime.variant === 'threaded') return `LiteRT.js WASM, ${runtime.threads} thread${runtime.threads === 1 ? '' : 's'}`;
  const why = globalThis.crossOriginIsolated ? '' : ' (page is not cross-origin isolated)';
  return `LiteRT.js WASM, single-threaded${why}`;
}

// What the backend readout says, e.g. "TF.js WASM, 4 threads".
async function describeTfjs(tf, name, module) {
  switch (name) {
    case 'wasm': {
      const [simd, threaded] = await Promise.all([
        tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
        tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
      ]);
      const extra = simd ? '' : ', no SIMD';
      if (simd && threaded) {
        const threads = module.getThreadsCount();
        return `TF.js WASM, ${threads} thread${threads === 1 ? '' : 's'}`;
      }
      const why = globalThis.crossOriginIsolated ? '' : ' (page is not cross-origin isolated)';
      return `TF.js WASM, single-threaded${why}${extra}`;
    }
    case 'webgl':
      return 'TF.js WebGL';
    case 'webgpu':
      return 'TF.js WebGPU';
    default:
      return 'TF.js CPU (slow)';
  }
}
