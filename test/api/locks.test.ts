// Proves the attempt limits over the HTTP API on both engines: 5 consecutive failed authentications lock a payer (unknown ids alike), a success resets the count, locks lift by time or by the operator, consecutive locks double up to the cap and never become permanent, the operator blocks and unblocks, and no answer tells which factor was wrong.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createFundedPayer, createPayee, secondCodeFor, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

/** An error body without its request id, which differs between any two requests by design. */
function withoutRequestId(body: { error: Record<string, unknown> }): unknown {
  const { requestId: _requestId, ...error } = body.error;
  return { error };
}

const lockMs = 900 * 1000;
const lockMsMax = 24 * 3600 * 1000;
const wrongPassword = 'not the password';

describe.each(testEngines())('locks on %s', (engine) => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { codeTtlSeconds: 600 });
    await createPayee(platform.app, platform.operatorToken, 'shop');
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const payer = (id: string) => createFundedPayer(platform.app, platform.operatorToken, id, 10_000);
  const login = (payerId: string, password: string) =>
    call(platform.app, 'POST', '/v1/sessions', { payerId, password });
  const pay = (payerId: string, password: string, amount = 10) =>
    call(platform.app, 'POST', '/v1/payments', {
      payerId,
      password,
      payeeId: 'shop',
      amount,
      currency: 'EUR',
      deliverTo: 'first_terminal',
    });
  const approve = (paymentId: string, body: Readonly<Record<string, string | undefined>>) =>
    call(platform.app, 'POST', `/v1/payments/${paymentId}/approve`, body);
  const unlock = (payerId: string, token = platform.operatorToken) =>
    call(platform.app, 'POST', `/v1/payers/${payerId}/unlock`, undefined, { token });

  async function openPayment(who: TestPayer, amount = 10): Promise<{ id: string; firstCode: string }> {
    const created = await pay(who.id, who.password, amount);
    expect(created.statusCode, created.body).toBe(201);
    return created.json();
  }

  /** The attempt state of a claimed payer id as the database holds it. */
  async function attemptState(subject: string) {
    const rows = await platform.test.database.query<{
      consecutive_failures: number;
      reserved: number;
      locked_until_ms: bigint | null;
      consecutive_locks: number;
      blocked: boolean;
    }>(
      `SELECT consecutive_failures, reserved, locked_until_ms, consecutive_locks, blocked
       FROM authentication_failures WHERE subject = $1`,
      [subject],
    );
    return rows[0];
  }

  function expectError(response: LightMyRequestResponse, status: number, code: string): void {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json().error.code).toBe(code);
  }

  /** Four wrong passwords, alternating between signing in and paying: one short of a lock. */
  async function failFourTimes(payerId: string): Promise<void> {
    for (let attempt = 1; attempt <= 4; attempt++) {
      const response =
        attempt % 2 === 0 ? await pay(payerId, wrongPassword) : await login(payerId, wrongPassword);
      expectError(response, 401, 'authentication_failed');
    }
  }

  /** Five wrong passwords: the fifth still answers 401, and engages the lock. */
  async function lockOut(payerId: string): Promise<void> {
    await failFourTimes(payerId);
    expectError(await login(payerId, wrongPassword), 401, 'authentication_failed');
  }

  const balance = async (payerId: string) =>
    (
      await call(platform.app, 'GET', `/v1/payers/${payerId}/balance?currency=EUR`, undefined, {
        token: platform.operatorToken,
      })
    ).json();

  it('locks after 5 wrong passwords: correct passwords, sessions and second codes then answer 423', async () => {
    const bob = await payer('bob-lock');
    const open = await openPayment(bob);
    const session = (await login(bob.id, bob.password)).json().token as string;
    await lockOut(bob.id);
    const state = await attemptState(bob.id);
    expect(state).toMatchObject({
      consecutive_failures: 0,
      reserved: 0,
      consecutive_locks: 1,
      blocked: false,
    });
    expect(Number(state!.locked_until_ms)).toBe(platform.clock.nowMs() + lockMs);

    const before = await balance(bob.id);
    const locked = await login(bob.id, bob.password);
    expectError(locked, 423, 'payer_locked');
    // The answer says when the lock ends, in the body and as Retry-After.
    expect(locked.json().error.lockedUntil).toBe(new Date(platform.clock.nowMs() + lockMs).toISOString());
    expect(locked.headers['retry-after']).toBe(String(lockMs / 1000));
    expectError(await pay(bob.id, bob.password), 423, 'payer_locked');
    expectError(
      await approve(open.id, { secondCode: await secondCodeFor(bob, open.firstCode) }),
      423,
      'payer_locked',
    );
    expectError(
      await approve(open.id, { firstCode: open.firstCode, verificationCode: bob.verificationCode }),
      423,
      'payer_locked',
    );
    const bySession = await call(
      platform.app,
      'POST',
      '/v1/payments',
      { payeeId: 'shop', amount: 10, currency: 'EUR', deliverTo: 'first_terminal' },
      { token: session },
    );
    expectError(bySession, 423, 'payer_locked');
    expectError(
      await call(platform.app, 'GET', `/v1/payments/${open.id}`, undefined, { token: session }),
      423,
      'payer_locked',
    );
    // Answers while locked are not attempts: nothing more is counted, nothing moved.
    expect(await attemptState(bob.id)).toEqual(state);
    expect(await balance(bob.id)).toEqual(before);
    const shown = await call(platform.app, 'GET', `/v1/payments/${open.id}`, undefined, {
      token: platform.operatorToken,
    });
    expect(shown.json()).toMatchObject({ status: 'requires_approval', failedApprovals: 0 });
  });

  it('counts wrong approvals with wrong passwords toward the same lock', async () => {
    const carol = await payer('carol-lock');
    const first = await openPayment(carol);
    const second = await openPayment(carol);
    for (let attempt = 1; attempt <= 3; attempt++) {
      expectError(await approve(first.id, { secondCode: '00000000' }), 401, 'approval_failed');
    }
    expect((await attemptState(carol.id))?.consecutive_failures).toBe(3);
    expectError(await login(carol.id, wrongPassword), 401, 'authentication_failed');
    expectError(
      await approve(second.id, { firstCode: second.firstCode, verificationCode: '0000' }),
      401,
      'approval_failed',
    );
    expect(await attemptState(carol.id)).toMatchObject({ consecutive_failures: 0, consecutive_locks: 1 });
    expectError(
      await approve(second.id, { secondCode: await secondCodeFor(carol, second.firstCode) }),
      423,
      'payer_locked',
    );
    expectError(await login(carol.id, carol.password), 423, 'payer_locked');
    const audit = await platform.test.database.query<{ event: string; detail: string }>(
      `SELECT event, detail FROM audit_log WHERE subject = $1 AND event = 'payer_locked'`,
      [carol.id],
    );
    expect(audit.map((entry) => [entry.event, JSON.parse(entry.detail).lockedUntilMs])).toEqual([
      ['payer_locked', platform.clock.nowMs() + lockMs],
    ]);
  });

  it('resets the consecutive count on a successful sign-in or approval', async () => {
    const dave = await payer('dave-lock');
    await failFourTimes(dave.id);
    expect(await login(dave.id, dave.password).then((r) => r.statusCode)).toBe(201);
    expect((await attemptState(dave.id))?.consecutive_failures).toBe(0);
    await failFourTimes(dave.id);
    // A payment needs the password, which would reset the count by itself; open it with a session instead.
    const token = (await platform.services.authentication.createSession(dave.id, dave.password)).token;
    await failFourTimes(dave.id);
    const created = await call(
      platform.app,
      'POST',
      '/v1/payments',
      { payeeId: 'shop', amount: 10, currency: 'EUR', deliverTo: 'first_terminal' },
      { token },
    );
    expect(created.statusCode, created.body).toBe(201);
    expect((await attemptState(dave.id))?.consecutive_failures).toBe(4);
    const { id, firstCode } = created.json();
    const approved = await approve(id, { secondCode: await secondCodeFor(dave, firstCode) });
    expect(approved.statusCode, approved.body).toBe(200);
    expect((await attemptState(dave.id))?.consecutive_failures).toBe(0);
    await failFourTimes(dave.id);
    expect(await login(dave.id, dave.password).then((r) => r.statusCode)).toBe(201);
    expect(await attemptState(dave.id)).toMatchObject({ consecutive_locks: 0, locked_until_ms: null });
  });

  it('lifts a lock when the operator unlocks, and only the operator', async () => {
    const erin = await payer('erin-lock');
    await lockOut(erin.id);
    expectError(await unlock(erin.id, 'cs_op_not-the-operator-token-at-all'), 401, 'authentication_required');
    expectError(await login(erin.id, erin.password), 423, 'payer_locked');
    const unlocked = await unlock(erin.id);
    expect(unlocked.statusCode, unlocked.body).toBe(200);
    expect(unlocked.json()).toEqual({ object: 'payer', id: erin.id, locked: false });
    expect(await login(erin.id, erin.password).then((r) => r.statusCode)).toBe(201);
    expectError(await unlock('nobody-by-this-id'), 404, 'payer_not_found');
    const events = await platform.test.database.query<{ event: string }>(
      `SELECT event FROM audit_log WHERE subject = $1 AND event IN ('payer_locked', 'payer_unlocked')
       ORDER BY position`,
      [erin.id],
    );
    expect(events.map((entry) => entry.event)).toEqual(['payer_locked', 'payer_unlocked']);
  });

  it('lifts a temporary lock by itself after LOCK_SECONDS', async () => {
    const frank = await payer('frank-lock');
    await lockOut(frank.id);
    platform.clock.advance(lockMs - 1);
    expectError(await login(frank.id, frank.password), 423, 'payer_locked');
    platform.clock.advance(1);
    expect(await login(frank.id, frank.password).then((r) => r.statusCode)).toBe(201);
    // The count starts again from zero: four more failures do not lock.
    await failFourTimes(frank.id);
    expect(await login(frank.id, frank.password).then((r) => r.statusCode)).toBe(201);
  });

  it('doubles each consecutive lock up to the cap, never locks for good, and starts again after a success', async () => {
    const grace = await payer('grace-lock');
    const expected = [
      lockMs,
      2 * lockMs,
      4 * lockMs,
      8 * lockMs,
      16 * lockMs,
      32 * lockMs,
      64 * lockMs,
      lockMsMax,
    ];
    for (const [index, duration] of expected.entries()) {
      await lockOut(grace.id);
      expect(await attemptState(grace.id)).toMatchObject({ consecutive_locks: index + 1, blocked: false });
      expect(Number((await attemptState(grace.id))!.locked_until_ms)).toBe(platform.clock.nowMs() + duration);
      platform.clock.advance(duration - 1);
      expectError(await login(grace.id, grace.password), 423, 'payer_locked');
      platform.clock.advance(1);
    }
    // However many locks came before, time lifts the last one; a success starts the escalation again.
    expect(await login(grace.id, grace.password).then((r) => r.statusCode)).toBe(201);
    await lockOut(grace.id);
    expect(await attemptState(grace.id)).toMatchObject({ consecutive_locks: 1 });
    expect(Number((await attemptState(grace.id))!.locked_until_ms)).toBe(platform.clock.nowMs() + lockMs);
    expect((await unlock(grace.id)).statusCode).toBe(200);
    expect(await attemptState(grace.id)).toMatchObject({ consecutive_locks: 0, locked_until_ms: null });
  });

  it('blocks a payer until the operator unlocks: time does not lift a block, and only the operator blocks', async () => {
    const olivia = await payer('olivia-lock');
    const block = (payerId: string, token = platform.operatorToken) =>
      call(platform.app, 'POST', `/v1/payers/${payerId}/block`, undefined, { token });
    expectError(
      await block(olivia.id, 'cs_op_not-the-operator-token-at-all'),
      401,
      'authentication_required',
    );
    expect((await attemptState(olivia.id))?.blocked ?? false).toBe(false);
    expectError(await block('nobody-by-this-id'), 404, 'payer_not_found');
    const blocked = await block(olivia.id);
    expect(blocked.statusCode, blocked.body).toBe(200);
    const refused = await login(olivia.id, olivia.password);
    expectError(refused, 423, 'payer_locked');
    // A block has no end to tell, and no Retry-After.
    expect(refused.json().error.lockedUntil).toBeUndefined();
    expect(refused.headers['retry-after']).toBeUndefined();
    platform.clock.advance(30 * lockMsMax);
    expectError(await login(olivia.id, olivia.password), 423, 'payer_locked');
    expect((await unlock(olivia.id)).statusCode).toBe(200);
    expect(await login(olivia.id, olivia.password).then((r) => r.statusCode)).toBe(201);
    const events = await platform.test.database.query<{ event: string }>(
      `SELECT event FROM audit_log WHERE subject = $1 AND event IN ('payer_blocked', 'payer_unlocked')
       ORDER BY position`,
      [olivia.id],
    );
    expect(events.map((entry) => entry.event)).toEqual(['payer_blocked', 'payer_unlocked']);
  });

  it('answers, counts and locks an unknown payer id exactly like an existing one with a wrong password', async () => {
    const heidi = await payer('heidi-lock');
    const ghost = 'ghost-of-heidi';
    const unknownFormats = ['x', 'has spaces in it', 'ünïcödé'];
    const sameAnswer = async (known: LightMyRequestResponse, unknown: LightMyRequestResponse) => {
      expect(unknown.statusCode).toBe(known.statusCode);
      expect(unknown.headers['content-type']).toBe(known.headers['content-type']);
      expect(withoutRequestId(unknown.json())).toEqual(withoutRequestId(known.json()));
    };
    for (let attempt = 1; attempt <= 5; attempt++) {
      const viaPayment = attempt % 2 === 0;
      const known = viaPayment ? await pay(heidi.id, wrongPassword) : await login(heidi.id, wrongPassword);
      const unknown = viaPayment ? await pay(ghost, wrongPassword) : await login(ghost, wrongPassword);
      expect(known.statusCode).toBe(401);
      await sameAnswer(known, unknown);
      for (const id of unknownFormats) await sameAnswer(known, await login(id, wrongPassword));
    }
    const knownState = await attemptState(heidi.id);
    expect(await attemptState(ghost)).toEqual(knownState);
    expect(knownState).toMatchObject({ consecutive_locks: 1 });
    // Locked: the right password of the existing id, and any password of the unknown id, answer alike.
    const knownLocked = await login(heidi.id, heidi.password);
    expect(knownLocked.statusCode).toBe(423);
    await sameAnswer(knownLocked, await login(ghost, heidi.password));
    await sameAnswer(await pay(heidi.id, heidi.password), await pay(ghost, heidi.password));
    platform.clock.advance(lockMs);
    expect((await login(heidi.id, heidi.password)).statusCode).toBe(201);
    expectError(await login(ghost, heidi.password), 401, 'authentication_failed');
    // Neither the audit log nor the counters keep anything but the claimed id.
    const audit = await platform.test.database.query<{ detail: string }>(
      'SELECT detail FROM audit_log WHERE subject = $1',
      [ghost],
    );
    expect(audit.length).toBeGreaterThanOrEqual(6);
    for (const entry of audit) expect(entry.detail).not.toContain(wrongPassword);
  });

  it('answers 409 to an approval of a payment no longer open, without looking at the codes or counting', async () => {
    const ivan = await payer('ivan-lock');
    const succeeded = await openPayment(ivan);
    expect(
      (await approve(succeeded.id, { secondCode: await secondCodeFor(ivan, succeeded.firstCode) }))
        .statusCode,
    ).toBe(200);
    const canceled = await openPayment(ivan);
    const cancel = await call(platform.app, 'POST', `/v1/payments/${canceled.id}/cancel`, {
      payerId: ivan.id,
      password: ivan.password,
    });
    expect(cancel.statusCode).toBe(200);
    await failFourTimes(ivan.id);
    const state = await attemptState(ivan.id);
    expect(state?.consecutive_failures).toBe(4);
    for (const [payment, status] of [
      [succeeded, 'succeeded'],
      [canceled, 'canceled'],
    ] as const) {
      for (const body of [
        { secondCode: '00000000' },
        { firstCode: '00000000', verificationCode: '0000' },
        { secondCode: await secondCodeFor(ivan, payment.firstCode) },
      ]) {
        const refused = await approve(payment.id, body);
        expectError(refused, 409, 'payment_not_approvable');
        expect(refused.json().error.status).toBe(status);
      }
    }
    expect(await attemptState(ivan.id)).toEqual(state);
    expect(await login(ivan.id, ivan.password).then((r) => r.statusCode)).toBe(201);
  });

  it('never tells which factor was wrong', async () => {
    const judy = await payer('judy-lock');
    const { id, firstCode } = await openPayment(judy);
    const rightSecondCode = await secondCodeFor(judy, firstCode);
    const wrongSecondCode = rightSecondCode === '00000000' ? '11111111' : '00000000';
    const wrongFirstCode = firstCode === '00000000' ? '11111111' : '00000000';
    const answers = [
      await approve(id, { secondCode: wrongSecondCode }),
      await approve(id, { firstCode: wrongFirstCode, verificationCode: judy.verificationCode }),
    ];
    // The third wrong approval fails the payment; the answer is still the same.
    answers.push(await approve(id, { firstCode, verificationCode: '9999' }));
    for (const answer of answers) {
      expect(answer.statusCode).toBe(401);
      expect(withoutRequestId(answer.json())).toEqual(withoutRequestId(answers[0]!.json()));
    }
    const approvalMessage = String(answers[0]!.json().error.message).toLowerCase();
    const loginMessage = String((await login(judy.id, wrongPassword)).json().error.message).toLowerCase();
    for (const message of [approvalMessage, loginMessage]) {
      expect(message).not.toMatch(/first code|second code|verification|pin|unknown|does not exist|not found/);
    }
    expect(Object.keys(answers[0]!.json().error).sort()).toEqual(['code', 'message', 'requestId', 'type']);
    expect(await login(judy.id, judy.password).then((r) => r.statusCode)).toBe(201);
  });
});
