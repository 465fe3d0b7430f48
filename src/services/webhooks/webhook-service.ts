/**
 * Webhooks from a transactional outbox. A service reports a change with `enqueueIn` inside the transaction
 * that makes it, so the event row (and its delivery, when the merchant has a webhook URL) commits with the
 * change or not at all. A background job claims due deliveries (FOR UPDATE SKIP LOCKED, with a lease longer
 * than an attempt may take), sends each outside any transaction, and records every attempt. Delivery is at
 * least once: a process that dies mid-attempt leaves its claim to lapse and the delivery is sent again.
 */
import { createHash, createHmac } from 'node:crypto';
import { CountersignError } from '../../domain/errors.js';
import { webhookLimits } from '../../domain/limits.js';
import type { ListCursor, Page } from '../../domain/merchant.js';
import { pageOf } from '../../domain/merchant.js';
import {
  formatSignatureHeader,
  nextAttemptAtMs,
  signatureHeader,
  signedPayload,
  type WebhookEventType,
} from '../../domain/webhook.js';
import type { AttemptFailureReporter } from '../background-jobs.js';
import type { SqlExecutor } from '../database.js';
import { derivedId, newId } from '../ids.js';
import type { MerchantDependencies } from '../merchants/merchant-dependencies.js';
import type { MerchantService } from '../merchants/merchant-service.js';
import type {
  ClaimedDelivery,
  DeliveryUpdate,
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookEventRecord,
} from '../merchants/merchant-stores.js';
import type { WebhookResponse } from './webhook-transport.js';

/** A delivery with every attempt made so far. */
export interface DeliveryWithAttempts {
  readonly delivery: WebhookDeliveryRecord;
  readonly attempts: readonly WebhookAttemptRecord[];
}

/**
 * The public JSON of an event: `{id, object: "event", type, createdAt, data: {object}}`, its time an ISO 8601
 * string like every other time of the API (API version 2026-12-01; docs/api.md, "Changelog").
 */
export function eventBody(
  id: string,
  type: WebhookEventType,
  createdAtMs: number,
  object: Readonly<Record<string, unknown>>,
): string {
  return JSON.stringify({
    id,
    object: 'event',
    type,
    createdAt: new Date(createdAtMs).toISOString(),
    data: { object },
  });
}

/**
 * An event's stored body as it is delivered and listed today. Events recorded before version 2026-12-01
 * were stored as `{id, type, created: <Unix seconds>, data}`; they are rewritten to today's form when read,
 * so that a merchant never meets two forms (a replayed old event included). The ledger-like event table
 * is never updated for this: the rewrite is a pure function of the stored text.
 */
export function publicEventBody(stored: string): string {
  const event = JSON.parse(stored) as { object?: unknown; created?: unknown };
  if (event.object === 'event' || typeof event.created !== 'number') return stored;
  const { id, type, created, data } = event as { id: string; type: string; created: number; data: unknown };
  return JSON.stringify({
    id,
    object: 'event',
    type,
    createdAt: new Date(created * 1000).toISOString(),
    data,
  });
}

/** HMAC-SHA256 of `"<t>.<body>"` under the secret (its UTF-8 bytes), as hex. */
export function webhookSignatureHex(secret: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(signedPayload(timestampSeconds, body), 'utf8').digest('hex');
}

