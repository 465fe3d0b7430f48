/**
 * Sends one webhook attempt over HTTP(S) with Node's own client, bounded in every way: one deadline for
 * connect, send and answer; at most `responseBytesReadMax` of the answer read; no redirects followed (a 3xx
 * is a failed attempt). Unless private targets are allowed, every address a name resolves to is checked at
 * connect time, inside the socket's own lookup, so that a name cannot pass a check and then resolve to an
 * internal address for the connection (DNS rebinding).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { webhookLimits } from '../../domain/limits.js';
import { addressLiteral, isPublicAddress } from './webhook-target.js';

/** One POST to a merchant's endpoint. */
export interface WebhookRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/** Why an attempt got no HTTP answer. */
export type WebhookTransportError = 'timeout' | 'connection_failed' | 'target_not_allowed';

/** What one attempt came to: an HTTP status with the start of the answer, or an error without one. */
export type WebhookResponse =
  | { readonly status: number; readonly excerpt: string }
  | { readonly error: WebhookTransportError };

/** Sends webhook attempts; the HTTP implementation is below, tests may pass another. */
export interface WebhookTransport {
  send(request: WebhookRequest): Promise<WebhookResponse>;
}

class TargetNotAllowedError extends Error {
  constructor() {
    super('the webhook target resolves to an address that is not public');
    this.name = 'TargetNotAllowedError';
  }
}

/** A DNS lookup that refuses names resolving to any address that is not public. */
function publicOnlyLookup(): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, '', 0);
      const list = addresses as unknown as LookupAddress[];
      if (list.length === 0 || list.some((entry) => !isPublicAddress(entry.address))) {
        return callback(new TargetNotAllowedError(), '', 0);
      }
      if (options.all === true) return (callback as (e: null, a: LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** The HTTP(S) transport. */
export function httpWebhookTransport(options: { readonly allowPrivateTargets: boolean }): WebhookTransport {
  return {
    send: (request) => sendOnce(request, options.allowPrivateTargets),
  };
}

function sendOnce(request: WebhookRequest, allowPrivateTargets: boolean): Promise<WebhookResponse> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return Promise.resolve({ error: 'connection_failed' });
  }
  const literal = addressLiteral(url.hostname);
  // A literal address skips the lookup, so it is checked here.
  if (!allowPrivateTargets && literal !== undefined && !isPublicAddress(literal)) {
    return Promise.resolve({ error: 'target_not_allowed' });
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<WebhookResponse>((resolve) => {
    let settled = false;
    const finish = (response: WebhookResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(response);
    };
    const outgoing = client.request(url, {
      method: 'POST',
      headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
      agent: false,
      ...(allowPrivateTargets ? {} : { lookup: publicOnlyLookup() }),
    });
    const deadline = setTimeout(() => {
      finish({ error: 'timeout' });
      outgoing.destroy();
    }, request.timeoutMs);
    outgoing.on('error', (error) => {
      finish({ error: error instanceof TargetNotAllowedError ? 'target_not_allowed' : 'connection_failed' });
    });
    outgoing.on('response', (incoming) => {
      const status = incoming.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let bytes = 0;
      incoming.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes <= webhookLimits.responseBytesReadMax) chunks.push(chunk);
        else incoming.destroy();
      });
      const done = () => {
        const text = Buffer.concat(chunks).toString('utf8');
        finish({ status, excerpt: text.slice(0, webhookLimits.responseExcerptCharactersMax) });
      };
      incoming.on('end', done);
      incoming.on('close', done);
      incoming.on('error', done);
    });
    outgoing.end(request.body);
  });
}
