// Proves on both engines that an id derived from an Idempotency-Key cannot be computed by whoever guesses the key: it is keyed with the platform's key, so two platforms derive different ids, while a retry on one platform still lands on the same id.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMerchant, merchantCall, type TestMerchant } from '../merchant/merchant-support.js';
import { call, createFundedPayer, createPayee } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

/** The former derivation: an unkeyed SHA-256 of the parts, laid out as a UUIDv8. Anyone could compute it. */
function unkeyedId(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}`);
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const uuidV8Pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe.each(testEngines())('ids derived from an Idempotency-Key on %s', (engine) => {
  // Two platforms with different master keys; each has the same payer, payee and merchant ids.
  const platforms: TestPlatform[] = [];
  const merchants: TestMerchant[] = [];

  beforeAll(async () => {
    for (let index = 0; index < 2; index++) {
      const platform = await startTestPlatform(engine);
      await createFundedPayer(platform.app, platform.operatorToken, 'alice', 10_000);
      await createPayee(platform.app, platform.operatorToken, 'shop');
      merchants.push(await createMerchant(platform.app, platform.operatorToken, 'webshop'));
      platforms.push(platform);
    }
    expect(platforms[0]!.masterKeyHex).not.toBe(platforms[1]!.masterKeyHex);
  });
  afterAll(async () => {
    for (const platform of platforms) await platform.dispose();
  });

  const payment = {
    payerId: 'alice',
    password: 'correct horse battery',
    payeeId: 'shop',
    amount: 100,
    currency: 'EUR',
    deliverTo: 'first_terminal',
  };
  const pay = (platform: TestPlatform, key: string) =>
    call(platform.app, 'POST', '/v1/payments', payment, { headers: { 'idempotency-key': key } });

  it("keys a payment's id: not the unkeyed hash of the key, another on another platform, the same on retry", async () => {
    const key = 'order-1001';
    const [first, retry, elsewhere] = [
      await pay(platforms[0]!, key),
      await pay(platforms[0]!, key),
      await pay(platforms[1]!, key),
    ];
    expect(first.statusCode, first.body).toBe(201);
    expect(elsewhere.statusCode, elsewhere.body).toBe(201);
    const id = first.json().id as string;
    expect(id).toMatch(uuidV8Pattern);
    expect(id).not.toBe(unkeyedId('payment', `payer:alice:${key}`));
    expect(retry.json().id).toBe(id);
    expect(elsewhere.json().id).toMatch(uuidV8Pattern);
    expect(elsewhere.json().id).not.toBe(id);
    // The derivation itself, not only the stored response, gives the retry the same id.
    const again = await platforms[0]!.services.payments.create({
      payerId: 'alice',
      payeeId: 'shop',
      amount: 100n,
      currency: 'EUR',
      deliverTo: 'first_terminal',
      idempotencyKey: `payer:alice:${key}`,
    });
    expect(again.payment.id).toBe(id);
    const rows = await platforms[0]!.test.database.query('SELECT id FROM payments WHERE id = $1', [id]);
    expect(rows).toHaveLength(1);
  });

  it("keys a payment request's id, so its checkout page cannot be found from a guessed key", async () => {
    const key = 'invoice-2001';
    const body = { amount: 500, currency: 'EUR', reference: 'invoice-2001', description: 'Private order' };
    const create = (index: number) =>
      merchantCall(platforms[index]!.app, merchants[index]!, 'POST', '/v1/payment-requests', body, key);
    const [first, retry, elsewhere] = [await create(0), await create(0), await create(1)];
    expect(first.statusCode, first.body).toBe(201);
    expect(elsewhere.statusCode, elsewhere.body).toBe(201);
    const id = first.json().id as string;
    const guessed = unkeyedId('payment_request', 'webshop', `merchant:webshop:${key}`);
    expect(id).toMatch(uuidV8Pattern);
    expect(id).not.toBe(guessed);
    expect(retry.json().id).toBe(id);
    expect(elsewhere.json().id).not.toBe(id);
    const direct = await platforms[0]!.services.paymentRequests.create(
      'webshop',
      { amount: 500n, currency: 'EUR', reference: 'invoice-2001' },
      `merchant:webshop:${key}`,
    );
    expect(direct.id).toBe(id);
    const page = await platforms[0]!.app.inject({ method: 'GET', url: `/checkout/${guessed}` });
    expect(page.statusCode).toBe(404);
    expect(page.body).not.toContain('Private order');
  });
});
