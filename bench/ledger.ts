/**
 * Ledger throughput: transfers per second and batch commit latency, on PGlite in a fresh temporary data
 * directory and, when a PostgreSQL URL is given, on a fresh database created on that server (and dropped
 * at the end). Every batch is one `LedgerService.createTransfers` call, that is one database transaction.
 *
 *   npm run bench:ledger -- [--database-url URL] [--duration-s 5] [--accounts 1000] [--concurrency N]
 *                           [--batch-sizes 1,10,100,1000] [--skip-pglite] [--json]
 *
 * The URL comes from `--database-url`, else from `DATABASE_URL` through `loadConfig` (the one reader of
 * the environment). Workload: `--accounts` payer accounts that must not go below zero, funded from one
 * funding account; then each submitter commits batches in which a third of the transfers are single
 * transfers, a third are holds (pending transfers), and a third post or void a hold created in an
 * earlier batch. Every created transfer counts, resolutions included. At the end the ledger must verify,
 * and no transfer may have been refused (the workload is built so that none should be); otherwise the
 * exit code is 1.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/domain/clock.js';
import type { TransferRequest, TransferResult } from '../src/domain/ledger.js';
import { limits } from '../src/domain/limits.js';
import type { Database } from '../src/services/database.js';
import { newId } from '../src/services/ids.js';
import { createSecrets } from '../src/services/keys/secrets.js';
import { LedgerService } from '../src/services/ledger/ledger-service.js';
import { sqlLedgerStore } from '../src/store/ledger-repository.js';
import { migrate } from '../src/store/migrate.js';
import { openPglite } from '../src/store/pglite-database.js';
import { openPostgres } from '../src/store/postgres-database.js';
import { flagReaders, UsageError } from './flags.js';

/** Every bound of the benchmark, in one place, units last. */
const benchLimits = Object.freeze({
  durationSecondsDefault: 5,
  durationSecondsMax: 600,
  accountsDefault: 1000,
  accountsMin: 2,
  accountsMax: 1_000_000,
  concurrencyPostgresDefault: 8,
  // PGlite runs one transaction at a time behind a mutex: more submitters only queue.
  concurrencyPgliteDefault: 1,
  concurrencyMax: limits.databasePoolSizeMax,
  batchSizesDefault: [1, 10, 100, 1000] as readonly number[],
  batchSizesCountMax: 10,
  warmupBatchesPerSubmitter: 2,
  setupBatchSize: 1000,
  holdTimeoutMs: 10 * 60 * 1000,
  fundingAmountPerAccount: 10n ** 12n,
  // Far below the funding: over any realistic run no payer can reach zero, so no transfer is refused.
  transferAmountMax: 10_000,
});

const resultsDirectory = fileURLToPath(new URL('./results/', import.meta.url));

type EngineName = 'pglite' | 'postgres';
type CreatedKind = 'single' | 'pending' | 'post' | 'void';

interface BenchOptions {
  readonly databaseUrl: string | undefined;
  readonly durationSeconds: number;
  readonly accounts: number;
  /** Submitters per engine; undefined means the engine's default. */
  readonly concurrency: number | undefined;
  readonly batchSizes: readonly number[];
  readonly skipPglite: boolean;
  readonly json: boolean;
}

/** What one case (engine × batch size) measured. */
interface CaseResult {
  readonly engine: EngineName;
  readonly batchSize: number;
  readonly submitters: number;
  readonly wallSeconds: number;
  readonly batches: number;
  readonly transfersCreated: number;
  readonly createdByKind: Readonly<Record<CreatedKind, number>>;
  readonly refusedByCode: Readonly<Record<string, number>>;
  readonly transfersPerSecond: number;
  readonly commitLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** CPU time of this Node process over wall time; PGlite's engine runs inside it, PostgreSQL's does not. */
  readonly clientCpuPercent: number;
  /**
   * Busy share of all the machine's cores over the case (100 = every core busy): with the client's share
   * it tells whether the case was bound by CPU, and whether something else ran on the machine meanwhile.
   */
  readonly machineCpuBusyPercent: number;
}

interface EngineReport {
  readonly engine: EngineName;
  readonly settings: Readonly<Record<string, string>>;
  readonly setupSeconds: number;
  readonly cases: readonly CaseResult[];
  readonly verification: {
    readonly ok: boolean;
    readonly seconds: number;
    readonly failedChecks: readonly { name: string; violations: readonly string[] }[];
  };
}

/** An opened engine with a throw-away database, and how to remove it. */
interface EngineHandle {
  readonly engine: EngineName;
  readonly database: Database;
  readonly settings: Readonly<Record<string, string>>;
  dispose(): Promise<void>;
}

