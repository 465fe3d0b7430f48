/**
 * Cookies of the pages. Every cookie is `HttpOnly` (no script reads it), `Secure` (never sent over plain
 * http), `SameSite=Strict` (never sent with a request another site starts) and carries the `__Host-`
 * prefix, which makes the browser refuse it unless it is Secure, has `Path=/` and no `Domain`: a
 * neighbouring subdomain can therefore neither read nor plant it.
 *
 * Browsers accept Secure cookies over plain http only from `localhost` and loopback addresses (Chromium
 * treats http://127.0.0.1 and http://localhost as secure contexts), so the pages work in development and in
 * tests on 127.0.0.1; anywhere else the platform must be served over https.
 */
import type { CookieSerializeOptions } from '@fastify/cookie';

/** Names of every cookie the pages set, in one place so that no two modules collide. */
export const cookieNames = Object.freeze({
  /** Random value the CSRF tokens of forms are bound to (see csrf.ts). */
  csrf: '__Host-cs_csrf',
  /** The payer's session token (first terminal pages). */
  payerSession: '__Host-cs_payer',
  /** The operator's console session token (its row in operator_sessions names the operator). */
  operatorSession: '__Host-cs_operator',
});

/**
 * Attributes of every page cookie. No `Max-Age`: the cookies end with the browser session, and the server
 * enforces idle and absolute timeouts itself, so a cookie outliving its session grants nothing.
 */
export const cookieAttributes: Readonly<CookieSerializeOptions> = Object.freeze({
  httpOnly: true,
  secure: true,
  sameSite: 'strict',
  path: '/',
});

/** Attributes that delete a cookie set with `cookieAttributes`. */
export const expiredCookieAttributes: Readonly<CookieSerializeOptions> = Object.freeze({
  ...cookieAttributes,
  maxAge: 0,
  expires: new Date(0),
});
