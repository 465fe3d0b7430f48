// The primary and synchronous standby of scripts/ha/cluster.sh, driven from the bank test's failover nemesis.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './server-process.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../scripts/ha/cluster.sh', import.meta.url));

/** A primary with a synchronous standby in a temporary directory; `url` names both hosts. */
export class HaCluster {
  private constructor(
    readonly directory: string,
    readonly url: string,
  ) {}

  /** Builds and starts both nodes on free ports, with a database `bank`. */
  static async create(): Promise<HaCluster> {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'countersign-ha-'));
    // The nodes run as the `postgres` user when the test runs as root; it must reach the cluster directory.
    await chmod(parent, 0o755);
    const directory = path.join(parent, 'cluster');
    const { stdout } = await run(script, [
      'up',
      directory,
      String(await freePort()),
      String(await freePort()),
    ]);
    return new HaCluster(directory, stdout.trim().split('\n').at(-1)!);
  }

  /** `pg_ctl stop -m immediate` on the primary: no checkpoint, connections cut. */
  async killPrimary(): Promise<void> {
    await run(script, ['kill-primary', this.directory]);
  }

  /** Promotes the standby and waits until it accepts writes. */
  async promote(): Promise<void> {
    await run(script, ['promote', this.directory]);
  }

  /** Stops both nodes and deletes their files. */
  async dispose(): Promise<void> {
    await run(script, ['down', this.directory]).catch(() => undefined);
    await rm(path.dirname(this.directory), { recursive: true, force: true });
  }
}
