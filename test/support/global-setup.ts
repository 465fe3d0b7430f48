// Once per test run: build a migrated PGlite template to clone, and make sure PostgreSQL answers when asked for.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/store/migrate.js';
import { openPglite } from '../../src/store/pglite-database.js';
import { openPostgres } from '../../src/store/postgres-database.js';
import { buildPageScripts } from '../browser/support/build-page-scripts.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplatePath: string;
    testDatabaseUrl: string;
    /** The Redis the shared-limit tests count in: TEST_REDIS_URL, default the machine's own. */
    testRedisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const testDatabaseUrl = process.env['TEST_DATABASE_URL'] ?? '';
  if (testDatabaseUrl !== '') {
    // Fails the run, loudly, when the server cannot be reached: storage tests never skip silently.
    const database = await openPostgres({
      url: testDatabaseUrl,
      poolSize: 1,
      connectTimeoutSeconds: 5,
    }).catch((error: unknown) => {
      throw new Error(`TEST_DATABASE_URL is set but PostgreSQL cannot be reached: ${String(error)}`);
    });
    await database.close();
  } else {
    console.warn('\nTEST_DATABASE_URL is not set: storage tests run on PGlite only.\n');
  }
  // Browser tests load the compiled page scripts from dist/; building them once here avoids races between files.
  await buildPageScripts();
  const template = await openPglite();
  await migrate(template);
  const dump = await template.dump();
  await template.close();
  const templatePath = path.join(os.tmpdir(), `countersign-template-${process.pid}.tar`);
  await writeFile(templatePath, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplatePath', templatePath);
  project.provide('testDatabaseUrl', testDatabaseUrl);
  // Not checked here: only the suites that count in Redis need it, and each fails when it cannot reach it.
  project.provide('testRedisUrl', process.env['TEST_REDIS_URL'] || 'redis://127.0.0.1:6379');
  return async () => {};
}
