/**
 * Second terminals once enrolled: authenticating their signed requests, listing and revoking them, their
 * open challenges, approving or declining a payment from the terminal, and keeping the event streams of
 * this process in step with the database.
 *
 * Revocation takes effect at once everywhere: approvals compare only second codes of active terminals (the
 * payment store's join), a revoked terminal's signed requests are refused, the push channel offers
 * challenges only to active terminals, and every server's stream poll ends the streams of a terminal
 * revoked on another server.
 */

import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { type Actor, actorLabel, assertMayAct } from '../../domain/operator.js';
import type { Payment } from '../../domain/payment.js';
import type { SqlExecutor } from '../database.js';
import { openSecondTerminalMessage, type SecondTerminalMessage } from '../delivery/delivery-message.js';
import type { PasskeyRecord } from '../passkeys/passkey-store.js';
import type { PaymentService } from '../payments/payment-service.js';
import type { TerminalDependencies } from './terminal-dependencies.js';
import type { TerminalPushHub } from './terminal-push-hub.js';
import {
  assertFresh,
  importTerminalPublicKey,
  nonceExpiry,
  parseSignatureHeaders,
  type SignedTerminalRequest,
  signatureMatches,
} from './terminal-request-verifier.js';
import type { TerminalDetails } from './terminal-store.js';

/** A terminal as its payer and the operator see it: never its key. */
export interface TerminalView {
  readonly id: string;
  /** `ocra`: a device holding an OCRA key; `passkey`: a WebAuthn credential whose signature is the second code. */
  readonly kind: 'ocra' | 'passkey';
  readonly payerId: string;
  readonly label: string | null;
  /** The OCRA suite; `WebAuthn` for a passkey. */
  readonly suite: string;
  /** A passkey's authenticator model (AAGUID; all zeros when the authenticator does not tell); null for OCRA. */
  readonly aaguid: string | null;
  readonly status: 'active' | 'revoked';
  /** True once a device registered its signing key (it can receive pushes and approve). */
  readonly enrolled: boolean;
  readonly createdAtMs: number;
  readonly enrolledAtMs: number | null;
  readonly lastSeenAtMs: number | null;
  readonly revokedAtMs: number | null;
}

/** The terminal a signed request came from. */
export interface AuthenticatedTerminal {
  readonly id: string;
  readonly payerId: string;
  readonly suite: string;
  readonly label: string | null;
}

/** Who revokes a terminal: the operator, its payer, or the terminal itself. */
export type RevokedBy = 'operator' | 'payer' | 'terminal';

/**
 * The audit entry of a revocation, one shape for both kinds of second terminal: who revoked (`by`, and the
 * operator's label when an operator did), and `kind: 'passkey'` for a passkey (an OCRA terminal has none,
 * as in every entry written before passkeys existed).
 */
function revocationEntry(
  payerId: string,
  terminalId: string,
  kind: 'passkey' | undefined,
  by: 'payer' | 'terminal' | Actor,
) {
  return {
    event: 'terminal_revoked' as const,
    subject: payerId,
    detail: {
      terminalId,
      ...(kind === undefined ? {} : { kind }),
      by: typeof by === 'string' ? by : ('operator' as const),
      ...(typeof by === 'string' ? {} : { actor: actorLabel(by) }),
    },
  };
}

/** Maps a terminal row to its public view. */
export function terminalView(terminal: TerminalDetails): TerminalView {
  return {
    id: terminal.id,
    kind: 'ocra',
    payerId: terminal.payerId,
    label: terminal.label,
    suite: terminal.suite,
    aaguid: null,
    status: terminal.status,
    enrolled: terminal.publicKey !== null,
    createdAtMs: terminal.createdAtMs,
    enrolledAtMs: terminal.enrolledAtMs,
    lastSeenAtMs: terminal.lastSeenAtMs,
    revokedAtMs: terminal.revokedAtMs,
  };
}

/** Maps a passkey row to the same view: a passkey is enrolled from the start and seen when it approves. */
export function passkeyTerminalView(passkey: PasskeyRecord): TerminalView {
  return {
    id: passkey.id,
    kind: 'passkey',
    payerId: passkey.payerId,
    label: passkey.label,
    suite: 'WebAuthn',
    aaguid: passkey.aaguid,
    status: passkey.status,
    enrolled: true,
    createdAtMs: passkey.createdAtMs,
    enrolledAtMs: passkey.createdAtMs,
    lastSeenAtMs: passkey.lastUsedAtMs,
    revokedAtMs: passkey.revokedAtMs,
  };
}

