/**
 * The baseline: PostgreSQL's own benchmark on the same server in the same run. `pgbench -i` initialises a
 * scratch database at a scale factor equal to the number of clients, as pgbench's documentation asks (at a
 * smaller scale every transaction updates one of too few `pgbench_branches` rows, and the clients measure
 * that row's lock, not the database), and `pgbench -b tpcb-like` runs its built-in banking transaction
 * (three UPDATEs, one SELECT, one INSERT, one commit) from the same number of clients.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { type ActivityCost, activityCost, activitySnapshot } from './activity.js';
import { CpuMeter, postgresClassifier } from './cpu.js';

const run = promisify(execFile);

/** What pgbench reported. */
export interface PgbenchResult {
  readonly clients: number;
  readonly threads: number;
  readonly durationSeconds: number;
  readonly scale: number;
  readonly transactions: number;
  readonly tps: number;
  readonly latencyAverageMs: number;
  /** CPU per transaction of its backends and of pgbench itself; what else kept the machine busy. */
  readonly cpu: {
    readonly databaseMsPerTransaction: number | null;
    readonly pgbenchMsPerTransaction: number | null;
    readonly otherPercent: number;
  };
  /** WAL, commits, rows written and statements per transaction, measured as for a payment. */
  readonly database: ActivityCost;
}

/** The pgbench binary: on PATH, else the newest under /usr/lib/postgresql/<version>/bin. */
export function findPgbench(): string | undefined {
  for (const directory of (process.env['PATH'] ?? '').split(':')) {
    if (directory !== '' && existsSync(`${directory}/pgbench`)) return `${directory}/pgbench`;
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const candidate = `${root}/${version}/bin/pgbench`;
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function numberAfter(output: string, pattern: RegExp): number {
  const match = pattern.exec(output);
  if (match === null) throw new Error(`pgbench output lacks ${pattern}:\n${output}`);
  return Number(match[1]);
}

/** Initialises `url`'s database and runs tpcb-like with `clients` for `durationSeconds`. */
export async function runPgbench(
  pgbench: string,
  url: string,
  clients: number,
  durationSeconds: number,
): Promise<PgbenchResult> {
  const scale = Math.max(1, clients);
  await run(pgbench, ['-i', '-q', '-s', String(scale), url], { maxBuffer: 1 << 22 });
  const threads = Math.min(2, clients);
  const databaseName = new URL(url).pathname.slice(1);
  const postgres = postgresClassifier(databaseName);
  const before = await activitySnapshot(url);
  const running = run(
    pgbench,
    ['-b', 'tpcb-like', '-c', String(clients), '-j', String(threads), '-T', String(durationSeconds), url],
    { maxBuffer: 1 << 22 },
  );
  const pgbenchPid = running.child.pid;
  const meter = new CpuMeter((pid, command) => (pid === pgbenchPid ? 'pgbench' : postgres(pid, command)));
  meter.start();
  const { stdout } = await running;
  const cpu = meter.stop();
  // pgbench's backends have exited, which flushes their counters.
  const after = await activitySnapshot(url);
  const transactions = numberAfter(stdout, /number of transactions actually processed: (\d+)/);
  const perTransaction = (seconds: number | undefined) =>
    transactions > 0 ? Math.round(((seconds ?? 0) * 1000 * 100) / transactions) / 100 : null;
  const measured = Object.values(cpu.groups).reduce((sum, seconds) => sum + seconds, 0);
  return {
    clients,
    threads,
    durationSeconds,
    scale,
    transactions,
    tps: Math.round(numberAfter(stdout, /tps = ([\d.]+)/) * 10) / 10,
    latencyAverageMs: numberAfter(stdout, /latency average = ([\d.]+) ms/),
    cpu: {
      databaseMsPerTransaction: perTransaction(cpu.groups['database']),
      pgbenchMsPerTransaction: perTransaction(cpu.groups['pgbench']),
      otherPercent: Math.max(0, Math.round(((cpu.machineBusySeconds - measured) / cpu.wallSeconds) * 100)),
    },
    database: activityCost(before, after, transactions),
  };
}
