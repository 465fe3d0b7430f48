/**
 * Merchant authentication: `Authorization: Bearer <API key>`. A missing, malformed, unknown, revoked or
 * expired key gets the same answer, 401 authentication_required, so that a probe learns nothing from the
 * difference. The merchant's id is kept per request in a WeakMap rather than a global request decoration.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError } from '../domain/errors.js';
import type { MerchantService } from '../services/merchants/merchant-service.js';
import { bearerToken } from './operator-auth.js';

const merchantIds = new WeakMap<FastifyRequest, string>();

/** A preHandler that lets a request through only with a usable merchant API key. */
export function requireMerchant(
  merchants: MerchantService,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    const token = bearerToken(request);
    try {
      merchantIds.set(request, await merchants.authenticate(token ?? ''));
    } catch (error) {
      if (error instanceof CountersignError) {
        reply.header('www-authenticate', 'Bearer realm="countersign-merchant"');
      }
      throw error;
    }
  };
}

/** The authenticated merchant of a request that passed `requireMerchant`. */
export function merchantOf(request: FastifyRequest): string {
  const merchantId = merchantIds.get(request);
  if (merchantId === undefined) throw new Error('invariant: merchant route without requireMerchant');
  return merchantId;
}
