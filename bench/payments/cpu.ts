/**
 * CPU time of the processes in a run, from `/proc` (Linux): user + system time, per group of processes —
 * the server, the load generator, the PostgreSQL backends serving the bench's database, PostgreSQL's
 * shared background processes (WAL writer, checkpointer, …, which also work for every other database on
 * the server), pgbench — and the busy time of the whole machine, whose remainder is everything else that
 * ran meanwhile. The meter polls, so that processes which exit during the window (pgbench's backends)
 * still count up to their last poll.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** Which group a process belongs to, from its pid and command line; undefined: not measured. */
export type CpuClassifier = (pid: number, command: string) => string | undefined;

/** CPU seconds per group over a window, and the machine's busy seconds. */
export interface CpuWindow {
  readonly wallSeconds: number;
  readonly groups: Readonly<Record<string, number>>;
  readonly machineBusySeconds: number;
  readonly machineCores: number;
}

const pollIntervalMs = 200;
let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of one process in seconds, or undefined when it is gone. */
function processSeconds(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after it are fixed: utime is the 14th, stime the 15th.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function machineBusySeconds(): number {
  let busyMs = 0;
  for (const cpu of os.cpus()) busyMs += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  return busyMs / 1000;
}

/**
 * Classifies PostgreSQL processes: backends (and autovacuum or parallel workers) of `databaseName` as
 * `database`, the cluster's own processes (postmaster, WAL writer, checkpointer, …) as `databaseShared`,
 * backends of other databases not at all.
 */
export function postgresClassifier(databaseName: string): CpuClassifier {
  return (_pid, command) => {
    if (!command.startsWith('postgres') && !command.includes('/postgres ')) return undefined;
    const isBackend = / \S+ \S+ (\d+\.\d+\.\d+\.\d+|\[local\]|::1)/.test(command);
    const isWorker = command.includes('autovacuum worker') || command.includes('parallel worker');
    if (isBackend || isWorker) return command.includes(databaseName) ? 'database' : undefined;
    return 'databaseShared';
  };
}

/** Measures CPU per group between `start` and `stop`. */
export class CpuMeter {
  private readonly first = new Map<number, { group: string; seconds: number }>();
  private readonly last = new Map<number, number>();
  private readonly known = new Map<number, string | undefined>();
  private timer: NodeJS.Timeout | undefined;
  private startedAtMs = 0;
  private machineAtStart = 0;

  constructor(private readonly classify: CpuClassifier) {}

  /** Starts the window. */
  start(): void {
    this.startedAtMs = performance.now();
    this.machineAtStart = machineBusySeconds();
    this.poll(true);
    this.timer = setInterval(() => this.poll(false), pollIntervalMs);
  }

  /** Ends the window and returns what each group used. */
  stop(): CpuWindow {
    clearInterval(this.timer);
    this.poll(false);
    const groups: Record<string, number> = {};
    for (const [pid, { group, seconds }] of this.first) {
      groups[group] = (groups[group] ?? 0) + ((this.last.get(pid) ?? seconds) - seconds);
    }
    return {
      wallSeconds: (performance.now() - this.startedAtMs) / 1000,
      groups,
      machineBusySeconds: machineBusySeconds() - this.machineAtStart,
      machineCores: os.cpus().length,
    };
  }

  private poll(atStart: boolean): void {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (!this.known.has(pid)) this.known.set(pid, this.classify(pid, commandLine(pid)));
      const group = this.known.get(pid);
      if (group === undefined) continue;
      const seconds = processSeconds(pid);
      if (seconds === undefined) continue;
      // A process born during the window counts from zero; one alive at its start, from then.
      if (!this.first.has(pid)) this.first.set(pid, { group, seconds: atStart ? seconds : 0 });
      this.last.set(pid, seconds);
    }
  }
}

/** CPU over a window, as percent of one core (100 = one core busy the whole time). */
export interface CpuSplit {
  readonly serverPercent: number;
  readonly databasePercent: number;
  /** PostgreSQL's shared background processes, which also serve every other database on the server. */
  readonly databaseSharedPercent: number;
  readonly loadGeneratorPercent: number;
  /** Everything else busy on the machine meanwhile (other databases, other processes). */
  readonly otherPercent: number;
  readonly machineCores: number;
  /** CPU milliseconds per completed payment (null when none completed). */
  readonly serverMsPerPayment: number | null;
  readonly databaseMsPerPayment: number | null;
  readonly loadGeneratorMsPerPayment: number | null;
}

function perPayment(seconds: number, payments: number): number | null {
  return payments > 0 ? Math.round((seconds * 1000 * 100) / payments) / 100 : null;
}

/** The split of a window measured with groups `server`, `load`, `database` and `databaseShared`. */
export function cpuSplit(window: CpuWindow, payments: number): CpuSplit {
  const percent = (seconds: number) => Math.round((seconds / window.wallSeconds) * 100);
  const group = (name: string) => window.groups[name] ?? 0;
  const measured = group('server') + group('database') + group('databaseShared') + group('load');
  return {
    serverPercent: percent(group('server')),
    databasePercent: percent(group('database')),
    databaseSharedPercent: percent(group('databaseShared')),
    loadGeneratorPercent: percent(group('load')),
    otherPercent: Math.max(0, percent(window.machineBusySeconds - measured)),
    machineCores: window.machineCores,
    serverMsPerPayment: perPayment(group('server'), payments),
    databaseMsPerPayment: perPayment(group('database'), payments),
    loadGeneratorMsPerPayment: perPayment(group('load'), payments),
  };
}
