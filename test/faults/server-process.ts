// A real `countersign serve` process that a fault test can start, kill -9, pause and resume, and restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A free TCP port of 127.0.0.1 (bound and released; the server takes it next). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs the CLI (`node --import tsx src/cli/main.ts …`) to completion; returns exit code and output. */
export function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: repositoryRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A server process on a fixed port with a fixed environment; every start appends to one log file. */
export class ServerProcess {
  private child: ChildProcess | undefined;
  private paused = false;
  private readonly log: WriteStream;
  starts = 0;

  constructor(
    readonly port: number,
    private readonly env: Readonly<Record<string, string>>,
    logPath: string,
  ) {
    this.log = createWriteStream(logPath, { flags: 'a' });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server and waits until /healthz answers 200. */
  async start(timeoutMs = 180_000): Promise<void> {
    if (this.child !== undefined) throw new Error('the server is already running');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      cwd: repositoryRoot,
      env: { ...process.env, ...this.env, HOST: '127.0.0.1', PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts += 1;
    this.log.write(`--- start ${this.starts} pid ${child.pid}\n`);
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    child.on('exit', (code, signal) => {
      this.log.write(`--- exit pid ${child.pid} code ${code} signal ${signal}\n`);
      if (this.child === child) {
        this.child = undefined;
        this.paused = false;
      }
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child !== child) throw new Error(`the server exited during start; see its log`);
      try {
        const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (response.status === 200) return;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    throw new Error(`the server did not become healthy within ${timeoutMs} ms`);
  }

  /** `kill -9`: no drain, no close, nothing flushed by the process itself. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (this.paused) child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP for `ms`, then SIGCONT: the process hangs with its connections open. */
  async pause(ms: number): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGSTOP');
    this.paused = true;
    await sleep(ms);
    if (this.child === child) {
      child.kill('SIGCONT');
      this.paused = false;
    }
  }

  /** SIGTERM and wait: the server drains requests and closes its database. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (this.paused) child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Closes the log file. */
  async dispose(): Promise<void> {
    await this.kill9();
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
