/**
 * What the payer's page modules share (the session, the frame, a form key). Apart from `page-payer.ts`,
 * which registers those modules, so that they need not import it back.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CsrfGuard } from '../../web/csrf.js';
import type { PayerFrame } from '../../web/payer/payer-frame.js';
import type { HttpServices } from '../services.js';

/** The signed-in payer of a request. */
export interface PayerSession {
  readonly payerId: string;
  readonly expiresAtMs: number;
}

/** What the payer's page handlers share. */
export interface PayerPageKit {
  readonly services: HttpServices;
  readonly csrf: CsrfGuard;
  /** The signed-in payer; throws `authentication_required` (→ sign-in page) without a live session. */
  session(request: FastifyRequest): Promise<PayerSession>;
  /** The frame of a signed-in page. */
  frame(request: FastifyRequest, reply: FastifyReply, session: PayerSession, currentPath: string): PayerFrame;
}

/** A random key for one rendering of a form, so that submitting it twice creates one payment. */
export function newFormKey(): string {
  return randomBytes(18).toString('base64url');
}
