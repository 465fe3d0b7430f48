/**
 * How a payer proves who they are on a request: a session bearer token, or the payer id and password in
 * the body. Exactly one of the two; both or neither is a client error.
 */
import type { FastifyRequest } from 'fastify';
import { CountersignError } from '../domain/errors.js';
import type { AuthenticationService } from '../services/authentication-service.js';
import { bearerToken } from './operator-auth.js';

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
