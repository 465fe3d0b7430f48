/**
 * Enrollments, terminal credentials, request nonces and open challenges in SQL.
 */

import { limits } from '../domain/limits.js';
import type { SqlExecutor } from '../services/database.js';
import type {
  EnrolledTerminalInsert,
  EnrollmentRecord,
  EnrollmentStatus,
  OpenChallengeRow,
  TerminalDetails,
  TerminalStore,
} from '../services/terminals/terminal-store.js';

interface EnrollmentRow {
  [column: string]: unknown;
  id: string;
  payer_id: string;
  terminal_id: string | null;
  suite: string;
  label: string | null;
  secret_hash: string;
  key_sealed: string | null;
  uri_sealed: string | null;
  status: EnrollmentStatus;
  failed_confirmations: number;
  created_at_ms: bigint;
  expires_at_ms: bigint;
  redeemed_at_ms: bigint | null;
}

interface TerminalRow {
  [column: string]: unknown;
  id: string;
  payer_id: string;
  suite: string;
  key_sealed: string;
  status: 'active' | 'revoked';
  label: string | null;
  public_key: string | null;
  created_at_ms: bigint;
  enrolled_at_ms: bigint | null;
  last_seen_at_ms: bigint | null;
  revoked_at_ms: bigint | null;
}

function optionalNumber(value: bigint | null): number | null {
  return value === null ? null : Number(value);
}

function enrollmentFromRow(row: EnrollmentRow): EnrollmentRecord {
  return {
    id: row.id,
    payerId: row.payer_id,
    terminalId: row.terminal_id,
    suite: row.suite,
    label: row.label,
    secretHash: row.secret_hash,
    keySealed: row.key_sealed,
    uriSealed: row.uri_sealed,
    status: row.status,
    failedConfirmations: row.failed_confirmations,
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    redeemedAtMs: optionalNumber(row.redeemed_at_ms),
  };
}

function terminalFromRow(row: TerminalRow): TerminalDetails {
  return {
    id: row.id,
    payerId: row.payer_id,
    suite: row.suite,
    keySealed: row.key_sealed,
    status: row.status,
    label: row.label,
    publicKey: row.public_key,
    createdAtMs: Number(row.created_at_ms),
    enrolledAtMs: optionalNumber(row.enrolled_at_ms),
    lastSeenAtMs: optionalNumber(row.last_seen_at_ms),
    revokedAtMs: optionalNumber(row.revoked_at_ms),
  };
}

const terminalColumns = `id, payer_id, suite, key_sealed, status, label, public_key, created_at_ms,
  enrolled_at_ms, last_seen_at_ms, revoked_at_ms`;

async function lockPayer(tx: SqlExecutor, payerId: string): Promise<boolean> {
  const rows = await tx.query('SELECT id FROM payers WHERE id = $1 FOR UPDATE', [payerId]);
  return rows.length === 1;
}

