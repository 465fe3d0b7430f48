/**
 * How terminals, enrollments, challenges and deliveries look in the API: request schemas and the mapping
 * from service results to JSON (times as ISO 8601, amounts as integer minor units).
 */

import { Type } from '@sinclair/typebox';
import { limits } from '../../domain/limits.js';
import { amountToJson } from '../../domain/money.js';
import type { SecondTerminalMessage } from '../../services/delivery/delivery-message.js';
import type { DeliveryView, DevelopmentOutboxEntry } from '../../services/delivery/delivery-service.js';
import type { DeliveryAttemptRecord } from '../../services/delivery/delivery-store.js';
import type {
  EnrollmentView,
  IssuedEnrollment,
} from '../../services/terminals/terminal-enrollment-service.js';
import type { TerminalView } from '../../services/terminals/terminal-service.js';
import { WebAuthnOptions } from '../contract.js';
import { Amount, displayName, nullable, objectOf, Timestamp } from '../schemas.js';

/** A terminal's label: what the payer calls the device. */
export const TerminalLabel = displayName(limits.terminalLabelLengthMax);

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
    object: 'enrollment' as const,
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
    object: 'enrollment' as const,
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
    object: 'terminal' as const,
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
    object: 'challenge' as const,
    paymentId: challenge.paymentId,
    firstCode: challenge.firstCode,
    amount: amountToJson(challenge.amount),
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
    object: 'delivery' as const,
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
            amount: amountToJson(delivery.message.amount),
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
    object: 'development_message' as const,
    deliveryId: entry.deliveryId,
    payerId: entry.payerId,
    paymentId: entry.paymentId,
    text: entry.text,
    firstCode: entry.firstCode,
    // The outbox keeps the amount as decimal text inside the sealed message, not as a bigint.
    amount: Number(entry.amount),
    currency: entry.currency,
    payeeName: entry.payeeName,
    expiresAt: iso(entry.expiresAtMs),
    createdAt: iso(entry.createdAtMs),
  };
}

/** The schemas of the answers above, field by field; they also serialise the answers. */
const EnrollmentStatus = Type.Union(
  ['open', 'redeemed', 'expired', 'canceled'].map((status) => Type.Literal(status)),
);

/** `issuedEnrollmentJson`. */
export const IssuedEnrollmentJson = Type.Object(
  {
    id: Type.String(),
    object: objectOf('enrollment'),
    payerId: Type.String(),
    terminalId: nullable(Type.String()),
    suite: Type.String(),
    label: nullable(Type.String()),
    status: Type.Literal('open'),
    enrollmentUri: Type.String({ description: 'Holds the key and the secret; shown once' }),
    expiresAt: Timestamp,
    qrCodeSvgUrl: Type.String(),
    qrCodePngUrl: Type.String(),
  },
  { additionalProperties: false },
);

/** `enrollmentJson`. */
export const EnrollmentJson = Type.Object(
  {
    id: Type.String(),
    object: objectOf('enrollment'),
    payerId: Type.String(),
    terminalId: nullable(Type.String()),
    status: EnrollmentStatus,
    label: nullable(Type.String()),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    redeemedAt: nullable(Timestamp),
  },
  { additionalProperties: false },
);

/** `terminalJson`. */
export const TerminalJson = Type.Object(
  {
    id: Type.String(),
    object: objectOf('terminal'),
    kind: Type.Union([Type.Literal('ocra'), Type.Literal('passkey')]),
    payerId: Type.String(),
    label: nullable(Type.String()),
    suite: Type.String(),
    aaguid: nullable(Type.String()),
    status: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
    enrolled: Type.Boolean(),
    createdAt: Timestamp,
    enrolledAt: nullable(Timestamp),
    lastSeenAt: nullable(Timestamp),
    revokedAt: nullable(Timestamp),
  },
  { additionalProperties: false },
);

/** What `POST /v1/terminals/enroll` answers: the terminal the device now is. */
export const EnrolledTerminalJson = Type.Object(
  {
    object: objectOf('enrollment_redemption'),
    terminal: Type.Object(
      {
        id: Type.String(),
        payerId: Type.String(),
        suite: Type.String(),
        label: nullable(Type.String()),
        enrolledAt: Timestamp,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** `challengeJson`. */
export const ChallengeJson = Type.Object(
  {
    id: Type.String(),
    object: objectOf('challenge'),
    paymentId: Type.String(),
    firstCode: Type.String(),
    amount: Amount,
    currency: Type.String(),
    payeeId: Type.String(),
    payeeName: Type.String(),
    expiresAt: Timestamp,
  },
  { additionalProperties: false },
);

const deliveryProperties = {
  id: Type.String(),
  object: objectOf('delivery'),
  payerId: Type.String(),
  paymentId: nullable(Type.String()),
  channel: Type.String(),
  status: Type.Union(['pending', 'delivered', 'failed', 'skipped'].map((status) => Type.Literal(status))),
  attempts: Type.Integer({ minimum: 0 }),
  nextAttemptAt: nullable(Timestamp),
  lastError: nullable(Type.String()),
  createdAt: Timestamp,
  deliveredAt: nullable(Timestamp),
  message: nullable(
    Type.Object(
      { amount: Amount, currency: Type.String(), payeeName: Type.String(), expiresAt: Timestamp },
      { additionalProperties: false },
    ),
  ),
};

/** `deliveryJson`: never the first code. */
export const DeliveryJson = Type.Object(deliveryProperties, { additionalProperties: false });

/** A delivery with every attempt of every channel. */
export const DeliveryWithAttemptsJson = Type.Object(
  {
    ...deliveryProperties,
    attemptLog: Type.Array(
      Type.Object(
        {
          attempt: Type.Integer({ minimum: 1 }),
          channel: Type.String(),
          succeeded: Type.Boolean(),
          error: nullable(Type.String()),
          createdAt: Timestamp,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** `developmentMessageJson`: the first code included. */
export const DevelopmentMessageJson = Type.Object(
  {
    object: objectOf('development_message'),
    deliveryId: Type.String(),
    payerId: Type.String(),
    paymentId: nullable(Type.String()),
    text: Type.String(),
    firstCode: Type.String(),
    amount: Amount,
    currency: Type.String(),
    payeeName: Type.String(),
    expiresAt: Timestamp,
    createdAt: Timestamp,
  },
  { additionalProperties: false },
);

/**
 * The options to approve one payment with a passkey: the challenge (bound to the payment) for the browser
 * to sign, and what the page shows of the payment while it asks (the payee and the amount).
 */
export const PasskeyApprovalOptionsJson = Type.Object(
  {
    object: objectOf('passkey_approval_options'),
    challengeId: Type.String({ format: 'uuid' }),
    options: WebAuthnOptions,
    display: Type.Object(
      { payeeId: Type.String(), payeeName: Type.String(), amount: Type.String(), currency: Type.String() },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
