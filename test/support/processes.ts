// Runs the countersign command as a separate process, the way an operator does: one-shot commands, and `serve` as a long-running server.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The repository root: where `src/cli/main.ts` is found and tsx resolves from. */
export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

/** What a finished command left behind. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of a child: only what is given, plus PATH, so that nothing of the test runner's own
 * environment (a developer's DATABASE_URL, say) leaks into the command under test.
 */
function childEnvironment(env: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'silent', ...env };
}

function spawnCli(args: readonly string[], env: Readonly<Record<string, string>>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repositoryRoot,
    env: childEnvironment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Runs `countersign <args>` to completion; kills it after `timeoutMs` (then `code` is null). The bound is
 * generous: a command takes seconds, but minutes on a machine busy with other work.
 */
export function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutMs = 180_000,
): Promise<CliResult> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A free TCP port on 127.0.0.1, found by listening on port 0 and closing again. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A `countersign serve` process. */
export interface ServerProcess {
  readonly url: string;
  /** What the process printed so far, for the message of a failing test. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `countersign serve` on a free port with `env`, and waits until `/healthz` answers 200. Throws,
 * with the process's output, if it exits or does not become healthy within `startTimeoutMs`.
 */
export async function startServerProcess(
  env: Readonly<Record<string, string>>,
  startTimeoutMs = 180_000,
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawnCli(['serve'], { HOST: '127.0.0.1', PORT: String(port), ...env });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const server: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`countersign serve exited early (${child.exitCode ?? child.signalCode}): ${output}`);
    }
    const healthy = await fetch(`${server.url}/healthz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (healthy) return server;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await server.stop();
  throw new Error(`countersign serve did not become healthy within ${startTimeoutMs} ms: ${output}`);
}
