/**
 * The webhook outbox in SQL: events (append-only), deliveries, and every attempt (append-only).
 */
import type { ListCursor } from '../domain/merchant.js';
import type { WebhookEventType } from '../domain/webhook.js';
import type { SqlExecutor } from '../services/database.js';
import type {
  ClaimedDelivery,
  DeliveryUpdate,
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookEventRecord,
  WebhookStore,
} from '../services/merchants/merchant-stores.js';

interface EventRow {
  [column: string]: unknown;
  id: string;
  merchant_id: string;
  type: WebhookEventType;
  body: string;
  created_at_ms: bigint;
}

interface DeliveryRow {
  [column: string]: unknown;
  id: string;
  event_id: string;
  event_type: WebhookEventType;
  merchant_id: string;
  url: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at_ms: bigint;
  give_up_at_ms: bigint;
  replay_of: string | null;
  created_at_ms: bigint;
  updated_at_ms: bigint;
  completed_at_ms: bigint | null;
}

interface AttemptRow {
  [column: string]: unknown;
  delivery_id: string;
  attempt: number;
  started_at_ms: bigint;
  duration_ms: number;
  response_status: number | null;
  error: string | null;
  response_excerpt: string | null;
}

const noCursor = { createdAtMs: Number.MAX_SAFE_INTEGER, id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' };

function eventFromRow(row: EventRow): WebhookEventRecord {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    type: row.type,
    body: row.body,
    createdAtMs: Number(row.created_at_ms),
  };
}

function deliveryFromRow(row: DeliveryRow): WebhookDeliveryRecord {
  return {
    id: row.id,
    eventId: row.event_id,
    eventType: row.event_type,
    merchantId: row.merchant_id,
    url: row.url,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAtMs: Number(row.next_attempt_at_ms),
    giveUpAtMs: Number(row.give_up_at_ms),
    replayOf: row.replay_of,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
    completedAtMs: row.completed_at_ms === null ? null : Number(row.completed_at_ms),
  };
}

function attemptFromRow(row: AttemptRow): WebhookAttemptRecord {
  return {
    deliveryId: row.delivery_id,
    attempt: row.attempt,
    startedAtMs: Number(row.started_at_ms),
    durationMs: row.duration_ms,
    responseStatus: row.response_status,
    error: row.error,
    responseExcerpt: row.response_excerpt,
  };
}

async function insertEvent(tx: SqlExecutor, event: WebhookEventRecord): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO webhook_events (id, merchant_id, type, body, created_at_ms) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [event.id, event.merchantId, event.type, event.body, event.createdAtMs],
  );
  return rows.length === 1;
}

async function insertDelivery(
  tx: SqlExecutor,
  delivery: Parameters<WebhookStore['insertDelivery']>[1],
): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_deliveries (id, event_id, merchant_id, url, status, attempts, next_attempt_at_ms,
       give_up_at_ms, replay_of, created_at_ms, updated_at_ms)
     VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
    [
      delivery.id,
      delivery.eventId,
      delivery.merchantId,
      delivery.url,
      delivery.nextAttemptAtMs,
      delivery.giveUpAtMs,
      delivery.replayOf,
      delivery.createdAtMs,
      delivery.updatedAtMs,
    ],
  );
}

async function selectEvent(
  tx: SqlExecutor,
  merchantId: string,
  id: string,
): Promise<WebhookEventRecord | undefined> {
  const [row] = await tx.query<EventRow>('SELECT * FROM webhook_events WHERE merchant_id = $1 AND id = $2', [
    merchantId,
    id,
  ]);
  return row === undefined ? undefined : eventFromRow(row);
}

async function listEvents(
  tx: SqlExecutor,
  merchantId: string,
  limit: number,
  cursor: ListCursor | undefined,
): Promise<WebhookEventRecord[]> {
  const after = cursor ?? noCursor;
  const rows = await tx.query<EventRow>(
    `SELECT * FROM webhook_events WHERE merchant_id = $1 AND (created_at_ms, id) < ($2::bigint, $3::uuid)
     ORDER BY created_at_ms DESC, id DESC LIMIT $4`,
    [merchantId, after.createdAtMs, after.id, limit],
  );
  return rows.map(eventFromRow);
}

