/**
 * Enrollments: how a device becomes a payer's second terminal.
 *
 * The platform issues an enrollment — when a payer is created (for the terminal created with it) and on
 * request (for a new terminal) — as a URI carrying the OCRA key, the suite, the payer, the platform and a
 * one-time secret, valid for ten minutes. The device redeems it once: it proves it holds the URI (the
 * secret), registers the P-256 public key it generated (signing the request with the matching private
 * key), and confirms the verification code by answering an OCRA question derived from the enrollment id.
 * After that the OCRA key never travels again: the platform wipes every copy but the terminal's sealed one.
 */
import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import { reserveAttempt, type Settlement, settleAttempt } from '../../domain/attempts.js';
import { enrollmentKeyId } from '../../domain/enrollment-credential.js';
import { enrollmentConfirmationQuestion, formatEnrollmentUri } from '../../domain/enrollment-uri.js';
import { CountersignError } from '../../domain/errors.js';
import { bytesToHex } from '../../domain/hex.js';
import { limits } from '../../domain/limits.js';
import { computeOcra } from '../../domain/ocra.js';
import { type Actor, actorLabel, assertMayAct } from '../../domain/operator.js';
import { isPartyId } from '../../domain/payer.js';
import {
  enrollmentKeyLabel,
  enrollmentUriLabel,
  terminalKeyLabel,
  verificationCodeLabel,
} from '../../domain/sealed-labels.js';
import { checkTerminalSuite } from '../../domain/terminal-suite.js';
import type { SqlExecutor } from '../database.js';
import { newId } from '../ids.js';
import type { AuditEvent } from '../method-dependencies.js';
import { lockedError } from '../parties/authentication-service.js';
import { nodeOcraPrimitives } from '../payments/ocra-primitives.js';
import type { TerminalDependencies } from './terminal-dependencies.js';
import {
  assertFresh,
  importTerminalPublicKey,
  nonceExpiry,
  parseSignatureHeaders,
  type SignedTerminalRequest,
  signatureMatches,
} from './terminal-request-verifier.js';
import type { EnrollmentRecord, EnrollmentStatus } from './terminal-store.js';

/** An issued enrollment; `uri` holds the key and the secret and is shown to its requester only. */
export interface IssuedEnrollment {
  readonly id: string;
  readonly payerId: string;
  readonly terminalId: string | null;
  readonly suite: string;
  readonly label: string | null;
  readonly uri: string;
  readonly expiresAtMs: number;
}

/** An enrollment as its payer or the operator may see it later (never the URI). */
export interface EnrollmentView {
  readonly id: string;
  readonly payerId: string;
  readonly terminalId: string | null;
  readonly status: EnrollmentStatus;
  readonly label: string | null;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly redeemedAtMs: number | null;
}

/** What a device sends to redeem an enrollment. */
export interface EnrollmentRedemption {
  readonly request: SignedTerminalRequest;
  readonly enrollmentId: string;
  readonly secret: string;
  /** SubjectPublicKeyInfo of the device's P-256 key, base64url. */
  readonly publicKey: string;
  /** OCRA(key, enrollmentConfirmationQuestion(enrollmentId), verification code). */
  readonly confirmationCode: string;
  readonly label?: string | undefined;
}

/** The terminal an enrollment created or completed. */
export interface EnrolledTerminal {
  readonly id: string;
  readonly payerId: string;
  readonly suite: string;
  readonly label: string | null;
  readonly enrolledAtMs: number;
}

/** Who asks: the operator (no payer) or a payer's session (only their own enrollments). */
export interface Viewer {
  readonly payerId?: string;
}

function invalid(param: string, message: string): CountersignError {
  return new CountersignError('invalid_request', { param, message });
}

/** A label as stored: trimmed, or null when empty; throws `invalid_request` when too long or not printable. */
export function normalizedLabel(label: string | undefined): string | null {
  if (label === undefined) return null;
  const trimmed = label.trim();
  if (trimmed === '') return null;
  if (trimmed.length > limits.terminalLabelLengthMax || /[\p{Cc}\p{Cf}]/u.test(trimmed)) {
    throw invalid('label', `label must be 1–${limits.terminalLabelLengthMax} printable characters`);
  }
  return trimmed;
}

