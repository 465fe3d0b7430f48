// Proves that with REDIS_URL two server processes on one PostgreSQL database admit, together, exactly the per-address limit and exactly the per-payer limit of a concurrent burst split across both; that a server whose Redis is down starts, refuses logins with 503 and never logs Redis's password; and that without REDIS_URL each process counts alone, so two admit twice the limit.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngines } from '../support/engines.js';
import { type ServerProcess, startServerProcess } from '../support/processes.js';
import { deleteKeys, openTestRedis, testRedisUrl, uniqueKeyPrefix } from '../support/redis.js';

const operatorToken = `cs_op_${randomBytes(24).toString('base64url')}`;
const masterKey = randomBytes(32).toString('hex');
const processesMs = 600_000;
const addressLimit = 20;
const payerLimit = 5;
const payerWindowMs = 60_000;

/** Sends a request as if from `address` (the servers trust one proxy hop, so X-Forwarded-For names it). */
async function send(
  server: ServerProcess,
  address: string,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
) {
  const response = await fetch(server.url + url, {
    method,
    headers: {
      'x-forwarded-for': address,
      authorization: `Bearer ${operatorToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text };
}

/** Statuses of `count` requests sent at once, alternately to each of `servers`, tallied. */
async function burst(
  servers: readonly ServerProcess[],
  count: number,
  request: (server: ServerProcess, index: number) => ReturnType<typeof send>,
): Promise<Record<number, number>> {
  const answers = await Promise.all(
    Array.from({ length: count }, (_, index) => request(servers[index % servers.length]!, index)),
  );
  const tally: Record<number, number> = {};
  for (const answer of answers) tally[answer.status] = (tally[answer.status] ?? 0) + 1;
  for (const answer of answers) {
    if (answer.status === 429) expect(JSON.parse(answer.body).error.code).toBe('rate_limited');
  }
  return tally;
}

/**
 * The per-payer windows are aligned on the minute: a burst that straddled a boundary would be counted in
 * two windows. Waits, when the current window ends within `marginMs`, for the next one.
 */
async function awayFromWindowEnd(marginMs = 15_000): Promise<void> {
  const leftMs = payerWindowMs - (Date.now() % payerWindowMs);
  if (leftMs < marginMs) await new Promise((resolve) => setTimeout(resolve, leftMs + 100));
}

describe.runIf(testEngines().includes('postgres'))(
  'throttles over two servers on one PostgreSQL database',
  { timeout: processesMs },
  () => {
    const keyPrefix = uniqueKeyPrefix('shared-limits');
    let test: TestDatabase;
    let dataDirs: string[] = [];
    let shared: ServerProcess[] = [];
    let alone: ServerProcess[] = [];

    beforeAll(async () => {
      // Fails the suite, never skips it, when Redis cannot be reached.
      await (await openTestRedis(keyPrefix)).close();
      test = await openTestDatabase('postgres', 2);
      dataDirs = await Promise.all(
        [0, 1, 2, 3].map(() => mkdtemp(path.join(os.tmpdir(), 'countersign-shared-limits-'))),
      );
      const common = {
        DATABASE_URL: test.url!,
        DATABASE_POOL_SIZE: '4',
        OPERATOR_TOKEN: operatorToken,
        MASTER_KEY: masterKey,
        LOG_LEVEL: 'silent',
        TRUST_PROXY: '1',
        RATE_LIMIT_PER_MINUTE: String(addressLimit),
        RATE_LIMIT_PER_PAYER: String(payerLimit),
      };
      const redis = { REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: keyPrefix };
      const servers = await Promise.all(
        dataDirs.map((dir, index) =>
          startServerProcess({ ...common, ...(index < 2 ? redis : {}), DATA_DIR: dir }),
        ),
      );
      shared = servers.slice(0, 2);
      alone = servers.slice(2);
      for (const [index, payerId] of ['shared-payer', 'alone-payer'].entries()) {
        const payer = { id: payerId, password: 'correct horse battery', verificationCode: '4321' };
        const created = await send(servers[0]!, `192.0.2.${index + 1}`, 'POST', '/v1/payers', payer);
        expect(created.status, created.body).toBe(201);
      }
    }, processesMs);
    afterAll(async () => {
      await Promise.allSettled([...shared, ...alone].map((server) => server.stop()));
      await test?.dispose();
      await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
      await deleteKeys(keyPrefix);
    });

    it('with REDIS_URL, both servers together admit exactly the per-address limit', async () => {
      const tally = await burst(shared, 3 * addressLimit, (server) =>
        send(server, '198.51.100.7', 'GET', '/healthz'),
      );
      expect(tally).toEqual({ 200: addressLimit, 429: 2 * addressLimit });
      // Another address is served: the count is per address, not per server.
      expect((await send(shared[1]!, '198.51.100.8', 'GET', '/healthz')).status).toBe(200);
    });

    it('with REDIS_URL, both servers together admit exactly the per-payer limit', async () => {
      await awayFromWindowEnd();
      // Each login from an address of its own: only the per-payer throttle can refuse them.
      const tally = await burst(shared, 16, (server, index) =>
        send(server, `203.0.113.${index + 1}`, 'POST', '/v1/sessions', {
          payerId: 'shared-payer',
          password: 'correct horse battery',
        }),
      );
      expect(tally).toEqual({ 201: payerLimit, 429: 16 - payerLimit });
      // A further attempt is refused too: the window is full for every server.
      expect(
        (
          await send(shared[0]!, '203.0.113.99', 'POST', '/v1/sessions', {
            payerId: 'shared-payer',
            password: 'x',
          })
        ).status,
      ).toBe(429);
    });

    it('starts while Redis is down, refuses logins with 503, serves the rest, and never logs the password', async () => {
      const password = `redis-${randomBytes(8).toString('hex')}`;
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'countersign-shared-limits-'));
      dataDirs.push(dataDir);
      const server = await startServerProcess({
        DATABASE_URL: test.url!,
        DATABASE_POOL_SIZE: '2',
        OPERATOR_TOKEN: operatorToken,
        MASTER_KEY: masterKey,
        LOG_LEVEL: 'warn',
        // Nothing listens on port 1: Redis is unreachable from the start.
        REDIS_URL: `redis://:${password}@127.0.0.1:1`,
        REDIS_KEY_PREFIX: keyPrefix,
      });
      try {
        expect((await send(server, '198.51.100.30', 'GET', '/healthz')).status).toBe(200);
        const login = await send(server, '203.0.113.200', 'POST', '/v1/sessions', {
          payerId: 'shared-payer',
          password: 'correct horse battery',
        });
        expect(login.status, login.body).toBe(503);
        expect(JSON.parse(login.body).error.code).toBe('service_unavailable');
      } finally {
        await server.stop();
      }
      expect(server.output()).toContain('the shared rate-limit counters (REDIS_URL) cannot be reached');
      expect(server.output()).not.toContain(password);
    });

    it('without REDIS_URL, each server counts alone: two admit twice each limit', async () => {
      const addresses = await burst(alone, 3 * addressLimit, (server) =>
        send(server, '198.51.100.9', 'GET', '/healthz'),
      );
      expect(addresses).toEqual({ 200: 2 * addressLimit, 429: addressLimit });
      await awayFromWindowEnd();
      const payers = await burst(alone, 16, (server, index) =>
        send(server, `203.0.113.${index + 101}`, 'POST', '/v1/sessions', {
          payerId: 'alone-payer',
          password: 'correct horse battery',
        }),
      );
      // Let through: twice the limit. Of those, the attempt slots in the database (shared, so at most five
      // evaluations of one payer at once) may answer some 423 payer_locked: still admitted by the throttle.
      expect(payers[429]).toBe(16 - 2 * payerLimit);
      expect((payers[201] ?? 0) + (payers[423] ?? 0)).toBe(2 * payerLimit);
      expect(Object.keys(payers).filter((status) => !['201', '423', '429'].includes(status))).toEqual([]);
    });
  },
);
