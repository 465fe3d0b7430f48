// Proves on both engines, against a real server process logging at trace level, that after a full flow (payer, deposit, session, payments approved both ways, a wrong code, a second-terminal delivery, a merchant, replayed idempotent answers) no secret — password, verification code, terminal key, first and second codes, session token, operator token, master key, API key, webhook secret — appears in clear in any column of any table, nor in any log line.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/domain/hex.js';
import { computeOcra } from '../../src/domain/ocra.js';
import type { Database } from '../../src/services/database.js';
import { openPglite } from '../../src/store/pglite-database.js';
import { openPostgres } from '../../src/store/postgres-database.js';
import { freePort, ServerProcess } from '../faults/server-process.js';
import { type EngineName, openTestDatabase, type TestDatabase, testEngines } from '../support/engines.js';

/** Response fields that carry a secret shown once; whatever a later route adds under these names is scanned too. */
const secretFieldPattern =
  /^(apiKey|key|keyHex|secret|webhookSecret|token|enrollmentUri|uri|firstCode|password)$/;

/** Every string under a secret-looking field name, at any depth of a response. */
function harvest(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) for (const item of value) harvest(item, into);
  else if (value !== null && typeof value === 'object') {
    for (const [name, member] of Object.entries(value)) {
      if (typeof member === 'string' && secretFieldPattern.test(name) && member.length >= 8) into.add(member);
      else harvest(member, into);
    }
  }
}

/** A secret in the forms it could be written in: as is, hex as base64 and base64url, URL-encoded. */
function variants(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret)]);
  if (/^[0-9a-f]{32,}$/.test(secret)) {
    const bytes = Buffer.from(secret, 'hex');
    forms.add(bytes.toString('base64'));
    forms.add(bytes.toString('base64url'));
  }
  return [...forms];
}

interface Flow {
  readonly secrets: Map<string, string>;
}