function notRedeemable(status: EnrollmentStatus): CountersignError {
  return new CountersignError('enrollment_not_redeemable', { details: { status } });
}

/** The status an enrollment has now: an open one past its expiry is expired even before the sweeper ran. */
function currentStatus(enrollment: EnrollmentRecord, nowMs: number): EnrollmentStatus {
  return enrollment.status === 'open' && nowMs >= enrollment.expiresAtMs ? 'expired' : enrollment.status;
}

/** Use cases of enrollments. */
export class EnrollmentService {
  constructor(private readonly deps: TerminalDependencies) {}

  /**
   * Issues an enrollment inside the caller's transaction. With `terminalId` it binds a device to that
   * existing terminal (whose key is `key`); without, redeeming it creates a new terminal with `key`.
   */
  async issueIn(
    tx: SqlExecutor,
    request: {
      readonly payerId: string;
      readonly terminalId: string | null;
      readonly suite: string;
      readonly key: Uint8Array;
      readonly label: string | null;
      readonly nowMs: number;
      /** Who asked for it, when not part of a payer's creation (whose audit entry names the actor). */
      readonly by?: string;
    },
  ): Promise<IssuedEnrollment> {
    const { secrets, settings, terminalStore, audit } = this.deps;
    const id = newId();
    const secret = randomBytes(32).toString('base64url');
    // Whole seconds: the URI carries unix seconds, and the platform must not accept a moment the URI denies.
    const expiresAtMs = Math.floor((request.nowMs + limits.enrollmentTtlSeconds * 1000) / 1000) * 1000;
    const uri = formatEnrollmentUri({
      platformUrl: settings.publicUrl,
      payerId: request.payerId,
      enrollmentId: id,
      secret,
      suite: request.suite,
      keyHex: bytesToHex(request.key),
      expiresAtMs,
    });
    await terminalStore.insertEnrollment(tx, {
      id,
      payerId: request.payerId,
      terminalId: request.terminalId,
      suite: request.suite,
      label: request.label,
      secretHash: secrets.keyedHash('enrollment_secret', id, secret),
      keySealed:
        request.terminalId === null
          ? secrets.box.seal(Buffer.from(request.key), enrollmentKeyLabel(id))
          : null,
      uriSealed: secrets.box.seal(uri, enrollmentUriLabel(id)),
      status: 'open',
      failedConfirmations: 0,
      createdAtMs: request.nowMs,
      expiresAtMs,
      redeemedAtMs: null,
    });
    await audit.appendIn(
      tx,
      [
        {
          event: 'enrollment_issued',
          subject: request.payerId,
          detail: {
            enrollmentId: id,
            terminalId: request.terminalId,
            ...(request.by === undefined ? {} : { by: request.by }),
          },
        },
      ],
      request.nowMs,
    );
    return {
      id,
      payerId: request.payerId,
      terminalId: request.terminalId,
      suite: request.suite,
      label: request.label,
      uri,
      expiresAtMs,
    };
  }