/** A number in [0, 1) from a delivery's id and attempt: reproducible jitter. */
function jitterUnit(deliveryId: string, attempt: number): number {
  const digest = createHash('sha256').update(`${deliveryId}:${attempt}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** The webhook outbox, its delivery job, and what merchants see of it. */
export class WebhookService {
  private readonly reporters: AttemptFailureReporter[] = [];

  constructor(
    private readonly deps: MerchantDependencies,
    private readonly merchants: MerchantService,
  ) {}

  /** Reports every failed attempt to `reporter` (the server's log; wired once, at start). */
  reportFailedAttemptsTo(reporter: AttemptFailureReporter): void {
    this.reporters.push(reporter);
  }

  /**
   * Records an event about `objectId` inside `tx`, and queues its delivery when the merchant has a webhook
   * URL. The event's id is derived from its type and object, so reporting the same change twice records one
   * event. Returns the event's id.
   */
  async enqueueIn(
    tx: SqlExecutor,
    merchantId: string,
    type: WebhookEventType,
    objectId: string,
    object: Readonly<Record<string, unknown>>,
    nowMs: number,
  ): Promise<string> {
    const { webhookStore, merchantStore } = this.deps;
    const id = derivedId(this.deps.secrets.keyedHash, 'webhook_event', type, objectId);
    const inserted = await webhookStore.insertEvent(tx, {
      id,
      merchantId,
      type,
      body: eventBody(id, type, nowMs, object),
      createdAtMs: nowMs,
    });
    if (!inserted) return id;
    const merchant = await merchantStore.selectMerchant(tx, merchantId);
    if (merchant === undefined) throw new Error(`invariant: event for unknown merchant ${merchantId}`);
    if (merchant.webhookUrl !== null) {
      await webhookStore.insertDelivery(tx, {
        id: derivedId(this.deps.secrets.keyedHash, 'webhook_delivery', id),
        eventId: id,
        merchantId,
        url: merchant.webhookUrl,
        nextAttemptAtMs: nowMs,
        giveUpAtMs: nowMs + webhookLimits.retryWindowMs,
        replayOf: null,
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      });
    }
    return id;
  }

  /**
   * One pass of the delivery job: claims up to `limit` due deliveries, sends them (a few at once) and
   * records each attempt. Returns how many attempts were made.
   */
  async deliverDue(limit: number = webhookLimits.claimBatchSizeMax): Promise<number> {
    const { database, clock, webhookStore, merchantSettings } = this.deps;
    const leaseMs = merchantSettings.webhookTimeoutMs + webhookLimits.claimLeaseMarginMs;
    const claimed = await database.transaction((tx) => {
      const nowMs = clock.nowMs();
      return webhookStore.claimDue(
        tx,
        nowMs,
        nowMs + leaseMs,
        Math.min(limit, webhookLimits.claimBatchSizeMax),
      );
    });
    const secrets = new Map<string, Promise<string>>();
    const secretOf = (merchantId: string) => {
      let secret = secrets.get(merchantId);
      if (secret === undefined) {
        secret = this.merchants.webhookSecret(database, merchantId);
        secrets.set(merchantId, secret);
      }
      return secret;
    };
    const queue = [...claimed];
    const failures: unknown[] = [];
    const send = async (delivery: ClaimedDelivery) =>
      this.attempt(delivery, await secretOf(delivery.merchantId));
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        // One delivery that cannot be sent or recorded does not stop the others; its claim lapses and it
        // is tried again, and the pass reports the failure once every claimed delivery was dealt with.
        await send(next).catch((error: unknown) => failures.push(error));
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(webhookLimits.concurrentAttemptsMax, queue.length) }, worker),
    );
    if (failures.length > 0) throw failures[0];
    return claimed.length;
  }

  /** Sends one claimed delivery, signed now, and records the attempt and the delivery's new state. */
  private async attempt(delivery: ClaimedDelivery, secret: string): Promise<void> {
    const { database, clock, webhookStore, webhookTransport, merchantSettings } = this.deps;
    const startedAtMs = clock.nowMs();
    const timestampSeconds = Math.floor(startedAtMs / 1000);
    // The body signed is the body sent: an event stored in the old form is signed as it is sent today.
    const body = publicEventBody(delivery.body);
    const signature = webhookSignatureHex(secret, timestampSeconds, body);
    const started = performance.now();
    const response = await webhookTransport.send({
      url: delivery.url,
      body,
      timeoutMs: merchantSettings.webhookTimeoutMs,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Countersign-Webhooks/1',
        [signatureHeader.toLowerCase()]: formatSignatureHeader(timestampSeconds, [signature]),
      },
    });
    const durationMs = Math.max(0, Math.round(performance.now() - started));
    const record = attemptRecord(delivery, startedAtMs, durationMs, response);
    const endedAtMs = clock.nowMs();
    const outcome = this.outcome(delivery, record, endedAtMs);
    await database.transaction((tx) => webhookStore.recordAttempt(tx, record, outcome, endedAtMs));
    if (outcome.status === 'succeeded') return;
    // The target's URL and the bodies stay out of the log: a URL may carry a merchant's token.
    for (const reporter of this.reporters) {
      reporter.warn(
        {
          webhookDeliveryId: delivery.id,
          merchantId: delivery.merchantId,
          attempt: delivery.attempt,
          responseStatus: record.responseStatus,
          error: record.error,
          durationMs: record.durationMs,
          next: outcome.status,
        },
        outcome.status === 'failed' ? 'webhook delivery failed for good' : 'webhook attempt failed',
      );
    }
  }

  private outcome(delivery: ClaimedDelivery, record: WebhookAttemptRecord, nowMs: number): DeliveryUpdate {
    const status = record.responseStatus;
    if (status !== null && status >= 200 && status < 300)
      return { status: 'succeeded', completedAtMs: nowMs };
    const next = nextAttemptAtMs(
      delivery.attempt,
      nowMs,
      delivery.giveUpAtMs,
      jitterUnit(delivery.id, delivery.attempt),
    );
    return next === undefined
      ? { status: 'failed', completedAtMs: nowMs }
      : { status: 'pending', nextAttemptAtMs: next };
  }

  /** An event of the merchant's; `event_not_found` when it is not theirs or does not exist. */
  async getEvent(merchantId: string, eventId: string): Promise<WebhookEventRecord> {
    const event = await this.deps.webhookStore.selectEvent(this.deps.database, merchantId, eventId);
    if (event === undefined) throw new CountersignError('event_not_found');
    return event;
  }

  /** The merchant's events, newest first. */
  async listEvents(
    merchantId: string,
    limit: number,
    startingAfter?: string,
  ): Promise<Page<WebhookEventRecord>> {
    const { database, webhookStore } = this.deps;
    let cursor: ListCursor | undefined;
    if (startingAfter !== undefined) {
      const after = await webhookStore.selectEvent(database, merchantId, startingAfter);
      if (after === undefined) throw unknownCursor();
      cursor = after;
    }
    return pageOf(await webhookStore.listEvents(database, merchantId, limit + 1, cursor), limit);
  }

  /** A delivery of the merchant's, with its attempts. */
  async getDelivery(merchantId: string, deliveryId: string): Promise<DeliveryWithAttempts> {
    const { database, webhookStore } = this.deps;
    const delivery = await webhookStore.selectDelivery(database, merchantId, deliveryId);
    if (delivery === undefined) throw new CountersignError('webhook_delivery_not_found');
    return { delivery, attempts: await webhookStore.listAttempts(database, [delivery.id]) };
  }

  /** The merchant's deliveries, newest first, each with its attempts. */
  async listDeliveries(
    merchantId: string,
    limit: number,
    startingAfter?: string,
  ): Promise<Page<DeliveryWithAttempts>> {
    const { database, webhookStore } = this.deps;
    let cursor: ListCursor | undefined;
    if (startingAfter !== undefined) {
      const after = await webhookStore.selectDelivery(database, merchantId, startingAfter);
      if (after === undefined) throw unknownCursor();
      cursor = after;
    }
    const page = pageOf(await webhookStore.listDeliveries(database, merchantId, limit + 1, cursor), limit);
    const attempts = await webhookStore.listAttempts(
      database,
      page.data.map((delivery) => delivery.id),
    );
    return {
      hasMore: page.hasMore,
      data: page.data.map((delivery) => ({
        delivery,
        attempts: attempts.filter((attempt) => attempt.deliveryId === delivery.id),
      })),
    };
  }

  /**
   * Sends an event again: a new delivery of the same event (the same body) to the merchant's current
   * webhook URL, due at once. With an idempotency key a retried replay finds the first one.
   */
  async replay(
    merchantId: string,
    deliveryId: string,
    idempotencyKey?: string,
  ): Promise<DeliveryWithAttempts> {
    const { database, clock, webhookStore, merchantStore } = this.deps;
    const id =
      idempotencyKey === undefined
        ? newId()
        : derivedId(this.deps.secrets.keyedHash, 'webhook_replay', merchantId, idempotencyKey);
    await database.transaction(async (tx) => {
      const original = await webhookStore.selectDelivery(tx, merchantId, deliveryId);
      if (original === undefined) throw new CountersignError('webhook_delivery_not_found');
      if ((await webhookStore.selectDelivery(tx, merchantId, id)) !== undefined) return;
      const merchant = await merchantStore.selectMerchant(tx, merchantId);
      if (merchant?.webhookUrl == null) throw new CountersignError('webhook_url_not_set');
      const nowMs = clock.nowMs();
      await webhookStore.insertDelivery(tx, {
        id,
        eventId: original.eventId,
        merchantId,
        url: merchant.webhookUrl,
        nextAttemptAtMs: nowMs,
        giveUpAtMs: nowMs + webhookLimits.retryWindowMs,
        replayOf: original.id,
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      });
    });
    return this.getDelivery(merchantId, id);
  }
}

function unknownCursor(): CountersignError {
  return new CountersignError('invalid_request', {
    param: 'starting_after',
    message: 'starting_after must be the id of an object in this list.',
  });
}

function attemptRecord(
  delivery: ClaimedDelivery,
  startedAtMs: number,
  durationMs: number,
  response: WebhookResponse,
): WebhookAttemptRecord {
  const base = { deliveryId: delivery.id, attempt: delivery.attempt, startedAtMs, durationMs };
  if ('error' in response) {
    return { ...base, responseStatus: null, error: response.error, responseExcerpt: null };
  }
  if (response.status < 100 || response.status > 599) {
    return { ...base, responseStatus: null, error: 'connection_failed', responseExcerpt: null };
  }
  const ok = response.status >= 200 && response.status < 300;
  return {
    ...base,
    responseStatus: response.status,
    error: ok ? null : 'http_status',
    responseExcerpt: response.excerpt === '' ? null : response.excerpt,
  };
}
