// Proves exports for the books on both engines: the service's range is [from, to), rows come in
// (created_at, id) order across page boundaries even when many share a timestamp, and GET /v1/exports/{kind}
// streams a file that parses back to those rows; without the token, or with bad input, nothing is written.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvHeader } from '../../src/domain/export-format.js';
import { type Actor, cliActor } from '../../src/domain/operator.js';
import { call, createFundedPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

const day = Date.UTC(2030, 0, 10);
const hour = 3_600_000;

describe.each(testEngines())('exports for the books on %s', (engine) => {
  let platform: TestPlatform;
  /** The seeded transfers' ids in export order: 7 at `day`, 1 at day + 1h, 1 at day + 1d (outside). */
  const inRange: string[] = [];

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    await createFundedPayer(platform.app, platform.operatorToken, 'alice', 5_000);
    const db = platform.test.database;
    const accounts = await db.query<{ id: string; kind: string }>(
      `SELECT id::text AS id, kind FROM accounts WHERE kind IN ('payer', 'funding') AND currency = 'EUR'`,
    );
    const funding = accounts.find((a) => a.kind === 'funding')?.id;
    const payer = accounts.find((a) => a.kind === 'payer')?.id;
    const insert = (id: string, at: number, reference: string | null) =>
      db.query(
        `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency, kind, reference, created_at_ms)
         VALUES ($1, $2, $3, $4, 'EUR', 'single', $5, $6)`,
        [id, funding, payer, 105n, reference, BigInt(at)],
      );
    const sameTime = Array.from({ length: 7 }, () => randomUUID()).sort();
    for (const id of sameTime) await insert(id, day, '=cmd, "x"');
    const later = randomUUID();
    await insert(later, day + hour, null);
    await insert(randomUUID(), day + 24 * hour, null);
    await insert(randomUUID(), day - 1, null);
    inRange.push(...sameTime, later);
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const range = { fromMs: day, toMs: day + 24 * hour };

  it('reads [from, to) in (created_at, id) order across pages of equal timestamps', async () => {
    for (const pageRows of [1, 3, 7, 1000]) {
      const ids: string[] = [];
      for await (const record of platform.services.exports.records('transfers', range, pageRows)) {
        ids.push(record.id);
      }
      expect(ids).toEqual(inRange);
    }
  });

  it('refuses an export to a viewer before producing anything', () => {
    const viewer: Actor = { kind: 'operator', id: 'op_1', role: 'viewer' };
    expect(() => platform.services.exports.file(viewer, 'transfers', 'csv', range)).toThrow(
      expect.objectContaining({ code: 'forbidden' }),
    );
    const support: Actor = { kind: 'operator', id: 'op_2', role: 'support' };
    expect(() => platform.services.exports.file(support, 'transfers', 'csv', range)).not.toThrow();
    expect(() => platform.services.exports.file(cliActor, 'transfers', 'csv', range)).not.toThrow();
  });

  const url = '/v1/exports/transfers?from=2030-01-10&to=2030-01-11';

  it('refuses a caller without the operator token, writing nothing', async () => {
    const answer = await call(platform.app, 'GET', `${url}&format=csv`);
    expect(answer.statusCode).toBe(401);
    expect(answer.body).not.toContain('amount_minor');
  });

  it('refuses bad input with invalid_request', async () => {
    for (const bad of [
      '/v1/exports/accounts?from=2030-01-10&to=2030-01-11',
      `${url}&format=xlsx`,
      '/v1/exports/transfers?from=2030-01-11&to=2030-01-10',
      '/v1/exports/transfers?from=2028-01-01&to=2030-01-10',
      '/v1/exports/transfers?from=yesterday&to=2030-01-10',
    ]) {
      const answer = await call(platform.app, 'GET', bad, undefined, { token: platform.operatorToken });
      expect(answer.statusCode, bad).toBe(400);
      expect(answer.json().error.code, bad).toBe('invalid_request');
    }
  });

  it('streams CSV that parses back to the rows', async () => {
    const answer = await call(platform.app, 'GET', `${url}&format=csv`, undefined, {
      token: platform.operatorToken,
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(answer.headers['content-disposition']).toBe(
      'attachment; filename="countersign-transfers-2030-01-10-2030-01-11.csv"',
    );
    const lines = answer.body.split('\r\n');
    expect(`${lines[0]}\r\n`).toBe(csvHeader('transfers'));
    expect(lines.at(-1)).toBe('');
    const rows = lines.slice(1, -1);
    expect(rows.map((line) => line.split(',')[0])).toEqual(inRange);
    expect(rows[0]).toContain(',105,1.05,EUR,,"\'=cmd, ""x"""');
    expect(rows[0]?.split(',')[1]).toBe('2030-01-10T00:00:00.000Z');
  });

  it('streams JSON Lines that parse back to the rows', async () => {
    const answer = await call(platform.app, 'GET', `${url}&format=jsonl`, undefined, {
      token: platform.operatorToken,
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('application/x-ndjson');
    const rows = answer.body
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rows.map((row) => row.id)).toEqual(inRange);
    expect(rows[7]).toMatchObject({
      amount_minor: '105',
      amount: '1.05',
      currency: 'EUR',
      reference: null,
      created_at: '2030-01-10T01:00:00.000Z',
    });
  });

  it('exports payments and refunds with their headers, empty when none fall in the range', async () => {
    for (const kind of ['payments', 'refunds'] as const) {
      const answer = await call(
        platform.app,
        'GET',
        `/v1/exports/${kind}?from=2030-01-10&to=2030-01-11`,
        undefined,
        { token: platform.operatorToken },
      );
      expect(answer.statusCode).toBe(200);
      expect(answer.body).toBe(csvHeader(kind));
    }
  });
});
