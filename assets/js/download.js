// Downloads the site's own files with useful errors: a missing file, a failed connection or a
// truncated upload is named in a sentence the person can act on, where the runtimes would fail
// later with a shape or compile error. Used for the TF.js weight shards, the .tflite parts and
// LiteRT.js's WebAssembly parts.

import { PageError } from './errors.js';

/**
 * @param {string} name  how the file is named in messages ("model/group1-shard1of4.bin")
 * @param {URL|string} url
 * @param {string} folderHint  "the site's model/ folder"
 * @param {RequestInit} [init]
 */
export async function fetchChecked(name, url, folderHint, init = {}) {
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

/**
 * Downloads one file and checks its size (when known). Returns its bytes.
 *
 * The body is read with arrayBuffer(), not a stream reader: Chromium cancels the request of a
 * response whose stream was read to the end but which is collected before the network layer
 * reports completion, and its developer tools (and test harnesses) then list the file as failed.
 * Progress therefore moves one file at a time (4 MB at most).
 *
 * @param {{url: URL|string, name: string, bytes: number|null}} file
 */
export async function fetchSized(file, folderHint, reportProgress = () => {}) {
  const response = await fetchChecked(file.name, file.url, folderHint);
  let bytes;
  try {
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new PageError(`Could not load the model: downloading ${file.name} failed (${error.message}). Check the connection and reload the page.`, { cause: error });
  }
  if (file.bytes !== null && bytes.length !== file.bytes) {
    throw new PageError(`Could not load the model: ${file.name} is ${bytes.length} bytes, expected ${file.bytes} (truncated upload?). Upload every file of ${folderHint} again.`);
  }
  reportProgress(bytes.length);
  return bytes;
}

/**
 * Downloads files in parallel, reports progress over all of them, and joins them in order.
 *
 * @param {{url: URL|string, name: string, bytes: number|null}[]} files
 * @param {(loaded: number, total: number) => void} onProgress  total is 0 when a size is unknown
 * @returns {Promise<Uint8Array>}
 */
export async function fetchJoined(files, folderHint, onProgress = () => {}) {
  const total = files.every((file) => Number.isInteger(file.bytes))
    ? files.reduce((sum, file) => sum + file.bytes, 0) : 0;
  let loaded = 0;
  onProgress(0, total);
  const parts = await Promise.all(files.map((file) => fetchSized(file, folderHint, (bytes) => {
    loaded += bytes;
    onProgress(loaded, total);
  })));
  return concatenate(parts);
}

/** The parts as one Uint8Array, in order. */
function concatenate(parts) {
  if (parts.length === 1) return parts[0];
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** "the site's model/ folder" for a site-relative path such as "model/model.json". */
export function folderHintFor(path) {
  const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
  return folder ? `the site's ${folder} folder` : 'the site\'s model files';
}
