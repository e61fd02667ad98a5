// The page's half of sitegen/contract.py: the config.json schema, backend names, output roles and
// shared defaults that the Python build and the page must agree on. tests/unit/test_contract.py
// imports this module with node and compares every export with sitegen/contract.py: change the
// two together. Plain literals only, and no imports, so that node can load it on its own.

export const CONFIG_SCHEMA = 1;
// LiteRT.js accelerators, then TF.js backends by their TF.js names.
export const LITERT_BACKENDS = Object.freeze(['litert-wasm', 'litert-webgpu']);
export const TFJS_BACKENDS = Object.freeze(['wasm', 'webgpu', 'webgl', 'cpu']);
export const ALL_BACKENDS = Object.freeze([...LITERT_BACKENDS, ...TFJS_BACKENDS]);
// Backends that compute on the CPU: build-time timings compare only across these.
export const CPU_BACKENDS = Object.freeze(['litert-wasm', 'wasm', 'cpu']);
// config.json model.outputs keys for each post-processing mode ("yolo": one [1, 4 + C, A] output)
export const GRAPH_OUTPUTS = Object.freeze(['boxes', 'scores', 'classes', 'count']);
export const RAW_OUTPUTS = Object.freeze(['rawBoxes', 'rawScores']);
export const YOLO_OUTPUTS = Object.freeze(['predictions']);
// config.json model.outputs keys, by model.postprocess
export const OUTPUTS_FOR = Object.freeze({ graph: GRAPH_OUTPUTS, raw: RAW_OUTPUTS, yolo: YOLO_OUTPUTS });
export const NMS_KEYS = Object.freeze(['scoreThreshold', 'iouThreshold', 'maxPerClass', 'maxTotal']);
export const DEFAULTS = Object.freeze({ threshold: 0.5, maxDetections: 20 });
// config.json model.litert.quantization of a full-integer .tflite, which the page compares with
// the float backends more loosely (tuning.js agreementFor).
export const LITERT_FULL_INTEGER = 'int8';
// The page's query parameters by what each sets (sitegen/contract.py QUERY, keys camelCased).
export const QUERY = Object.freeze({
  autostart: 'autostart', backend: 'backend', threshold: 'threshold', maxDetections: 'max',
  tune: 'tune', worker: 'worker',
});