const deliveryColumns = `d.id, d.event_id, e.type AS event_type, d.merchant_id, d.url, d.status, d.attempts,
  d.next_attempt_at_ms, d.give_up_at_ms, d.replay_of, d.created_at_ms, d.updated_at_ms, d.completed_at_ms`;

async function selectDelivery(
  tx: SqlExecutor,
  merchantId: string,
  id: string,
): Promise<WebhookDeliveryRecord | undefined> {
  const [row] = await tx.query<DeliveryRow>(
    `SELECT ${deliveryColumns} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
     WHERE d.merchant_id = $1 AND d.id = $2`,
    [merchantId, id],
  );
  return row === undefined ? undefined : deliveryFromRow(row);
}

async function listDeliveries(
  tx: SqlExecutor,
  merchantId: string,
  limit: number,
  cursor: ListCursor | undefined,
): Promise<WebhookDeliveryRecord[]> {
  const after = cursor ?? noCursor;
  const rows = await tx.query<DeliveryRow>(
    `SELECT ${deliveryColumns} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
     WHERE d.merchant_id = $1 AND (d.created_at_ms, d.id) < ($2::bigint, $3::uuid)
     ORDER BY d.created_at_ms DESC, d.id DESC LIMIT $4`,
    [merchantId, after.createdAtMs, after.id, limit],
  );
  return rows.map(deliveryFromRow);
}

async function listAttempts(
  tx: SqlExecutor,
  deliveryIds: readonly string[],
): Promise<WebhookAttemptRecord[]> {
  if (deliveryIds.length === 0) return [];
  const rows = await tx.query<AttemptRow>(
    `SELECT * FROM webhook_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt`,
    [[...deliveryIds]],
  );
  return rows.map(attemptFromRow);
}

async function claimDue(
  tx: SqlExecutor,
  nowMs: number,
  leaseUntilMs: number,
  limit: number,
): Promise<ClaimedDelivery[]> {
  const rows = await tx.query<{
    id: string;
    event_id: string;
    merchant_id: string;
    url: string;
    attempts: number;
    give_up_at_ms: bigint;
    body: string;
  }>(
    `WITH due AS (
       SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at_ms <= $1
       ORDER BY next_attempt_at_ms LIMIT $3 FOR UPDATE SKIP LOCKED)
     UPDATE webhook_deliveries d
     SET attempts = d.attempts + 1, next_attempt_at_ms = $2, updated_at_ms = $1
     FROM due, webhook_events e
     WHERE d.id = due.id AND e.id = d.event_id
     RETURNING d.id, d.event_id, d.merchant_id, d.url, d.attempts, d.give_up_at_ms, e.body`,
    [nowMs, leaseUntilMs, limit],
  );
  return rows.map((row) => ({
    id: row.id,
    eventId: row.event_id,
    merchantId: row.merchant_id,
    url: row.url,
    attempt: row.attempts,
    giveUpAtMs: Number(row.give_up_at_ms),
    body: row.body,
  }));
}

async function recordAttempt(
  tx: SqlExecutor,
  attempt: WebhookAttemptRecord,
  update: DeliveryUpdate,
  nowMs: number,
): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_attempts (delivery_id, attempt, started_at_ms, duration_ms, response_status, error,
       response_excerpt)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [
      attempt.deliveryId,
      attempt.attempt,
      attempt.startedAtMs,
      attempt.durationMs,
      attempt.responseStatus,
      attempt.error,
      attempt.responseExcerpt,
    ],
  );
  const pending = update.status === 'pending';
  await tx.query(
    `UPDATE webhook_deliveries
     SET status = $3, next_attempt_at_ms = COALESCE($4::bigint, next_attempt_at_ms), completed_at_ms = $5::bigint,
       updated_at_ms = $6
     WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
    [
      attempt.deliveryId,
      attempt.attempt,
      update.status,
      pending ? update.nextAttemptAtMs : null,
      pending ? null : update.completedAtMs,
      nowMs,
    ],
  );
}

/** The SQL implementation of WebhookStore. */
export const sqlWebhookStore: WebhookStore = Object.freeze({
  insertEvent,
  insertDelivery,
  selectEvent,
  listEvents,
  selectDelivery,
  listDeliveries,
  listAttempts,
  claimDue,
  recordAttempt,
});
