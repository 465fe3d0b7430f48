/**
 * Forward-only migrations: SQL files in `migrations/`, applied in name order at start and recorded in
 * `schema_migrations`. Two processes starting at once are safe without advisory locks: each migration
 * runs in a transaction that first inserts its row; the second process blocks on that row's unique key
 * until the first commits, then sees the row and skips the migration.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sqlState } from '../domain/sql-state.js';
import type { Database } from '../services/database.js';

/** Where the migration files live, relative to this module in `src/store` or `dist/store`. */
export const migrationsDirectory = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** A migration file: its name and its SQL. */
export interface Migration {
  readonly name: string;
  readonly sql: string;
}

/** Reads the migration files in name order. */
export async function readMigrations(directory = migrationsDirectory): Promise<Migration[]> {
  const names = (await readdir(directory)).filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name)).sort();
  return Promise.all(
    names.map(async (name) => ({ name, sql: await readFile(`${directory}/${name}`, 'utf8') })),
  );
}

async function createMigrationsTable(database: Database): Promise<void> {
  try {
    await database.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name text PRIMARY KEY, checksum text NOT NULL, applied_at_ms bigint NOT NULL)`,
    );
  } catch (error) {
    // Two processes creating the table at once: one wins, the other sees a duplicate; both go on.
    const state = sqlState(error);
    if (state !== '23505' && state !== '42P07') throw error;
  }
}

function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Applies every migration not yet recorded; returns the names applied by this call. */
export async function migrate(database: Database, migrations?: readonly Migration[]): Promise<string[]> {
  await createMigrationsTable(database);
  const applied: string[] = [];
  for (const migration of migrations ?? (await readMigrations())) {
    const ran = await database.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO schema_migrations (name, checksum, applied_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING RETURNING name`,
        [migration.name, checksum(migration.sql), Date.now()],
      );
      if (inserted.length === 0) return false;
      await tx.script(migration.sql);
      return true;
    });
    if (ran) applied.push(migration.name);
  }
  await assertChecksums(database, migrations ?? (await readMigrations()));
  return applied;
}

/** A migration edited after it was applied is a bug: forward-only means a new file, never an edit. */
async function assertChecksums(database: Database, migrations: readonly Migration[]): Promise<void> {
  const rows = await database.query<{ name: string; checksum: string }>(
    'SELECT name, checksum FROM schema_migrations',
  );
  const recorded = new Map(rows.map((row) => [row.name, row.checksum]));
  for (const migration of migrations) {
    const sum = recorded.get(migration.name);
    if (sum !== undefined && sum !== checksum(migration.sql)) {
      throw new Error(`migration ${migration.name} was changed after it was applied`);
    }
  }
}

/**
 * How many of `known` (the migrations this build ships) the database has not applied: what readiness
 * checks. A database another process is still migrating, or that a newer build was rolled back from, is
 * told apart from one that is ready.
 */
export async function pendingMigrationCount(database: Database, known: readonly string[]): Promise<number> {
  const rows = await database.query<{ name: string }>('SELECT name FROM schema_migrations');
  const applied = new Set(rows.map((row) => row.name));
  return known.filter((name) => !applied.has(name)).length;
}
