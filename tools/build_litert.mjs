#!/usr/bin/env node
// Builds the self-hosted LiteRT.js runtime the page loads when a site carries a .tflite model, into
// assets/vendor/litert/ (git-ignored; the wheel carries it):
//
//   litert.js                        @litertjs/core as one ES module (it has bare-module imports, so
//                                    a browser cannot load the npm files as they are), plus
//                                    `variants` (as in runtime.json)
//   litert_wasm_*_internal.js        the Emscripten loader of each WebAssembly build, as shipped
//   litert_wasm_*_internal.wasm.partN  each WebAssembly build (~9 MB) in parts of at most 4 MiB,
//                                    like the model's weight shards: static hosts and CDNs cache
//                                    files of a few MB well; the page joins the parts in memory
//   runtime.json                     {"litert", "variants": {name: {script, wasm: [{path, bytes}]}}}
//
// Three builds: "threaded" (relaxed SIMD + threads: needs a cross-origin isolated page), "simd"
// (relaxed SIMD, one thread) and "compat" (browsers without relaxed SIMD). The JSPI build, needed
// only for WebNN and for WebGPU/WASM partitioning, is left out: it is another 9.6 MB.
//
// Usage: node tools/build_litert.mjs [--out DIR]   (npm run build:litert)

import { createRequire } from 'node:module';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));
const PART_BYTES = 4 * 1024 * 1024;

const VARIANTS = {
  threaded: 'litert_wasm_threaded_internal',
  simd: 'litert_wasm_internal',
  compat: 'litert_wasm_compat_internal',
};

function parseArgs(argv) {
  const args = { out: path.join(ROOT, 'assets', 'vendor', 'litert') };
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

// `variants` is built in, so the page can start the large download without fetching runtime.json
// first.
async function bundle(out, variants) {
  await esbuild.build({
    stdin: {
      contents: `export { loadLiteRt, loadAndCompile, supportsFeature, Tensor } from '@litertjs/core';
        export const variants = ${JSON.stringify(variants)};`,
      resolveDir: ROOT,
      loader: 'js',
    },
    outfile: path.join(out, 'litert.js'),
    bundle: true,
    format: 'esm',
    minify: true,
    platform: 'browser',
    target: ['es2020'],
    legalComments: 'eof',
    logLevel: 'warning',
  });
}

async function splitInto(source, out, name) {
  const bytes = await readFile(source);
  const parts = [];
  for (let start = 0, index = 0; start < bytes.length; start += PART_BYTES, index += 1) {
    const part = `${name}.part${index}`;
    const chunk = bytes.subarray(start, start + PART_BYTES);
    await writeFile(path.join(out, part), chunk);
    parts.push({ path: part, bytes: chunk.length });
  }
  return parts;
}

async function main() {
  const { out } = parseArgs(process.argv.slice(2));
  const packageDir = path.dirname(require.resolve('@litertjs/core/package.json'));
  const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8'));

  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  const variants = {};
  for (const [variant, base] of Object.entries(VARIANTS)) {
    await copyFile(path.join(packageDir, 'wasm', `${base}.js`), path.join(out, `${base}.js`));
    const wasm = await splitInto(path.join(packageDir, 'wasm', `${base}.wasm`), out, `${base}.wasm`);
    variants[variant] = { script: `${base}.js`, wasm };
  }
  await bundle(out, variants);
  const runtime = { litert: version, entry: 'litert.js', variants };
  await writeFile(path.join(out, 'runtime.json'), `${JSON.stringify(runtime, null, 2)}\n`);
  process.stdout.write(`LiteRT.js ${version} runtime: ${Object.keys(variants).length} builds in ${path.relative(ROOT, out) || out}\n`);
}

main().catch((error) => {
  process.stderr.write(`build_litert: ${error.message}\n`);
  process.exitCode = 1;
});
