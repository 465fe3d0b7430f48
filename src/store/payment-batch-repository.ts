/**
 * The set-oriented SQL of the payment executor: each function reads or writes the rows of a whole batch
 * (of one or of hundreds of operations) with one statement, arrays passed as parameters and `unnest`ed.
 */
import type { AttemptState } from '../domain/attempts.js';
import { sessionTouchIntervalMs } from '../domain/payer.js';
import type { Payment } from '../domain/payment.js';
import type { LockedPayment } from '../domain/payment-rules.js';
import type { Row, SqlExecutor } from '../services/database.js';
import type { TouchedSession } from '../services/parties/party-store.js';
import type {
  PayerCodeMaterial,
  PaymentBatchStore,
  PaymentStatusChange,
  SessionTouch,
} from '../services/payments/payment-batch-store.js';
import type { PaymentInsert } from '../services/payments/payment-store.js';
import { sqlIdempotencyBatchStore } from './idempotency-batch-repository.js';
import { metadataText } from './metadata-text.js';
import { attemptColumns, attemptStateOf, type JoinedAttemptColumns } from './party-repository.js';
import { paymentFromRow } from './payment-repository.js';

interface MaterialRow extends Row {
  payer_id: string;
  verification_code_sealed: string;
  terminal_id: string | null;
  suite: string | null;
  key_sealed: string | null;
}

/** Names of the payees that exist among `ids`. */
async function selectPayeeNames(tx: SqlExecutor, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await tx.query<{ id: string; name: string }>(
    'SELECT id, name FROM payees WHERE id = ANY($1::text[])',
    [[...ids]],
  );
  return new Map(rows.map((row) => [row.id, row.name]));
}

/** Sealed verification codes and active terminals of payers, terminals in the order the single path uses. */
async function selectCodeMaterial(
  tx: SqlExecutor,
  payerIds: readonly string[],
): Promise<Map<string, PayerCodeMaterial>> {
  const rows = await tx.query<MaterialRow>(
    `SELECT p.id AS payer_id, p.verification_code_sealed, t.id AS terminal_id, t.suite, t.key_sealed
     FROM payers p LEFT JOIN terminals t ON t.payer_id = p.id AND t.status = 'active'
     WHERE p.id = ANY($1::text[])
     ORDER BY p.id, t.created_at_ms, t.id`,
    [[...payerIds]],
  );
  const material = new Map<
    string,
    PayerCodeMaterial & { terminals: { id: string; suite: string; keySealed: string }[] }
  >();
  for (const row of rows) {
    let entry = material.get(row.payer_id);
    if (entry === undefined) {
      entry = { verificationCodeSealed: row.verification_code_sealed, terminals: [] };
      material.set(row.payer_id, entry);
    }
    if (row.terminal_id !== null && row.suite !== null && row.key_sealed !== null) {
      entry.terminals.push({ id: row.terminal_id, suite: row.suite, keySealed: row.key_sealed });
    }
  }
  return material;
}

/**
 * Inserts payments and their second-code hashes; returns the ids inserted. A payment whose id or open
 * first code is taken is skipped (ON CONFLICT DO NOTHING), for the caller to notice and resolve.
 */
