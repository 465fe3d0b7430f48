/**
 * How a payer proves who they are on a request: a session bearer token, or the payer id and password in
 * the body. Exactly one of the two; both or neither is a client error.
 */
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { CountersignError } from '../domain/errors.js';
import type { AuthenticationService } from '../services/parties/authentication-service.js';
import { bearerToken, matchesTokenHash } from './operator-auth.js';

/** Credentials that may travel in a body. */
export interface BodyCredentials {
  readonly payerId?: string | undefined;
  readonly password?: string | undefined;
}

/** The authenticated payer id of a request; throws the catalog's authentication errors. */
export async function authenticatePayer(
  request: FastifyRequest,
  body: BodyCredentials,
  authentication: AuthenticationService,
): Promise<string> {
  const token = bearerToken(request);
  const hasPassword = body.payerId !== undefined || body.password !== undefined;
  if (token !== undefined && hasPassword) {
    throw new CountersignError('invalid_request', {
      param: 'password',
      message: 'Send either a session bearer token or payerId and password, not both.',
    });
  }
  if (token !== undefined) return (await authentication.authenticateSession(token)).payerId;
  if (body.payerId === undefined || body.password === undefined) {
    if (request.headers.authorization !== undefined) throw new CountersignError('authentication_required');
    throw new CountersignError('invalid_request', {
      param: body.payerId === undefined ? 'payerId' : 'password',
      message: 'payerId and password are required without a session bearer token.',
    });
  }
  return authentication.verifyPassword(body.payerId, body.password);
}

/** The payer of a session bearer token, or undefined when the request carries none. */
export async function sessionPayer(
  request: FastifyRequest,
  authentication: AuthenticationService,
): Promise<string | undefined> {
  const token = bearerToken(request);
  if (token === undefined) return undefined;
  return (await authentication.authenticateSession(token)).payerId;
}

/** Who a request speaks for on a route open both to the operator and to a payer's session. */
export type OperatorOrPayer =
  | { readonly operator: true }
  | { readonly operator: false; readonly payerId: string };

/**
 * The operator (its bearer token) or the payer of a live session; undefined when the request carries no
 * bearer token. A bearer token that is neither (a dead session, a guess) is refused, authentication_required,
 * like anywhere else. The one place that tells the operator from a payer on such routes: a payment's reads
 * and approval, a payer's terminals.
 */
export async function operatorOrSession(
  request: FastifyRequest,
  operatorTokenHashes: readonly Uint8Array[],
  authentication: AuthenticationService,
): Promise<OperatorOrPayer | undefined> {
  const token = bearerToken(request);
  if (token === undefined) return undefined;
  if (matchesTokenHash(token, operatorTokenHashes)) return { operator: true };
  return { operator: false, payerId: (await authentication.authenticateSession(token)).payerId };
}

/** Payer ids authenticated by `payerAuthentication`, per request. */
const authenticatedPayers = new WeakMap<FastifyRequest, string>();

/**
 * A route preHandler that authenticates the payer (session or body credentials) before the idempotency
 * key is claimed, and scopes the key to that payer: a key is claimed only by a request that proved who
 * it is, so nobody can take a payer's key first.
 */
export function payerAuthentication(authentication: AuthenticationService): preHandlerAsyncHookHandler {
  return async (request) => {
    const body = (request.body ?? {}) as BodyCredentials;
    const payerId = await authenticatePayer(request, body, authentication);
    authenticatedPayers.set(request, payerId);
    request.idempotencyPrincipal = `payer:${payerId}`;
  };
}

/**
 * A payer id given with a password, checked by `passwordAuthentication` (sign-in), which opens no
 * session itself: the handler does, once the key is claimed.
 */
export function passwordAuthentication(authentication: AuthenticationService): preHandlerAsyncHookHandler {
  return async (request) => {
    const body = (request.body ?? {}) as BodyCredentials;
    if (body.payerId === undefined || body.password === undefined) {
      throw new CountersignError('invalid_request', { message: 'payerId and password are required.' });
    }
    const payerId = await authentication.verifyPassword(body.payerId, body.password);
    authenticatedPayers.set(request, payerId);
    request.idempotencyPrincipal = `payer:${payerId}`;
  };
}

/** The payer a route's authentication preHandler authenticated; a route without one is a bug. */
export function authenticatedPayer(request: FastifyRequest): string {
  const payerId = authenticatedPayers.get(request);
  if (payerId === undefined) throw new Error('invariant: the route has no payer authentication preHandler');
  return payerId;
}