/** Use cases of enrolled terminals. */
export class TerminalService {
  constructor(
    private readonly deps: TerminalDependencies,
    private readonly payments: PaymentService,
    private readonly hub: TerminalPushHub,
  ) {}

  /**
   * Authenticates a signed terminal request: headers, terminal, signature, timestamp, revocation, then the
   * nonce (recorded only now, so that a refused request leaves no trace). Throws
   * `terminal_authentication_failed`, `terminal_request_expired`, `terminal_revoked` or
   * `terminal_request_replayed`.
   */
  async authenticate(request: SignedTerminalRequest): Promise<AuthenticatedTerminal> {
    const { database, clock, terminalStore } = this.deps;
    const headers = parseSignatureHeaders(request, true);
    const terminalId = headers.terminalId!;
    const terminal = await terminalStore.selectTerminal(database, terminalId, false);
    const publicKey = terminal?.publicKey == null ? undefined : importTerminalPublicKey(terminal.publicKey);
    if (
      terminal === undefined ||
      publicKey === undefined ||
      !signatureMatches(publicKey, request, terminalId, headers)
    ) {
      throw new CountersignError('terminal_authentication_failed');
    }
    assertFresh(headers, clock.nowMs());
    return database.transaction(async (tx) => {
      // Read again inside the transaction: a revocation committed a moment ago is seen.
      const current = await terminalStore.selectTerminal(tx, terminalId, false);
      if (current?.status !== 'active') throw new CountersignError('terminal_revoked');
      if (!(await terminalStore.insertNonce(tx, terminalId, headers.nonce, nonceExpiry(headers)))) {
        throw new CountersignError('terminal_request_replayed');
      }
      await terminalStore.touchTerminal(tx, terminalId, clock.nowMs());
      return { id: current.id, payerId: current.payerId, suite: current.suite, label: current.label };
    });
  }

  /** One terminal, for the operator or its payer (`terminal_not_found` for anyone else). */
  async get(terminalId: string, payerId?: string): Promise<TerminalView> {
    const terminal = await this.deps.terminalStore.selectTerminal(this.deps.database, terminalId, false);
    if (terminal === undefined || (payerId !== undefined && terminal.payerId !== payerId)) {
      throw new CountersignError('terminal_not_found');
    }
    return terminalView(terminal);
  }

