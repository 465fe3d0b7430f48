// Runs the whole platform on a real port of 127.0.0.1 over a fresh database, and a headless Chromium to drive its pages.
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { EngineName } from '../../support/engines.js';
import { startTestPlatform, type TestPlatform, type TestPlatformOptions } from '../../support/method.js';

/** Where Chromium is installed; a browser is never downloaded. */
export const chromiumPath = '/usr/bin/chromium';

/** Flags for a headless Chromium in a container: no sandbox, no GPU, no calls home. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
];

/** Screenshots of test runs (gitignored). */
export const artifactsDirectory = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'artifacts',
);

/** A listening platform and a browser for one test file. */
export interface BrowserPlatform extends TestPlatform {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly browser: Browser;
  /** A fresh browser context (its own cookies), with a page; close it when done. */
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
}

/** A free port of 127.0.0.1, for a platform whose `PUBLIC_URL` must be known before it listens. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address !== 'object') throw new Error('no free port');
  return address.port;
}

/**
 * Starts the platform on a random port of 127.0.0.1 and launches Chromium. With `localhost`, pages are
 * loaded from `http://localhost:<port>` and that is the platform's `PUBLIC_URL`: WebAuthn needs a secure
 * context and an RP ID that is a domain name, which `localhost` is and `127.0.0.1` is not.
 */
export async function startBrowserPlatform(
  engine: EngineName,
  options: TestPlatformOptions & { readonly localhost?: boolean } = {},
): Promise<BrowserPlatform> {
  const port = options.localhost === true ? await freePort() : 0;
  const hostName = options.localhost === true ? 'localhost' : '127.0.0.1';
  const platform = await startTestPlatform(engine, {
    ...options,
    ...(options.localhost === true ? { publicUrl: `http://localhost:${port}` } : {}),
  });
  let browser: Browser | undefined;
  try {
    await platform.app.listen({ host: '127.0.0.1', port });
    const address = platform.app.server.address();
    if (address === null || typeof address !== 'object') throw new Error('the server is not listening');
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
    const launched = browser;
    const baseUrl = `http://${hostName}:${address.port}`;
    return {
      ...platform,
      baseUrl,
      browser: launched,
      newPage: async () => {
        const context = await launched.newContext({
          baseURL: baseUrl,
          viewport: { width: 1200, height: 900 },
        });
        context.setDefaultTimeout(10_000);
        return { context, page: await context.newPage() };
      },
      dispose: async () => {
        await launched.close();
        await platform.dispose();
      },
    };
  } catch (error) {
    await browser?.close();
    await platform.dispose();
    throw error;
  }
}

/** Writes a full-page screenshot to `test/artifacts/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(artifactsDirectory, { recursive: true });
  const file = path.join(artifactsDirectory, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
