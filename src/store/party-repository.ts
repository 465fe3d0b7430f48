/**
 * Payers, payees, terminals, attempt counters and sessions in SQL.
 */
import { type AttemptState, freshAttemptState } from '../domain/attempts.js';
import { sessionTouchIntervalMs } from '../domain/payer.js';
import type { SqlExecutor } from '../services/database.js';
import type {
  PartyStore,
  PayeeRecord,
  PayerRecord,
  TerminalRecord,
  TouchedSession,
} from '../services/parties/party-store.js';

interface PayerRow {
  [column: string]: unknown;
  id: string;
  password_hash: string;
  verification_code_sealed: string;
  created_at_ms: bigint;
}

interface TerminalRow {
  [column: string]: unknown;
  id: string;
  payer_id: string;
  suite: string;
  key_sealed: string;
  status: 'active' | 'revoked';
  label: string | null;
  created_at_ms: bigint;
}

interface PayeeRow {
  [column: string]: unknown;
  id: string;
  name: string;
  kind: 'payee' | 'merchant';
  created_at_ms: bigint;
}

interface AttemptRow {
  [column: string]: unknown;
  consecutive_failures: number;
  reserved: number;
  reserved_until_ms: bigint | null;
  locked_until_ms: bigint | null;
  consecutive_locks: number;
  blocked: boolean;
}

function terminalFromRow(row: TerminalRow): TerminalRecord {
  return {
    id: row.id,
    payerId: row.payer_id,
    suite: row.suite,
    keySealed: row.key_sealed,
    status: row.status,
    label: row.label,
    createdAtMs: Number(row.created_at_ms),
  };
}

async function insertPayer(tx: SqlExecutor, payer: PayerRecord): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO payers (id, password_hash, verification_code_sealed, created_at_ms) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [payer.id, payer.passwordHash, payer.verificationCodeSealed, payer.createdAtMs],
  );
  return rows.length === 1;
}

async function selectPayer(tx: SqlExecutor, id: string): Promise<PayerRecord | undefined> {
  const [row] = await tx.query<PayerRow>('SELECT * FROM payers WHERE id = $1', [id]);
  if (row === undefined) return undefined;
  return {
    id: row.id,
    passwordHash: row.password_hash,
    verificationCodeSealed: row.verification_code_sealed,
    createdAtMs: Number(row.created_at_ms),
  };
}