  /**
   * A payer's terminals of both kinds, oldest first, revoked ones included, at most
   * `terminalsPerPayerMax * 10` in all. Throws `payer_not_found`.
   *
   * One list: each kind's rows are read with the same bound and order, mapped to the one view, merged,
   * ordered and bounded once, so that the answer's order and size do not depend on the kinds. (A single
   * UNION query would restate in SQL what `terminalView` and `passkeyTerminalView` say about each kind.)
   */
  async list(payerId: string): Promise<TerminalView[]> {
    const { database, partyStore, terminalStore, passkeyStore } = this.deps;
    if ((await partyStore.selectPayer(database, payerId)) === undefined)
      throw new CountersignError('payer_not_found');
    // Revoked terminals stay listed; the bound keeps the answer small whatever happened before.
    const bound = limits.terminalsPerPayerMax * 10;
    const [ocra, passkeys] = await Promise.all([
      terminalStore.listTerminals(database, payerId, bound),
      passkeyStore.listPasskeys(database, payerId, bound),
    ]);
    return [...ocra.map(terminalView), ...passkeys.map(passkeyTerminalView)]
      .sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id))
      .slice(0, bound);
  }

  /**
   * Revokes a terminal at once (operator, its payer — `payerId` — or the terminal itself). Revoking a
   * revoked terminal answers it unchanged. Its streams in this process end now; others at their next poll.
   */
  async revoke(
    terminalId: string,
    by: 'payer' | 'terminal' | Actor,
    payerId?: string,
  ): Promise<TerminalView> {
    if (typeof by !== 'string') assertMayAct(by, 'revoke_terminal');
    const revokedBy: RevokedBy = typeof by === 'string' ? by : 'operator';
    const { database, clock, terminalStore, audit } = this.deps;
    const revoked = await database.transaction(async (tx) => {
      const terminal = await terminalStore.selectTerminal(tx, terminalId, true);
      if (terminal === undefined) return this.revokePasskeyIn(tx, terminalId, revokedBy, by, payerId);
      if (payerId !== undefined && terminal.payerId !== payerId) {
        throw new CountersignError('terminal_not_found');
      }
      if (terminal.status === 'revoked') return terminalView(terminal);
      const nowMs = clock.nowMs();
      await terminalStore.revokeTerminal(tx, terminalId, nowMs);
      await audit.appendIn(tx, [revocationEntry(terminal.payerId, terminalId, undefined, by)], nowMs);
      return terminalView({ ...terminal, status: 'revoked' as const, revokedAtMs: nowMs });
    });
    this.hub.revokeTerminal(terminalId);
    return revoked;
  }

  /** Revokes a passkey the same way: from then on no assertion of it approves anything. */
  private async revokePasskeyIn(
    tx: SqlExecutor,
    passkeyId: string,
    revokedBy: RevokedBy,
    by: 'payer' | 'terminal' | Actor,
    payerId: string | undefined,
  ): Promise<TerminalView> {
    const { clock, passkeyStore, audit } = this.deps;
    const passkey = await passkeyStore.selectPasskey(tx, passkeyId, true);
    // A passkey signs no terminal request, so it never revokes itself through `/v1/terminal/revoke`.
    if (
      passkey === undefined ||
      revokedBy === 'terminal' ||
      (payerId !== undefined && passkey.payerId !== payerId)
    )
      throw new CountersignError('terminal_not_found');
    if (passkey.status === 'revoked') return passkeyTerminalView(passkey);
    const nowMs = clock.nowMs();
    await passkeyStore.revokePasskey(tx, passkeyId, nowMs);
    await audit.appendIn(tx, [revocationEntry(passkey.payerId, passkeyId, 'passkey', by)], nowMs);
    return passkeyTerminalView({ ...passkey, status: 'revoked', revokedAtMs: nowMs });
  }

  /** The open challenges of a terminal: payments still open that it can approve, oldest first. */
  async challenges(terminal: AuthenticatedTerminal): Promise<SecondTerminalMessage[]> {
    const { database, clock, terminalStore, secrets } = this.deps;
    const rows = await terminalStore.selectOpenChallenges(
      database,
      [terminal.id],
      clock.nowMs(),
      limits.terminalChallengesMax,
    );
    return rows.map((row) =>
      openSecondTerminalMessage(secrets, {
        id: row.deliveryId,
        payerId: terminal.payerId,
        payloadSealed: row.payloadSealed,
      }),
    );
  }

  /**
   * Approves a payment of the terminal's payer with the second code the terminal computed (embodiment 1,
   * the second terminal submits). The payment service applies every attempt limit, as for any approval.
   */
  async approve(terminal: AuthenticatedTerminal, paymentId: string, secondCode: string): Promise<Payment> {
    await this.payments.get(paymentId, terminal.payerId);
    return this.payments.approve(paymentId, { secondCode });
  }

  /** Declines (cancels) an open payment of the terminal's payer, e.g. one the payer does not recognise. */
  async decline(terminal: AuthenticatedTerminal, paymentId: string): Promise<Payment> {
    return this.payments.cancel(paymentId, terminal.payerId);
  }

  /**
   * One pass over the streams of this process: ends those of terminals no longer active, sends open
   * challenges they were not sent yet (created on another server, or before they connected), and tells
   * them which payments closed. Returns how many events were sent.
   */
  async refreshStreams(): Promise<number> {
    const { database, clock, terminalStore, secrets } = this.deps;
    const connected = this.hub.connectedTerminalIds();
    if (connected.length === 0) return 0;
    const statuses = await terminalStore.selectTerminalStatuses(database, connected);
    const active = connected.filter((id) => statuses.get(id) === 'active');
    for (const id of connected) if (statuses.get(id) !== 'active') this.hub.revokeTerminal(id);
    const rows = await terminalStore.selectOpenChallenges(
      database,
      active,
      clock.nowMs(),
      limits.terminalChallengesMax * Math.max(1, active.length),
    );
    let sent = 0;
    const open = new Map<string, Set<string>>(active.map((id) => [id, new Set()]));
    for (const row of rows) {
      open.get(row.terminalId)?.add(row.paymentId);
      const message = openSecondTerminalMessage(secrets, {
        id: row.deliveryId,
        payerId: row.payerId,
        payloadSealed: row.payloadSealed,
      });
      sent += this.hub.publish(row.terminalId, message);
    }
    for (const [terminalId, paymentIds] of open) sent += this.hub.closePaymentsExcept(terminalId, paymentIds);
    return sent;
  }

  /** Deletes nonces whose requests would be refused as stale anyway; returns how many. */
  purgeNonces(limit: number = limits.terminalPurgeBatchSizeMax): Promise<number> {
    const { database, clock, terminalStore } = this.deps;
    return database.transaction((tx) => terminalStore.purgeNonces(tx, clock.nowMs(), limit));
  }
}
