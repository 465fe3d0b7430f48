// The bank test: a workload of deposits and payments (created, approved with OCRA codes, cancelled, left to
// expire) run by concurrent clients against a real server process while faults are injected on a seeded
// schedule; then the database is checked for lost, duplicated or unbalanced money (bank-checks.ts).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { hexToBytes } from '../../src/domain/hex.js';
import { computeOcra } from '../../src/domain/ocra.js';
import { derivedId, type KeyedHash } from '../../src/services/ids.js';
import { createSecrets } from '../../src/services/keys/secrets.js';
import { type BankHistory, checkBank, type PaymentRecord } from './bank-checks.js';
import { type Answer, type ClientStatistics, newStatistics, send } from './bank-client.js';
import { HaCluster, type Promoter } from './ha-cluster.js';
import { PrivatePostgres } from './private-postgres.js';
import { SeededRandom } from './random.js';
import { freePort, ServerProcess, sleep } from './server-process.js';

/** Kinds of fault the schedule draws from. */
export type FaultKind = 'kill' | 'pause' | 'terminate' | 'postgres_crash' | 'failover';

/** How to run the bank test. */
export interface BankOptions {
  readonly engine: 'pglite' | 'postgres';
  readonly seed: number;
  readonly durationMs: number;
  readonly clients: number;
  readonly payers: number;
  readonly payees: number;
  /** Pause between two faults, drawn in [min, max] ms. */
  readonly faultGapMs: readonly [number, number];
  readonly faults: readonly FaultKind[];
  /** PostgreSQL server to create a fresh database on (engine postgres without a private cluster). */
  readonly postgresUrl?: string;
  /** Run PostgreSQL as a private cluster that the test may crash (`postgres_crash` faults). */
  readonly privatePostgres?: boolean;
  /**
   * Run PostgreSQL as a primary with a synchronous standby (scripts/ha/cluster.sh); the `failover` nemesis
   * kills the primary with `-m immediate` half-way through the run and promotes the standby.
   */
  readonly failover?: boolean;
  /**
   * Who promotes the standby in a failover run: the nemesis itself with `pg_ctl promote` (cluster.sh, the
   * default), or pg_auto_failover's monitor (scripts/ha/auto-failover.sh), which the nemesis waits for.
   */
  readonly promoter?: Promoter;
  /** How long one logical request is retried before its outcome is called unknown. */
  readonly requestDeadlineMs: number;
  readonly log: (line: string) => void;
}

/** What a run did and found. */
export interface BankReport {
  readonly engine: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly statistics: ClientStatistics;
  readonly faults: Record<FaultKind, number>;
  readonly operations: Record<string, number>;
  readonly facts: Record<string, number | string>;
  readonly violations: readonly string[];
}

const currencies = ['EUR', 'USD'] as const;
const codeTtlSeconds = 2;
const operatorToken = `cs_op_bank_${'x'.repeat(40)}`;
const password = 'correct horse battery';

interface BankPayer {
  readonly id: string;
  readonly verificationCode: string;
  readonly suite: string;
  readonly keyHex: string;
}

/** Creates a fresh database on a shared PostgreSQL server; returns its URL and how to drop it. */
async function freshDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const name = `countersign_bank_${randomBytes(5).toString('hex')}`;
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end({ timeout: 5 });
    },
  };
}

