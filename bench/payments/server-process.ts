/**
 * The server under test, as its own process: `node dist/cli/main.js serve` (the build a deployment runs),
 * configured only through its environment, as in production. It listens on a free port the bench chose.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
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

/** A free TCP port on 127.0.0.1, found by listening on port 0 and closing again. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts the server with `environment` added to a minimal environment and `nodeArguments` given to node
 * (e.g. `--cpu-prof` to profile); resolves once `/healthz` answers. The server logs at `warn` during a
 * bench (a line per request would cost what is measured), so its "listening" line is not printed: the
 * bench chooses the port and asks the server itself.
 */
export async function startServerProcess(
  environment: Readonly<Record<string, string>>,
  nodeArguments: readonly string[] = [],
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArguments, 'dist/cli/main.js', 'serve'], {
    cwd: projectRoot,
    // Only what the server needs: nothing of the bench's own environment leaks into the measurement.
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: String(port), ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString('utf8'));
    if (stderr.length > 50) stderr.shift();
  });
  // Drained, so that a full pipe never blocks the server.
  child.stdout?.resume();
  const url = `http://127.0.0.1:${port}`;
  await healthy(child, url, stderr);
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

async function healthy(child: ChildProcess, url: string, stderr: readonly string[]): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the server exited with code ${child.exitCode} before listening:\n${stderr.join('')}`);
    }
    const answered = await fetch(`${url}/healthz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not start within ${startTimeoutMs} ms:\n${stderr.join('')}`);
}
