// Snapshots every table of a test database, so that a test can assert that a rejected request changed nothing, or exactly which tables it may change.
import type { SqlExecutor } from '../../src/services/database.js';

/** Per table, a digest of all its rows (in a canonical order): equal digests, equal contents. */
export type DatabaseSnapshot = ReadonlyMap<string, string>;

/**
 * Every base table of the public schema (found, not listed, so that a table added later is covered too),
 * each reduced to the MD5 of its rows' text sorted: one round trip, whatever the number of tables.
 * `schema_migrations` is left out: nothing but a migration writes it.
 */
export async function snapshotTables(database: SqlExecutor): Promise<DatabaseSnapshot> {
  const tables = await database.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'
     ORDER BY table_name`,
  );
  const digests = tables.map(
    ({ table_name: table }) =>
      `SELECT '${table}' AS table_name, count(*)::text || ':' ||
         md5(coalesce(string_agg(row_text, E'\\n' ORDER BY row_text), '')) AS digest
       FROM (SELECT t::text AS row_text FROM "${table}" t) rows`,
  );
  const rows = await database.query<{ table_name: string; digest: string }>(digests.join('\nUNION ALL\n'));
  return new Map(rows.map((row) => [row.table_name, row.digest]));
}

/** The names of the tables whose contents differ between two snapshots, sorted. */
export function changedTables(before: DatabaseSnapshot, after: DatabaseSnapshot): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => before.get(name) !== after.get(name)).sort();
}
