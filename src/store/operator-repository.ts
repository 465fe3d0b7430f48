/**
 * Operators and their console sessions in SQL (migration 0010).
 */
import type { OperatorRole } from '../domain/operator.js';
import type { SqlExecutor } from '../services/database.js';
import type {
  OperatorRecord,
  OperatorStore,
  OperatorSummary,
  SessionEndReason,
  TouchedOperatorSession,
} from '../services/operators/operator-store.js';

type OperatorRow = {
  readonly id: string;
  readonly name: string;
  readonly role: OperatorRole;
  readonly password_hash: string | null;
  readonly totp_key_sealed: string | null;
  readonly totp_last_step: bigint;
  readonly setup_code_hash: string | null;
  readonly setup_expires_at_ms: bigint | null;
  readonly created_at_ms: bigint;
  readonly created_by: string;
  readonly disabled_at_ms: bigint | null;
};

const msOrNull = (value: bigint | null): number | null => (value === null ? null : Number(value));

function operatorOf(row: OperatorRow): OperatorRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    passwordHash: row.password_hash,
    totpKeySealed: row.totp_key_sealed,
    totpLastStep: Number(row.totp_last_step),
    setupCodeHash: row.setup_code_hash,
    setupExpiresAtMs: msOrNull(row.setup_expires_at_ms),
    createdAtMs: Number(row.created_at_ms),
    createdBy: row.created_by,
    disabledAtMs: msOrNull(row.disabled_at_ms),
  };
}

const operatorStore: OperatorStore = {
  async insertOperator(tx: SqlExecutor, operator: OperatorRecord): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO operators (id, name, role, password_hash, totp_key_sealed, totp_last_step, setup_code_hash,
         setup_expires_at_ms, created_at_ms, created_by, disabled_at_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (name) DO NOTHING RETURNING 1 AS inserted`,
      [
        operator.id,
        operator.name,
        operator.role,
        operator.passwordHash,
        operator.totpKeySealed,
        operator.totpLastStep,
        operator.setupCodeHash,
        operator.setupExpiresAtMs,
        operator.createdAtMs,
        operator.createdBy,
        operator.disabledAtMs,
      ],
    );
    return rows.length === 1;
  },

  async selectOperatorByName(tx: SqlExecutor, name: string, lock: boolean) {
    const [row] = await tx.query<OperatorRow>(
      `SELECT * FROM operators WHERE name = $1${lock ? ' FOR UPDATE' : ''}`,
      [name],
    );
    return row === undefined ? undefined : operatorOf(row);
  },

  async listOperators(tx: SqlExecutor, nowMs: number, idleMs: number, lifetimeMs: number) {
    const rows = await tx.query<OperatorRow & { open_sessions: bigint }>(
      `SELECT o.*, (SELECT count(*) FROM operator_sessions s
          WHERE s.operator_id = o.id AND s.ended_at_ms IS NULL AND s.last_used_at_ms > $1
            AND s.created_at_ms > $2) AS open_sessions
       FROM operators o ORDER BY o.name`,
      [nowMs - idleMs, nowMs - lifetimeMs],
    );
    return rows.map(
      (row): OperatorSummary => ({
        id: row.id,
        name: row.name,
        role: row.role,
        active: row.password_hash !== null,
        disabled: row.disabled_at_ms !== null,
        createdAtMs: Number(row.created_at_ms),
        createdBy: row.created_by,
        openSessions: Number(row.open_sessions),
      }),
    );
  },

  async completeSetup(tx, id, passwordHash, totpKeySealed, totpStep) {
    await tx.query(
      `UPDATE operators SET password_hash = $2, totp_key_sealed = $3, totp_last_step = $4,
         setup_code_hash = NULL, setup_expires_at_ms = NULL WHERE id = $1`,
      [id, passwordHash, totpKeySealed, totpStep],
    );
  },

  async acceptTotpStep(tx, id, step) {
    const rows = await tx.query(
      'UPDATE operators SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2 RETURNING 1 AS accepted',
      [id, step],
    );
    return rows.length === 1;
  },

  async insertSession(tx, tokenHash, id, operatorId, nowMs) {
    await tx.query(
      `INSERT INTO operator_sessions (token_hash, id, operator_id, created_at_ms, last_used_at_ms)
       VALUES ($1, $2, $3, $4, $4)`,
      [tokenHash, id, operatorId, nowMs],
    );
  },

  async touchSession(tx, tokenHash, nowMs, idleMs, lifetimeMs) {
    // One statement checks that the session and its operator are alive and extends the idle window.
    const [row] = await tx.query<{
      id: string;
      created_at_ms: bigint;
      operator_id: string;
      name: string;
      role: OperatorRole;
    }>(
      `UPDATE operator_sessions s SET last_used_at_ms = $2
       FROM operators o
       WHERE s.token_hash = $1 AND s.ended_at_ms IS NULL AND s.last_used_at_ms > $3 AND s.created_at_ms > $4
         AND o.id = s.operator_id AND o.disabled_at_ms IS NULL
       RETURNING s.id, s.created_at_ms, s.operator_id, o.name, o.role`,
      [tokenHash, nowMs, nowMs - idleMs, nowMs - lifetimeMs],
    );
    if (row === undefined) return undefined;
    return {
      sessionId: row.id,
      createdAtMs: Number(row.created_at_ms),
      operatorId: row.operator_id,
      name: row.name,
      role: row.role,
    } satisfies TouchedOperatorSession;
  },

  async endSession(tx, tokenHash, nowMs, reason: SessionEndReason) {
    const rows = await tx.query(
      `UPDATE operator_sessions SET ended_at_ms = $2, end_reason = $3
       WHERE token_hash = $1 AND ended_at_ms IS NULL RETURNING 1 AS ended`,
      [tokenHash, nowMs, reason],
    );
    return rows.length === 1;
  },

  async endSessionsOf(tx, operatorId, nowMs, reason: SessionEndReason, idleMs, lifetimeMs) {
    // Every row not yet ended is closed; only those still alive are counted as ended now.
    const rows = await tx.query<{ live: boolean }>(
      `UPDATE operator_sessions SET ended_at_ms = $2, end_reason = $3
       WHERE operator_id = $1 AND ended_at_ms IS NULL
       RETURNING (last_used_at_ms > $4 AND created_at_ms > $5) AS live`,
      [operatorId, nowMs, reason, nowMs - idleMs, nowMs - lifetimeMs],
    );
    return rows.filter((row) => row.live).length;
  },
};

/** The SQL implementation of OperatorStore. */
export const sqlOperatorStore: OperatorStore = Object.freeze(operatorStore);
