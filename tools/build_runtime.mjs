#!/usr/bin/env node
// Builds the self-hosted TensorFlow.js runtime the page loads, into assets/vendor/tfjs/ (git-ignored).
//
//   tf.js              what the page calls as `tf.*` (from tfjs-core and tfjs-converter), no more
//   backend-wasm.js    one lazily imported module per backend, so the page downloads only the
//   backend-webgl.js   backend it ends up using; each registers its backend with tfjs-core when
//   backend-webgpu.js  imported
//   backend-cpu.js
//   chunk-*.js         code the entries share (esbuild code splitting); above all tfjs-core
//                      itself, so every backend registers with the one engine tf.js exports
//   *.wasm             the three WebAssembly builds of tfjs-backend-wasm (plain, SIMD, threaded SIMD)
//   *.LEGAL.txt        the license notices of the code bundled into the .js file of that name
//   runtime.json       {"tfjs", "files", "entry", "exports", "paths"}: the Python build checks and
//                      copies this folder. "exports" is what tf.js exports ("io", "io.fromMemory",
//                      ...); "paths" lists, per backend, every file the page downloads to run on it
//                      (from esbuild's import graph). tests/unit/test_runtime_size.py checks both.
//
// Every visitor downloads tf.js and a backend, so the bundle keeps only what the page and the
// backends can reach: see SUBSTITUTES and PATCHES. `--analyze` prints what each file is made of
// (esbuild's sizes, before terser's pass: see minifyOutputs).
//
// Usage: node tools/build_runtime.mjs [--out DIR] [--analyze]   (npm run build:runtime)

import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

import * as esbuild from 'esbuild';
import { minify } from 'terser';

// The backends the page can ask for (one backend-<name>.js entry each, see ENTRIES).
import { TFJS_BACKENDS } from '../assets/js/contract.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));

const TFJS_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-converter',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgl',
  '@tensorflow/tfjs-backend-webgpu',
];

// The WebAssembly builds of tfjs-backend-wasm. It picks one at run time: threaded SIMD when the
// page is cross-origin isolated, else SIMD, else plain.
const WASM_BINARIES = {
  'threaded-simd': 'tfjs-backend-wasm-threaded-simd.wasm',
  simd: 'tfjs-backend-wasm-simd.wasm',
  plain: 'tfjs-backend-wasm.wasm',
};

// The entry modules, written here rather than as files so that this script is the one place that
// says what the runtime exports. Keys are output names (without .js).
const ENTRIES = {
  // What assets/js uses as `tf.*`, and only that (tests/unit/test_runtime_size.py checks that it
  // still covers the page): re-exporting all of tfjs-core would keep every op and namespace alive.
  // `browser` is only fromPixels: the rest of tf.browser (toPixels, draw) is unused.
  tf: `
    export {
      cast, dispose, enableProdMode, env, expandDims, getBackend, io, memory, mul, ready, setBackend, tidy, zeros,
    } from '@tensorflow/tfjs-core';
    export { GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
    import { fromPixels } from '@tensorflow/tfjs-core/dist/ops/browser';
    export const browser = Object.freeze({ fromPixels });
  `,
  // setWasmPaths gets an absolute URL computed from this module's own URL at run time: the page
  // may live under a sub-path (https://user.github.io/repo/), and the threaded build's worker runs
  // from a blob: URL, against which a relative path would not resolve.
  'backend-wasm': `
    import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
    setWasmPaths(new URL('./', import.meta.url).href);
    export { getThreadsCount, setThreadsCount };
    export const name = 'wasm';
  `,
  'backend-webgl': `
    import '@tensorflow/tfjs-backend-webgl';
    export const name = 'webgl';
  `,
  'backend-webgpu': `
    import '@tensorflow/tfjs-backend-webgpu';
    export const name = 'webgpu';
  `,
  'backend-cpu': `
    import '@tensorflow/tfjs-backend-cpu';
    export const name = 'cpu';
  `,
};

// ---- keeping the download small ------------------------------------------------------------------
//
// esbuild drops what nothing uses, but TF.js keeps much alive through namespaces passed around as
// values, barrel modules and import-time registrations. The substitutes and patches below cut those
// links. None removes an op or a kernel that a model can use. What they remove: training
// (optimizers); model storage the page does not use (loading from a URL, IndexedDB, localStorage or
// files: the page hands the converter the model's bytes through tf.io.fromMemory, so
// tf.loadGraphModel('url') would fail with this runtime); Node.js support; and, from the WASM main
// path, code that only the other backends or the single-threaded WASM builds run.

