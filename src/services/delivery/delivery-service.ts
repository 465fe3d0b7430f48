/**
 * The delivery outbox: messages the payment service wrote in the payment's own transaction, sent by a
 * background job through every channel of their destination.
 *
 * A pass claims due rows (FOR UPDATE SKIP LOCKED, so several servers share the work without doing it
 * twice) and moves their next attempt past a lease in the same transaction; it then sends outside any
 * transaction and writes the outcome. A process killed mid-way leaves its rows to be claimed again when
 * the lease ends: a message is sent at least once, never lost, and terminals drop the duplicate by id.
 * A channel that fails is retried with exponential backoff; a channel that already accepted the message is
 * not sent it again. After the last attempt, or when the payment closed while a channel was still failing,
 * the row is `failed` — visible to the operator, recorded in the audit log, never dropped silently.
 */

import type { Clock } from '../../domain/clock.js';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { type Actor, actorLabel, assertMayAct } from '../../domain/operator.js';
import { developmentMessageLabel } from '../../domain/sealed-labels.js';
import type { AttemptFailureReporter } from '../background-jobs.js';
import type { Database } from '../database.js';
import { newId } from '../ids.js';
import type { MethodSecrets } from '../keys/secrets.js';
import type { AuditAppender } from '../method-dependencies.js';
import {
  type DeliveryChannel,
  DeliveryChannelError,
  type DeliveryRouter,
  type DevelopmentMessage,
} from './delivery-channel.js';
import { openSecondTerminalMessage, type SecondTerminalMessage } from './delivery-message.js';
import type {
  DeliveryAttemptRecord,
  DeliveryListQuery,
  DeliveryOutcome,
  DeliveryRecord,
  DeliveryStatus,
  DeliveryStore,
} from './delivery-store.js';

/** What the outbox is built from. */
export interface DeliveryDependencies {
  readonly database: Database;
  readonly clock: Clock;
  readonly secrets: MethodSecrets;
  readonly audit: AuditAppender;
  readonly deliveryStore: DeliveryStore;
  readonly router: DeliveryRouter;
  /** Whether the development outbox may be read (DEVELOPMENT_OUTBOX). */
  readonly developmentOutbox: boolean;
}

/** A delivery as the operator sees it: the message's facts, never its first code. */
export interface DeliveryView {
  readonly id: string;
  readonly payerId: string;
  readonly paymentId: string | null;
  readonly channel: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAtMs: number | null;
  readonly lastError: string | null;
  readonly createdAtMs: number;
  readonly deliveredAtMs: number | null;
  readonly message: {
    readonly amount: bigint;
    readonly currency: string;
    readonly payeeName: string;
    readonly expiresAtMs: number;
  } | null;
}

/** A development-outbox message as the operator reads it (first code included). */
export interface DevelopmentOutboxEntry extends DevelopmentMessage {
  readonly deliveryId: string;
  readonly payerId: string;
  readonly createdAtMs: number;
}

/**
 * The wait before attempt `attempt + 1` after `attempt` failed: base × 2^(attempt − 1), capped, then
 * scaled by `jitter` in [0.75, 1] so that messages that failed together are not retried together.
 */
export function deliveryBackoffMs(attempt: number, jitter = 1): number {
  const exponential = limits.deliveryBackoffBaseMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(limits.deliveryBackoffMaxMs, exponential);
  return Math.round(capped * Math.min(1, Math.max(0.75, jitter)));
}

function describeFailure(error: unknown): string {
  // Only a DeliveryChannelError's message is known to be free of secrets; anything else is summarised.
  const text = error instanceof DeliveryChannelError ? error.message : 'the channel failed unexpectedly';
  return text.slice(0, limits.deliveryErrorLengthMax);
}

interface ChannelResult {
  readonly channel: string;
  readonly error: string | null;
}

/** Use cases of the delivery outbox. */
export class DeliveryService {
  private readonly reporters: AttemptFailureReporter[] = [];

  constructor(private readonly deps: DeliveryDependencies) {}

  /** Reports every failed attempt to `reporter` (the server's log; wired once, at start). */
  reportFailedAttemptsTo(reporter: AttemptFailureReporter): void {
    this.reporters.push(reporter);
  }

