/**
 * The `Countersign-Version` header: a request may name the dated API version it was written against; an
 * unknown version is refused before anything runs (400 api_version_unknown, nothing changed), and every
 * answer of the API says the version it was made under, in the same header.
 */
import { apiVersions, currentApiVersion, isApiVersion } from '../domain/api-version.js';
import { CountersignError } from '../domain/errors.js';
import type { FastifyTypebox } from './dependencies.js';

/** The header, lower case as Node.js gives request headers. */
export const apiVersionHeader = 'countersign-version';

/**
 * Adds the check and the echo to every `/v1/` route of `app`. Registered before the idempotency hooks, so a
 * refused version never claims an Idempotency-Key.
 */
export function registerApiVersion(app: FastifyTypebox): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return;
    const named = request.headers[apiVersionHeader];
    if (named === undefined) {
      reply.header(apiVersionHeader, currentApiVersion);
      return;
    }
    if (typeof named !== 'string' || !isApiVersion(named)) {
      throw new CountersignError('api_version_unknown', {
        param: 'Countersign-Version',
        message: `Countersign-Version must be one of: ${apiVersions.join(', ')}.`,
      });
    }
    reply.header(apiVersionHeader, named);
  });
}
