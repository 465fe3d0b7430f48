// Proves operator accounts on both engines: creation by an admin only, set-up with the one-time code and a
// TOTP code, sign-in with password and TOTP where no answer tells which factor was wrong, a TOTP code that
// is never accepted twice (also under a burst of concurrent sign-ins), locks after 5 failures, and console
// sessions that signing out, the idle timeout, the lifetime and an admin end on the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/domain/limits.js';
import { type Actor, cliActor, tokenActor } from '../../src/domain/operator.js';
import { base32Decode, totpAt, totpStep } from '../../src/domain/totp.js';
import { call } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { createTestOperator, nextOperatorCode } from '../support/operators.js';

const password = 'correct horse battery';

describe.each(testEngines())('operators on %s', (engine) => {
  let platform: TestPlatform;
  const keys = new Map<string, Uint8Array>();

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const operators = () => platform.services.operators;
  const code = (name: string, offsetSteps = 0) =>
    totpAt(keys.get(name)!, totpStep(platform.clock.nowMs()) + offsetSteps);
  const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error, 'expected a refusal').toBeDefined();
    return (error as { code?: string }).code;
  };
  const failures = async (name: string) =>
    (
      await platform.test.database.query<{ consecutive_failures: number }>(
        'SELECT consecutive_failures FROM authentication_failures WHERE subject = $1',
        [`operator:${name}`],
      )
    )[0]?.consecutive_failures ?? 0;

  /** Creates and sets up an operator; keeps its TOTP key. */
  async function setUp(name: string, role = 'admin', by: Actor = cliActor): Promise<string> {
    const created = await operators().create({ name, role }, by);
    const enrollment = await operators().beginSetup(name, created.setupCode);
    keys.set(name, base32Decode(enrollment.keyBase32));
    await operators().completeSetup(name, created.setupCode, password, await code(name));
    // A sign-in needs a step after the one the set-up used.
    platform.clock.advance(30_000);
    return created.id;
  }

  async function actorOf(name: string): Promise<Actor> {
    const token = await operators().signIn(name, password, await code(name));
    return (await operators().authenticate(token)).actor;
  }

  it('sets up an operator with the one-time code and a TOTP code, then signs in', async () => {
    const id = await setUp('ada');
    const token = await operators().signIn('ada', password, await code('ada'));
    expect(token).toMatch(/^cs_opsess_[A-Za-z0-9_-]{43}$/);
    const principal = await operators().authenticate(token);
    expect(principal).toMatchObject({ name: 'ada', actor: { kind: 'operator', id, role: 'admin' } });
    const stored = await platform.test.database.query<Record<string, unknown>>(
      'SELECT * FROM operators WHERE id = $1',
      [id],
    );
    // Nothing usable is stored in clear: an Argon2id hash, a sealed key, no set-up code left.
    expect(String(stored[0]?.['password_hash'])).toMatch(/^\$argon2id\$/);
    expect(String(stored[0]?.['totp_key_sealed'])).toMatch(/^v1\./);
    expect(stored[0]?.['setup_code_hash']).toBeNull();
    const sessions = await platform.test.database.query<{ token_hash: string }>(
      'SELECT token_hash FROM operator_sessions',
    );
    expect(sessions.map((row) => row.token_hash)).not.toContain(token);
  });

  it('refuses a used, wrong or expired set-up code, and a TOTP code of another key', async () => {
    const created = await operators().create({ name: 'bea', role: 'viewer' }, tokenActor);
    await expect(operators().beginSetup('bea', `${created.setupCode}x`)).rejects.toMatchObject({
      code: 'operator_sign_in_failed',
    });
    await expect(
      operators().completeSetup('bea', created.setupCode, password, '000000'),
    ).rejects.toMatchObject({ code: 'operator_sign_in_failed' });
    const enrollment = await operators().beginSetup('bea', created.setupCode);
    keys.set('bea', base32Decode(enrollment.keyBase32));
    await operators().completeSetup('bea', created.setupCode, password, await code('bea'));
    // The code is consumed: it cannot set the account up again (and so cannot replace its password).
    expect(await codeOf(operators().beginSetup('bea', created.setupCode))).toBe('operator_sign_in_failed');

    const late = await operators().create({ name: 'cai', role: 'viewer' }, cliActor);
    platform.clock.advance(limits.operatorSetupTtlMs);
    expect(await codeOf(operators().beginSetup('cai', late.setupCode))).toBe('operator_sign_in_failed');
    platform.clock.advance(30_000);
  });

  it('answers a wrong password, a wrong code and an unknown name alike, and counts each', async () => {
    await setUp('dan', 'support');
    const before = await failures('dan');
    expect(await codeOf(operators().signIn('dan', 'wrong password!', await code('dan')))).toBe(
      'operator_sign_in_failed',
    );
    const right = await code('dan');
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    expect(await codeOf(operators().signIn('dan', password, wrong))).toBe('operator_sign_in_failed');
    expect(await codeOf(operators().signIn('nobody', password, right))).toBe('operator_sign_in_failed');
    expect(await failures('dan')).toBe(before + 2);
    expect(await failures('nobody')).toBe(1);
    // A success resets the count.
    await operators().signIn('dan', password, await code('dan'));
    expect(await failures('dan')).toBe(0);
  });

  it('never accepts a TOTP code twice, even from a burst of concurrent sign-ins', async () => {
    await setUp('eve');
    const shared = await code('eve');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 4 }, () => operators().signIn('eve', password, shared)),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect(outcome.reason).toMatchObject({
          code: expect.stringMatching(/^operator_(sign_in_failed|locked)$/),
        });
      }
    }
    // And not later either, within the window the code would still be valid in.
    expect(await codeOf(operators().signIn('eve', password, shared))).toBe('operator_sign_in_failed');
    platform.clock.advance(30_000);
    await expect(operators().signIn('eve', password, await code('eve'))).resolves.toMatch(/^cs_opsess_/);
  });

  it('locks a name after 5 failures, with the lock saying when it ends', async () => {
    await setUp('fay');
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await codeOf(operators().signIn('fay', 'wrong password!', await code('fay')));
    }
    const error = await operators()
      .signIn('fay', password, await code('fay'))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'operator_locked' });
  });

  it('ends sessions on sign-out, after 15 idle minutes, after 8 hours, and by an admin', async () => {
    await setUp('gus', 'viewer');
    const signOut = await operators().signIn('gus', password, await code('gus'));
    await operators().signOut(signOut);
    expect(await codeOf(operators().authenticate(signOut))).toBe('authentication_required');

    platform.clock.advance(30_000);
    const idle = await operators().signIn('gus', password, await code('gus'));
    platform.clock.advance(limits.operatorSessionIdleMs - 1000);
    await operators().authenticate(idle);
    platform.clock.advance(limits.operatorSessionIdleMs);
    expect(await codeOf(operators().authenticate(idle))).toBe('authentication_required');

    const busy = await operators().signIn('gus', password, await code('gus'));
    for (let elapsed = 0; elapsed < limits.operatorSessionLifetimeMs; elapsed += 10 * 60_000) {
      await operators().authenticate(busy);
      platform.clock.advance(10 * 60_000);
    }
    expect(await codeOf(operators().authenticate(busy))).toBe('authentication_required');

    const ended = await operators().signIn('gus', password, await code('gus'));
    const admin = await actorOf('ada');
    expect(await operators().endSessions('gus', admin)).toBe(1);
    expect(await codeOf(operators().authenticate(ended))).toBe('authentication_required');
  });

  it('lets only admins create operators and end sessions', async () => {
    platform.clock.advance(30_000);
    const viewer = await actorOf('gus');
    platform.clock.advance(30_000);
    const support = await actorOf('dan');
    for (const actor of [viewer, support]) {
      expect(await codeOf(operators().create({ name: 'mallory', role: 'admin' }, actor))).toBe('forbidden');
      expect(await codeOf(operators().endSessions('ada', actor))).toBe('forbidden');
    }
    expect((await operators().list(viewer)).map((operator) => operator.name)).not.toContain('mallory');
    expect(await codeOf(operators().create({ name: 'ada', role: 'viewer' }, cliActor))).toBe(
      'operator_exists',
    );
    expect(await codeOf(operators().create({ name: 'Ada', role: 'viewer' }, cliActor))).toBe(
      'invalid_request',
    );
    expect(await codeOf(operators().create({ name: 'hal', role: 'root' }, cliActor))).toBe('invalid_request');
    expect((await operators().list(cliActor)).map((operator) => operator.name)).not.toContain('hal');
  });

  it('records who created whom in the audit log', async () => {
    const entries = await platform.services.audit.list({ limit: 100 });
    const created = entries.filter((entry) => entry.event === 'operator_created');
    expect(created.map((entry) => entry.detail['actor'])).toContain('cli');
    expect(created.map((entry) => entry.detail['actor'])).toContain('token');
  });
});

