/**
 * The shapes the Countersign merchant API answers with. None of them names a payer: a merchant is paid
 * without learning who paid it.
 */

/**
 * Your own key/value strings on a payment request or a refund: at most 20 keys of 1 to 40 characters,
 * values of at most 500 characters. Returned as sent, and in every event about the object.
 */
export type Metadata = { readonly [key: string]: string };

/** A payment request's life: `open`, then exactly one of `paid`, `expired` or `canceled`. */
export type PaymentRequestStatus = 'open' | 'paid' | 'expired' | 'canceled';

/** A payment request. Amounts are integer minor units (cents for EUR). */
export interface PaymentRequest {
  readonly id: string;
  readonly object: 'payment_request';
  readonly status: PaymentRequestStatus;
  readonly amount: number;
  readonly currency: string;
  readonly reference: string;
  readonly description: string | null;
  readonly returnUrl: string | null;
  /** The hosted checkout page where the payer pays. */
  readonly checkoutUrl: string;
  /** The payment that paid the request, once it is paid. */
  readonly paymentId: string | null;
  readonly metadata: Metadata;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly updatedAt: string;
}

/** What a merchant sends to create a payment request. */
export interface PaymentRequestCreateParams {
  readonly amount: number;
  readonly currency: string;
  readonly reference: string;
  readonly description?: string;
  readonly returnUrl?: string;
  /** 60 to 86400; one hour when absent. */
  readonly expiresInSeconds?: number;
  readonly metadata?: Metadata;
}

/** A refund: recorded only once the money has moved back, so always `succeeded`. */
export interface Refund {
  readonly id: string;
  readonly object: 'refund';
  readonly paymentId: string;
  readonly amount: number;
  readonly currency: string;
  readonly status: 'succeeded';
  readonly metadata: Metadata;
  readonly createdAt: string;
}

/** What a merchant sends to refund a payment; without an amount, everything left is refunded. */
export interface RefundCreateParams {
  readonly paymentId: string;
  readonly amount?: number;
  readonly metadata?: Metadata;
}

/** The merchant's balance in one currency. */
export interface Balance {
  readonly object: 'balance';
  readonly currency: string;
  /** What the merchant holds now. */
  readonly available: number;
  /** What payments awaiting approval will bring if approved. */
  readonly incoming: number;
}

/** The types of events a merchant receives. */
export type WebhookEventType =
  | 'payment_request.paid'
  | 'payment_request.expired'
  | 'payment_request.canceled'
  | 'refund.succeeded';

/** An event, as delivered to the webhook and listed by the API. `createdAt` is ISO 8601 in UTC. */
export interface WebhookEvent {
  readonly id: string;
  readonly object: 'event';
  readonly type: WebhookEventType;
  readonly createdAt: string;
  readonly data: { readonly object: PaymentRequest | Refund };
}

/** One attempt to deliver an event. */
export interface WebhookAttempt {
  readonly attempt: number;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly responseStatus: number | null;
  /** `timeout`, `connection_failed`, `target_not_allowed` or `http_status`; null on success. */
  readonly error: string | null;
  readonly responseExcerpt: string | null;
}

/** A delivery of an event to the merchant's webhook URL, with every attempt. */
export interface WebhookDelivery {
  readonly id: string;
  readonly object: 'webhook_delivery';
  readonly eventId: string;
  readonly eventType: WebhookEventType;
  readonly url: string;
  readonly status: 'pending' | 'succeeded' | 'failed';
  readonly attemptCount: number;
  readonly nextAttemptAt: string | null;
  readonly replayOf: string | null;
  readonly createdAt: string;
  readonly completedAt: string | null;
  readonly attempts: readonly WebhookAttempt[];
}

/** The merchant's own settings. */
export interface Merchant {
  readonly id: string;
  readonly object: 'merchant';
  readonly name: string;
  readonly webhookUrl: string | null;
}

/** A page of a list, newest first. */
export interface List<T> {
  readonly object: 'list';
  readonly data: readonly T[];
  readonly hasMore: boolean;
}

/** Paging of a list: 1–100 items (10 by default), after the item with id `startingAfter`. */
export interface ListParams {
  readonly limit?: number;
  readonly startingAfter?: string;
}

/** Options of one POST. */
export interface RequestOptions {
  /** Sent as `Idempotency-Key`; a fresh random key is used when absent. */
  readonly idempotencyKey?: string;
}
