/**
 * Opens the configured engine: PostgreSQL when a URL is given, otherwise PGlite in the data directory.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from './database.js';
import { openPglite } from './pglite-database.js';
import { openPostgres } from './postgres-database.js';

/** What is needed to open a database. */
export interface OpenDatabaseOptions {
  readonly databaseUrl: string | undefined;
  readonly databasePoolSize: number;
  readonly dataDir: string;
}

/** Opens PostgreSQL (DATABASE_URL) or the embedded PGlite under `<dataDir>/pglite`. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl !== undefined) {
    return openPostgres({ url: options.databaseUrl, poolSize: options.databasePoolSize });
  }
  const directory = path.join(options.dataDir, 'pglite');
  await mkdir(directory, { recursive: true });
  return openPglite({ dataDir: directory });
}
