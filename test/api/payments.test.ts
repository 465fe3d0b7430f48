// Proves the method end to end over the HTTP API on both engines: both embodiments, both deliveries, dynamic linking, replays, expiry and cancel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createFundedPayer, createPayee, secondCodeFor, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

describe.each(testEngines())('payments on %s', (engine) => {
  let platform: TestPlatform;
  let alice: TestPayer;

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { codeTtlSeconds: 60 });
    alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 10_000);
    await createPayee(platform.app, platform.operatorToken, 'shop');
    await createPayee(platform.app, platform.operatorToken, 'other-shop', 'Other Shop');
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const balance = async (payerId = alice.id) =>
    (
      await call(platform.app, 'GET', `/v1/payers/${payerId}/balance?currency=EUR`, undefined, {
        token: platform.operatorToken,
      })
    ).json();
  const payeeBalance = async (payeeId = 'shop') =>
    (
      await call(platform.app, 'GET', `/v1/payees/${payeeId}/balance?currency=EUR`, undefined, {
        token: platform.operatorToken,
      })
    ).json();

  async function pay(amount: number, payeeId = 'shop', deliverTo = 'first_terminal') {
    const response = await call(platform.app, 'POST', '/v1/payments', {
      payerId: alice.id,
      password: alice.password,
      payeeId,
      amount,
      currency: 'EUR',
      deliverTo,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as {
      id: string;
      status: string;
      firstCode?: string;
      amount: number;
      expiresAt: string;
    };
  }

  it('tells a caller who holds only the codes the outcome, never the payer; the payer and the operator see all', async () => {
    const anonymous = await pay(10);
    const anonymousAnswer = await call(platform.app, 'POST', `/v1/payments/${anonymous.id}/approve`, {
      secondCode: await secondCodeFor(alice, anonymous.firstCode!),
    });
    expect(anonymousAnswer.statusCode).toBe(200);
    expect(anonymousAnswer.json()).toEqual({ id: anonymous.id, object: 'payment', status: 'succeeded' });
    expect(anonymousAnswer.body).not.toContain(alice.id);

    const session = (
      await call(platform.app, 'POST', '/v1/sessions', { payerId: alice.id, password: alice.password })
    ).json() as { token: string };
    const own = await pay(11);
    const ownAnswer = await call(
      platform.app,
      'POST',
      `/v1/payments/${own.id}/approve`,
      { secondCode: await secondCodeFor(alice, own.firstCode!) },
      { token: session.token },
    );
    expect(ownAnswer.json()).toMatchObject({
      id: own.id,
      status: 'succeeded',
      payerId: alice.id,
      amount: 11,
    });

    const operators = await pay(12);
    const operatorAnswer = await call(
      platform.app,
      'POST',
      `/v1/payments/${operators.id}/approve`,
      { secondCode: await secondCodeFor(alice, operators.firstCode!) },
      { token: platform.operatorToken },
    );
    expect(operatorAnswer.json()).toMatchObject({ id: operators.id, payerId: alice.id, amount: 12 });
  });

  it('refuses an approval that names a dead session or a wrong token, and approves nothing', async () => {
    const payment = await pay(13);
    const secondCode = await secondCodeFor(alice, payment.firstCode!);
    const session = (
      await call(platform.app, 'POST', '/v1/sessions', { payerId: alice.id, password: alice.password })
    ).json() as { token: string };
    const revoked = await call(platform.app, 'POST', '/v1/sessions/current/revoke', undefined, {
      token: session.token,
    });
    expect(revoked.statusCode).toBe(200);
    const before = [await balance(), await payeeBalance()];
    const headers = { 'idempotency-key': `dead-session-${engine}` };
    for (const token of [session.token, 'not-a-token-of-anyone']) {
      const refused = await call(
        platform.app,
        'POST',
        `/v1/payments/${payment.id}/approve`,
        { secondCode },
        { token, headers },
      );
      expect(refused.statusCode, refused.body).toBe(401);
      expect(refused.json().error.code).toBe('authentication_required');
    }
    // The refusal is the key's answer: a retry replays it, and nothing was approved.
    const retried = await call(
      platform.app,
      'POST',
      `/v1/payments/${payment.id}/approve`,
      { secondCode },
      { token: session.token, headers },
    );
    expect(retried.statusCode).toBe(401);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    const read = await call(platform.app, 'GET', `/v1/payments/${payment.id}`, undefined, {
      token: platform.operatorToken,
    });
    expect(read.json().status).toBe('requires_approval');
    expect([await balance(), await payeeBalance()]).toEqual(before);
    // The codes still approve, for a caller who names nobody.
    const approved = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
    expect(approved.json()).toEqual({ id: payment.id, object: 'payment', status: 'succeeded' });
  });

  it('holds the amount and approves with the second code (embodiment 1)', async () => {
    const before = await balance();
    const payment = await pay(500);
    expect(payment).toMatchObject({ status: 'requires_approval', amount: 500 });
    expect(payment.firstCode).toMatch(/^[0-9]{8}$/);
    expect(await balance()).toMatchObject({ available: before.available - 500, held: before.held + 500 });
    const secondCode = await secondCodeFor(alice, payment.firstCode!);
    const approved = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ id: payment.id, status: 'succeeded' });
    expect(await balance()).toMatchObject({ available: before.available - 500, held: before.held });
    expect((await payeeBalance()).available).toBeGreaterThanOrEqual(500);
  });

  it('approves with the first code and the verification code (embodiment 2)', async () => {
    const payment = await pay(100);
    const approved = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, {
      firstCode: payment.firstCode,
      verificationCode: alice.verificationCode,
    });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().status).toBe('succeeded');
  });

  it('queues the first code for the second terminal and never returns it', async () => {
    const payment = await pay(50, 'shop', 'second_terminal');
    expect(payment.firstCode).toBeUndefined();
    const rows = await platform.test.database.query<{ channel: string; payload_sealed: string }>(
      'SELECT channel, payload_sealed FROM deliveries WHERE payment_id = $1',
      [payment.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.channel).toBe('second_terminal');
    expect(rows[0]!.payload_sealed).not.toContain(payment.id);
    await call(platform.app, 'POST', `/v1/payments/${payment.id}/cancel`, {
      payerId: alice.id,
      password: alice.password,
    });
  });

  it('never lets a second code for one payment approve another (dynamic linking)', async () => {
    const first = await pay(120);
    const other = await pay(130, 'other-shop');
    const codeForFirst = await secondCodeFor(alice, first.firstCode!);
    const before = await balance();
    const wrong = await call(platform.app, 'POST', `/v1/payments/${other.id}/approve`, {
      secondCode: codeForFirst,
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('approval_failed');
    expect(await balance()).toEqual(before);
    const embodiment2 = await call(platform.app, 'POST', `/v1/payments/${other.id}/approve`, {
      firstCode: first.firstCode,
      verificationCode: alice.verificationCode,
    });
    expect(embodiment2.json().error.code).toBe('approval_failed');
    const right = await call(platform.app, 'POST', `/v1/payments/${first.id}/approve`, {
      secondCode: codeForFirst,
    });
    expect(right.statusCode).toBe(200);
    await call(platform.app, 'POST', `/v1/payments/${other.id}/cancel`, {
      payerId: alice.id,
      password: alice.password,
    });
  });

  it('answers a replayed approval with 409 and leaves the ledger alone', async () => {
    const payment = await pay(70);
    const secondCode = await secondCodeFor(alice, payment.firstCode!);
    expect(
      (await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode })).statusCode,
    ).toBe(200);
    const before = [await balance(), await payeeBalance()];
    const replay = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
    expect(replay.statusCode).toBe(409);
    expect(replay.json().error).toMatchObject({ code: 'payment_not_approvable', status: 'succeeded' });
    expect([await balance(), await payeeBalance()]).toEqual(before);
  });

  it('expires a payment through the sweeper, voids its hold, and refuses a late approval', async () => {
    const before = await balance();
    const payment = await pay(90);
    const secondCode = await secondCodeFor(alice, payment.firstCode!);
    platform.clock.advance(60_000);
    expect(await platform.services.payments.expireDue()).toBeGreaterThanOrEqual(1);
    expect(await balance()).toEqual(before);
    const late = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
    expect(late.statusCode).toBe(409);
    expect(late.json().error.status).toBe('expired');
    expect(await balance()).toEqual(before);
  });

  it('refuses an approval that arrives after expiry even before the sweeper ran', async () => {
    const before = await balance();
    const payment = await pay(95);
    const secondCode = await secondCodeFor(alice, payment.firstCode!);
    platform.clock.advance(60_001);
    const late = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
    expect(late.statusCode).toBe(409);
    expect(late.json().error.status).toBe('expired');
    expect(await balance()).toEqual(before);
  });

  it('cancels an open payment, voids the hold, and then refuses approval', async () => {
    const before = await balance();
    const payment = await pay(80);
    const canceled = await call(platform.app, 'POST', `/v1/payments/${payment.id}/cancel`, {
      payerId: alice.id,
      password: alice.password,
    });
    expect(canceled.statusCode, canceled.body).toBe(200);
    expect(canceled.json().status).toBe('canceled');
    expect(await balance()).toEqual(before);
    const secondCode = await secondCodeFor(alice, payment.firstCode!);
    const late = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
    expect(late.statusCode).toBe(409);
    expect(late.json().error.status).toBe('canceled');
  });

  it('fails a payment after three wrong approvals and voids its hold', async () => {
    const before = await balance();
    const payment = await pay(60);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const wrong = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, {
        secondCode: '00000000',
      });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error.code).toBe('approval_failed');
    }
    const shown = await call(platform.app, 'GET', `/v1/payments/${payment.id}`, undefined, {
      token: platform.operatorToken,
    });
    expect(shown.json()).toMatchObject({ status: 'failed', failedApprovals: 3 });
    expect(await balance()).toEqual(before);
    const secondCode = await secondCodeFor(alice, payment.firstCode!);
    const late = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
    expect(late.statusCode).toBe(409);
    expect(late.json().error.status).toBe('failed');
    // A success elsewhere resets the payer's consecutive count, so later tests start unlocked.
    const reset = await pay(1);
    await call(platform.app, 'POST', `/v1/payments/${reset.id}/approve`, {
      secondCode: await secondCodeFor(alice, reset.firstCode!),
    });
  });

  it('lets exactly one of two concurrent correct approvals succeed, posting once', async () => {
    const before = await payeeBalance();
    const payment = await pay(40);
    const secondCode = await secondCodeFor(alice, payment.firstCode!);
    const answers = await Promise.all([
      call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode }),
      call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode }),
    ]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
    expect((await payeeBalance()).available).toBe(before.available + 40);
  });

  it("records a session's use at most every 30 s of its 5-minute idle window, and ends it on time", async () => {
    const session = await call(platform.app, 'POST', '/v1/sessions', {
      payerId: alice.id,
      password: alice.password,
    });
    expect(session.statusCode).toBe(201);
    const { token } = session.json();
    const createdAtMs = platform.clock.nowMs();
    const lastUse = async () => {
      const rows = await platform.test.database.query<{ last_used_at_ms: bigint }>(
        'SELECT last_used_at_ms FROM sessions WHERE payer_id = $1 ORDER BY created_at_ms DESC LIMIT 1',
        [alice.id],
      );
      return Number(rows[0]!.last_used_at_ms);
    };
    const list = () => call(platform.app, 'GET', '/v1/payments?limit=1', undefined, { token });
    // Inside the interval a request reads the session and writes nothing.
    platform.clock.advance(29_000);
    expect((await list()).statusCode).toBe(200);
    expect(await lastUse()).toBe(createdAtMs);
    // Past it, the use is recorded again.
    platform.clock.advance(2_000);
    expect((await list()).statusCode).toBe(200);
    expect(await lastUse()).toBe(createdAtMs + 31_000);
    // The idle window runs from the recorded use: one request 20 s later does not move it, so the session
    // ends 5 minutes after the recorded use, never later than the window promises.
    platform.clock.advance(20_000);
    expect((await list()).statusCode).toBe(200);
    expect(await lastUse()).toBe(createdAtMs + 31_000);
    platform.clock.advance(5 * 60_000 - 20_000);
    expect((await list()).statusCode).toBe(401);
  });

  it('pays with a session instead of the password', async () => {
    const session = await call(platform.app, 'POST', '/v1/sessions', {
      payerId: alice.id,
      password: alice.password,
    });
    expect(session.statusCode).toBe(201);
    const { token } = session.json();
    const created = await call(
      platform.app,
      'POST',
      '/v1/payments',
      { payeeId: 'shop', amount: 10, currency: 'EUR', deliverTo: 'first_terminal' },
      { token },
    );
    expect(created.statusCode, created.body).toBe(201);
    const shown = await call(platform.app, 'GET', `/v1/payments/${created.json().id}`, undefined, { token });
    expect(shown.statusCode).toBe(200);
    expect(shown.json().firstCode).toBeUndefined();
    platform.clock.advance(5 * 60_000);
    const idle = await call(platform.app, 'GET', `/v1/payments/${created.json().id}`, undefined, { token });
    expect(idle.statusCode).toBe(401);
  });

  it('refuses to pay more than the available balance and changes nothing', async () => {
    const before = await balance();
    const response = await call(platform.app, 'POST', '/v1/payments', {
      payerId: alice.id,
      password: alice.password,
      payeeId: 'shop',
      amount: before.available + 1,
      currency: 'EUR',
      deliverTo: 'first_terminal',
    });
    expect(response.statusCode).toBe(402);
    expect(response.json().error.code).toBe('insufficient_funds');
    expect(await balance()).toEqual(before);
  });

  it('verifies the ledger and the audit chain after all of the above', async () => {
    const ledger = await platform.services.ledger.verify();
    expect(ledger.checks.filter((c) => !c.ok)).toEqual([]);
    const audit = await platform.services.audit.verify();
    expect(audit.ok).toBe(true);
    expect(audit.entries).toBeGreaterThan(10);
  });
});
