/**
 * Operators: named accounts with a role, signing in to the console with an Argon2id password and a TOTP
 * code, in sessions held as database rows.
 *
 * - An admin (or the CLI, or the bootstrap token) creates an operator; the answer carries a one-time set-up
 *   code, valid for `limits.operatorSetupTtlMs`, stored only as a keyed hash.
 * - With the set-up code the operator chooses a password and enrolls a TOTP key by QR code. The key is
 *   derived from the set-up code under a platform key until the set-up completes, so nothing half-set-up is
 *   stored; then it is stored sealed under the master key, and the set-up code is gone.
 * - Sign-in checks password and code under the same attempt limits as payers' passwords
 *   (`attempt-guard.ts`), subject `operator:<name>`; the answer never says which factor was wrong, and an
 *   unknown name costs and counts what a wrong password does. A TOTP step is accepted once (RFC 6238 §5.2),
 *   atomically in the transaction that settles the attempt, so two sign-ins racing with one code cannot both
 *   pass.
 * - A session is a row: signing out, `limits.operatorSessionIdleMs` without a request,
 *   `limits.operatorSessionLifetimeMs` in all, and an admin's "end sessions" end it for every server at once.
 *   The cookie's token is stored only as a keyed hash.
 */
import { randomBytes } from 'node:crypto';
import { type AttemptState, lockedAnswerDetails, type Settlement } from '../../domain/attempts.js';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import {
  type Actor,
  actorLabel,
  assertMayAct,
  isOperatorName,
  isOperatorRole,
  type OperatorRole,
} from '../../domain/operator.js';
import { operatorTotpKeyLabel } from '../../domain/sealed-labels.js';
import { matchTotp, totpParameters, totpUri } from '../../domain/totp.js';
import type { SqlExecutor } from '../database.js';
import { newId } from '../ids.js';
import type { AuditEvent, MethodDependencies } from '../method-dependencies.js';
import { checkUnderAttemptLimit } from '../parties/attempt-guard.js';
import type { OperatorRecord, OperatorStore, OperatorSummary } from './operator-store.js';

/** Prefixes that make a leaked secret recognisable in a secret scanner. */
export const operatorSetupCodePrefix = 'cs_setup_';
export const operatorSessionTokenPrefix = 'cs_opsess_';

/** What the operator service needs. */
export interface OperatorServiceDependencies
  extends Pick<
    MethodDependencies,
    'database' | 'clock' | 'settings' | 'secrets' | 'passwords' | 'audit' | 'partyStore'
  > {
  readonly operatorStore: OperatorStore;
}

/** A new operator, with its one-time set-up code (shown once). */
export interface CreatedOperator {
  readonly id: string;
  readonly name: string;
  readonly role: OperatorRole;
  readonly setupCode: string;
  readonly setupExpiresAtMs: number;
}

/** The TOTP key to enroll during set-up. */
export interface TotpEnrollment {
  readonly operatorName: string;
  /** The `otpauth://` URI, for the QR code. */
  readonly uri: string;
  /** The key in base32, for typing into an app that cannot scan. */
  readonly keyBase32: string;
}

/** A signed-in operator, as a console request sees it. */
export interface OperatorPrincipal {
  readonly actor: Actor & { readonly kind: 'operator' };
  readonly name: string;
  readonly sessionId: string;
  readonly sessionCreatedAtMs: number;
}

/** The attempt subject of an operator name. */
function subjectOf(name: string): string {
  return `operator:${name}`;
}

function lockedError(state: AttemptState, nowMs: number): CountersignError {
  return new CountersignError('operator_locked', { details: lockedAnswerDetails(state, nowMs) });
}

function settlementEvents(name: string, settled: Settlement, succeeded: AuditEvent['event']): AuditEvent[] {
  if (settled.verdict === 'succeeded') return [{ event: succeeded, subject: name, detail: {} }];
  if (settled.verdict === 'locked') return [];
  const events: AuditEvent[] = [
    {
      event: 'operator_sign_in_failed',
      subject: name,
      detail: { consecutiveFailures: settled.consecutiveFailures },
    },
  ];
  if (settled.lockedUntilMs !== null) {
    events.push({
      event: 'operator_locked',
      subject: name,
      detail: { lockedUntilMs: settled.lockedUntilMs },
    });
  }
  return events;
}