// Modules bundled in place of what an import specifier names. `importer` (a module path) limits a
// substitute to the imports made by that one module; `contents(importer)` is the module's source,
// whose relative imports resolve as those of the module it replaces would.
const SUBSTITUTES = [
  {
    // tfjs-core's index.js is base.js plus its side effects plus registerOptimizers(), which keeps
    // every optimizer (and the ops they use) for training. TF.js's custom-bundle tool does this too.
    specifier: '@tensorflow/tfjs-core',
    contents: () => `
      import '@tensorflow/tfjs-core/dist/base_side_effects';
      export * from '@tensorflow/tfjs-core/dist/base';
    `,
  },
  {
    // The converter's op executors take the ops namespace as a default argument
    // (`executeOp(node, ..., ops = tfOps)`), which keeps every op of tfjs-core (losses, RNN cells,
    // QR...). They only read named members of it: this exports exactly those (see converterOps).
    specifier: '@tensorflow/tfjs-core/dist/ops/ops_for_converter',
    contents: () => opsForConverter(),
  },
  {
    // tfjs-core's io namespace less the model storage handlers and model management, which are
    // only reached by loading from or saving to a URL, IndexedDB, localStorage or files.
    specifier: './io/io',
    importer: '@tensorflow/tfjs-core/dist/base.js',
    contents: (importer) => withoutImportsOf(
      readFileSync(path.resolve(path.dirname(importer), 'io/io.js'), 'utf8'),
      ['./indexed_db', './local_storage', './browser_files', './http', './weights_loader', './model_management'],
    ),
  },
  {
    // tfjs-core's random ops (and the CPU backend's Multinomial) use only seedrandom.alea, but the
    // package's CommonJS index loads all seven of its generators.
    specifier: 'seedrandom',
    contents: () => `
      import alea from 'seedrandom/lib/alea.js';
      export { alea };
    `,
  },
  {
    // tfjs-backend-cpu's dist/shared.js re-exports the CPU kernels' implementations that other
    // backends fall back on. esbuild splits code by file, so a backend that imports 7 of them from
    // that barrel (WASM) gets all 50 in a chunk it loads, because WebGL and WebGPU use them all.
    // Each module that names its imports gets a barrel of just those, from the same files.
    specifier: '@tensorflow/tfjs-backend-cpu/dist/shared',
    perImporter: true,
    applies: (importer) => namedImports(importer, '@tensorflow/tfjs-backend-cpu/dist/shared') !== null,
    contents: (importer) => narrowedBarrel(importer, '@tensorflow/tfjs-backend-cpu/dist/shared'),
  },
];

