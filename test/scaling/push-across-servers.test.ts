// Proves that a challenge committed on one server reaches a terminal streaming from another server within a second, through the database's notifications, while the stream poll is too slow to explain it.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngines } from '../support/engines.js';
import { type ServerProcess, startServerProcess } from '../support/processes.js';
import { EventReader } from '../terminal/support/sse.js';
import { fetchTransport, TestTerminal } from '../terminal/support/test-terminal.js';

const operatorToken = `cs_op_${randomBytes(24).toString('base64url')}`;
const masterKey = randomBytes(32).toString('hex');
const processesMs = 600_000;

async function post(server: ServerProcess, url: string, body: unknown, token?: string) {
  const response = await fetch(server.url + url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.runIf(testEngines().includes('postgres'))(
  'push across two servers on one PostgreSQL database',
  { timeout: processesMs },
  () => {
    let test: TestDatabase;
    let dataDirs: string[] = [];
    let a: ServerProcess | undefined;
    let b: ServerProcess | undefined;
    let stream: EventReader | undefined;

    beforeAll(async () => {
      test = await openTestDatabase('postgres', 2);
      dataDirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(os.tmpdir(), 'countersign-push-'))));
      // The poll and the outbox pass run every 30 s: only the notification can bring a push within a second.
      const common = {
        DATABASE_URL: test.url!,
        DATABASE_POOL_SIZE: '4',
        OPERATOR_TOKEN: operatorToken,
        MASTER_KEY: masterKey,
        LOG_LEVEL: 'silent',
        SWEEP_INTERVAL_MS: '30000',
      };
      [a, b] = await Promise.all(
        dataDirs.map((dir) => startServerProcess({ ...common, DATA_DIR: dir, CODE_TTL_SECONDS: '300' })),
      );
    }, processesMs);
    afterAll(async () => {
      await stream?.close();
      await Promise.allSettled([a?.stop(), b?.stop()]);
      await test?.dispose();
      await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
    });

    it('pushes a payment created on B to the terminal streaming from A within a second', async () => {
      const payer = { id: 'alice', password: 'correct horse battery', verificationCode: '4321' };
      const created = await post(a!, '/v1/payers', payer, operatorToken);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect((await post(b!, '/v1/payees', { id: 'shop', name: 'Shop' }, operatorToken)).status).toBe(201);
      const deposit = { payerId: 'alice', amount: 10_000, currency: 'EUR' };
      expect((await post(b!, '/v1/deposits', deposit, operatorToken)).status).toBe(201);
      const uri = (created.body['terminal'] as { enrollmentUri: string }).enrollmentUri;
      const phone = await TestTerminal.enroll(fetchTransport(a!.url), Date.now, uri, '4321');

      const signed = await phone.sign('GET', '/v1/terminal/events');
      const response = await fetch(`${a!.url}${signed.path}`, { headers: signed.headers });
      expect(response.status).toBe(200);
      stream = new EventReader(response);
      // Nothing is open yet: the stream is quiet.
      expect(await stream.quietFor(300)).toBe(true);

      const startedMs = Date.now();
      const payment = await post(b!, '/v1/payments', {
        payerId: payer.id,
        password: payer.password,
        payeeId: 'shop',
        amount: 1234,
        currency: 'EUR',
        deliverTo: 'second_terminal',
      });
      expect(payment.status, JSON.stringify(payment.body)).toBe(201);
      const event = await stream.next(1000);
      const latencyMs = Date.now() - startedMs;
      expect(event).toMatchObject({ event: 'challenge', id: payment.body['id'] });
      expect(JSON.parse(event!.data)).toMatchObject({ paymentId: payment.body['id'], amount: 1234 });
      expect(latencyMs).toBeLessThan(1000);
      // Sent once: the announcement does not bring it twice.
      expect(await stream.quietFor(500)).toBe(true);
    });
  },
);
