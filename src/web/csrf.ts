/**
 * CSRF protection of page forms: an HMAC-signed double-submit token bound to the session (OWASP's
 * "signed double-submit cookie").
 *
 * The browser holds a random value in the `__Host-cs_csrf` cookie (HttpOnly, so no script reads it). Each
 * form carries, in a hidden `_csrf` field, HMAC(master-derived key, cookie value, session binding), where
 * the session binding is a stable value of the signed-in session (empty before sign-in). A POST is accepted
 * only when its field equals the HMAC recomputed from the cookie it arrived with, compared in constant
 * time. Another site can make the browser send the cookie (SameSite=Strict already stops that in current
 * browsers), but it can neither read the cookie nor compute the HMAC, so it cannot forge the field; a
 * token of one session is worthless in the next, because the binding changes at sign-in and sign-out.
 * Requests a browser marks `Sec-Fetch-Site: cross-site` or `same-site` are refused outright.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import '@fastify/cookie';
import { CountersignError } from '../domain/errors.js';
import { cookieAttributes, cookieNames } from './cookies.js';

/** Name of the hidden form field carrying the token. */
export const csrfFieldName = '_csrf';

/** What the guard needs from the platform's secrets. */
export interface CsrfSecrets {
  keyedHash(purpose: string, ...parts: string[]): string;
  constantTimeEqualHex(a: string, b: string): boolean;
}

/** The stable value of the signed-in session a request belongs to, or '' before sign-in. */
export type SessionBinding = (request: FastifyRequest) => string;

const cookieValuePattern = /^[A-Za-z0-9_-]{43}$/;

/** Issues and checks CSRF tokens for one page area (payer pages, operator console, …). */
export class CsrfGuard {
  /** Cookie values created during this request, so that the page rendered with them carries a valid token. */
  private readonly issued = new WeakMap<FastifyRequest, string>();

  constructor(
    private readonly secrets: CsrfSecrets,
    private readonly area: string,
    private readonly sessionBinding: SessionBinding,
  ) {}

  /** The token for forms of the page being rendered; sets the CSRF cookie when the browser has none. */
  token(request: FastifyRequest, reply: FastifyReply): string {
    let value = this.cookieValue(request) ?? this.issued.get(request);
    if (value === undefined) {
      value = randomBytes(32).toString('base64url');
      this.issued.set(request, value);
      reply.setCookie(cookieNames.csrf, value, cookieAttributes);
    }
    return this.tokenFor(value, this.sessionBinding(request));
  }

  /** Throws `csrf_token_invalid` unless `submitted` is the token of this request's cookie and session. */
  verify(request: FastifyRequest, submitted: unknown): void {
    const site = request.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') throw new CountersignError('csrf_token_invalid');
    const value = this.cookieValue(request);
    const expected = this.tokenFor(value ?? '', this.sessionBinding(request));
    // The comparison runs whatever was sent, so a missing cookie or field costs what a wrong one costs.
    const candidate = typeof submitted === 'string' && /^[0-9a-f]{64}$/.test(submitted) ? submitted : '';
    const matches = this.secrets.constantTimeEqualHex(candidate.padEnd(64, '0'), expected);
    if (value === undefined || candidate === '' || !matches) throw new CountersignError('csrf_token_invalid');
  }

  private cookieValue(request: FastifyRequest): string | undefined {
    const value = request.cookies[cookieNames.csrf];
    return value !== undefined && cookieValuePattern.test(value) ? value : undefined;
  }

  private tokenFor(cookieValue: string, binding: string): string {
    return this.secrets.keyedHash('page_csrf', this.area, cookieValue, binding);
  }
}
