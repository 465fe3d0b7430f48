// The primary and synchronous standby of scripts/ha/cluster.sh, driven from the bank test's failover nemesis.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './server-process.js';

const run = promisify(execFile);

/** Who promotes the standby: the nemesis with `pg_ctl promote`, or pg_auto_failover's monitor. */
export type Promoter = 'pg_ctl' | 'pg_auto_failover';

/** Both scripts take the same commands (up, kill-primary, promote, down). */
const scripts: Record<Promoter, string> = {
  pg_ctl: fileURLToPath(new URL('../../scripts/ha/cluster.sh', import.meta.url)),
  pg_auto_failover: fileURLToPath(new URL('../../scripts/ha/auto-failover.sh', import.meta.url)),
};

/** A primary with a synchronous standby in a temporary directory; `url` names both hosts. */
export class HaCluster {
  private constructor(
    private readonly script: string,
    readonly directory: string,
    readonly url: string,
  ) {}

  /** Builds and starts both nodes (and a monitor, for pg_auto_failover) on free ports, with a database `bank`. */
  static async create(promoter: Promoter = 'pg_ctl'): Promise<HaCluster> {
    const script = scripts[promoter];
    const parent = await mkdtemp(path.join(os.tmpdir(), 'countersign-ha-'));
    // The nodes run as the `postgres` user when the test runs as root; it must reach the cluster directory.
    await chmod(parent, 0o755);
    const directory = path.join(parent, 'cluster');
    const ports = [await freePort(), await freePort(), await freePort()].map(String);
    const { stdout } = await run(script, ['up', directory, ...ports]);
    return new HaCluster(script, directory, stdout.trim().split('\n').at(-1)!);
  }

  /** Kills the primary like a crash: `pg_ctl stop -m immediate` (and, with pg_auto_failover, its keeper). */
  async killPrimary(): Promise<void> {
    await run(this.script, ['kill-primary', this.directory]);
  }

  /** Promotes the standby, or waits for the monitor to, until it accepts writes. */
  async promote(): Promise<void> {
    await run(this.script, ['promote', this.directory]);
  }

  /** Stops every node and deletes their files. */
  async dispose(): Promise<void> {
    await run(this.script, ['down', this.directory]).catch(() => undefined);
    await rm(path.dirname(this.directory), { recursive: true, force: true });
  }
}
