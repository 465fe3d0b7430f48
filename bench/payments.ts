/**
 * Payments per second, measured against PostgreSQL's own limit in the same run.
 *
 *   npm run bench -- [--database-url URL] [--clients 32] [--duration-s 20] [--payers 1000] [--payees 10]
 *                    [--json] [--sweep] [--growth] [--threads N] [--pool-size N] [--server-env NAME=VALUE]…
 *                    [--server-node-arg ARG]… [--servers N]
 *
 * Default run: on PostgreSQL (a fresh database on the server of `--database-url`, else of `DATABASE_URL`
 * through `loadConfig`), the compiled server (`npm run build` first) is started as its own process, payers
 * and payees are bulk-seeded with SQL (see bench/payments/seed.ts) with 10 past payments per payer (`--history`
 * sets another number), and C clients drive complete payments
 * — create (hold) and approve with the computed second code (post) — for T seconds flat out (the peak),
 * then for T seconds paced at half the peak rate (the latency target). `pgbench -b tpcb-like` runs on the
 * same server with the same client count. Then the same peak run on embedded PGlite.
 * `--servers N`: N server processes on the one PostgreSQL database, the clients spread over them round
 * robin as a load balancer would (PostgreSQL only: add `--skip-pglite`).
 * `--sweep`: client counts 1, 8, 32, 64 on PostgreSQL with pgbench at each; an SVG chart.
 * `--growth`: the peak run with 10,000 payers (100,000 past payments), then with 1,000,000 payers and a
 * ledger already holding millions of transfers (`--growth-payers`, `--history`, default 1,000,000).
 *
 * Writes bench/results/payments-<timestamp>.json and .md (and .svg for a sweep). With `--json` the last
 * line on stdout is one JSON object: `paymentsPerSecond`, `createP99Ms`, `approveP99Ms`, and more.
 * Exit code 1 when a ledger or audit chain does not verify after a run, or when payments failed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { openPostgres } from '../src/store/postgres-database.js';
import { flagReaders, UsageError } from './flags.js';
import type { ActivityCost } from './payments/activity.js';
import { explainPaymentPath } from './payments/explain.js';
import { measureRun, type RunResult, type RunSpec, round } from './payments/measure.js';
import { findPgbench, type PgbenchResult, runPgbench } from './payments/pgbench.js';
import { type ComparedRun, markdownTable, sweepChart } from './payments/report.js';
import {
  type EngineName,
  openTarget,
  type Target,
  type TargetPlan,
  type TargetVerification,
} from './payments/target.js';

const benchLimits = Object.freeze({
  clientsDefault: 32,
  clientsMax: 1024,
  durationSecondsDefault: 20,
  durationSecondsMax: 3600,
  warmupSecondsDefault: 3,
  payersDefault: 1000,
  payersMax: 1_000_000,
  payeesDefault: 10,
  payeesMax: 1000,
  poolSizeDefault: 10,
  threadsDefault: 1,
  threadsMax: 16,
  sweepClients: [1, 8, 32, 64] as readonly number[],
  growthSmallPayers: 10_000,
  growthLargePayersDefault: 1_000_000,
  growthHistoryPaymentsDefault: 1_000_000,
  /** Server processes on one database: more than the machine has cores measures only contention. */
  serversMax: 8,
  /**
   * Past payments per payer seeded for the default, sweep and small growth runs: a platform in use, whose
   * tables hold rows and statistics, not an empty one (on empty tables the planner's estimates are those
   * of empty tables until autovacuum's first ANALYZE, a minute in — longer than a run).
   */
  historyPerPayerDefault: 10,
  historyPaymentsMax: 20_000_000,
  rateMax: 1_000_000,
  /** The ledger's batch size in the default run: the size the ratio to pgbench is stated for. */
  ledgerBatchSize: 1000,
});

const projectRoot = fileURLToPath(new URL('../', import.meta.url));
const resultsDirectory = fileURLToPath(new URL('./results/', import.meta.url));

