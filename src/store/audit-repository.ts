/**
 * The audit log in SQL: `audit_log` holds the entries, `audit_head` the one row with the position and
 * hash of the last entry. Appending locks that row (SELECT … FOR UPDATE), so concurrent appenders queue
 * there and positions come out gapless without a sequence; a trigger refuses UPDATE and DELETE of entries.
 */
import type { AuditChainPoint, StoredAuditEntry } from '../domain/audit.js';
import type { AuditStore } from '../services/audit/audit-service.js';
import type { Row, SqlExecutor } from '../services/database.js';

interface HeadRow extends Row {
  position: bigint;
  hash: string;
}

interface EntryRow extends Row {
  position: bigint;
  id: string;
  event: string;
  subject: string | null;
  detail: string;
  created_at_ms: bigint;
  previous_hash: string;
  hash: string;
}

/** Converts a bigint column to a number, asserting that it is exact. */
function exactNumber(value: bigint, column: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new Error(`${column} ${value} is beyond the safe integer range`);
  return number;
}

function headFromRows(rows: readonly HeadRow[]): AuditChainPoint {
  if (rows.length !== 1) throw new Error(`audit_head must hold exactly one row, found ${rows.length}`);
  const row = rows[0]!;
  return { position: exactNumber(row.position, 'audit_head.position'), hash: row.hash };
}

/** Maps an audit_log row to the domain's stored entry. */
export function entryFromRow(row: EntryRow): StoredAuditEntry {
  return {
    id: row.id,
    position: exactNumber(row.position, 'audit_log.position'),
    event: row.event,
    subject: row.subject,
    detailJson: row.detail,
    createdAtMs: exactNumber(row.created_at_ms, 'audit_log.created_at_ms'),
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}

/** The head, locked until the end of `tx`. */
export async function lockHead(tx: SqlExecutor): Promise<AuditChainPoint> {
  return headFromRows(
    await tx.query<HeadRow>('SELECT position, hash FROM audit_head WHERE singleton FOR UPDATE'),
  );
}

/** The head, not locked. */
export async function selectHead(executor: SqlExecutor): Promise<AuditChainPoint> {
  return headFromRows(await executor.query<HeadRow>('SELECT position, hash FROM audit_head WHERE singleton'));
}

/** Inserts entries with one statement. */
export async function insertEntries(tx: SqlExecutor, entries: readonly StoredAuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await tx.query(
    `INSERT INTO audit_log (position, id, event, subject, detail, created_at_ms, previous_hash, hash)
     SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],
       $8::text[])`,
    [
      entries.map((e) => String(e.position)),
      entries.map((e) => e.id),
      entries.map((e) => e.event),
      entries.map((e) => e.subject),
      entries.map((e) => e.detailJson),
      entries.map((e) => String(e.createdAtMs)),
      entries.map((e) => e.previousHash),
      entries.map((e) => e.hash),
    ],
  );
}

/** Moves the head from `from` to `to`; throws when the head was not at `from` (the lock was not held). */
export async function moveHead(tx: SqlExecutor, from: AuditChainPoint, to: AuditChainPoint): Promise<void> {
  const rows = await tx.query(
    `UPDATE audit_head SET position = $1, hash = $2
     WHERE singleton AND position = $3 AND hash = $4 RETURNING position`,
    [String(to.position), to.hash, String(from.position), from.hash],
  );
  if (rows.length !== 1) throw new Error('the audit head moved while this transaction held its lock');
}

/** At most `limit` entries before `beforePosition` (or the newest), newest first. */
export async function selectNewest(
  executor: SqlExecutor,
  beforePosition: number | undefined,
  limit: number,
): Promise<StoredAuditEntry[]> {
  const rows =
    beforePosition === undefined
      ? await executor.query<EntryRow>('SELECT * FROM audit_log ORDER BY position DESC LIMIT $1', [limit])
      : await executor.query<EntryRow>(
          'SELECT * FROM audit_log WHERE position < $1 ORDER BY position DESC LIMIT $2',
          [String(beforePosition), limit],
        );
  return rows.map(entryFromRow);
}

/** At most `limit` entries with `afterPosition < position <= throughPosition`, oldest first. */
export async function selectRange(
  executor: SqlExecutor,
  afterPosition: number,
  throughPosition: number,
  limit: number,
): Promise<StoredAuditEntry[]> {
  const rows = await executor.query<EntryRow>(
    'SELECT * FROM audit_log WHERE position > $1 AND position <= $2 ORDER BY position LIMIT $3',
    [String(afterPosition), String(throughPosition), limit],
  );
  return rows.map(entryFromRow);
}

/** The SQL implementation of the audit log's storage interface. */
export const sqlAuditStore: AuditStore = Object.freeze({
  lockHead,
  selectHead,
  insertEntries,
  moveHead,
  selectNewest,
  selectRange,
});
