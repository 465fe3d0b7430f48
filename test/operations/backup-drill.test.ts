// Restore drills, as an operator would run them, with server processes: payments are made, a backup is
// taken while payments keep coming (the embedded database through `countersign backup` asking the running
// server; PostgreSQL with pg_dump), more payments follow, the backup is restored into a new data directory
// or database, and a server started there with the same master key has every payment acknowledged before
// the backup, none acknowledged after it finished, balances that add up, and approves new payments.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { hexToBytes } from '../../src/domain/hex.js';
import { computeOcra } from '../../src/domain/ocra.js';
import { openPostgres } from '../../src/store/postgres-database.js';
import { testEngines } from '../support/engines.js';
import { runCli, type ServerProcess, startServerProcess } from '../support/processes.js';

const run = promisify(execFile);
const operatorToken = `cs_op_${randomBytes(24).toString('base64url')}`;
/** The drill pays as fast as it can from one payer: the throttles would stop it, not the drill's subject. */
const unthrottled = { RATE_LIMIT_PER_PAYER: '1000000', RATE_LIMIT_PER_MINUTE: '1000000', LOG_LEVEL: 'warn' };
const deposit = 1_000_000;
const drillMs = 600_000;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function request(
  server: ServerProcess,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  token?: string,
) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = await fetch(server.url + url, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

interface Payer {
  readonly id: string;
  readonly password: string;
  readonly keyHex: string;
  readonly suite: string;
}

async function setUpParties(server: ServerProcess): Promise<Payer> {
  const payer = { id: 'alice', password: 'correct horse battery', verificationCode: '4321' };
  const created = await request(server, 'POST', '/v1/payers', payer, operatorToken);
  expect(created.status).toBe(201);
  const terminal = created.body['terminal'] as { keyHex: string; suite: string };
  expect(
    (await request(server, 'POST', '/v1/payees', { id: 'shop', name: 'Shop' }, operatorToken)).status,
  ).toBe(201);
  const funded = await request(
    server,
    'POST',
    '/v1/deposits',
    { payerId: 'alice', amount: deposit, currency: 'EUR' },
    operatorToken,
  );
  expect(funded.status).toBe(201);
  return { id: payer.id, password: payer.password, keyHex: terminal.keyHex, suite: terminal.suite };
}

/** One complete payment; resolves with its id and when its approval was acknowledged. */
async function pay(
  server: ServerProcess,
  payer: Payer,
  amount: number,
): Promise<{ id: string; ackedAtMs: number }> {
  const created = await request(server, 'POST', '/v1/payments', {
    payerId: payer.id,
    password: payer.password,
    payeeId: 'shop',
    amount,
    currency: 'EUR',
    deliverTo: 'first_terminal',
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = String(created.body['id']);
  const secondCode = await computeOcra({
    suite: payer.suite,
    key: hexToBytes(payer.keyHex),
    question: String(created.body['firstCode']),
    pin: '4321',
  });
  const approved = await request(server, 'POST', `/v1/payments/${id}/approve`, { secondCode });
  expect(approved.status, JSON.stringify(approved.body)).toBe(200);
  return { id, ackedAtMs: Date.now() };
}

/**
 * Pays in the background with two workers while `during` runs, then stops; returns every acknowledged
 * payment. Amounts differ so that sums tell payments apart.
 */
async function payWhile<T>(
  server: ServerProcess,
  payer: Payer,
  during: (acknowledged: readonly { id: string; ackedAtMs: number }[]) => Promise<T>,
) {
  const acknowledged: { id: string; ackedAtMs: number }[] = [];
  let stop = false;
  let amount = 100;
  const worker = async () => {
    while (!stop) {
      amount += 1;
      acknowledged.push(await pay(server, payer, amount));
    }
  };
  let failure: unknown;
  const workers = [worker(), worker()].map((running) =>
    running.catch((error: unknown) => {
      failure ??= error;
      stop = true;
    }),
  );
  let result: T;
  try {
    result = await during(acknowledged);
  } finally {
    stop = true;
    await Promise.all(workers);
  }
  if (failure !== undefined) throw failure;
  return { result, acknowledged };
}

/**
 * Waits until the load has acknowledged `count` payments, however slow the machine: a backup started after a
 * fixed pause could start before the first one, and the drill would prove nothing about a backup under load.
 */
async function untilAcknowledged(acknowledged: readonly unknown[], count: number): Promise<void> {
  const giveUpAtMs = Date.now() + 30_000;
  while (acknowledged.length < count) {
    if (Date.now() > giveUpAtMs)
      throw new Error(`the load acknowledged ${acknowledged.length} payments in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What the restored platform must show. */
async function checkRestored(
  restored: ServerProcess,
  payer: Payer,
  before: readonly { id: string }[],
  after: readonly { id: string }[],
) {
  for (const { id } of before) {
    const found = await request(restored, 'GET', `/v1/payments/${id}`, undefined, operatorToken);
    expect(found.status, id).toBe(200);
    expect(found.body['status']).toBe('succeeded');
  }
  for (const { id } of after) {
    expect((await request(restored, 'GET', `/v1/payments/${id}`, undefined, operatorToken)).status, id).toBe(
      404,
    );
  }
  // Nothing created or lost: what the payer has and holds plus what the payee was paid is the deposit.
  const payerBalance = await request(
    restored,
    'GET',
    '/v1/payers/alice/balance?currency=EUR',
    undefined,
    operatorToken,
  );
  const payeeBalance = await request(
    restored,
    'GET',
    '/v1/payees/shop/balance?currency=EUR',
    undefined,
    operatorToken,
  );
  expect(
    Number(payerBalance.body['available']) +
      Number(payerBalance.body['held']) +
      Number(payeeBalance.body['available']),
  ).toBe(deposit);
  expect(Number(payeeBalance.body['available'])).toBeGreaterThan(0);
  // The same master key opens the terminal key: a new payment is approved.
  await pay(restored, payer, 7);
}

const servers: ServerProcess[] = [];
const directories: string[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'countersign-drill-'));
  directories.push(directory);
  return directory;
}

describe('restore drill on the embedded database', { timeout: drillMs }, () => {
  it('restores a backup taken from the running server under load', async () => {
    const root = await temporaryDirectory();
    const original = path.join(root, 'original');
    const env = { DATA_DIR: original, OPERATOR_TOKEN: operatorToken, ...unthrottled };
    const server = await startServerProcess(env);
    servers.push(server);
    const payer = await setUpParties(server);
    const first = [];
    for (let index = 0; index < 5; index += 1) first.push(await pay(server, payer, 10 + index));

    const file = path.join(root, 'drill.backup');
    let backupStartedAtMs = 0;
    const { result: backup, acknowledged } = await payWhile(server, payer, async (acknowledgedSoFar) => {
      await untilAcknowledged(acknowledgedSoFar, 3);
      backupStartedAtMs = Date.now();
      return runCli(['backup', '--output', file, '--url', server.url], env);
    });
    const backupDoneAtMs = Date.now();
    expect(backup.code, backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({ via: 'server', format: 'countersign-backup' });
    expect(backup.stderr).toContain('never master.key');
    expect(await readFile(file, 'latin1')).not.toContain(
      (await readFile(path.join(original, 'master.key'), 'utf8')).trim(),
    );
    const later = [];
    for (let index = 0; index < 3; index += 1) later.push(await pay(server, payer, 20 + index));

    const target = path.join(root, 'restored');
    const restore = await runCli(
      ['restore', '--input', file, '--data-dir', target, '--master-key', path.join(original, 'master.key')],
      {},
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({
      ledgerVerified: true,
      auditVerified: true,
      masterKeyInstalled: true,
    });

    const restored = await startServerProcess({
      DATA_DIR: target,
      OPERATOR_TOKEN: operatorToken,
      LOG_LEVEL: 'warn',
    });
    servers.push(restored);
    const before = [...first, ...acknowledged.filter((payment) => payment.ackedAtMs < backupStartedAtMs)];
    expect(before.length).toBeGreaterThan(first.length);
    await checkRestored(restored, payer, before, later);
    expect(acknowledged.some((payment) => payment.ackedAtMs > backupDoneAtMs) || later.length > 0).toBe(true);
  });
});

describe.runIf(testEngines().includes('postgres'))(
  'restore drill on PostgreSQL',
  { timeout: drillMs },
  () => {
    it('restores a pg_dump taken under load into a new database', async () => {
      const adminUrl = inject('testDatabaseUrl');
      const admin = await openPostgres({ url: adminUrl, poolSize: 1 });
      const names = [0, 1].map(() => `countersign_drill_${randomBytes(5).toString('hex')}`);
      const urlOf = (name: string) => {
        const url = new URL(adminUrl);
        url.pathname = `/${name}`;
        return url.toString();
      };
      try {
        for (const name of names) await admin.query(`CREATE DATABASE ${name}`);
        const masterKey = randomBytes(32).toString('hex');
        const root = await temporaryDirectory();
        const common = { MASTER_KEY: masterKey, OPERATOR_TOKEN: operatorToken, ...unthrottled };
        await mkdir(path.join(root, 'a'), { mode: 0o700 });
        const server = await startServerProcess({
          ...common,
          DATABASE_URL: urlOf(names[0]!),
          DATA_DIR: path.join(root, 'a'),
        });
        servers.push(server);
        const payer = await setUpParties(server);
        const first = [];
        for (let index = 0; index < 5; index += 1) first.push(await pay(server, payer, 10 + index));

        const dump = path.join(root, 'drill.dump');
        let dumpStartedAtMs = 0;
        const { acknowledged } = await payWhile(server, payer, async (acknowledgedSoFar) => {
          await untilAcknowledged(acknowledgedSoFar, 3);
          dumpStartedAtMs = Date.now();
          await run('pg_dump', ['--format=custom', `--file=${dump}`, `--dbname=${urlOf(names[0]!)}`]);
        });
        const later = [];
        for (let index = 0; index < 3; index += 1) later.push(await pay(server, payer, 20 + index));
        await run('pg_restore', ['--no-owner', `--dbname=${urlOf(names[1]!)}`, dump]);

        await mkdir(path.join(root, 'b'), { mode: 0o700 });
        const restored = await startServerProcess({
          ...common,
          DATABASE_URL: urlOf(names[1]!),
          DATA_DIR: path.join(root, 'b'),
        });
        servers.push(restored);
        const before = [...first, ...acknowledged.filter((payment) => payment.ackedAtMs < dumpStartedAtMs)];
        await checkRestored(restored, payer, before, later);
        await restored.stop();
        const env = { ...common, DATABASE_URL: urlOf(names[1]!), DATA_DIR: path.join(root, 'b') };
        const ledger = await runCli(['ledger', 'verify'], env);
        expect(ledger.code, ledger.stdout).toBe(0);
        const audit = await runCli(['audit', 'verify'], env);
        expect(audit.code, audit.stdout).toBe(0);
        expect(audit.stdout).toContain('chain intact');
      } finally {
        await Promise.all(servers.splice(0).map((server) => server.stop()));
        for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.close();
      }
    });
  },
);
