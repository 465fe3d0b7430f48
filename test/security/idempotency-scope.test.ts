// Proves on both engines that nobody can take a payer's idempotency key first: a key sent with a wrong
// password (or with another payer's right one) is not claimed in the payer's key space, so the payer's own
// request with that key still runs, and its retry is still answered from the first result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createFundedPayer, createPayee, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

describe.each(testEngines())('idempotency key spaces on %s', (engine) => {
  let platform: TestPlatform;
  let alice: TestPayer;
  let mallory: TestPayer;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 10_000);
    mallory = await createFundedPayer(platform.app, platform.operatorToken, 'mallory', 10_000);
    await createPayee(platform.app, platform.operatorToken, 'shop');
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const payment = (who: { id: string; password: string }, amount: number) => ({
    payerId: who.id,
    password: who.password,
    payeeId: 'shop',
    amount,
    currency: 'EUR',
    deliverTo: 'first_terminal',
  });
  const post = (url: string, body: object, key: string) =>
    call(platform.app, 'POST', url, body, { headers: { 'idempotency-key': key } });

  it('does not let a wrong password or another payer claim a payment key first', async () => {
    const key = 'order-4711';
    const squat = await post('/v1/payments', payment({ id: alice.id, password: 'not her password' }, 1), key);
    expect(squat.statusCode).toBe(401);
    const other = await post('/v1/payments', payment(mallory, 2), key);
    expect(other.statusCode).toBe(201);

    const own = await post('/v1/payments', payment(alice, 300), key);
    expect(own.statusCode, own.body).toBe(201);
    expect(own.json()).toMatchObject({ payerId: alice.id, amount: 300 });
    const retry = await post('/v1/payments', payment(alice, 300), key);
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json().id).toBe(own.json().id);
  });

  it('does not let a wrong password claim a sign-in key first', async () => {
    const key = 'sign-in-1';
    const squat = await post('/v1/sessions', { payerId: alice.id, password: 'not her password' }, key);
    expect(squat.statusCode).toBe(401);
    const own = await post('/v1/sessions', { payerId: alice.id, password: alice.password }, key);
    expect(own.statusCode, own.body).toBe(201);
    expect(own.json().payerId).toBe(alice.id);
  });
});
