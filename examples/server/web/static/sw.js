// The service worker keeps the app shell, so the app opens without a
// network. It serves the shell from its cache and refreshes the cache in
// the background; the API and the event stream always go to the network
// (the app keeps its own offline copies, in IndexedDB).
const CACHE = 'fieldtalk-shell-v1';
const SHELL = ['/', '/app/app.css', '/app/app.js', '/app/api.js', '/app/stream.js', '/app/db.js',
  '/app/manifest.webmanifest', '/app/icon.svg'];

self.addEventListener('install', e => {
  e.waitUntil(caches.open(CACHE).then(c => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', e => {
  e.waitUntil(caches.keys()
    .then(keys => Promise.all(keys.filter(k => k !== CACHE).map(k => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', e => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin) return;
  const key = e.request.mode === 'navigate' && url.pathname === '/' ? '/' : url.pathname;
  if (!SHELL.includes(key)) return;
  e.respondWith(caches.open(CACHE).then(async c => {
    const cached = await c.match(key);
    const fresh = fetch(key).then(r => { if (r.ok) c.put(key, r.clone()); return r; });
    if (cached) {
      e.waitUntil(fresh.catch(() => {}));
      return cached;
    }
    return fresh;
  }));
});
