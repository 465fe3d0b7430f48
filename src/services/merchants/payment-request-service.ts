/**
 * Payment requests: what a merchant asks to be paid, paid at most once by any payer through a payment that
 * names the request. Payee, amount and currency come from the request; the payer chooses only where the
 * first code goes. The request's state follows its payments inside their own transactions (this service
 * observes PaymentService), so a request is marked paid, and its webhook event recorded, in the very
 * transaction that posts the payment.
 *
 * Rules: a payer may start paying only an open request before its expiry, and only while no other payment
 * for it awaits approval (serialized by the request's row lock). A request past its expiry stays open while a
 * payment started before the expiry still awaits approval, so a payer in the middle of approving is not cut
 * off; it expires as soon as that payment ends unpaid. The merchant may redeem a second code (embodiment 3):
 * it approves the pending payment exactly as the payer's own approval would, attempt limits included.
 */

import { CountersignError } from '../../domain/errors.js';
import { merchantLimits } from '../../domain/limits.js';
import {
  acceptsNewPayment,
  isPastExpiry,
  type ListCursor,
  type Page,
  type PaymentRequest,
  pageOf,
} from '../../domain/merchant.js';
import { checkMetadata, type Metadata } from '../../domain/metadata.js';
import { amountToJson, assertMoney } from '../../domain/money.js';
import type { DeliverTo, Payment } from '../../domain/payment.js';
import type { SqlExecutor } from '../database.js';
import type { KeyClaimTicket } from '../idempotency/idempotency-store.js';
import { derivedId, newId } from '../ids.js';
import type { CreatedPayment, PaymentObserver } from '../payments/payment-service.js';
import type { WebhookService } from '../webhooks/webhook-service.js';
import { checkHttpUrl } from '../webhooks/webhook-target.js';
import type { MerchantDependencies } from './merchant-dependencies.js';

/** A payment request as a merchant asks for it. */
export interface PaymentRequestCreation {
  readonly amount: bigint;
  readonly currency: string;
  readonly reference: string;
  readonly description?: string | undefined;
  readonly returnUrl?: string | undefined;
  readonly expiresInSeconds?: number | undefined;
  readonly metadata?: Metadata | undefined;
}

/** A payment for a request, as an authenticated payer starts it. */
export interface RequestPaymentCreation {
  readonly payerId: string;
  readonly paymentRequestId: string;
  readonly deliverTo: DeliverTo;
  /** The payer's metadata of the payment (the request's own stays the merchant's). */
  readonly metadata?: Metadata;
  /** Scoped idempotency key; the payment's id is derived from it. */
  readonly idempotencyKey?: string;
}

/** The merchant-facing JSON of a request. It never names the payer. */
export function paymentRequestObject(request: PaymentRequest, publicUrl: string): Record<string, unknown> {
  return {
    id: request.id,
    object: 'payment_request',
    status: request.status,
    amount: amountToJson(request.amount),
    currency: request.currency,
    reference: request.reference,
    description: request.description,
    returnUrl: request.returnUrl,
    checkoutUrl: checkoutUrl(publicUrl, request.id),
    paymentId: request.paymentId,
    metadata: request.metadata,
    createdAt: new Date(request.createdAtMs).toISOString(),
    expiresAt: new Date(request.expiresAtMs).toISOString(),
    updatedAt: new Date(request.updatedAtMs).toISOString(),
  };
}

/** Where the payer pays a request: the hosted checkout page. */
export function checkoutUrl(publicUrl: string, requestId: string): string {
  return `${publicUrl}/checkout/${requestId}`;
}

function invalid(param: string, message: string): CountersignError {
  return new CountersignError('invalid_request', { param, message });
}

function notOpen(request: PaymentRequest, nowMs: number): CountersignError {
  const status = request.status === 'open' && isPastExpiry(request, nowMs) ? 'expired' : request.status;
  return new CountersignError('payment_request_not_open', { details: { status } });
}

/** Use cases of payment requests. */
export class PaymentRequestService implements PaymentObserver {
  constructor(
    private readonly deps: MerchantDependencies,
    private readonly webhooks: WebhookService,
  ) {}

