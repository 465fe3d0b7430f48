// Proves on both engines, in headless Chromium, that the platform's OCRA module gives every RFC 6287 vector in the browser, that a browser vault an earlier release wrote still opens there, and that the browser authenticator enrolls from a URI, keeps its keys only encrypted, shows each pushed payment with its own payee and amount, approves it (the payment succeeds), shows a second code for the first terminal, refuses a wrong verification code locally, computes codes offline from its service-worker cache, and shows the payer's lock and lifts it with the verification code.
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/domain/hex.js';
import { computeOcra } from '../../src/domain/ocra.js';
import {
  type BrowserPlatform,
  screenshot,
  startBrowserPlatform,
} from '../browser/support/browser-platform.js';
import { call, createFundedPayer, createPayee, type FundedPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { ocraVectors } from './support/ocra-vectors.js';

describe.each(testEngines())('browser authenticator on %s', (engine) => {
  let platform: BrowserPlatform;
  let context: BrowserContext;
  let page: Page;
  let payer: FundedPayer;
  const password = 'correct horse battery';

  beforeAll(async () => {
    platform = await startBrowserPlatform(engine, { codeTtlSeconds: 600 });
    await createPayee(platform.app, platform.operatorToken, 'shop', 'Corner Shop');
    await createPayee(platform.app, platform.operatorToken, 'cafe', 'Café Olé');
    payer = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 500_000);
    ({ context, page } = await platform.newPage());
  });
  afterAll(async () => {
    await context?.close();
    await platform?.dispose();
  });

  async function pay(amount: number, payeeId: string, deliverTo = 'second_terminal') {
    const answer = await call(platform.app, 'POST', '/v1/payments', {
      payerId: 'alice',
      password,
      payeeId,
      amount,
      currency: 'EUR',
      deliverTo,
    });
    expect(answer.statusCode, answer.body).toBe(201);
    return answer.json() as { id: string; firstCode?: string };
  }

  async function payment(id: string) {
    return (
      await call(platform.app, 'GET', `/v1/payments/${id}`, undefined, { token: platform.operatorToken })
    ).json();
  }

  const card = (paymentId: string) => page.locator(`li[data-payment-id="${paymentId}"]`);

  it("computes every RFC 6287 Appendix C vector in Chromium with the platform's own OCRA module", async () => {
    await page.goto('/terminal/');
    // The page imports the compiled module itself; the script is a string so that the test runner leaves
    // its dynamic import alone.
    const results = await page.evaluate(`(async (vectors) => {
      const ocra = await import('/assets/js/domain/ocra.js');
      const encoder = new TextEncoder();
      return Promise.all(vectors.map((vector) => ocra.computeOcra({
        suite: vector.suite,
        key: encoder.encode(vector.keyText),
        question: vector.question,
        ...(vector.pin === undefined ? {} : { pin: vector.pin }),
        ...(vector.counter === undefined ? {} : { counter: vector.counter }),
        ...(vector.timeSteps === undefined ? {} : { timeSteps: vector.timeSteps }),
      })));
    })(${JSON.stringify(ocraVectors)})`);
    expect(results).toEqual(ocraVectors.map((vector) => vector.response));
    expect(results).toHaveLength(70);
  });

  it('opens, in Chromium, a browser vault an earlier release wrote, with its verification code only', async () => {
    await page.goto('/terminal/');
    const record = readFileSync(
      new URL('../fixtures/terminal-vault/browser-record.json', import.meta.url),
      'utf8',
    );
    // As above, a string, so that the test runner leaves the dynamic import of the served module alone.
    const opened = await page.evaluate(`(async (record) => {
      const vault = await import('/assets/js/terminal-core/terminal-vault.js');
      return [await vault.openTerminalVault(record, '4321'), (await vault.openTerminalVault(record, '1234')) ?? null];
    })(${record})`);
    expect(opened).toEqual([
      { ocraKeyHex: 'ab'.repeat(32), signingKeyPkcs8: 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg' },
      null,
    ]);
  });

  it('enrolls from a pasted URI and keeps the keys only encrypted', async () => {
    await page.goto('/terminal/');
    await page.locator('#enroll').waitFor();
    // The camera button is offered exactly where the browser can read QR codes.
    const canScan = await page.evaluate(() => 'BarcodeDetector' in window);
    expect(await page.locator('#scan').isVisible()).toBe(canScan);
    await page.fill('#enroll-uri', payer.enrollmentUri);
    await page.fill('#enroll-label', 'Phone');
    await page.fill('#enroll-code', '4321');
    await page.click('#enroll-submit');
    await page.locator('#pending').waitFor();
    await expect.poll(() => page.textContent('#message')).toContain('now your second terminal');
    const terminals = await call(platform.app, 'GET', '/v1/payers/alice/terminals', undefined, {
      token: platform.operatorToken,
    });
    expect(terminals.json().data[0]).toMatchObject({ id: payer.terminalId, enrolled: true, label: 'Phone' });
    const stored = await page.evaluate(
      () =>
        new Promise<string>((resolve, reject) => {
          const open = indexedDB.open('countersign-terminal');
          open.onsuccess = () => {
            const read = open.result.transaction('terminal').objectStore('terminal').get('current');
            read.onsuccess = () => resolve(JSON.stringify(read.result));
            read.onerror = () => reject(read.error);
          };
        }),
    );
    expect(JSON.parse(stored)).toMatchObject({
      terminalId: payer.terminalId,
      kdf: { name: 'PBKDF2-SHA256', iterations: 600_000 },
    });
    expect(stored).not.toContain(payer.keyHex);
    expect(stored).not.toContain('4321');
  });

  it('shows a pushed payment with its payee and amount, and approves it', async () => {
    const paid = await pay(1250, 'shop');
    await platform.services.deliveries.processDue();
    const item = card(paid.id);
    await item.waitFor();
    expect(await item.locator('.amount').textContent()).toBe('12.50 EUR');
    expect(await item.locator('.payee').textContent()).toBe('Corner Shop');
    expect(await item.locator('.expires').textContent()).toMatch(/^[0-9]+:[0-5][0-9]$/);
    await screenshot(page, 'terminal-pending');
    await item.locator('button[data-action="approve"]').click();
    expect(await page.textContent('#confirm-summary')).toBe('12.50 EUR to Corner Shop.');
    await page.fill('#confirm-code', '4321');
    await page.click('#confirm-submit');
    await expect.poll(() => page.textContent('#message')).toBe('Approved: 12.50 EUR to Corner Shop.');
    await item.waitFor({ state: 'detached' });
    expect(await payment(paid.id)).toMatchObject({ status: 'succeeded', failedApprovals: 0 });
  });

  it('shows another amount for another payment, and its second code for the first terminal', async () => {
    const paid = await pay(99_999, 'cafe');
    await platform.services.terminals.refreshStreams();
    const item = card(paid.id);
    await item.waitFor();
    expect(await item.locator('.amount').textContent()).toBe('999.99 EUR');
    expect(await item.locator('.payee').textContent()).toBe('Café Olé');
    await item.locator('button[data-action="code"]').click();
    await page.fill('#confirm-code', '4321');
    await page.click('#confirm-submit');
    await page.locator('#second-code-box').waitFor();
    const secondCode = (await page.textContent('#second-code'))!;
    expect(secondCode).toMatch(/^[0-9]{8}$/);
    await page.click('#confirm-cancel');
    // Typed into the first terminal, the code approves this payment.
    const approved = await call(platform.app, 'POST', `/v1/payments/${paid.id}/approve`, { secondCode });
    expect(approved.json().status).toBe('succeeded');
  });

  it('refuses a wrong verification code in the browser, sending nothing', async () => {
    const paid = await pay(500, 'shop');
    await platform.services.deliveries.processDue();
    const item = card(paid.id);
    await item.waitFor();
    await item.locator('button[data-action="approve"]').click();
    await page.fill('#confirm-code', '9999');
    await page.click('#confirm-submit');
    await expect.poll(() => page.textContent('#message')).toContain('does not open the keys');
    expect(await payment(paid.id)).toMatchObject({ status: 'requires_approval', failedApprovals: 0 });
    await item.locator('button[data-action="decline"]').click();
    await item.waitFor({ state: 'detached' });
    expect((await payment(paid.id)).status).toBe('canceled');
  });

  it('locks, unlocks, and computes a second code offline from the cached page', async () => {
    await page.click('#lock');
    await page.locator('#locked').waitFor();
    expect(await page.textContent('#locked-payer')).toBe('alice');
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    const firstTerminal = await pay(2500, 'shop', 'first_terminal');
    await context.setOffline(true);
    try {
      await page.reload();
      await page.locator('#locked').waitFor();
      await page.fill('#offline-first-code', firstTerminal.firstCode!);
      await page.fill('#offline-code', '4321');
      await page.click('#offline-form button[type="submit"]');
      await page.locator('#offline-result').waitFor();
      const expected = await computeOcra({
        suite: payer.suite,
        key: hexToBytes(payer.keyHex),
        question: firstTerminal.firstCode!,
        pin: '4321',
      });
      expect(await page.textContent('#offline-second-code')).toBe(expected);
    } finally {
      await context.setOffline(false);
    }
    await page.fill('#unlock-code', '4321');
    await page.click('#unlock-submit');
    await page.locator('#pending').waitFor();
  });

  it("shows the payer's lock with its end, and lifts it with the verification code", async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const wrong = await call(platform.app, 'POST', '/v1/sessions', {
        payerId: 'alice',
        password: 'wrong guess',
      });
      expect(wrong.statusCode).toBe(401);
    }
    await page.click('#lock');
    await page.fill('#unlock-code', '4321');
    await page.click('#unlock-submit');
    await page.locator('#payer-lock').waitFor();
    expect(await page.textContent('#payer-lock-state')).toContain('locked until');
    await screenshot(page, 'terminal-payer-locked');
    await page.fill('#payer-unlock-code', '4321');
    await page.click('#payer-unlock-submit');
    await expect.poll(() => page.textContent('#message')).toContain('Your payer id is unlocked');
    expect(await page.locator('#payer-lock').isHidden()).toBe(true);
    const signedIn = await call(platform.app, 'POST', '/v1/sessions', { payerId: 'alice', password });
    expect(signedIn.statusCode, signedIn.body).toBe(201);
  });

  it('serves the page with a strict policy and an installable manifest', async () => {
    const response = await fetch(`${platform.baseUrl}/terminal/`);
    const policy = response.headers.get('content-security-policy')!;
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).toContain("frame-ancestors 'none'");
    const body = await response.text();
    expect(body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    const manifest = await (await fetch(`${platform.baseUrl}/terminal/manifest.webmanifest`)).json();
    expect(manifest).toMatchObject({ start_url: '/terminal/', scope: '/terminal/', display: 'standalone' });
  });
});