  /**
   * Issues an enrollment for a new terminal of `payerId` (operator, or the payer's own session). Throws
   * `payer_not_found`, `invalid_request` for a bad suite or label, and `terminal_limit_reached` when the
   * payer has as many terminals and open enrollments as allowed.
   */
  async issue(request: {
    payerId: string;
    label?: string;
    suite?: string;
    /** The payer themself, or the operator acting for them. */
    by: 'payer' | Actor;
  }): Promise<IssuedEnrollment> {
    if (request.by !== 'payer') assertMayAct(request.by, 'revoke_terminal');
    const { database, clock, settings, terminalStore } = this.deps;
    const suite = request.suite ?? settings.defaultSuite;
    const suiteCheck = checkTerminalSuite(suite);
    if (!suiteCheck.ok)
      throw invalid('suite', `suite is not usable by a second terminal: ${suiteCheck.reason}`);
    const label = normalizedLabel(request.label);
    if (!isPartyId(request.payerId)) throw new CountersignError('payer_not_found');
    return database.transaction(async (tx) => {
      if (!(await terminalStore.lockPayer(tx, request.payerId)))
        throw new CountersignError('payer_not_found');
      const nowMs = clock.nowMs();
      const open = await terminalStore.countOpenEnrollments(tx, request.payerId, nowMs);
      const active = await terminalStore.countActiveTerminals(tx, request.payerId);
      if (open >= limits.openEnrollmentsPerPayerMax || open + active >= limits.terminalsPerPayerMax) {
        throw new CountersignError('terminal_limit_reached');
      }
      return this.issueIn(tx, {
        payerId: request.payerId,
        terminalId: null,
        suite,
        key: randomBytes(32),
        label,
        nowMs,
        by: request.by === 'payer' ? 'payer' : actorLabel(request.by),
      });
    });
  }

  /** An enrollment's state, for the operator or its payer; `enrollment_not_found` for anyone else. */
  async get(enrollmentId: string, viewer: Viewer): Promise<EnrollmentView> {
    const enrollment = await this.visible(enrollmentId, viewer);
    return {
      id: enrollment.id,
      payerId: enrollment.payerId,
      terminalId: enrollment.terminalId,
      status: currentStatus(enrollment, this.deps.clock.nowMs()),
      label: enrollment.label,
      createdAtMs: enrollment.createdAtMs,
      expiresAtMs: enrollment.expiresAtMs,
      redeemedAtMs: enrollment.redeemedAtMs,
    };
  }

  private async visible(enrollmentId: string, viewer: Viewer): Promise<EnrollmentRecord> {
    const enrollment = await this.deps.terminalStore.selectEnrollment(
      this.deps.database,
      enrollmentId,
      false,
    );
    if (enrollment === undefined || (viewer.payerId !== undefined && enrollment.payerId !== viewer.payerId)) {
      throw new CountersignError('enrollment_not_found');
    }
    return enrollment;
  }

  /**
   * The QR code of an open enrollment's URI, as SVG text or PNG bytes. Once the enrollment is redeemed or
   * expired its URI is gone, and the answer is `enrollment_not_redeemable` with the status.
   */
  async qrCode(enrollmentId: string, viewer: Viewer, format: 'svg' | 'png'): Promise<string | Buffer> {
    const enrollment = await this.visible(enrollmentId, viewer);
    const status = currentStatus(enrollment, this.deps.clock.nowMs());
    if (status !== 'open' || enrollment.uriSealed === null) throw notRedeemable(status);
    const uri = this.deps.secrets.box
      .open(enrollment.uriSealed, enrollmentUriLabel(enrollment.id))
      .toString('utf8');
    // Level M survives a scratched or badly lit code; the URI is short enough for it at a readable size.
    const options = { errorCorrectionLevel: 'M' as const, margin: 2 };
    return format === 'svg'
      ? QRCode.toString(uri, { ...options, type: 'svg' })
      : QRCode.toBuffer(uri, { ...options, type: 'png', scale: 6 });
  }