async function runFlow(server: ServerProcess, operatorToken: string): Promise<Flow> {
  const secrets = new Map<string, string>();
  const harvested = new Set<string>();
  const post = async (url: string, body: unknown, token?: string, key?: string) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (key !== undefined) headers['idempotency-key'] = key;
    const response = await fetch(`${server.url}${url}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, unknown>;
    harvest(json, harvested);
    return { status: response.status, json };
  };
  const password = `pw-${randomBytes(18).toString('base64url')}`;
  const verificationCode = String(randomInt(100_000_000_000, 999_999_999_999));
  secrets.set('password', password);
  secrets.set('verification code', verificationCode);
  const payer = await post(
    '/v1/payers',
    { id: 'secret-payer', password, verificationCode },
    operatorToken,
    'payer-once',
  );
  expect(payer.status, JSON.stringify(payer.json)).toBe(201);
  const terminal = payer.json['terminal'] as { keyHex: string; suite: string };
  secrets.set('terminal key', terminal.keyHex);
  expect((await post('/v1/payees', { id: 'shop', name: 'Shop' }, operatorToken)).status).toBe(201);
  expect(
    (await post('/v1/deposits', { payerId: 'secret-payer', amount: 50_000, currency: 'EUR' }, operatorToken))
      .status,
  ).toBe(201);
  const session = await post(
    '/v1/sessions',
    { payerId: 'secret-payer', password },
    undefined,
    'session-once',
  );
  expect(session.status).toBe(201);
  const token = String(session.json['token']);
  secrets.set('session token', token);
  const second = (firstCode: string) =>
    computeOcra({
      suite: terminal.suite,
      key: hexToBytes(terminal.keyHex),
      question: firstCode,
      pin: verificationCode,
    });
  const payment = { payeeId: 'shop', amount: 700, currency: 'EUR', deliverTo: 'first_terminal' };
  // Embodiment 1, created with the session, replayed once (the stored answer carries the first code).
  const one = await post('/v1/payments', payment, token, 'payment-one');
  const replayed = await post('/v1/payments', payment, token, 'payment-one');
  expect(replayed.json['firstCode']).toBe(one.json['firstCode']);
  const firstCodeOne = String(one.json['firstCode']);
  const secondCodeOne = await second(firstCodeOne);
  const wrong = String((Number(secondCodeOne) + 4711) % 100_000_000).padStart(8, '0');
  expect((await post(`/v1/payments/${one.json['id']}/approve`, { secondCode: wrong })).status).toBe(401);
  expect(
    (
      await post(
        `/v1/payments/${one.json['id']}/approve`,
        { secondCode: secondCodeOne },
        undefined,
        'approve-one',
      )
    ).status,
  ).toBe(200);
  // Embodiment 2, created with the password in the body.
  const two = await post(
    '/v1/payments',
    { ...payment, payerId: 'secret-payer', password },
    undefined,
    'payment-two',
  );
  const firstCodeTwo = String(two.json['firstCode']);
  expect(
    (await post(`/v1/payments/${two.json['id']}/approve`, { firstCode: firstCodeTwo, verificationCode }))
      .status,
  ).toBe(200);
  // A code sent to the second terminal: it lives only in the sealed outbox.
  expect((await post('/v1/payments', { ...payment, deliverTo: 'second_terminal' }, token)).status).toBe(201);
  const merchant = await post(
    '/v1/merchants',
    { id: 'secret-merchant', name: 'Merchant' },
    operatorToken,
    'merchant-once',
  );
  expect(merchant.status, JSON.stringify(merchant.json)).toBe(201);
  for (const [name, value] of [
    ['first code (embodiment 1)', firstCodeOne],
    ['second code (embodiment 1)', secondCodeOne],
    ['wrong second code', wrong],
    ['first code (embodiment 2)', firstCodeTwo],
    ['second code (embodiment 2)', await second(firstCodeTwo)],
    ['operator token', operatorToken],
  ] as const) {
    secrets.set(name, value);
  }
  for (const value of harvested)
    if (![...secrets.values()].includes(value)) secrets.set(`response field ${value.slice(0, 6)}…`, value);
  expect([...harvested].length).toBeGreaterThanOrEqual(5);
  return { secrets };
}

/** Every row of every table, all columns as text. */
async function everyRowAsText(database: Database): Promise<Map<string, string[]>> {
  const tables = await database.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  const contents = new Map<string, string[]>();
  for (const { table_name: table } of tables) {
    const rows = await database.query<{ row: string }>(`SELECT t::text AS row FROM "${table}" t`);
    contents.set(
      table,
      rows.map((row) => row.row),
    );
  }
  return contents;
}

describe.each(testEngines())('secrets at rest and in logs on %s', (engine: EngineName) => {
  let server: ServerProcess;
  let dataDir: string;
  let test: TestDatabase | undefined;
  let flow: Flow;
  const masterKey = randomBytes(32).toString('hex');
  const operatorToken = `cs_op_${randomBytes(32).toString('base64url')}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'countersign-secrets-'));
    if (engine === 'postgres') {
      test = await openTestDatabase(engine, 2);
      await test.database.close();
    }
    server = new ServerProcess(
      await freePort(),
      {
        DATA_DIR: dataDir,
        MASTER_KEY: masterKey,
        OPERATOR_TOKEN: operatorToken,
        LOG_LEVEL: 'trace',
        ...(test?.url === undefined ? {} : { DATABASE_URL: test.url }),
      },
      path.join(dataDir, 'server.log'),
    );
    await server.start(120_000);
    flow = await runFlow(server, operatorToken);
    flow.secrets.set('master key', masterKey);
    await server.stop();
  }, 240_000);
  afterAll(async () => {
    await server?.dispose();
    await test?.dispose().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('finds no secret in any column of any table', async () => {
    const database =
      engine === 'postgres'
        ? await openPostgres({ url: test!.url!, poolSize: 1 })
        : await openPglite({ dataDir: path.join(dataDir, 'pglite') });
    try {
      const contents = await everyRowAsText(database);
      expect(contents.get('payments')?.length).toBe(3);
      const found: string[] = [];
      for (const [name, secret] of flow.secrets) {
        for (const form of variants(secret)) {
          for (const [table, rows] of contents) {
            if (rows.some((row) => row.includes(form))) found.push(`${name} in ${table}`);
          }
        }
      }
      expect(found).toEqual([]);
    } finally {
      await database.close();
    }
  });

  it('finds no secret in any log line at trace level', async () => {
    const lines = (await readFile(path.join(dataDir, 'server.log'), 'utf8')).split('\n');
    // Trace level logs every request: the scan has something to read.
    expect(lines.filter((line) => line.includes('"incoming request"')).length).toBeGreaterThanOrEqual(10);
    const found: string[] = [];
    for (const [name, secret] of flow.secrets) {
      for (const form of variants(secret)) {
        if (lines.some((line) => line.includes(form))) found.push(name);
      }
    }
    expect(found).toEqual([]);
  });
});
