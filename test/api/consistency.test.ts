// Proves the API's common conventions on both engines: the Countersign-Version header (validated, echoed, refused with a stable code and nothing run), metadata on payments, payment requests and refunds (stored, returned, in events; bad metadata refused with metadata_invalid and nothing created), unknown query parameters refused on every route, and one form of time in events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiVersions, currentApiVersion } from '../../src/domain/api-version.js';
import { limits } from '../../src/domain/limits.js';
import {
  createMerchant,
  createRequest,
  merchantCall,
  payRequest,
  secondCode,
  type TestMerchant,
} from '../merchant/merchant-support.js';
import { call, createFundedPayer, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';

describe.each(testEngines())('API conventions on %s', (engine) => {
  let platform: TestPlatform;
  let payer: TestPayer;
  let shop: TestMerchant;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    payer = await createFundedPayer(platform.app, platform.operatorToken, 'conventions-payer', 100_000);
    shop = await createMerchant(platform.app, platform.operatorToken, 'conventions-shop');
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const operator = (method: 'GET' | 'POST', url: string, body?: unknown, headers?: Record<string, string>) =>
    call(platform.app, method, url, body, { token: platform.operatorToken, ...(headers && { headers }) });
  const nothingChanges = async (act: () => Promise<unknown>) => {
    const before = await snapshotTables(platform.test.database);
    await act();
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
  };

  describe('Countersign-Version', () => {
    it('answers under the current version when none is named, and says so', async () => {
      expect(apiVersions).toContain(currentApiVersion);
      const answer = await merchantCall(platform.app, shop, 'GET', '/v1/balance?currency=EUR');
      expect(answer.statusCode).toBe(200);
      expect(answer.headers['countersign-version']).toBe(currentApiVersion);
    });

    it('echoes a known version, on successes and on errors', async () => {
      const headers = { 'countersign-version': apiVersions[0] };
      const ok = await call(platform.app, 'GET', '/v1/balance?currency=EUR', undefined, {
        token: shop.apiKey,
        headers,
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['countersign-version']).toBe(apiVersions[0]);
      const refused = await call(platform.app, 'GET', '/v1/balance?currency=eur', undefined, {
        token: shop.apiKey,
        headers,
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.headers['countersign-version']).toBe(apiVersions[0]);
    });

    it('refuses an unknown version with api_version_unknown, runs nothing, and keeps the key unused', async () => {
      for (const version of ['2025-01-01', 'latest', '2026-12-1', '']) {
        await nothingChanges(async () => {
          const refused = await operator(
            'POST',
            '/v1/payees',
            { id: 'versioned-payee', name: 'Versioned' },
            { 'countersign-version': version, 'idempotency-key': 'versioned-payee-1' },
          );
          expect(refused.statusCode, refused.body).toBe(400);
          expect(refused.json().error).toMatchObject({
            code: 'api_version_unknown',
            type: 'invalid_request_error',
            param: 'Countersign-Version',
          });
          expect(refused.headers['countersign-version']).toBeUndefined();
        });
      }
      // The same key with a known version runs: the refusals above claimed nothing.
      const created = await operator(
        'POST',
        '/v1/payees',
        { id: 'versioned-payee', name: 'Versioned' },
        { 'countersign-version': currentApiVersion, 'idempotency-key': 'versioned-payee-1' },
      );
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toEqual({ object: 'payee', id: 'versioned-payee', name: 'Versioned' });
      expect(created.headers['idempotent-replayed']).toBeUndefined();
    });
  });

  describe('metadata', () => {
    const metadata = { order: 'A-1042', 'customer ref': 'c_77', note: '' };

    it('is stored with a payment request and returned by create, read, list and its events', async () => {
      const created = await merchantCall(platform.app, shop, 'POST', '/v1/payment-requests', {
        amount: 700,
        currency: 'EUR',
        reference: 'order-metadata',
        metadata,
      });
      expect(created.statusCode, created.body).toBe(201);
      const request = created.json();
      expect(request.metadata).toEqual(metadata);
      const read = await merchantCall(platform.app, shop, 'GET', `/v1/payment-requests/${request.id}`);
      expect(read.json().metadata).toEqual(metadata);
      const listed = await merchantCall(platform.app, shop, 'GET', '/v1/payment-requests?limit=100');
      expect(listed.json().data.find((item: { id: string }) => item.id === request.id).metadata).toEqual(
        metadata,
      );

      const payment = (await payRequest(platform.app, payer, request.id)).json();
      const redeemed = await merchantCall(
        platform.app,
        shop,
        'POST',
        `/v1/payment-requests/${request.id}/redeem`,
        { secondCode: await secondCode(payer, payment.firstCode) },
      );
      expect(redeemed.statusCode, redeemed.body).toBe(200);
      const events = (await merchantCall(platform.app, shop, 'GET', '/v1/events?limit=100')).json().data as {
        type: string;
        object: string;
        createdAt: string;
        data: { object: { id: string; metadata: unknown } };
      }[];
      const paid = events.find((event) => event.data.object.id === request.id);
      expect(paid).toMatchObject({ type: 'payment_request.paid', object: 'event' });
      expect(paid?.data.object.metadata).toEqual(metadata);
      expect(paid?.createdAt).toBe(new Date(platform.clock.nowMs()).toISOString());

      const refund = await merchantCall(platform.app, shop, 'POST', '/v1/refunds', {
        paymentId: payment.id,
        amount: 100,
        metadata: { reason: 'damaged' },
      });
      expect(refund.statusCode, refund.body).toBe(201);
      expect(refund.json().metadata).toEqual({ reason: 'damaged' });
      const refundRead = await merchantCall(platform.app, shop, 'GET', `/v1/refunds/${refund.json().id}`);
      expect(refundRead.json().metadata).toEqual({ reason: 'damaged' });
      const refundEvent = (await merchantCall(platform.app, shop, 'GET', '/v1/events?limit=100'))
        .json()
        .data.find((event: { type: string }) => event.type === 'refund.succeeded');
      expect(refundEvent.data.object.metadata).toEqual({ reason: 'damaged' });
    });

    it('is stored with a payment and returned to its payer', async () => {
      const created = await call(platform.app, 'POST', '/v1/payments', {
        payerId: payer.id,
        password: payer.password,
        payeeId: shop.id,
        amount: 300,
        currency: 'EUR',
        deliverTo: 'first_terminal',
        metadata: { basket: '3 items' },
      });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toMatchObject({ object: 'payment', metadata: { basket: '3 items' } });
      const read = await operator('GET', `/v1/payments/${created.json().id}`);
      expect(read.json().metadata).toEqual({ basket: '3 items' });
      const without = await call(platform.app, 'POST', '/v1/payments', {
        payerId: payer.id,
        password: payer.password,
        payeeId: shop.id,
        amount: 301,
        currency: 'EUR',
        deliverTo: 'first_terminal',
      });
      expect(without.json().metadata).toEqual({});
    });

    const tooMany = Object.fromEntries(
      Array.from({ length: limits.metadataKeysMax + 1 }, (_, index) => [`k${index}`, 'v']),
    );
    const refusals: [string, unknown, string][] = [
      ['too many keys', tooMany, 'metadata'],
      ['a key too long', { ['k'.repeat(limits.metadataKeyLengthMax + 1)]: 'v' }, 'metadata'],
      ['an empty key', { '': 'v' }, 'metadata'],
      ['a key with a control character', { 'a\tb': 'v' }, 'metadata'],
      ['a value too long', { order: 'v'.repeat(limits.metadataValueLengthMax + 1) }, 'metadata.order'],
      ['a value that is not a string', { order: 17 }, 'metadata.order'],
      ['an array', ['order'], 'metadata'],
      ['a string', 'order', 'metadata'],
      ['null', null, 'metadata'],
    ];

    it.each(refusals)('refuses %s with metadata_invalid and creates nothing', async (_name, bad, param) => {
      const expectRefused = (answer: { statusCode: number; body: string; json(): { error: unknown } }) => {
        expect(answer.statusCode, answer.body).toBe(400);
        expect(answer.json().error).toMatchObject({ code: 'metadata_invalid', param });
      };
      const request = await createRequest(platform.app, shop, 900);
      const payment = (await payRequest(platform.app, payer, request.id)).json();
      await merchantCall(platform.app, shop, 'POST', `/v1/payment-requests/${request.id}/redeem`, {
        secondCode: await secondCode(payer, payment.firstCode),
      });
      await nothingChanges(async () => {
        expectRefused(
          await merchantCall(platform.app, shop, 'POST', '/v1/payment-requests', {
            amount: 500,
            currency: 'EUR',
            reference: 'order-bad-metadata',
            metadata: bad,
          }),
        );
        expectRefused(
          await merchantCall(platform.app, shop, 'POST', '/v1/refunds', {
            paymentId: payment.id,
            metadata: bad,
          }),
        );
        expectRefused(
          await call(platform.app, 'POST', '/v1/payments', {
            payerId: payer.id,
            password: payer.password,
            payeeId: shop.id,
            amount: 500,
            currency: 'EUR',
            deliverTo: 'first_terminal',
            metadata: bad,
          }),
        );
      });
    });
  });

  describe('query strings', () => {
    it('refuses an unknown parameter on a route that reads none, naming it, and on one that reads some', async () => {
      for (const [url, token] of [
        ['/v1/merchant?expand=keys', shop.apiKey],
        ['/v1/balance?currency=EUR&debug=1', shop.apiKey],
        [`/v1/payers/${payer.id}/balance?currency=EUR&at=now`, platform.operatorToken],
        ['/v1/operators?role=admin', platform.operatorToken],
      ] as const) {
        const refused = await call(platform.app, 'GET', url, undefined, { token });
        expect(refused.statusCode, url).toBe(400);
        const param = new URL(url, 'http://x').searchParams;
        const unknown = [...param.keys()].at(-1);
        expect(refused.json().error, url).toMatchObject({ code: 'invalid_request', param: unknown });
      }
      await nothingChanges(async () => {
        const refused = await operator('POST', '/v1/payees?dryRun=true', { id: 'query-payee', name: 'Q' });
        expect(refused.json().error).toMatchObject({ code: 'invalid_request', param: 'dryRun' });
      });
    });
  });
});
