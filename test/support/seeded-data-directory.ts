// A data directory that already holds the run's migrated PGlite template: creating a PostgreSQL cluster would
// cost a CLI or server test's first command many seconds and prove nothing about the command.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import { openPglite } from '../../src/store/pglite-database.js';

/** Writes the migrated template into `dataDir`'s database directory, as `serve` and the CLI expect it. */
export async function seedDataDirectory(dataDir: string): Promise<void> {
  const template = await readFile(inject('pgliteTemplatePath'));
  const seeded = await openPglite({
    dataDir: path.join(dataDir, 'pglite'),
    loadDataDir: new Blob([new Uint8Array(template)]),
  });
  await seeded.close();
}