async function insertEnrollment(tx: SqlExecutor, e: EnrollmentRecord): Promise<void> {
  await tx.query(
    `INSERT INTO enrollments (id, payer_id, terminal_id, suite, label, secret_hash, key_sealed, uri_sealed,
       status, failed_confirmations, created_at_ms, expires_at_ms, redeemed_at_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      e.id,
      e.payerId,
      e.terminalId,
      e.suite,
      e.label,
      e.secretHash,
      e.keySealed,
      e.uriSealed,
      e.status,
      e.failedConfirmations,
      e.createdAtMs,
      e.expiresAtMs,
      e.redeemedAtMs,
    ],
  );
}

async function selectEnrollment(
  tx: SqlExecutor,
  id: string,
  lock: boolean,
): Promise<EnrollmentRecord | undefined> {
  const [row] = await tx.query<EnrollmentRow>(
    `SELECT * FROM enrollments WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row === undefined ? undefined : enrollmentFromRow(row);
}

async function countOpenEnrollments(tx: SqlExecutor, payerId: string, nowMs: number): Promise<number> {
  const [row] = await tx.query<{ count: bigint }>(
    `SELECT count(*)::bigint AS count FROM enrollments
     WHERE payer_id = $1 AND status = 'open' AND expires_at_ms > $2`,
    [payerId, nowMs],
  );
  return Number(row?.count ?? 0n);
}

async function markEnrollmentRedeemed(
  tx: SqlExecutor,
  id: string,
  terminalId: string,
  nowMs: number,
): Promise<void> {
  await tx.query(
    `UPDATE enrollments SET status = 'redeemed', terminal_id = $2, redeemed_at_ms = $3, key_sealed = NULL,
       uri_sealed = NULL
     WHERE id = $1 AND status = 'open'`,
    [id, terminalId, nowMs],
  );
}

async function recordEnrollmentFailure(
  tx: SqlExecutor,
  id: string,
  failures: number,
  cancel: boolean,
): Promise<void> {
  await tx.query(
    cancel
      ? `UPDATE enrollments SET failed_confirmations = $2, status = 'canceled', key_sealed = NULL,
           uri_sealed = NULL WHERE id = $1 AND status = 'open'`
      : `UPDATE enrollments SET failed_confirmations = $2 WHERE id = $1 AND status = 'open'`,
    [id, failures],
  );
}

async function expireEnrollments(tx: SqlExecutor, nowMs: number, limit: number): Promise<number> {
  const rows = await tx.query(
    `UPDATE enrollments SET status = 'expired', key_sealed = NULL, uri_sealed = NULL
     WHERE id IN (SELECT id FROM enrollments WHERE status = 'open' AND expires_at_ms <= $1
                  ORDER BY expires_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [nowMs, limit],
  );
  return rows.length;
}

async function insertEnrolledTerminal(tx: SqlExecutor, t: EnrolledTerminalInsert): Promise<void> {
  await tx.query(
    `INSERT INTO terminals (id, payer_id, suite, key_sealed, status, label, public_key, created_at_ms,
       enrolled_at_ms)
     VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $7)`,
    [t.id, t.payerId, t.suite, t.keySealed, t.label, t.publicKey, t.nowMs],
  );
}

async function attachCredential(
  tx: SqlExecutor,
  terminalId: string,
  publicKey: string,
  label: string | null,
  nowMs: number,
): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE terminals SET public_key = $2, label = COALESCE($3, label), enrolled_at_ms = $4
     WHERE id = $1 AND status = 'active' AND public_key IS NULL RETURNING id`,
    [terminalId, publicKey, label, nowMs],
  );
  return rows.length === 1;
}

async function selectTerminal(
  tx: SqlExecutor,
  id: string,
  lock: boolean,
): Promise<TerminalDetails | undefined> {
  const [row] = await tx.query<TerminalRow>(
    `SELECT ${terminalColumns} FROM terminals WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row === undefined ? undefined : terminalFromRow(row);
}

async function listTerminals(tx: SqlExecutor, payerId: string, limit: number): Promise<TerminalDetails[]> {
  const rows = await tx.query<TerminalRow>(
    `SELECT ${terminalColumns} FROM terminals WHERE payer_id = $1 ORDER BY created_at_ms, id LIMIT $2`,
    [payerId, limit],
  );
  return rows.map(terminalFromRow);
}

/** Active terminals of both kinds, OCRA devices and passkeys: one limit covers them all. */
async function countActiveTerminals(tx: SqlExecutor, payerId: string): Promise<number> {
  const [row] = await tx.query<{ count: bigint }>(
    `SELECT (SELECT count(*) FROM terminals WHERE payer_id = $1 AND status = 'active')
          + (SELECT count(*) FROM passkeys WHERE payer_id = $1 AND status = 'active') AS count`,
    [payerId],
  );
  return Number(row?.count ?? 0n);
}

async function revokeTerminal(tx: SqlExecutor, id: string, nowMs: number): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE terminals SET status = 'revoked', revoked_at_ms = $2 WHERE id = $1 AND status = 'active'
     RETURNING id`,
    [id, nowMs],
  );
  return rows.length === 1;
}

