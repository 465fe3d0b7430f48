// Starts `countersign serve` as a separate process over a fresh database of one engine, for CLI and crash tests.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, ServerProcess } from '../../faults/server-process.js';
import { type EngineName, openTestDatabase, type TestDatabase } from '../../support/engines.js';
import type { Json } from './test-terminal.js';

/** How long a start may take: a TypeScript loader and migrations, on a busy machine. */
const startTimeoutMs = 200_000;

/** A server process and what a test needs to talk to it. */
export interface ServerUnderTest {
  /** The current process (a new one after `restart`). */
  readonly server: ServerProcess;
  readonly url: string;
  readonly operatorToken: string;
  /** A scratch directory of the test (data directory of PGlite, terminal files). */
  readonly directory: string;
  /** Starts a new process on the same port, database and keys (the previous one must have exited). */
  restart(env?: Readonly<Record<string, string>>): Promise<void>;
  dispose(): Promise<void>;
}

/** Starts a server on a fresh database of `engine`; `env` adds or overrides variables. */
export async function startServerUnderTest(
  engine: EngineName,
  env: Readonly<Record<string, string>> = {},
): Promise<ServerUnderTest> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'countersign-terminal-'));
  let database: TestDatabase | undefined;
  const storage: Record<string, string> = { DATA_DIR: path.join(directory, 'data') };
  if (engine === 'postgres') {
    database = await openTestDatabase('postgres', 1);
    storage['DATABASE_URL'] = database.url!;
  }
  const port = await freePort();
  const operatorToken = `cs_op_${randomBytes(24).toString('base64url')}`;
  const baseEnv = {
    ...storage,
    OPERATOR_TOKEN: operatorToken,
    MASTER_KEY: randomBytes(32).toString('hex'),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'warn',
    SWEEP_INTERVAL_MS: '200',
    ...env,
  };
  const logPath = path.join(directory, 'server.log');
  let server = new ServerProcess(port, baseEnv, logPath);
  try {
    await server.start(startTimeoutMs);
  } catch (error) {
    await server.dispose();
    await database?.dispose();
    throw error;
  }
  return {
    get server() {
      return server;
    },
    url: server.url,
    operatorToken,
    directory,
    restart: async (overrides = {}) => {
      await server.dispose();
      server = new ServerProcess(port, { ...baseEnv, ...overrides }, logPath);
      await server.start(startTimeoutMs);
    },
    dispose: async () => {
      await server.stop();
      await server.dispose();
      await database?.dispose();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Calls the API of a server process as JSON. */
export async function api(
  url: string,
  method: 'GET' | 'POST',
  pathname: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}${pathname}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}
