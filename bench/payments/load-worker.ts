/**
 * One thread of the load generator: `clients` closed-loop clients (or paced, when a rate is given), each
 * driving complete payments over HTTP/1.1 keep-alive: create (the hold, with a session bearer token and
 * an Idempotency-Key), compute the second code from the returned first code as the payer's second
 * terminal would (RFC 6287 OCRA with the terminal key and verification code), approve (the post).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { computeOcra } from '../../src/domain/ocra.js';
import {
  benchCurrency,
  benchSuite,
  benchVerificationCode,
  payeeId,
  payerId,
  sessionToken,
  terminalKey,
} from './identities.js';

/** What one load thread is told to do. All times are `Date.now()` milliseconds, shared by every thread. */
export interface LoadWorkerTask {
  /** The servers; this thread's client i talks to `urls[(firstClient + i) % urls.length]`. */
  readonly urls: readonly string[];
  /** The number of this thread's first client among all threads' clients. */
  readonly firstClient: number;
  readonly benchSecret: string;
  readonly payers: number;
  readonly payees: number;
  readonly clients: number;
  /** Clients across all threads, to share a paced rate. */
  readonly clientsTotal: number;
  /** Payments per second across all threads; 0 runs every client flat out (closed loop). */
  readonly ratePerSecond: number;
  readonly measureFromMs: number;
  readonly endMs: number;
}

/** What one load thread measured: only payments whose creation started inside the measured window. */
export interface LoadWorkerResult {
  readonly payments: number;
  readonly createMs: number[];
  readonly approveMs: number[];
  readonly paymentMs: number[];
  readonly errors: Record<string, number>;
  readonly lastCompletionMs: number;
}

interface Reply {
  readonly status: number;
  readonly body: string;
}

function post(agent: http.Agent, base: URL, path: string, body: unknown, headers: Record<string, string>) {
  const payload = JSON.stringify(body);
  return new Promise<Reply>((resolve, reject) => {
    const request = http.request(
      {
        host: base.hostname,
        port: base.port,
        path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...headers,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

function errorCode(step: string, reply: Reply): string {
  try {
    const parsed = JSON.parse(reply.body) as { error?: { code?: string } };
    return `${step}:${reply.status}:${parsed.error?.code ?? 'unknown'}`;
  } catch {
    return `${step}:${reply.status}`;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One client: payments one after the other until the end of the run. */
async function runClient(
  task: LoadWorkerTask,
  agent: http.Agent,
  result: LoadWorkerResult & { payments: number; lastCompletionMs: number },
  url: string,
) {
  const base = new URL(url);
  const intervalMs = task.ratePerSecond > 0 ? (task.clientsTotal / task.ratePerSecond) * 1000 : 0;
  // Paced clients start spread over one interval, so that the rate is smooth from the first second.
  let nextStartMs = Date.now() + Math.random() * intervalMs;
  const count = (key: string) => {
    result.errors[key] = (result.errors[key] ?? 0) + 1;
  };
  while (Date.now() < task.endMs) {
    if (intervalMs > 0) {
      const waitMs = nextStartMs - Date.now();
      if (waitMs > 0) await sleep(waitMs);
      // A client that fell behind does not burst to catch up: the rate is a ceiling.
      nextStartMs = Math.max(nextStartMs + intervalMs, Date.now());
    }
    const payer = payerId(Math.floor(Math.random() * task.payers));
    const payee = payeeId(Math.floor(Math.random() * task.payees));
    const startedMs = Date.now();
    const measured = startedMs >= task.measureFromMs && startedMs < task.endMs;
    try {
      const t0 = performance.now();
      const created = await post(
        agent,
        base,
        '/v1/payments',
        {
          payeeId: payee,
          amount: 1 + Math.floor(Math.random() * 999),
          currency: benchCurrency,
          deliverTo: 'first_terminal',
        },
        { authorization: `Bearer ${sessionToken(task.benchSecret, payer)}`, 'idempotency-key': randomUUID() },
      );
      const t1 = performance.now();
      if (created.status !== 201) {
        if (measured) count(errorCode('create', created));
        continue;
      }
      const payment = JSON.parse(created.body) as { id: string; firstCode: string };
      const secondCode = await computeOcra({
        suite: benchSuite,
        key: terminalKey(task.benchSecret, payer),
        question: payment.firstCode,
        pin: benchVerificationCode,
      });
      const t2 = performance.now();
      const approved = await post(agent, base, `/v1/payments/${payment.id}/approve`, { secondCode }, {});
      const t3 = performance.now();
      if (approved.status !== 200 || !approved.body.includes('"succeeded"')) {
        if (measured) count(errorCode('approve', approved));
        continue;
      }
      if (!measured) continue;
      result.payments += 1;
      result.createMs.push(t1 - t0);
      result.approveMs.push(t3 - t2);
      result.paymentMs.push(t3 - t0);
      result.lastCompletionMs = Date.now();
    } catch (error) {
      if (measured) count(`transport:${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

async function main(task: LoadWorkerTask): Promise<LoadWorkerResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: task.clients, maxFreeSockets: task.clients });
  const result = { payments: 0, createMs: [], approveMs: [], paymentMs: [], errors: {}, lastCompletionMs: 0 };
  await Promise.all(
    Array.from({ length: task.clients }, (_, index) =>
      runClient(task, agent, result, task.urls[(task.firstClient + index) % task.urls.length]!),
    ),
  );
  agent.destroy();
  return result;
}

if (parentPort !== null) {
  const port = parentPort;
  main(workerData as LoadWorkerTask).then(
    (result) => port.postMessage({ ok: true, result }),
    (error: unknown) =>
      port.postMessage({ ok: false, error: error instanceof Error ? error.stack : String(error) }),
  );
}
