// Proves on both engines that the example shop works against a real platform: an online order paid through the checkout's payment request, a till sale redeemed from the code the customer reads out, orders marked paid by verified webhooks only, and no payer data on the shop's pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningShop, startShop } from '../../examples/shop/shop.js';
import { call, createFundedPayer, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import {
  createMerchant,
  firstCodeDeliveredTo,
  merchantCall,
  payRequest,
  secondCode,
  type TestMerchant,
} from './merchant-support.js';

describe.each(testEngines())('the example shop on %s', (engine) => {
  let platform: TestPlatform;
  let payer: TestPayer;
  let merchant: TestMerchant;
  let shop: RunningShop;
  const pages: string[] = [];

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { webhookAllowPrivateTargets: true });
    await platform.app.listen({ host: '127.0.0.1', port: 0 });
    const address = platform.app.server.address() as { port: number };
    payer = await createFundedPayer(platform.app, platform.operatorToken, 'shop-customer', 20_000);
    merchant = await createMerchant(platform.app, platform.operatorToken, 'example-shop', {
      name: 'Example Shop',
    });
    shop = await startShop({
      platformUrl: `http://127.0.0.1:${address.port}`,
      apiKey: merchant.apiKey,
      webhookSecret: merchant.webhookSecret,
    });
    const set = await merchantCall(platform.app, merchant, 'POST', '/v1/merchant', {
      webhookUrl: `${shop.url}/webhooks`,
    });
    expect(set.statusCode, set.body).toBe(200);
  });
  afterAll(async () => {
    await shop?.close();
    await platform?.dispose();
  });

  /** A request to the shop, as a browser would send it, without following redirects. */
  async function visit(method: 'GET' | 'POST', path: string, form?: Record<string, string>) {
    const response = await fetch(`${shop.url}${path}`, {
      method,
      redirect: 'manual',
      ...(form === undefined
        ? {}
        : {
            body: new URLSearchParams(form).toString(),
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
    });
    const text = await response.text();
    pages.push(text);
    return { status: response.status, location: response.headers.get('location'), text };
  }

  /** Shows the product page and submits its "Buy" form for `product`, order id included, as a browser does. */
  async function buy(product: string) {
    const shown = await visit('GET', '/');
    const form = new RegExp(
      `value="${product}"><input type="hidden" name="order" value="([0-9a-f-]{36})"`,
    ).exec(shown.text);
    expect(form, `no Buy form for ${product}`).not.toBeNull();
    const fields = { product, order: form![1]! };
    return { fields, bought: await visit('POST', '/orders', fields) };
  }

  it('sells online: "Buy" goes to the hosted checkout, and the verified webhook marks the order paid', async () => {
    expect((await visit('GET', '/')).text).toContain('A bag of coffee beans');
    const { fields, bought } = await buy('coffee');
    expect(bought.status).toBe(303);
    // The same form submitted again (a double click, a reload) is the same order and the same request.
    const ordersBefore = shop.orders.size;
    const again = await visit('POST', '/orders', fields);
    expect(again.location).toBe(bought.location);
    expect(shop.orders.size).toBe(ordersBefore);
    const requestId = /\/checkout\/([0-9a-f-]{36})$/.exec(bought.location ?? '')?.[1];
    expect(requestId).toBeDefined();
    const order = [...shop.orders.values()].find((candidate) => candidate.paymentRequestId === requestId)!;
    expect(order).toMatchObject({ status: 'awaiting_payment', amount: 1250 });
    // The customer pays on the checkout (here through the same API the checkout page calls).
    const payment = (await payRequest(platform.app, payer, requestId!)).json();
    const approved = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, {
      secondCode: await secondCode(payer, payment.firstCode),
    });
    expect(approved.statusCode).toBe(200);
    expect(order.status).toBe('awaiting_payment');
    expect(await platform.services.webhooks.deliverDue()).toBe(1);
    expect(order.status).toBe('paid');
    const shown = await visit('GET', `/orders/${order.id}`);
    expect(shown.text).toContain('data-status="paid"');
  });

  it('takes a payment at the till from the code the customer reads off their second terminal', async () => {
    const started = await visit('POST', '/till', { amount: '4.50', description: 'Espresso' });
    expect(started.status).toBe(303);
    const requestId = started.location!.split('/').at(-1)!;
    expect((await visit('GET', started.location!)).text).toContain('Waiting for the customer');
    const early = await visit('POST', `/till/${requestId}/redeem`, { secondCode: '12345678' });
    expect(early.status).toBe(409);
    expect(early.text).toContain('has not started paying yet');
    // The customer starts paying on their phone; the first code goes to their second terminal.
    const payment = (await payRequest(platform.app, payer, requestId, 'second_terminal')).json();
    const firstCode = await firstCodeDeliveredTo(
      platform.test.database,
      platform.services.deps.secrets,
      payment.id,
    );
    const wrong = await visit('POST', `/till/${requestId}/redeem`, { secondCode: '00000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('That code is not right');
    const taken = await visit('POST', `/till/${requestId}/redeem`, {
      secondCode: await secondCode(payer, firstCode),
    });
    expect(taken.status).toBe(303);
    expect((await visit('GET', `/till/${requestId}`)).text).toContain('data-status="paid"');
    const balance = await merchantCall(platform.app, merchant, 'GET', '/v1/balance?currency=EUR');
    expect(balance.json().available).toBe(1250 + 450);
    expect(await platform.services.webhooks.deliverDue()).toBe(1);
  });

  it('ignores a webhook whose signature does not verify', async () => {
    const { bought } = await buy('mug');
    const requestId = bought.location!.split('/').at(-1)!;
    const order = [...shop.orders.values()].find((candidate) => candidate.paymentRequestId === requestId)!;
    const forged = JSON.stringify({
      id: 'evt',
      object: 'event',
      type: 'payment_request.paid',
      createdAt: new Date().toISOString(),
      data: { object: { id: requestId, status: 'paid' } },
    });
    const response = await fetch(`${shop.url}/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'countersign-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`,
      },
      body: forged,
    });
    expect(response.status).toBe(400);
    expect(order.status).toBe('awaiting_payment');
  });

  it('never shows the customer’s identity on the shop’s pages', () => {
    expect(pages.length).toBeGreaterThan(8);
    for (const text of pages) {
      expect(text).not.toContain(payer.id);
      expect(text).not.toContain(payer.keyHex);
    }
  });
});
