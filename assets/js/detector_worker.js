// The detector's own thread: LiteRT.js runs here, so a frame's inference (tens of milliseconds,
// more on a phone) never blocks the page's main thread, which only draws the frame, posts its
// pixels and draws the boxes that come back (remote.js is the other end).
//
// A classic worker, not a module worker: LiteRT.js's Emscripten loader uses importScripts(),
// which module workers forbid. The page's modules are imported dynamically instead. The file has
// no import statement and acts only inside a worker, so it parses and imports anywhere (node
// --check, the page's unit tests).

const inWorker = typeof WorkerGlobalScope === 'function' && globalThis instanceof WorkerGlobalScope;

// Everything the worker runs, requested at once: imported one by one, each module's imports would
// be found only once it arrived, a waterfall that costs about 100 ms of the cold start.
const GRAPH = ['./runtime.js', './litert.js', './model.js', './config.js', './contract.js', './download.js', './errors.js', './postprocess.js'];

if (inWorker) {
  const state = { modules: Promise.all(GRAPH.map((path) => import(path))), launcher: null, detectors: new Map() };
  state.modules.catch(() => {}); // reported by the first request
  const post = (message, transfer = []) => globalThis.postMessage(message, transfer);
  globalThis.onmessage = async (event) => {
    const { id, op, args } = event.data;
    const receivedAt = epochNow(); // first, so a frame's time to get here is measured
    try {
      const result = await handle(state, op, { ...args, receivedAt }, post);
      post({ id, ok: true, result });
    } catch (error) {
      post({ id, ok: false, message: error?.message ?? String(error), pageError: error?.name === 'PageError' });
    }
  };
}

async function handle(state, op, args, post) {
  const [{ BackendLauncher }, { loadLiteRtRuntime }] = await state.modules;
  switch (op) {
    case 'config':
      state.launcher = new BackendLauncher(args.config, (loaded, total) => post({ op: 'progress', loaded, total }));
      watchRuntimeBytes(post);
      return { isolated: globalThis.crossOriginIsolated === true };
    case 'preload':
      loadLiteRtRuntime().catch(() => {}); // a failure comes back when the backend is started
      return null;
    case 'prefetch':
      state.launcher.prefetch(args.name);
      return null;
    case 'start': {
      const started = await state.launcher.start(args.name);
      state.detectors.get(args.name)?.dispose();
      state.detectors.set(args.name, started.detector);
      return { description: started.description };
    }
    case 'detect': {
      const detector = detectorFor(state, args.name);
      const candidates = await detector.detectPixels(args.pixels, args.scoreFloor);
      const timing = { postedAt: args.postedAt, receivedAt: args.receivedAt, runMs: detector.lastRunMs, answeredAt: epochNow() };
      return { candidates, memory: detector.memory(), timing };
    }
    case 'dispose':
      state.detectors.get(args.name)?.dispose();
      state.detectors.delete(args.name);
      return null;
    default:
      throw new Error(`unknown request ${op}`);
  }
}

// The worker's clock and the page's start at different moments; since the epoch they agree.
function epochNow() {
  return performance.timeOrigin + performance.now();
}

function detectorFor(state, name) {
  const detector = state.detectors.get(name);
  if (!detector) throw new Error(`the ${name} backend is not started in the worker`);
  return detector;
}

// The runtime's files are fetched from here, out of the page's resource timing: their bytes are
// reported to the page's loading readout this way.
function watchRuntimeBytes(post) {
  if (typeof PerformanceObserver !== 'function') return;
  let bytes = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.name.includes('/vendor/')) bytes += entry.encodedBodySize || entry.transferSize || 0;
    }
    post({ op: 'runtime-bytes', bytes });
  });
  try {
    observer.observe({ type: 'resource', buffered: true });
  } catch {
    // No resource timing in this worker: the readout shows the model's bytes only.
  }
}