interface BenchOptions {
  readonly databaseUrl: string | undefined;
  readonly clients: number;
  /** A paced rate to run at instead of the peak and half-peak runs (`--rate`). */
  readonly ratePerSecond: number | undefined;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly payers: number;
  readonly payees: number;
  readonly threads: number;
  readonly poolSize: number;
  readonly json: boolean;
  readonly sweep: boolean;
  readonly growth: boolean;
  readonly growthPayers: number;
  readonly historyPayments: number;
  /** Whether `--history` was given (the explain run seeds no history unless asked). */
  readonly historyGiven: boolean;
  readonly explain: boolean;
  readonly skipBuild: boolean;
  readonly skipPglite: boolean;
  readonly serverEnvironment: Readonly<Record<string, string>>;
  readonly serverNodeArguments: readonly string[];
  readonly servers: number;
}

const usage =
  'usage: npm run bench -- [--database-url URL] [--clients C] [--duration-s T] [--payers P] [--payees N] ' +
  '[--json] [--sweep] [--growth] [--growth-payers P] [--history N] [--threads N] [--pool-size N] ' +
  '[--warmup-s S] [--rate R] [--explain] [--skip-build] [--skip-pglite] [--server-env NAME=VALUE]… ' +
  '[--server-node-arg ARG]… [--servers N]';

const flags = flagReaders(usage);
// Annotated, so that the compiler knows a call never returns.
const usageError: (message: string) => never = flags.usageError;
const { wholeFlag } = flags;

function serverEnvironment(entries: readonly string[]): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const entry of entries) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(entry);
    if (match === null) usageError(`--server-env takes NAME=VALUE, got "${entry}"`);
    environment[match[1]!] = match[2]!;
  }
  return environment;
}

/** `--servers`: 1 by default; more only on PostgreSQL, so the PGlite run must be skipped. */
function serverCount(raw: string | undefined, skipPglite: boolean): number {
  const count = wholeFlag('servers', raw, 1, 1, benchLimits.serversMax);
  if (count > 1 && !skipPglite) usageError('--servers above 1 runs on PostgreSQL only: add --skip-pglite');
  return count;
}

function parseOptions(argv: readonly string[]): BenchOptions {
  let values: ReturnType<typeof parseFlags>;
  try {
    values = parseFlags(argv);
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
  const l = benchLimits;
  return {
    databaseUrl: values['database-url'] ?? loadConfig().databaseUrl,
    clients: wholeFlag('clients', values.clients, l.clientsDefault, 1, l.clientsMax),
    durationSeconds: wholeFlag(
      'duration-s',
      values['duration-s'],
      l.durationSecondsDefault,
      1,
      l.durationSecondsMax,
    ),
    warmupSeconds: wholeFlag('warmup-s', values['warmup-s'], l.warmupSecondsDefault, 0, 600),
    payers: wholeFlag('payers', values.payers, l.payersDefault, 1, l.payersMax),
    payees: wholeFlag('payees', values.payees, l.payeesDefault, 1, l.payeesMax),
    threads: wholeFlag('threads', values.threads, l.threadsDefault, 1, l.threadsMax),
    poolSize: wholeFlag('pool-size', values['pool-size'], l.poolSizeDefault, 1, 100),
    json: values.json === true,
    sweep: values.sweep === true,
    growth: values.growth === true,
    growthPayers: wholeFlag(
      'growth-payers',
      values['growth-payers'],
      l.growthLargePayersDefault,
      1,
      l.payersMax,
    ),
    historyPayments: wholeFlag(
      'history',
      values.history,
      l.growthHistoryPaymentsDefault,
      0,
      l.historyPaymentsMax,
    ),
    explain: values.explain === true,
    ratePerSecond:
      values.rate === undefined ? undefined : wholeFlag('rate', values.rate, 0, 1, benchLimits.rateMax),
    skipBuild: values['skip-build'] === true,
    skipPglite: values['skip-pglite'] === true,
    historyGiven: values.history !== undefined,
    serverEnvironment: serverEnvironment(values['server-env'] ?? []),
    serverNodeArguments: values['server-node-arg'] ?? [],
    servers: serverCount(values.servers, values['skip-pglite'] === true),
  };
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    options: {
      'database-url': { type: 'string' },
      clients: { type: 'string' },
      'duration-s': { type: 'string' },
      'warmup-s': { type: 'string' },
      payers: { type: 'string' },
      payees: { type: 'string' },
      threads: { type: 'string' },
      'pool-size': { type: 'string' },
      json: { type: 'boolean' },
      sweep: { type: 'boolean' },
      growth: { type: 'boolean' },
      'growth-payers': { type: 'string' },
      history: { type: 'string' },
      explain: { type: 'boolean' },
      rate: { type: 'string' },
      'skip-build': { type: 'boolean' },
      'skip-pglite': { type: 'boolean' },
      servers: { type: 'string' },
      'server-env': { type: 'string', multiple: true },
      'server-node-arg': { type: 'string', multiple: true },
    },
  }).values;
}

