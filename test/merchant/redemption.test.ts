// Proves embodiment 3 through the API on both engines: a merchant redeems the payer's second code for a payment request, wrong codes count against the payer, and a request is paid at most once, never after expiry, never by another merchant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createFundedPayer, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';
import {
  createMerchant,
  createRequest,
  expectNothingChangedButSignIns,
  firstCodeDeliveredTo,
  markDatabase,
  merchantCall,
  payRequest,
  secondCode,
  type TestMerchant,
} from './merchant-support.js';

describe.each(testEngines())('merchant redemption (embodiment 3) on %s', (engine) => {
  let platform: TestPlatform;
  let alice: TestPayer;
  let bob: TestPayer;
  let shop: TestMerchant;
  let otherShop: TestMerchant;

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { codeTtlSeconds: 120 });
    alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice-r3', 100_000);
    bob = await createFundedPayer(platform.app, platform.operatorToken, 'bob-r3', 100_000);
    shop = await createMerchant(platform.app, platform.operatorToken, 'till-shop');
    otherShop = await createMerchant(platform.app, platform.operatorToken, 'other-till');
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const payerBalance = async (payer: TestPayer) =>
    (
      await call(platform.app, 'GET', `/v1/payers/${payer.id}/balance?currency=EUR`, undefined, {
        token: platform.operatorToken,
      })
    ).json() as { available: number; held: number };
  const merchantBalance = async (merchant: TestMerchant) =>
    (await merchantCall(platform.app, merchant, 'GET', '/v1/balance?currency=EUR')).json() as {
      available: number;
      incoming: number;
    };
  const redeem = (merchant: TestMerchant, requestId: string, code: string) =>
    merchantCall(platform.app, merchant, 'POST', `/v1/payment-requests/${requestId}/redeem`, {
      secondCode: code,
    });

  /** The payer starts paying with the first code sent to the second terminal; returns payment id and second code. */
  async function startOnSecondTerminal(payer: TestPayer, requestId: string, sessionToken?: string) {
    const paid = await payRequest(platform.app, payer, requestId, 'second_terminal', sessionToken);
    expect(paid.statusCode, paid.body).toBe(201);
    const payment = paid.json();
    expect(payment.firstCode).toBeUndefined();
    const firstCode = await firstCodeDeliveredTo(
      platform.test.database,
      platform.services.deps.secrets,
      payment.id,
    );
    return { paymentId: payment.id as string, code: await secondCode(payer, firstCode) };
  }

  it('pays a request when the merchant redeems the code the payer read off the second terminal', async () => {
    const payerBefore = await payerBalance(alice);
    const shopBefore = await merchantBalance(shop);
    const request = await createRequest(platform.app, shop, 1250);
    expect(request).toMatchObject({ status: 'open', amount: 1250 });
    const { paymentId, code } = await startOnSecondTerminal(alice, request.id);
    expect(await merchantBalance(shop)).toMatchObject({ incoming: shopBefore.incoming + 1250 });
    const redeemed = await redeem(shop, request.id, code);
    expect(redeemed.statusCode, redeemed.body).toBe(200);
    expect(redeemed.json()).toMatchObject({ id: request.id, status: 'paid', paymentId });
    const shown = await merchantCall(platform.app, shop, 'GET', `/v1/payment-requests/${request.id}`);
    expect(shown.json()).toMatchObject({ status: 'paid', paymentId });
    expect(await merchantBalance(shop)).toEqual({
      ...shopBefore,
      available: shopBefore.available + 1250,
      object: 'balance',
      currency: 'EUR',
    });
    expect(await payerBalance(alice)).toMatchObject({
      available: payerBefore.available - 1250,
      held: payerBefore.held,
    });
  });

  it('pays a request when the first code went to the first terminal and the payer typed it into the second', async () => {
    const request = await createRequest(platform.app, shop, 300);
    const paid = await payRequest(platform.app, alice, request.id, 'first_terminal');
    expect(paid.statusCode, paid.body).toBe(201);
    const payment = paid.json();
    expect(payment).toMatchObject({
      payeeId: shop.id,
      amount: 300,
      currency: 'EUR',
      paymentRequestId: request.id,
    });
    const redeemed = await redeem(shop, request.id, await secondCode(alice, payment.firstCode));
    expect(redeemed.statusCode, redeemed.body).toBe(200);
    expect(redeemed.json()).toMatchObject({ status: 'paid', paymentId: payment.id });
  });

  it('counts wrong codes against the payment and the payer exactly like the payer’s own approvals', async () => {
    const request = await createRequest(platform.app, shop, 410);
    const before = await payerBalance(bob);
    // A session, because a password sign-in is a success that would start the consecutive count again.
    const session = await call(platform.app, 'POST', '/v1/sessions', {
      payerId: bob.id,
      password: bob.password,
    });
    const token = session.json().token as string;
    const first = await startOnSecondTerminal(bob, request.id, token);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const wrong = await redeem(shop, request.id, '00000000');
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error.code).toBe('approval_failed');
    }
    const payment = await call(platform.app, 'GET', `/v1/payments/${first.paymentId}`, undefined, {
      token: platform.operatorToken,
    });
    expect(payment.json()).toMatchObject({ status: 'failed', failedApprovals: 3 });
    expect(await payerBalance(bob)).toEqual(before);
    // The request is still open: the payer may start again, and two more wrong codes lock the payer.
    expect(
      (await merchantCall(platform.app, shop, 'GET', `/v1/payment-requests/${request.id}`)).json().status,
    ).toBe('open');
    const second = await startOnSecondTerminal(bob, request.id, token);
    for (let attempt = 4; attempt <= 5; attempt++) {
      expect((await redeem(shop, request.id, '11111111')).statusCode).toBe(401);
    }
    const locked = await redeem(shop, request.id, second.code);
    expect(locked.statusCode).toBe(423);
    expect(locked.json().error.code).toBe('payer_locked');
    const [attempts] = await platform.test.database.query<{ locked_until_ms: bigint | null }>(
      'SELECT locked_until_ms FROM authentication_failures WHERE subject = $1',
      [bob.id],
    );
    expect(Number(attempts?.locked_until_ms ?? 0)).toBeGreaterThan(platform.clock.nowMs());
    await call(platform.app, 'POST', `/v1/payers/${bob.id}/unlock`, undefined, {
      token: platform.operatorToken,
    });
    const redeemed = await redeem(shop, request.id, second.code);
    expect(redeemed.statusCode, redeemed.body).toBe(200);
    expect(redeemed.json()).toMatchObject({ status: 'paid', paymentId: second.paymentId });
  });

  it('answers 409 payment_request_no_pending_payment before the payer started, and changes nothing', async () => {
    const request = await createRequest(platform.app, shop, 500);
    const before = await snapshotTables(platform.test.database);
    const early = await redeem(shop, request.id, '12345678');
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('payment_request_no_pending_payment');
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
  });

  it('pays a request at most once: a second redemption or a second payment is refused and changes nothing', async () => {
    const request = await createRequest(platform.app, shop, 640);
    const { code } = await startOnSecondTerminal(alice, request.id);
    expect((await redeem(shop, request.id, code)).statusCode).toBe(200);
    const before = await markDatabase(platform.test.database);
    const again = await redeem(shop, request.id, code);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'payment_request_not_open', status: 'paid' });
    const payAgain = await payRequest(platform.app, bob, request.id);
    expect(payAgain.statusCode).toBe(409);
    expect(payAgain.json().error).toMatchObject({ code: 'payment_request_not_open', status: 'paid' });
    await expectNothingChangedButSignIns(platform.test.database, before);
  });

  it('refuses a redemption after the request and its payment expired, and changes nothing', async () => {
    const request = await createRequest(platform.app, shop, 720, { expiresInSeconds: 60 });
    const { code } = await startOnSecondTerminal(alice, request.id);
    platform.clock.advance(121_000);
    await platform.services.payments.expireDue();
    expect(await platform.services.paymentRequests.expireDue()).toBeGreaterThanOrEqual(1);
    const before = await markDatabase(platform.test.database);
    const late = await redeem(shop, request.id, code);
    expect(late.statusCode).toBe(409);
    expect(late.json().error).toMatchObject({ code: 'payment_request_not_open', status: 'expired' });
    const payLate = await payRequest(platform.app, bob, request.id);
    expect(payLate.statusCode).toBe(409);
    await expectNothingChangedButSignIns(platform.test.database, before);
  });

  it('keeps a request open past its expiry while a payment started in time awaits approval', async () => {
    const request = await createRequest(platform.app, shop, 730, { expiresInSeconds: 60 });
    const { code } = await startOnSecondTerminal(alice, request.id);
    platform.clock.advance(61_000);
    expect(await platform.services.paymentRequests.expireDue()).toBe(0);
    const late = await payRequest(platform.app, bob, request.id);
    expect(late.json().error).toMatchObject({ code: 'payment_request_not_open', status: 'expired' });
    const redeemed = await redeem(shop, request.id, code);
    expect(redeemed.statusCode, redeemed.body).toBe(200);
    expect(redeemed.json().status).toBe('paid');
  });

  it('answers another merchant’s redemption with 404 and changes nothing, not even the payer’s counters', async () => {
    const request = await createRequest(platform.app, shop, 810);
    const { code } = await startOnSecondTerminal(alice, request.id);
    const before = await snapshotTables(platform.test.database);
    for (const attempt of [code, '00000000']) {
      const foreign = await redeem(otherShop, request.id, attempt);
      expect(foreign.statusCode).toBe(404);
      expect(foreign.json().error.code).toBe('payment_request_not_found');
    }
    const peek = await merchantCall(platform.app, otherShop, 'GET', `/v1/payment-requests/${request.id}`);
    expect(peek.statusCode).toBe(404);
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
    expect((await redeem(shop, request.id, code)).statusCode).toBe(200);
  });

  it('lets the payer change neither payee, amount nor currency of a request', async () => {
    const request = await createRequest(platform.app, shop, 900);
    const before = await snapshotTables(platform.test.database);
    for (const [field, value] of [
      ['amount', 1],
      ['currency', 'USD'],
      ['payeeId', otherShop.id],
    ] as const) {
      const changed = await call(platform.app, 'POST', '/v1/payments', {
        payerId: alice.id,
        password: alice.password,
        paymentRequestId: request.id,
        deliverTo: 'first_terminal',
        [field]: value,
      });
      expect(changed.statusCode).toBe(400);
      expect(changed.json().error).toMatchObject({ code: 'invalid_request', param: field });
    }
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
  });

  it('lets one payment at a time await approval for a request; another payer is refused with no hold taken', async () => {
    const request = await createRequest(platform.app, shop, 950);
    const { code } = await startOnSecondTerminal(alice, request.id);
    const before = await markDatabase(platform.test.database);
    const second = await payRequest(platform.app, bob, request.id);
    expect(second.statusCode).toBe(409);
    expect(second.json().error.code).toBe('payment_request_in_progress');
    // Bob's sign-in is audited; the refused payment left no row and no hold.
    await expectNothingChangedButSignIns(platform.test.database, before);
    expect((await redeem(shop, request.id, code)).statusCode).toBe(200);
  });

  it('lets exactly one of two concurrent redemptions of the right code succeed, posting once', async () => {
    const before = await merchantBalance(shop);
    const request = await createRequest(platform.app, shop, 77);
    const { code } = await startOnSecondTerminal(alice, request.id);
    const answers = await Promise.all([redeem(shop, request.id, code), redeem(shop, request.id, code)]);
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 409]);
    expect((await merchantBalance(shop)).available).toBe(before.available + 77);
  });

  it('leaves the ledger and the audit chain verified', async () => {
    const ledger = await platform.services.ledger.verify();
    expect(ledger.checks.filter((check) => !check.ok)).toEqual([]);
    expect((await platform.services.audit.verify()).ok).toBe(true);
  });
});