  /** One pass of the outbox job: claims due messages and attempts them; returns how many were claimed. */
  async processDue(limit: number = limits.deliveryBatchSizeMax): Promise<number> {
    const { database, clock, deliveryStore } = this.deps;
    const nowMs = clock.nowMs();
    const bounded = Math.max(1, Math.min(limit, limits.deliveryBatchSizeMax));
    const claimed = await database.transaction((tx) =>
      deliveryStore.claimDue(tx, nowMs, bounded, nowMs + limits.deliveryLeaseMs),
    );
    if (claimed.length === 0) return 0;
    const paymentIds = claimed.flatMap((row) => (row.paymentId === null ? [] : [row.paymentId]));
    const states = await deliveryStore.selectPaymentStates(database, paymentIds);
    await Promise.all(
      claimed.map((row) => this.attempt(row, row.paymentId === null ? undefined : states.get(row.paymentId))),
    );
    return claimed.length;
  }

  private async attempt(
    row: DeliveryRecord,
    payment: { status: string; expiresAtMs: number } | undefined,
  ): Promise<void> {
    const nowMs = this.deps.clock.nowMs();
    const open = payment?.status === 'requires_approval' && nowMs < payment.expiresAtMs;
    if (!open) {
      // Nothing to approve any more. Never tried: skipped. Tried and failing: failed, with its last error.
      const closed = `the payment was ${payment?.status === 'requires_approval' ? 'expired' : (payment?.status ?? 'missing')} before every channel accepted the message`;
      return row.attempts === 0
        ? this.finish(row, 'skipped', [], null)
        : this.finish(row, 'failed', [], `${closed}; last error: ${row.lastError ?? 'none'}`);
    }
    const channels = this.deps.router.channelsFor(row.channel);
    if (channels.length === 0)
      return this.finish(row, 'failed', [], `no channel is configured for ${row.channel}`);
    let message: SecondTerminalMessage;
    try {
      message = openSecondTerminalMessage(this.deps.secrets, row);
    } catch (error) {
      // A payload the platform wrote and cannot read is a bug: the row fails visibly, and the error goes
      // on to the job's reporter, which logs it with its stack.
      await this.finish(row, 'failed', [], 'the message could not be opened (see the server log)');
      throw error;
    }
    const done = new Set(await this.deps.deliveryStore.selectSucceededChannels(this.deps.database, row.id));
    const results = await Promise.all(
      channels.filter((channel) => !done.has(channel.name)).map((channel) => this.send(channel, message)),
    );
    const failure = results.find((result) => result.error !== null);
    if (failure === undefined) return this.finish(row, 'delivered', results, null);
    const attempts = row.attempts + 1;
    const lastError = `${failure.channel}: ${failure.error}`;
    return this.finish(
      row,
      attempts >= limits.deliveryAttemptsMax ? 'failed' : 'pending',
      results,
      lastError,
    );
  }

  private async send(channel: DeliveryChannel, message: SecondTerminalMessage): Promise<ChannelResult> {
    try {
      await channel.deliver(message);
      return { channel: channel.name, error: null };
    } catch (error) {
      return { channel: channel.name, error: describeFailure(error) };
    }
  }

  /** Records the attempts and the row's new state in one transaction; a failure goes to the audit log. */
  private async finish(
    row: DeliveryRecord,
    status: DeliveryStatus,
    results: readonly ChannelResult[],
    lastError: string | null,
  ): Promise<void> {
    const { database, clock, deliveryStore, audit } = this.deps;
    const nowMs = clock.nowMs();
    const attempts = results.length === 0 ? row.attempts : row.attempts + 1;
    const outcome: DeliveryOutcome = {
      status,
      attempts,
      nextAttemptAtMs:
        status === 'pending' ? nowMs + deliveryBackoffMs(attempts, 0.75 + Math.random() / 4) : nowMs,
      lastError,
      deliveredAtMs: status === 'delivered' ? nowMs : null,
    };
    const records: DeliveryAttemptRecord[] = results.map((result) => ({
      id: newId(),
      deliveryId: row.id,
      attempt: attempts,
      channel: result.channel,
      succeeded: result.error === null,
      error: result.error,
      createdAtMs: nowMs,
    }));
    this.reportFailures(row, status, attempts, records);
    await database.transaction(async (tx) => {
      await deliveryStore.insertAttempts(tx, records);
      if (!(await deliveryStore.completeDelivery(tx, row.id, outcome))) return;
      if (status === 'failed') {
        await audit.appendIn(
          tx,
          [
            {
              event: 'delivery_failed',
              subject: row.payerId,
              detail: { deliveryId: row.id, paymentId: row.paymentId, attempts },
            },
          ],
          nowMs,
        );
      }
    });
  }