async function insertNonce(
  tx: SqlExecutor,
  keyId: string,
  nonce: string,
  expiresAtMs: number,
): Promise<boolean> {
  // ON CONFLICT rather than catching a unique violation, which would abort a PostgreSQL transaction.
  const rows = await tx.query(
    `INSERT INTO terminal_request_nonces (key_id, nonce, expires_at_ms) VALUES ($1, $2, $3)
     ON CONFLICT (key_id, nonce) DO NOTHING RETURNING nonce`,
    [keyId, nonce, expiresAtMs],
  );
  return rows.length === 1;
}

async function touchTerminal(tx: SqlExecutor, id: string, nowMs: number): Promise<void> {
  await tx.query(
    `UPDATE terminals SET last_seen_at_ms = $2
     WHERE id = $1 AND (last_seen_at_ms IS NULL OR last_seen_at_ms < $3)`,
    [id, nowMs, nowMs - limits.terminalTouchIntervalMs],
  );
}

async function purgeNonces(tx: SqlExecutor, nowMs: number, limit: number): Promise<number> {
  const rows = await tx.query(
    `DELETE FROM terminal_request_nonces WHERE (key_id, nonce) IN (
       SELECT key_id, nonce FROM terminal_request_nonces WHERE expires_at_ms <= $1 LIMIT $2
       FOR UPDATE SKIP LOCKED)
     RETURNING nonce`,
    [nowMs, limit],
  );
  return rows.length;
}

async function selectOpenChallenges(
  tx: SqlExecutor,
  terminalIds: readonly string[],
  nowMs: number,
  limit: number,
): Promise<OpenChallengeRow[]> {
  if (terminalIds.length === 0) return [];
  // Starts from the terminals' second codes: a terminal sees exactly the open payments it can approve.
  const rows = await tx.query<{
    delivery_id: string;
    payment_id: string;
    payer_id: string;
    terminal_id: string;
    payload_sealed: string;
    created_at_ms: bigint;
  }>(
    `SELECT d.id AS delivery_id, p.id AS payment_id, p.payer_id, s.terminal_id, d.payload_sealed, d.created_at_ms
     FROM terminals t
     JOIN payments p ON p.payer_id = t.payer_id AND p.status = 'requires_approval' AND p.expires_at_ms > $2
     JOIN payment_second_codes s ON s.payment_id = p.id AND s.terminal_id = t.id
     JOIN deliveries d ON d.payment_id = p.id AND d.channel = 'second_terminal'
     WHERE t.id = ANY($1::uuid[]) AND t.status = 'active'
     ORDER BY d.created_at_ms, d.id LIMIT $3`,
    [terminalIds, nowMs, limit],
  );
  return rows.map((row) => ({
    deliveryId: row.delivery_id,
    paymentId: row.payment_id,
    payerId: row.payer_id,
    terminalId: row.terminal_id,
    payloadSealed: row.payload_sealed,
    createdAtMs: Number(row.created_at_ms),
  }));
}

async function selectTerminalStatuses(
  tx: SqlExecutor,
  terminalIds: readonly string[],
): Promise<Map<string, 'active' | 'revoked'>> {
  if (terminalIds.length === 0) return new Map();
  const rows = await tx.query<{ id: string; status: 'active' | 'revoked' }>(
    'SELECT id, status FROM terminals WHERE id = ANY($1::uuid[])',
    [terminalIds],
  );
  return new Map(rows.map((row) => [row.id, row.status]));
}

async function selectApprovingTerminals(tx: SqlExecutor, paymentId: string): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `SELECT t.id FROM payment_second_codes s JOIN terminals t ON t.id = s.terminal_id
     WHERE s.payment_id = $1 AND t.status = 'active' ORDER BY t.id`,
    [paymentId],
  );
  return rows.map((row) => row.id);
}

/** The SQL implementation of TerminalStore. */
export const sqlTerminalStore: TerminalStore = Object.freeze({
  lockPayer,
  insertEnrollment,
  selectEnrollment,
  countOpenEnrollments,
  markEnrollmentRedeemed,
  recordEnrollmentFailure,
  expireEnrollments,
  insertEnrolledTerminal,
  attachCredential,
  selectTerminal,
  listTerminals,
  countActiveTerminals,
  revokeTerminal,
  insertNonce,
  touchTerminal,
  purgeNonces,
  selectOpenChallenges,
  selectTerminalStatuses,
  selectApprovingTerminals,
});
