/**
 * What the HTTP layer writes to the log, and what it never writes. Requests are logged as method, path and
 * client address only: no headers, no query string (it may carry a token) and no bodies (they carry
 * passwords and codes). Redaction is a second line of defence for anything logged by hand. An error is
 * logged without the SQL and parameters a database driver attaches to it.
 */
import pino, { type LoggerOptions } from 'pino';
import type { LogLevel } from '../config.js';
import { limits } from '../domain/limits.js';

/** Field names whose values are secrets wherever they appear in a logged object. */
export const secretFieldNames: readonly string[] = Object.freeze([
  'password',
  'verificationCode',
  'firstCode',
  'secondCode',
  'token',
  'apiKey',
  'keyHex',
  'webhookSecret',
  'enrollmentUri',
]);

/**
 * Paths pino redacts. A pino wildcard matches one level, so each secret field is listed at the top level
 * and up to two levels down (`{ payer: { password } }`, `{ err: { details: { token } } }`).
 */
export const redactedPaths: readonly string[] = Object.freeze([
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...secretFieldNames.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]),
]);

/** The parts of a Fastify request the serializer reads. */
interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  readonly ip?: string;
  readonly socket?: { readonly remoteAddress?: string | undefined };
}

/** Logs method, path without query string, and client address; nothing else of a request. */
export function serializeRequest(request: LoggedRequest): {
  method: string;
  url: string;
  remoteAddress?: string;
} {
  const queryStart = request.url.indexOf('?');
  const url = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const remoteAddress = request.ip ?? request.socket?.remoteAddress;
  return remoteAddress === undefined
    ? { method: request.method, url }
    : { method: request.method, url, remoteAddress };
}

/**
 * Properties a database driver puts on its errors that repeat the statement and its bound values
 * (`query`, `params` of PGlite; `query`, `parameters`, `args`, `types` of postgres.js). The values are
 * the request's input (a payer id, a name, a hash), so a failed query must not carry them into the log;
 * the SQLSTATE `code`, the message and the stack say enough to find the fault.
 */
export const databaseErrorFieldNames: readonly string[] = Object.freeze([
  'query',
  'params',
  'parameters',
  'args',
  'types',
  'queryOptions',
]);

function withoutDatabaseFields(serialized: Record<string, unknown>, depth: number): void {
  for (const name of databaseErrorFieldNames) delete serialized[name];
  if (depth >= limits.loggedErrorDepthMax) return;
  for (const value of Object.values(serialized)) {
    const nested = Array.isArray(value) ? value : [value];
    for (const item of nested) {
      if (item !== null && typeof item === 'object') {
        withoutDatabaseFields(item as Record<string, unknown>, depth + 1);
      }
    }
  }
}

/**
 * Pino's error serializer (type, message and stack with those of every cause, own properties), with the
 * statement and parameters of a database error removed at any depth (see `databaseErrorFieldNames`).
 */
export function serializeError(error: unknown): unknown {
  const serialized: unknown = pino.stdSerializers.err(error as Error);
  if (serialized !== null && typeof serialized === 'object') {
    withoutDatabaseFields(serialized as Record<string, unknown>, 0);
  }
  return serialized;
}

/** Logs the status code of a reply and nothing else (no headers: they may set cookies). */
export function serializeReply(reply: { readonly statusCode: number }): { statusCode: number } {
  return { statusCode: reply.statusCode };
}

/**
 * Pino options for the HTTP server at `level`. Options given by the caller are merged in, but redaction
 * and serializers always come from here, so that no caller can switch them off by accident.
 */
export function httpLoggerOptions(level: LogLevel, overrides: LoggerOptions = {}): LoggerOptions {
  return {
    ...overrides,
    level: overrides.level ?? level,
    redact: { paths: [...redactedPaths], censor: '[redacted]' },
    serializers: {
      ...overrides.serializers,
      req: serializeRequest,
      res: serializeReply,
      err: serializeError,
    },
  };
}
