/**
 * What the operator console's page modules share (the session, the frame, the query). Apart from
 * `page-operator.ts`, which registers those modules, so that they need not import it back.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperatorPrincipal } from '../../services/operators/operator-service.js';
import type { CsrfGuard } from '../../web/csrf.js';
import type { OperatorFrame } from '../../web/operator/operator-frame.js';
import type { HttpServices } from '../services.js';

/** What the console's handlers share. */
export interface OperatorPageKit {
  readonly services: HttpServices;
  readonly csrf: CsrfGuard;
  /** The signed-in operator; throws `authentication_required` (→ sign-in page) without a live session. */
  session(request: FastifyRequest, reply: FastifyReply): Promise<OperatorPrincipal>;
  frame(
    request: FastifyRequest,
    reply: FastifyReply,
    session: OperatorPrincipal,
    currentPath: string,
  ): OperatorFrame;
}

/** The query object of a request, for reading optional filters. */
export function queryOf(request: FastifyRequest): Record<string, unknown> {
  return (request.query ?? {}) as Record<string, unknown>;
}
