/**
 * The client's one way to call the API: JSON over global `fetch`, the API key as a bearer token, and an
 * `Idempotency-Key` on every POST. A request that got no answer (network failure, timeout) or an answer that
 * says "try again" (409 idempotency_key_in_use, 429, 500, 502, 503, 504) is retried a bounded number of
 * times with exponential backoff and jitter, always with the same key, so a retried POST never does the
 * work twice.
 */

/** The dated API version this client is written against (docs/api.md, "Versions and changelog"). */
export const apiVersion = '2026-12-01';

/** An error answered by the API, with its stable `code` (see the platform's docs/errors.md). */
export class CountersignApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string;
  readonly param: string | undefined;
  /** The platform's id of the request (its `Request-Id` header and log key): quote it to the operator. */
  readonly requestId: string | undefined;
  /** Extra public fields of the error, such as a request's current `status` or a refund's `remaining`. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(status: number, body: Record<string, unknown>) {
    super(typeof body['message'] === 'string' ? body['message'] : `HTTP ${status}`);
    this.name = 'CountersignApiError';
    this.status = status;
    this.type = typeof body['type'] === 'string' ? body['type'] : 'api_error';
    this.code = typeof body['code'] === 'string' ? body['code'] : 'unknown_error';
    this.param = typeof body['param'] === 'string' ? body['param'] : undefined;
    this.requestId = typeof body['requestId'] === 'string' ? body['requestId'] : undefined;
    const { type: _t, code: _c, message: _m, param: _p, requestId: _r, ...details } = body;
    this.details = details;
  }
}

/** No answer came back after every retry (the request may or may not have been processed). */
export class CountersignConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CountersignConnectionError';
  }
}

/** Options of the HTTP layer. */
export interface HttpOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  /** Retries after a failure that is safe to retry; 2 unless set (0 to 10). */
  readonly maxNetworkRetries: number;
  /** Time one attempt may take before it counts as a network failure. */
  readonly timeoutMs: number;
  /** First backoff wait; doubled at each retry, capped at 8 s, with jitter. */
  readonly backoffBaseMs: number;
  readonly fetch: typeof fetch;
}

const retryableStatuses = new Set([429, 500, 502, 503, 504]);
const retryAfterMaxMs = 60_000;
const backoffMaxMs = 8_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function backoffMs(options: HttpOptions, retry: number, retryAfter: string | null): number {
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, retryAfterMaxMs);
  const base = Math.min(options.backoffBaseMs * 2 ** retry, backoffMaxMs);
  // Full jitter in [base/2, base): clients that failed together do not retry together.
  return base / 2 + (Math.random() * base) / 2;
}

function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

async function errorBody(response: Response): Promise<Record<string, unknown>> {
  try {
    const parsed = (await response.json()) as { error?: Record<string, unknown> };
    return parsed.error ?? {};
  } catch {
    return {};
  }
}

/** Sends one API call with retries; resolves with the parsed JSON of a 2xx answer. */
export async function callApi<T>(
  options: HttpOptions,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<T> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.apiKey}`,
    accept: 'application/json',
    // The version these types describe: a platform that moves on keeps answering this client as before.
    'countersign-version': apiVersion,
  };
  if (method === 'POST') headers['idempotency-key'] = idempotencyKey ?? newIdempotencyKey();
  if (body !== undefined) headers['content-type'] = 'application/json';
  const url = `${options.baseUrl}${path}`;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  for (let retry = 0; ; retry++) {
    let response: Response;
    try {
      response = await options.fetch(url, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      if (retry >= options.maxNetworkRetries) {
        throw new CountersignConnectionError(`no answer from ${method} ${path}`, { cause: error });
      }
      await sleep(backoffMs(options, retry, null));
      continue;
    }
    if (response.ok) return (await response.json()) as T;
    const error = await errorBody(response);
    const retryable =
      retryableStatuses.has(response.status) ||
      (response.status === 409 && error['code'] === 'idempotency_key_in_use');
    if (!retryable || retry >= options.maxNetworkRetries)
      throw new CountersignApiError(response.status, error);
    await sleep(backoffMs(options, retry, response.headers.get('retry-after')));
  }
}
