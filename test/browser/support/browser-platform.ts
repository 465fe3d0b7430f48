// Runs the whole platform on a real port of 127.0.0.1 over a fresh database, and a headless Chromium to drive its pages.
import { mkdir } from 'node:fs/promises';
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

/** Starts the platform on a random port of 127.0.0.1 and launches Chromium. */
export async function startBrowserPlatform(
  engine: EngineName,
  options: TestPlatformOptions = {},
): Promise<BrowserPlatform> {
  const platform = await startTestPlatform(engine, options);
  let browser: Browser | undefined;
  try {
    await platform.app.listen({ host: '127.0.0.1', port: 0 });
    const address = platform.app.server.address();
    if (address === null || typeof address !== 'object') throw new Error('the server is not listening');
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
    const launched = browser;
    const baseUrl = `http://127.0.0.1:${address.port}`;
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
