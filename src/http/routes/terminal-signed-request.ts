/**
 * The HTTP side of signed terminal requests: a JSON parser that keeps the exact body text (the signature
 * covers its hash, and re-serialising the parsed object would not give the same bytes), and the request
 * as the terminal service verifies it.
 */
import type { FastifyError, FastifyRequest } from 'fastify';
import type { SignedTerminalRequest } from '../../services/terminals/terminal-request-verifier.js';
import type { FastifyTypebox } from '../dependencies.js';
import { strictJsonRefusal } from '../strict-json.js';

const rawBodies = new WeakMap<FastifyRequest, string>();

/**
 * Replaces the JSON parser of this encapsulated context with one that records the body text and otherwise
 * reads bodies exactly as the application's parser does: Fastify's parser with prototype poisoning
 * refused, then a refusal of any key given twice or any NUL character (see `app.ts` and `strict-json.ts`).
 */
export function keepRawJsonBodies(app: FastifyTypebox): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    parseJson(request, text, (error, value) => {
      if (error !== null && error !== undefined) return done(error as FastifyError, undefined);
      const refusal = strictJsonRefusal(text, value);
      if (refusal !== undefined) return done(refusal as unknown as FastifyError, undefined);
      rawBodies.set(request, text);
      done(null, value);
    });
  });
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