const usage =
  'usage: npm run bench:ledger -- [--database-url URL] [--duration-s S] [--accounts N] [--concurrency N] ' +
  '[--batch-sizes 1,10,100,1000] [--skip-pglite] [--json]';

const flags = flagReaders(usage);
// Annotated, so that the compiler knows a call never returns.
const usageError: (message: string) => never = flags.usageError;
const { numberFlag, wholeFlag } = flags;

function batchSizesFlag(raw: string | undefined): readonly number[] {
  if (raw === undefined) return benchLimits.batchSizesDefault;
  const sizes = raw
    .split(',')
    .map((part) => wholeFlag('batch-sizes', part, 0, 1, limits.transferBatchSizeMax));
  if (sizes.length > benchLimits.batchSizesCountMax) {
    usageError(`--batch-sizes takes at most ${benchLimits.batchSizesCountMax} sizes`);
  }
  return sizes;
}

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      options: {
        'database-url': { type: 'string' },
        'duration-s': { type: 'string' },
        accounts: { type: 'string' },
        concurrency: { type: 'string' },
        'batch-sizes': { type: 'string' },
        'skip-pglite': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
}

/** Reads the command line; the environment is read only through `loadConfig`. */
function parseOptions(argv: readonly string[]): BenchOptions {
  const values = parseFlags(argv);
  return {
    databaseUrl: values['database-url'] ?? loadConfig().databaseUrl,
    durationSeconds: numberFlag(
      'duration-s',
      values['duration-s'],
      benchLimits.durationSecondsDefault,
      0.1,
      benchLimits.durationSecondsMax,
    ),
    accounts: wholeFlag(
      'accounts',
      values.accounts,
      benchLimits.accountsDefault,
      benchLimits.accountsMin,
      benchLimits.accountsMax,
    ),
    concurrency:
      values.concurrency === undefined
        ? undefined
        : wholeFlag('concurrency', values.concurrency, 1, 1, benchLimits.concurrencyMax),
    batchSizes: batchSizesFlag(values['batch-sizes']),
    skipPglite: values['skip-pglite'] === true,
    json: values.json === true,
  };
}

function progress(message: string): void {
  // Progress goes to stderr so that `--json` leaves stdout to the report alone.
  process.stderr.write(`${message}\n`);
}

async function pgliteVersion(): Promise<string> {
  const manifest = new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url);
  try {
    return (JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function openPgliteTemporary(): Promise<EngineHandle> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'countersign-bench-'));
  const removeDirectory = () => rm(directory, { recursive: true, force: true });
  try {
    const database = await openPglite({ dataDir: directory });
    const [version] = await database.query<{ server_version: string }>('SHOW server_version');
    const settings = {
      pglite: await pgliteVersion(),
      serverVersion: version?.server_version ?? 'unknown',
      dataDir: 'fresh temporary directory on disk',
    };
    const dispose = async () => {
      await database.close();
      await removeDirectory();
    };
    return { engine: 'pglite', database, settings, dispose };
  } catch (error) {
    await removeDirectory();
    throw error;
  }
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function postgresSettings(database: Database): Promise<Record<string, string>> {
  const settings: Record<string, string> = {};
  for (const name of ['server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'shared_buffers']) {
    const [row] = await database.query<Record<string, string>>(`SHOW ${name}`);
    settings[name] = row?.[name] ?? 'unknown';
  }
  return settings;
}

/** Creates `countersign_bench_<random>` on the server of `adminUrl`; dispose drops it. */
async function openPostgresTemporary(adminUrl: string, poolSize: number): Promise<EngineHandle> {
  const admin = await openPostgres({ url: adminUrl, poolSize: 1 });
  const name = `countersign_bench_${randomBytes(6).toString('hex')}`;
  const dropAndClose = async () => {
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.close();
    }
  };
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const database = await openPostgres({ url: withDatabaseName(adminUrl, name), poolSize });
    const settings = { database: name, poolSize: String(poolSize), ...(await postgresSettings(database)) };
    const dispose = async () => {
      try {
        await database.close();
      } finally {
        await dropAndClose();
      }
    };
    return { engine: 'postgres', database, settings, dispose };
  } catch (error) {
    await dropAndClose();
    throw error;
  }
}

