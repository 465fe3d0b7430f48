/**
 * The HTTP side of signed terminal requests: a JSON parser that keeps the exact body text (the signature
 * covers its hash, and re-serialising the parsed object would not give the same bytes), and the request
 * as the terminal service verifies it.
 */
import type { FastifyRequest } from 'fastify';
import type { SignedTerminalRequest } from '../../services/terminals/terminal-request-verifier.js';
import type { FastifyTypebox } from '../dependencies.js';
import { useStrictJsonParser } from '../strict-json.js';

const rawBodies = new WeakMap<FastifyRequest, string>();

/**
 * Replaces the JSON parser of this encapsulated context with one that records the body text and otherwise
 * reads bodies exactly as the application's parser does: Fastify's parser with prototype poisoning
 * refused, then a refusal of any key given twice or any NUL character (see `app.ts` and `strict-json.ts`).
 */
export function keepRawJsonBodies(app: FastifyTypebox): void {
  useStrictJsonParser(app, (request, text) => rawBodies.set(request, text));
}

/** The request as it was signed: method, path with query as received, headers and the body text. */
export function signedRequestOf(request: FastifyRequest): SignedTerminalRequest {
  return {
    method: request.method,
    path: request.url,
    headers: request.headers,
    rawBody: rawBodies.get(request) ?? '',
  };
}
