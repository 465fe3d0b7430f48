/**
 * A secret checked under the attempt limits (`domain/attempts.ts`): the one procedure behind a payer's
 * password and an operator's sign-in.
 *
 * First an attempt is reserved under the subject's row in the database (refused while the subject is locked
 * or while the failures counted plus the checks in flight reach the limit, whatever the number of requests
 * and server processes). The slow check (Argon2) then runs outside any transaction, so no row stays locked
 * while it runs. Its outcome is settled under the row in a second transaction, where `confirmIn` may still
 * turn a right answer into a failure (an operator's TOTP step already used). A process that dies between
 * the two leaves the reservation to its lease; nothing was answered, so nothing was learnt.
 */
import { type AttemptState, reserveAttempt, type Settlement, settleAttempt } from '../../domain/attempts.js';
import type { CountersignError } from '../../domain/errors.js';
import type { SqlExecutor } from '../database.js';
import type { AuditEvent, MethodDependencies } from '../method-dependencies.js';

/** One check of a subject's secret. */
export interface GuardedCheck {
  /** The row the attempts are counted under: a payer id, or `operator:<name>`. */
  readonly subject: string;
  /** The check itself, outside any transaction: true when the secret is right. */
  evaluate(): Promise<boolean>;
  /** In the settling transaction, after a right answer: false refuses it after all, as a failure. */
  confirmIn?(tx: SqlExecutor, nowMs: number): Promise<boolean>;
  /** The audit entries of the settled outcome. */
  events(settled: Settlement): AuditEvent[];
  /** The answer while the subject is locked. */
  locked(state: AttemptState, nowMs: number): CountersignError;
  /** The answer to a wrong secret, the same whichever factor was wrong. */
  failed(): CountersignError;
}

type GuardDependencies = Pick<MethodDependencies, 'database' | 'clock' | 'settings' | 'partyStore' | 'audit'>;

async function lockedState(deps: GuardDependencies, tx: SqlExecutor, subject: string): Promise<AttemptState> {
  const state = (await deps.partyStore.lockAttemptStates(tx, [subject])).get(subject);
  if (state === undefined) throw new Error(`invariant: attempt row of ${subject} not locked`);
  return state;
}

/** Runs `check` under the attempt limits; resolves when the secret is right, throws the check's answer if not. */
export async function checkUnderAttemptLimit(deps: GuardDependencies, check: GuardedCheck): Promise<void> {
  const { database, clock, settings, partyStore, audit } = deps;
  const refusal = await database.transaction(async (tx) => {
    const before = await lockedState(deps, tx, check.subject);
    const nowMs = clock.nowMs();
    const reservation = reserveAttempt(before, nowMs, settings.attemptPolicy);
    if (!reservation.granted) return check.locked(before, nowMs);
    await partyStore.saveAttemptState(tx, check.subject, reservation.state, nowMs);
    return undefined;
  });
  if (refusal !== undefined) throw refusal;
  const right = await check.evaluate();
  const answer = await database.transaction(async (tx) => {
    const before = await lockedState(deps, tx, check.subject);
    const nowMs = clock.nowMs();
    const confirmed = right && (check.confirmIn === undefined || (await check.confirmIn(tx, nowMs)));
    const settled = settleAttempt(before, confirmed, nowMs, settings.attemptPolicy);
    await partyStore.saveAttemptState(tx, check.subject, settled.state, nowMs);
    await audit.appendIn(tx, check.events(settled), nowMs);
    if (settled.verdict === 'locked') return check.locked(settled.state, nowMs);
    if (settled.verdict === 'failed') return check.failed();
    return undefined;
  });
  if (answer !== undefined) throw answer;
}
