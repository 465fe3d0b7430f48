/**
 * Operator authentication: `Authorization: Bearer <token>` checked against the operator token. Only the
 * token's SHA-256 digest is held in memory, and digests are compared with `crypto.timingSafeEqual`, so the
 * comparison takes the same time wherever a guess first differs, and for a guess of any length.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError } from '../domain/errors.js';
import { httpLimits } from '../domain/limits.js';

/** RFC 6750 `Bearer` scheme (case-insensitive, RFC 7235), one space, then printable ASCII without spaces. */
const bearerPattern = /^Bearer ([\x21-\x7e]+)$/i;

/**
 * The token of an `Authorization: Bearer <token>` header, or undefined when the header is absent or not
 * exactly of that form (another scheme, extra spaces, an empty or overlong token, control characters).
 */
export function bearerToken(request: Pick<FastifyRequest, 'headers'>): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header.length > httpLimits.bearerTokenLengthMax + 7) return undefined;
  const match = bearerPattern.exec(header);
  return match?.[1];
}

/** The SHA-256 digest of an operator token, as `requireOperator` expects it. */
export function hashOperatorToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Whether `token` is one of the tokens whose SHA-256 digests (`hashOperatorToken`) are `tokenHashes`: the
 * one comparison of an operator-like token, for the hook below and for routes that take either the
 * operator or a payer's session. The digest of an absent token is still computed, and every digest is
 * compared, so the time taken says neither whether a token was sent nor which one came close.
 */
export function matchesTokenHash(token: string | undefined, tokenHashes: readonly Uint8Array[]): boolean {
  const digest = hashOperatorToken(token ?? '');
  let matches = false;
  for (const expected of tokenHashes) matches = timingSafeEqual(digest, expected) || matches;
  return token !== undefined && matches;
}

/**
 * A preHandler that lets a request through only with the operator's bearer token (or, for `/metrics`, one
 * of several tokens). `tokenHashes` are SHA-256 digests (`hashOperatorToken`). A missing and a wrong token
 * get the same answer, 401 authentication_required, so that a probe learns nothing from the difference.
 */
export function requireOperator(
  tokenHashes: Uint8Array | readonly Uint8Array[],
  realm = 'countersign-operator',
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = (tokenHashes instanceof Uint8Array ? [tokenHashes] : tokenHashes).map((hash) => {
    if (hash.length !== 32) throw new RangeError('a token hash must be a 32-byte SHA-256 digest');
    return Buffer.from(hash);
  });
  return async (request, reply) => {
    if (!matchesTokenHash(bearerToken(request), expected)) {
      reply.header('www-authenticate', `Bearer realm="${realm}"`);
      throw new CountersignError('authentication_required');
    }
  };
}
