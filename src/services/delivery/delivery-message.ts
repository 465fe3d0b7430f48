/**
 * The message a second terminal receives for a payment — the first code together with what it approves
 * (amount, currency, payee, expiry) — as the payment service seals it into the outbox, and the one-line
 * text an SMS or the development outbox shows.
 */
import { limits } from '../../domain/limits.js';
import { formatMoney } from '../../domain/money.js';
import { deliveryPayloadLabel } from '../../domain/sealed-labels.js';
import type { MethodSecrets } from '../keys/secrets.js';

/** A challenge for the payer's second terminals. */
export interface SecondTerminalMessage {
  readonly deliveryId: string;
  readonly payerId: string;
  readonly paymentId: string;
  readonly firstCode: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly payeeId: string;
  readonly payeeName: string;
  readonly expiresAtMs: number;
}

function field(payload: Record<string, unknown>, name: string, pattern?: RegExp): string {
  const value = payload[name];
  if (typeof value !== 'string' || (pattern !== undefined && !pattern.test(value))) {
    throw new Error(`invariant: delivery payload field ${name} is malformed`);
  }
  return value;
}

/**
 * Opens and checks a `second_terminal` outbox payload. A payload that does not open or does not have the
 * written shape is a broken invariant (the platform wrote it), so this throws a plain Error.
 */
export function openSecondTerminalMessage(
  secrets: MethodSecrets,
  delivery: { readonly id: string; readonly payerId: string; readonly payloadSealed: string },
): SecondTerminalMessage {
  const text = secrets.box.open(delivery.payloadSealed, deliveryPayloadLabel(delivery.id)).toString('utf8');
  const payload: unknown = JSON.parse(text);
  if (typeof payload !== 'object' || payload === null) throw new Error('invariant: delivery payload');
  const record = payload as Record<string, unknown>;
  const expiresAtMs = record['expiresAtMs'];
  if (typeof expiresAtMs !== 'number' || !Number.isSafeInteger(expiresAtMs)) {
    throw new Error('invariant: delivery payload field expiresAtMs is malformed');
  }
  return {
    deliveryId: delivery.id,
    payerId: delivery.payerId,
    paymentId: field(record, 'paymentId'),
    firstCode: field(record, 'firstCode', /^[0-9]{8}$/),
    amount: BigInt(field(record, 'amount', /^[0-9]{1,19}$/)),
    currency: field(record, 'currency', /^[A-Z]{3}$/),
    payeeId: field(record, 'payeeId'),
    payeeName: field(record, 'payeeName'),
    expiresAtMs,
  };
}

/**
 * The text of an SMS: what is paid, to whom, the first code and until when (UTC, so that it reads the same
 * wherever the gateway is). The payee name is cut so that one message stays within two SMS segments.
 */
export function secondTerminalText(message: SecondTerminalMessage): string {
  const lengthMax = limits.smsPayeeNameLengthMax;
  const payee =
    message.payeeName.length > lengthMax
      ? `${message.payeeName.slice(0, lengthMax - 1)}…`
      : message.payeeName;
  const until = new Date(message.expiresAtMs).toISOString().slice(11, 16);
  return (
    `Countersign: pay ${formatMoney(message.amount, message.currency)} to ${payee}? ` +
    `First code ${message.firstCode}, valid until ${until} UTC. Never give it to anyone who calls you.`
  );
}
