// Helpers for merchant tests: merchants through the operator API, merchant calls, payments for requests, and a local webhook receiver.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { SqlExecutor } from '../../src/services/database.js';
import { openSecondTerminalMessage } from '../../src/services/delivery/delivery-message.js';
import type { MethodSecrets } from '../../src/services/keys/secrets.js';
import { call, secondCodeFor, type TestPayer } from '../support/api.js';
import { changedTables, type DatabaseSnapshot, snapshotTables } from '../support/snapshot.js';

/** A merchant as a test knows it, secrets included. */
export interface TestMerchant {
  readonly id: string;
  readonly apiKey: string;
  readonly apiKeyId: string;
  readonly webhookSecret: string;
}

/** Creates a merchant through the operator API. */
export async function createMerchant(
  app: FastifyInstance,
  operatorToken: string,
  id: string,
  options: { name?: string; webhookUrl?: string } = {},
): Promise<TestMerchant> {
  const body = {
    id,
    name: options.name ?? `Shop ${id}`,
    ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
  };
  const created = await call(app, 'POST', '/v1/merchants', body, { token: operatorToken });
  if (created.statusCode !== 201) throw new Error(`merchant creation failed: ${created.body}`);
  const json = created.json();
  return { id, apiKey: json.apiKey, apiKeyId: json.apiKeyId, webhookSecret: json.webhookSecret };
}