/** Runs one bank test and returns its report; `violations` is empty when every check passed. */
export async function runBank(options: BankOptions): Promise<BankReport> {
  const random = new SeededRandom(options.seed);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `countersign-bank-${options.engine}-`));
  let cluster: PrivatePostgres | undefined;
  let haCluster: HaCluster | undefined;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  if (options.engine === 'postgres') {
    if (options.failover === true) {
      haCluster = await HaCluster.create(options.promoter);
      database = { url: haCluster.url, drop: async () => {} };
    } else if (options.privatePostgres === true) {
      cluster = await PrivatePostgres.create();
      database = { url: cluster.url, drop: async () => {} };
    } else {
      if (options.postgresUrl === undefined) throw new Error('engine postgres needs postgresUrl');
      database = await freshDatabase(options.postgresUrl);
    }
  }
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    OPERATOR_TOKEN: operatorToken,
    MASTER_KEY: randomBytes(32).toString('hex'),
    CODE_TTL_SECONDS: String(codeTtlSeconds),
    SWEEP_INTERVAL_MS: '200',
    LOCK_SECONDS: '1',
    // Locks stay at a second: the bank's clients make wrong guesses on purpose and must not wait out an escalation.
    LOCK_SECONDS_MAX: '1',
    RATE_LIMIT_PER_MINUTE: '10000000',
    RATE_LIMIT_PER_PAYER: '1000000',
    LOG_LEVEL: 'warn',
    ...(database === undefined ? {} : { DATABASE_URL: database.url, DATABASE_POOL_SIZE: '5' }),
  };
  const server = new ServerProcess(await freePort(), env, path.join(dataDir, 'server.log'));
  try {
    await server.start();
    const report = await runAgainst(server, options, random, env, database?.url, cluster, haCluster);
    return report;
  } finally {
    await server.dispose();
    await database?.drop().catch(() => undefined);
    await cluster?.dispose();
    await haCluster?.dispose();
    if (process.env['BANK_KEEP_DATA'] === undefined) await rm(dataDir, { recursive: true, force: true });
    else options.log(`data kept in ${dataDir}`);
  }
}

async function runAgainst(
  server: ServerProcess,
  options: BankOptions,
  random: SeededRandom,
  env: Record<string, string>,
  databaseUrl: string | undefined,
  cluster: PrivatePostgres | undefined,
  haCluster: HaCluster | undefined,
): Promise<BankReport> {
  const statistics = newStatistics();
  const history: BankHistory = { deposits: new Map(), payments: new Map() };
  const operations: Record<string, number> = {};
  const count = (name: string) => {
    operations[name] = (operations[name] ?? 0) + 1;
  };
  // The server derives payment ids under the keyed-hash key it stored at its first start, which is
  // derived from its master key; the checks need the same ids.
  const keyedHash = createSecrets(env['MASTER_KEY']!).keyedHash;
  const failover: FailoverClock = {};
  const setup = { ...(await setUp(server, options, random, statistics, history)), keyedHash, failover };
  const startedAt = Date.now();
  const stopAt = startedAt + options.durationMs;
  const faults: Record<FaultKind, number> = {
    kill: 0,
    pause: 0,
    terminate: 0,
    postgres_crash: 0,
    failover: 0,
  };
  const faultRandom = random.fork();
  const clients = Array.from({ length: options.clients }, (_unused, index) =>
    runClient(index, random.fork(), server, options, setup, history, statistics, stopAt, count),
  );
  const schedule =
    haCluster === undefined
      ? runFaults(faultRandom, server, options, faults, stopAt, databaseUrl, cluster)
      : runFailover(
          faultRandom,
          server,
          haCluster,
          options,
          faults,
          startedAt + options.durationMs / 2,
          failover,
        );
  await Promise.all([...clients, schedule]);
  if (!server.running) await server.start();
  // Every payment still open expires, and the sweepers release its hold, before anything is checked.
  await sleep(codeTtlSeconds * 1000 + 2500);
  await server.stop();
  const { violations, facts } = await checkBank(options.engine, env, history);
  return {
    engine: options.engine,
    seed: options.seed,
    durationMs: Date.now() - startedAt,
    statistics,
    faults,
    operations,
    facts: { ...facts, serverStarts: server.starts, ...failoverFacts(failover) },
    violations,
  };
}

interface BankSetup {
  readonly payers: readonly BankPayer[];
  readonly payeeIds: readonly string[];
  /** The server's keyed hash, under which it derives ids. */
  readonly keyedHash: KeyedHash;
  readonly failover: FailoverClock;
}

