/**
 * Idempotency keys claimed and completed many at a time: one INSERT for the claims of a batch of requests,
 * one UPDATE for their completions, where `idempotency-repository` runs a statement per request.
 */

import type { SqlExecutor } from '../services/database.js';
import type {
  IdempotencyBatchStore,
  IdempotencyCompletion,
} from '../services/group-commit/coalesced-stores.js';
import type { IdempotencyClaim } from '../services/idempotency/idempotency-store.js';

/** Claims free keys with one statement; per claim, whether it was inserted (the caller now holds it). */
async function claimKeys(executor: SqlExecutor, claims: readonly IdempotencyClaim[]): Promise<boolean[]> {
  const rows = await executor.query<{ n: bigint }>(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
         WITH ORDINALITY AS i(scope, key, request_hash, now_ms, locked_until_ms, n)
     ), inserted AS (
       INSERT INTO idempotency_keys (scope, key, request_hash, status, created_at_ms, locked_until_ms)
       SELECT scope, key, request_hash, 'in_progress', now_ms, locked_until_ms FROM input
       ON CONFLICT (scope, key) DO NOTHING
       RETURNING scope, key
     )
     SELECT i.n FROM input i JOIN inserted USING (scope, key)`,
    [
      claims.map((c) => c.scope),
      claims.map((c) => c.key),
      claims.map((c) => c.requestHash),
      claims.map((c) => c.nowMs),
      claims.map((c) => c.nowMs + c.leaseMs),
    ],
  );
  const inserted = new Set(rows.map((row) => Number(row.n)));
  return claims.map((_, index) => inserted.has(index + 1));
}

/** Stores the responses of in-progress keys with one statement; a key no longer in progress is left alone. */
async function completeKeys(
  executor: SqlExecutor,
  completions: readonly IdempotencyCompletion[],
): Promise<void> {
  await executor.query(
    `UPDATE idempotency_keys k
        SET status = 'completed', response_status = u.status, response_body = u.body, completed_at_ms = u.now_ms,
            locked_until_ms = NULL
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bigint[]) AS u(scope, key, status, body, now_ms)
      WHERE k.scope = u.scope AND k.key = u.key AND k.status = 'in_progress'`,
    [
      completions.map((c) => c.scope),
      completions.map((c) => c.key),
      completions.map((c) => c.status),
      completions.map((c) => c.body),
      completions.map((c) => c.nowMs),
    ],
  );
}

/** The SQL implementation of IdempotencyBatchStore. */
export const sqlIdempotencyBatchStore: IdempotencyBatchStore = Object.freeze({ claimKeys, completeKeys });
