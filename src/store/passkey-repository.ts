/** The SQL of passkeys and their ceremonies' nonces (migration 0011). */
import type { PasskeyChallengeState, PasskeyState } from '../domain/passkey.js';
import type { Row, SqlExecutor } from '../services/database.js';
import type {
  PasskeyChallengeRecord,
  PasskeyRecord,
  PasskeyStore,
} from '../services/passkeys/passkey-store.js';

interface ChallengeRow extends Row {
  id: string;
  payer_id: string;
  purpose: 'registration' | 'approval';
  payment_id: string | null;
  nonce: string;
  created_at_ms: string | number | bigint;
  expires_at_ms: string | number | bigint;
  used_at_ms: string | number | bigint | null;
}

interface PasskeyRow extends Row {
  id: string;
  payer_id: string;
  credential_id: string;
  public_key: string;
  sign_count: string | number | bigint;
  aaguid: string;
  transports: string;
  label: string | null;
  status: 'active' | 'revoked';
  created_at_ms: string | number | bigint;
  last_used_at_ms: string | number | bigint | null;
  revoked_at_ms: string | number | bigint | null;
}

const optional = (value: string | number | bigint | null): number | null =>
  value === null ? null : Number(value);

function challengeFromRow(row: ChallengeRow): PasskeyChallengeRecord {
  return {
    id: row.id,
    payerId: row.payer_id,
    purpose: row.purpose,
    paymentId: row.payment_id,
    nonce: row.nonce,
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    usedAtMs: optional(row.used_at_ms),
  };
}

function passkeyFromRow(row: PasskeyRow): PasskeyRecord {
  return {
    id: row.id,
    payerId: row.payer_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    signCount: Number(row.sign_count),
    aaguid: row.aaguid,
    transports: row.transports,
    label: row.label,
    status: row.status,
    createdAtMs: Number(row.created_at_ms),
    lastUsedAtMs: optional(row.last_used_at_ms),
    revokedAtMs: optional(row.revoked_at_ms),
  };
}

async function insertChallenge(tx: SqlExecutor, c: PasskeyChallengeRecord): Promise<void> {
  await tx.query(
    `INSERT INTO passkey_challenges (id, payer_id, purpose, payment_id, nonce, created_at_ms, expires_at_ms, used_at_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [c.id, c.payerId, c.purpose, c.paymentId, c.nonce, c.createdAtMs, c.expiresAtMs, c.usedAtMs],
  );
}

async function countOpenChallenges(tx: SqlExecutor, payerId: string, nowMs: number): Promise<number> {
  const [row] = await tx.query<{ count: bigint }>(
    `SELECT count(*)::bigint AS count FROM passkey_challenges
     WHERE payer_id = $1 AND used_at_ms IS NULL AND expires_at_ms > $2`,
    [payerId, nowMs],
  );
  return Number(row?.count ?? 0n);
}

async function deleteExpiredChallenges(
  tx: SqlExecutor,
  payerId: string,
  nowMs: number,
  limit: number,
): Promise<void> {
  await tx.query(
    `DELETE FROM passkey_challenges WHERE id IN (
       SELECT id FROM passkey_challenges WHERE payer_id = $1 AND expires_at_ms <= $2 LIMIT $3)`,
    [payerId, nowMs, limit],
  );
}

async function selectChallenge(
  tx: SqlExecutor,
  id: string,
  lock: boolean,
): Promise<PasskeyChallengeRecord | undefined> {
  const [row] = await tx.query<ChallengeRow>(
    `SELECT * FROM passkey_challenges WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row === undefined ? undefined : challengeFromRow(row);
}

async function markChallengesUsed(tx: SqlExecutor, ids: readonly string[], nowMs: number): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(
    'UPDATE passkey_challenges SET used_at_ms = $2 WHERE id = ANY($1::uuid[]) AND used_at_ms IS NULL',
    [[...ids], nowMs],
  );
}

