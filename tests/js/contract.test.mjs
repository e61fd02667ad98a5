// assets/js/contract.js: the page's copy of sitegen/contract.py (tests/unit/test_contract.py
// compares the values with Python's), and the modules that read it.

import assert from 'node:assert/strict';
import test from 'node:test';

import * as contract from '../../assets/js/contract.js';
import { automaticBackendOrder, checkConfig, readQuery } from '../../assets/js/config.js';
import { deviceClass } from '../../assets/js/runtime.js';

test('contract.js exports exactly the contract, frozen', () => {
  assert.deepEqual(Object.keys(contract).sort(), [
    'ALL_BACKENDS', 'CONFIG_SCHEMA', 'CPU_BACKENDS', 'DEFAULTS', 'GRAPH_OUTPUTS', 'LITERT_BACKENDS',
    'LITERT_FULL_INTEGER', 'NMS_KEYS', 'OUTPUTS_FOR', 'QUERY', 'RAW_OUTPUTS', 'TFJS_BACKENDS',
    'YOLO_OUTPUTS',
  ]);
  for (const [name, value] of Object.entries(contract)) {
    if (typeof value === 'object') assert.ok(Object.isFrozen(value), `${name} is frozen`);
  }
  assert.deepEqual(contract.ALL_BACKENDS, [...contract.LITERT_BACKENDS, ...contract.TFJS_BACKENDS]);
  assert.ok(contract.CPU_BACKENDS.every((name) => contract.ALL_BACKENDS.includes(name)));
  assert.deepEqual(contract.DEFAULTS, { threshold: 0.5, maxDetections: 20 });
});

test('the page reads backends, output roles and NMS keys from the contract', () => {
  for (const name of contract.ALL_BACKENDS) {
    assert.equal(deviceClass(name), contract.CPU_BACKENDS.includes(name) ? 'cpu' : 'gpu', name);
    assert.equal(readQuery(`?backend=${name}`).backend, name);
  }
  const litert = {
    files: [{ path: 'model/model.tflite', bytes: 1 }],
    input: { name: 'image', size: [320, 320] },
    outputs: Object.fromEntries(contract.RAW_OUTPUTS.map((role) => [role, role])),
  };
  const base = {
    schema: contract.CONFIG_SCHEMA,
    model: {
      url: 'model/model.json',
      input: { name: 'x', dtype: 'int32', size: null },
      postprocess: 'raw',
      outputs: Object.fromEntries(contract.RAW_OUTPUTS.map((role) => [role, role])),
      nms: Object.fromEntries(contract.NMS_KEYS.map((key) => [key, 1])),
      litert,
    },
  };
  assert.deepEqual(automaticBackendOrder(base), [...contract.ALL_BACKENDS]);
  assert.doesNotThrow(() => checkConfig(base));
  for (const key of contract.NMS_KEYS) {
    const { [key]: _, ...nms } = base.model.nms;
    assert.throws(() => checkConfig({ ...base, model: { ...base.model, nms } }), new RegExp(`model\\.nms\\.${key}`));
  }
  for (const role of contract.RAW_OUTPUTS) {
    const { [role]: _, ...outputs } = litert.outputs;
    assert.throws(() => checkConfig({ ...base, model: { ...base.model, litert: { ...litert, outputs } } }), /model\.litert\.outputs/);
  }
  const graph = { ...base.model, postprocess: 'graph', outputs: Object.fromEntries(contract.GRAPH_OUTPUTS.map((role) => [role, role])) };
  assert.doesNotThrow(() => checkConfig({ ...base, model: graph }));
  for (const role of contract.GRAPH_OUTPUTS) {
    const { [role]: _, ...outputs } = graph.outputs;
    assert.throws(() => checkConfig({ ...base, model: { ...graph, outputs } }), new RegExp(`model\\.outputs\\.${role}`));
  }
  assert.throws(() => checkConfig({ ...base, schema: contract.CONFIG_SCHEMA + 1 }), /this page reads schema 1/);
});
