/**
 * One measured run against a started target: load for a window, CPU sampled at both ends, latencies
 * summarised.
 */
import {
  type ActivityCost,
  type ActivitySnapshot,
  activityCost,
  activitySnapshot,
  statisticsFlushWaitMs,
} from './activity.js';
import { CpuMeter, type CpuSplit, cpuSplit, postgresClassifier } from './cpu.js';
import { runLoad } from './load.js';
import type { Target } from './target.js';

/** p50, p99 and max of a latency, in milliseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What one run measured. */
export interface RunResult {
  readonly engine: string;
  /** Server processes the clients were spread over (round robin), all on the one database. */
  readonly servers: number;
  readonly label: string;
  readonly clients: number;
  readonly payers: number;
  readonly payees: number;
  /** The paced rate asked for, or 0 for closed loop (as fast as the platform answers). */
  readonly targetRatePerSecond: number;
  readonly payments: number;
  readonly wallSeconds: number;
  readonly paymentsPerSecond: number;
  readonly createMs: LatencySummary;
  readonly approveMs: LatencySummary;
  readonly paymentMs: LatencySummary;
  readonly errors: Readonly<Record<string, number>>;
  readonly cpu: CpuSplit;
  /** WAL, commits, rows written and statements per payment (PostgreSQL only). */
  readonly database: ActivityCost | null;
}

/** How to run. */
export interface RunSpec {
  readonly label: string;
  readonly clients: number;
  readonly threads: number;
  readonly ratePerSecond: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50), 1),
    p99: round(percentile(sorted, 99), 1),
    max: round(sorted.at(-1) ?? Number.NaN, 1),
  };
}

/** Runs `spec` against `target`. */
export async function measureRun(target: Target, spec: RunSpec): Promise<RunResult> {
  const database = target.databaseName === undefined ? undefined : postgresClassifier(target.databaseName);
  const meter = new CpuMeter((pid, command) => {
    if (target.servers.some((server) => server.pid === pid)) return 'server';
    if (pid === process.pid) return 'load';
    return database?.(pid, command);
  });
  let metering = false;
  const url = target.databaseUrl;
  let before: Promise<ActivitySnapshot> | undefined;
  const outcome = await runLoad(
    {
      urls: target.servers.map((server) => server.url),
      benchSecret: target.benchSecret,
      payers: target.plan.payers,
      payees: target.plan.payees,
      clients: spec.clients,
      threads: spec.threads,
      ratePerSecond: spec.ratePerSecond,
      warmupMs: spec.warmupSeconds * 1000,
      durationMs: spec.durationSeconds * 1000,
    },
    () => {
      metering = true;
      meter.start();
      if (url !== undefined) before = activitySnapshot(url);
    },
  );
  if (!metering) meter.start();
  const cpu = meter.stop();
  let activity: ActivityCost | null = null;
  if (url !== undefined && before !== undefined) {
    // The end snapshot waits until the idle backends have flushed their table counters.
    await new Promise((resolve) => setTimeout(resolve, statisticsFlushWaitMs));
    activity = activityCost(await before, await activitySnapshot(url), outcome.payments);
  }
  return {
    engine: target.plan.engine,
    servers: target.servers.length,
    label: spec.label,
    clients: spec.clients,
    payers: target.plan.payers,
    payees: target.plan.payees,
    targetRatePerSecond: spec.ratePerSecond,
    payments: outcome.payments,
    wallSeconds: round(outcome.wallSeconds, 2),
    paymentsPerSecond: round(outcome.payments / outcome.wallSeconds, 1),
    createMs: summarize(outcome.createMs),
    approveMs: summarize(outcome.approveMs),
    paymentMs: summarize(outcome.paymentMs),
    errors: outcome.errors,
    cpu: cpuSplit(cpu, outcome.payments),
    database: activity,
  };
}
