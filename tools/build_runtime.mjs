#!/usr/bin/env node
// Builds the self-hosted TensorFlow.js runtime the page loads, into assets/vendor/tfjs/ (git-ignored).
//
//   tf.js              tfjs-core + tfjs-converter: everything the page calls as `tf.*`
//   backend-wasm.js    one lazily imported module per backend, so the page downloads only the
//   backend-webgl.js   backend it ends up using; each registers its backend with tfjs-core when
//   backend-webgpu.js  imported
//   backend-cpu.js
//   chunk-*.js         code the entries share (esbuild code splitting); above all tfjs-core
//                      itself, so every backend registers with the one engine tf.js exports
//   *.wasm             the three WebAssembly builds of tfjs-backend-wasm (plain, SIMD, threaded SIMD)
//   runtime.json       {"tfjs", "files", "entry"}: the Python build checks and copies this folder
//
// Usage: node tools/build_runtime.mjs [--out DIR]   (npm run build:runtime)

import { createRequire } from 'node:module';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

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

const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

// The entry modules, written here rather than as files so that this script is the one place that
// says what the runtime exports. Keys are output names (without .js).
const ENTRIES = {
  tf: `
    export * from '@tensorflow/tfjs-core';
    export { GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
  `,
  // setWasmPaths gets an absolute URL computed from this module's own URL at run time: the page
  // may live under a sub-path (https://user.github.io/repo/), and the threaded build's worker runs
  // from a blob: URL, against which a relative path would not resolve.
  'backend-wasm': `
    import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
    setWasmPaths(new URL('./', import.meta.url).href);
    export { getThreadsCount };
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

function parseArgs(argv) {
  const args = { out: path.join(ROOT, 'assets', 'vendor', 'tfjs') };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--out' && argv[i + 1]) {
      args.out = path.resolve(argv[i + 1]);
      i += 1;
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

// Resolves `sitegen-entry:<name>` to the source text in ENTRIES.
const virtualEntries = {
  name: 'sitegen-entries',
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
  },
};

async function bundle(outdir) {
  return esbuild.build({
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
    legalComments: 'eof',
    logLevel: 'warning',
    metafile: true,
    plugins: [virtualEntries],
  });
}

async function main() {
  const { out } = parseArgs(process.argv.slice(2));
  const version = await checkVersions();

  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await bundle(out);

  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  for (const file of WASM_FILES) {
    await copyFile(path.join(wasmDir, 'dist', file), path.join(out, file));
  }

  const files = (await readdir(out)).filter((name) => name !== 'runtime.json').sort();
  const runtime = { tfjs: version, files, entry: 'tf.js' };
  await writeFile(path.join(out, 'runtime.json'), `${JSON.stringify(runtime, null, 2)}\n`);
  process.stdout.write(`TF.js ${version} runtime: ${files.length} files in ${path.relative(ROOT, out) || out}\n`);
}

main().catch((error) => {
  process.stderr.write(`build_runtime: ${error.message}\n`);
  process.exitCode = 1;
});
