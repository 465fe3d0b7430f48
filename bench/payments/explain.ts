/**
 * The query plans of the payment path, from the statements the platform really runs: a platform is built
 * in this process over a recording database, drives concurrent payments through the API (`inject`), and
 * every distinct statement it ran is then explained with the parameters of its last run — reads with
 * EXPLAIN ANALYZE (in a transaction rolled back, as FOR UPDATE takes locks), writes with EXPLAIN alone.
 * It also counts statements and transactions per payment.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { systemClock } from '../../src/domain/clock.js';
import { computeOcra } from '../../src/domain/ocra.js';
import { buildApp } from '../../src/http/app.js';
import { hashOperatorToken } from '../../src/http/operator-auth.js';
import { platformRoutes } from '../../src/http/routes/index.js';
import type { Database, SqlExecutor } from '../../src/services/database.js';
import { createPlatformServices } from '../../src/wiring/platform-services.js';
import { sqlPlatformStores } from '../../src/wiring/sql-stores.js';
import {
  benchCurrency,
  benchSuite,
  benchVerificationCode,
  payeeId,
  payerId,
  sessionToken,
  terminalKey,
} from './identities.js';

interface Recorded {
  readonly sql: string;
  params: readonly unknown[];
  count: number;
}

/** What the explain run found. */
export interface ExplainReport {
  readonly payments: number;
  readonly statementsPerPayment: number;
  readonly transactionsPerPayment: number;
  readonly markdown: string;
}

/** A Database that records each distinct statement (with its latest parameters) and counts transactions. */
function recording(inner: Database) {
  const statements = new Map<string, Recorded>();
  let transactions = 0;
  const note = (sql: string, params: readonly unknown[] | undefined) => {
    const entry = statements.get(sql);
    if (entry === undefined) statements.set(sql, { sql, params: params ?? [], count: 1 });
    else {
      entry.params = params ?? [];
      entry.count += 1;
    }
  };
  const wrap = (executor: SqlExecutor): SqlExecutor => ({
    query: (sql, params) => {
      note(sql, params);
      return executor.query(sql, params);
    },
    script: (sql) => executor.script(sql),
  });
  const database: Database = {
    engine: inner.engine,
    query: (sql, params) => {
      note(sql, params);
      return inner.query(sql, params);
    },
    script: (sql) => inner.script(sql),
    snapshot: () => inner.snapshot(),
    transaction: (work, options) =>
      inner.transaction((tx) => {
        transactions += 1;
        return work(wrap(tx));
      }, options),
    close: () => inner.close(),
  };
  return {
    database,
    statements,
    transactions: () => transactions,
    reset: () => {
      statements.clear();
      transactions = 0;
    },
  };
}

function isRead(sql: string): boolean {
  return /^\s*SELECT/i.test(sql) && !/\bINSERT\b|\bUPDATE\b|\bDELETE\b/i.test(sql);
}

async function explainOne(database: Database, recorded: Recorded): Promise<string> {
  const analyze = isRead(recorded.sql);
  const prefix = analyze
    ? 'EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF)'
    : 'EXPLAIN (COSTS OFF)';
  try {
    const rows = await database
      .transaction(async (tx) => {
        const plan = await tx.query<{ 'QUERY PLAN': string }>(`${prefix} ${recorded.sql}`, recorded.params);
        // Rolled back on purpose: a plan is read, nothing is changed.
        throw Object.assign(new Error('rollback'), { plan });
      })
      .catch((error: { plan?: { 'QUERY PLAN': string }[] }) => {
        if (error.plan === undefined) throw error;
        return error.plan;
      });
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } catch (error) {
    return `(could not explain: ${error instanceof Error ? error.message : String(error)})`;
  }
}

/**
 * Runs `payments` payments from `clients` concurrent clients through an in-process platform over
 * `database` (seeded with `payers`, `payees`, `masterKeyHex`, `benchSecret`), then explains every statement.
 */
export async function explainPaymentPath(
  base: Database,
  seed: { payers: number; payees: number; masterKeyHex: string; benchSecret: string },
  clients: number,
  payments: number,
): Promise<ExplainReport> {
  const recorder = recording(base);
  const operatorToken = `cs_op_${randomBytes(24).toString('base64url')}`;
  const config = loadConfig({ LOG_LEVEL: 'silent', OPERATOR_TOKEN: operatorToken });
  const services = createPlatformServices({
    database: recorder.database,
    clock: systemClock,
    configuration: { ...config, rateLimitPerPayer: 1_000_000 },
    masterKeyHex: seed.masterKeyHex,
    stores: sqlPlatformStores(recorder.database),
  });
  const app = await buildApp({
    config,
    database: recorder.database,
    clock: systemClock,
    logger: false,
    routes: platformRoutes({ ...services, operatorTokenHash: hashOperatorToken(operatorToken) }),
    idempotencyStore: services.idempotencyStore,
    httpLimits: { requestsPerWindowPerAddressMax: 10_000_000 },
  });
  try {
    const pay = async (index: number) => {
      const payer = payerId(Math.floor(Math.random() * seed.payers));
      const created = await app.inject({
        method: 'POST',
        url: '/v1/payments',
        headers: {
          authorization: `Bearer ${sessionToken(seed.benchSecret, payer)}`,
          'idempotency-key': randomBytes(12).toString('hex'),
          'content-type': 'application/json',
        },
        payload: JSON.stringify({
          payeeId: payeeId(index % seed.payees),
          amount: 1 + (index % 999),
          currency: benchCurrency,
          deliverTo: 'first_terminal',
        }),
      });
      if (created.statusCode !== 201) throw new Error(`create: ${created.body}`);
      const payment = created.json() as { id: string; firstCode: string };
      const secondCode = await computeOcra({
        suite: benchSuite,
        key: terminalKey(seed.benchSecret, payer),
        question: payment.firstCode,
        pin: benchVerificationCode,
      });
      const approved = await app.inject({
        method: 'POST',
        url: `/v1/payments/${payment.id}/approve`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ secondCode }),
      });
      if (approved.statusCode !== 200) throw new Error(`approve: ${approved.body}`);
    };
    const drive = async (count: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < count) await pay(next++);
        }),
      );
    };
    await drive(clients);
    recorder.reset();
    await drive(payments);
    const statements = [...recorder.statements.values()].sort((a, b) => b.count - a.count);
    const total = statements.reduce((sum, s) => sum + s.count, 0);
    const sections: string[] = [];
    for (const statement of statements) {
      const plan = await explainOne(base, statement);
      const text = statement.sql.replace(/\s+/g, ' ').trim();
      sections.push(
        `${(statement.count / payments).toFixed(2)} per payment: \`${text.length > 160 ? `${text.slice(0, 157)}…` : text}\`\n\n\`\`\`\n${plan}\n\`\`\``,
      );
    }
    return {
      payments,
      statementsPerPayment: Math.round((total / payments) * 100) / 100,
      transactionsPerPayment: Math.round((recorder.transactions() / payments) * 100) / 100,
      markdown: sections.join('\n\n'),
    };
  } finally {
    await app.close();
  }
}
