/**
 * What a window of work cost one PostgreSQL database: WAL bytes, commits, rows written per table, and
 * statements when the server loads `pg_stat_statements`. Read as a difference of two snapshots, so that
 * a complete payment and a pgbench transaction are measured the same way.
 *
 * Caveats, stated with every figure: `pg_current_wal_lsn()` is the whole cluster's, so WAL written by
 * other databases meanwhile counts too; PostgreSQL 15 flushes a backend's table counters when it goes
 * idle, at most once a second, so a snapshot taken during load misses up to a second of them (the end
 * snapshot waits for the flush, see `statisticsFlushWaitMs`).
 */
import { openPostgres } from '../../src/store/postgres-database.js';

/** Rows written to one table over the window. */
export interface TableWrites {
  readonly inserted: number;
  readonly updated: number;
  /** Of `updated`, those that needed no new index entry (heap-only tuples). */
  readonly hotUpdated: number;
  readonly deleted: number;
}

/** A snapshot of a database's counters. */
export interface ActivitySnapshot {
  readonly walLsn: string;
  readonly commits: number;
  readonly tables: Readonly<Record<string, TableWrites>>;
  /** Calls counted by pg_stat_statements in this database; null when the extension is not loaded. */
  readonly statements: number | null;
}

/** What a window cost, in total and per unit of work (payment or pgbench transaction). */
export interface ActivityCost {
  readonly units: number;
  readonly walBytes: number;
  readonly walBytesPerUnit: number | null;
  readonly commitsPerUnit: number | null;
  readonly statementsPerUnit: number | null;
  /** Why statements are null, when they are. */
  readonly statementsNote: string | null;
  readonly rowsWrittenPerUnit: Readonly<Record<string, TableWrites>>;
  readonly rowsWrittenPerUnitTotal: number | null;
}

/**
 * PostgreSQL 15 leaves a backend's table counters pending for up to `PGSTAT_IDLE_INTERVAL` (10 s) once
 * it goes idle; waiting a little longer makes the end snapshot complete.
 */
export const statisticsFlushWaitMs = 11_000;

const statementsMissing = 'pg_stat_statements is not in shared_preload_libraries on this server';

function lsnBytes(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/** Reads the counters of the database at `url` (one short connection). */
export async function activitySnapshot(url: string): Promise<ActivitySnapshot> {
  const database = await openPostgres({ url, poolSize: 1 });
  try {
    const [wal] = await database.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    const [commits] = await database.query<{ commits: string }>(
      'SELECT xact_commit::text AS commits FROM pg_stat_database WHERE datname = current_database()',
    );
    const rows = await database.query<{
      relname: string;
      ins: string;
      upd: string;
      hot: string;
      del: string;
    }>(
      `SELECT relname, n_tup_ins::text AS ins, n_tup_upd::text AS upd, n_tup_hot_upd::text AS hot,
         n_tup_del::text AS del FROM pg_stat_user_tables`,
    );
    const tables: Record<string, TableWrites> = {};
    for (const row of rows) {
      tables[row.relname] = {
        inserted: Number(row.ins),
        updated: Number(row.upd),
        hotUpdated: Number(row.hot),
        deleted: Number(row.del),
      };
    }
    return { walLsn: wal!.lsn, commits: Number(commits!.commits), tables, statements: await statements() };
  } finally {
    await database.close();
  }

  async function statements(): Promise<number | null> {
    try {
      const loaded = await database.query<{ setting: string }>(
        "SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'",
      );
      if (!(loaded[0]?.setting ?? '').includes('pg_stat_statements')) return null;
      await database.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      const [row] = await database.query<{ calls: string }>(
        `SELECT coalesce(sum(calls), 0)::text AS calls FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      return Number(row!.calls);
    } catch {
      return null;
    }
  }
}

function per(value: number, units: number, digits = 2): number | null {
  if (units <= 0) return null;
  const factor = 10 ** digits;
  return Math.round((value / units) * factor) / factor;
}

/** The cost of the window between two snapshots, per unit of work. */
export function activityCost(before: ActivitySnapshot, after: ActivitySnapshot, units: number): ActivityCost {
  const walBytes = Number(lsnBytes(after.walLsn) - lsnBytes(before.walLsn));
  const rowsWrittenPerUnit: Record<string, TableWrites> = {};
  let total = 0;
  for (const [table, end] of Object.entries(after.tables)) {
    const start = before.tables[table] ?? { inserted: 0, updated: 0, hotUpdated: 0, deleted: 0 };
    const written = {
      inserted: end.inserted - start.inserted,
      updated: end.updated - start.updated,
      hotUpdated: end.hotUpdated - start.hotUpdated,
      deleted: end.deleted - start.deleted,
    };
    const sum = written.inserted + written.updated + written.deleted;
    if (sum === 0) continue;
    total += sum;
    rowsWrittenPerUnit[table] = {
      inserted: per(written.inserted, units) ?? 0,
      updated: per(written.updated, units) ?? 0,
      hotUpdated: per(written.hotUpdated, units) ?? 0,
      deleted: per(written.deleted, units) ?? 0,
    };
  }
  const statements =
    before.statements === null || after.statements === null ? null : after.statements - before.statements;
  return {
    units,
    walBytes,
    walBytesPerUnit: per(walBytes, units, 0),
    commitsPerUnit: per(after.commits - before.commits, units),
    statementsPerUnit: statements === null ? null : per(statements, units),
    statementsNote: statements === null ? statementsMissing : null,
    rowsWrittenPerUnit,
    rowsWrittenPerUnitTotal: per(total, units),
  };
}
