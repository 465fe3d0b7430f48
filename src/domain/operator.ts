/**
 * Operators: the named people who run the platform from the console, each with one role, and the actor
 * every operator action is recorded under in the audit log.
 *
 * Roles, each including the one before: a `viewer` reads; `support` also unlocks and blocks payers, revokes
 * terminals, replays deliveries and exports the books; an `admin` also creates payers, payees, merchants and operators and
 * books deposits. The bootstrap operator token (`OPERATOR_TOKEN`, for automation over the API) and the CLI,
 * which runs with the data directory's keys in hand, act with an admin's rights.
 */
import { CountersignError } from './errors.js';
import { limits } from './limits.js';

/** The roles, weakest first. */
export const operatorRoles = Object.freeze(['viewer', 'support', 'admin'] as const);

/** An operator's role. */
export type OperatorRole = (typeof operatorRoles)[number];

/** What an operator may be allowed to do; each action names the weakest role that may. */
export const operatorActions = Object.freeze({
  read: 'viewer',
  unlock_payer: 'support',
  block_payer: 'support',
  revoke_terminal: 'support',
  replay_delivery: 'support',
  export_books: 'support',
  create_party: 'admin',
  deposit: 'admin',
  manage_merchant: 'admin',
  manage_operator: 'admin',
  take_backup: 'admin',
} as const satisfies Record<string, OperatorRole>);

/** An action an operator may be allowed. */
export type OperatorAction = keyof typeof operatorActions;

/** Whether a `role` may take `action`. */
export function mayAct(role: OperatorRole, action: OperatorAction): boolean {
  return operatorRoles.indexOf(role) >= operatorRoles.indexOf(operatorActions[action]);
}

/** Whether a string names a role. */
export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (operatorRoles as readonly string[]).includes(value);
}

/**
 * An operator's name: 2 to 64 of lower-case letters, digits, `.`, `_` and `-`, starting with a letter. Lower
 * case only, so that `Ada` and `ada` can never be two accounts; it appears in the audit log and the console.
 */
export const operatorNamePattern = new RegExp(`^[a-z][a-z0-9._-]{1,${limits.operatorNameLengthMax - 1}}$`);

/** Whether a string is an operator name. */
export function isOperatorName(value: unknown): value is string {
  return typeof value === 'string' && operatorNamePattern.test(value);
}

/**
 * Who took an operator action: a named operator (by id, which never changes), the bootstrap operator token,
 * or the CLI run on the platform's machine.
 */
export type Actor =
  | { readonly kind: 'operator'; readonly id: string; readonly role: OperatorRole }
  | { readonly kind: 'token' }
  | { readonly kind: 'cli' };

/** The bootstrap token's actor. */
export const tokenActor: Actor = Object.freeze({ kind: 'token' });

/** The CLI's actor. */
export const cliActor: Actor = Object.freeze({ kind: 'cli' });

/** The role an actor acts with. */
export function actorRole(actor: Actor): OperatorRole {
  return actor.kind === 'operator' ? actor.role : 'admin';
}

/** Throws `forbidden` unless `actor` may take `action`. */
export function assertMayAct(actor: Actor, action: OperatorAction): void {
  if (!mayAct(actorRole(actor), action)) throw new CountersignError('forbidden');
}

/** How the audit log names an actor: `operator:<id>`, `token` or `cli`. */
export function actorLabel(actor: Actor): string {
  return actor.kind === 'operator' ? `operator:${actor.id}` : actor.kind;
}

declare module './audit.js' {
  interface AuditEventRegistry {
    /** An operator account was created (subject: its id; detail: role and the creating actor). */
    operator_created: true;
    /** An operator completed the set-up: chose a password and enrolled a TOTP key. */
    operator_set_up: true;
    /** An operator signed in (subject: the name typed). */
    operator_signed_in: true;
    /** A sign-in or set-up attempt failed (subject: the name typed, which may not exist). */
    operator_sign_in_failed: true;
    /** An operator name was locked after too many failed attempts. */
    operator_locked: true;
    /** A console session was opened (subject: the operator's id). */
    operator_session_created: true;
    /** An admin ended an operator's sessions. */
    operator_sessions_ended: true;
    /** A backup of the embedded database was taken (detail: its size, schema and the actor). */
    backup_created: true;
  }
}