/** Operators, their set-up, sign-in and sessions. */
export class OperatorService {
  constructor(private readonly deps: OperatorServiceDependencies) {}

  /** Creates an operator who must complete the set-up with the returned code. Admins only. */
  async create(input: { name: string; role: string }, actor: Actor): Promise<CreatedOperator> {
    assertMayAct(actor, 'manage_operator');
    if (!isOperatorName(input.name)) {
      throw new CountersignError('invalid_request', {
        param: 'name',
        message: 'An operator name is 2 to 64 of a-z 0-9 . _ -, starting with a letter.',
      });
    }
    if (!isOperatorRole(input.role)) {
      throw new CountersignError('invalid_request', {
        param: 'role',
        message: 'The role is one of admin, support, viewer.',
      });
    }
    const { database, clock, audit, operatorStore } = this.deps;
    const setupCode = operatorSetupCodePrefix + randomBytes(24).toString('base64url');
    const nowMs = clock.nowMs();
    const operator: OperatorRecord = {
      id: newId(),
      name: input.name,
      role: input.role,
      passwordHash: null,
      totpKeySealed: null,
      totpLastStep: 0,
      setupCodeHash: this.setupCodeHash(input.name, setupCode),
      setupExpiresAtMs: nowMs + limits.operatorSetupTtlMs,
      createdAtMs: nowMs,
      createdBy: actorLabel(actor),
      disabledAtMs: null,
    };
    await database.transaction(async (tx) => {
      if (!(await operatorStore.insertOperator(tx, operator))) throw new CountersignError('operator_exists');
      await audit.appendIn(
        tx,
        [
          {
            event: 'operator_created',
            subject: operator.id,
            detail: { role: operator.role, actor: actorLabel(actor) },
          },
        ],
        nowMs,
      );
    });
    return {
      id: operator.id,
      name: operator.name,
      role: operator.role,
      setupCode,
      setupExpiresAtMs: operator.setupExpiresAtMs ?? nowMs,
    };
  }

  /** Every operator, with its open sessions. */
  async list(actor: Actor): Promise<OperatorSummary[]> {
    assertMayAct(actor, 'read');
    const nowMs = this.deps.clock.nowMs();
    return this.deps.operatorStore.listOperators(
      this.deps.database,
      nowMs,
      limits.operatorSessionIdleMs,
      limits.operatorSessionLifetimeMs,
    );
  }

  /**
   * The TOTP key to enroll, for an operator whose set-up code is right and unused; counted as an attempt.
   * Calling it again with the same code gives the same key, so a reloaded page shows what the app scanned.
   */
  async beginSetup(name: string, setupCode: string): Promise<TotpEnrollment> {
    const operator = await this.checkSetupCode(name, setupCode, async () => true);
    const key = this.pendingTotpKey(operator.id, setupCode);
    const uri = totpUri('Countersign', operator.name, key);
    return { operatorName: operator.name, uri, keyBase32: new URL(uri).searchParams.get('secret') ?? '' };
  }

  /**
   * Completes the set-up: the set-up code must still be right, the TOTP code must come from the enrolled
   * key (proving the app holds it), and the password must be 12 to 128 characters.
   */
  async completeSetup(name: string, setupCode: string, password: string, totpCode: string): Promise<void> {
    if (
      password.length < limits.operatorPasswordLengthMin ||
      password.length > limits.operatorPasswordLengthMax
    ) {
      throw new CountersignError('invalid_request', {
        param: 'password',
        message: `The password is ${limits.operatorPasswordLengthMin} to ${limits.operatorPasswordLengthMax} characters.`,
      });
    }
    const { passwords, secrets, clock, operatorStore } = this.deps;
    const passwordHash = await passwords.hashPassword(password);
    let step: number | undefined;
    await this.checkSetupCode(
      name,
      setupCode,
      async (operator) => {
        step = await matchTotp(this.pendingTotpKey(operator.id, setupCode), totpCode, clock.nowMs(), 0);
        return step !== undefined;
      },
      async (tx, operator) => {
        if (step === undefined) return false;
        const key = this.pendingTotpKey(operator.id, setupCode);
        const sealed = secrets.box.seal(Buffer.from(key), operatorTotpKeyLabel(operator.id));
        await operatorStore.completeSetup(tx, operator.id, passwordHash, sealed, step);
        return true;
      },
    );
  }