  /** Creates an open request. With an idempotency key its id is derived, so a retry finds the first one. */
  async create(
    merchantId: string,
    creation: PaymentRequestCreation,
    idempotencyKey?: string,
  ): Promise<PaymentRequest> {
    const { database, clock, paymentRequestStore } = this.deps;
    const request = this.checked(merchantId, creation, clock.nowMs());
    const id =
      idempotencyKey === undefined
        ? newId()
        : derivedId(this.deps.secrets.keyedHash, 'payment_request', merchantId, idempotencyKey);
    return database.transaction(async (tx) => {
      const outcome = await paymentRequestStore.insertRequest(tx, { ...request, id });
      if (outcome === 'inserted') return { ...request, id };
      const existing = await paymentRequestStore.selectRequest(tx, id, false);
      if (existing?.merchantId !== merchantId)
        throw new Error(`invariant: request ${id} of another merchant`);
      return existing;
    });
  }

  private checked(merchantId: string, creation: PaymentRequestCreation, nowMs: number): PaymentRequest {
    assertMoney(creation.amount, creation.currency);
    const reference = creation.reference.trim();
    if (reference.length === 0 || reference.length > merchantLimits.referenceCharactersMax) {
      throw invalid('reference', `reference must be 1–${merchantLimits.referenceCharactersMax} characters`);
    }
    const description = creation.description?.trim() || null;
    if (description !== null && description.length > merchantLimits.descriptionCharactersMax) {
      throw invalid(
        'description',
        `description is at most ${merchantLimits.descriptionCharactersMax} characters`,
      );
    }
    const returnUrl =
      creation.returnUrl === undefined ? null : checkHttpUrl(creation.returnUrl, 'returnUrl').href;
    const ttlSeconds = creation.expiresInSeconds ?? merchantLimits.paymentRequestTtlSecondsDefault;
    if (
      !Number.isInteger(ttlSeconds) ||
      ttlSeconds < merchantLimits.paymentRequestTtlSecondsMin ||
      ttlSeconds > merchantLimits.paymentRequestTtlSecondsMax
    ) {
      throw invalid(
        'expiresInSeconds',
        `expiresInSeconds must be ${merchantLimits.paymentRequestTtlSecondsMin}–${merchantLimits.paymentRequestTtlSecondsMax}`,
      );
    }
    return {
      id: '',
      merchantId,
      amount: creation.amount,
      currency: creation.currency,
      reference,
      description,
      returnUrl,
      status: 'open',
      paymentId: null,
      metadata: checkMetadata(creation.metadata),
      createdAtMs: nowMs,
      expiresAtMs: nowMs + ttlSeconds * 1000,
      updatedAtMs: nowMs,
    };
  }

  /** A request of the merchant's, its expiry applied first; `payment_request_not_found` otherwise. */
  async get(merchantId: string, requestId: string): Promise<PaymentRequest> {
    const request = await this.deps.paymentRequestStore.selectRequest(this.deps.database, requestId, false);
    if (request === undefined || request.merchantId !== merchantId) {
      throw new CountersignError('payment_request_not_found');
    }
    return this.expireIfDue(request);
  }

  /**
   * A request for its checkout page: any open request can be seen by whoever holds its URL (an unguessable
   * id), as a payer must see what they are asked to pay. Its expiry is applied first.
   */
  async forCheckout(requestId: string): Promise<PaymentRequest> {
    const request = await this.deps.paymentRequestStore.selectRequest(this.deps.database, requestId, false);
    if (request === undefined) throw new CountersignError('payment_request_not_found');
    return this.expireIfDue(request);
  }

  /** The merchant's requests, newest first. */
  async list(merchantId: string, limit: number, startingAfter?: string): Promise<Page<PaymentRequest>> {
    const { database, paymentRequestStore } = this.deps;
    let cursor: ListCursor | undefined;
    if (startingAfter !== undefined) {
      const after = await paymentRequestStore.selectRequest(database, startingAfter, false);
      if (after === undefined || after.merchantId !== merchantId) {
        throw invalid('starting_after', 'starting_after must be the id of an object in this list.');
      }
      cursor = after;
    }
    return pageOf(await paymentRequestStore.listRequests(database, merchantId, limit + 1, cursor), limit);
  }

