// Proves on both engines that `countersign keys rotate` re-encrypts every sealed value under a new master key while servers holding the old key as retired keep serving: open payments still approve, sessions and API keys still authenticate (the code-hash key is itself sealed and resealed), and afterwards a server with only the new key reads everything; without rotation it could not.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { hashOperatorToken } from '../../src/http/operator-auth.js';
import { platformRoutes } from '../../src/http/routes/index.js';
import { type OpenPlatform, openPlatform } from '../../src/main.js';
import { masterKeyId, parseMasterKeyHex } from '../../src/services/keys/secrets.js';
import { sealedColumns } from '../../src/store/sealed-value-repository.js';
import { runCli } from '../faults/server-process.js';
import { call, secondCodeFor, type TestPayer } from '../support/api.js';
import { type EngineName, openTestDatabase, type TestDatabase, testEngines } from '../support/engines.js';

const operatorToken = `cs_op_${randomBytes(32).toString('base64url')}`;

interface Running {
  readonly platform: OpenPlatform;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

describe.each(testEngines())('master-key rotation on %s', (engine: EngineName) => {
  const oldKey = randomBytes(32).toString('hex');
  const newKey = randomBytes(32).toString('hex');
  let dataDir: string;
  let test: TestDatabase | undefined;
  let environment: Record<string, string>;

  /** A platform over the test's database with `MASTER_KEY` and `MASTER_KEYS_RETIRED` as given. */
  async function start(master: string, retired: readonly string[] = []): Promise<Running> {
    const config = loadConfig({ ...environment, MASTER_KEY: master, MASTER_KEYS_RETIRED: retired.join(',') });
    const platform = await openPlatform(config);
    const app = await buildApp({
      config,
      database: platform.database,
      clock: platform.services.deps.clock,
      logger: false,
      routes: platformRoutes({ ...platform.services, operatorTokenHash: hashOperatorToken(operatorToken) }),
      idempotencyStore: platform.services.idempotencyStore,
    });
    await app.ready();
    return {
      platform,
      app,
      close: async () => {
        await app.close();
        await platform.close();
      },
    };
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'countersign-rotation-'));
    if (engine === 'postgres') {
      test = await openTestDatabase(engine, 2);
      await test.database.close();
    }
    environment = {
      DATA_DIR: dataDir,
      OPERATOR_TOKEN: operatorToken,
      LOG_LEVEL: 'silent',
      ...(test?.url === undefined ? {} : { DATABASE_URL: test.url }),
    };
  });
  afterAll(async () => {
    await test?.dispose().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reseals everything under the new key without interrupting payments, sessions or API keys', async () => {
    // Before: everything sealed under the old key.
    const before = await start(oldKey);
    const created = await call(
      before.app,
      'POST',
      '/v1/payers',
      { id: 'rotating', password: 'correct horse battery', verificationCode: '4321' },
      { token: operatorToken },
    );
    expect(created.statusCode, created.body).toBe(201);
    const terminal = created.json().terminal as { suite: string; keyHex: string };
    const payer: TestPayer = {
      id: 'rotating',
      password: 'correct horse battery',
      verificationCode: '4321',
      suite: terminal.suite,
      keyHex: terminal.keyHex,
    };
    await call(before.app, 'POST', '/v1/payees', { id: 'shop', name: 'Shop' }, { token: operatorToken });
    await call(
      before.app,
      'POST',
      '/v1/deposits',
      { payerId: 'rotating', amount: 10_000, currency: 'EUR' },
      { token: operatorToken },
    );
    const merchant = await call(
      before.app,
      'POST',
      '/v1/merchants',
      { id: 'rot-merchant', name: 'M' },
      { token: operatorToken },
    );
    expect(merchant.statusCode, merchant.body).toBe(201);
    const apiKey = String(JSON.stringify(merchant.json()).match(/"apiKey":"([^"]+)"/)?.[1]);
    const signedIn = await call(before.app, 'POST', '/v1/sessions', {
      payerId: payer.id,
      password: payer.password,
    });
    expect(signedIn.statusCode, signedIn.body).toBe(201);
    const session = signedIn.json().token as string;
    const pay = (app: FastifyInstance, key?: string) =>
      call(
        app,
        'POST',
        '/v1/payments',
        { payeeId: 'shop', amount: 100, currency: 'EUR', deliverTo: 'first_terminal' },
        { token: session, ...(key === undefined ? {} : { headers: { 'idempotency-key': key } }) },
      );
    const open = (await pay(before.app, 'open-before-rotation')).json() as { id: string; firstCode: string };
    const second = await pay(before.app);
    expect(second.statusCode, second.body).toBe(201);
    await call(
      before.app,
      'POST',
      '/v1/payments',
      { payeeId: 'shop', amount: 5, currency: 'EUR', deliverTo: 'second_terminal' },
      { token: session },
    );
    await before.close();

    // During: servers restarted with the new key, the old one retired, serve while values are resealed.
    const during = await start(newKey, [oldKey]);
    expect(during.platform.services.jobs.map((job) => job.name)).toContain('reseal-retired-keys');
    const stale = await during.platform.services.keyRotation.staleCount();
    expect(stale).toBeGreaterThanOrEqual(6);
    const approved = await call(during.app, 'POST', `/v1/payments/${open.id}/approve`, {
      secondCode: await secondCodeFor(payer, open.firstCode),
    });
    expect(approved.statusCode, approved.body).toBe(200);
    const replay = await pay(during.app, 'open-before-rotation');
    expect(replay.json().firstCode).toBe(open.firstCode);
    const resealedByJob = await during.platform.services.jobs
      .find((job) => job.name === 'reseal-retired-keys')!
      .run();
    expect(resealedByJob).toBeGreaterThan(0);
    await during.close();

    // The command finishes the rotation in small batches.
    const rotated = await runCli(['keys', 'rotate', '--batch-size', '2'], {
      ...environment,
      MASTER_KEY: newKey,
      MASTER_KEYS_RETIRED: oldKey,
    });
    expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/0 left under retired keys/);

    // After: the old key is gone from the configuration and from every sealed value.
    const after = await start(newKey);
    const oldKeyId = masterKeyId(parseMasterKeyHex(oldKey));
    for (const { table, column } of sealedColumns) {
      const rows = await after.platform.database.query<{ n: bigint }>(
        `SELECT count(*)::bigint AS n FROM ${table} WHERE ${column} LIKE $1`,
        [`v1.${oldKeyId}.%`],
      );
      expect(rows[0]?.n, `${table}.${column}`).toBe(0n);
    }
    const fresh = (await pay(after.app)).json() as { id: string; firstCode: string };
    const approvedAfter = await call(after.app, 'POST', `/v1/payments/${fresh.id}/approve`, {
      secondCode: await secondCodeFor(payer, fresh.firstCode),
    });
    expect(approvedAfter.statusCode, approvedAfter.body).toBe(200);
    const merchantView = await call(after.app, 'GET', '/v1/merchant', undefined, { token: apiKey });
    expect(merchantView.statusCode, merchantView.body).toBe(200);
    await after.close();
  }, 420_000);

  it('lists every sealed column of the schema, so that rotation misses none', async () => {
    const running = await start(newKey);
    try {
      const columns = await running.platform.database.query<{ table_name: string; column_name: string }>(
        `SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = 'public' AND column_name LIKE '%\\_sealed'`,
      );
      const listed = new Set(sealedColumns.map((entry) => `${entry.table}.${entry.column}`));
      const missing = columns
        .map((row) => `${row.table_name}.${row.column_name}`)
        .filter((name) => !listed.has(name));
      expect(missing).toEqual([]);
    } finally {
      await running.close();
    }
  });

  it('cannot read values of a key that is neither current nor retired', async () => {
    await expect(start(randomBytes(32).toString('hex'))).rejects.toThrow(/authenticate|key/);
  });
});