  /** Signs in with name, password and TOTP code; returns the session token for the cookie (shown once). */
  async signIn(name: string, password: string, totpCode: string): Promise<string> {
    const { database, clock, secrets, passwords, operatorStore, audit } = this.deps;
    let operator: OperatorRecord | undefined;
    let step: number | undefined;
    await checkUnderAttemptLimit(this.deps, {
      subject: subjectOf(isOperatorName(name) ? name : '~'),
      evaluate: async () => {
        operator = isOperatorName(name)
          ? await operatorStore.selectOperatorByName(database, name, false)
          : undefined;
        const usable =
          operator?.passwordHash != null && operator.disabledAtMs === null ? operator : undefined;
        // The hash runs whether or not the operator exists: an unknown name costs what a wrong password costs.
        const passwordRight = await passwords.verifyPasswordOrDummy(
          usable?.passwordHash ?? undefined,
          password,
        );
        if (usable?.totpKeySealed == null) return false;
        const key = secrets.box.open(usable.totpKeySealed, operatorTotpKeyLabel(usable.id));
        step = await matchTotp(key, totpCode, clock.nowMs(), usable.totpLastStep);
        return passwordRight && step !== undefined;
      },
      confirmIn: async (tx) =>
        operator !== undefined && step !== undefined && operatorStore.acceptTotpStep(tx, operator.id, step),
      events: (settled) => settlementEvents(name, settled, 'operator_signed_in'),
      locked: lockedError,
      failed: () => new CountersignError('operator_sign_in_failed'),
    });
    if (operator === undefined) throw new Error('invariant: a sign-in succeeded without an operator');
    const signedIn = operator;
    const token = operatorSessionTokenPrefix + randomBytes(32).toString('base64url');
    const nowMs = clock.nowMs();
    await database.transaction(async (tx) => {
      await operatorStore.insertSession(tx, this.tokenHash(token), newId(), signedIn.id, nowMs);
      await audit.appendIn(
        tx,
        [{ event: 'operator_session_created', subject: signedIn.id, detail: {} }],
        nowMs,
      );
    });
    return token;
  }

  /** The operator of a live session token, extending its idle window; `authentication_required` if none. */
  async authenticate(token: string | undefined): Promise<OperatorPrincipal> {
    if (
      token === undefined ||
      !token.startsWith(operatorSessionTokenPrefix) ||
      token.length > limits.sessionTokenLengthMax
    ) {
      throw new CountersignError('authentication_required');
    }
    const session = await this.deps.operatorStore.touchSession(
      this.deps.database,
      this.tokenHash(token),
      this.deps.clock.nowMs(),
      limits.operatorSessionIdleMs,
      limits.operatorSessionLifetimeMs,
    );
    if (session === undefined) throw new CountersignError('authentication_required');
    return {
      actor: { kind: 'operator', id: session.operatorId, role: session.role },
      name: session.name,
      sessionId: session.sessionId,
      sessionCreatedAtMs: session.createdAtMs,
    };
  }

  /** Seconds until a session ends if nothing happens from now on. */
  secondsLeft(principal: OperatorPrincipal): number {
    const nowMs = this.deps.clock.nowMs();
    const endMs = Math.min(
      nowMs + limits.operatorSessionIdleMs,
      principal.sessionCreatedAtMs + limits.operatorSessionLifetimeMs,
    );
    return Math.max(0, Math.floor((endMs - nowMs) / 1000));
  }