  /**
   * Starts a payment for a request: the payer is authenticated by the caller; payee, amount and currency
   * come from the request. Its checks are repeated under the request's lock when the payment is inserted.
   * A `ticket` claims the request's idempotency key in the payment's transaction (see `PaymentService`).
   */
  async pay(creation: RequestPaymentCreation, ticket?: KeyClaimTicket): Promise<CreatedPayment> {
    const request = await this.forCheckout(creation.paymentRequestId);
    if (!acceptsNewPayment(request, this.deps.clock.nowMs())) throw notOpen(request, this.deps.clock.nowMs());
    return this.deps.payments.create(
      {
        payerId: creation.payerId,
        payeeId: request.merchantId,
        amount: request.amount,
        currency: request.currency,
        deliverTo: creation.deliverTo,
        paymentRequestId: request.id,
        ...(creation.metadata === undefined ? {} : { metadata: creation.metadata }),
        ...(creation.idempotencyKey === undefined ? {} : { idempotencyKey: creation.idempotencyKey }),
      },
      ticket,
    );
  }

  /** Inside a payment's creation: the request must accept it, and no other payment may be pending for it. */
  async paymentCreatedIn(tx: SqlExecutor, payment: Payment, nowMs: number): Promise<void> {
    if (payment.paymentRequestId === null) return;
    const request = await this.deps.paymentRequestStore.selectRequest(tx, payment.paymentRequestId, true);
    if (request === undefined) throw new CountersignError('payment_request_not_found');
    if (
      request.merchantId !== payment.payeeId ||
      request.amount !== payment.amount ||
      request.currency !== payment.currency
    ) {
      throw new Error(`invariant: payment ${payment.id} does not match its request ${request.id}`);
    }
    if (!acceptsNewPayment(request, nowMs)) throw notOpen(request, nowMs);
    const others = await this.deps.paymentRequestStore.selectPendingPayments(
      tx,
      request.id,
      nowMs,
      payment.id,
    );
    if (others.length > 0) throw new CountersignError('payment_request_in_progress');
  }

  /** Inside a payment's approval: the request becomes paid, and its event commits with the payment. */
  async paymentSucceededIn(tx: SqlExecutor, payment: Payment, nowMs: number): Promise<void> {
    if (payment.paymentRequestId === null) return;
    const { paymentRequestStore, merchantSettings } = this.deps;
    const request = await paymentRequestStore.selectRequest(tx, payment.paymentRequestId, true);
    if (request === undefined) throw new Error(`invariant: payment ${payment.id} names no request`);
    if (request.status !== 'open') throw notOpen(request, nowMs);
    await paymentRequestStore.updateRequestStatus(tx, request.id, 'paid', payment.id, nowMs);
    const paid: PaymentRequest = { ...request, status: 'paid', paymentId: payment.id, updatedAtMs: nowMs };
    await this.webhooks.enqueueIn(
      tx,
      request.merchantId,
      'payment_request.paid',
      request.id,
      paymentRequestObject(paid, merchantSettings.publicUrl),
      nowMs,
    );
  }

  /**
   * Embodiment 3: the merchant redeems the second code the payer read off their second terminal. It
   * approves the request's pending payment through PaymentService, so a wrong code counts against the
   * payment (3 fail it) and the payer (5 in a row lock them) and answers `approval_failed` as ever.
   */
  async redeem(merchantId: string, requestId: string, secondCode: string): Promise<PaymentRequest> {
    const { database, clock, paymentRequestStore, payments, audit } = this.deps;
    const request = await this.get(merchantId, requestId);
    const nowMs = clock.nowMs();
    if (request.status !== 'open') throw notOpen(request, nowMs);
    const pending = await paymentRequestStore.selectPendingPayments(database, request.id, nowMs);
    if (pending.length > 1) throw new Error(`invariant: request ${request.id} has two pending payments`);
    const payment = pending[0];
    if (payment === undefined) {
      if (isPastExpiry(request, nowMs)) throw notOpen(request, nowMs);
      throw new CountersignError('payment_request_no_pending_payment');
    }
    await payments.approve(payment.id, { secondCode });
    await database.transaction((tx) =>
      audit.appendIn(
        tx,
        [
          {
            event: 'payment_request_redeemed',
            subject: request.id,
            detail: { merchantId, paymentId: payment.id },
          },
        ],
        clock.nowMs(),
      ),
    );
    return this.get(merchantId, requestId);
  }

