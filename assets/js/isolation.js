// The page's side of the site's own service worker (sites written by `sitegen publish`, whose
// index.html names it in data-service-worker): cross-origin isolation on hosts that send no
// headers, and offline use. Pages without one are left exactly as they are.

const RELOAD_KEY = 'sitegen:isolation-reload';
const CONTROL_TIMEOUT_MS = 4000;

/**
 * Registers the service worker and, when the page is not cross-origin isolated yet, reloads it
 * once so that the worker serves it with COOP/COEP. Never more than once a session: if the page
 * is still not isolated after that reload, it runs single-threaded.
 *
 * @param {{url?: string, serviceWorker?: ServiceWorkerContainer, storage?: Storage,
 *          reload?: () => void, isolated?: boolean}} env  what the page has (tests pass fakes)
 * @returns {Promise<{state: 'none'|'isolated'|'reloading'|'not-isolated'|'unavailable', reason?: string}>}
 */
export async function ensureIsolation({ url, serviceWorker, storage, reload, isolated }) {
  if (!url) return { state: 'none' };
  if (!serviceWorker) return { state: 'unavailable', reason: 'this browser has no service workers here' };
  try {
    await serviceWorker.register(url);
  } catch (error) {
    return { state: 'unavailable', reason: `the service worker could not be registered (${error?.message ?? error})` };
  }
  if (isolated) {
    storage?.removeItem(RELOAD_KEY);
    return { state: 'isolated' };
  }
  if (storage?.getItem(RELOAD_KEY)) {
    return { state: 'not-isolated', reason: 'the page stayed without cross-origin isolation after the service worker took over' };
  }
  if (!(await controlled(serviceWorker))) {
    return { state: 'not-isolated', reason: 'the service worker did not take control of the page' };
  }
  storage?.setItem(RELOAD_KEY, String(Date.now()));
  reload();
  return { state: 'reloading' };
}

function controlled(serviceWorker) {
  if (serviceWorker.controller) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), CONTROL_TIMEOUT_MS);
    serviceWorker.addEventListener('controllerchange', () => {
      clearTimeout(timer);
      resolve(true);
    }, { once: true });
  });
}

/**
 * Asks the service worker to keep every file this page loaded, and resolves with how many it
 * holds once they are all in its cache: from then on the site works offline.
 *
 * @param {ServiceWorkerContainer} serviceWorker
 * @param {string[]} urls  the page and what it fetched
 * @returns {Promise<number>}
 */
export async function keepForOffline(serviceWorker, urls) {
  const registration = await serviceWorker.ready;
  const worker = registration.active;
  if (!worker) throw new Error('no active service worker');
  return new Promise((resolve) => {
    const onMessage = (event) => {
      if (event.data?.type !== 'sitegen:kept') return;
      serviceWorker.removeEventListener('message', onMessage);
      resolve(event.data.count);
    };
    serviceWorker.addEventListener('message', onMessage);
    worker.postMessage({ type: 'sitegen:keep', urls });
  });
}

/** The page's own URL and every same-origin file it fetched (from the resource timing buffer). */
export function loadedUrls(location, entries) {
  const origin = new URL(location).origin;
  const urls = [String(location), ...entries.map((entry) => entry.name)];
  return [...new Set(urls.filter((url) => new URL(url).origin === origin))];
}