/** When the primary was killed, and when the first payment asked for after that was acknowledged. */
interface FailoverClock {
  killedAt?: number;
  promotedAt?: number;
  firstPaymentAt?: number;
  /** Server processes that exited during the failover (see `runFailover`). */
  serverExits?: number;
}

function failoverFacts(clock: FailoverClock): Record<string, number | string> {
  if (clock.killedAt === undefined) return {};
  return {
    promoteAfterKillMs: (clock.promotedAt ?? Number.NaN) - clock.killedAt,
    firstPaymentAfterKillMs:
      clock.firstPaymentAt === undefined ? 'none' : clock.firstPaymentAt - clock.killedAt,
    serverExitsInFailover: clock.serverExits ?? 0,
  };
}

/**
 * The failover nemesis: at `at`, kills the primary with `-m immediate` mid-run, leaves the platform
 * without a primary for a moment (0.5 to 2 s, as a failover manager would take to decide), and promotes
 * the synchronous standby.
 */
async function runFailover(
  random: SeededRandom,
  server: ServerProcess,
  haCluster: HaCluster,
  options: BankOptions,
  faults: Record<FaultKind, number>,
  at: number,
  clock: FailoverClock,
): Promise<void> {
  await sleep(Math.max(0, at - Date.now()));
  faults.failover += 1;
  options.log('fault: failover (primary killed with -m immediate)');
  clock.killedAt = Date.now();
  await haCluster.killPrimary();
  await sleep(random.integer(500, 2000));
  await haCluster.promote();
  clock.promotedAt = Date.now();
  options.log(`standby promoted ${clock.promotedAt - clock.killedAt} ms after the kill`);
  // The driver (postgres 3.4.9) throws from a timer when a statement is sent on a transaction's dead
  // connection, and the process exits; `guardedBegin` (src/store/postgres-transaction.ts) keeps that from
  // happening. Should a server exit anyway, the nemesis starts it again, as a supervisor would, and counts
  // it, so that the report shows it rather than the run stalling on a dead server.
  for (const until = Date.now() + 5000; Date.now() < until; ) {
    if (!server.running) {
      clock.serverExits = (clock.serverExits ?? 0) + 1;
      options.log('the server exited during the failover; starting it again');
      await server.start();
      return;
    }
    await sleep(200);
  }
}

async function setUp(
  server: ServerProcess,
  options: BankOptions,
  random: SeededRandom,
  statistics: ClientStatistics,
  history: BankHistory,
): Promise<Omit<BankSetup, 'keyedHash' | 'failover'>> {
  const call = (requestPath: string, body: unknown, key: string) =>
    send(
      () => server.url,
      'POST',
      requestPath,
      body,
      { token: operatorToken, timeoutMs: 10_000, deadlineMs: Date.now() + 60_000, idempotencyKey: key },
      statistics,
    );
  const payers: BankPayer[] = [];
  for (let index = 0; index < options.payers; index++) {
    const id = `payer-${index}`;
    const verificationCode = String(random.integer(1000, 999_999));
    const answer = await call('/v1/payers', { id, password, verificationCode }, `setup-payer-${id}`);
    const terminal = expectStatus(answer, 201, 'payer creation').body['terminal'] as {
      suite: string;
      keyHex: string;
    };
    payers.push({ id, verificationCode, suite: terminal.suite, keyHex: terminal.keyHex });
    for (const currency of currencies) {
      const key = `setup-deposit-${id}-${currency}`;
      const amount = random.integer(20_000, 50_000);
      history.deposits.set(key, { key, payerId: id, currency, amount, acked: false });
      expectStatus(await call('/v1/deposits', { payerId: id, amount, currency }, key), 201, 'deposit');
      history.deposits.get(key)!.acked = true;
    }
  }
  const payeeIds: string[] = [];
  for (let index = 0; index < options.payees; index++) {
    const id = `payee-${index}`;
    expectStatus(await call('/v1/payees', { id, name: `Payee ${index}` }, `setup-${id}`), 201, 'payee');
    payeeIds.push(id);
  }
  return { payers, payeeIds };
}