/** A call with a merchant's API key, and an Idempotency-Key when given. */
export function merchantCall(
  app: FastifyInstance,
  merchant: TestMerchant | string,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<LightMyRequestResponse> {
  const token = typeof merchant === 'string' ? merchant : merchant.apiKey;
  return call(app, method, url, body, {
    token,
    ...(idempotencyKey === undefined ? {} : { headers: { 'idempotency-key': idempotencyKey } }),
  });
}

/** Creates a payment request and returns its JSON. */
export async function createRequest(
  app: FastifyInstance,
  merchant: TestMerchant,
  amount: number,
  extra: Record<string, unknown> = {},
) {
  const response = await merchantCall(app, merchant, 'POST', '/v1/payment-requests', {
    amount,
    currency: 'EUR',
    reference: `order-${amount}-${Math.random().toString(36).slice(2, 8)}`,
    ...extra,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as {
    id: string;
    status: string;
    checkoutUrl: string;
    expiresAt: string;
    amount: number;
  };
}

/**
 * The payer starts paying a request, with the password or a session token; the answer carries the payment
 * (and the first code when it came to this, the first terminal).
 */
export async function payRequest(
  app: FastifyInstance,
  payer: TestPayer,
  requestId: string,
  deliverTo: 'first_terminal' | 'second_terminal' = 'first_terminal',
  sessionToken?: string,
): Promise<LightMyRequestResponse> {
  if (sessionToken !== undefined) {
    return call(
      app,
      'POST',
      '/v1/payments',
      { paymentRequestId: requestId, deliverTo },
      { token: sessionToken },
    );
  }
  return call(app, 'POST', '/v1/payments', {
    payerId: payer.id,
    password: payer.password,
    paymentRequestId: requestId,
    deliverTo,
  });
}

/** The state of a database at one moment: every table's digest and the audit log's length. */
export interface DatabaseMark {
  readonly snapshot: DatabaseSnapshot;
  readonly auditPosition: number;
  readonly attempts: readonly string[];
}

/** Marks the database's state, to compare with later. */
export async function markDatabase(database: SqlExecutor): Promise<DatabaseMark> {
  const [head] = await database.query<{ position: bigint }>('SELECT position FROM audit_head');
  return {
    snapshot: await snapshotTables(database),
    auditPosition: Number(head?.position ?? 0n),
    attempts: await attemptStates(database),
  };
}

/**
 * The attempt states that differ from a fresh one, as text. A sign-in reserves an attempt and settles it,
 * rewriting its payer's row (or creating it) without changing its state: the state is what must not change.
 */
async function attemptStates(database: SqlExecutor): Promise<string[]> {
  const rows = await database.query<{ state: string }>(
    `SELECT concat_ws(':', subject, consecutive_failures, reserved, reserved_until_ms, locked_until_ms,
       consecutive_locks, blocked) AS state
     FROM authentication_failures
     WHERE consecutive_failures <> 0 OR reserved <> 0 OR locked_until_ms IS NOT NULL OR consecutive_locks <> 0
       OR blocked
     ORDER BY subject`,
  );
  return rows.map((row) => row.state);
}

/**
 * Asserts that nothing changed since `mark` but the traces of successful sign-ins (their audit entries, and
 * their reservations taken and released): a payer's request refused after the password was checked leaves
 * exactly that trace and no other.
 */
export async function expectNothingChangedButSignIns(
  database: SqlExecutor,
  mark: DatabaseMark,
): Promise<void> {
  const after = await snapshotTables(database);
  const changed = changedTables(mark.snapshot, after).filter(
    (table) => table !== 'audit_log' && table !== 'audit_head' && table !== 'authentication_failures',
  );
  expect(changed).toEqual([]);
  expect(await attemptStates(database)).toEqual(mark.attempts);
  const added = await database.query<{ event: string }>('SELECT event FROM audit_log WHERE position > $1', [
    mark.auditPosition,
  ]);
  expect(added.map((entry) => entry.event).filter((event) => event !== 'login_succeeded')).toEqual([]);
}

/**
 * The first code a payer's second terminal received for a payment delivered there: the outbox message,
 * opened as the terminal's delivery channel opens it.
 */
export async function firstCodeDeliveredTo(
  database: SqlExecutor,
  secrets: MethodSecrets,
  paymentId: string,
): Promise<string> {
  const rows = await database.query<{ id: string; payer_id: string; payload_sealed: string }>(
    "SELECT id, payer_id, payload_sealed FROM deliveries WHERE payment_id = $1 AND channel = 'second_terminal'",
    [paymentId],
  );
  const row = rows[0];
  if (row === undefined) throw new Error(`no delivery for payment ${paymentId}`);
  return openSecondTerminalMessage(secrets, {
    id: row.id,
    payerId: row.payer_id,
    payloadSealed: row.payload_sealed,
  }).firstCode;
}

/** The second code the payer reads off their second terminal for a first code. */
export const secondCode = secondCodeFor;

/** A request as a local webhook receiver got it. */
export interface ReceivedWebhook {
  readonly body: string;
  readonly signature: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
}

/** A local HTTP receiver of webhooks answering with the statuses it is given, in turn (200 after them). */
export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1; `statuses` are answered to the first requests, then 200. */
export async function startWebhookReceiver(statuses: number[] = []): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const signature = request.headers['countersign-signature'];
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: typeof signature === 'string' ? signature : undefined,
        headers: request.headers,
      });
      const status = statuses.shift() ?? 200;
      response
        .writeHead(status, { 'content-type': 'text/plain' })
        .end(status === 200 ? 'ok' : 'receiver failed');
      for (const waiter of waiters.filter((w) => received.length >= w.count)) waiter.resolve();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    received,
    waitFor: (count, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (received.length >= count) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`only ${received.length} of ${count} webhooks arrived`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A fetch that answers through `app.inject`, so that the typed client can drive the platform without a
 * port; `record` sees every answer's body.
 */
export function injectFetch(app: FastifyInstance, record?: (body: string) => void): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const response = await app.inject({
      method: (init?.method ?? 'GET') as 'GET' | 'POST',
      url: `${url.pathname}${url.search}`,
      headers,
      ...(typeof init?.body === 'string' ? { payload: init.body } : {}),
    });
    record?.(response.body);
    const answerHeaders = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined)
        answerHeaders.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    }
    return new Response(response.body, { status: response.statusCode, headers: answerHeaders });
  };
}
