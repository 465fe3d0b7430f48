/**
 * Coalesced statements of the request path. Besides its payment, each request runs a few statements of
 * its own outside any transaction: its session is checked and extended, its payer's lock state read, its
 * idempotency key claimed and, at the end, completed. Requests that arrive together share one statement
 * for each of these (set-oriented, through the same group-commit batcher, without BEGIN and COMMIT since
 * each is a single atomic statement), so that a burst of N requests costs the database a handful of
 * statements and durable commits instead of 4 × N.
 *
 * These wrap the stores the services already call: a call on the database itself (not inside a caller's
 * transaction) is coalesced; a call inside a transaction goes to the wrapped store unchanged. An input the
 * set-oriented statement cannot settle (a key already taken, the same key twice in one batch) runs alone
 * through the wrapped store, which answers exactly as it always has.
 */
import { type AttemptState, freshAttemptState } from '../../domain/attempts.js';
import type { Database, SqlExecutor } from '../database.js';
import {
  claimFirstOfEachKey,
  type IdempotencyBeginResult,
  type IdempotencyClaim,
  type IdempotencyStore,
} from '../idempotency/idempotency-store.js';

export type { IdempotencyClaim };

import type { PartyStore, TouchedSession } from '../parties/party-store.js';
import type { CommitBatching, SessionTouch } from '../payments/payment-batch-store.js';
import { type BatchOutcome, CommitBatcher } from './commit-batcher.js';

/** One request's final response, to store under its key. */
export interface IdempotencyCompletion {
  readonly scope: string;
  readonly key: string;
  readonly status: number;
  readonly body: string;
  readonly nowMs: number;
}

/** The set-oriented statements of idempotency keys; `store/idempotency-batch-repository` implements them. */
export interface IdempotencyBatchStore {
  /** Inserts free keys as in progress; per claim, whether it was inserted. */
  claimKeys(executor: SqlExecutor, claims: readonly IdempotencyClaim[]): Promise<boolean[]>;
  /** Stores responses of keys still in progress. */
  completeKeys(executor: SqlExecutor, completions: readonly IdempotencyCompletion[]): Promise<void>;
}

const alone = { kind: 'alone' } as const;

function done<O>(value: O): BatchOutcome<O> {
  return { kind: 'done', value };
}

/** Wraps the idempotency store so that claims and completions of concurrent requests share statements. */
export function coalescedIdempotencyStore(
  database: Database,
  inner: IdempotencyStore,
  store: IdempotencyBatchStore,
  batching: CommitBatching,
): IdempotencyStore {
  const options = { ...batching.options, transactional: false };
  const claims = new CommitBatcher<IdempotencyClaim, IdempotencyBeginResult>(
    database,
    {
      runMany: async (executor, inputs) => {
        // A claim that does not hold its key (taken before, or a second claim of it in this batch) runs
        // alone afterwards and gets the wrapped store's answer, as it would had it come a moment later.
        const held = await claimFirstOfEachKey(inputs, (firsts) => store.claimKeys(executor, firsts));
        return held.map((isHeld) =>
          isHeld === true ? done<IdempotencyBeginResult>({ kind: 'started' }) : alone,
        );
      },
      runAlone: (c) => inner.begin(c.scope, c.key, c.requestHash, c.nowMs, c.leaseMs),
    },
    options,
  );
  const completions = new CommitBatcher<IdempotencyCompletion, void>(
    database,
    {
      runMany: async (executor, inputs) => {
        await store.completeKeys(executor, inputs);
        return inputs.map(() => done(undefined));
      },
      runAlone: (c) => inner.complete(c.scope, c.key, c.status, c.body, c.nowMs),
    },
    options,
  );
  return {
    begin(scope, key, requestHash, nowMs, leaseMs) {
      if (!(leaseMs > 0)) return inner.begin(scope, key, requestHash, nowMs, leaseMs);
      return claims.submit({ scope, key, requestHash, nowMs, leaseMs });
    },
    complete(scope, key, status, body, nowMs) {
      if (!Number.isInteger(status) || status < 100 || status > 599) {
        return inner.complete(scope, key, status, body, nowMs);
      }
      return completions.submit({ scope, key, status, body, nowMs });
    },
    claimFor: (scope, key, requestHash, nowMs, leaseMs) =>
      inner.claimFor(scope, key, requestHash, nowMs, leaseMs),
    release: (scope, key) => inner.release(scope, key),
    purgeExpired: (nowMs, limit) => inner.purgeExpired(nowMs, limit),
  };
}

/**
 * Wraps the party store so that session checks and lock-state reads made on the database itself share
 * statements with those of concurrent requests.
 */
export function coalescedPartyStore(
  database: Database,
  inner: PartyStore,
  batching: CommitBatching,
): PartyStore {
  const options = { ...batching.options, transactional: false };
  const sessions = new CommitBatcher<SessionTouch, TouchedSession | undefined>(
    database,
    {
      runMany: async (executor, touches) => (await batching.store.touchSessions(executor, touches)).map(done),
      runAlone: (t) => inner.touchSession(database, t.tokenHash, t.nowMs, t.idleMs, t.lifetimeMs),
    },
    options,
  );
  const attempts = new CommitBatcher<string, AttemptState>(
    database,
    {
      runMany: async (executor, subjects) => {
        const states = await batching.store.selectAttemptStates(executor, [...new Set(subjects)]);
        return subjects.map((subject) => done(states.get(subject) ?? freshAttemptState));
      },
      runAlone: (subject) => inner.selectAttemptState(database, subject, false),
    },
    options,
  );
  return {
    ...inner,
    touchSession(executor, tokenHash, nowMs, idleMs, lifetimeMs) {
      if (executor !== database) return inner.touchSession(executor, tokenHash, nowMs, idleMs, lifetimeMs);
      return sessions.submit({ tokenHash, nowMs, idleMs, lifetimeMs });
    },
    selectAttemptState(executor, subject, lock) {
      if (executor !== database || lock) return inner.selectAttemptState(executor, subject, lock);
      return attempts.submit(subject);
    },
  };
}