function expectStatus(answer: Answer, status: number, what: string) {
  if (answer.kind !== 'answered' || answer.status !== status) {
    throw new Error(`${what} failed during set-up: ${JSON.stringify(answer)}`);
  }
  return answer;
}

async function runClient(
  index: number,
  random: SeededRandom,
  server: ServerProcess,
  options: BankOptions,
  setup: BankSetup,
  history: BankHistory,
  statistics: ClientStatistics,
  stopAt: number,
  count: (name: string) => void,
): Promise<void> {
  const request = (requestPath: string, body: unknown, key: string, token?: string): Promise<Answer> =>
    send(
      () => server.url,
      'POST',
      requestPath,
      body,
      {
        // Now and then a client gives up on an attempt almost at once and retries while the first runs.
        timeoutMs: random.chance(0.05) ? 30 : 3000,
        deadlineMs: Date.now() + options.requestDeadlineMs,
        idempotencyKey: key,
        ...(token === undefined ? {} : { token }),
      },
      statistics,
    );
  for (let operation = 0; Date.now() < stopAt; operation++) {
    const key = `bank-${options.seed}-${index}-${operation}`;
    const payer = random.pick(setup.payers);
    const currency = random.pick(currencies);
    if (random.chance(0.1)) {
      count('deposit');
      const amount = random.integer(100, 5000);
      const record = { key, payerId: payer.id, currency, amount, acked: false };
      history.deposits.set(key, record);
      const answer = await request(
        '/v1/deposits',
        { payerId: payer.id, amount, currency },
        key,
        operatorToken,
      );
      if (answer.kind === 'answered' && answer.status === 201) record.acked = true;
      continue;
    }
    const payeeId = random.pick(setup.payeeIds);
    await payment(key, payer, currency, payeeId, random, request, history, count, setup);
  }
}

type Requester = (requestPath: string, body: unknown, key: string, token?: string) => Promise<Answer>;

async function payment(
  key: string,
  payer: BankPayer,
  currency: string,
  payeeId: string,
  random: SeededRandom,
  request: Requester,
  history: BankHistory,
  count: (name: string) => void,
  setup: BankSetup,
): Promise<void> {
  count('payment');
  const keyedHash = setup.keyedHash;
  const amount = random.integer(1, 800);
  const record: PaymentRecord = {
    key,
    id: derivedId(keyedHash, 'payment', `payer:${payer.id}:${key}`),
    payerId: payer.id,
    amount,
    currency,
    created: 'indeterminate',
    outcome: undefined,
  };
  history.payments.set(key, record);
  const sentAt = Date.now();
  const created = await request(
    '/v1/payments',
    { payerId: payer.id, password, payeeId, amount, currency, deliverTo: 'first_terminal' },
    key,
  );
  if (created.kind === 'indeterminate') return;
  if (created.status !== 201) {
    record.created = 'refused';
    count(`create_refused_${errorCode(created)}`);
    return;
  }
  record.created = 'acked';
  const clock = setup.failover;
  if (clock.killedAt !== undefined && sentAt > clock.killedAt && clock.firstPaymentAt === undefined) {
    clock.firstPaymentAt = Date.now();
  }
  const firstCode = created.body['firstCode'];
  if (typeof firstCode !== 'string') {
    // A retry that landed after the first answer was lost: the code went with that answer.
    count('create_without_code');
    return;
  }
  const fate = random.next();
  if (fate < 0.15) {
    count('cancel');
    const answer = await request(
      `/v1/payments/${record.id}/cancel`,
      { payerId: payer.id, password },
      `${key}-cancel`,
    );
    record.outcome = outcomeOf(answer, 'canceled', 'payment_not_cancelable');
    return;
  }
  if (fate < 0.25) {
    count('left_to_expire');
    return;
  }
  if (fate < 0.33) {
    count('late_approval');
    await sleep(codeTtlSeconds * 1000 + 300);
  }
  const secondCode = await computeOcra({
    suite: payer.suite,
    key: hexToBytes(payer.keyHex),
    question: firstCode,
    pin: payer.verificationCode,
  });
  if (random.chance(0.1)) {
    count('wrong_code');
    const wrong = secondCode.slice(0, -1) + String((Number(secondCode.slice(-1)) + 1) % 10);
    await request(`/v1/payments/${record.id}/approve`, { secondCode: wrong }, `${key}-wrong`);
  }
  count('approve');
  const answer = await request(`/v1/payments/${record.id}/approve`, { secondCode }, `${key}-approve`);
  record.outcome = outcomeOf(answer, 'succeeded', 'payment_not_approvable');
}

