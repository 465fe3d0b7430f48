/**
 * Idempotent requests, with Stripe's semantics: the first request with a key runs and its response is
 * stored; a retry with the same key and the same request gets that response again without running anything;
 * the same key with a different request is refused. A key is scoped to the caller, so two callers never see
 * each other's keys.
 */

/** What `begin` found for a key. */
export type IdempotencyBeginResult =
  /** The key was free (or its holder's lease had expired): the caller now holds it and runs the request. */
  | { readonly kind: 'started' }
  /** The request already completed: answer with its stored response. */
  | { readonly kind: 'replay'; readonly status: number; readonly body: string }
  /** The same request is running elsewhere and its lease has not expired. */
  | { readonly kind: 'in_progress' }
  /** The key belongs to a different request (another body, method or path). */
  | { readonly kind: 'reused' };

/** One request's claim of an idempotency key, as the store inserts it (the request's hash as stored). */
export interface IdempotencyClaim {
  readonly scope: string;
  readonly key: string;
  readonly requestHash: string;
  readonly nowMs: number;
  readonly leaseMs: number;
}

/**
 * Claims a batch's keys in one set-oriented statement (`insert`, which answers per claim whether it
 * inserted it); per entry, whether its claim now holds the key. An entry without a claim holds nothing
 * and is undefined. Of several claims of one key in one batch only the first goes into the statement;
 * the later ones do not hold it, exactly as if they had come a moment later, after the first committed.
 * Every batch that claims keys (the coalesced claims of the request path, the payments' own batch)
 * claims them through this one rule.
 */
export async function claimFirstOfEachKey(
  claims: readonly (IdempotencyClaim | undefined)[],
  insert: (firsts: readonly IdempotencyClaim[]) => Promise<readonly boolean[]>,
): Promise<(boolean | undefined)[]> {
  const firsts: IdempotencyClaim[] = [];
  const positions: number[] = [];
  const seen = new Set<string>();
  const held: (boolean | undefined)[] = claims.map((claim, index) => {
    if (claim === undefined) return undefined;
    // Length-prefixed, so that no scope and key pair can collide with another one.
    const id = `${claim.scope.length}:${claim.scope}${claim.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
    firsts.push(claim);
    positions.push(index);
    return false;
  });
  if (firsts.length === 0) return held;
  const inserted = await insert(firsts);
  for (const [position, index] of positions.entries()) held[index] = inserted[position] === true;
  return held;
}

/**
 * A key to claim inside the transaction of the operation it guards, so that the claim and the operation
 * commit together, in one statement of the operation's batch instead of a stage of their own.
 * `outcome` is set once the operation settled in a committed transaction: `held` when that transaction
 * claimed the key (whether the operation succeeded or was refused), `taken` when the key was already
 * claimed and the operation did not run. It stays undefined when the operation's transaction rolled back.
 */
export interface KeyClaimTicket {
  readonly claim: IdempotencyClaim;
  outcome: 'held' | 'taken' | undefined;
}

/** The operation did not run: its idempotency key was claimed already (see `KeyClaimTicket`). */
export class IdempotencyKeyTaken extends Error {
  constructor() {
    super('the idempotency key was claimed already; the operation did not run');
    this.name = 'IdempotencyKeyTaken';
  }
}

/** Where idempotency keys and their stored responses live. */
export interface IdempotencyStore {
  /**
   * Claims `key` in `scope` for the request whose hash is `requestHash`, holding it until `nowMs + leaseMs`;
   * or reports why it cannot. Exactly one of several concurrent callers gets `started`.
   */
  begin(
    scope: string,
    key: string,
    requestHash: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<IdempotencyBeginResult>;
  /**
   * The claim `begin` would insert, for an operation that inserts it in its own transaction instead
   * (`KeyClaimTicket`); a claim so inserted is then completed, replayed and released like any other.
   */
  claimFor(scope: string, key: string, requestHash: string, nowMs: number, leaseMs: number): IdempotencyClaim;
  /** Stores the final response of a started request; later `begin` calls replay it. */
  complete(scope: string, key: string, status: number, body: string, nowMs: number): Promise<void>;
  /** Frees a started key without a result (the request failed on our side), so that a retry runs again. */
  release(scope: string, key: string): Promise<void>;
  /**
   * Deletes at most `limit` keys completed more than `idempotencyKeyRetentionMs` before `nowMs`, and keys
   * whose lease ran out that long ago; returns how many were deleted.
   */
  purgeExpired(nowMs: number, limit: number): Promise<number>;
}
