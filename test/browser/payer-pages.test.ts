// Proves in headless Chromium that a payer signs in, pays, approves with an OCRA second code and sees the balance change, and that wrong codes, forged forms and idle sessions are handled safely.
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieNames } from '../../src/web/cookies.js';
import { basePagePolicy } from '../../src/web/csp.js';
import { createFundedPayer, createPayee, secondCodeFor, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { type BrowserPlatform, screenshot, startBrowserPlatform } from './support/browser-platform.js';

describe.each(testEngines())('payer pages on %s', (engine) => {
  let platform: BrowserPlatform;
  let alice: TestPayer;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    platform = await startBrowserPlatform(engine);
    alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 10_000);
    await createPayee(platform.app, platform.operatorToken, 'corner-shop', 'Corner Shop');
    ({ context, page } = await platform.newPage());
  });
  afterAll(async () => {
    await platform?.dispose();
  });

  const paymentCount = async () =>
    Number((await platform.test.database.query<{ n: bigint }>('SELECT count(*) AS n FROM payments'))[0]!.n);

  async function signIn(password: string) {
    await page.goto('/signin');
    await page.getByLabel('Payer id').fill(alice.id);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('refuses a wrong password with a message that names no factor, and keeps no password in the page', async () => {
    await signIn('not the password');
    const alert = page.getByRole('alert');
    await expect(alert.textContent()).resolves.toContain('The id or the password is not correct');
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    expect(await page.content()).not.toContain('not the password');
    expect((await context.cookies()).some((cookie) => cookie.name === cookieNames.payerSession)).toBe(false);
  });

  it('signs in with HttpOnly, Secure, SameSite=Strict cookies and shows the balance', async () => {
    await signIn(alice.password);
    await page.waitForURL(`${platform.baseUrl}/`);
    expect(await page.getByTestId('available-EUR').textContent()).toBe('100.00 EUR');
    expect(await page.getByTestId('held-EUR').textContent()).toContain('0.00 EUR');
    const cookies = await context.cookies();
    const names = cookies.map((cookie) => cookie.name).sort();
    expect(names).toEqual([cookieNames.csrf, cookieNames.payerSession].sort());
    for (const cookie of cookies) {
      expect(cookie, cookie.name).toMatchObject({
        httpOnly: true,
        secure: true,
        sameSite: 'Strict',
        path: '/',
      });
    }
    await screenshot(page, 'payer-home');
  });

  it('pays 12.50 EUR, rejects a wrong second code with the generic message, approves with the right one', async () => {
    await page.getByRole('link', { name: 'Pay someone' }).first().click();
    await page.getByLabel('Payee id').fill('corner-shop');
    await page.getByLabel('Amount').fill('12.50');
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.getByTestId('payee').textContent()).toContain('Corner Shop');
    expect(await page.getByTestId('amount').textContent()).toBe('12.50 EUR');
    const firstCode = (await page.getByTestId('first-code').textContent()) ?? '';
    expect(firstCode).toMatch(/^[0-9]{8}$/);
    await screenshot(page, 'payer-approval');

    const rightCode = await secondCodeFor(alice, firstCode);
    const wrongCode = rightCode === '00000000' ? '11111111' : '00000000';
    await page.getByLabel('Second code').fill(wrongCode);
    await page.getByRole('button', { name: 'Approve payment' }).first().click();
    const error = await page.locator('#approval-error').textContent();
    expect(error).toContain('These codes do not approve this payment');
    expect(error).not.toMatch(/first code|verification code|second code is/i);
    expect(await page.getByTestId('status').textContent()).toBe('waiting for approval');
    // The first code is not rendered again once the page that issued it is gone.
    expect(await page.content()).not.toContain(firstCode);

    await page.getByLabel('Second code').fill(rightCode);
    await page.getByRole('button', { name: 'Approve payment' }).first().click();
    expect(await page.getByRole('status').first().textContent()).toContain('Payment approved');
    expect(await page.getByTestId('status').textContent()).toBe('paid');
    await page.getByRole('link', { name: 'Overview' }).click();
    expect(await page.getByTestId('available-EUR').textContent()).toBe('87.50 EUR');
    expect(await page.getByTestId('held-EUR').textContent()).toContain('0.00 EUR');
  });

  it('refuses a form posted without its CSRF token and changes nothing', async () => {
    const before = await paymentCount();
    const response = await page.request.post('/pay', {
      form: {
        payeeId: 'corner-shop',
        amount: '1.00',
        currency: 'EUR',
        deliverTo: 'first_terminal',
        formKey: 'a'.repeat(24),
      },
      maxRedirects: 0,
    });
    expect(response.status()).toBe(403);
    expect(await response.text()).toContain('This form has expired or did not come from this site');
    const forged = await page.request.post('/pay', {
      form: {
        _csrf: 'f'.repeat(64),
        payeeId: 'corner-shop',
        amount: '1.00',
        currency: 'EUR',
        formKey: 'b'.repeat(24),
      },
      maxRedirects: 0,
    });
    expect(forged.status()).toBe(403);
    expect(await paymentCount()).toBe(before);
  });

  it('sends the Content-Security-Policy on every page', async () => {
    for (const path of ['/', '/payments', '/pay', '/terminals', '/signin']) {
      const response = await page.request.get(path, { maxRedirects: 0 });
      // Signed in, the sign-in page redirects home; the redirect carries the policy too.
      expect(response.status(), path).toBe(path === '/signin' ? 303 : 200);
      expect(response.headers()['content-security-policy'], path).toContain(basePagePolicy);
    }
    // An unknown path is the API's 404, under its own stricter policy.
    const unknown = await page.request.get('/no-such-page-here');
    expect(unknown.headers()['content-security-policy']).toMatch(/^default-src 'none'/);
    const pageResponse = await page.goto('/payments');
    expect(pageResponse?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('warns before the idle timeout and stays signed in on request', async () => {
    const idlePage = await context.newPage();
    await idlePage.clock.install();
    await idlePage.goto('/');
    const warning = idlePage.locator('#idle-warning');
    expect(await warning.isHidden()).toBe(true);
    await idlePage.clock.fastForward('04:05');
    await warning.waitFor({ state: 'visible' });
    expect(await warning.textContent()).toContain('You will be signed out in');
    await idlePage.getByRole('button', { name: 'Stay signed in' }).click();
    await warning.waitFor({ state: 'hidden' });
    await idlePage.close();
  });

  it('lists terminals, shows an enrollment QR code once, and revokes a terminal', async () => {
    await page.getByRole('link', { name: 'Terminals' }).click();
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.getByLabel('Name of the new terminal').fill('my phone');
    await page.getByRole('button', { name: 'Enroll a new terminal' }).click();
    expect(await page.locator('.qr svg').count()).toBe(1);
    await page.goto('/terminals');
    expect(await page.locator('.qr svg').count()).toBe(0);
    await page
      .getByRole('button', { name: /Revoke/ })
      .first()
      .click();
    expect(await page.getByRole('status').first().textContent()).toContain('The terminal was revoked');
    const rows = await platform.test.database.query<{ status: string }>(
      'SELECT status FROM terminals WHERE payer_id = $1',
      [alice.id],
    );
    expect(rows.map((row) => row.status)).toEqual(['revoked']);
  });

  it('ends the session on sign-out: the old cookie no longer opens a page', async () => {
    const session = (await context.cookies()).find((cookie) => cookie.name === cookieNames.payerSession);
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.getByRole('status').first().textContent()).toContain('You are signed out');
    await context.addCookies([{ ...session!, sameSite: 'Strict' }]);
    await page.goto('/');
    expect(new URL(page.url()).pathname).toBe('/signin');
  });
});