  /** Ends the session of `token` (sign out); does nothing for an unknown or ended one. */
  async signOut(token: string | undefined): Promise<void> {
    if (
      token === undefined ||
      !token.startsWith(operatorSessionTokenPrefix) ||
      token.length > limits.sessionTokenLengthMax
    )
      return;
    const { database, clock, operatorStore } = this.deps;
    await operatorStore.endSession(database, this.tokenHash(token), clock.nowMs(), 'signed_out');
  }

  /** Ends every open session of the operator `name`. Admins only; returns the number ended. */
  async endSessions(name: string, actor: Actor): Promise<number> {
    assertMayAct(actor, 'manage_operator');
    const { database, clock, audit, operatorStore } = this.deps;
    return database.transaction(async (tx) => {
      const operator = isOperatorName(name)
        ? await operatorStore.selectOperatorByName(tx, name, true)
        : undefined;
      if (operator === undefined) throw new CountersignError('operator_not_found');
      const nowMs = clock.nowMs();
      const ended = await operatorStore.endSessionsOf(
        tx,
        operator.id,
        nowMs,
        'ended_by_admin',
        limits.operatorSessionIdleMs,
        limits.operatorSessionLifetimeMs,
      );
      await audit.appendIn(
        tx,
        [
          {
            event: 'operator_sessions_ended',
            subject: operator.id,
            detail: { count: ended, actor: actorLabel(actor) },
          },
        ],
        nowMs,
      );
      return ended;
    });
  }

  /**
   * Checks a set-up code under the attempt limits of the operator's name; `confirmIn` may refuse after all
   * and does the set-up's writes in the settling transaction.
   */
  private async checkSetupCode(
    name: string,
    setupCode: string,
    evaluate: (operator: OperatorRecord) => Promise<boolean>,
    confirmIn?: (tx: SqlExecutor, operator: OperatorRecord) => Promise<boolean>,
  ): Promise<OperatorRecord> {
    const { database, clock, secrets, operatorStore } = this.deps;
    let found: OperatorRecord | undefined;
    await checkUnderAttemptLimit(this.deps, {
      subject: subjectOf(isOperatorName(name) ? name : '~'),
      evaluate: async () => {
        const operator = isOperatorName(name)
          ? await operatorStore.selectOperatorByName(database, name, false)
          : undefined;
        const expected = operator?.setupCodeHash ?? this.setupCodeHash('~', '~');
        const codeRight = secrets.constantTimeEqualHex(this.setupCodeHash(name, setupCode), expected);
        const usable =
          operator !== undefined &&
          operator.setupCodeHash !== null &&
          operator.disabledAtMs === null &&
          (operator.setupExpiresAtMs ?? 0) > clock.nowMs();
        if (!codeRight || !usable) return false;
        found = operator;
        return evaluate(operator);
      },
      confirmIn: async (tx) => {
        if (found === undefined) return false;
        // Under the row's lock: a set-up completed meanwhile by another request consumed the code.
        const current = await operatorStore.selectOperatorByName(tx, found.name, true);
        if (current?.setupCodeHash !== found.setupCodeHash) return false;
        return confirmIn === undefined ? true : confirmIn(tx, found);
      },
      events: (settled) =>
        settled.verdict === 'succeeded' && confirmIn === undefined
          ? []
          : settlementEvents(name, settled, 'operator_set_up'),
      locked: lockedError,
      failed: () => new CountersignError('operator_sign_in_failed'),
    });
    if (found === undefined) throw new Error('invariant: a set-up code was accepted without an operator');
    return found;
  }

  private setupCodeHash(name: string, setupCode: string): string {
    return this.deps.secrets.keyedHash('operator_setup_code', name, setupCode);
  }

  /** The TOTP key offered during set-up: derived from the set-up code, so nothing is stored before it ends. */
  private pendingTotpKey(operatorId: string, setupCode: string): Uint8Array {
    const hex = this.deps.secrets.keyedHash('operator_totp_key', operatorId, setupCode);
    return Uint8Array.from(Buffer.from(hex, 'hex').subarray(0, totpParameters.keyBytes));
  }

  private tokenHash(token: string): string {
    return this.deps.secrets.keyedHash('operator_session_token', token);
  }
}
