/**
 * Operator authentication: `Authorization: Bearer <token>` checked against the operator token. Only the
 * token's SHA-256 digest is held in memory, and digests are compared with `crypto.timingSafeEqual`, so the
 * comparison takes the same time wherever a guess first differs, and for a guess of any length.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError } from '../domain/errors.js';
import { httpLimits } from './http-limits.js';

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
 * A preHandler that lets a request through only with the operator's bearer token. `tokenHash` is the
 * SHA-256 digest of the token (`hashOperatorToken`). A missing and a wrong token get the same answer,
 * 401 authentication_required, so that a probe learns nothing from the difference.
 */
export function requireOperator(
  tokenHash: Uint8Array,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  if (tokenHash.length !== 32) throw new RangeError('tokenHash must be a 32-byte SHA-256 digest');
  const expected = Buffer.from(tokenHash);
  return async (request, reply) => {
    const token = bearerToken(request);
    // The digest of an absent token is still computed and compared, so both failures cost the same time.
    const digest = hashOperatorToken(token ?? '');
    const matches = timingSafeEqual(digest, expected);
    if (token === undefined || !matches) {
      reply.header('www-authenticate', 'Bearer realm="countersign-operator"');
      throw new CountersignError('authentication_required');
    }
  };
}