describe.each(testEngines())('operator accounts over the API on %s', (engine) => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const create = (body: object, token: string | null = platform.operatorToken) =>
    call(platform.app, 'POST', '/v1/operators', body, token === null ? {} : { token });

  it('creates an operator with the operator token, showing the set-up code once', async () => {
    const created = await create({ name: 'ada', role: 'support' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ object: 'operator', name: 'ada', role: 'support' });
    expect(created.json().setupCode).toMatch(/^cs_setup_/);
    const listed = await call(platform.app, 'GET', '/v1/operators', undefined, {
      token: platform.operatorToken,
    });
    expect(listed.json().data).toEqual([
      expect.objectContaining({
        name: 'ada',
        role: 'support',
        active: false,
        createdBy: 'token',
        openSessions: 0,
      }),
    ]);
    expect(listed.body).not.toContain(created.json().setupCode);
  });

  it('refuses a missing token, a bad name or role and a taken name, and creates nothing', async () => {
    expect((await create({ name: 'bea', role: 'admin' }, null)).statusCode).toBe(401);
    expect((await create({ name: 'Bea', role: 'admin' })).json().error.code).toBe('invalid_request');
    expect((await create({ name: 'bea\u0000', role: 'admin' })).json().error.code).toBe('invalid_request');
    expect((await create({ name: 'bea', role: 'root' })).json().error.code).toBe('invalid_request');
    expect((await create({ name: 'ada', role: 'admin' })).json().error.code).toBe('operator_exists');
    const listed = await call(platform.app, 'GET', '/v1/operators', undefined, {
      token: platform.operatorToken,
    });
    expect(listed.json().data.map((operator: { name: string }) => operator.name)).toEqual(['ada']);
  });

  it('ends an operator’s sessions', async () => {
    const operator = await createTestOperator(platform.services.operators, platform.clock, 'cid', 'viewer');
    const token = await platform.services.operators.signIn(
      operator.name,
      operator.password,
      await nextOperatorCode(operator, platform.clock),
    );
    const ended = await call(platform.app, 'POST', '/v1/operators/cid/end-sessions', undefined, {
      token: platform.operatorToken,
    });
    expect(ended.json()).toEqual({ object: 'operator_sessions', name: 'cid', ended: 1 });
    await expect(platform.services.operators.authenticate(token)).rejects.toMatchObject({
      code: 'authentication_required',
    });
    const unknown = await call(platform.app, 'POST', '/v1/operators/nobody/end-sessions', undefined, {
      token: platform.operatorToken,
    });
    expect(unknown.json().error.code).toBe('operator_not_found');
  });
});