async function insertPayments(tx: SqlExecutor, inserts: readonly PaymentInsert[]): Promise<Set<string>> {
  if (inserts.length === 0) return new Set();
  const p = inserts.map((insert) => insert.payment);
  const codes = inserts.flatMap((insert) =>
    insert.secondCodeHashes.map((code) => ({ paymentId: insert.payment.id, ...code })),
  );
  // One statement: the second codes go in only with a payment that went in (their foreign key is checked
  // at the end of the statement, when both are there).
  const rows = await tx.query<{ id: string }>(
    `WITH inserted AS (
       INSERT INTO payments (id, payer_id, payee_id, amount, currency, status, deliver_to, hold_transfer_id,
         failed_approvals, payment_request_id, created_at_ms, expires_at_ms, updated_at_ms, first_code_hash,
         metadata)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
         $7::text[], $8::uuid[], $9::int[], $10::uuid[], $11::bigint[], $12::bigint[], $13::bigint[], $14::text[],
         $18::text[])
       ON CONFLICT DO NOTHING RETURNING id
     ), codes AS (
       INSERT INTO payment_second_codes (payment_id, terminal_id, second_code_hash)
       SELECT c.payment_id, c.terminal_id, c.hash
       FROM unnest($15::uuid[], $16::uuid[], $17::text[]) AS c(payment_id, terminal_id, hash)
       WHERE c.payment_id IN (SELECT id FROM inserted)
     )
     SELECT id FROM inserted`,
    [
      p.map((x) => x.id),
      p.map((x) => x.payerId),
      p.map((x) => x.payeeId),
      p.map((x) => x.amount),
      p.map((x) => x.currency),
      p.map((x) => x.status),
      p.map((x) => x.deliverTo),
      p.map((x) => x.holdTransferId),
      p.map((x) => x.failedApprovals),
      p.map((x) => x.paymentRequestId),
      p.map((x) => x.createdAtMs),
      p.map((x) => x.expiresAtMs),
      p.map((x) => x.updatedAtMs),
      inserts.map((insert) => insert.firstCodeHash),
      codes.map((c) => c.paymentId),
      codes.map((c) => c.terminalId),
      codes.map((c) => c.hash),
      p.map((x) => metadataText(x.metadata)),
    ],
  );
  return new Set(rows.map((row) => row.id));
}

type PaymentRow = Parameters<typeof paymentFromRow>[0];

/**
 * Payments with the hashes that approve them and their payers' sealed verification codes, in one
 * statement, locked in id order (so that two batches never wait on each other in a cycle). Only second
 * codes of terminals still active count: revoking a terminal takes effect at once.
 */
async function lockPayments(tx: SqlExecutor, ids: readonly string[]): Promise<Map<string, LockedPayment>> {
  const rows = await tx.query<PaymentRow & LockedColumns>(
    `SELECT p.*, r.verification_code_sealed,
       (SELECT string_agg(c.second_code_hash, ',')
        FROM payment_second_codes c JOIN terminals t ON t.id = c.terminal_id
        WHERE c.payment_id = p.id AND t.status = 'active') AS second_code_hashes
     FROM payments p JOIN payers r ON r.id = p.payer_id
     WHERE p.id = ANY($1::uuid[]) ORDER BY p.id FOR UPDATE OF p`,
    [[...ids]],
  );
  return new Map(
    rows.map((row) => [
      row.id,
      {
        payment: paymentFromRow(row),
        firstCodeHash: row.first_code_hash,
        secondCodeHashes: row.second_code_hashes === null ? [] : row.second_code_hashes.split(','),
        verificationCodeSealed: row.verification_code_sealed,
      },
    ]),
  );
}

/** Columns `lockPayments` reads besides the payment's own. */
interface LockedColumns {
  first_code_hash: string;
  second_code_hashes: string | null;
  verification_code_sealed: string;
}

/** Payments that exist among `ids`, not locked (a retried creation finds its payment). */
async function selectPayments(tx: SqlExecutor, ids: readonly string[]): Promise<Map<string, Payment>> {
  const rows = await tx.query<PaymentRow>('SELECT * FROM payments WHERE id = ANY($1::uuid[])', [[...ids]]);
  return new Map(rows.map((row) => [row.id, paymentFromRow(row)]));
}

/** Attempt states of claimed payer ids, not locked; an id never seen has none. */
async function selectAttemptStates(
  tx: SqlExecutor,
  subjects: readonly string[],
): Promise<Map<string, AttemptState>> {
  const rows = await tx.query<JoinedAttemptColumns & { subject: string }>(
    `SELECT f.subject, ${attemptColumns('f')} FROM authentication_failures f WHERE f.subject = ANY($1::text[])`,
    [[...subjects]],
  );
  return new Map(rows.map((row) => [row.subject, attemptStateOf(row)]));
}

