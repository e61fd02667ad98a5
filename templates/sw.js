// The site's own service worker, written by `sitegen publish` (rendered from sitegen's
// templates/sw.js). It does two things for the page at this scope:
//   1. Cross-origin isolation on hosts that send no headers (GitHub Pages): every response it
//      passes on carries COOP/COEP, so after one reload (done by the page, at most once a session)
//      the page is cross-origin isolated and WebAssembly runs with threads.
//   2. Offline use: every response of this site is kept in a cache named after this build; when
//      the network fails the cached copy is served. Online, the network always comes first (and
//      revalidates), so a rebuilt site is never served as a stale model beside a new config.json.
// A new build has a new BUILD_ID, so this file changes, the browser installs it on the next visit,
// and the old build's cache is deleted.

const BUILD_ID = {{ build_id | tojson }};
const CACHE_PREFIX = 'sitegen-site-';
const CACHE = CACHE_PREFIX + BUILD_ID;
const ISOLATION_HEADERS = {{ isolation_headers | tojson }};

self.addEventListener('install', (event) => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(dropOldBuilds().then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(networkFirst(request, event));
});

// The page asks for what it loaded to be kept, so a first visit that this worker did not serve
// (no reload was needed: the host sent the headers) works offline too.
self.addEventListener('message', (event) => {
  if (event.data?.type !== 'sitegen:keep') return;
  event.waitUntil(keep(event.data.urls).then((count) => {
    event.source?.postMessage({ type: 'sitegen:kept', buildId: BUILD_ID, count });
  }));
});

async function dropOldBuilds() {
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE)
    .map((name) => caches.delete(name)));
}

async function networkFirst(request, event) {
  const cache = await caches.open(CACHE);
  let response;
  try {
    response = await fetch(request, { cache: 'no-cache' });
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: request.mode === 'navigate' });
    if (cached) return isolated(cached);
    throw error;
  }
  if (response.ok && response.type === 'basic') {
    event.waitUntil(cache.put(request, response.clone()).catch(() => {}));
  }
  return isolated(response);
}

async function keep(urls) {
  const cache = await caches.open(CACHE);
  let kept = 0;
  for (const url of urls) {
    if (new URL(url).origin !== self.location.origin || url.startsWith('blob:')) continue;
    if (!(await cache.match(url))) {
      try {
        const response = await fetch(url, { cache: 'no-cache' });
        if (!response.ok) continue;
        await cache.put(url, response);
      } catch {
        continue;
      }
    }
    kept += 1;
  }
  return kept;
}

function isolated(response) {
  if (response.status === 0) return response; // opaque: its headers cannot be read or changed
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
