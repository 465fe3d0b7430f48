/**
 * Stored responses of idempotent requests, sealed. A response replayed for a retried request can carry a
 * secret shown only once — the first code of a payment, a new terminal's key, a session token — so it is
 * kept AES-256-GCM-sealed under the master key, bound to its scope and key, never in clear.
 */

import { idempotencyResponseLabel } from '../../domain/sealed-labels.js';
import type { MethodSecrets } from '../keys/secrets.js';
import type { IdempotencyBeginResult, IdempotencyStore } from './idempotency-store.js';

/** Marks a sealed value (`v1.<keyId>.…`); a stored JSON response starts with `{` or `[`. */
const sealedPrefix = 'v1.';

/**
 * Wraps `inner` so that response bodies are sealed on the way in and opened on the way out, and the
 * request's hash is stored only as a keyed hash: a plain SHA-256 of a body that holds a password or a
 * verification code would let whoever reads the database test guesses offline, without Argon2's cost.
 */
export function sealedIdempotencyStore(
  inner: IdempotencyStore,
  box: MethodSecrets['box'],
  keyedHash: MethodSecrets['keyedHash'],
): IdempotencyStore {
  return {
    async begin(scope, key, requestHash, nowMs, leaseMs): Promise<IdempotencyBeginResult> {
      const storedHash = keyedHash('idempotency_request', scope, key, requestHash);
      const result = await inner.begin(scope, key, storedHash, nowMs, leaseMs);
      if (result.kind !== 'replay' || !result.body.startsWith(sealedPrefix)) return result;
      const body = box.open(result.body, idempotencyResponseLabel(scope, key)).toString('utf8');
      return { ...result, body };
    },
    claimFor(scope, key, requestHash, nowMs, leaseMs) {
      const storedHash = keyedHash('idempotency_request', scope, key, requestHash);
      return inner.claimFor(scope, key, storedHash, nowMs, leaseMs);
    },
    complete(scope, key, status, body, nowMs) {
      return inner.complete(scope, key, status, box.seal(body, idempotencyResponseLabel(scope, key)), nowMs);
    },
    release: (scope, key) => inner.release(scope, key),
    purgeExpired: (nowMs, limit) => inner.purgeExpired(nowMs, limit),
  };
}
