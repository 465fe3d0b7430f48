// Proves on both engines that a payer locked out can unlock themself from an enrolled second terminal with the verification code, that each try is one attempt (wrong ones count and escalate the lock, none while the operator blocks), that concurrent tries never evaluate more than the free slots, and that bad input is refused and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createFundedPayer, createPayee, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';
import { injectTransport, TestTerminal } from './support/test-terminal.js';

const lockMs = 900 * 1000;

describe.each(testEngines())('self-unlock from a second terminal on %s', (engine) => {
  let platform: TestPlatform;
  const now = () => platform.clock.nowMs();

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    await createPayee(platform.app, platform.operatorToken, 'shop');
  });
  afterAll(async () => {
    await platform.dispose();
  });

  async function enrolledPayer(id: string): Promise<{ payer: TestPayer; phone: TestTerminal }> {
    const payer = await createFundedPayer(platform.app, platform.operatorToken, id, 1_000);
    const phone = await TestTerminal.enroll(injectTransport(platform.app), now, payer.enrollmentUri, '4321');
    return { payer, phone };
  }

  const login = (payerId: string, password: string) =>
    call(platform.app, 'POST', '/v1/sessions', { payerId, password });

  async function lockOut(payerId: string): Promise<void> {
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect((await login(payerId, 'not the password')).statusCode).toBe(401);
    }
    expect((await login(payerId, 'not the password')).statusCode).toBe(423);
  }

  async function attemptState(subject: string) {
    const [row] = await platform.test.database.query<{
      consecutive_failures: number;
      reserved: number;
      locked_until_ms: bigint | null;
      consecutive_locks: number;
    }>(
      `SELECT consecutive_failures, reserved, locked_until_ms, consecutive_locks
       FROM authentication_failures WHERE subject = $1`,
      [subject],
    );
    return row;
  }

  it('shows the lock to the terminal, and lifts it with the right verification code', async () => {
    const { payer, phone } = await enrolledPayer('una-unlock');
    await lockOut(payer.id);
    const shown = await phone.call('GET', '/v1/terminal/lock');
    expect(shown.status, shown.body).toBe(200);
    expect(shown.json()).toEqual({
      object: 'payer_lock',
      locked: true,
      lockedUntil: new Date(now() + lockMs).toISOString(),
      blocked: false,
      consecutiveFailures: 0,
    });
    const wrong = await phone.call('POST', '/v1/terminal/unlock', { verificationCode: '0000' });
    expect(wrong.status, wrong.body).toBe(401);
    expect(wrong.json().error.code).toBe('authentication_failed');
    expect(await attemptState(payer.id)).toMatchObject({ consecutive_failures: 1, reserved: 0 });
    expect((await login(payer.id, payer.password)).statusCode).toBe(423);
    const right = await phone.call('POST', '/v1/terminal/unlock', {
      verificationCode: payer.verificationCode,
    });
    expect(right.status, right.body).toBe(200);
    expect(right.json()).toEqual({
      object: 'payer_lock',
      locked: false,
      lockedUntil: null,
      blocked: false,
      consecutiveFailures: 0,
    });
    expect(await attemptState(payer.id)).toMatchObject({ consecutive_locks: 0, locked_until_ms: null });
    expect((await login(payer.id, payer.password)).statusCode).toBe(201);
    const events = await platform.test.database.query<{ event: string }>(
      `SELECT event FROM audit_log WHERE subject = $1 AND event IN ('self_unlock_failed', 'payer_self_unlocked')
       ORDER BY position`,
      [payer.id],
    );
    expect(events.map((e) => e.event)).toEqual(['self_unlock_failed', 'payer_self_unlocked']);
  });

  it('counts wrong codes like wrong passwords: the fifth engages the next, doubled lock', async () => {
    const { payer, phone } = await enrolledPayer('vera-unlock');
    await lockOut(payer.id);
    const firstLockEnd = Number((await attemptState(payer.id))!.locked_until_ms);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const wrong = await phone.call('POST', '/v1/terminal/unlock', { verificationCode: '0000' });
      expect(wrong.status, wrong.body).toBe(401);
    }
    const state = await attemptState(payer.id);
    expect(state).toMatchObject({ consecutive_failures: 5, consecutive_locks: 2 });
    expect(Number(state!.locked_until_ms)).toBe(now() + 2 * lockMs);
    expect(Number(state!.locked_until_ms)).toBeGreaterThan(firstLockEnd);
    // No further code is compared until this lock ends: even the right one is refused, and counts nothing.
    const refused = await phone.call('POST', '/v1/terminal/unlock', {
      verificationCode: payer.verificationCode,
    });
    expect(refused.status).toBe(423);
    expect(refused.json().error.lockedUntil).toBe(new Date(now() + 2 * lockMs).toISOString());
    expect(await attemptState(payer.id)).toEqual(state);
    // Once it ends, the count starts again: the password works.
    platform.clock.advance(2 * lockMs);
    expect((await login(payer.id, payer.password)).statusCode).toBe(201);
    expect(await attemptState(payer.id)).toMatchObject({ consecutive_failures: 0, consecutive_locks: 0 });
  });

  it('evaluates at most the free slots of a concurrent burst of tries', async () => {
    const { payer, phone } = await enrolledPayer('wanda-unlock');
    await lockOut(payer.id);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        phone.call('POST', '/v1/terminal/unlock', { verificationCode: '0000' }),
      ),
    );
    const failed = answers.filter((a) => a.status === 401).length;
    const refused = answers.filter((a) => a.status === 423).length;
    expect(failed).toBeLessThanOrEqual(5);
    expect(failed + refused).toBe(12);
    expect(await attemptState(payer.id)).toMatchObject({ reserved: 0 });
  });

  it('never unlocks a payer the operator blocked, even with the right code', async () => {
    const { payer, phone } = await enrolledPayer('xena-unlock');
    const blocked = await call(platform.app, 'POST', `/v1/payers/${payer.id}/block`, undefined, {
      token: platform.operatorToken,
    });
    expect(blocked.statusCode).toBe(200);
    expect((await phone.call('GET', '/v1/terminal/lock')).json()).toMatchObject({
      locked: true,
      blocked: true,
      lockedUntil: null,
    });
    const before = await snapshotTables(platform.test.database);
    const refused = await phone.call('POST', '/v1/terminal/unlock', {
      verificationCode: payer.verificationCode,
    });
    expect(refused.status).toBe(423);
    expect(refused.json().error.code).toBe('payer_locked');
    // Only the terminal's own bookkeeping (its nonce, its last use) moved; no attempt was counted.
    expect(changedTables(before, await snapshotTables(platform.test.database))).not.toContain(
      'authentication_failures',
    );
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    const { payer, phone } = await enrolledPayer('yara-unlock');
    await lockOut(payer.id);
    const before = await attemptState(payer.id);
    for (const body of [
      {},
      { verificationCode: '12' },
      { verificationCode: 'abcd' },
      { verificationCode: '4321', x: 1 },
    ]) {
      const refused = await phone.call('POST', '/v1/terminal/unlock', body);
      expect(refused.status, refused.body).toBe(400);
      expect(refused.json().error.code).toBe('invalid_request');
    }
    const unsigned = await call(platform.app, 'POST', '/v1/terminal/unlock', { verificationCode: '4321' });
    expect(unsigned.statusCode).toBe(401);
    expect(await attemptState(payer.id)).toEqual(before);
    expect((await login(payer.id, payer.password)).statusCode).toBe(423);
  });
});