function assertAllCreated(results: readonly TransferResult[], what: string): void {
  const refused = results.find((result) => result.status !== 'created');
  if (refused !== undefined)
    throw new Error(`${what}: transfer ${refused.id} was ${JSON.stringify(refused)}`);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/** Creates the payer accounts and one funding account, and funds every payer. Returns the payer ids. */
async function createFundedAccounts(ledger: LedgerService, count: number): Promise<string[]> {
  const funding = newId();
  await ledger.createAccounts([
    { id: funding, currency: 'EUR', kind: 'funding', debitsMustNotExceedCredits: false },
  ]);
  const payers = Array.from({ length: count }, () => newId());
  for (const ids of chunks(payers, benchLimits.setupBatchSize)) {
    await ledger.createAccounts(
      ids.map((id) => ({ id, currency: 'EUR', kind: 'payer' as const, debitsMustNotExceedCredits: true })),
    );
    const results = await ledger.createTransfers(
      ids.map((id) => ({
        id: newId(),
        kind: 'single' as const,
        debitAccountId: funding,
        creditAccountId: id,
        amount: benchLimits.fundingAmountPerAccount,
      })),
    );
    assertAllCreated(results, 'funding');
  }
  return payers;
}

/** Counts of one case, shared by its submitters. */
interface Tally {
  batches: number;
  readonly created: Record<CreatedKind, number>;
  readonly refused: Record<string, number>;
  readonly latenciesMs: number[];
}

function newTally(): Tally {
  return { batches: 0, created: { single: 0, pending: 0, post: 0, void: 0 }, refused: {}, latenciesMs: [] };
}

/**
 * One client committing its own batches, one at a time. It resolves only holds it created itself in an
 * earlier batch, so submitters never compete for a hold, only for accounts.
 */
class Submitter {
  private sequence = 0;
  private readonly openHolds: string[] = [];

  constructor(
    private readonly ledger: LedgerService,
    private readonly accountIds: readonly string[],
  ) {}

  /** Builds, commits and counts one batch. */
  async submit(batchSize: number, tally: Tally): Promise<void> {
    const batch = this.nextBatch(batchSize);
    const started = performance.now();
    const results = await this.ledger.createTransfers(batch);
    tally.latenciesMs.push(performance.now() - started);
    tally.batches += 1;
    results.forEach((result, index) => {
      if (result.status === 'failed') {
        tally.refused[result.error] = (tally.refused[result.error] ?? 0) + 1;
      } else if (result.status === 'created') {
        const kind = batch[index]!.kind as CreatedKind;
        tally.created[kind] += 1;
        if (kind === 'pending') this.openHolds.push(result.id);
      }
    });
  }

  /** Voids every hold still open, so that each case leaves no hold behind (not timed). */
  async drain(): Promise<void> {
    const holds = this.openHolds.splice(0);
    for (const ids of chunks(holds, benchLimits.setupBatchSize)) {
      const results = await this.ledger.createTransfers(
        ids.map((pendingId) => ({ id: newId(), kind: 'void' as const, pendingId })),
      );
      assertAllCreated(results, 'drain');
    }
  }

  private nextBatch(size: number): TransferRequest[] {
    const nowMs = systemClock.nowMs();
    const batch: TransferRequest[] = [];
    for (let index = 0; index < size; index++, this.sequence++) {
      const slot = this.sequence % 3;
      const hold = slot === 2 ? this.openHolds.shift() : undefined;
      if (hold !== undefined) {
        const kind = Math.floor(this.sequence / 3) % 2 === 0 ? 'post' : 'void';
        batch.push({ id: newId(), kind, pendingId: hold });
      } else {
        const kind = slot === 0 ? 'single' : 'pending';
        batch.push(this.movement(kind, nowMs));
      }
    }
    return batch;
  }

  private movement(kind: 'single' | 'pending', nowMs: number): TransferRequest {
    const count = this.accountIds.length;
    const debitIndex = Math.floor(Math.random() * count);
    let creditIndex = Math.floor(Math.random() * (count - 1));
    if (creditIndex >= debitIndex) creditIndex += 1;
    return {
      id: newId(),
      kind,
      debitAccountId: this.accountIds[debitIndex]!,
      creditAccountId: this.accountIds[creditIndex]!,
      amount: BigInt(1 + Math.floor(Math.random() * benchLimits.transferAmountMax)),
      ...(kind === 'pending' ? { timeoutAtMs: nowMs + benchLimits.holdTimeoutMs } : {}),
    };
  }
}

/** Busy and total CPU time of all cores since boot, in the units of `os.cpus()`. */
function machineCpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** What one case runs: which engine, how many submitters, which batch size, for how long. */
interface CaseSpec {
  readonly engine: EngineName;
  readonly batchSize: number;
  readonly submitters: number;
  readonly durationMs: number;
}

/** What the timed phase of a case observed, before it is summarized. */
interface CaseMeasurement {
  readonly tally: Tally;
  readonly wallMs: number;
  readonly clientCpuMs: number;
  readonly machineBusyShare: number;
}

async function warmUp(clients: readonly Submitter[], batchSize: number): Promise<Tally> {
  const warmup = newTally();
  await Promise.all(
    clients.map(async (client) => {
      for (let batch = 0; batch < benchLimits.warmupBatchesPerSubmitter; batch++) {
        await client.submit(batchSize, warmup);
      }
    }),
  );
  return warmup;
}

async function measure(
  clients: readonly Submitter[],
  spec: CaseSpec,
  signal: AbortSignal,
): Promise<CaseMeasurement> {
  const tally = newTally();
  const cpuBefore = process.cpuUsage();
  const machineBefore = machineCpuTimes();
  const started = performance.now();
  const deadline = started + spec.durationMs;
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < deadline && !signal.aborted) await client.submit(spec.batchSize, tally);
    }),
  );
  // Wall time includes the batches still in flight at the deadline: every counted transfer is inside it.
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const machineAfter = machineCpuTimes();
  return {
    tally,
    wallMs,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    machineBusyShare: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
  };
}

