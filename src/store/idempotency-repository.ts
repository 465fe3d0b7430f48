/**
 * Idempotency keys in SQL. Claiming a key is one `INSERT … ON CONFLICT DO NOTHING`: the primary key decides
 * which of two concurrent requests wins, with no advisory lock and no transaction spanning the handler, so
 * the same statements work on PGlite, PostgreSQL and distributed PostgreSQL-compatible engines.
 */

import { limits } from '../domain/limits.js';
import type { SqlExecutor } from '../services/database.js';
import type {
  IdempotencyBeginResult,
  IdempotencyClaim,
  IdempotencyStore,
} from '../services/idempotency/idempotency-store.js';

const { idempotencyKeyRetentionMs, idempotencyPurgeBatchSizeMax } = limits;

interface IdempotencyRow {
  [column: string]: unknown;
  request_hash: string;
  status: 'in_progress' | 'completed';
  response_status: number | null;
  response_body: string | null;
  locked_until_ms: bigint | null;
}

/** The IdempotencyStore over a SQL database. */
export class IdempotencyRepository implements IdempotencyStore {
  constructor(private readonly database: SqlExecutor) {}

  async begin(
    scope: string,
    key: string,
    requestHash: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<IdempotencyBeginResult> {
    if (!(leaseMs > 0)) throw new RangeError(`leaseMs must be positive, got ${leaseMs}`);
    for (let round = 0; round < limits.idempotencyClaimRoundsMax; round++) {
      if (await this.insert(scope, key, requestHash, nowMs, leaseMs)) return { kind: 'started' };
      const row = await this.find(scope, key);
      if (row === undefined) continue;
      if (row.request_hash !== requestHash) return { kind: 'reused' };
      if (row.status === 'completed') return replay(row);
      if (Number(row.locked_until_ms) > nowMs) return { kind: 'in_progress' };
      if (await this.takeOver(scope, key, requestHash, nowMs, leaseMs)) return { kind: 'started' };
    }
    return { kind: 'in_progress' };
  }

  claimFor(
    scope: string,
    key: string,
    requestHash: string,
    nowMs: number,
    leaseMs: number,
  ): IdempotencyClaim {
    if (!(leaseMs > 0)) throw new RangeError(`leaseMs must be positive, got ${leaseMs}`);
    return { scope, key, requestHash, nowMs, leaseMs };
  }

  async complete(scope: string, key: string, status: number, body: string, nowMs: number): Promise<void> {
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new RangeError(`status must be an HTTP status, got ${status}`);
    }
    // Only an in-progress key is completed: a stored response is never overwritten by a late writer.
    await this.database.query(
      `UPDATE idempotency_keys
          SET status = 'completed', response_status = $3, response_body = $4, completed_at_ms = $5,
              locked_until_ms = NULL
        WHERE scope = $1 AND key = $2 AND status = 'in_progress'`,
      [scope, key, status, body, nowMs],
    );
  }

  async release(scope: string, key: string): Promise<void> {
    await this.database.query(
      `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 'in_progress'`,
      [scope, key],
    );
  }

  async purgeExpired(nowMs: number, limit: number): Promise<number> {
    if (!Number.isInteger(limit) || limit < 1 || limit > idempotencyPurgeBatchSizeMax) {
      throw new RangeError(`limit must be between 1 and ${idempotencyPurgeBatchSizeMax}, got ${limit}`);
    }
    // `created_at_ms < $1` follows from the rest (a key is taken before its lease ends or it completes):
    // it is there for the index the purge reads (migration 0017), which the completion does not touch.
    const deleted = await this.database.query(
      `DELETE FROM idempotency_keys
        WHERE (scope, key) IN (
          SELECT scope, key FROM idempotency_keys
           WHERE created_at_ms < $1
             AND ((status = 'completed' AND completed_at_ms < $1)
               OR (status = 'in_progress' AND locked_until_ms < $1))
           LIMIT $2)
        RETURNING key`,
      [nowMs - idempotencyKeyRetentionMs, limit],
    );
    return deleted.length;
  }

  private async insert(
    scope: string,
    key: string,
    requestHash: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<boolean> {
    const inserted = await this.database.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, status, created_at_ms, locked_until_ms)
       VALUES ($1, $2, $3, 'in_progress', $4, $5)
       ON CONFLICT (scope, key) DO NOTHING
       RETURNING key`,
      [scope, key, requestHash, nowMs, nowMs + leaseMs],
    );
    return inserted.length === 1;
  }

  private async find(scope: string, key: string): Promise<IdempotencyRow | undefined> {
    const rows = await this.database.query<IdempotencyRow>(
      `SELECT request_hash, status, response_status, response_body, locked_until_ms
         FROM idempotency_keys WHERE scope = $1 AND key = $2`,
      [scope, key],
    );
    return rows[0];
  }

  /**
   * Takes over a key whose holder's lease ran out (its process crashed mid-request). The condition on the
   * lease is re-checked by the UPDATE itself, so of two retries racing for the same stale key only one wins.
   */
  private async takeOver(
    scope: string,
    key: string,
    requestHash: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<boolean> {
    const updated = await this.database.query(
      `UPDATE idempotency_keys SET locked_until_ms = $5, created_at_ms = $4
        WHERE scope = $1 AND key = $2 AND request_hash = $3
          AND status = 'in_progress' AND locked_until_ms <= $4
        RETURNING key`,
      [scope, key, requestHash, nowMs, nowMs + leaseMs],
    );
    return updated.length === 1;
  }
}

function replay(row: IdempotencyRow): IdempotencyBeginResult {
  // The table's CHECK guarantees both columns on a completed row; their absence is a broken invariant.
  if (row.response_status === null || row.response_body === null) {
    throw new Error('completed idempotency key without a stored response');
  }
  return { kind: 'replay', status: row.response_status, body: row.response_body };
}