async function insertPasskey(tx: SqlExecutor, p: PasskeyRecord): Promise<void> {
  await tx.query(
    `INSERT INTO passkeys (id, payer_id, credential_id, public_key, sign_count, aaguid, transports, label,
       status, created_at_ms, last_used_at_ms, revoked_at_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      p.id,
      p.payerId,
      p.credentialId,
      p.publicKey,
      p.signCount,
      p.aaguid,
      p.transports,
      p.label,
      p.status,
      p.createdAtMs,
      p.lastUsedAtMs,
      p.revokedAtMs,
    ],
  );
}

async function listPasskeys(tx: SqlExecutor, payerId: string, limit: number): Promise<PasskeyRecord[]> {
  const rows = await tx.query<PasskeyRow>(
    'SELECT * FROM passkeys WHERE payer_id = $1 ORDER BY created_at_ms, id LIMIT $2',
    [payerId, limit],
  );
  return rows.map(passkeyFromRow);
}

async function selectPasskey(tx: SqlExecutor, id: string, lock: boolean): Promise<PasskeyRecord | undefined> {
  const [row] = await tx.query<PasskeyRow>(
    `SELECT * FROM passkeys WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row === undefined ? undefined : passkeyFromRow(row);
}

async function selectPasskeyByCredential(
  tx: SqlExecutor,
  credentialId: string,
): Promise<PasskeyRecord | undefined> {
  const [row] = await tx.query<PasskeyRow>('SELECT * FROM passkeys WHERE credential_id = $1', [credentialId]);
  return row === undefined ? undefined : passkeyFromRow(row);
}

async function revokePasskey(tx: SqlExecutor, id: string, nowMs: number): Promise<void> {
  await tx.query(
    `UPDATE passkeys SET status = 'revoked', revoked_at_ms = $2 WHERE id = $1 AND status = 'active'`,
    [id, nowMs],
  );
}

async function lockForApprovals(
  tx: SqlExecutor,
  challengeIds: readonly string[],
  credentialIds: readonly string[],
): Promise<{ challenges: Map<string, PasskeyChallengeState>; passkeys: Map<string, PasskeyState> }> {
  const [challengeRows, passkeyRows] = [
    challengeIds.length === 0
      ? []
      : await tx.query<ChallengeRow>(
          'SELECT * FROM passkey_challenges WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
          [[...challengeIds]],
        ),
    credentialIds.length === 0
      ? []
      : await tx.query<PasskeyRow>(
          'SELECT * FROM passkeys WHERE credential_id = ANY($1::text[]) ORDER BY id FOR UPDATE',
          [[...credentialIds]],
        ),
  ];
  return {
    challenges: new Map(challengeRows.map((row) => [row.id, challengeFromRow(row)])),
    passkeys: new Map(passkeyRows.map((row) => [row.credential_id, passkeyFromRow(row)])),
  };
}

async function recordSignCounts(
  tx: SqlExecutor,
  counts: ReadonlyMap<string, number>,
  nowMs: number,
): Promise<void> {
  if (counts.size === 0) return;
  await tx.query(
    `UPDATE passkeys p SET sign_count = u.sign_count, last_used_at_ms = $3
     FROM unnest($1::uuid[], $2::bigint[]) AS u(id, sign_count) WHERE p.id = u.id`,
    [[...counts.keys()], [...counts.values()], nowMs],
  );
}

async function selectFirstCodeHash(tx: SqlExecutor, paymentId: string): Promise<string | undefined> {
  const [row] = await tx.query<{ first_code_hash: string }>(
    'SELECT first_code_hash FROM payments WHERE id = $1',
    [paymentId],
  );
  return row?.first_code_hash;
}

/** The SQL implementation of PasskeyStore. */
export const sqlPasskeyStore: PasskeyStore = Object.freeze({
  insertChallenge,
  countOpenChallenges,
  deleteExpiredChallenges,
  selectChallenge,
  markChallengesUsed,
  insertPasskey,
  listPasskeys,
  selectPasskey,
  selectPasskeyByCredential,
  revokePasskey,
  lockForApprovals,
  selectFirstCodeHash,
  recordSignCounts,
});
