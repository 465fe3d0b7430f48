// Proves that two server processes on one PostgreSQL database share all state that matters: the same payment approved through both at once succeeds exactly once, both sweepers expire each payment exactly once, and both derive the same keyed id from an Idempotency-Key.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../src/domain/hex.js';
import { computeOcra } from '../src/domain/ocra.js';
import { derivedId } from '../src/services/ids.js';
import { createSecrets } from '../src/services/keys/secrets.js';
import { openTestDatabase, type TestDatabase, testEngines } from './support/engines.js';
import { runCli, type ServerProcess, startServerProcess } from './support/processes.js';

const operatorToken = `cs_op_${randomBytes(24).toString('base64url')}`;
const masterKey = randomBytes(32).toString('hex');

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown> & { error?: { code: string; status?: string } };
}

async function request(
  server: ServerProcess,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  token?: string,
  extraHeaders: Record<string, string> = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...extraHeaders };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = await fetch(server.url + url, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** Server processes and CLI commands each load the whole platform: slow on a busy machine. */
const processesMs = 600_000;

describe.runIf(testEngines().includes('postgres'))(
  'two servers on one PostgreSQL database',
  { timeout: processesMs },
  () => {
    let test: TestDatabase;
    let dataDirs: string[] = [];
    let longCodes: ServerProcess | undefined;
    let shortCodes: ServerProcess | undefined;
    let url: string;

    beforeAll(async () => {
      test = await openTestDatabase('postgres', 2);
      url = test.url!;
      dataDirs = await Promise.all(
        [0, 1].map(() => mkdtemp(path.join(os.tmpdir(), 'countersign-multi-server-'))),
      );
      const common = {
        DATABASE_URL: url,
        DATABASE_POOL_SIZE: '5',
        OPERATOR_TOKEN: operatorToken,
        MASTER_KEY: masterKey,
        LOG_LEVEL: 'silent',
        SWEEP_INTERVAL_MS: '100',
      };
      // One server issues codes that live a minute (the approval race), the other codes that live a
      // second (the expiry race); both sweep every 100 ms, so both sweepers chase every expired payment.
      [longCodes, shortCodes] = await Promise.all([
        startServerProcess({ ...common, DATA_DIR: dataDirs[0]!, CODE_TTL_SECONDS: '60' }),
        startServerProcess({ ...common, DATA_DIR: dataDirs[1]!, CODE_TTL_SECONDS: '1' }),
      ]);
    }, processesMs);
    afterAll(async () => {
      await Promise.allSettled([longCodes?.stop(), shortCodes?.stop()]);
      await test?.dispose();
      await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
    });

    const servers = () => [longCodes!, shortCodes!] as const;
    let terminal: { suite: string; keyHex: string };
    const payer = { id: 'alice', password: 'correct horse battery', verificationCode: '4321' };

    async function pay(server: ServerProcess, amount: number) {
      const created = await request(server, 'POST', '/v1/payments', {
        payerId: payer.id,
        password: payer.password,
        payeeId: 'shop',
        amount,
        currency: 'EUR',
        deliverTo: 'first_terminal',
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body as { id: string; firstCode: string };
    }

    const payerBalance = (server: ServerProcess) =>
      request(server, 'GET', '/v1/payers/alice/balance?currency=EUR', undefined, operatorToken);

    it('shares payers, payees and deposits: what one server creates, the other sees', async () => {
      const [a, b] = servers();
      const created = await request(a, 'POST', '/v1/payers', payer, operatorToken);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      terminal = created.body['terminal'] as typeof terminal;
      expect(
        (await request(b, 'POST', '/v1/payees', { id: 'shop', name: 'Shop' }, operatorToken)).status,
      ).toBe(201);
      const deposit = await request(
        b,
        'POST',
        '/v1/deposits',
        { payerId: 'alice', amount: 10_000, currency: 'EUR' },
        operatorToken,
      );
      expect(deposit.status).toBe(201);
      expect((await payerBalance(a)).body).toMatchObject({ available: 10_000, held: 0 });
    });

    it('approves one payment through both servers at once: exactly one 200 and one 409, posted once', async () => {
      const [a, b] = servers();
      const payment = await pay(a, 1_250);
      const secondCode = await computeOcra({
        suite: terminal.suite,
        key: hexToBytes(terminal.keyHex),
        question: payment.firstCode,
        pin: payer.verificationCode,
      });
      const answers = await Promise.all(
        [a, b].map((server) => request(server, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode })),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
      const refused = answers.find((answer) => answer.status === 409)!;
      expect(refused.body.error).toMatchObject({ code: 'payment_not_approvable', status: 'succeeded' });

      expect((await payerBalance(b)).body).toMatchObject({ available: 10_000 - 1_250, held: 0 });
      const payee = await request(a, 'GET', '/v1/payees/shop/balance?currency=EUR', undefined, operatorToken);
      expect(payee.body).toMatchObject({ available: 1_250 });
      const resolutions = await test.database.query<{ kind: string }>(
        `SELECT t.kind FROM transfers t JOIN payments p ON t.pending_id = p.hold_transfer_id WHERE p.id = $1`,
        [payment.id],
      );
      expect(resolutions).toEqual([{ kind: 'post' }]);
      const successes = await test.database.query(
        `SELECT 1 FROM audit_log WHERE event = 'approval_succeeded' AND detail LIKE $1`,
        [`%${payment.id}%`],
      );
      expect(successes).toHaveLength(1);
    });

    it('expires each payment exactly once while both sweepers run', async () => {
      const [a, b] = servers();
      const before = (await payerBalance(a)).body;
      const payments = [];
      for (let index = 0; index < 8; index++) payments.push(await pay(b, 10 + index));
      const deadline = Date.now() + 30_000;
      let statuses: string[] = [];
      while (Date.now() < deadline) {
        const shown = await Promise.all(
          payments.map((payment) =>
            request(a, 'GET', `/v1/payments/${payment.id}`, undefined, operatorToken),
          ),
        );
        statuses = shown.map((answer) => String(answer.body['status']));
        if (statuses.every((status) => status === 'expired')) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(statuses).toEqual(payments.map(() => 'expired'));
      expect((await payerBalance(b)).body).toEqual(before);
      for (const payment of payments) {
        const resolutions = await test.database.query<{ kind: string }>(
          `SELECT t.kind FROM transfers t JOIN payments p ON t.pending_id = p.hold_transfer_id WHERE p.id = $1`,
          [payment.id],
        );
        expect(resolutions).toEqual([{ kind: 'expire' }]);
        const expirations = await test.database.query(
          `SELECT 1 FROM audit_log WHERE event = 'payment_status_changed' AND subject = $1 AND detail LIKE '%"expired"%'`,
          [payment.id],
        );
        expect(expirations, payment.id).toHaveLength(1);
      }
    });

    it('derives the same keyed id from an Idempotency-Key on either server', async () => {
      // The key the platform stored at its first start is the one derived from the shared master key.
      const keyedHash = createSecrets(masterKey).keyedHash;
      const [, b] = servers();
      const body = {
        payerId: payer.id,
        password: payer.password,
        payeeId: 'shop',
        amount: 5,
        currency: 'EUR',
        deliverTo: 'first_terminal',
      };
      const created = await Promise.all(
        (['on-a', 'on-b'] as const).map((key, index) =>
          request(servers()[index]!, 'POST', '/v1/payments', body, undefined, { 'idempotency-key': key }),
        ),
      );
      for (const [index, key] of (['on-a', 'on-b'] as const).entries()) {
        expect(created[index]!.status, JSON.stringify(created[index]!.body)).toBe(201);
        const id = derivedId(keyedHash, 'payment', `payer:${payer.id}:${key}`);
        expect(created[index]!.body['id']).toBe(id);
        const [row] = await test.database.query<{ hold: string }>(
          'SELECT hold_transfer_id::text AS hold FROM payments WHERE id = $1',
          [id],
        );
        expect(row?.hold).toBe(derivedId(keyedHash, 'hold', id));
      }
      const retried = await request(b, 'POST', '/v1/payments', body, undefined, {
        'idempotency-key': 'on-a',
      });
      expect(retried.body['id']).toBe(created[0]!.body['id']);
    });

    it('leaves a ledger and an audit chain that verify, with both servers still running', async () => {
      const env = {
        DATABASE_URL: url,
        MASTER_KEY: masterKey,
        OPERATOR_TOKEN: operatorToken,
        DATA_DIR: dataDirs[0]!,
      };
      const ledger = await runCli(['ledger', 'verify'], env);
      expect(ledger.code, ledger.stdout + ledger.stderr).toBe(0);
      expect(ledger.stdout).toContain('ledger verified');
      const audit = await runCli(['audit', 'verify'], env);
      expect(audit.code, audit.stdout + audit.stderr).toBe(0);
      expect(audit.stdout).toContain('chain intact');
    });
  },
);
