// Proves that both session statements (one request alone, requests coalesced) record a session's use at most once per touch interval, agree on what they return, and refuse a dead session, on both engines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngines } from '../../test/support/engines.js';
import { sessionTouchIntervalMs } from '../domain/payer.js';
import { sqlPartyStore } from './party-repository.js';
import { sqlPaymentBatchStore } from './payment-batch-repository.js';

const idleMs = 5 * 60_000;
const lifetimeMs = 30 * 60_000;
const startMs = 1_000_000;

describe.each(testEngines())('session touch on %s', (engine) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await openTestDatabase(engine);
    await test.database.query(
      `INSERT INTO payers (id, password_hash, verification_code_sealed, created_at_ms)
       VALUES ('touch-payer', 'x', 'x', 0)`,
    );
  });
  afterAll(async () => {
    await test.dispose();
  });

  async function newSession(tokenHash: string): Promise<void> {
    await sqlPartyStore.insertSession(test.database, tokenHash, 'touch-payer', startMs);
  }

  async function recordedUse(tokenHash: string): Promise<number> {
    const [row] = await test.database.query<{ last_used_at_ms: bigint }>(
      'SELECT last_used_at_ms FROM sessions WHERE token_hash = $1',
      [tokenHash],
    );
    return Number(row!.last_used_at_ms);
  }

  const alone = (tokenHash: string, nowMs: number) =>
    sqlPartyStore.touchSession(test.database, tokenHash, nowMs, idleMs, lifetimeMs);
  const coalesced = async (tokenHash: string, nowMs: number) =>
    (await sqlPaymentBatchStore.touchSessions(test.database, [{ tokenHash, nowMs, idleMs, lifetimeMs }]))[0];

  it.each([
    ['alone', alone],
    ['coalesced', coalesced],
  ] as const)(
    '%s: reads inside the interval, writes past it, and ends the session on time',
    async (name, touch) => {
      const tokenHash = `token-${name}`;
      await newSession(tokenHash);
      const interval = sessionTouchIntervalMs(idleMs);
      expect(interval).toBe(30_000);

      const inside = await touch(tokenHash, startMs + interval - 1);
      expect(inside).toMatchObject({ payerId: 'touch-payer', createdAtMs: startMs, lastUsedAtMs: startMs });
      expect(await recordedUse(tokenHash)).toBe(startMs);

      const past = await touch(tokenHash, startMs + interval);
      expect(past).toMatchObject({ payerId: 'touch-payer', lastUsedAtMs: startMs + interval });
      expect(await recordedUse(tokenHash)).toBe(startMs + interval);

      // Idle for the whole window after the recorded use: dead, and nothing is written.
      expect(await touch(tokenHash, startMs + interval + idleMs)).toBeUndefined();
      expect(await recordedUse(tokenHash)).toBe(startMs + interval);
    },
  );

  it('records one use for two requests of one session coalesced together', async () => {
    const tokenHash = 'token-twice';
    await newSession(tokenHash);
    const nowMs = startMs + 40_000;
    const touched = await sqlPaymentBatchStore.touchSessions(test.database, [
      { tokenHash, nowMs: nowMs - 1, idleMs, lifetimeMs },
      { tokenHash, nowMs, idleMs, lifetimeMs },
    ]);
    expect(touched.map((t) => t?.lastUsedAtMs)).toEqual([nowMs, nowMs]);
    expect(await recordedUse(tokenHash)).toBe(nowMs);
  });
});
