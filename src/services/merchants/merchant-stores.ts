/**
 * What the merchant services need from storage. `store/merchant-repository` and its siblings implement these
 * interfaces in SQL; every function runs inside the caller's transaction (or on the database itself).
 */
import type {
  ApiKeyRecord,
  ListCursor,
  MerchantRecord,
  PaymentRequest,
  PaymentRequestStatus,
} from '../../domain/merchant.js';
import type { Payment } from '../../domain/payment.js';
import type { Refund } from '../../domain/refund.js';
import type { WebhookEventType } from '../../domain/webhook.js';
import type { SqlExecutor } from '../database.js';

/** Merchants and their API keys. */
export interface MerchantStore {
  /** Inserts a merchant's settings; false when a merchant with this id exists. */
  insertMerchant(tx: SqlExecutor, merchant: MerchantRecord): Promise<boolean>;
  selectMerchant(tx: SqlExecutor, id: string): Promise<MerchantRecord | undefined>;
  /** Merchants with their display names, by id, the first `limit` after `afterId` (exclusive). */
  listMerchants(
    tx: SqlExecutor,
    afterId: string | undefined,
    limit: number,
  ): Promise<{ id: string; name: string; webhookUrl: string | null }[]>;
  updateWebhookUrl(tx: SqlExecutor, id: string, webhookUrl: string | null, nowMs: number): Promise<void>;
  updateWebhookSecret(tx: SqlExecutor, id: string, secretSealed: string, nowMs: number): Promise<void>;
  insertApiKey(tx: SqlExecutor, key: ApiKeyRecord): Promise<void>;
  selectApiKeyByHash(tx: SqlExecutor, keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** One key of a merchant, locked when `lock` is true. */
  selectApiKey(
    tx: SqlExecutor,
    merchantId: string,
    id: string,
    lock: boolean,
  ): Promise<ApiKeyRecord | undefined>;
  /** Every key of a merchant, oldest first (bounded by the active-key limit and revocations). */
  listApiKeys(tx: SqlExecutor, merchantId: string, limit: number): Promise<ApiKeyRecord[]>;
  countUsableApiKeys(tx: SqlExecutor, merchantId: string, nowMs: number): Promise<number>;
  revokeApiKey(tx: SqlExecutor, id: string, nowMs: number): Promise<void>;
  setApiKeyExpiry(tx: SqlExecutor, id: string, expiresAtMs: number): Promise<void>;
}

/** Payment requests and the payments made for them. */
export interface PaymentRequestStore {
  insertRequest(tx: SqlExecutor, request: PaymentRequest): Promise<'inserted' | 'exists'>;
  selectRequest(tx: SqlExecutor, id: string, lock: boolean): Promise<PaymentRequest | undefined>;
  /** At most `limit` requests of a merchant, newest first, after `cursor` when given. */
  listRequests(
    tx: SqlExecutor,
    merchantId: string,
    limit: number,
    cursor: ListCursor | undefined,
  ): Promise<PaymentRequest[]>;
  updateRequestStatus(
    tx: SqlExecutor,
    id: string,
    status: PaymentRequestStatus,
    paymentId: string | null,
    nowMs: number,
  ): Promise<void>;
  /**
   * The payments made for a request that still await approval and have not passed their own expiry (at
   * most one, unless a bug let two in), excluding `exceptPaymentId`.
   */
  selectPendingPayments(
    tx: SqlExecutor,
    requestId: string,
    nowMs: number,
    exceptPaymentId?: string,
  ): Promise<Payment[]>;
  /**
   * Open requests past their expiry with no payment awaiting approval, locked, skipping rows another
   * process holds, oldest expiry first.
   */
  selectDueRequests(tx: SqlExecutor, nowMs: number, limit: number): Promise<PaymentRequest[]>;
}

/** Refunds. */
export interface RefundStore {
  /** Inserts a refund; `exists` when a refund with its id was recorded before (a retry). */
  insertRefund(tx: SqlExecutor, refund: Refund): Promise<'inserted' | 'exists'>;
  selectRefund(tx: SqlExecutor, id: string): Promise<Refund | undefined>;
  listRefunds(
    tx: SqlExecutor,
    merchantId: string,
    limit: number,
    cursor: ListCursor | undefined,
  ): Promise<Refund[]>;
  /** The sum of a payment's refunds. */
  sumRefunded(tx: SqlExecutor, paymentId: string): Promise<bigint>;
}

/** An event as stored: its body is the exact text delivered and signed. */
export interface WebhookEventRecord {
  readonly id: string;
  readonly merchantId: string;
  readonly type: WebhookEventType;
  readonly body: string;
  readonly createdAtMs: number;
}

/** A delivery of an event to a URL, and where it stands. */
export interface WebhookDeliveryRecord {
  readonly id: string;
  readonly eventId: string;
  readonly eventType: WebhookEventType;
  readonly merchantId: string;
  readonly url: string;
  readonly status: 'pending' | 'succeeded' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAtMs: number;
  readonly giveUpAtMs: number;
  readonly replayOf: string | null;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly completedAtMs: number | null;
}

/** One attempt of a delivery, as recorded after it. */
export interface WebhookAttemptRecord {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly startedAtMs: number;
  readonly durationMs: number;
  readonly responseStatus: number | null;
  readonly error: string | null;
  readonly responseExcerpt: string | null;
}

/** A delivery claimed for one attempt: what the sender needs. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly eventId: string;
  readonly merchantId: string;
  readonly url: string;
  readonly attempt: number;
  readonly giveUpAtMs: number;
  readonly body: string;
}

/** The outcome of an attempt, as the delivery's new state. */
export type DeliveryUpdate =
  | { readonly status: 'succeeded' | 'failed'; readonly completedAtMs: number }
  | { readonly status: 'pending'; readonly nextAttemptAtMs: number };

/** The webhook outbox. */
export interface WebhookStore {
  /** Inserts an event; false when it exists (the same change reported twice). */
  insertEvent(tx: SqlExecutor, event: WebhookEventRecord): Promise<boolean>;
  insertDelivery(
    tx: SqlExecutor,
    delivery: Omit<WebhookDeliveryRecord, 'eventType' | 'status' | 'attempts' | 'completedAtMs'>,
  ): Promise<void>;
  selectEvent(tx: SqlExecutor, merchantId: string, id: string): Promise<WebhookEventRecord | undefined>;
  listEvents(
    tx: SqlExecutor,
    merchantId: string,
    limit: number,
    cursor: ListCursor | undefined,
  ): Promise<WebhookEventRecord[]>;
  selectDelivery(tx: SqlExecutor, merchantId: string, id: string): Promise<WebhookDeliveryRecord | undefined>;
  listDeliveries(
    tx: SqlExecutor,
    merchantId: string,
    limit: number,
    cursor: ListCursor | undefined,
  ): Promise<WebhookDeliveryRecord[]>;
  /** The attempts of the given deliveries, in attempt order. */
  listAttempts(tx: SqlExecutor, deliveryIds: readonly string[]): Promise<WebhookAttemptRecord[]>;
  /**
   * Claims at most `limit` due pending deliveries (skipping rows another process holds): counts the attempt
   * and moves the next attempt to `leaseUntilMs`, so nobody else takes it while it is being sent.
   */
  claimDue(tx: SqlExecutor, nowMs: number, leaseUntilMs: number, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Records an attempt, and applies `update` only if the delivery is still pending at this attempt (a
   * process that lost its lease records what it did but changes nothing).
   */
  recordAttempt(
    tx: SqlExecutor,
    attempt: WebhookAttemptRecord,
    update: DeliveryUpdate,
    nowMs: number,
  ): Promise<void>;
}

/** Every store of the merchant services. */
export interface MerchantStores {
  readonly merchantStore: MerchantStore;
  readonly paymentRequestStore: PaymentRequestStore;
  readonly refundStore: RefundStore;
  readonly webhookStore: WebhookStore;
}