function errorCode(answer: Answer): string {
  if (answer.kind !== 'answered') return 'indeterminate';
  return String((answer.body['error'] as { code?: string } | undefined)?.code ?? answer.status);
}

/**
 * What an answer acknowledges: `expected` on 200, or on the conflict that says the payment already has
 * that status (the first attempt's answer was lost and the retry found its work done); anything else is
 * the status the payment was seen in, or nothing.
 */
function outcomeOf(answer: Answer, expected: string, conflictCode: string): string | undefined {
  if (answer.kind !== 'answered') return undefined;
  if (answer.status === 200) return String(answer.body['status']);
  const error = answer.body['error'] as { code?: string; status?: string } | undefined;
  if (error?.code === conflictCode && error.status === expected) return expected;
  return undefined;
}

async function runFaults(
  random: SeededRandom,
  server: ServerProcess,
  options: BankOptions,
  faults: Record<FaultKind, number>,
  stopAt: number,
  databaseUrl: string | undefined,
  cluster: PrivatePostgres | undefined,
): Promise<void> {
  const available = options.faults.filter(
    (kind) =>
      (kind !== 'terminate' || databaseUrl !== undefined) &&
      (kind !== 'postgres_crash' || cluster !== undefined),
  );
  if (available.length === 0) return;
  for (;;) {
    await sleep(random.integer(options.faultGapMs[0], options.faultGapMs[1]));
    if (Date.now() >= stopAt) return;
    const kind = random.pick(available);
    faults[kind] += 1;
    options.log(`fault ${faults.kill + faults.pause + faults.terminate + faults.postgres_crash}: ${kind}`);
    if (kind === 'kill') {
      await server.kill9();
      await sleep(random.integer(0, 500));
      await server.start();
    } else if (kind === 'pause') {
      await server.pause(random.integer(300, 2500));
    } else if (kind === 'terminate') {
      await terminateBackends(databaseUrl!);
    } else {
      await cluster!.crashAndRestart();
    }
  }
}

/** `pg_terminate_backend` of every connection to the server's database (the test's own excepted). */
async function terminateBackends(databaseUrl: string): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid()`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** One line per figure, for the console and the docs. */
export function formatReport(report: BankReport): string {
  const lines = [
    `bank test on ${report.engine}, seed ${report.seed}, ${Math.round(report.durationMs / 1000)} s`,
    `  requests ${report.statistics.requests} (retries ${report.statistics.retries}, timeouts ${report.statistics.timeouts}, connection errors ${report.statistics.connectionErrors}, 5xx ${report.statistics.serverErrors}, key in use ${report.statistics.keyInUse}, unknown outcomes ${report.statistics.indeterminate})`,
    `  faults ${Object.entries(report.faults)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')}`,
    `  operations ${Object.entries(report.operations)
      .sort()
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')}`,
    `  facts ${Object.entries(report.facts)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ')}`,
    `  violations ${report.violations.length}${report.violations.length === 0 ? '' : ` (seed ${report.seed})`}`,
    ...report.violations.map((violation) => `    - ${violation}`),
  ];
  return lines.join('\n');
}
