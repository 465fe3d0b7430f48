/**
 * The server under test, as its own process: `node dist/cli/main.js serve` (the build a deployment runs),
 * configured only through its environment, as in production. It listens on a free port and prints its URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** A started server process. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** Sends SIGTERM and waits for the process to drain and exit. */
  stop(): Promise<void>;
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const startTimeoutMs = 60_000;

/**
 * Starts the server with `environment` added to a minimal environment and `nodeArguments` given to node
 * (e.g. `--cpu-prof` to profile); resolves once it listens.
 */
export async function startServerProcess(
  environment: Readonly<Record<string, string>>,
  nodeArguments: readonly string[] = [],
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArguments, 'dist/cli/main.js', 'serve'], {
    cwd: projectRoot,
    // Only what the server needs: nothing of the bench's own environment leaks into the measurement.
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString('utf8'));
    if (stderr.length > 50) stderr.shift();
  });
  const url = await listeningUrl(child, stderr);
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function listeningUrl(child: ChildProcess, stderr: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start within ${startTimeoutMs} ms:\n${stderr.join('')}`));
    }, startTimeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with code ${code} before listening:\n${stderr.join('')}`));
    });
  });
}