/** Sets the status and failed-approval count of many payments with one statement. */
async function updatePaymentStatuses(
  tx: SqlExecutor,
  changes: readonly PaymentStatusChange[],
  nowMs: number,
): Promise<void> {
  if (changes.length === 0) return;
  await tx.query(
    `UPDATE payments p SET status = u.status, failed_approvals = u.failed, updated_at_ms = $4
     FROM unnest($1::uuid[], $2::text[], $3::int[]) AS u(id, status, failed) WHERE p.id = u.id`,
    [
      changes.map((c) => c.paymentId),
      changes.map((c) => c.status),
      changes.map((c) => c.failedApprovals),
      nowMs,
    ],
  );
}

/** Ids of open payments past their expiry, oldest first (not locked: the executor locks and decides). */
async function selectDuePaymentIds(tx: SqlExecutor, nowMs: number, limit: number): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `SELECT id FROM payments WHERE status = 'requires_approval' AND expires_at_ms <= $1
     ORDER BY expires_at_ms LIMIT $2`,
    [nowMs, limit],
  );
  return rows.map((row) => row.id);
}

/**
 * Checks and extends many sessions with one statement, each as `party-repository`'s `touchSession` would:
 * alive when not revoked, used within its idle window and younger than its lifetime, as of its own `nowMs`;
 * and reads each live session's payer's attempt state. Returns one answer per touch, in order.
 */
async function touchSessions(
  executor: SqlExecutor,
  touches: readonly SessionTouch[],
): Promise<(TouchedSession | undefined)[]> {
  // Sessions whose recorded use is older than the touch interval are extended; the others only read.
  const rows = await executor.query<
    { n: bigint; payer_id: string; created_at_ms: bigint; last_used_at_ms: bigint } & JoinedAttemptColumns
  >(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
         WITH ORDINALITY AS i(token_hash, now_ms, used_after_ms, created_after_ms, touch_before_ms, n)
     ), live AS (
       SELECT i.n, i.token_hash, i.now_ms, i.touch_before_ms, s.payer_id, s.created_at_ms, s.last_used_at_ms
       FROM input i JOIN sessions s ON s.token_hash = i.token_hash
       WHERE NOT s.revoked AND s.last_used_at_ms > i.used_after_ms AND s.created_at_ms > i.created_after_ms
     ), touched AS (
       UPDATE sessions s SET last_used_at_ms = t.now_ms
       FROM (SELECT token_hash, max(now_ms) AS now_ms FROM live
             WHERE last_used_at_ms <= touch_before_ms GROUP BY token_hash) t
       WHERE s.token_hash = t.token_hash
       RETURNING s.token_hash, s.last_used_at_ms
     )
     SELECT l.n, l.payer_id, l.created_at_ms,
       greatest(l.last_used_at_ms, t.last_used_at_ms) AS last_used_at_ms, ${attemptColumns('f')}
     FROM live l LEFT JOIN touched t ON t.token_hash = l.token_hash
       LEFT JOIN authentication_failures f ON f.subject = l.payer_id`,
    [
      touches.map((t) => t.tokenHash),
      touches.map((t) => t.nowMs),
      touches.map((t) => t.nowMs - t.idleMs),
      touches.map((t) => t.nowMs - t.lifetimeMs),
      touches.map((t) => t.nowMs - sessionTouchIntervalMs(t.idleMs)),
    ],
  );
  const found = new Map(rows.map((row) => [Number(row.n), row]));
  return touches.map((_, index) => {
    const row = found.get(index + 1);
    if (row === undefined) return undefined;
    return {
      payerId: row.payer_id,
      createdAtMs: Number(row.created_at_ms),
      lastUsedAtMs: Number(row.last_used_at_ms),
      attempts: attemptStateOf(row),
    };
  });
}

/** The SQL implementation of PaymentBatchStore. */
export const sqlPaymentBatchStore: PaymentBatchStore = Object.freeze({
  selectPayeeNames,
  selectCodeMaterial,
  insertPayments,
  lockPayments,
  selectPayments,
  selectAttemptStates,
  updatePaymentStatuses,
  selectDuePaymentIds,
  touchSessions,
  claimKeys: sqlIdempotencyBatchStore.claimKeys,
});
