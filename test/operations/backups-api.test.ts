// Proves POST /v1/backups on both engines: on the embedded database the operator token gets a backup file
// that checks and restores, recorded in the audit log; on PostgreSQL the answer says to use its own tools.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBackup, parseBackup } from '../../src/domain/backup.js';
import { restoreBackup } from '../../src/main.js';
import { readMigrations } from '../../src/store/migrate.js';
import { call, createFundedPayer, createPayee } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

describe.each(testEngines())('backups over the API on %s', (engine) => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    await createFundedPayer(platform.app, platform.operatorToken, 'alice', 5_000);
    await createPayee(platform.app, platform.operatorToken, 'shop');
  });
  afterAll(async () => {
    await platform.dispose();
  });

  it('refuses a caller without the operator token', async () => {
    expect((await call(platform.app, 'POST', '/v1/backups')).statusCode).toBe(401);
  });

  it.runIf(engine === 'pglite')('answers a backup that checks and restores, and records it', async () => {
    const answer = await platform.app.inject({
      method: 'POST',
      url: '/v1/backups',
      headers: { authorization: `Bearer ${platform.operatorToken}` },
    });
    expect(answer.statusCode).toBe(201);
    expect(answer.headers['content-type']).toBe('application/octet-stream');
    expect(answer.headers['content-disposition']).toMatch(/^attachment; filename="countersign-.*\.backup"$/);
    const file = answer.rawPayload;
    const backup = parseBackup(file);
    const known = (await readMigrations()).map((migration) => migration.name);
    expect(backup.manifest.schemaVersion).toBe(known[known.length - 1]);
    checkBackup(backup, known, (bytes) => createHash('sha256').update(bytes).digest('hex'));

    const directory = await mkdtemp(path.join(os.tmpdir(), 'countersign-api-restore-'));
    try {
      const restored = await restoreBackup(file, path.join(directory, 'data'));
      expect(restored).toMatchObject({ ledgerVerified: true, auditVerified: true, migrationsApplied: [] });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
    const [entry] = await platform.services.audit.list({ limit: 1 });
    expect(entry).toMatchObject({ event: 'backup_created', detail: { actor: 'token' } });
  });

  it.runIf(engine === 'postgres')('answers 409 backup_unavailable on PostgreSQL', async () => {
    const answer = await call(platform.app, 'POST', '/v1/backups', undefined, {
      token: platform.operatorToken,
    });
    expect(answer.statusCode).toBe(409);
    expect(answer.json().error.code).toBe('backup_unavailable');
  });
});
