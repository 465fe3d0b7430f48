/**
 * Service worker of the browser authenticator (scope `/terminal/`): keeps the page and its scripts so
 * that the authenticator opens, and computes second codes, without a network. It is network-first, so a
 * new release is picked up whenever the platform answers, and it never touches the API (`/v1/…`): no
 * challenge, code or signed request is ever cached.
 */

interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}

interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}

interface ServiceWorkerScope {
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
}

const worker = self as unknown as ServiceWorkerScope;
const cacheName = 'countersign-terminal-v1';
// Every module the page loads, transitively: its own script is requested as `app.js?v=1` (in `shell`),
// the modules that script imports by relative paths without the version. `service-worker.test.ts` derives the list from
// the imports and compares, so that a new import cannot leave the authenticator broken offline.
const domainModules = [
  'enrollment-credential',
  'enrollment-uri',
  'errors',
  'first-code',
  'hex',
  'limits',
  'money',
  'ocra',
  'payer',
  'terminal-suite',
];
const pageScripts = ['scanner', 'vault'];
const terminalCoreModules = [
  'terminal-api-client',
  'terminal-enrollment',
  'terminal-events',
  'terminal-vault',
];
/** The files kept for offline use, as the page requests them (path and query). */
export const shell: readonly string[] = [
  '/terminal/',
  '/terminal/manifest.webmanifest',
  '/terminal/icon.svg',
  '/assets/app.css?v=1',
  '/assets/js/web/terminal/scripts/app.js?v=1',
  '/assets/js/vendor/simplewebauthn-browser.js?v=1',
  '/assets/js/web/scripts/passkey-ceremony.js',
  ...pageScripts.map((name) => `/assets/js/web/terminal/scripts/${name}.js`),
  ...domainModules.map((name) => `/assets/js/domain/${name}.js`),
  ...terminalCoreModules.map((name) => `/assets/js/terminal-core/${name}.js`),
];

worker.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(cacheName)
      .then((cache) => cache.addAll([...shell]))
      .then(() => worker.skipWaiting()),
  );
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((name) => name !== cacheName).map((name) => caches.delete(name))),
      )
      .then(() => worker.clients.claim()),
  );
});

worker.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const cached =
    url.origin === location.origin &&
    event.request.method === 'GET' &&
    shell.includes(url.pathname + url.search);
  if (!cached) return;
  event.respondWith(
    fetch(event.request)
      .then(async (response) => {
        if (response.ok) await (await caches.open(cacheName)).put(event.request, response.clone());
        return response;
      })
      .catch(async () => (await caches.match(event.request)) ?? Response.error()),
  );
});