function summarizeCase(spec: CaseSpec, measured: CaseMeasurement): CaseResult {
  const { tally, wallMs } = measured;
  const created = Object.values(tally.created).reduce((sum, count) => sum + count, 0);
  const sorted = [...tally.latenciesMs].sort((a, b) => a - b);
  return {
    engine: spec.engine,
    batchSize: spec.batchSize,
    submitters: spec.submitters,
    wallSeconds: round(wallMs / 1000, 3),
    batches: tally.batches,
    transfersCreated: created,
    createdByKind: tally.created,
    refusedByCode: tally.refused,
    transfersPerSecond: round(created / (wallMs / 1000), 1),
    commitLatencyMs: {
      p50: round(percentile(sorted, 50), 2),
      p99: round(percentile(sorted, 99), 2),
      max: round(sorted.at(-1) ?? Number.NaN, 2),
    },
    clientCpuPercent: round((measured.clientCpuMs / wallMs) * 100, 0),
    machineCpuBusyPercent: round(measured.machineBusyShare * 100, 0),
  };
}

/** Runs one batch size with concurrent submitters for a fixed wall time, then voids the holds left open. */
async function runCase(
  ledger: LedgerService,
  accountIds: readonly string[],
  spec: CaseSpec,
  signal: AbortSignal,
): Promise<CaseResult> {
  const clients = Array.from({ length: spec.submitters }, () => new Submitter(ledger, accountIds));
  // Untimed warm-up: connections opened, statements prepared, caches filled, holds queued to resolve.
  const warmup = await warmUp(clients, spec.batchSize);
  const measured = await measure(clients, spec, signal);
  await Promise.all(clients.map((client) => client.drain()));
  for (const [code, count] of Object.entries(warmup.refused)) {
    measured.tally.refused[code] = (measured.tally.refused[code] ?? 0) + count;
  }
  return summarizeCase(spec, measured);
}

/** Migrates, funds the accounts, runs every batch size, and verifies the ledger. */
async function runEngine(
  handle: EngineHandle,
  submitters: number,
  options: BenchOptions,
  signal: AbortSignal,
): Promise<EngineReport> {
  const setupStarted = performance.now();
  await migrate(handle.database);
  const ledger = new LedgerService(
    handle.database,
    systemClock,
    sqlLedgerStore,
    createSecrets(randomBytes(32).toString('hex')).keyedHash,
  );
  const accountIds = await createFundedAccounts(ledger, options.accounts);
  const setupSeconds = round((performance.now() - setupStarted) / 1000, 2);
  progress(`${handle.engine}: ${options.accounts} funded accounts ready in ${setupSeconds} s`);
  const cases: CaseResult[] = [];
  for (const batchSize of options.batchSizes) {
    if (signal.aborted) break;
    const spec = { engine: handle.engine, batchSize, submitters, durationMs: options.durationSeconds * 1000 };
    const result = await runCase(ledger, accountIds, spec, signal);
    progress(
      `${handle.engine}: batch ${batchSize} × ${submitters} submitters: ${result.transfersPerSecond} transfers/s`,
    );
    cases.push(result);
  }
  const verifyStarted = performance.now();
  const verification = await ledger.verify();
  const failedChecks = verification.checks
    .filter((check) => !check.ok)
    .map((check) => ({ name: check.name, violations: check.violations }));
  return {
    engine: handle.engine,
    settings: handle.settings,
    setupSeconds,
    cases,
    verification: {
      ok: verification.ok,
      seconds: round((performance.now() - verifyStarted) / 1000, 2),
      failedChecks,
    },
  };
}