  /**
   * Redeems an enrollment (docs/terminal.md, "Enrollment"). A bad signature, a stale timestamp, an unknown
   * enrollment or a wrong secret change nothing. A wrong confirmation counts against the enrollment (three
   * cancel it) and against the payer's attempt limit, like a wrong code.
   */
  async redeem(redemption: EnrollmentRedemption): Promise<EnrolledTerminal> {
    const { clock, partyStore, settings } = this.deps;
    const headers = parseSignatureHeaders(redemption.request, false);
    const publicKey = importTerminalPublicKey(redemption.publicKey);
    if (publicKey === undefined)
      throw invalid('publicKey', 'publicKey must be the SPKI of a P-256 key, base64url');
    const label = normalizedLabel(redemption.label);
    const keyId = enrollmentKeyId(redemption.enrollmentId);
    if (!signatureMatches(publicKey, redemption.request, keyId, headers)) {
      throw new CountersignError('terminal_authentication_failed');
    }
    assertFresh(headers, clock.nowMs());
    const outcome = await this.deps.database.transaction(async (tx) => {
      const enrollment = await this.openEnrollment(tx, redemption);
      const nowMs = clock.nowMs();
      // The confirmation is an evaluation of the payer's verification code: an attempt is reserved under the
      // payer's attempt row, locked in this transaction, before the code is compared; refused while locked.
      const attempts = await partyStore.lockAttemptStates(tx, [enrollment.payerId]);
      const before = attempts.get(enrollment.payerId);
      if (before === undefined) throw new Error(`invariant: attempt row of ${enrollment.payerId} not locked`);
      const reservation = reserveAttempt(before, nowMs, settings.attemptPolicy);
      if (!reservation.granted) throw lockedError(before, nowMs);
      // The nonce is recorded for a wrong confirmation too, so that a replay cannot count it twice.
      if (!(await this.deps.terminalStore.insertNonce(tx, keyId, headers.nonce, nonceExpiry(headers)))) {
        throw new CountersignError('terminal_request_replayed');
      }
      const key = await this.enrollmentKey(tx, enrollment);
      const confirmed = await this.confirms(tx, enrollment, key, redemption.confirmationCode);
      const settled = settleAttempt(reservation.state, confirmed, nowMs, settings.attemptPolicy);
      await partyStore.saveAttemptState(tx, enrollment.payerId, settled.state, nowMs);
      if (!confirmed) return this.countFailure(tx, enrollment, settled, nowMs);
      const terminal = await this.bindTerminal(tx, enrollment, key, redemption.publicKey, label, nowMs);
      return { ok: true as const, terminal };
    });
    if (!outcome.ok) throw new CountersignError('enrollment_confirmation_failed');
    return outcome.terminal;
  }

  /** The locked enrollment if it exists, the secret matches and it is open; the catalog error otherwise. */
  private async openEnrollment(tx: SqlExecutor, redemption: EnrollmentRedemption): Promise<EnrollmentRecord> {
    const { terminalStore, secrets, clock } = this.deps;
    const enrollment = await terminalStore.selectEnrollment(tx, redemption.enrollmentId, true);
    // The hash is computed even for an unknown id, so that both failures cost the same time.
    const candidate = secrets.keyedHash('enrollment_secret', redemption.enrollmentId, redemption.secret);
    if (enrollment === undefined || !secrets.constantTimeEqualHex(candidate, enrollment.secretHash)) {
      throw new CountersignError('enrollment_invalid');
    }
    const status = currentStatus(enrollment, clock.nowMs());
    if (status !== 'open') throw notRedeemable(status);
    if (!(await terminalStore.lockPayer(tx, enrollment.payerId))) {
      throw new Error(`invariant: payer of enrollment ${enrollment.id} does not exist`);
    }
    return enrollment;
  }

  /** The OCRA key the enrollment hands out: its own sealed copy, or its existing terminal's. */
  private async enrollmentKey(tx: SqlExecutor, enrollment: EnrollmentRecord): Promise<Uint8Array> {
    const { secrets, terminalStore } = this.deps;
    if (enrollment.terminalId === null) {
      if (enrollment.keySealed === null)
        throw new Error(`invariant: open enrollment ${enrollment.id} has no key`);
      return new Uint8Array(secrets.box.open(enrollment.keySealed, enrollmentKeyLabel(enrollment.id)));
    }
    const terminal = await terminalStore.selectTerminal(tx, enrollment.terminalId, false);
    if (terminal === undefined)
      throw new Error(`invariant: terminal of enrollment ${enrollment.id} is missing`);
    return new Uint8Array(secrets.box.open(terminal.keySealed, terminalKeyLabel(terminal.id)));
  }

