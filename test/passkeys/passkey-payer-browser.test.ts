// Proves in headless Chromium with a virtual authenticator, on both engines, that a payer created without an OCRA terminal signs in, adds a passkey and approves a payment with it (the payee is paid), that the browser authenticator at /terminal/ approves a pushed payment with the payer's passkey, and that where the browser has no Secure Payment Confirmation (this Chromium) the ceremony falls back to plain WebAuthn.
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserPlatform,
  screenshot,
  startBrowserPlatform,
} from '../browser/support/browser-platform.js';
import { call, createFundedPayer, createPayee } from '../support/api.js';
import { testEngines } from '../support/engines.js';

const password = 'correct horse battery';

/** A browser context of one payer, with a virtual platform authenticator that verifies the user. */
interface PayerBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly cdp: CDPSession;
}

describe.each(testEngines())('passkey-only payers and the browser authenticator on %s', (engine) => {
  let platform: BrowserPlatform;
  const browsers: PayerBrowser[] = [];

  beforeAll(async () => {
    platform = await startBrowserPlatform(engine, { localhost: true });
    await createPayee(platform.app, platform.operatorToken, 'corner-shop', 'Corner Shop');
  }, 60_000);
  afterAll(async () => {
    for (const browser of browsers) await browser.context.close();
    await platform?.dispose();
  });

  const query = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    platform.test.database.query<T>(sql, params);
  const payeeCredits = async () =>
    BigInt(
      (
        await query<{ credits: bigint }>(
          "SELECT credits_posted AS credits FROM accounts WHERE kind = 'payee' AND owner_id = 'corner-shop'",
        )
      )[0]?.credits ?? 0,
    );

  async function signedInBrowser(payerId: string): Promise<PayerBrowser> {
    const { context, page } = await platform.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    const browser = { context, page, cdp };
    browsers.push(browser);
    await page.goto('/signin');
    await page.getByLabel('Payer id').fill(payerId);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${platform.baseUrl}/`);
    return browser;
  }

  async function addPasskey(page: Page, label: string): Promise<void> {
    await page.goto('/terminals');
    await page.getByLabel('Name of the passkey').fill(label);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(/\/terminals\?notice=passkey_added$/);
  }

  async function deposit(payerId: string): Promise<void> {
    const answer = await call(
      platform.app,
      'POST',
      '/v1/deposits',
      { payerId, amount: 50_000, currency: 'EUR' },
      { token: platform.operatorToken },
    );
    expect(answer.statusCode, answer.body).toBe(201);
  }

  it('creates a payer without an OCRA terminal, who adds a passkey and pays with it: the payee is paid', async () => {
    const created = await call(
      platform.app,
      'POST',
      '/v1/payers',
      { id: 'dana', password, verificationCode: '2468', firstTerminal: 'none' },
      { token: platform.operatorToken },
    );
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toEqual({ object: 'payer', id: 'dana', terminal: null });
    expect(await query("SELECT id FROM terminals WHERE payer_id = 'dana'")).toEqual([]);
    const audit = await query<{ detail: unknown }>(
      "SELECT detail FROM audit_log WHERE event = 'payer_created' AND subject = 'dana'",
    );
    const detail = audit[0]?.detail;
    expect(typeof detail === 'string' ? JSON.parse(detail) : detail).toMatchObject({
      terminalId: null,
      suite: null,
    });
    await deposit('dana');

    const { page } = await signedInBrowser('dana');
    await addPasskey(page, 'dana laptop');
    const listed = await call(platform.app, 'GET', '/v1/payers/dana/terminals', undefined, {
      token: platform.operatorToken,
    });
    expect((listed.json().data as { kind: string }[]).map((terminal) => terminal.kind)).toEqual(['passkey']);

    const before = await payeeCredits();
    await page.goto('/pay');
    await page.getByLabel('Payee id').fill('corner-shop');
    await page.getByLabel('Amount').fill('12.50');
    await page.getByRole('button', { name: 'Continue' }).click();
    const action = (await page.locator('#passkey-approve-form').getAttribute('action')) ?? '';
    const paymentId = /\/payments\/([0-9a-f-]{36})\/approve/.exec(action)?.[1];
    expect(paymentId).toBeDefined();
    await page.getByRole('button', { name: 'Approve with a passkey' }).click();
    await page.waitForURL(/\?notice=approved$/);
    const row = await query<{ status: string; failed_approvals: number }>(
      'SELECT status, failed_approvals FROM payments WHERE id = $1',
      [paymentId],
    );
    expect(row[0]).toEqual({ status: 'succeeded', failed_approvals: 0 });
    expect((await payeeCredits()) - before).toBe(1250n);
  });

  it('falls back to plain WebAuthn where the browser cannot show Secure Payment Confirmation (this Chromium)', async () => {
    const { page } = browsers[0]!;
    await page.goto('/pay');
    await page.getByLabel('Payee id').fill('corner-shop');
    await page.getByLabel('Amount').fill('1.00');
    await page.getByRole('button', { name: 'Continue' }).click();
    const action = (await page.locator('#passkey-approve-form').getAttribute('action')) ?? '';
    const paymentId = /\/payments\/([0-9a-f-]{36})\/approve/.exec(action)?.[1] ?? '';
    // The page imports the shared ceremony module itself (a string, so that the test runner leaves the
    // dynamic import alone) and reports which path signed, and what this browser says about the method.
    const outcome = (await page.evaluate(`(async (paymentId) => {
      const ceremony = await import('/assets/js/web/scripts/passkey-ceremony.js');
      const csrf = document.querySelector('input[name=_csrf]').value;
      const answer = await fetch('/payments/' + paymentId + '/passkey-options', {
        method: 'POST', body: new URLSearchParams({ _csrf: csrf }),
      });
      const { options, display } = await answer.json();
      const probe = new PaymentRequest(
        [{ supportedMethods: 'secure-payment-confirmation', data: { credentialIds: [new Uint8Array(32)],
          challenge: new Uint8Array(32), rpId: options.rpId, payeeName: 'x',
          instrument: { displayName: 'x', icon: location.origin + '/terminal/icon.svg' } } }],
        { total: { label: 'Total', amount: { currency: 'EUR', value: '1.00' } } });
      const canMakePayment = await probe.canMakePayment().catch(() => false);
      const signed = await ceremony.signApproval(ceremony.webAuthnLibrary(), options, display);
      return { canMakePayment, path: signed.path, type: JSON.parse(atob(signed.response.response.clientDataJSON
        .replace(/-/g, '+').replace(/_/g, '/'))).type, display };
    })(${JSON.stringify(paymentId)})`)) as {
      canMakePayment: boolean;
      path: string;
      type: string;
      display: Record<string, string>;
    };
    expect(outcome).toEqual({
      canMakePayment: false,
      path: 'webauthn',
      type: 'webauthn.get',
      display: { payeeId: 'corner-shop', payeeName: 'Corner Shop', amount: '1.00', currency: 'EUR' },
    });
  });

  it('approves a payment pushed to the browser authenticator with the payer’s passkey', async () => {
    const erin = await createFundedPayer(platform.app, platform.operatorToken, 'erin', 50_000);
    const { page } = await signedInBrowser('erin');
    await addPasskey(page, 'erin phone');
    await page.goto('/terminal/');
    await page.fill('#enroll-uri', erin.enrollmentUri);
    await page.fill('#enroll-label', 'Phone');
    await page.fill('#enroll-code', erin.verificationCode);
    await page.click('#enroll-submit');
    await page.locator('#pending').waitFor();

    const before = await payeeCredits();
    const created = await call(platform.app, 'POST', '/v1/payments', {
      payerId: 'erin',
      password,
      payeeId: 'corner-shop',
      amount: 730,
      currency: 'EUR',
      deliverTo: 'second_terminal',
    });
    expect(created.statusCode, created.body).toBe(201);
    const paymentId = created.json().id as string;
    await platform.services.deliveries.processDue();
    const card = page.locator(`li[data-payment-id="${paymentId}"]`);
    await card.waitFor();
    expect(await card.locator('.amount').textContent()).toBe('7.30 EUR');
    await card.getByRole('button', { name: 'Approve with a passkey' }).click();
    await expect.poll(() => page.textContent('#message')).toContain('Approved: 7.30 EUR to Corner Shop');
    await screenshot(page, `terminal-passkey-approved-${engine}`);
    const row = await query<{ status: string; failed_approvals: number }>(
      'SELECT status, failed_approvals FROM payments WHERE id = $1',
      [paymentId],
    );
    expect(row[0]).toEqual({ status: 'succeeded', failed_approvals: 0 });
    expect((await payeeCredits()) - before).toBe(730n);
  });
});