async function insertTerminal(tx: SqlExecutor, terminal: TerminalRecord): Promise<void> {
  await tx.query(
    `INSERT INTO terminals (id, payer_id, suite, key_sealed, status, label, created_at_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      terminal.id,
      terminal.payerId,
      terminal.suite,
      terminal.keySealed,
      terminal.status,
      terminal.label,
      terminal.createdAtMs,
    ],
  );
}

async function selectActiveTerminals(tx: SqlExecutor, payerId: string): Promise<TerminalRecord[]> {
  const rows = await tx.query<TerminalRow>(
    `SELECT * FROM terminals WHERE payer_id = $1 AND status = 'active' ORDER BY created_at_ms, id`,
    [payerId],
  );
  return rows.map(terminalFromRow);
}

async function insertPayee(tx: SqlExecutor, payee: PayeeRecord): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO payees (id, name, kind, created_at_ms) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [payee.id, payee.name, payee.kind, payee.createdAtMs],
  );
  return rows.length === 1;
}

async function selectPayee(tx: SqlExecutor, id: string): Promise<PayeeRecord | undefined> {
  const [row] = await tx.query<PayeeRow>('SELECT * FROM payees WHERE id = $1', [id]);
  if (row === undefined) return undefined;
  return { id: row.id, name: row.name, kind: row.kind, createdAtMs: Number(row.created_at_ms) };
}

async function selectAttemptState(tx: SqlExecutor, subject: string, lock: boolean): Promise<AttemptState> {
  if (lock) {
    // Make sure the row exists so that the lock below has something to hold, even for an unknown id.
    await tx.query(
      `INSERT INTO authentication_failures (subject, updated_at_ms) VALUES ($1, 0) ON CONFLICT (subject) DO NOTHING`,
      [subject],
    );
  }
  const [row] = await tx.query<AttemptRow>(
    `SELECT * FROM authentication_failures WHERE subject = $1${lock ? ' FOR UPDATE' : ''}`,
    [subject],
  );
  return row === undefined ? freshAttemptState : attemptStateOf(row);
}

/**
 * The attempt states of claimed payer ids, each row locked for update, in subject order (so that two
 * transactions never wait on each other in a cycle). Rows are created for ids never seen; both statements
 * go in one round trip.
 */
export async function lockAttemptStates(
  tx: SqlExecutor,
  subjects: readonly string[],
): Promise<Map<string, AttemptState>> {
  if (subjects.length === 0) return new Map();
  const sorted = [...new Set(subjects)].sort();
  const [, rows] = await Promise.all([
    tx.query(
      `INSERT INTO authentication_failures (subject, updated_at_ms)
       SELECT s, 0 FROM unnest($1::text[]) AS u(s) ORDER BY s ON CONFLICT (subject) DO NOTHING`,
      [sorted],
    ),
    tx.query<AttemptRow & { subject: string }>(
      `SELECT * FROM authentication_failures WHERE subject = ANY($1::text[]) ORDER BY subject FOR UPDATE`,
      [sorted],
    ),
  ]);
  return new Map(rows.map((row) => [row.subject, attemptStateOf(row)]));
}

async function saveAttemptState(
  tx: SqlExecutor,
  subject: string,
  state: AttemptState,
  nowMs: number,
): Promise<void> {
  await saveAttemptStates(tx, new Map([[subject, state]]), nowMs);
}

/** Writes attempt states with one statement. */
export async function saveAttemptStates(
  tx: SqlExecutor,
  states: ReadonlyMap<string, AttemptState>,
  nowMs: number,
): Promise<void> {
  if (states.size === 0) return;
  const entries = [...states];
  await tx.query(
    `INSERT INTO authentication_failures (subject, consecutive_failures, reserved, reserved_until_ms,
       locked_until_ms, consecutive_locks, blocked, updated_at_ms)
     SELECT s, f, r, ru, lu, cl, b::boolean, $8 FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[],
       $5::bigint[], $6::int[], $7::text[]) AS u(s, f, r, ru, lu, cl, b)
     ON CONFLICT (subject) DO UPDATE SET consecutive_failures = EXCLUDED.consecutive_failures,
       reserved = EXCLUDED.reserved, reserved_until_ms = EXCLUDED.reserved_until_ms,
       locked_until_ms = EXCLUDED.locked_until_ms, consecutive_locks = EXCLUDED.consecutive_locks,
       blocked = EXCLUDED.blocked, updated_at_ms = EXCLUDED.updated_at_ms`,
    [
      entries.map(([subject]) => subject),
      entries.map(([, state]) => state.consecutiveFailures),
      entries.map(([, state]) => state.reserved),
      entries.map(([, state]) => state.reservedUntilMs),
      entries.map(([, state]) => state.lockedUntilMs),
      entries.map(([, state]) => state.consecutiveLocks),
      entries.map(([, state]) => String(state.blocked)),
      nowMs,
    ],
  );
}

async function insertSession(
  tx: SqlExecutor,
  tokenHash: string,
  payerId: string,
  nowMs: number,
): Promise<void> {
  await tx.query(
    `INSERT INTO sessions (token_hash, payer_id, created_at_ms, last_used_at_ms) VALUES ($1, $2, $3, $3)`,
    [tokenHash, payerId, nowMs],
  );
}

async function touchSession(
  tx: SqlExecutor,
  tokenHash: string,
  nowMs: number,
  idleMs: number,
  lifetimeMs: number,
): Promise<TouchedSession | undefined> {
  // One statement checks that the session is alive, extends its idle window when its recorded use is older
  // than the touch interval (else it only reads it), and reads its payer's lock.
  const [row] = await tx.query<
    { payer_id: string; created_at_ms: bigint; last_used_at_ms: bigint } & JoinedAttemptColumns
  >(
    `WITH live AS (
       SELECT token_hash, payer_id, created_at_ms, last_used_at_ms FROM sessions
       WHERE token_hash = $1 AND NOT revoked AND last_used_at_ms > $3 AND created_at_ms > $4
     ), touched AS (
       UPDATE sessions s SET last_used_at_ms = $2
       FROM live l WHERE s.token_hash = l.token_hash AND l.last_used_at_ms <= $5
       RETURNING s.last_used_at_ms
     )
     SELECT l.payer_id, l.created_at_ms,
       greatest(l.last_used_at_ms, (SELECT max(last_used_at_ms) FROM touched)) AS last_used_at_ms,
       ${attemptColumns('f')}
     FROM live l LEFT JOIN authentication_failures f ON f.subject = l.payer_id`,
    [tokenHash, nowMs, nowMs - idleMs, nowMs - lifetimeMs, nowMs - sessionTouchIntervalMs(idleMs)],
  );
  if (row === undefined) return undefined;
  return {
    payerId: row.payer_id,
    createdAtMs: Number(row.created_at_ms),
    lastUsedAtMs: Number(row.last_used_at_ms),
    attempts: attemptStateOf(row),
  };
}

/** The columns of authentication_failures as a LEFT JOIN gives them: null when the payer was never seen. */
export interface JoinedAttemptColumns {
  readonly [column: string]: unknown;
  readonly consecutive_failures?: number | null;
  readonly reserved?: number | null;
  readonly reserved_until_ms?: bigint | null;
  readonly locked_until_ms?: bigint | null;
  readonly consecutive_locks?: number | null;
  readonly blocked?: boolean | null;
}

/** The columns `attemptStateOf` reads, for a statement's select list (qualified by `alias`). */
export function attemptColumns(alias: string): string {
  return [
    'consecutive_failures',
    'reserved',
    'reserved_until_ms',
    'locked_until_ms',
    'consecutive_locks',
    'blocked',
  ]
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

/** The attempt state of a row joined from authentication_failures; a payer never seen has the fresh one. */
export function attemptStateOf(row: JoinedAttemptColumns): AttemptState {
  if (row.consecutive_failures === undefined || row.consecutive_failures === null) return freshAttemptState;
  const ms = (value: bigint | null | undefined) =>
    value === null || value === undefined ? null : Number(value);
  return {
    consecutiveFailures: row.consecutive_failures,
    reserved: row.reserved ?? 0,
    reservedUntilMs: ms(row.reserved_until_ms),
    lockedUntilMs: ms(row.locked_until_ms),
    consecutiveLocks: row.consecutive_locks ?? 0,
    blocked: row.blocked ?? false,
  };
}

async function revokeSession(tx: SqlExecutor, tokenHash: string): Promise<void> {
  await tx.query('UPDATE sessions SET revoked = true WHERE token_hash = $1', [tokenHash]);
}

/** The SQL implementation of PartyStore. */
export const sqlPartyStore: PartyStore = Object.freeze({
  insertPayer,
  selectPayer,
  insertTerminal,
  selectActiveTerminals,
  insertPayee,
  selectPayee,
  selectAttemptState,
  saveAttemptState,
  lockAttemptStates,
  saveAttemptStates,
  insertSession,
  touchSession,
  revokeSession,
});
