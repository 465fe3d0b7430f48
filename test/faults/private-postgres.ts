// A throw-away PostgreSQL cluster of our own (initdb in a temporary directory, its own port), so that the
// long bank test can crash and restart PostgreSQL itself without touching the machine's shared server.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './server-process.js';

const run = promisify(execFile);

async function binDirectory(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a));
  const version = versions[0];
  if (version === undefined) throw new Error('no PostgreSQL installation under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${version}/bin`;
}

/** As the `postgres` user when we are root (initdb and pg_ctl refuse to run as root). */
function asPostgres(command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  if (process.getuid?.() === 0) return run('runuser', ['-u', 'postgres', '--', command, ...args]);
  return run(command, [...args]);
}

/** A private cluster: start, crash (`pg_ctl stop -m immediate`), restart, and remove. */
export class PrivatePostgres {
  private constructor(
    private readonly bin: string,
    readonly directory: string,
    readonly port: number,
  ) {}

  /** Creates and starts a cluster with trust authentication on 127.0.0.1 and a database `bank`. */
  static async create(): Promise<PrivatePostgres> {
    const bin = await binDirectory();
    const directory = await mkdtemp(path.join(os.tmpdir(), 'countersign-pg-'));
    await chmod(directory, 0o777);
    const cluster = new PrivatePostgres(bin, directory, await freePort());
    await asPostgres(`${bin}/initdb`, [
      '-D',
      `${directory}/data`,
      '--auth=trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
    ]);
    await cluster.start();
    await asPostgres(`${bin}/createdb`, [
      '-h',
      '127.0.0.1',
      '-p',
      String(cluster.port),
      '-U',
      'postgres',
      'bank',
    ]);
    return cluster;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/bank`;
  }

  /** Starts the cluster and waits until it accepts connections. */
  async start(): Promise<void> {
    await asPostgres(`${this.bin}/pg_ctl`, [
      '-D',
      `${this.directory}/data`,
      '-l',
      `${this.directory}/server.log`,
      '-o',
      `-p ${this.port} -k ${this.directory} -c listen_addresses=127.0.0.1 -c fsync=on`,
      '-w',
      'start',
    ]);
    await run(`${this.bin}/pg_isready`, ['-h', '127.0.0.1', '-p', String(this.port), '-t', '30']);
  }

  /** Crashes the cluster (no checkpoint, like a power cut of the database process) and starts it again. */
  async crashAndRestart(): Promise<void> {
    await asPostgres(`${this.bin}/pg_ctl`, ['-D', `${this.directory}/data`, '-m', 'immediate', 'stop']);
    await this.start();
  }

  /** Stops the cluster and deletes its files. */
  async dispose(): Promise<void> {
    await asPostgres(`${this.bin}/pg_ctl`, ['-D', `${this.directory}/data`, '-m', 'fast', 'stop']).catch(
      () => undefined,
    );
    await rm(this.directory, { recursive: true, force: true });
  }
}