  /** Logs each failed channel attempt, and a delivery that failed for good; never the message itself. */
  private reportFailures(
    row: DeliveryRecord,
    status: DeliveryStatus,
    attempts: number,
    records: readonly DeliveryAttemptRecord[],
  ): void {
    const failed = records.filter((record) => !record.succeeded);
    if (failed.length === 0 && status !== 'failed') return;
    for (const reporter of this.reporters) {
      for (const record of failed) {
        reporter.warn(
          {
            deliveryId: row.id,
            channel: record.channel,
            attempt: attempts,
            error: record.error,
            next: status,
          },
          'delivery attempt failed',
        );
      }
      if (failed.length === 0) {
        reporter.warn({ deliveryId: row.id, attempt: attempts, next: status }, 'delivery failed for good');
      }
    }
  }

  /** The outbox, newest first, for the operator. */
  async list(query: DeliveryListQuery): Promise<DeliveryView[]> {
    const limit = Math.max(1, Math.min(query.limit, limits.pageSizeMax));
    const rows = await this.deps.deliveryStore.listDeliveries(this.deps.database, { ...query, limit });
    return rows.map((row) => this.view(row));
  }

  /** One delivery with every attempt, for the operator. */
  async get(deliveryId: string): Promise<{ delivery: DeliveryView; attempts: DeliveryAttemptRecord[] }> {
    const { database, deliveryStore } = this.deps;
    const row = await deliveryStore.selectDelivery(database, deliveryId, false);
    if (row === undefined) throw new CountersignError('delivery_not_found');
    const attempts = await deliveryStore.listAttempts(database, deliveryId, limits.deliveryAttemptsMax * 10);
    return { delivery: this.view(row), attempts };
  }

  /** Makes a failed delivery pending again (the operator fixed the gateway). Throws `delivery_not_retryable`. */
  async retry(deliveryId: string, actor: Actor): Promise<DeliveryView> {
    assertMayAct(actor, 'replay_delivery');
    const { database, clock, deliveryStore, audit } = this.deps;
    const row = await database.transaction(async (tx) => {
      const current = await deliveryStore.selectDelivery(tx, deliveryId, true);
      if (current === undefined) throw new CountersignError('delivery_not_found');
      if (current.status !== 'failed') {
        throw new CountersignError('delivery_not_retryable', { details: { status: current.status } });
      }
      const nowMs = clock.nowMs();
      await deliveryStore.retryDelivery(tx, deliveryId, nowMs);
      await audit.appendIn(
        tx,
        [
          {
            event: 'delivery_retried',
            subject: current.payerId,
            detail: { deliveryId, actor: actorLabel(actor) },
          },
        ],
        nowMs,
      );
      return { ...current, status: 'pending' as const, attempts: 0, nextAttemptAtMs: nowMs };
    });
    return this.view(row);
  }

  private view(row: DeliveryRecord): DeliveryView {
    let message: DeliveryView['message'] = null;
    if (row.channel === 'second_terminal') {
      const opened = openSecondTerminalMessage(this.deps.secrets, row);
      message = {
        amount: opened.amount,
        currency: opened.currency,
        payeeName: opened.payeeName,
        expiresAtMs: opened.expiresAtMs,
      };
    }
    return {
      id: row.id,
      payerId: row.payerId,
      paymentId: row.paymentId,
      channel: row.channel,
      status: row.status,
      attempts: row.attempts,
      nextAttemptAtMs: row.status === 'pending' ? row.nextAttemptAtMs : null,
      lastError: row.lastError,
      createdAtMs: row.createdAtMs,
      deliveredAtMs: row.deliveredAtMs,
      message,
    };
  }

  /** Whether the development outbox is on. */
  get developmentOutboxEnabled(): boolean {
    return this.deps.developmentOutbox;
  }

  /** The development outbox, newest first; `route_not_found` when it is off, as if it did not exist. */
  async developmentMessages(limit: number): Promise<DevelopmentOutboxEntry[]> {
    if (!this.deps.developmentOutbox) throw new CountersignError('route_not_found');
    const bounded = Math.max(1, Math.min(limit, limits.pageSizeMax));
    const rows = await this.deps.deliveryStore.listDevelopmentMessages(this.deps.database, bounded);
    return rows.map((row) => {
      const kept = JSON.parse(
        this.deps.secrets.box
          .open(row.messageSealed, developmentMessageLabel(row.deliveryId))
          .toString('utf8'),
      ) as DevelopmentMessage;
      return { ...kept, deliveryId: row.deliveryId, payerId: row.payerId, createdAtMs: row.createdAtMs };
    });
  }

  /** Deletes development-outbox messages past their retention; returns how many. */
  purgeDevelopmentMessages(limit: number = limits.terminalPurgeBatchSizeMax): Promise<number> {
    const { database, clock, deliveryStore } = this.deps;
    const before = clock.nowMs() - limits.developmentOutboxRetentionHours * 3600 * 1000;
    return database.transaction((tx) => deliveryStore.purgeDevelopmentMessages(tx, before, limit));
  }
}