function progress(message: string): void {
  // Progress goes to stderr, so that stdout carries only the report (and, with --json, its last line).
  process.stderr.write(`${message}\n`);
}

function build(): void {
  progress('building the server (npm run build)…');
  try {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: projectRoot, stdio: 'ignore' });
  } catch {
    // tsc emits JavaScript even when it reports type errors; the run still measures the code, but whoever
    // reads the result must know.
    progress('warning: `npm run build` reported errors; the JavaScript it emitted is what is measured');
  }
}

/** Past payments to seed under `payers` payers: `--history` when given, else 10 per payer. */
function historyFor(options: BenchOptions, payers: number): number {
  if (options.historyGiven) return options.historyPayments;
  return Math.min(payers * benchLimits.historyPerPayerDefault, benchLimits.historyPaymentsMax);
}

/** A target plan from the options. */
function targetPlan(
  options: BenchOptions,
  engine: EngineName,
  payers: number,
  historyPayments = 0,
): TargetPlan {
  return {
    engine,
    ...(options.databaseUrl === undefined ? {} : { adminUrl: options.databaseUrl }),
    payers,
    payees: options.payees,
    historyPayments,
    poolSize: options.poolSize,
    serverEnvironment: options.serverEnvironment,
    serverNodeArguments: options.serverNodeArguments,
    // PGlite allows one process per data directory.
    servers: engine === 'postgres' ? options.servers : 1,
  };
}

function spec(options: BenchOptions, label: string, clients: number, ratePerSecond = 0): RunSpec {
  return {
    label,
    clients,
    threads: options.threads,
    ratePerSecond,
    warmupSeconds: options.warmupSeconds,
    durationSeconds: options.durationSeconds,
  };
}

/** Opens a target, runs `work` against it, and always stops and verifies it. */
async function withTarget<T>(
  plan: TargetPlan,
  work: (target: Target) => Promise<T>,
): Promise<{ result: T; verification: TargetVerification; target: Target }> {
  progress(
    `${plan.engine}: seeding ${plan.payers} payers, ${plan.payees} payees, ${plan.historyPayments} past payments…`,
  );
  const target = await openTarget(plan, progress);
  progress(`${plan.engine}: server ${target.server.url} up (seeded in ${JSON.stringify(target.seed)} s)`);
  let result: T;
  try {
    result = await work(target);
  } catch (error) {
    await target.finish().catch(() => {});
    throw error;
  }
  progress(`${plan.engine}: verifying the ledger and the audit chain…`);
  const verification = await target.finish();
  return { result, verification, target };
}

function describeRun(run: RunResult): string {
  return (
    `${run.engine}${run.servers > 1 ? ` (${run.servers} servers)` : ''} ${run.label} × ${run.clients} clients: ${run.paymentsPerSecond} payments/s, ` +
    `create p99 ${run.createMs.p99} ms, approve p99 ${run.approveMs.p99} ms, CPU ${JSON.stringify(run.cpu)}` +
    (Object.keys(run.errors).length > 0 ? `, errors ${JSON.stringify(run.errors)}` : '')
  );
}

async function measured(target: Target, runSpec: RunSpec): Promise<RunResult> {
  const run = await measureRun(target, runSpec);
  progress(describeRun(run));
  return run;
}

