/**
 * The SMS-gateway adapter: POSTs each second-terminal message as signed JSON to a configured URL, so that
 * any SMS provider can be plugged in behind a small gateway of the operator's (docs/terminal.md, "SMS
 * gateway"). The signature header follows the same convention as merchant webhooks:
 *
 *     Countersign-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * and `Idempotency-Key` carries the delivery id, so that the gateway can drop the duplicate of a retry.
 */
import { createHmac } from 'node:crypto';
import type { Clock } from '../../domain/clock.js';
import { limits } from '../../domain/limits.js';
import { amountToJson } from '../../domain/money.js';
import { type DeliveryChannel, DeliveryChannelError } from './delivery-channel.js';
import { type SecondTerminalMessage, secondTerminalText } from './delivery-message.js';

/** Where and how to reach the gateway. */
export interface SmsGatewayOptions {
  readonly url: string;
  readonly secret: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
  /** The fetch implementation; the global one unless a test passes another. */
  readonly fetch?: typeof fetch;
}

/** The body the gateway receives. */
export interface SmsGatewayMessage {
  readonly id: string;
  readonly object: 'event';
  readonly type: 'second_terminal.challenge';
  /** ISO 8601 in UTC, like every time the platform sends; the signature header keeps Unix seconds. */
  readonly createdAt: string;
  /** The payer id; the gateway maps it to a phone number (or it is one). */
  readonly recipient: { readonly payerId: string };
  readonly text: string;
  readonly firstCode: string;
  readonly payment: {
    readonly id: string;
    readonly amount: number;
    readonly currency: string;
    readonly payeeName: string;
    readonly expiresAt: string;
  };
}

/** Computes the signature header of a body, at `timestampSeconds`. */
export function smsGatewaySignature(secret: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/** The SMS channel. */
export class SmsGatewayChannel implements DeliveryChannel {
  readonly name = 'sms';
  private readonly fetch: typeof fetch;

  constructor(private readonly options: SmsGatewayOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async deliver(message: SecondTerminalMessage): Promise<void> {
    const timestampSeconds = Math.floor(this.options.clock.nowMs() / 1000);
    const body: SmsGatewayMessage = {
      id: message.deliveryId,
      object: 'event',
      type: 'second_terminal.challenge',
      createdAt: new Date(timestampSeconds * 1000).toISOString(),
      recipient: { payerId: message.payerId },
      text: secondTerminalText(message),
      firstCode: message.firstCode,
      payment: {
        id: message.paymentId,
        amount: amountToJson(message.amount),
        currency: message.currency,
        payeeName: message.payeeName,
        expiresAt: new Date(message.expiresAtMs).toISOString(),
      },
    };
    const text = JSON.stringify(body);
    let response: Response;
    try {
      response = await this.fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'countersign-signature': smsGatewaySignature(this.options.secret, timestampSeconds, text),
          'idempotency-key': message.deliveryId,
          'user-agent': 'Countersign-Delivery/1',
        },
        body: text,
        // A redirect could carry the first code to another host: the gateway must answer where configured.
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? limits.deliveryChannelTimeoutMs),
      });
    } catch (error) {
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? 'did not answer in time'
          : 'could not be reached';
      throw new DeliveryChannelError(`the SMS gateway ${reason}`, { cause: error });
    }
    // The answer is not read beyond its status; draining it frees the connection.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new DeliveryChannelError(`the SMS gateway answered HTTP ${response.status}`);
  }
}