  /**
   * Cancels an open request. A payment for it still awaiting approval is canceled first, releasing the
   * payer's hold; a request that was paid meanwhile answers `payment_request_not_open` with its status.
   */
  async cancel(merchantId: string, requestId: string): Promise<PaymentRequest> {
    const { database, clock, paymentRequestStore, payments } = this.deps;
    const request = await this.get(merchantId, requestId);
    // Bounded: each round cancels the payment that was pending; a payer can start another only while open.
    for (let round = 0; round < 3; round++) {
      const pending = await paymentRequestStore.selectPendingPayments(database, request.id, clock.nowMs());
      for (const payment of pending) {
        await payments.cancel(payment.id, payment.payerId).catch((error: unknown) => {
          if (!(error instanceof CountersignError && error.code === 'payment_not_cancelable')) throw error;
        });
      }
      const canceled = await database.transaction((tx) => this.cancelIn(tx, request.id));
      if (canceled !== undefined) return canceled;
    }
    throw new CountersignError('payment_request_in_progress');
  }

  /** Cancels under the request's lock if no payment is pending; undefined when one still is. */
  private async cancelIn(tx: SqlExecutor, requestId: string): Promise<PaymentRequest | undefined> {
    const { clock, paymentRequestStore, merchantSettings } = this.deps;
    const request = await paymentRequestStore.selectRequest(tx, requestId, true);
    if (request === undefined) throw new Error(`invariant: request ${requestId} vanished`);
    const nowMs = clock.nowMs();
    if (request.status !== 'open') throw notOpen(request, nowMs);
    if ((await paymentRequestStore.selectPendingPayments(tx, requestId, nowMs)).length > 0) return undefined;
    await paymentRequestStore.updateRequestStatus(tx, requestId, 'canceled', null, nowMs);
    const canceled: PaymentRequest = { ...request, status: 'canceled', updatedAtMs: nowMs };
    await this.webhooks.enqueueIn(
      tx,
      request.merchantId,
      'payment_request.canceled',
      request.id,
      paymentRequestObject(canceled, merchantSettings.publicUrl),
      nowMs,
    );
    return canceled;
  }

  /** Applies a due expiry on use, so that a request is never shown open after it could no longer be paid. */
  private async expireIfDue(request: PaymentRequest): Promise<PaymentRequest> {
    const { database, clock, paymentRequestStore } = this.deps;
    if (request.status !== 'open' || !isPastExpiry(request, clock.nowMs())) return request;
    return database.transaction(async (tx) => {
      const locked = await paymentRequestStore.selectRequest(tx, request.id, true);
      if (locked === undefined) throw new Error(`invariant: request ${request.id} vanished`);
      const nowMs = clock.nowMs();
      if (locked.status !== 'open' || !isPastExpiry(locked, nowMs)) return locked;
      if ((await paymentRequestStore.selectPendingPayments(tx, locked.id, nowMs)).length > 0) return locked;
      return this.expireIn(tx, locked, nowMs);
    });
  }

  private async expireIn(tx: SqlExecutor, request: PaymentRequest, nowMs: number): Promise<PaymentRequest> {
    await this.deps.paymentRequestStore.updateRequestStatus(tx, request.id, 'expired', null, nowMs);
    const expired: PaymentRequest = { ...request, status: 'expired', updatedAtMs: nowMs };
    await this.webhooks.enqueueIn(
      tx,
      request.merchantId,
      'payment_request.expired',
      request.id,
      paymentRequestObject(expired, this.deps.merchantSettings.publicUrl),
      nowMs,
    );
    return expired;
  }

  /**
   * The expiry job: expires open requests past their expiry with no payment pending, at most `limit` per
   * transaction; rows another process is expiring are skipped. Returns how many expired.
   */
  async expireDue(limit = 500): Promise<number> {
    const { database, clock, paymentRequestStore } = this.deps;
    return database.transaction(async (tx) => {
      const nowMs = clock.nowMs();
      const due = await paymentRequestStore.selectDueRequests(tx, nowMs, limit);
      for (const request of due) await this.expireIn(tx, request, nowMs);
      return due.length;
    });
  }
}
