/**
 * The delivery outbox in SQL: claiming due messages, recording attempts and outcomes, the operator's
 * listing, and the development outbox.
 */
import type { PaymentStatus } from '../domain/payment.js';
import type { SqlExecutor } from '../services/database.js';
import type {
  DeliveryAttemptRecord,
  DeliveryListQuery,
  DeliveryOutcome,
  DeliveryRecord,
  DeliveryStatus,
  DeliveryStore,
  DevelopmentMessageRecord,
} from '../services/delivery/delivery-store.js';

interface DeliveryRow {
  [column: string]: unknown;
  id: string;
  payer_id: string;
  payment_id: string | null;
  channel: string;
  payload_sealed: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at_ms: bigint;
  last_error: string | null;
  created_at_ms: bigint;
  delivered_at_ms: bigint | null;
}

const deliveryColumns = `id, payer_id, payment_id, channel, payload_sealed, status, attempts, next_attempt_at_ms,
  last_error, created_at_ms, delivered_at_ms`;

function deliveryFromRow(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    payerId: row.payer_id,
    paymentId: row.payment_id,
    channel: row.channel,
    payloadSealed: row.payload_sealed,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAtMs: Number(row.next_attempt_at_ms),
    lastError: row.last_error,
    createdAtMs: Number(row.created_at_ms),
    deliveredAtMs: row.delivered_at_ms === null ? null : Number(row.delivered_at_ms),
  };
}

async function claimDue(
  tx: SqlExecutor,
  nowMs: number,
  limit: number,
  leaseUntilMs: number,
): Promise<DeliveryRecord[]> {
  const rows = await tx.query<DeliveryRow>(
    `SELECT ${deliveryColumns} FROM deliveries WHERE status = 'pending' AND next_attempt_at_ms <= $1
     ORDER BY next_attempt_at_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [nowMs, limit],
  );
  if (rows.length > 0) {
    await tx.query('UPDATE deliveries SET next_attempt_at_ms = $2 WHERE id = ANY($1::uuid[])', [
      rows.map((row) => row.id),
      leaseUntilMs,
    ]);
  }
  return rows.map(deliveryFromRow);
}

async function selectSucceededChannels(tx: SqlExecutor, deliveryId: string): Promise<string[]> {
  const rows = await tx.query<{ channel: string }>(
    'SELECT DISTINCT channel FROM delivery_attempts WHERE delivery_id = $1 AND succeeded',
    [deliveryId],
  );
  return rows.map((row) => row.channel);
}

async function insertAttempts(tx: SqlExecutor, attempts: readonly DeliveryAttemptRecord[]): Promise<void> {
  if (attempts.length === 0) return;
  await tx.query(
    `INSERT INTO delivery_attempts (id, delivery_id, attempt, channel, succeeded, error, created_at_ms)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[]::boolean[], $6::text[],
       $7::bigint[])`,
    [
      attempts.map((a) => a.id),
      attempts.map((a) => a.deliveryId),
      attempts.map((a) => a.attempt),
      attempts.map((a) => a.channel),
      attempts.map((a) => a.succeeded),
      attempts.map((a) => a.error),
      attempts.map((a) => a.createdAtMs),
    ],
  );
}

async function completeDelivery(tx: SqlExecutor, id: string, outcome: DeliveryOutcome): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE deliveries SET status = $2, attempts = $3, next_attempt_at_ms = $4, last_error = $5,
       delivered_at_ms = $6
     WHERE id = $1 AND status = 'pending' RETURNING id`,
    [id, outcome.status, outcome.attempts, outcome.nextAttemptAtMs, outcome.lastError, outcome.deliveredAtMs],
  );
  return rows.length === 1;
}

async function selectPaymentStates(
  tx: SqlExecutor,
  paymentIds: readonly string[],
): Promise<Map<string, { status: PaymentStatus; expiresAtMs: number }>> {
  if (paymentIds.length === 0) return new Map();
  const rows = await tx.query<{ id: string; status: PaymentStatus; expires_at_ms: bigint }>(
    'SELECT id, status, expires_at_ms FROM payments WHERE id = ANY($1::uuid[])',
    [paymentIds],
  );
  return new Map(rows.map((row) => [row.id, { status: row.status, expiresAtMs: Number(row.expires_at_ms) }]));
}

