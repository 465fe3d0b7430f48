// Proves the life of payment requests on both engines: creation and its validation, idempotent creation, paging, cancel (releasing a pending payment's hold), expiry by the job and on use, each change reported by one event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createFundedPayer, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';
import {
  createMerchant,
  createRequest,
  merchantCall,
  payRequest,
  type TestMerchant,
} from './merchant-support.js';

describe.each(testEngines())('payment requests on %s', (engine) => {
  let platform: TestPlatform;
  let payer: TestPayer;
  let shop: TestMerchant;
  let otherShop: TestMerchant;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    payer = await createFundedPayer(platform.app, platform.operatorToken, 'request-payer', 50_000);
    shop = await createMerchant(platform.app, platform.operatorToken, 'request-shop');
    otherShop = await createMerchant(platform.app, platform.operatorToken, 'request-other');
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const get = (id: string, merchant = shop) =>
    merchantCall(platform.app, merchant, 'GET', `/v1/payment-requests/${id}`);
  const eventsOf = async (requestId: string) =>
    (
      (await merchantCall(platform.app, shop, 'GET', '/v1/events?limit=100')).json().data as {
        type: string;
        data: { object: { id: string; status: string } };
      }[]
    ).filter((event) => event.data.object.id === requestId);

  it('creates an open request with a checkout URL and an expiry an hour away by default', async () => {
    const created = await merchantCall(platform.app, shop, 'POST', '/v1/payment-requests', {
      amount: 2599,
      currency: 'EUR',
      reference: 'order-1001',
      description: 'Two coffees',
      returnUrl: 'https://shop.example/orders/1001',
    });
    expect(created.statusCode, created.body).toBe(201);
    const request = created.json();
    expect(request).toMatchObject({
      object: 'payment_request',
      status: 'open',
      amount: 2599,
      currency: 'EUR',
      reference: 'order-1001',
      description: 'Two coffees',
      returnUrl: 'https://shop.example/orders/1001',
      checkoutUrl: `http://127.0.0.1:8080/checkout/${request.id}`,
      paymentId: null,
    });
    expect(Date.parse(request.expiresAt) - platform.clock.nowMs()).toBe(3600_000);
    expect((await get(request.id)).json()).toEqual(request);
  });

  it('refuses invalid requests with the field at fault, changing nothing', async () => {
    const before = await snapshotTables(platform.test.database);
    const base = { amount: 100, currency: 'EUR', reference: 'order-x' };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, amount: 0 }, 'amount'],
      [{ ...base, amount: 1.5 }, 'amount'],
      [{ ...base, currency: 'eur' }, 'currency'],
      [{ ...base, currency: 'XXX' }, 'currency'],
      [{ ...base, reference: '' }, 'reference'],
      [{ ...base, reference: '   ' }, 'reference'],
      [{ ...base, returnUrl: 'javascript:alert(1)' }, 'returnUrl'],
      [{ ...base, expiresInSeconds: 59 }, 'expiresInSeconds'],
      [{ ...base, payerId: 'someone' }, 'payerId'],
      // PostgreSQL cannot store a NUL byte in text; it must be refused before any query, not fail one.
      [{ ...base, reference: 'order-x\u0000' }, 'reference'],
      [{ ...base, reference: 'order\u001bx' }, 'reference'],
      [{ ...base, description: 'Two\u0000coffees' }, 'description'],
    ];
    for (const [body, param] of cases) {
      const response = await merchantCall(platform.app, shop, 'POST', '/v1/payment-requests', body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'invalid_request', param });
    }
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
  });

  it('creates one request per Idempotency-Key, however often it is sent', async () => {
    const body = { amount: 500, currency: 'EUR', reference: 'order-idem' };
    const first = await merchantCall(platform.app, shop, 'POST', '/v1/payment-requests', body, 'create-1');
    const again = await merchantCall(platform.app, shop, 'POST', '/v1/payment-requests', body, 'create-1');
    expect(again.json().id).toBe(first.json().id);
    const direct = await platform.services.paymentRequests.create(
      shop.id,
      { amount: 500n, currency: 'EUR', reference: 'order-idem' },
      `merchant:${shop.id}:create-1`,
    );
    expect(direct.id).toBe(first.json().id);
    const rows = await platform.test.database.query('SELECT id FROM payment_requests WHERE reference = $1', [
      'order-idem',
    ]);
    expect(rows).toHaveLength(1);
  });

  it('hides a request from another merchant and answers 404 for unknown ids', async () => {
    const request = await createRequest(platform.app, shop, 700);
    expect((await get(request.id, otherShop)).statusCode).toBe(404);
    const cancel = await merchantCall(
      platform.app,
      otherShop,
      'POST',
      `/v1/payment-requests/${request.id}/cancel`,
    );
    expect(cancel.json().error.code).toBe('payment_request_not_found');
    expect((await get('00000000-0000-4000-8000-000000000000')).json().error.code).toBe(
      'payment_request_not_found',
    );
    expect((await get(request.id)).json().status).toBe('open');
  });

  it('cancels a request, canceling the payment pending for it and releasing the payer’s hold', async () => {
    const request = await createRequest(platform.app, shop, 800);
    const payment = (await payRequest(platform.app, payer, request.id)).json();
    const held = await call(platform.app, 'GET', `/v1/payers/${payer.id}/balance?currency=EUR`, undefined, {
      token: platform.operatorToken,
    });
    expect(held.json().held).toBe(800);
    const canceled = await merchantCall(
      platform.app,
      shop,
      'POST',
      `/v1/payment-requests/${request.id}/cancel`,
    );
    expect(canceled.statusCode, canceled.body).toBe(200);
    expect(canceled.json()).toMatchObject({ status: 'canceled', paymentId: null });
    const released = await call(
      platform.app,
      'GET',
      `/v1/payers/${payer.id}/balance?currency=EUR`,
      undefined,
      {
        token: platform.operatorToken,
      },
    );
    expect(released.json().held).toBe(0);
    const shownPayment = await call(platform.app, 'GET', `/v1/payments/${payment.id}`, undefined, {
      token: platform.operatorToken,
    });
    expect(shownPayment.json().status).toBe('canceled');
    expect((await eventsOf(request.id)).map((event) => event.type)).toEqual(['payment_request.canceled']);
    const before = await snapshotTables(platform.test.database);
    const again = await merchantCall(platform.app, shop, 'POST', `/v1/payment-requests/${request.id}/cancel`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'payment_request_not_open', status: 'canceled' });
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
  });

  it('expires requests through the job, and on use before the job ran, with one event each', async () => {
    const byJob = await createRequest(platform.app, shop, 900, { expiresInSeconds: 60 });
    const onUse = await createRequest(platform.app, shop, 901, { expiresInSeconds: 120 });
    platform.clock.advance(60_000);
    expect(await platform.services.paymentRequests.expireDue()).toBe(1);
    expect((await get(byJob.id)).json().status).toBe('expired');
    expect((await get(onUse.id)).json().status).toBe('open');
    platform.clock.advance(60_000);
    expect((await get(onUse.id)).json().status).toBe('expired');
    expect(await platform.services.paymentRequests.expireDue()).toBe(0);
    for (const request of [byJob, onUse]) {
      const events = await eventsOf(request.id);
      expect(events.map((event) => event.type)).toEqual(['payment_request.expired']);
      expect(events[0]!.data.object.status).toBe('expired');
    }
  });

  it('pages through requests newest first with limit and starting_after', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const response = await merchantCall(
        platform.app,
        shop,
        'GET',
        `/v1/payment-requests?limit=2${cursor === undefined ? '' : `&starting_after=${cursor}`}`,
      );
      const json = response.json() as { data: { id: string; createdAt: string }[]; hasMore: boolean };
      seen.push(...json.data.map((item) => item.id));
      if (!json.hasMore) break;
      cursor = json.data.at(-1)!.id;
    }
    const all = (await merchantCall(platform.app, shop, 'GET', '/v1/payment-requests?limit=100')).json()
      .data as {
      id: string;
      createdAt: string;
    }[];
    expect(seen).toEqual(all.map((item) => item.id));
    const times = all.map((item) => Date.parse(item.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(all.length).toBe(6);
  });
});
