/**
 * Opens the configured engine: PostgreSQL when a URL is given, otherwise PGlite in the data directory.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Database, Row } from '../services/database.js';
import { acquireDataDirectoryLock } from './data-directory-lock.js';
import { openPglite } from './pglite-database.js';
import { openPostgres } from './postgres-database.js';
import { preparePrivateDataDirectory, restrictTreeToOwner } from './private-data-directory.js';

/** What is needed to open a database. */
export interface OpenDatabaseOptions {
  readonly databaseUrl: string | undefined;
  readonly databasePoolSize: number;
  readonly dataDir: string;
}

/**
 * Opens PostgreSQL (DATABASE_URL) or the embedded PGlite under `<dataDir>/pglite`. The data directory
 * must be private to this user (private-data-directory.ts); PGlite's directory is created 0700 within it
 * and locked for this process until `close` (see data-directory-lock.ts): a second process is refused with
 * DataDirectoryInUseError instead of corrupting the database.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl !== undefined) {
    try {
      return await openPostgres({ url: options.databaseUrl, poolSize: options.databasePoolSize });
    } catch (error) {
      // The driver's message ("connect ECONNREFUSED", "database … does not exist") does not say which
      // setting to look at; the operator needs to know it is DATABASE_URL, and which server it named.
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `cannot open the database at DATABASE_URL ${withoutPassword(options.databaseUrl)}: ${reason}`,
        { cause: error },
      );
    }
  }
  await preparePrivateDataDirectory(options.dataDir);
  const directory = path.join(options.dataDir, 'pglite');
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const lock = await acquireDataDirectoryLock(directory, options.dataDir);
  let database: Database;
  try {
    database = await openPglite({ dataDir: directory });
  } catch (error) {
    await lock.release();
    throw error;
  }
  // PGlite gives the files of a new cluster mode 0666 whatever the umask: they are made private at once,
  // and again at close for the few it writes while running (private-data-directory.ts).
  const privateDatabase = releasingOnClose(database, async () => {
    try {
      await restrictTreeToOwner(directory);
    } finally {
      await lock.release();
    }
  });
  try {
    await restrictTreeToOwner(directory);
  } catch (error) {
    await privateDatabase.close();
    throw error;
  }
  return privateDatabase;
}

/** `database` whose `close` also runs `release`, after the database is closed, whatever happened. */
function releasingOnClose(database: Database, release: () => Promise<void>): Database {
  return {
    engine: database.engine,
    query: <T extends Row = Row>(sql: string, params?: readonly unknown[]) => database.query<T>(sql, params),
    transaction: (work, options) => database.transaction(work, options),
    script: (sql) => database.script(sql),
    snapshot: () => database.snapshot(),
    close: async () => {
      try {
        await database.close();
      } finally {
        await release();
      }
    },
  };
}

/** A database URL fit for a message: its password, if any, replaced. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = 'redacted';
  return parsed.toString();
}
