// The page's side of the site's service worker: reload at most once, never in a loop.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ensureIsolation, loadedUrls } from '../../assets/js/isolation.js';

function fakeStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
    items,
  };
}

function fakeWorkers({ controller = null, fail = false } = {}) {
  const listeners = {};
  return {
    controller,
    registered: [],
    async register(url) {
      if (fail) throw new Error('blocked');
      this.registered.push(url);
    },
    addEventListener(type, listener) {
      listeners[type] = listener;
    },
    takeControl() {
      this.controller = {};
      listeners.controllerchange?.();
    },
  };
}

test('a page without a service worker is left alone', async () => {
  const result = await ensureIsolation({ url: undefined, serviceWorker: fakeWorkers() });
  assert.deepEqual(result, { state: 'none' });
});

test('first visit: registers, waits for control, reloads once and remembers it', async () => {
  const workers = fakeWorkers();
  const storage = fakeStorage();
  let reloads = 0;
  const pending = ensureIsolation({ url: 'sw.js', serviceWorker: workers, storage, reload: () => { reloads += 1; }, isolated: false });
  await new Promise((resolve) => setTimeout(resolve, 10));
  workers.takeControl();
  assert.equal((await pending).state, 'reloading');
  assert.equal(reloads, 1);
  assert.deepEqual(workers.registered, ['sw.js']);
  // The reloaded page is still not isolated: no second reload.
  const again = await ensureIsolation({ url: 'sw.js', serviceWorker: workers, storage, reload: () => { reloads += 1; }, isolated: false });
  assert.equal(again.state, 'not-isolated');
  assert.match(again.reason, /stayed without cross-origin isolation/);
  assert.equal(reloads, 1);
});

test('an isolated page clears the reload mark, so a later session may reload again', async () => {
  const storage = fakeStorage();
  storage.setItem('sitegen:isolation-reload', '1');
  const result = await ensureIsolation({ url: 'sw.js', serviceWorker: fakeWorkers({ controller: {} }), storage, reload: () => assert.fail('reloaded'), isolated: true });
  assert.equal(result.state, 'isolated');
  assert.equal(storage.items.size, 0);
});

test('registration failures and missing service workers leave the page single-threaded', async () => {
  const failed = await ensureIsolation({ url: 'sw.js', serviceWorker: fakeWorkers({ fail: true }), storage: fakeStorage(), reload: () => assert.fail('reloaded'), isolated: false });
  assert.equal(failed.state, 'unavailable');
  assert.match(failed.reason, /could not be registered \(blocked\)/);
  const none = await ensureIsolation({ url: 'sw.js', serviceWorker: undefined });
  assert.equal(none.state, 'unavailable');
});

test('loadedUrls keeps the page and its own files, once each', () => {
  const entries = [{ name: 'https://a.example/repo/js/app.js' }, { name: 'https://cdn.example/x.js' }, { name: 'https://a.example/repo/js/app.js' }];
  assert.deepEqual(loadedUrls('https://a.example/repo/?backend=wasm', entries), ['https://a.example/repo/?backend=wasm', 'https://a.example/repo/js/app.js']);
});
