// Proves that the SQL idempotency store gives a key to exactly one request, replays its stored response, refuses reuse, and expires keys.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngines } from '../../test/support/engines.js';
import { limits } from '../domain/limits.js';

const { idempotencyKeyRetentionMs } = limits;

import { IdempotencyRepository } from './idempotency-repository.js';

const hashA = createHash('sha256').update('request A').digest('hex');
const hashB = createHash('sha256').update('request B').digest('hex');
const t0 = Date.UTC(2026, 0, 1);
const leaseMs = 1_000;

describe.each(testEngines())('IdempotencyRepository on %s', (engine) => {
  let test: TestDatabase;
  let store: IdempotencyRepository;

  beforeAll(async () => {
    test = await openTestDatabase(engine);
    store = new IdempotencyRepository(test.database);
  });
  afterAll(async () => {
    await test.dispose();
  });
  beforeEach(async () => {
    await test.database.query('DELETE FROM idempotency_keys');
  });

  async function rowCount(): Promise<number> {
    const rows = await test.database.query<{ count: bigint }>(
      'SELECT count(*) AS count FROM idempotency_keys',
    );
    return Number(rows[0]!.count);
  }

  it('starts a free key, then reports it in progress to the same request and reused to another', async () => {
    expect(await store.begin('s', 'k', hashA, t0, leaseMs)).toEqual({ kind: 'started' });
    expect(await store.begin('s', 'k', hashA, t0 + 1, leaseMs)).toEqual({ kind: 'in_progress' });
    expect(await store.begin('s', 'k', hashB, t0 + 1, leaseMs)).toEqual({ kind: 'reused' });
    expect(await rowCount()).toBe(1);
  });

  it('replays a completed response to the same request, and refuses another request', async () => {
    await store.begin('s', 'k', hashA, t0, leaseMs);
    await store.complete('s', 'k', 201, '{"id":"p_1"}', t0 + 10);
    const replay = { kind: 'replay', status: 201, body: '{"id":"p_1"}' };
    expect(await store.begin('s', 'k', hashA, t0 + 20, leaseMs)).toEqual(replay);
    // Long after any lease, a completed key still replays rather than running again.
    expect(await store.begin('s', 'k', hashA, t0 + 10 * leaseMs, leaseMs)).toEqual(replay);
    expect(await store.begin('s', 'k', hashB, t0 + 20, leaseMs)).toEqual({ kind: 'reused' });
  });

  it('never overwrites a stored response, and release leaves a completed key alone', async () => {
    await store.begin('s', 'k', hashA, t0, leaseMs);
    await store.complete('s', 'k', 201, 'first', t0 + 1);
    await store.complete('s', 'k', 400, 'second', t0 + 2);
    await store.release('s', 'k');
    expect(await store.begin('s', 'k', hashA, t0 + 3, leaseMs)).toEqual({
      kind: 'replay',
      status: 201,
      body: 'first',
    });
  });

  it('frees a released key so that the same request runs again', async () => {
    await store.begin('s', 'k', hashA, t0, leaseMs);
    await store.release('s', 'k');
    expect(await rowCount()).toBe(0);
    expect(await store.begin('s', 'k', hashA, t0 + 1, leaseMs)).toEqual({ kind: 'started' });
  });

  it('keeps scopes apart', async () => {
    expect(await store.begin('caller-1', 'k', hashA, t0, leaseMs)).toEqual({ kind: 'started' });
    expect(await store.begin('caller-2', 'k', hashB, t0, leaseMs)).toEqual({ kind: 'started' });
    await store.complete('caller-1', 'k', 200, 'one', t0 + 1);
    expect(await store.begin('caller-2', 'k', hashB, t0 + 2, leaseMs)).toEqual({ kind: 'in_progress' });
  });

  it('lets the same request take over a key whose lease expired, and only the same request', async () => {
    await store.begin('s', 'k', hashA, t0, leaseMs);
    expect(await store.begin('s', 'k', hashA, t0 + leaseMs - 1, leaseMs)).toEqual({ kind: 'in_progress' });
    expect(await store.begin('s', 'k', hashB, t0 + leaseMs, leaseMs)).toEqual({ kind: 'reused' });
    expect(await store.begin('s', 'k', hashA, t0 + leaseMs, leaseMs)).toEqual({ kind: 'started' });
    // The new holder has a fresh lease.
    expect(await store.begin('s', 'k', hashA, t0 + 2 * leaseMs - 1, leaseMs)).toEqual({
      kind: 'in_progress',
    });
  });

  it('gives a free key to exactly one of many concurrent requests', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, () => store.begin('s', 'race', hashA, t0, leaseMs)),
    );
    expect(results.filter((result) => result.kind === 'started')).toHaveLength(1);
    expect(results.filter((result) => result.kind === 'in_progress')).toHaveLength(11);
  });

  it('gives an expired key to exactly one of many concurrent retries', async () => {
    await store.begin('s', 'stale', hashA, t0, leaseMs);
    const results = await Promise.all(
      Array.from({ length: 12 }, () => store.begin('s', 'stale', hashA, t0 + 5 * leaseMs, leaseMs)),
    );
    expect(results.filter((result) => result.kind === 'started')).toHaveLength(1);
  });

  it('purges keys completed, or abandoned, more than the retention ago, within the limit', async () => {
    await store.begin('s', 'old', hashA, t0, leaseMs);
    await store.complete('s', 'old', 200, 'old', t0);
    await store.begin('s', 'abandoned', hashA, t0, leaseMs);
    await store.begin('s', 'young', hashA, t0 + 5_000, leaseMs);
    await store.complete('s', 'young', 200, 'young', t0 + 5_000);

    expect(await store.purgeExpired(t0 + idempotencyKeyRetentionMs, 100)).toBe(0);
    expect(await store.purgeExpired(t0 + leaseMs + idempotencyKeyRetentionMs + 1, 1)).toBe(1);
    expect(await store.purgeExpired(t0 + leaseMs + idempotencyKeyRetentionMs + 1, 100)).toBe(1);
    expect(await rowCount()).toBe(1);
    expect(await store.begin('s', 'young', hashA, t0 + idempotencyKeyRetentionMs + 2_000, leaseMs)).toEqual({
      kind: 'replay',
      status: 200,
      body: 'young',
    });
    // A purged key is free again.
    expect(await store.begin('s', 'old', hashB, t0 + idempotencyKeyRetentionMs + 2_000, leaseMs)).toEqual({
      kind: 'started',
    });
  });

  it('keeps an answer for the whole retention after it completed, however long before the key was taken', async () => {
    await store.begin('s', 'slow', hashA, t0, leaseMs);
    await store.complete('s', 'slow', 200, 'slow', t0 + 10 * leaseMs);
    expect(await store.purgeExpired(t0 + 10 * leaseMs + idempotencyKeyRetentionMs - 1, 100)).toBe(0);
    expect(await rowCount()).toBe(1);
    expect(await store.purgeExpired(t0 + 10 * leaseMs + idempotencyKeyRetentionMs + 1, 100)).toBe(1);
    expect(await rowCount()).toBe(0);
  });

  it('refuses out-of-range arguments before touching the table', async () => {
    await expect(store.purgeExpired(t0, 0)).rejects.toThrow(RangeError);
    await expect(store.purgeExpired(t0, 1_000_000)).rejects.toThrow(RangeError);
    await expect(store.begin('s', 'k', hashA, t0, 0)).rejects.toThrow(RangeError);
    await store.begin('s', 'k', hashA, t0, leaseMs);
    await expect(store.complete('s', 'k', 99, 'x', t0)).rejects.toThrow(RangeError);
    expect(await store.begin('s', 'k', hashA, t0 + 1, leaseMs)).toEqual({ kind: 'in_progress' });
  });

  it('refuses a malformed key or hash at the database', async () => {
    await expect(store.begin('s', 'k'.repeat(256), hashA, t0, leaseMs)).rejects.toThrow();
    await expect(store.begin('s', '', hashA, t0, leaseMs)).rejects.toThrow();
    await expect(store.begin('s', 'k', 'not-a-hash', t0, leaseMs)).rejects.toThrow();
    expect(await rowCount()).toBe(0);
  });
});
