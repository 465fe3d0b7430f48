/**
 * The one interface every delivery channel implements, and the channels that live inside the platform:
 * push to connected terminals, and the development outbox. The SMS gateway is in `delivery-sms-channel`.
 *
 * A delivery row names a destination (`second_terminal`); the router gives the channels configured for it,
 * and the outbox sends the message through each until every one has accepted it.
 */
import type { Clock } from '../../domain/clock.js';
import { developmentMessageLabel } from '../../domain/sealed-labels.js';
import type { Database } from '../database.js';
import type { MethodSecrets } from '../keys/secrets.js';
import type { TerminalPushHub } from '../terminals/terminal-push-hub.js';
import type { TerminalStore } from '../terminals/terminal-store.js';
import { type SecondTerminalMessage, secondTerminalText } from './delivery-message.js';
import type { DeliveryStore } from './delivery-store.js';

/**
 * A channel could not take a message now; it will be retried. The message is stored with the attempt and
 * shown to the operator, so it must never contain the first code or any other secret.
 */
export class DeliveryChannelError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeliveryChannelError';
  }
}

/** One way of getting a message to the payer. */
export interface DeliveryChannel {
  /** A stable name, recorded with every attempt: `push`, `sms`, `development_outbox`. */
  readonly name: string;
  /** Hands the message over; resolves once the channel accepted it, throws DeliveryChannelError if not. */
  deliver(message: SecondTerminalMessage): Promise<void>;
}

/** The channels of each destination. */
export interface DeliveryRouter {
  channelsFor(destination: string): readonly DeliveryChannel[];
}

/** A router with a fixed list of channels for second terminals, and none for any other destination. */
export function secondTerminalRouter(channels: readonly DeliveryChannel[]): DeliveryRouter {
  const frozen = Object.freeze([...channels]);
  return { channelsFor: (destination) => (destination === 'second_terminal' ? frozen : []) };
}

/**
 * Push to the payer's terminals connected to this process. The outbox row stays the truth: terminals
 * connected to another server get the challenge from that server's stream poll, and a terminal that is
 * offline fetches it when it connects. So the push channel accepts a message once it was offered to every
 * local stream, whether or not any was open.
 */
export class PushChannel implements DeliveryChannel {
  readonly name = 'push';

  constructor(
    private readonly database: Database,
    private readonly terminalStore: TerminalStore,
    private readonly hub: TerminalPushHub,
  ) {}

  async deliver(message: SecondTerminalMessage): Promise<void> {
    // Only active terminals that hold a second code for this payment: a revoked terminal gets nothing.
    const terminals = await this.terminalStore.selectApprovingTerminals(this.database, message.paymentId);
    for (const terminalId of terminals) this.hub.publish(terminalId, message);
  }
}

/** A message as the development outbox keeps it. */
export interface DevelopmentMessage {
  readonly text: string;
  readonly firstCode: string;
  readonly paymentId: string;
  readonly amount: string;
  readonly currency: string;
  readonly payeeName: string;
  readonly expiresAtMs: number;
}

/**
 * The development outbox (DEVELOPMENT_OUTBOX=true): keeps every message, sealed, for the operator to read
 * with its first code, so that a payment can be approved on a development platform without a phone.
 */
export class DevelopmentOutboxChannel implements DeliveryChannel {
  readonly name = 'development_outbox';

  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly secrets: MethodSecrets,
    private readonly deliveryStore: DeliveryStore,
  ) {}

  async deliver(message: SecondTerminalMessage): Promise<void> {
    const kept: DevelopmentMessage = {
      text: secondTerminalText(message),
      firstCode: message.firstCode,
      paymentId: message.paymentId,
      amount: message.amount.toString(),
      currency: message.currency,
      payeeName: message.payeeName,
      expiresAtMs: message.expiresAtMs,
    };
    await this.deliveryStore.insertDevelopmentMessage(this.database, {
      deliveryId: message.deliveryId,
      payerId: message.payerId,
      messageSealed: this.secrets.box.seal(JSON.stringify(kept), developmentMessageLabel(message.deliveryId)),
      createdAtMs: this.clock.nowMs(),
    });
  }
}
