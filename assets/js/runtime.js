// Loads the self-hosted TF.js runtime (vendor/tfjs/, built by `npm run build:runtime`) and picks a
// backend. Each backend is its own module, imported only when tried, so the page downloads only
// the backend it uses. Paths are relative to this file, so the site works under any sub-path.

import { automaticBackendOrder } from './config.js';
import { PageError } from './errors.js';

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

// Why a backend cannot work in this browser, found without downloading it; null if it might.
async function missingSupport(name) {
  if (name === 'wasm' && typeof WebAssembly !== 'object') return 'this browser has no WebAssembly';
  if (name === 'webgpu') {
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

async function initialise(tf, name) {
  const unsupported = await missingSupport(name);
  if (unsupported) throw new Error(unsupported);
  const module = await import(BACKEND_MODULES[name]);
  // setBackend resolves false (and TF.js logs a warning) when the backend's initialisation fails.
  if (!(await tf.setBackend(name))) throw new Error('it failed to initialise');
  await tf.ready();
  return module;
}

/**
 * Picks the backend: a forced one (?backend=) if it starts, else the first of the config's order
 * that starts and that the build did not find computing wrong results.
 *
 * @returns {Promise<{name: string, description: string, warnings: string[]}>}
 */
export async function chooseBackend(tf, config, forced) {
  const warnings = [];
  const automatic = automaticBackendOrder(config);
  const candidates = forced ? [forced, ...automatic.filter((name) => name !== forced)] : automatic;
  const failures = [];

  for (const name of candidates) {
    let module;
    try {
      module = await initialise(tf, name);
    } catch (error) {
      failures.push(`${name} (${error?.message ?? error})`);
      if (name === forced) warnings.push(`The ${name} backend asked for in the address could not start (${error?.message ?? error}); choosing one automatically.`);
      continue;
    }
    if (config.backends?.verified?.[name] === false) {
      warnings.push(`Warning: the ${name} backend gave wrong results for this model when the site was built, so detections shown here may be wrong. Remove backend=${name} from the address to use a backend that works.`);
    }
    return { name, description: await describeBackend(tf, name, module), warnings };
  }
  const tried = failures.length ? ` Tried: ${failures.join('; ')}.` : '';
  throw new PageError(`No TensorFlow.js backend could start in this browser, so the detector cannot run.${tried} Try a current version of Chrome, Firefox or Safari.`);
}

// What the backend readout says, e.g. "WASM, 4 threads".
async function describeBackend(tf, name, module) {
  switch (name) {
    case 'wasm': {
      const [simd, threaded] = await Promise.all([
        tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
        tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
      ]);
      const extra = simd ? '' : ', no SIMD';
      if (simd && threaded) {
        const threads = module.getThreadsCount();
        return `WASM, ${threads} thread${threads === 1 ? '' : 's'}`;
      }
      const why = globalThis.crossOriginIsolated ? '' : ' (page is not cross-origin isolated)';
      return `WASM, single-threaded${why}${extra}`;
    }
    case 'webgl':
      return 'WebGL';
    case 'webgpu':
      return 'WebGPU';
    default:
      return 'CPU (slow)';
  }
}
