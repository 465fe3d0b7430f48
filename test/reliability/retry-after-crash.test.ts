// Proves on both engines that a request whose work committed but whose answer was lost to a crash (its idempotency key left in progress) is retried safely once the key's lease runs out: the payment or deposit is found, not made again, and nothing is held twice; and that stored answers are sealed, never kept in clear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpLimits } from '../../src/domain/limits.js';
import { call, createFundedPayer, createPayee, secondCodeFor, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

describe.each(testEngines())('retries after a crash on %s', (engine) => {
  let platform: TestPlatform;
  let payer: TestPayer;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    await createPayee(platform.app, platform.operatorToken, 'shop');
    payer = await createFundedPayer(platform.app, platform.operatorToken, 'crashed', 10_000);
  });
  afterAll(async () => {
    await platform?.dispose();
  });

  /** What a `kill -9` between the commit and the recording of the answer leaves behind. */
  async function loseTheAnswer(key: string): Promise<void> {
    const updated = await platform.test.database.query(
      `UPDATE idempotency_keys
          SET status = 'in_progress', response_status = NULL, response_body = NULL, completed_at_ms = NULL,
              locked_until_ms = $2
        WHERE key = $1 RETURNING key`,
      [key, platform.clock.nowMs() + httpLimits.idempotencyLeaseMs],
    );
    expect(updated).toHaveLength(1);
  }

  const create = (key: string) =>
    call(
      platform.app,
      'POST',
      '/v1/payments',
      {
        payerId: payer.id,
        password: payer.password,
        payeeId: 'shop',
        amount: 250,
        currency: 'EUR',
        deliverTo: 'first_terminal',
      },
      { headers: { 'idempotency-key': key } },
    );

  it('finds the payment created before the crash instead of holding the amount again', async () => {
    const first = await create('crash-create');
    expect(first.statusCode, first.body).toBe(201);
    const { id, firstCode } = first.json() as { id: string; firstCode: string };
    const [stored] = await platform.test.database.query<{ response_body: string }>(
      `SELECT response_body FROM idempotency_keys WHERE key = 'crash-create'`,
    );
    expect(stored?.response_body.startsWith('v1.')).toBe(true);
    expect(stored?.response_body).not.toContain(firstCode);
    await loseTheAnswer('crash-create');
    const during = await create('crash-create');
    expect(during.statusCode).toBe(409);
    expect(during.json().error.code).toBe('idempotency_key_in_use');
    platform.clock.advance(httpLimits.idempotencyLeaseMs + 1);
    const retried = await create('crash-create');
    expect(retried.statusCode, retried.body).toBe(201);
    expect(retried.json()).toMatchObject({ id, status: 'requires_approval' });
    const holds = await platform.test.database.query(
      `SELECT id FROM transfers WHERE kind = 'pending' AND reference = $1`,
      [`payment:${id}`],
    );
    expect(holds).toHaveLength(1);
    const balance = await call(
      platform.app,
      'GET',
      `/v1/payers/${payer.id}/balance?currency=EUR`,
      undefined,
      {
        token: platform.operatorToken,
      },
    );
    expect(balance.json()).toMatchObject({ held: 250 });
    // The code from the first answer still approves the one payment.
    const approved = await call(platform.app, 'POST', `/v1/payments/${id}/approve`, {
      secondCode: await secondCodeFor(payer, firstCode),
    });
    expect(approved.statusCode, approved.body).toBe(200);
  });

  it('answers a retried approval with the payment already succeeded, and posts once', async () => {
    const created = (await create('crash-approve-payment')).json() as { id: string; firstCode: string };
    const secondCode = await secondCodeFor(payer, created.firstCode);
    const approve = () =>
      call(
        platform.app,
        'POST',
        `/v1/payments/${created.id}/approve`,
        { secondCode },
        {
          headers: { 'idempotency-key': 'crash-approve' },
        },
      );
    expect((await approve()).statusCode).toBe(200);
    await loseTheAnswer('crash-approve');
    platform.clock.advance(httpLimits.idempotencyLeaseMs + 1);
    const retried = await approve();
    expect(retried.statusCode).toBe(409);
    expect(retried.json().error).toMatchObject({ code: 'payment_not_approvable', status: 'succeeded' });
    const posts = await platform.test.database.query(
      `SELECT t.id FROM transfers t JOIN payments p ON p.hold_transfer_id = t.pending_id
        WHERE p.id = $1 AND t.kind = 'post'`,
      [created.id],
    );
    expect(posts).toHaveLength(1);
  });

  it('finds the deposit made before the crash instead of crediting twice', async () => {
    const deposit = () =>
      call(
        platform.app,
        'POST',
        '/v1/deposits',
        { payerId: payer.id, amount: 77, currency: 'USD' },
        {
          token: platform.operatorToken,
          headers: { 'idempotency-key': 'crash-deposit' },
        },
      );
    const first = await deposit();
    expect(first.statusCode).toBe(201);
    await loseTheAnswer('crash-deposit');
    platform.clock.advance(httpLimits.idempotencyLeaseMs + 1);
    const retried = await deposit();
    expect(retried.statusCode, retried.body).toBe(201);
    expect(retried.json().id).toBe(first.json().id);
    const balance = await call(
      platform.app,
      'GET',
      `/v1/payers/${payer.id}/balance?currency=USD`,
      undefined,
      {
        token: platform.operatorToken,
      },
    );
    expect(balance.json()).toMatchObject({ available: 77 });
  });
});