/** pgbench on a scratch database of the same server, dropped afterwards. */
async function baseline(
  adminUrl: string,
  clients: number,
  durationSeconds: number,
): Promise<PgbenchResult | undefined> {
  const pgbench = findPgbench();
  if (pgbench === undefined) {
    progress('pgbench not found (neither on PATH nor under /usr/lib/postgresql): no baseline');
    return undefined;
  }
  const admin = await openPostgres({ url: adminUrl, poolSize: 1 });
  const name = `countersign_pgbench_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const result = await runPgbench(pgbench, url.toString(), clients, durationSeconds);
    progress(`pgbench tpcb-like × ${clients} clients: ${result.tps} TPS`);
    return result;
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.close();
  }
}

/** What the ledger alone did on the same server: batches of 1,000, `npm run bench:ledger`'s default case. */
interface LedgerBaseline {
  readonly batchSize: number;
  readonly submitters: number;
  readonly transfersPerSecond: number;
  readonly commitP50Ms: number;
  readonly commitP99Ms: number;
}

/**
 * The ledger benchmark (bench/ledger.ts) on a fresh database of the same server, batches of 1,000 for as
 * long as the payment runs; run as its own process, as a user would run it.
 */
function ledgerBaseline(adminUrl: string, durationSeconds: number): LedgerBaseline | undefined {
  progress(`ledger alone, batches of ${benchLimits.ledgerBatchSize}, ${durationSeconds} s…`);
  try {
    const stdout = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/ledger.ts',
        '--database-url',
        adminUrl,
        '--batch-sizes',
        String(benchLimits.ledgerBatchSize),
        '--duration-s',
        String(durationSeconds),
        '--skip-pglite',
        '--json',
      ],
      { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 },
    );
    const report = JSON.parse(stdout) as {
      engines: {
        engine: string;
        cases: {
          batchSize: number;
          submitters: number;
          transfersPerSecond: number;
          commitLatencyMs: { p50: number; p99: number };
        }[];
      }[];
    };
    const run = report.engines.find((engine) => engine.engine === 'postgres')?.cases[0];
    if (run === undefined) return undefined;
    progress(`ledger alone: ${run.transfersPerSecond} transfers/s`);
    return {
      batchSize: run.batchSize,
      submitters: run.submitters,
      transfersPerSecond: run.transfersPerSecond,
      commitP50Ms: run.commitLatencyMs.p50,
      commitP99Ms: run.commitLatencyMs.p99,
    };
  } catch (error) {
    progress(`the ledger benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

interface Section {
  readonly name: string;
  readonly rows: ComparedRun[];
  ledger?: LedgerBaseline;
  readonly verifications: {
    engine: string;
    payers: number;
    verification: TargetVerification;
    seed: unknown;
    settings: unknown;
  }[];
}

function recordTarget(section: Section, outcome: { verification: TargetVerification; target: Target }): void {
  section.verifications.push({
    engine: outcome.target.plan.engine,
    payers: outcome.target.plan.payers,
    verification: outcome.verification,
    seed: outcome.target.seed,
    settings: outcome.target.settings,
  });
}

/** The default run: peak and half-peak on PostgreSQL with the pgbench baseline, then the peak on PGlite. */
async function defaultSections(options: BenchOptions): Promise<Section> {
  const section: Section = { name: 'default', rows: [], verifications: [] };
  if (options.databaseUrl !== undefined) {
    const outcome = await withTarget(
      targetPlan(options, 'postgres', options.payers, historyFor(options, options.payers)),
      async (target) => {
        if (options.ratePerSecond !== undefined) {
          return [await measured(target, spec(options, 'paced', options.clients, options.ratePerSecond))];
        }
        const peak = await measured(target, spec(options, 'peak', options.clients));
        const half = Math.max(1, Math.round(peak.paymentsPerSecond / 2));
        const halfRate = await measured(target, spec(options, 'half peak', options.clients, half));
        return [peak, halfRate];
      },
    );
    recordTarget(section, outcome);
    const pgbench = await baseline(options.databaseUrl, options.clients, options.durationSeconds);
    const ledger = ledgerBaseline(options.databaseUrl, options.durationSeconds);
    if (ledger !== undefined) section.ledger = ledger;
    section.rows.push(
      ...outcome.result.map((run) => ({ run, ...(pgbench === undefined ? {} : { pgbench }) })),
    );
  } else {
    progress('no --database-url and no DATABASE_URL: PostgreSQL and pgbench are skipped');
  }
  if (!options.skipPglite) {
    const outcome = await withTarget(
      targetPlan(options, 'pglite', options.payers, historyFor(options, options.payers)),
      (target) => measured(target, spec(options, 'peak', options.clients)),
    );
    recordTarget(section, outcome);
    section.rows.push({ run: outcome.result });
  }
  return section;
}

async function sweepSection(options: BenchOptions, adminUrl: string): Promise<Section> {
  const section: Section = { name: 'sweep', rows: [], verifications: [] };
  const plan = targetPlan(options, 'postgres', options.payers, historyFor(options, options.payers));
  const outcome = await withTarget(plan, async (target) => {
    const runs: RunResult[] = [];
    for (const clients of benchLimits.sweepClients)
      runs.push(await measured(target, spec(options, 'sweep', clients)));
    return runs;
  });
  recordTarget(section, outcome);
  for (const run of outcome.result) {
    const pgbench = await baseline(adminUrl, run.clients, options.durationSeconds);
    section.rows.push({ run, ...(pgbench === undefined ? {} : { pgbench }) });
  }
  return section;
}

async function growthSection(options: BenchOptions): Promise<Section> {
  const section: Section = { name: 'growth', rows: [], verifications: [] };
  const plans = [
    targetPlan(
      options,
      'postgres',
      benchLimits.growthSmallPayers,
      benchLimits.growthSmallPayers * benchLimits.historyPerPayerDefault,
    ),
    targetPlan(options, 'postgres', options.growthPayers, options.historyPayments),
  ];
  for (const plan of plans) {
    const started = performance.now();
    const label = plan.historyPayments > 0 ? `growth, ${plan.historyPayments} past payments` : 'growth';
    const outcome = await withTarget(plan, (target) =>
      measured(target, spec(options, label, options.clients)),
    );
    progress(`growth case took ${round((performance.now() - started) / 1000, 0)} s in all`);
    recordTarget(section, outcome);
    section.rows.push({ run: outcome.result });
  }
  return section;
}

/**
 * `--explain`: seeds a PostgreSQL database (with `--history` past payments, default none here), drives
 * concurrent payments from `--clients` clients through an in-process platform, and writes the plan of
 * every statement it ran.
 */
async function explainMode(options: BenchOptions, startedAt: Date): Promise<number> {
  if (options.databaseUrl === undefined) usageError('--explain needs --database-url (or DATABASE_URL)');
  const history = options.historyGiven ? options.historyPayments : 0;
  const plan = targetPlan(options, 'postgres', options.payers, history);
  const outcome = await withTarget(plan, async (target) => {
    const database = await openPostgres({ url: target.databaseUrl!, poolSize: 10 });
    try {
      const seed = {
        payers: options.payers,
        payees: options.payees,
        masterKeyHex: target.masterKeyHex,
        benchSecret: target.benchSecret,
      };
      return await explainPaymentPath(database, seed, options.clients, Math.max(options.clients * 4, 200));
    } finally {
      await database.close();
    }
  });
  const report = outcome.result;
  const markdown = [
    `# Statements of the payment path, ${startedAt.toISOString()}`,
    '',
    `${options.payers} payers, ${history} past payments, ${options.clients} concurrent clients, ` +
      `${report.payments} payments: ${report.statementsPerPayment} statements and ` +
      `${report.transactionsPerPayment} transactions per payment.`,
    '',
    report.markdown,
    '',
  ].join('\n');
  await mkdir(resultsDirectory, { recursive: true });
  const file = path.join(resultsDirectory, `explain-${stamp(startedAt)}.md`);
  await writeFile(file, markdown);
  process.stdout.write(markdown);
  progress(`plans written to ${path.relative(process.cwd(), file)}`);
  return outcome.verification.ledgerOk && outcome.verification.auditOk ? 0 : 1;
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

function headline(sections: readonly Section[]) {
  const rows = sections.flatMap((section) => section.rows);
  const peak = rows.find((row) => row.run.engine === 'postgres' && row.run.label === 'peak') ?? rows[0];
  const half = rows.find((row) => row.run.engine === 'postgres' && row.run.label === 'half peak');
  const pglite = rows.find((row) => row.run.engine === 'pglite');
  const growth = sections.find((section) => section.name === 'growth')?.rows;
  const ledger = sections.find((section) => section.ledger !== undefined)?.ledger;
  const pgbench = peak?.pgbench;
  const cpu = peak?.run.cpu;
  const paymentsPerSecond = peak?.run.paymentsPerSecond ?? 0;
  return {
    engine: peak?.run.engine,
    servers: peak?.run.servers ?? 1,
    paymentsPerSecond,
    createP99Ms: peak?.run.createMs.p99 ?? null,
    approveP99Ms: peak?.run.approveMs.p99 ?? null,
    pgbenchTps: pgbench?.tps ?? null,
    pgbenchScale: pgbench?.scale ?? null,
    ratioToPgbench: pgbench === undefined ? null : round(paymentsPerSecond / pgbench.tps, 2),
    ledgerTransfersPerSecond: ledger?.transfersPerSecond ?? null,
    ledgerRatioToPgbench:
      ledger === undefined || pgbench === undefined
        ? null
        : round(ledger.transfersPerSecond / pgbench.tps, 2),
    cpuMsPerPayment:
      cpu?.serverMsPerPayment == null || cpu.databaseMsPerPayment == null
        ? null
        : round(cpu.serverMsPerPayment + cpu.databaseMsPerPayment, 2),
    serverCpuMsPerPayment: cpu?.serverMsPerPayment ?? null,
    databaseCpuMsPerPayment: cpu?.databaseMsPerPayment ?? null,
    walBytesPerPayment: peak?.run.database?.walBytesPerUnit ?? null,
    statementsPerPayment: peak?.run.database?.statementsPerUnit ?? null,
    rowsWrittenPerPayment: peak?.run.database?.rowsWrittenPerUnitTotal ?? null,
    pgbenchCpuMsPerTransaction: pgbench?.cpu.databaseMsPerTransaction ?? null,
    pgbenchWalBytesPerTransaction: pgbench?.database.walBytesPerUnit ?? null,
    pgbenchRowsWrittenPerTransaction: pgbench?.database.rowsWrittenPerUnitTotal ?? null,
    halfPeakApproveP99Ms: half?.run.approveMs.p99 ?? null,
    pglitePaymentsPerSecond: pglite?.run.paymentsPerSecond ?? null,
    pgliteRatioToPostgres:
      pglite === undefined || paymentsPerSecond === 0
        ? null
        : round(pglite.run.paymentsPerSecond / paymentsPerSecond, 2),
    loadAverage: os.loadavg().map((load) => round(load, 2)),
    ...(growth !== undefined && growth.length === 2
      ? { growthRatio: round(growth[1]!.run.paymentsPerSecond / growth[0]!.run.paymentsPerSecond, 2) }
      : {}),
  };
}

/** What one complete payment and one pgbench transaction cost the database, side by side. */
function costLines(section: Section): string[] {
  const lines: string[] = [];
  const describe = (name: string, cost: ActivityCost, cpuMs: string) => {
    const tables = Object.entries(cost.rowsWrittenPerUnit)
      .map(([table, w]) => `${table} +${w.inserted} ~${w.updated} (${w.hotUpdated} HOT) -${w.deleted}`)
      .join(', ');
    lines.push(
      `- ${name}: ${cost.walBytesPerUnit} WAL bytes, ${cost.commitsPerUnit} commits, ` +
        `${cost.statementsPerUnit ?? `statements not counted (${cost.statementsNote})`}` +
        `${cost.statementsPerUnit === null ? '' : ' statements'}, CPU ms ${cpuMs}; ` +
        `rows written ${cost.rowsWrittenPerUnitTotal} (inserted + updated ~ (HOT) - deleted): ${tables}`,
    );
  };
  for (const { run, pgbench } of section.rows) {
    if (run.database !== null) {
      describe(
        `per complete payment (${run.engine} ${run.label}, ${run.payments} payments)`,
        run.database,
        `server ${run.cpu.serverMsPerPayment} / database ${run.cpu.databaseMsPerPayment}`,
      );
    }
    if (pgbench !== undefined && run.label === 'peak') {
      describe(
        `per pgbench tpcb-like transaction (scale ${pgbench.scale}, ${pgbench.clients} clients, ${pgbench.transactions} transactions)`,
        pgbench.database,
        `pgbench ${pgbench.cpu.pgbenchMsPerTransaction} / database ${pgbench.cpu.databaseMsPerTransaction}`,
      );
    }
  }
  if (section.ledger !== undefined) {
    const l = section.ledger;
    lines.push(
      `- ledger alone (\`npm run bench:ledger\`, batches of ${l.batchSize}, ${l.submitters} submitters): ` +
        `${l.transfersPerSecond} transfers/s, commit p50 ${l.commitP50Ms} ms, p99 ${l.commitP99Ms} ms`,
    );
  }
  if (lines.length > 0) lines.push(`- WAL is the cluster's: other databases' writes meanwhile count too.`);
  return lines;
}

function markdownReport(sections: readonly Section[], startedAt: Date): string {
  const lines = [`# Payments benchmark, ${startedAt.toISOString()}`, ''];
  lines.push(
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}, Node ${process.version}.`,
    '',
  );
  for (const section of sections) {
    lines.push(`## ${section.name}`, '', markdownTable(section.rows), '', ...costLines(section), '');
    for (const { engine, payers, verification, seed, settings } of section.verifications) {
      const verdict =
        verification.ledgerOk && verification.auditOk
          ? 'ledger and audit chain verify'
          : 'INTEGRITY CHECK FAILED';
      lines.push(
        `- ${engine}, ${payers} payers: ${verdict} (${verification.auditEntries} audit entries, payments ${JSON.stringify(verification.paymentsByStatus)}, checked in ${verification.seconds} s); seeding ${JSON.stringify(seed)}; ${JSON.stringify(settings)}`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  if (!options.skipBuild) build();
  if (options.explain) return explainMode(options, startedAt);
  const sections: Section[] = [];
  if (options.sweep || options.growth) {
    if (options.databaseUrl === undefined)
      usageError('--sweep and --growth need --database-url (or DATABASE_URL)');
    if (options.sweep) sections.push(await sweepSection(options, options.databaseUrl));
    if (options.growth) sections.push(await growthSection(options));
  } else {
    sections.push(await defaultSections(options));
  }
  await mkdir(resultsDirectory, { recursive: true });
  const base = path.join(resultsDirectory, `payments-${stamp(startedAt)}`);
  const summary = headline(sections);
  const report = {
    startedAt: startedAt.toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    options: { ...options, databaseUrl: options.databaseUrl === undefined ? undefined : 'given' },
    summary,
    sections,
  };
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = markdownReport(sections, startedAt);
  await writeFile(`${base}.md`, markdown);
  const sweep = sections.find((section) => section.name === 'sweep');
  if (sweep !== undefined) {
    await writeFile(
      `${base}.svg`,
      sweepChart(sweep.rows, 'Countersign on PostgreSQL: payments/s and p99 against clients'),
    );
  }
  process.stdout.write(`${markdown}\n`);
  progress(
    `report written to ${path.relative(process.cwd(), base)}.{json,md${sweep === undefined ? '' : ',svg'}}`,
  );
  if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  const broken = sections
    .flatMap((s) => s.verifications)
    .some((v) => !v.verification.ledgerOk || !v.verification.auditOk);
  const failed = sections.flatMap((s) => s.rows).some((row) => Object.keys(row.run.errors).length > 0);
  return broken || failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      progress(error.message);
      process.exitCode = 2;
      return;
    }
    progress(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