async function withEngine(
  open: () => Promise<EngineHandle>,
  run: (handle: EngineHandle) => Promise<EngineReport>,
): Promise<EngineReport> {
  const handle = await open();
  try {
    return await run(handle);
  } finally {
    await handle.dispose();
  }
}

function markdownTable(reports: readonly EngineReport[]): string {
  const lines = [
    '| engine | batch size | submitters | transfers | wall s | transfers/s | p50 commit ms | p99 commit ms | client CPU % | machine CPU % |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const report of reports) {
    for (const c of report.cases) {
      lines.push(
        `| ${c.engine} | ${c.batchSize} | ${c.submitters} | ${c.transfersCreated} | ${c.wallSeconds} | ` +
          `${Math.round(c.transfersPerSecond)} | ${c.commitLatencyMs.p50} | ${c.commitLatencyMs.p99} | ` +
          `${c.clientCpuPercent} | ${c.machineCpuBusyPercent} |`,
      );
    }
  }
  return lines.join('\n');
}

function summary(reports: readonly EngineReport[]): string {
  const lines = [markdownTable(reports), ''];
  for (const report of reports) {
    const settings = Object.entries(report.settings)
      .filter(([name]) => name !== 'database')
      .map(([name, value]) => `${name}=${value}`)
      .join(', ');
    const verdict = report.verification.ok ? 'ledger verifies' : 'LEDGER DOES NOT VERIFY';
    lines.push(`- ${report.engine} (${settings}): ${verdict} (verify took ${report.verification.seconds} s)`);
    for (const check of report.verification.failedChecks) {
      lines.push(`  - failed: ${check.name}: ${check.violations.join('; ')}`);
    }
  }
  return lines.join('\n');
}

/** Writes the report as `bench/results/ledger-<ISO 8601 basic timestamp>.json`; returns the path. */
async function writeReport(report: unknown, startedAt: Date): Promise<string> {
  await mkdir(resultsDirectory, { recursive: true });
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  const file = path.join(resultsDirectory, `ledger-${stamp}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

function refusals(reports: readonly EngineReport[]): string[] {
  return reports.flatMap((report) =>
    report.cases
      .filter((c) => Object.keys(c.refusedByCode).length > 0)
      .map((c) => `${c.engine} batch ${c.batchSize}: refused ${JSON.stringify(c.refusedByCode)}`),
  );
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg();
  const controller = new AbortController();
  // A first Ctrl-C ends the running case early and still removes the temporary databases.
  process.once('SIGINT', () => controller.abort());
  const reports: EngineReport[] = [];
  const pgliteSubmitters = options.concurrency ?? benchLimits.concurrencyPgliteDefault;
  if (!options.skipPglite) {
    reports.push(
      await withEngine(openPgliteTemporary, (handle) =>
        runEngine(handle, pgliteSubmitters, options, controller.signal),
      ),
    );
  }
  if (options.databaseUrl !== undefined && !controller.signal.aborted) {
    const url = options.databaseUrl;
    const submitters = options.concurrency ?? benchLimits.concurrencyPostgresDefault;
    reports.push(
      await withEngine(
        () => openPostgresTemporary(url, submitters),
        (handle) => runEngine(handle, submitters, options, controller.signal),
      ),
    );
  }
  const report = {
    startedAt: startedAt.toISOString(),
    interrupted: controller.signal.aborted,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      // Load averages (1, 5, 15 min) when the run began: another workload on the machine skews every figure.
      loadAverageAtStart: loadAverageAtStart.map((load) => round(load, 2)),
    },
    options: { ...options, databaseUrl: options.databaseUrl === undefined ? undefined : 'given' },
    engines: reports,
  };
  const file = await writeReport(report, startedAt);
  const loadLine = `- machine: ${report.machine.cpus} CPUs, load average at start ${report.machine.loadAverageAtStart.join(' / ')}`;
  process.stdout.write(
    options.json ? `${JSON.stringify(report, null, 2)}\n` : `${summary(reports)}\n${loadLine}\n`,
  );
  progress(`report written to ${path.relative(process.cwd(), file)}`);
  const refused = refusals(reports);
  for (const line of refused) progress(`unexpected refusal: ${line}`);
  if (controller.signal.aborted) return 130;
  return reports.every((r) => r.verification.ok) && refused.length === 0 ? 0 : 1;
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
