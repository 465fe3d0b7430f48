// Proves the merchant client: one Idempotency-Key per POST kept across bounded retries, which failures are retried, typed errors, webhook verification against Node's own HMAC, and that it imports nothing from the server.
import { createHmac } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  Countersign,
  CountersignApiError,
  CountersignConnectionError,
  verifyWebhook,
  WebhookSignatureError,
} from './index.js';

interface Sent {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: string | undefined;
}

/** A fetch that answers from a script: an Error is thrown (a network failure), a Response is returned. */
type Fetch = typeof globalThis.fetch;

function scriptedFetch(script: (Response | Error)[]): { fetch: Fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    sent.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : undefined,
    });
    const next = script.shift();
    if (next === undefined) throw new Error('script exhausted');
    if (next instanceof Error) throw next;
    return next;
  }) as Fetch;
  return { fetch, sent };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const request = { id: 'pr_1', object: 'payment_request', status: 'open' };

function client(fetch: Fetch, maxNetworkRetries = 2) {
  return new Countersign({
    apiKey: 'cs_live_test',
    baseUrl: 'https://pay.example/',
    fetch,
    maxNetworkRetries,
    backoffBaseMs: 1,
  });
}

describe('Countersign client', () => {
  it('retries network failures with the same Idempotency-Key and returns the answer', async () => {
    const { fetch, sent } = scriptedFetch([
      new TypeError('socket hang up'),
      new TypeError('reset'),
      json(201, request),
    ]);
    const created = await client(fetch).paymentRequests.create({
      amount: 100,
      currency: 'EUR',
      reference: 'o-1',
    });
    expect(created).toEqual(request);
    expect(sent).toHaveLength(3);
    const keys = sent.map((attempt) => attempt.headers.get('idempotency-key'));
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
    expect(sent[0]).toMatchObject({ url: 'https://pay.example/v1/payment-requests', method: 'POST' });
    expect(sent[0]!.headers.get('authorization')).toBe('Bearer cs_live_test');
    expect(JSON.parse(sent[0]!.body!)).toEqual({ amount: 100, currency: 'EUR', reference: 'o-1' });
  });

  it('uses the given key, a fresh key per call otherwise, and none on GET', async () => {
    const { fetch, sent } = scriptedFetch([json(200, request), json(200, request), json(200, request)]);
    const countersign = client(fetch);
    await countersign.paymentRequests.cancel('pr_1', { idempotencyKey: 'mine' });
    await countersign.paymentRequests.cancel('pr_1');
    await countersign.paymentRequests.retrieve('pr/1');
    expect(sent[0]!.headers.get('idempotency-key')).toBe('mine');
    expect(sent[1]!.headers.get('idempotency-key')).not.toBe('mine');
    expect(sent[2]!.headers.get('idempotency-key')).toBeNull();
    expect(sent[2]!.url).toBe('https://pay.example/v1/payment-requests/pr%2F1');
    expect(sent[1]!.body).toBeUndefined();
  });

  it('gives up after the bounded number of retries with a connection error', async () => {
    const { fetch, sent } = scriptedFetch([new TypeError('a'), new TypeError('b'), new TypeError('c')]);
    await expect(client(fetch).balance.retrieve('EUR')).rejects.toBeInstanceOf(CountersignConnectionError);
    expect(sent).toHaveLength(3);
  });

  it('retries 409 idempotency_key_in_use, 429 and 5xx, but never a client error', async () => {
    const inUse = json(
      409,
      { error: { type: 'conflict_error', code: 'idempotency_key_in_use', message: 'busy' } },
      {
        'retry-after': '0',
      },
    );
    const unavailable = json(503, {
      error: { type: 'api_error', code: 'service_unavailable', message: 'later' },
    });
    const { fetch, sent } = scriptedFetch([inUse, unavailable, json(201, { id: 're_1' })]);
    await expect(client(fetch).refunds.create({ paymentId: 'p' })).resolves.toEqual({ id: 're_1' });
    expect(new Set(sent.map((attempt) => attempt.headers.get('idempotency-key'))).size).toBe(1);

    const refused = json(409, {
      error: {
        type: 'conflict_error',
        code: 'refund_exceeds_remaining',
        message: 'too much',
        param: 'amount',
        remaining: 40,
      },
    });
    const second = scriptedFetch([refused]);
    const error = await client(second.fetch)
      .refunds.create({ paymentId: 'p', amount: 50 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CountersignApiError);
    expect(error).toMatchObject({
      status: 409,
      code: 'refund_exceeds_remaining',
      param: 'amount',
      details: { remaining: 40 },
    });
    expect(second.sent).toHaveLength(1);
  });

  it('treats a timeout as a network failure', async () => {
    let calls = 0;
    const hanging = ((_input: unknown, init?: RequestInit) => {
      calls += 1;
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    }) as Fetch;
    const countersign = new Countersign({
      apiKey: 'k',
      baseUrl: 'https://pay.example',
      fetch: hanging,
      timeoutMs: 20,
      maxNetworkRetries: 1,
      backoffBaseMs: 1,
    });
    await expect(countersign.events.list()).rejects.toBeInstanceOf(CountersignConnectionError);
    expect(calls).toBe(2);
  });

  it('pages through a whole list', async () => {
    const { fetch, sent } = scriptedFetch([
      json(200, { object: 'list', data: [{ id: 'a' }, { id: 'b' }], hasMore: true }),
      json(200, { object: 'list', data: [{ id: 'c' }], hasMore: false }),
    ]);
    const ids: string[] = [];
    for await (const refund of client(fetch).refunds.listAll()) ids.push(refund.id);
    expect(ids).toEqual(['a', 'b', 'c']);
    expect(sent[1]!.url).toBe('https://pay.example/v1/refunds?limit=100&starting_after=b');
  });

  it('refuses a retry budget outside 0–10', () => {
    expect(() => client(globalThis.fetch, 11)).toThrow(RangeError);
  });
});

describe('verifyWebhook', () => {
  const secret = 'whsec_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
  const body =
    '{"id":"3f6c","object":"event","type":"refund.succeeded","createdAt":"2026-01-01T00:00:00.000Z","data":{"object":{"id":"r"}}}';
  const t = 1_767_225_600;
  const sign = (text: string, key = secret, at = t) =>
    `t=${at},v1=${createHmac('sha256', key).update(`${at}.${text}`).digest('hex')}`;

  it("accepts a signature computed by Node's HMAC, as text or bytes, and returns the event", async () => {
    await expect(verifyWebhook(body, sign(body), secret, 300, t)).resolves.toMatchObject({
      type: 'refund.succeeded',
    });
    await expect(
      verifyWebhook(new TextEncoder().encode(body), sign(body), secret, 300, t + 299),
    ).resolves.toBeDefined();
    // During a secret rotation a header may carry two signatures; one matching is enough.
    const both = `${sign(body)},v1=${'0'.repeat(64)}`;
    await expect(verifyWebhook(body, both, secret, 300, t)).resolves.toBeDefined();
  });

  it('refuses what does not match exactly, and old or future timestamps', async () => {
    const reason = (promise: Promise<unknown>) =>
      promise.then(
        () => 'accepted',
        (error: unknown) => (error instanceof WebhookSignatureError ? error.reason : 'other'),
      );
    expect(await reason(verifyWebhook(`${body} `, sign(body), secret, 300, t))).toBe('signature_mismatch');
    expect(await reason(verifyWebhook(body, sign(body, 'whsec_other'), secret, 300, t))).toBe(
      'signature_mismatch',
    );
    expect(await reason(verifyWebhook(body, sign(body), secret, 300, t + 301))).toBe(
      'timestamp_outside_tolerance',
    );
    expect(await reason(verifyWebhook(body, sign(body), secret, 300, t - 301))).toBe(
      'timestamp_outside_tolerance',
    );
    expect(await reason(verifyWebhook(body, sign(body), secret, 10, t + 11))).toBe(
      'timestamp_outside_tolerance',
    );
    expect(await reason(verifyWebhook(body, '', secret))).toBe('missing_header');
    expect(await reason(verifyWebhook(body, `t=${t}`, secret, 300, t))).toBe('malformed_header');
    expect(await reason(verifyWebhook(body, `t=${t},t=${t},v1=${'a'.repeat(64)}`, secret, 300, t))).toBe(
      'malformed_header',
    );
    expect(await reason(verifyWebhook('not json', sign('not json'), secret, 300, t))).toBe('malformed_body');
  });
});

describe('the client package', () => {
  it('imports nothing outside src/client, so it can run in a merchant’s app', async () => {
    const directory = fileURLToPath(new URL('.', import.meta.url));
    const files = (await readdir(directory)).filter(
      (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'),
    );
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const text = await readFile(`${directory}/${file}`, 'utf8');
      // Statements only (a line that starts with import or export), not examples inside doc comments.
      const specifiers = [...text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map(
        (match) => match[1]!,
      );
      for (const specifier of specifiers)
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\/[a-z-]+\.js$/);
    }
  });
});
