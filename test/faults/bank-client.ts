// The bank test's HTTP client: every request carries an Idempotency-Key and is retried with it after a
// timeout, a dropped connection, a 5xx, a 429 or a 409 idempotency_key_in_use, until its deadline.
import { randomUUID } from 'node:crypto';
import { sleep } from './server-process.js';

/** A final answer, or none before the deadline (the outcome of the request is then unknown). */
export type Answer =
  | { readonly kind: 'answered'; readonly status: number; readonly body: Record<string, unknown> }
  | { readonly kind: 'indeterminate' };

/** Counters of what the clients did, for the report. */
export interface ClientStatistics {
  requests: number;
  retries: number;
  timeouts: number;
  connectionErrors: number;
  serverErrors: number;
  keyInUse: number;
  rateLimited: number;
  indeterminate: number;
}

/** Fresh counters. */
export function newStatistics(): ClientStatistics {
  return {
    requests: 0,
    retries: 0,
    timeouts: 0,
    connectionErrors: 0,
    serverErrors: 0,
    keyInUse: 0,
    rateLimited: 0,
    indeterminate: 0,
  };
}

/** Options of one logical request. */
export interface RequestOptions {
  readonly token?: string;
  /** Per attempt; an attempt that takes longer is abandoned (the server may still complete it). */
  readonly timeoutMs: number;
  /** When to give up and call the outcome unknown. */
  readonly deadlineMs: number;
  readonly idempotencyKey?: string;
}

const retryableStatuses = new Set([500, 502, 503, 504]);

/** Sends one logical request to `baseUrl()` (which may change between attempts) and retries as above. */
export async function send(
  baseUrl: () => string,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  options: RequestOptions,
  statistics: ClientStatistics,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (method === 'POST') headers['idempotency-key'] = options.idempotencyKey ?? randomUUID();
  for (let attempt = 0; ; attempt++) {
    if (Date.now() >= options.deadlineMs) {
      statistics.indeterminate += 1;
      return { kind: 'indeterminate' };
    }
    if (attempt > 0) statistics.retries += 1;
    statistics.requests += 1;
    let waitMs = Math.min(1000, 50 * 2 ** Math.min(attempt, 5));
    try {
      const response = await fetch(`${baseUrl()}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const text = await response.text();
      const parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      const code = (parsed['error'] as { code?: string } | undefined)?.code;
      if (retryableStatuses.has(response.status)) {
        statistics.serverErrors += 1;
      } else if (response.status === 429 || code === 'idempotency_key_in_use') {
        if (response.status === 429) statistics.rateLimited += 1;
        else statistics.keyInUse += 1;
        const retryAfter = Number(response.headers.get('retry-after') ?? '1');
        waitMs = Math.max(waitMs, Math.min(5, Number.isFinite(retryAfter) ? retryAfter : 1) * 1000);
      } else {
        return { kind: 'answered', status: response.status, body: parsed };
      }
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'TimeoutError' || name === 'AbortError') statistics.timeouts += 1;
      else statistics.connectionErrors += 1;
    }
    await sleep(waitMs * (0.5 + Math.random() / 2));
  }
}
