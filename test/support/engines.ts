// Opens a fresh, migrated database on each engine, so that one suite runs on PGlite and on PostgreSQL.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { inject } from 'vitest';
import type { Database } from '../../src/services/database.js';
import { migrate } from '../../src/store/migrate.js';
import { openPglite } from '../../src/store/pglite-database.js';
import { openPostgres } from '../../src/store/postgres-database.js';

export type EngineName = 'pglite' | 'postgres';

/** The engines this run covers: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function testEngines(): EngineName[] {
  return inject('testDatabaseUrl') === '' ? ['pglite'] : ['pglite', 'postgres'];
}

/** A database for one test file, and how to throw it away. */
export interface TestDatabase {
  readonly database: Database;
  /** For PostgreSQL: the URL of the fresh database (to start a server process on it). */
  readonly url: string | undefined;
  dispose(): Promise<void>;
}

let templateBytes: Buffer | undefined;

async function openPgliteClone(): Promise<TestDatabase> {
  templateBytes ??= await readFile(inject('pgliteTemplatePath'));
  const database = await openPglite({ loadDataDir: new Blob([new Uint8Array(templateBytes)]) });
  await migrate(database);
  return { database, url: undefined, dispose: () => database.close() };
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function openPostgresFresh(poolSize: number): Promise<TestDatabase> {
  const adminUrl = inject('testDatabaseUrl');
  const admin = await openPostgres({ url: adminUrl, poolSize: 1 });
  const name = `countersign_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = withDatabaseName(adminUrl, name);
  const database = await openPostgres({ url, poolSize });
  await migrate(database);
  return {
    database,
    url,
    dispose: async () => {
      await database.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

/** Opens a fresh migrated database on `engine`. */
export function openTestDatabase(engine: EngineName, poolSize = 20): Promise<TestDatabase> {
  return engine === 'pglite' ? openPgliteClone() : openPostgresFresh(poolSize);
}