// Edits to package modules: module -> function from its source to the edited source. Each edit
// must find exactly what it expects (replaceOnce, withoutImportsOf), so a TF.js upgrade that
// changes the code fails the build instead of quietly building something else.
const PATCHES = {
  // tfjs-backend-wasm bundles the Emscripten glue of both its builds and runs one: the threaded
  // SIMD glue on a cross-origin isolated page (the main path), else the single-threaded glue. This
  // imports the single-threaded one only when it is the one to run, from a chunk of its own, so the
  // main path does not download it. init() is already async and knows which by this point.
  '@tensorflow/tfjs-backend-wasm/dist/backend_wasm.js': (source) => {
    // The condition under which init() runs the threaded glue, repeated below.
    const threaded = '        if (threadsSupported && simdSupported && wasmPath == null) {\n';
    let text = replaceOnce(source, threaded, threaded);
    text = replaceOnce(text, "import * as wasmFactory_import from '../wasm-out/tfjs-backend-wasm.js';\n", '');
    text = replaceOnce(text, 'const wasmFactory = (wasmFactory_import.default || wasmFactory_import);\n', '');
    return replaceOnce(
      text,
      '    return new Promise((resolve, reject) => {\n        const factoryConfig = {};\n',
      '    const wasmFactory = threadsSupported && simdSupported && wasmPath == null ? null\n' +
        "        : (await import('../wasm-out/tfjs-backend-wasm.js')).default;\n" +
        '    return new Promise((resolve, reject) => {\n        const factoryConfig = {};\n',
    );
  },
  // TF.js caps its XNNPACK thread pool at half of navigator.hardwareConcurrency (it counts two
  // hyperthreads a core), so a 2-core machine gets one thread whatever setThreadsCount asks. The
  // page decides the count itself (litert.js engineThreads: one per core, at most 4, as for
  // LiteRT.js) and sets it before the backend starts; the threaded glue reports twice the cores so
  // that the halved cap lets that count through.
  '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js': (source) =>
    replaceOnce(source, 'return navigator["hardwareConcurrency"]}', 'return 2*navigator["hardwareConcurrency"]}'),
  // tfjs-backend-wasm registers, besides the kernels of the ops, 11 kernels that only gradients
  // call. tfjs-core runs them only from the gradient functions (registered for training by
  // tfjs-core's register_all_gradients, which @tensorflow/tfjs and tfjs-layers import and this
  // runtime does not) or from ops that only those functions use (maxPoolGrad, avgPoolGrad, conv3DBackpropFilter, ...; none is in the ops
  // namespace, so none is in what the converter executes). No model the page runs reaches them, so
  // they go; every other kernel stays, Conv2DBackpropInput included (the converter runs
  // Conv2DBackpropInput nodes as conv2dTranspose, which calls it). Kernel file -> its config.
  '@tensorflow/tfjs-backend-wasm/dist/register_all_kernels.js': (source) => {
    const gradientKernels = {
      AvgPool3DGrad: 'avgPool3DGradConfig',
      AvgPoolGrad: 'avgPoolGradConfig',
      Conv3DBackpropFilterV2: 'conv3DBackpropFilterV2Config',
      Dilation2DBackpropFilter: 'dilation2DBackpropFilterConfig',
      Dilation2DBackpropInput: 'dilation2DBackpropInputConfig',
      EluGrad: 'eluGradConfig',
      LRNGrad: 'lrnGradConfig',
      MaxPool3DGrad: 'maxPool3DGradConfig',
      MaxPoolGrad: 'maxPoolGradConfig',
      ResizeBilinearGrad: 'resizeBilinearGradConfig',
      ResizeNearestNeighborGrad: 'resizeNearestNeighborGradConfig',
    };
    const text = Object.values(gradientKernels).reduce((result, config) => replaceOnce(result, `    ${config},\n`, ''), source);
    return withoutImportsOf(text, Object.keys(gradientKernels).map((kernel) => `./kernels/${kernel}`));
  },
  // The browser platform also registers the IndexedDB and localStorage model stores (for
  // tf.io.listModels and the like), which would bring the storage handlers back.
  '@tensorflow/tfjs-core/dist/platforms/platform_browser.js': (source) => {
    const text = [
      'ModelStoreManagerRegistry.registerManager(BrowserLocalStorage.URL_SCHEME, new BrowserLocalStorageManager());',
      'ModelStoreManagerRegistry.registerManager(BrowserIndexedDB.URL_SCHEME, new BrowserIndexedDBManager());',
    ].reduce((result, call) => replaceOnce(result, call, ''), source);
    return withoutImportsOf(text, ['../io/indexed_db', '../io/local_storage', '../io/model_management']);
  },
  // The Node.js platform only ever registers itself under Node; this runtime is for browsers (and
  // without it, tf.js can be evaluated in Node, which entryExports does).
  '@tensorflow/tfjs-core/dist/base_side_effects.js': (source) => replaceOnce(source, "import './platforms/platform_node';\n", ''),
};

function replaceOnce(source, from, to) {
  const count = source.split(from).length - 1;
  if (count !== 1) throw new Error(`expected to find this once, found it ${count} times: ${JSON.stringify(from)}`);
  return source.replace(from, () => to);
}

