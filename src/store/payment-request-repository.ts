/**
 * Payment requests in SQL, and the payments made for them.
 */
import type { ListCursor, PaymentRequest, PaymentRequestStatus } from '../domain/merchant.js';
import type { Payment } from '../domain/payment.js';
import type { SqlExecutor } from '../services/database.js';
import type { PaymentRequestStore } from '../services/merchants/merchant-stores.js';
import { metadataFromText, metadataText } from './metadata-text.js';
import { paymentFromRow } from './payment-repository.js';

interface RequestRow {
  [column: string]: unknown;
  id: string;
  merchant_id: string;
  amount: bigint;
  currency: string;
  reference: string;
  description: string | null;
  return_url: string | null;
  status: PaymentRequestStatus;
  payment_id: string | null;
  metadata: string;
  created_at_ms: bigint;
  expires_at_ms: bigint;
  updated_at_ms: bigint;
}

const requestColumns = `id, merchant_id, amount, currency, reference, description, return_url, status,
  payment_id, created_at_ms, expires_at_ms, updated_at_ms, metadata`;

function requestFromRow(row: RequestRow): PaymentRequest {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    amount: row.amount,
    currency: row.currency,
    reference: row.reference,
    description: row.description,
    returnUrl: row.return_url,
    status: row.status,
    paymentId: row.payment_id,
    metadata: metadataFromText(row.metadata),
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  };
}

async function insertRequest(tx: SqlExecutor, request: PaymentRequest): Promise<'inserted' | 'exists'> {
  const rows = await tx.query(
    `INSERT INTO payment_requests (${requestColumns})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [
      request.id,
      request.merchantId,
      request.amount,
      request.currency,
      request.reference,
      request.description,
      request.returnUrl,
      request.status,
      request.paymentId,
      request.createdAtMs,
      request.expiresAtMs,
      request.updatedAtMs,
      metadataText(request.metadata),
    ],
  );
  return rows.length === 1 ? 'inserted' : 'exists';
}

async function selectRequest(
  tx: SqlExecutor,
  id: string,
  lock: boolean,
): Promise<PaymentRequest | undefined> {
  const [row] = await tx.query<RequestRow>(
    `SELECT ${requestColumns} FROM payment_requests WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row === undefined ? undefined : requestFromRow(row);
}

async function listRequests(
  tx: SqlExecutor,
  merchantId: string,
  limit: number,
  cursor: ListCursor | undefined,
): Promise<PaymentRequest[]> {
  const rows = await tx.query<RequestRow>(
    `SELECT ${requestColumns} FROM payment_requests
     WHERE merchant_id = $1 AND (created_at_ms, id) < ($2::bigint, $3::uuid)
     ORDER BY created_at_ms DESC, id DESC LIMIT $4`,
    [
      merchantId,
      cursor?.createdAtMs ?? Number.MAX_SAFE_INTEGER,
      cursor?.id ?? 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      limit,
    ],
  );
  return rows.map(requestFromRow);
}

async function updateRequestStatus(
  tx: SqlExecutor,
  id: string,
  status: PaymentRequestStatus,
  paymentId: string | null,
  nowMs: number,
): Promise<void> {
  await tx.query(
    'UPDATE payment_requests SET status = $2, payment_id = $3, updated_at_ms = $4 WHERE id = $1',
    [id, status, paymentId, nowMs],
  );
}

async function selectPendingPayments(
  tx: SqlExecutor,
  requestId: string,
  nowMs: number,
  exceptPaymentId?: string,
): Promise<Payment[]> {
  const rows = await tx.query(
    `SELECT id, payer_id, payee_id, amount, currency, status, deliver_to, hold_transfer_id, failed_approvals,
       payment_request_id, metadata, created_at_ms, expires_at_ms, updated_at_ms
     FROM payments
     WHERE payment_request_id = $1 AND status = 'requires_approval' AND expires_at_ms > $2
       AND id <> $3::uuid
     ORDER BY created_at_ms`,
    [requestId, nowMs, exceptPaymentId ?? '00000000-0000-0000-0000-000000000000'],
  );
  return rows.map((row) => paymentFromRow(row as Parameters<typeof paymentFromRow>[0]));
}

async function selectDueRequests(tx: SqlExecutor, nowMs: number, limit: number): Promise<PaymentRequest[]> {
  const rows = await tx.query<RequestRow>(
    `SELECT ${requestColumns} FROM payment_requests r
     WHERE r.status = 'open' AND r.expires_at_ms <= $1
       AND NOT EXISTS (
         SELECT 1 FROM payments p
         WHERE p.payment_request_id = r.id AND p.status = 'requires_approval' AND p.expires_at_ms > $1)
     ORDER BY r.expires_at_ms LIMIT $2 FOR UPDATE OF r SKIP LOCKED`,
    [nowMs, limit],
  );
  return rows.map(requestFromRow);
}

/** The SQL implementation of PaymentRequestStore. */
export const sqlPaymentRequestStore: PaymentRequestStore = Object.freeze({
  insertRequest,
  selectRequest,
  listRequests,
  updateRequestStatus,
  selectPendingPayments,
  selectDueRequests,
});
