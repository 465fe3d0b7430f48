// Proves the hosted checkout in headless Chromium on both engines: the payer sees merchant, amount and reference, signs in, approves with either embodiment and is sent back to the merchant, under a strict CSP with CSRF-checked forms and HttpOnly Secure SameSite cookies.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieNames } from '../../src/web/cookies.js';
import {
  type BrowserPlatform,
  screenshot,
  startBrowserPlatform,
} from '../browser/support/browser-platform.js';
import { createFundedPayer, secondCodeFor, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import {
  createMerchant,
  createRequest,
  firstCodeDeliveredTo,
  merchantCall,
  type TestMerchant,
} from './merchant-support.js';

describe.each(testEngines())('hosted checkout in Chromium on %s', (engine) => {
  let platform: BrowserPlatform;
  let payer: TestPayer;
  let shop: TestMerchant;
  let shopServer: http.Server;
  let shopUrl: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    platform = await startBrowserPlatform(engine);
    payer = await createFundedPayer(platform.app, platform.operatorToken, 'checkout-payer', 20_000);
    shop = await createMerchant(platform.app, platform.operatorToken, 'corner-cafe', { name: 'Corner Café' });
    // The merchant's own site, where the payer is sent back.
    shopServer = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Thank you for your order</h1>');
    });
    shopServer.listen(0, '127.0.0.1');
    await once(shopServer, 'listening');
    shopUrl = `http://127.0.0.1:${(shopServer.address() as AddressInfo).port}`;
    ({ context, page } = await platform.newPage());
  });
  afterAll(async () => {
    shopServer?.closeAllConnections();
    shopServer?.close();
    await platform?.dispose();
  });

  const checkoutPath = (requestId: string) => `/checkout/${requestId}`;
  const requestStatus = async (requestId: string) =>
    (await merchantCall(platform.app, shop, 'GET', `/v1/payment-requests/${requestId}`)).json()
      .status as string;

  it('shows what is asked, under a strict CSP, with no script at all', async () => {
    const request = await createRequest(platform.app, shop, 1250, {
      reference: 'order-1001',
      description: 'Two flat whites',
    });
    const response = await page.goto(checkoutPath(request.id));
    expect(response?.status()).toBe(200);
    const policy = response?.headers()['content-security-policy'] ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(await page.getByTestId('merchant').textContent()).toBe('Corner Café');
    expect(await page.getByTestId('amount').textContent()).toBe('12.50 EUR');
    expect(await page.getByTestId('reference').textContent()).toBe('order-1001');
    expect(await page.locator('script').count()).toBe(0);
    await screenshot(page, 'checkout-start');
  });

  it('pays with the first code shown here and the second code, then returns to the merchant', async () => {
    const request = await createRequest(platform.app, shop, 480, {
      returnUrl: `${shopUrl}/orders/1002/done`,
    });
    await page.goto(checkoutPath(request.id));
    await page.getByLabel('Your payer id').fill(payer.id);
    await page.getByLabel('Password').fill(payer.password);
    await page.getByLabel('Show it here').check();
    await page.getByRole('button', { name: 'Sign in and pay' }).click();
    const firstCode = (await page.getByTestId('first-code').textContent())!.trim();
    expect(firstCode).toMatch(/^[0-9]{8}$/);
    expect(await page.content()).not.toContain(payer.password);
    await screenshot(page, 'checkout-approve');
    await page.getByLabel('Second code').fill(await secondCodeFor(payer, firstCode));
    await page.getByRole('button', { name: 'Approve payment' }).first().click();
    await page.waitForURL(`${shopUrl}/orders/1002/done`);
    expect(await page.locator('h1').textContent()).toBe('Thank you for your order');
    expect(await requestStatus(request.id)).toBe('paid');
  });

  it('shows the generic message for a wrong code, then pays with first code and verification code', async () => {
    const request = await createRequest(platform.app, shop, 730);
    await page.goto(checkoutPath(request.id));
    await page.getByLabel('Your payer id').fill(payer.id);
    await page.getByLabel('Password').fill(payer.password);
    await page.getByLabel('Send it to my second terminal').check();
    await page.getByRole('button', { name: 'Sign in and pay' }).click();
    await expect(page.getByTestId('first-code').count()).resolves.toBe(0);
    await page.getByLabel('Second code').fill('00000000');
    await page.getByRole('button', { name: 'Approve payment' }).first().click();
    expect(await page.getByRole('alert').textContent()).toContain('These codes do not approve this payment');
    const [payment] = await platform.test.database.query<{ id: string }>(
      "SELECT id FROM payments WHERE payment_request_id = $1 AND status = 'requires_approval'",
      [request.id],
    );
    const firstCode = await firstCodeDeliveredTo(
      platform.test.database,
      platform.services.deps.secrets,
      payment!.id,
    );
    await page.getByText('Approve with the first code and your verification code instead').click();
    await page.getByLabel('First code').fill(firstCode);
    await page.getByLabel('Verification code').fill(payer.verificationCode);
    await page.getByRole('button', { name: 'Approve payment' }).last().click();
    expect(await page.getByTestId('outcome').textContent()).toContain('has been paid');
    expect(await requestStatus(request.id)).toBe('paid');
    // Every cookie the checkout set is HttpOnly, Secure, SameSite=Strict.
    const cookies = await context.cookies();
    expect(cookies.map((cookie) => cookie.name)).toContain(cookieNames.csrf);
    for (const cookie of cookies)
      expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
  });

  it('lets the payer cancel the payment it started and start again', async () => {
    const request = await createRequest(platform.app, shop, 310);
    await page.goto(checkoutPath(request.id));
    await page.getByLabel('Your payer id').fill(payer.id);
    await page.getByLabel('Password').fill(payer.password);
    await page.getByRole('button', { name: 'Sign in and pay' }).click();
    await page.getByRole('button', { name: 'Cancel and start again' }).click();
    await page.waitForURL(`${platform.baseUrl}${checkoutPath(request.id)}`);
    expect(await page.getByRole('button', { name: 'Sign in and pay' }).count()).toBe(1);
    const [held] = await platform.test.database.query<{ status: string }>(
      'SELECT status FROM payments WHERE payment_request_id = $1',
      [request.id],
    );
    expect(held?.status).toBe('canceled');
  });

  it('refuses a form without its CSRF token and shows a paid request as paid', async () => {
    const request = await createRequest(platform.app, shop, 90);
    const forged = await platform.app.inject({
      method: 'POST',
      url: `/checkout/${request.id}/pay`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `payerId=${payer.id}&password=${encodeURIComponent(payer.password)}&deliverTo=first_terminal`,
    });
    expect(forged.statusCode).toBe(403);
    const [count] = await platform.test.database.query<{ n: bigint }>(
      'SELECT count(*) AS n FROM payments WHERE payment_request_id = $1',
      [request.id],
    );
    expect(count?.n).toBe(0n);
    const unknown = await page.goto('/checkout/00000000-0000-4000-8000-000000000000');
    expect(unknown?.status()).toBe(404);
    const notAnId = await page.goto('/checkout/nonsense');
    expect(notAnId?.status()).toBe(404);
  });
});
