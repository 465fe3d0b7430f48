// Proves refunds on both engines: full and partial, never more than is left, idempotent, only of the merchant's own succeeded payments, never overdrawing the merchant, with the money moving back in one ledger transfer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountId, fundingAccount, payeeAccount } from '../../src/services/ledger/accounts.js';
import { call, createFundedPayer, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';
import {
  createMerchant,
  createRequest,
  merchantCall,
  payRequest,
  secondCode,
  type TestMerchant,
} from './merchant-support.js';

describe.each(testEngines())('refunds on %s', (engine) => {
  let platform: TestPlatform;
  let payer: TestPayer;
  let shop: TestMerchant;
  let otherShop: TestMerchant;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    payer = await createFundedPayer(platform.app, platform.operatorToken, 'refund-payer', 100_000);
    shop = await createMerchant(platform.app, platform.operatorToken, 'refund-shop');
    otherShop = await createMerchant(platform.app, platform.operatorToken, 'refund-other');
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const payerAvailable = async () =>
    (
      await call(platform.app, 'GET', `/v1/payers/${payer.id}/balance?currency=EUR`, undefined, {
        token: platform.operatorToken,
      })
    ).json().available as number;
  const shopAvailable = async (merchant = shop) =>
    (await merchantCall(platform.app, merchant, 'GET', '/v1/balance?currency=EUR')).json()
      .available as number;
  const refund = (body: Record<string, unknown>, key?: string, merchant = shop) =>
    merchantCall(platform.app, merchant, 'POST', '/v1/refunds', body, key);

  /** A succeeded payment of `amount` to `merchant`, through a payment request and redemption. */
  async function succeededPayment(amount: number, merchant = shop): Promise<string> {
    const request = await createRequest(platform.app, merchant, amount);
    const payment = (await payRequest(platform.app, payer, request.id)).json();
    const redeemed = await merchantCall(
      platform.app,
      merchant,
      'POST',
      `/v1/payment-requests/${request.id}/redeem`,
      {
        secondCode: await secondCode(payer, payment.firstCode),
      },
    );
    expect(redeemed.statusCode, redeemed.body).toBe(200);
    return payment.id;
  }

  it('refunds a whole payment when no amount is given, moving the money back to the payer', async () => {
    const paymentId = await succeededPayment(1000);
    const [payerBefore, shopBefore] = [await payerAvailable(), await shopAvailable()];
    const created = await refund({ paymentId });
    expect(created.statusCode, created.body).toBe(201);
    const json = created.json();
    expect(json).toMatchObject({
      paymentId,
      amount: 1000,
      currency: 'EUR',
      status: 'succeeded',
      object: 'refund',
    });
    expect(await payerAvailable()).toBe(payerBefore + 1000);
    expect(await shopAvailable()).toBe(shopBefore - 1000);
    const shown = await merchantCall(platform.app, shop, 'GET', `/v1/refunds/${json.id}`);
    expect(shown.json()).toEqual(json);
    const transfers = await platform.test.database.query<{
      debit_account_id: string;
      credit_account_id: string;
      kind: string;
    }>('SELECT debit_account_id, credit_account_id, kind FROM transfers WHERE id = $1', [json.id]);
    expect(transfers).toEqual([
      {
        kind: 'single',
        debit_account_id: payeeAccount(shop.id, 'EUR').id,
        credit_account_id: accountId('payer', payer.id, 'EUR'),
      },
    ]);
    const events = (await merchantCall(platform.app, shop, 'GET', '/v1/events?limit=100')).json().data;
    expect(
      events.filter(
        (event: { type: string; data: { object: { id: string } } }) =>
          event.type === 'refund.succeeded' && event.data.object.id === json.id,
      ),
    ).toHaveLength(1);
  });

  it('refunds in parts, never more than is left, and refuses the excess without changing anything', async () => {
    const paymentId = await succeededPayment(1000);
    for (const amount of [300, 300]) expect((await refund({ paymentId, amount })).statusCode).toBe(201);
    const before = await snapshotTables(platform.test.database);
    const excess = await refund({ paymentId, amount: 401 });
    expect(excess.statusCode).toBe(409);
    expect(excess.json().error).toMatchObject({
      code: 'refund_exceeds_remaining',
      param: 'amount',
      remaining: 400,
    });
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
    expect((await refund({ paymentId })).json()).toMatchObject({ amount: 400 });
    const nothingLeft = await refund({ paymentId, amount: 1 });
    expect(nothingLeft.json().error).toMatchObject({ code: 'refund_exceeds_remaining', remaining: 0 });
    const zero = await refund({ paymentId, amount: 0 });
    expect(zero.statusCode).toBe(400);
    expect(zero.json().error).toMatchObject({ code: 'invalid_request', param: 'amount' });
  });

  it('is idempotent: the same key gives the same refund once, another request with it is refused', async () => {
    const paymentId = await succeededPayment(800);
    const payerBefore = await payerAvailable();
    const first = await refund({ paymentId, amount: 200 }, 'refund-key-1');
    const again = await refund({ paymentId, amount: 200 }, 'refund-key-1');
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await payerAvailable()).toBe(payerBefore + 200);
    const reused = await refund({ paymentId, amount: 300 }, 'refund-key-1');
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.code).toBe('idempotency_key_reused');
    // Even if the stored response were lost, the refund's id is derived from the key: a retry finds it.
    const direct = await platform.services.refunds.create(
      shop.id,
      { paymentId, amount: 200n },
      `merchant:${shop.id}:refund-key-1`,
    );
    expect(direct.id).toBe(first.json().id);
    expect(await payerAvailable()).toBe(payerBefore + 200);
  });

  it("refuses another merchant's payment, an unknown one and one not succeeded, changing nothing", async () => {
    const paymentId = await succeededPayment(500);
    const request = await createRequest(platform.app, shop, 600);
    const pending = (await payRequest(platform.app, payer, request.id)).json();
    const before = await snapshotTables(platform.test.database);
    const foreign = await refund({ paymentId }, undefined, otherShop);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error).toMatchObject({ code: 'payment_not_found', param: 'paymentId' });
    const unknown = await refund({ paymentId: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.json().error.code).toBe('payment_not_found');
    const notYet = await refund({ paymentId: pending.id });
    expect(notYet.statusCode).toBe(409);
    expect(notYet.json().error).toMatchObject({
      code: 'payment_not_refundable',
      status: 'requires_approval',
    });
    expect((await merchantCall(platform.app, otherShop, 'GET', '/v1/refunds')).json().data).toEqual([]);
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
  });

  it('never overdraws the merchant: a refund larger than its balance is refused and changes nothing', async () => {
    const paymentId = await succeededPayment(700, otherShop);
    // The merchant's money leaves its account (as a payout would), so the payment can no longer be refunded.
    const available = await shopAvailable(otherShop);
    const [payout] = await platform.services.ledger.createTransfers([
      {
        id: '6f0b7c1e-5a5c-4e1a-9a43-3f8f8e0c0a11',
        kind: 'single',
        debitAccountId: payeeAccount(otherShop.id, 'EUR').id,
        creditAccountId: fundingAccount('EUR').id,
        amount: BigInt(available - 100),
      },
    ]);
    expect(payout?.status).toBe('created');
    const before = await snapshotTables(platform.test.database);
    const refused = await refund({ paymentId }, undefined, otherShop);
    expect(refused.statusCode).toBe(402);
    expect(refused.json().error.code).toBe('merchant_balance_insufficient');
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
    expect((await refund({ paymentId, amount: 100 }, undefined, otherShop)).statusCode).toBe(201);
  });

  it('serializes concurrent refunds of one payment: only what is left is ever refunded', async () => {
    const paymentId = await succeededPayment(900);
    const answers = await Promise.all([
      refund({ paymentId, amount: 600 }),
      refund({ paymentId, amount: 600 }),
    ]);
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([201, 409]);
    const listed = (await merchantCall(platform.app, shop, 'GET', '/v1/refunds?limit=100')).json().data as {
      paymentId: string;
      amount: number;
    }[];
    expect(listed.filter((item) => item.paymentId === paymentId).map((item) => item.amount)).toEqual([600]);
  });

  it('lists refunds with cursor pagination, newest first', async () => {
    const page = (await merchantCall(platform.app, shop, 'GET', '/v1/refunds?limit=3')).json();
    expect(page).toMatchObject({ object: 'list', hasMore: true });
    expect(page.data).toHaveLength(3);
    const rest = (
      await merchantCall(platform.app, shop, 'GET', `/v1/refunds?limit=100&starting_after=${page.data[2].id}`)
    ).json();
    const all = [...page.data, ...rest.data].map((item: { id: string }) => item.id);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(6);
  });

  it('leaves the ledger verified', async () => {
    const ledger = await platform.services.ledger.verify();
    expect(ledger.checks.filter((check) => !check.ok)).toEqual([]);
    expect((await platform.services.audit.verify()).ok).toBe(true);
  });
});