// `source` without its import/export-from statements of `modules` (relative specifiers), and
// without the names those bound in its `export { ... };` list. Fails if one is missing, or if a
// removed name is still used.
function withoutImportsOf(source, modules) {
  const removed = [];
  let text = source;
  for (const module of modules) {
    const statement = new RegExp(`^(?:import|export) (?:\\{([^}]*)\\} from )?'${module.replace(/[./]/g, '\\$&')}';\\n`, 'gm');
    const found = [...text.matchAll(statement)];
    if (!found.length) throw new Error(`no import of ${module}`);
    for (const [, names = ''] of found) removed.push(...names.split(',').map((name) => name.trim()).filter(Boolean));
    text = text.replace(statement, '');
  }
  text = text.replace(/^export \{([^}]*)\};$/m, (all, list) => {
    const kept = list.split(',').map((name) => name.trim()).filter((name) => name && !removed.includes(name));
    return `export { ${kept.join(', ')} };`;
  });
  const code = text.replace(/^\s*(\/\/|\/?\*).*$/gm, '');
  for (const name of removed) {
    if (new RegExp(`\\b${name}\\b`).test(code)) throw new Error(`${name} is still used after removing its import`);
  }
  return text;
}

// `import { a, b as c } from '<specifier>'` in `file`: the imported names, or null when the file
// (also) imports the module as a namespace and so may use any of its exports.
function namedImports(file, specifier) {
  const source = readFileSync(file, 'utf8');
  const quoted = `'${specifier}'`;
  if (new RegExp(`import \\* as \\w+ from ${quoted}`).test(source)) return null;
  const names = [];
  for (const [, list] of source.matchAll(new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*${quoted}`, 'g'))) {
    names.push(...list.split(',').map((item) => item.trim().split(/\s+as\s+/)[0]).filter(Boolean));
  }
  return names;
}

// The exports of a barrel module (`export { a, b } from './x';` lines): name -> absolute file.
function barrelExports(barrel) {
  const exports = new Map();
  for (const [, list, from] of readFileSync(barrel, 'utf8').matchAll(/^export \{([^}]*)\} from '([^']+)';/gm)) {
    for (const name of list.split(',').map((item) => item.trim()).filter(Boolean)) {
      exports.set(name, path.resolve(path.dirname(barrel), `${from}.js`));
    }
  }
  return exports;
}

// A barrel with only what `importer` imports from `specifier`, each from the file defining it.
function narrowedBarrel(importer, specifier) {
  const exports = barrelExports(require.resolve(`${specifier}.js`));
  return namedImports(importer, specifier).map((name) => {
    if (!exports.has(name)) throw new Error(`${specifier} has no export ${name} (imported by ${importer})`);
    return `export { ${name} } from ${JSON.stringify(exports.get(name))};`;
  }).join('\n');
}

const OPS_FOR_CONVERTER = '@tensorflow/tfjs-core/dist/ops/ops_for_converter';

// Every module of the converter's ESM build, found by following relative imports from dist/index.js.
function converterModules() {
  const seen = new Set();
  const pending = [require.resolve('@tensorflow/tfjs-converter/dist/index.js')];
  while (pending.length) {
    const file = pending.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:\bfrom|^import)\s*'(\.[^']*)'/gm)) {
      pending.push(path.resolve(path.dirname(file), specifier.endsWith('.js') ? specifier : `${specifier}.js`));
    }
  }
  return seen;
}

// What the converter reads of the ops namespace: name -> the members it reads of it (for
// namespaces such as `image`), or null where it uses the op or namespace itself. Each module that
// imports the namespace binds it (`import * as tfOps`) and may make it a parameter's default
// (`ops = tfOps`); every use of those names must be a member read (`ops.conv2d(`), or the list
// would not be complete: then the build fails.
let converterOpsCache = null;
function converterOps() {
  if (converterOpsCache) return converterOpsCache;
  const ops = new Map();
  for (const file of converterModules()) {
    const source = readFileSync(file, 'utf8').replace(/^\s*(\/\/|\/?\*).*$/gm, '');
    const binding = source.match(new RegExp(`import \\* as (\\w+) from '${OPS_FOR_CONVERTER}';`));
    if (!binding) {
      if (source.includes(OPS_FOR_CONVERTER)) throw new Error(`${file} imports ${OPS_FOR_CONVERTER} in an unexpected way`);
      continue;
    }
    const aliases = [binding[1], ...[...source.matchAll(new RegExp(`(\\w+) = ${binding[1]}\\b`, 'g'))].map((m) => m[1])];
    const uses = source.replace(binding[0], '').replace(new RegExp(`\\w+ = ${binding[1]}\\b`, 'g'), '');
    for (const alias of aliases) {
      for (const use of uses.matchAll(new RegExp(`(?<![\\w.$])${alias}\\b(?:\\.(\\w+)(?:\\.(\\w+))?)?`, 'g'))) {
        const [, name, member] = use;
        if (!name) {
          const line = uses.slice(uses.lastIndexOf('\n', use.index) + 1, uses.indexOf('\n', use.index)).trim();
          throw new Error(`${path.relative(ROOT, file)} uses the ops namespace other than by member: "${line}"`);
        }
        if (!member) ops.set(name, null);
        else if (ops.get(name) !== null) ops.set(name, (ops.get(name) ?? new Set()).add(member));
      }
    }
  }
  converterOpsCache = ops;
  return ops;
}

// The ops namespace as the converter uses it. tfjs-core's ops.js builds its sub-namespaces as
// object literals (`const image = { flipLeftRight, ..., transform };`), so using one member keeps
// all; rebuild those with just the members the converter reads. Everything else is re-exported.
function opsForConverter() {
  const opsFile = require.resolve('@tensorflow/tfjs-core/dist/ops/ops.js');
  const source = readFileSync(opsFile, 'utf8');
  const definedIn = new Map([...source.matchAll(/^import \{ (\w+) \} from '(\.[^']+)';$/gm)].map(([, name, from]) => [name, from]));
  const literals = new Map([...source.matchAll(/^const (\w+) = \{([^}]*)\};$/gm)]
    .map(([, name, members]) => [name, members.split(',').map((member) => member.trim()).filter(Boolean)]));
  const whole = [];
  const lines = [];
  for (const [name, members] of [...converterOps()].sort(([a], [b]) => a.localeCompare(b))) {
    const read = [...(members ?? [])].sort();
    if (!members || !literals.has(name) || !read.every((member) => literals.get(name).includes(member) && definedIn.has(member))) {
      whole.push(name);
      continue;
    }
    for (const member of read) {
      lines.push(`import { ${member} as ${name}_${member} } from ${JSON.stringify(path.resolve(path.dirname(opsFile), `${definedIn.get(member)}.js`))};`);
    }
    lines.push(`export const ${name} = { ${read.map((member) => `${member}: ${name}_${member}`).join(', ')} };`);
  }
  return [`export { ${whole.join(', ')} } from ${JSON.stringify(opsFile)};`, ...lines].join('\n');
}

// ---- the build ------------------------------------------------------------------------------------

function parseArgs(argv) {
  const args = { out: path.join(ROOT, 'assets', 'vendor', 'tfjs'), analyze: false };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--out' && argv[i + 1]) {
      args.out = path.resolve(argv[i + 1]);
      i += 1;
    } else if (argv[i] === '--analyze') {
      args.analyze = true;
    } else {
      throw new Error(`unknown argument: ${argv[i]}`);
    }
  }
  return args;
}

async function packageVersion(name) {
  const manifest = JSON.parse(await readFile(require.resolve(`${name}/package.json`), 'utf8'));
  return manifest.version;
}

// All tfjs packages must be the same version: they share one engine and kernel registry, and a
// mismatch fails at run time in ways that are hard to recognise.
async function checkVersions() {
  const versions = await Promise.all(TFJS_PACKAGES.map(packageVersion));
  const distinct = [...new Set(versions)];
  if (distinct.length !== 1) {
    const listing = TFJS_PACKAGES.map((name, i) => `${name}@${versions[i]}`).join(', ');
    throw new Error(`TF.js packages disagree on their version: ${listing}`);
  }
  return distinct[0];
}

// Resolves `sitegen-entry:<name>` to the source text in ENTRIES, applies SUBSTITUTES and PATCHES.
const runtimeModules = {
  name: 'sitegen-runtime-modules',
  setup(build) {
    build.onResolve({ filter: /^sitegen-entry:/ }, (args) => ({
      path: args.path.slice('sitegen-entry:'.length),
      namespace: 'sitegen-entry',
    }));
    build.onLoad({ filter: /.*/, namespace: 'sitegen-entry' }, (args) => ({
      contents: ENTRIES[args.path],
      loader: 'js',
      resolveDir: ROOT,
    }));

    const specifiers = new Set(SUBSTITUTES.map((substitute) => substitute.specifier));
    build.onResolve({ filter: /.*/ }, (args) => {
      if (!specifiers.has(args.path)) return undefined;
      const index = SUBSTITUTES.findIndex((substitute) => substitute.specifier === args.path
        && (!substitute.importer || require.resolve(substitute.importer) === args.importer)
        && (!substitute.applies || substitute.applies(args.importer)));
      if (index < 0) return undefined;
      // One module per specifier (so every importer shares it), or per importer where it differs.
      const shared = !SUBSTITUTES[index].perImporter && !SUBSTITUTES[index].importer;
      return {
        path: shared ? args.path : `${args.path} (from ${args.importer})`,
        namespace: 'sitegen-substitute',
        pluginData: { index, importer: args.importer },
      };
    });
    build.onLoad({ filter: /.*/, namespace: 'sitegen-substitute' }, (args) => {
      const { index, importer } = args.pluginData;
      const substitute = SUBSTITUTES[index];
      const replaced = substitute.specifier.startsWith('.') ? path.resolve(path.dirname(importer), substitute.specifier) : null;
      return { contents: substitute.contents(importer), loader: 'js', resolveDir: replaced ? path.dirname(replaced) : ROOT };
    });

    const patches = new Map(Object.entries(PATCHES).map(([module, patch]) => [require.resolve(module), patch]));
    const patchedFiles = new RegExp([...patches.keys()].map((file) => `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`).join('|'));
    build.onLoad({ filter: patchedFiles, namespace: 'file' }, async (args) => {
      try {
        return { contents: patches.get(args.path)(await readFile(args.path, 'utf8')), loader: 'js' };
      } catch (error) {
        throw new Error(`patching ${path.relative(ROOT, args.path)}: ${error.message}`);
      }
    });
  },
};

async function bundle(outdir) {
  const result = await esbuild.build({
    entryPoints: Object.keys(ENTRIES).map((name) => ({ in: `sitegen-entry:${name}`, out: name })),
    outdir,
    bundle: true,
    format: 'esm',
    splitting: true,
    minify: true,
    platform: 'browser',
    // Browsers with WebAssembly SIMD, ES modules and import.meta: Chrome 91+, Firefox 89+, Safari 16.4+.
    target: ['es2020'],
    chunkNames: 'chunk-[hash]',
    define: { 'process.env.NODE_ENV': '"production"' },
    // The notices go to a .LEGAL.txt beside each file (so every built site carries them) rather
    // than to its end, where every visitor would download them with the code.
    legalComments: 'linked',
    logLevel: 'silent',
    metafile: true,
    plugins: [runtimeModules],
  });
  // A substitute that lacks something imported from it shows up as a warning ("will always be
  // undefined"): that is a broken runtime.
  if (result.warnings.length) {
    const messages = await esbuild.formatMessages(result.warnings, { kind: 'warning' });
    throw new Error(`esbuild warned:\n${messages.join('\n')}`);
  }
  return result.metafile;
}

// A second minification, by terser, of each .js file esbuild wrote: its compressor shortens what
// esbuild's leaves (about 6 KB gzipped off the WASM main path). Same ES2020 target; `module` lets
// it rename and drop top-level names, but never the exported ones other files import, and it keeps
// import.meta and dynamic import() as they are. The threaded WASM build starts its workers from the
// source text of its Emscripten factory function (`factory.toString()` in tfjs-backend-wasm), so
// that function must not come to use anything outside it: terser inlines code into functions but
// never moves code out of one, so a self-contained function stays so; tests/browser runs the wasm
// backend on a cross-origin isolated page. The one comment esbuild leaves, the link to the file's
// .LEGAL.txt, is put back after.
async function minifyOutputs(metafile) {
  const files = Object.keys(metafile.outputs).filter((file) => file.endsWith('.js')).map((file) => path.resolve(file));
  for (const file of files) {
    const source = await readFile(file, 'utf8');
    const link = source.match(/\n\/\*! For license information please see [\w.-]+\.LEGAL\.txt \*\/\n$/);
    if (!link && existsSync(`${file}.LEGAL.txt`)) throw new Error(`${path.basename(file)} does not end with the link to its notices`);
    const code = link ? source.slice(0, link.index) : source;
    const result = await minify(code, {
      module: true,
      ecma: 2020,
      compress: { passes: 2 },
      mangle: true,
      format: { comments: false },
    });
    await writeFile(file, `${result.code}${link ? link[0] : ''}`);
  }
}

// Fails when a converter module that imports the ops namespace is not one converterOps read (the
// list of ops would then be incomplete).
function checkConverterScan(metafile) {
  const scanned = converterModules();
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    if (!imports.some((imported) => imported.path === `sitegen-substitute:${OPS_FOR_CONVERTER}`)) continue;
    if (!scanned.has(path.resolve(input))) throw new Error(`${input} imports ${OPS_FOR_CONVERTER} but was not scanned for the ops it uses`);
  }
}

// Per backend, every file the page downloads to run on it, from esbuild's import graph: tf.js and
// the backend's module with what they import statically, the chunks a backend imports dynamically
// on that path, and for WASM the binary. "wasm" is the main path (cross-origin isolated: threaded
// SIMD); "wasm-simd" and "wasm-plain" are the single-threaded ones, which also load the
// single-threaded Emscripten glue (see PATCHES).
function pagePaths(metafile, outdir) {
  const outputs = new Map(Object.entries(metafile.outputs).map(([key, output]) => [path.relative(outdir, path.resolve(key)), output]));
  const closure = (files, name) => {
    if (files.includes(name)) return files;
    if (!outputs.has(name)) throw new Error(`esbuild wrote no ${name}`);
    files.push(name);
    for (const imported of outputs.get(name).imports) {
      if (imported.kind === 'import-statement') closure(files, path.relative(outdir, path.resolve(imported.path)));
    }
    return files;
  };
  const glue = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.js');
  const glueChunks = [...outputs].filter(([, output]) => Object.keys(output.inputs).some((input) => path.resolve(input) === glue));
  if (glueChunks.length !== 1 || glueChunks[0][0] === 'backend-wasm.js') {
    throw new Error('the single-threaded WASM glue is not in a chunk of its own');
  }

  const paths = {};
  for (const backend of TFJS_BACKENDS) paths[backend] = closure(closure([], 'tf.js'), `backend-${backend}.js`);
  const singleThreaded = closure([...paths.wasm], glueChunks[0][0]);
  paths['wasm-simd'] = [...singleThreaded, WASM_BINARIES.simd];
  paths['wasm-plain'] = [...singleThreaded, WASM_BINARIES.plain];
  paths.wasm.push(WASM_BINARIES['threaded-simd']);
  return paths;
}

// What tf.js exports, with the members of its namespaces ("io", "io.fromMemory", ...), found by
// importing it here: that also checks that it evaluates (it runs no browser API at import).
async function entryExports(outdir) {
  let tf;
  try {
    tf = await import(pathToFileURL(path.join(outdir, 'tf.js')).href);
  } catch (error) {
    throw new Error(`the built tf.js does not evaluate: ${error.message}`);
  }
  return Object.entries(tf).flatMap(([name, value]) => (typeof value === 'object' && value !== null
    ? [name, ...Object.keys(value).map((member) => `${name}.${member}`)]
    : [name])).sort();
}

async function main() {
  const { out, analyze } = parseArgs(process.argv.slice(2));
  const version = await checkVersions();

  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const metafile = await bundle(out);
  checkConverterScan(metafile);
  await minifyOutputs(metafile);

  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  for (const file of Object.values(WASM_BINARIES)) {
    await copyFile(path.join(wasmDir, 'dist', file), path.join(out, file));
  }

  const files = (await readdir(out)).filter((name) => name !== 'runtime.json').sort();
  const runtime = { tfjs: version, files, entry: 'tf.js', exports: await entryExports(out), paths: pagePaths(metafile, out) };
  await writeFile(path.join(out, 'runtime.json'), `${JSON.stringify(runtime, null, 2)}\n`);
  if (analyze) process.stdout.write(await esbuild.analyzeMetafile(metafile));
  process.stdout.write(`TF.js ${version} runtime: ${files.length} files in ${path.relative(ROOT, out) || out}\n`);
}

main().catch((error) => {
  process.stderr.write(`build_runtime: ${error.message}\n`);
  process.exitCode = 1;
});