  /** True when the confirmation is the OCRA answer to the enrollment's question under the payer's code. */
  private async confirms(
    tx: SqlExecutor,
    enrollment: EnrollmentRecord,
    key: Uint8Array,
    confirmationCode: string,
  ): Promise<boolean> {
    const { partyStore, secrets } = this.deps;
    const payer = await partyStore.selectPayer(tx, enrollment.payerId);
    if (payer === undefined) throw new Error(`invariant: payer ${enrollment.payerId} is missing`);
    const pin = secrets.box
      .open(payer.verificationCodeSealed, verificationCodeLabel(payer.id))
      .toString('utf8');
    const expected = await computeOcra(
      {
        suite: enrollment.suite,
        key,
        question: enrollmentConfirmationQuestion(enrollment.id),
        pin,
      },
      nodeOcraPrimitives,
    );
    // Keyed hashes of equal length, compared in constant time.
    return secrets.constantTimeEqualHex(
      secrets.keyedHash('enrollment_confirmation', enrollment.id, confirmationCode),
      secrets.keyedHash('enrollment_confirmation', enrollment.id, expected),
    );
  }

  private async countFailure(
    tx: SqlExecutor,
    enrollment: EnrollmentRecord,
    settled: Settlement,
    nowMs: number,
  ) {
    const failures = enrollment.failedConfirmations + 1;
    const cancel = failures >= limits.enrollmentConfirmationFailuresMax;
    await this.deps.terminalStore.recordEnrollmentFailure(tx, enrollment.id, failures, cancel);
    const events: AuditEvent[] = [
      {
        event: 'enrollment_failed',
        subject: enrollment.payerId,
        detail: {
          enrollmentId: enrollment.id,
          failures,
          canceled: cancel,
          consecutiveFailures: settled.consecutiveFailures,
        },
      },
    ];
    if (settled.lockedUntilMs !== null) {
      events.push({
        event: 'payer_locked',
        subject: enrollment.payerId,
        detail: { lockedUntilMs: settled.lockedUntilMs },
      });
    }
    await this.deps.audit.appendIn(tx, events, nowMs);
    return { ok: false as const, payerId: enrollment.payerId };
  }

  /** Gives the device's key to the enrollment's terminal, creating the terminal when it does not exist yet. */
  private async bindTerminal(
    tx: SqlExecutor,
    enrollment: EnrollmentRecord,
    key: Uint8Array,
    publicKey: string,
    label: string | null,
    nowMs: number,
  ): Promise<EnrolledTerminal> {
    const { terminalStore, secrets, audit } = this.deps;
    const chosenLabel = label ?? enrollment.label;
    let terminalId = enrollment.terminalId;
    if (terminalId === null) {
      if ((await terminalStore.countActiveTerminals(tx, enrollment.payerId)) >= limits.terminalsPerPayerMax) {
        throw new CountersignError('terminal_limit_reached');
      }
      terminalId = newId();
      await terminalStore.insertEnrolledTerminal(tx, {
        id: terminalId,
        payerId: enrollment.payerId,
        suite: enrollment.suite,
        keySealed: secrets.box.seal(Buffer.from(key), terminalKeyLabel(terminalId)),
        label: chosenLabel,
        publicKey,
        nowMs,
      });
    } else if (!(await terminalStore.attachCredential(tx, terminalId, publicKey, chosenLabel, nowMs))) {
      // The terminal was revoked (or, impossibly, enrolled) since the enrollment was issued.
      throw notRedeemable('canceled');
    }
    await terminalStore.markEnrollmentRedeemed(tx, enrollment.id, terminalId, nowMs);
    await audit.appendIn(
      tx,
      [
        {
          event: 'enrollment_redeemed',
          subject: enrollment.payerId,
          detail: { enrollmentId: enrollment.id, terminalId },
        },
      ],
      nowMs,
    );
    return {
      id: terminalId,
      payerId: enrollment.payerId,
      suite: enrollment.suite,
      label: chosenLabel,
      enrolledAtMs: nowMs,
    };
  }

  /** Closes open enrollments past their expiry and wipes their sealed key and URI; returns how many. */
  expireDue(limit: number = limits.terminalPurgeBatchSizeMax): Promise<number> {
    const { database, clock, terminalStore } = this.deps;
    return database.transaction((tx) => terminalStore.expireEnrollments(tx, clock.nowMs(), limit));
  }
}
