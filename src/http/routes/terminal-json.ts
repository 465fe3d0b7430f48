/**
 * How terminals, enrollments, challenges and deliveries look in the API: request schemas and the mapping
 * from service results to JSON (times as ISO 8601, amounts as integer minor units).
 */
import type { SecondTerminalMessage } from '../../services/delivery-message.js';
import type { DeliveryView, DevelopmentOutboxEntry } from '../../services/delivery-service.js';
import type { DeliveryAttemptRecord } from '../../services/delivery-store.js';
import type { EnrollmentView, IssuedEnrollment } from '../../services/terminal-enrollment-service.js';
import type { TerminalView } from '../../services/terminal-service.js';
import { displayName } from '../schemas.js';

/** A terminal's label: what the payer calls the device. */
export const TerminalLabel = displayName(64);

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

/** A freshly issued enrollment: the URI (with the key and the secret) is in this answer only. */
export function issuedEnrollmentJson(enrollment: IssuedEnrollment, publicUrl: string) {
  const base = `${publicUrl}/v1/enrollments/${enrollment.id}`;
  return {
    id: enrollment.id,
    payerId: enrollment.payerId,
    terminalId: enrollment.terminalId,
    suite: enrollment.suite,
    label: enrollment.label,
    status: 'open' as const,
    enrollmentUri: enrollment.uri,
    expiresAt: iso(enrollment.expiresAtMs),
    qrCodeSvgUrl: `${base}/qr.svg`,
    qrCodePngUrl: `${base}/qr.png`,
  };
}

/** An enrollment's state. */
export function enrollmentJson(enrollment: EnrollmentView) {
  return {
    id: enrollment.id,
    payerId: enrollment.payerId,
    terminalId: enrollment.terminalId,
    status: enrollment.status,
    label: enrollment.label,
    createdAt: iso(enrollment.createdAtMs),
    expiresAt: iso(enrollment.expiresAtMs),
    redeemedAt: isoOrNull(enrollment.redeemedAtMs),
  };
}

/** A terminal. */
export function terminalJson(terminal: TerminalView) {
  return {
    id: terminal.id,
    kind: terminal.kind,
    payerId: terminal.payerId,
    label: terminal.label,
    suite: terminal.suite,
    aaguid: terminal.aaguid,
    status: terminal.status,
    enrolled: terminal.enrolled,
    createdAt: iso(terminal.createdAtMs),
    enrolledAt: isoOrNull(terminal.enrolledAtMs),
    lastSeenAt: isoOrNull(terminal.lastSeenAtMs),
    revokedAt: isoOrNull(terminal.revokedAtMs),
  };
}

/** A challenge as a terminal receives it: the first code with what it approves. */
export function challengeJson(challenge: SecondTerminalMessage) {
  return {
    id: challenge.deliveryId,
    paymentId: challenge.paymentId,
    firstCode: challenge.firstCode,
    amount: Number(challenge.amount),
    currency: challenge.currency,
    payeeId: challenge.payeeId,
    payeeName: challenge.payeeName,
    expiresAt: iso(challenge.expiresAtMs),
  };
}

/** A delivery as the operator sees it: never the first code. */
export function deliveryJson(delivery: DeliveryView) {
  return {
    id: delivery.id,
    payerId: delivery.payerId,
    paymentId: delivery.paymentId,
    channel: delivery.channel,
    status: delivery.status,
    attempts: delivery.attempts,
    nextAttemptAt: isoOrNull(delivery.nextAttemptAtMs),
    lastError: delivery.lastError,
    createdAt: iso(delivery.createdAtMs),
    deliveredAt: isoOrNull(delivery.deliveredAtMs),
    message:
      delivery.message === null
        ? null
        : {
            amount: Number(delivery.message.amount),
            currency: delivery.message.currency,
            payeeName: delivery.message.payeeName,
            expiresAt: iso(delivery.message.expiresAtMs),
          },
  };
}

/** One attempt of one channel. */
export function deliveryAttemptJson(attempt: DeliveryAttemptRecord) {
  return {
    attempt: attempt.attempt,
    channel: attempt.channel,
    succeeded: attempt.succeeded,
    error: attempt.error,
    createdAt: iso(attempt.createdAtMs),
  };
}

/** A development-outbox message (first code included: the development outbox exists to show it). */
export function developmentMessageJson(entry: DevelopmentOutboxEntry) {
  return {
    deliveryId: entry.deliveryId,
    payerId: entry.payerId,
    paymentId: entry.paymentId,
    text: entry.text,
    firstCode: entry.firstCode,
    amount: Number(entry.amount),
    currency: entry.currency,
    payeeName: entry.payeeName,
    expiresAt: iso(entry.expiresAtMs),
    createdAt: iso(entry.createdAtMs),
  };
}