async function listDeliveries(tx: SqlExecutor, query: DeliveryListQuery): Promise<DeliveryRecord[]> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (query.status !== undefined) {
    params.push(query.status);
    conditions.push(`status = $${params.length}`);
  }
  if (query.payerId !== undefined) {
    params.push(query.payerId);
    conditions.push(`payer_id = $${params.length}`);
  }
  if (query.startingAfter !== undefined) {
    params.push(query.startingAfter.createdAtMs, query.startingAfter.id);
    conditions.push(`(created_at_ms, id) < ($${params.length - 1}, $${params.length}::uuid)`);
  }
  params.push(query.limit);
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  const rows = await tx.query<DeliveryRow>(
    `SELECT ${deliveryColumns} FROM deliveries ${where} ORDER BY created_at_ms DESC, id DESC
     LIMIT $${params.length}`,
    params,
  );
  return rows.map(deliveryFromRow);
}

async function selectDelivery(
  tx: SqlExecutor,
  id: string,
  lock: boolean,
): Promise<DeliveryRecord | undefined> {
  const [row] = await tx.query<DeliveryRow>(
    `SELECT ${deliveryColumns} FROM deliveries WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row === undefined ? undefined : deliveryFromRow(row);
}

async function listAttempts(
  tx: SqlExecutor,
  deliveryId: string,
  limit: number,
): Promise<DeliveryAttemptRecord[]> {
  const rows = await tx.query<{
    id: string;
    delivery_id: string;
    attempt: number;
    channel: string;
    succeeded: boolean;
    error: string | null;
    created_at_ms: bigint;
  }>(
    `SELECT id, delivery_id, attempt, channel, succeeded, error, created_at_ms FROM delivery_attempts
     WHERE delivery_id = $1 ORDER BY created_at_ms, attempt, channel LIMIT $2`,
    [deliveryId, limit],
  );
  return rows.map((row) => ({
    id: row.id,
    deliveryId: row.delivery_id,
    attempt: row.attempt,
    channel: row.channel,
    succeeded: row.succeeded,
    error: row.error,
    createdAtMs: Number(row.created_at_ms),
  }));
}

async function retryDelivery(tx: SqlExecutor, id: string, nowMs: number): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at_ms = $2
     WHERE id = $1 AND status = 'failed' RETURNING id`,
    [id, nowMs],
  );
  return rows.length === 1;
}

async function insertDevelopmentMessage(tx: SqlExecutor, message: DevelopmentMessageRecord): Promise<void> {
  await tx.query(
    `INSERT INTO development_outbox (delivery_id, payer_id, message_sealed, created_at_ms)
     VALUES ($1, $2, $3, $4) ON CONFLICT (delivery_id) DO NOTHING`,
    [message.deliveryId, message.payerId, message.messageSealed, message.createdAtMs],
  );
}

async function listDevelopmentMessages(tx: SqlExecutor, limit: number): Promise<DevelopmentMessageRecord[]> {
  const rows = await tx.query<{
    delivery_id: string;
    payer_id: string;
    message_sealed: string;
    created_at_ms: bigint;
  }>(
    `SELECT delivery_id, payer_id, message_sealed, created_at_ms FROM development_outbox
     ORDER BY created_at_ms DESC, delivery_id DESC LIMIT $1`,
    [limit],
  );
  return rows.map((row) => ({
    deliveryId: row.delivery_id,
    payerId: row.payer_id,
    messageSealed: row.message_sealed,
    createdAtMs: Number(row.created_at_ms),
  }));
}

async function purgeDevelopmentMessages(
  tx: SqlExecutor,
  createdBeforeMs: number,
  limit: number,
): Promise<number> {
  const rows = await tx.query(
    `DELETE FROM development_outbox WHERE delivery_id IN (
       SELECT delivery_id FROM development_outbox WHERE created_at_ms < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING delivery_id`,
    [createdBeforeMs, limit],
  );
  return rows.length;
}

/** The SQL implementation of DeliveryStore. */
export const sqlDeliveryStore: DeliveryStore = Object.freeze({
  claimDue,
  selectSucceededChannels,
  insertAttempts,
  completeDelivery,
  selectPaymentStates,
  listDeliveries,
  selectDelivery,
  listAttempts,
  retryDelivery,
  insertDevelopmentMessage,
  listDevelopmentMessages,
  purgeDevelopmentMessages,
});
