/**
 * Read-only views for the web pages: a payer's balances and payments, the operator's lists of payers,
 * payees, accounts, transfers and deliveries, and the dashboard's counts. Lists are paged by keyset
 * (newest first, a cursor naming the last row shown), so a page costs the same however long history grows,
 * and a row inserted meanwhile never shifts another into a second page. Nothing here ever returns a
 * secret: no hashes, no sealed values, no delivery payloads.
 */
import { freshAttemptState, isLocked } from '../../domain/attempts.js';
import type { Clock } from '../../domain/clock.js';
import type { Account, Transfer } from '../../domain/ledger.js';
import { limits } from '../../domain/limits.js';
import type { Payment, PaymentStatus } from '../../domain/payment.js';
import type { Database, SqlExecutor } from '../database.js';

/** A payer's balance in one currency. */
export interface CurrencyBalance {
  readonly currency: string;
  /** What can be spent now. */
  readonly available: bigint;
  /** What open payments hold. */
  readonly held: bigint;
}

/** A payee's balance in one currency. */
export interface PayeeCurrencyBalance {
  readonly currency: string;
  readonly available: bigint;
  /** Held for it by open payments. */
  readonly incoming: bigint;
}

/** A payment with its payee's name, for lists. */
export interface PaymentListing {
  readonly payment: Payment;
  readonly payeeName: string;
}

/** Where a keyset page starts: after the row with this time and id. */
export interface Cursor {
  readonly createdAtMs: number;
  readonly id: string;
}

/** One page of a list, and the cursor of the next page when there is one. */
export interface Paged<T> {
  readonly items: readonly T[];
  readonly next?: Cursor;
}

/** A payer as the console lists it, with its lock state. */
export interface PayerSummary {
  readonly id: string;
  readonly createdAtMs: number;
  readonly consecutiveFailures: number;
  readonly lockedUntilMs: number | null;
  /** Blocked by the operator (locked until unblocked). */
  readonly blocked: boolean;
  /** Locks since the last success: the next lasts `LOCK_SECONDS × 2^consecutiveLocks`, capped. */
  readonly consecutiveLocks: number;
  /** Locked now. */
  readonly locked: boolean;
  readonly activeTerminals: number;
}

/** A payee as the console lists it. */
export interface PayeeSummary {
  readonly id: string;
  readonly name: string;
  readonly kind: 'payee' | 'merchant';
  readonly createdAtMs: number;
}

/** A row of the delivery outbox, without its (sealed) payload. */
export interface DeliverySummary {
  readonly id: string;
  readonly payerId: string;
  readonly paymentId: string | null;
  readonly channel: string;
  readonly status: 'pending' | 'delivered' | 'failed' | 'skipped';
  readonly attempts: number;
  readonly nextAttemptAtMs: number;
  readonly lastError: string | null;
  readonly createdAtMs: number;
  readonly deliveredAtMs: number | null;
}

/** Filters of the account list. */
export interface AccountFilter {
  readonly currency?: string;
  readonly kind?: Account['kind'];
  /** Owner id prefix. */
  readonly owner?: string;
}

/** Filters of the transfer list. */
export interface TransferFilter {
  readonly currency?: string;
  readonly kind?: Transfer['kind'];
  /** Either side of the transfer. */
  readonly accountId?: string;
  /** Reference prefix, e.g. `payment:<id>`. */
  readonly reference?: string;
}

/** Payments created in one minute. */
export interface MinuteCount {
  readonly minuteStartMs: number;
  readonly count: number;
}

/** The dashboard's numbers. */
export interface Dashboard {
  /** Payments created per minute over the last `dashboardMinutes`, oldest first, empty minutes included. */
  readonly paymentsPerMinute: readonly MinuteCount[];
  /** Over payments created in the last hour: approvals that succeeded, and wrong codes submitted. */
  readonly approvalsSucceeded: number;
  readonly approvalsFailed: number;
  /** Payments created in the last hour, by status. */
  readonly paymentsByStatus: Readonly<Partial<Record<PaymentStatus, number>>>;
  /** Holds not yet posted, voided or expired, per currency. */
  readonly openHolds: readonly {
    readonly currency: string;
    readonly count: number;
    readonly amount: bigint;
  }[];
  /** Payers locked now. */
  readonly lockedPayers: number;
}

/** Minutes the dashboard's chart covers. */
export const dashboardMinutes = 30;

/** What the overview needs from storage; `store/overview-repository` implements it in SQL. */
export interface OverviewStore {
  payerBalances(executor: SqlExecutor, payerId: string): Promise<CurrencyBalance[]>;
  payeeBalances(executor: SqlExecutor, payeeId: string): Promise<PayeeCurrencyBalance[]>;
  payments(
    executor: SqlExecutor,
    filter: { readonly payerId?: string; readonly payeeId?: string },
    after: Cursor | undefined,
    limit: number,
  ): Promise<PaymentListing[]>;
  payeeName(executor: SqlExecutor, payeeId: string): Promise<string | undefined>;
  payers(
    executor: SqlExecutor,
    idPrefix: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<Omit<PayerSummary, 'locked'>[]>;
  payees(
    executor: SqlExecutor,
    prefix: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<PayeeSummary[]>;
  accounts(
    executor: SqlExecutor,
    filter: AccountFilter,
    afterId: string | undefined,
    limit: number,
  ): Promise<Account[]>;
  transfers(
    executor: SqlExecutor,
    filter: TransferFilter,
    after: Cursor | undefined,
    limit: number,
  ): Promise<Transfer[]>;
  deliveries(executor: SqlExecutor, after: Cursor | undefined, limit: number): Promise<DeliverySummary[]>;
  paymentsPerMinute(executor: SqlExecutor, sinceMs: number): Promise<MinuteCount[]>;
  recentPaymentStats(
    executor: SqlExecutor,
    sinceMs: number,
  ): Promise<{ byStatus: Partial<Record<PaymentStatus, number>>; failedApprovals: number }>;
  openHolds(executor: SqlExecutor): Promise<Dashboard['openHolds']>;
  lockedPayers(executor: SqlExecutor, nowMs: number): Promise<number>;
}

const minuteMs = 60_000;

function boundedLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) return limits.pageSizeMax;
  return Math.min(limit, limits.pageSizeMax);
}

/** One more row than asked is read, so that a next page is offered only when it has rows. */
function paged<T>(rows: readonly T[], limit: number, cursorOf: (row: T) => Cursor): Paged<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, next: cursorOf(items[items.length - 1]!) };
}

/** Read-only views for the pages. */
export class OverviewService {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly store: OverviewStore,
  ) {}

  /** A payer's balances, one per currency the payer ever held. */
  payerBalances(payerId: string): Promise<CurrencyBalance[]> {
    return this.store.payerBalances(this.database, payerId);
  }

  /** A payee's balances, one per currency it was ever paid in. */
  payeeBalances(payeeId: string): Promise<PayeeCurrencyBalance[]> {
    return this.store.payeeBalances(this.database, payeeId);
  }

  /** Payments of a payer or to a payee (or all, for the operator), newest first. */
  async payments(
    filter: { readonly payerId?: string; readonly payeeId?: string },
    after: Cursor | undefined,
    limit: number,
  ): Promise<Paged<PaymentListing>> {
    const bounded = boundedLimit(limit);
    const rows = await this.store.payments(this.database, filter, after, bounded + 1);
    return paged(rows, bounded, (row) => ({ createdAtMs: row.payment.createdAtMs, id: row.payment.id }));
  }

  /** The name of a payee, or undefined when none has this id. */
  payeeName(payeeId: string): Promise<string | undefined> {
    return this.store.payeeName(this.database, payeeId);
  }

  /** Payers whose id starts with `idPrefix`, by id, with their lock state now. */
  async payers(idPrefix: string, afterId: string | undefined, limit: number): Promise<Paged<PayerSummary>> {
    const bounded = boundedLimit(limit);
    const nowMs = this.clock.nowMs();
    const rows = await this.store.payers(this.database, idPrefix, afterId, bounded + 1);
    const summaries = rows.map((row) => ({
      ...row,
      locked: isLocked({ ...freshAttemptState, ...row }, nowMs),
    }));
    return paged(summaries, bounded, (row) => ({ createdAtMs: 0, id: row.id }));
  }

  /** Payees whose id or name starts with `prefix`, by id. */
  async payees(prefix: string, afterId: string | undefined, limit: number): Promise<Paged<PayeeSummary>> {
    const bounded = boundedLimit(limit);
    const rows = await this.store.payees(this.database, prefix, afterId, bounded + 1);
    return paged(rows, bounded, (row) => ({ createdAtMs: 0, id: row.id }));
  }

  /** Ledger accounts matching `filter`, by id. */
  async accounts(filter: AccountFilter, afterId: string | undefined, limit: number): Promise<Paged<Account>> {
    const bounded = boundedLimit(limit);
    const rows = await this.store.accounts(this.database, filter, afterId, bounded + 1);
    return paged(rows, bounded, (row) => ({ createdAtMs: 0, id: row.id }));
  }

  /** Ledger transfers matching `filter`, newest first. */
  async transfers(
    filter: TransferFilter,
    after: Cursor | undefined,
    limit: number,
  ): Promise<Paged<Transfer>> {
    const bounded = boundedLimit(limit);
    const rows = await this.store.transfers(this.database, filter, after, bounded + 1);
    return paged(rows, bounded, (row) => ({ createdAtMs: row.createdAtMs, id: row.id }));
  }

  /** The delivery outbox, newest first; payloads are never read. */
  async deliveries(after: Cursor | undefined, limit: number): Promise<Paged<DeliverySummary>> {
    const bounded = boundedLimit(limit);
    const rows = await this.store.deliveries(this.database, after, bounded + 1);
    return paged(rows, bounded, (row) => ({ createdAtMs: row.createdAtMs, id: row.id }));
  }

  /** The dashboard's numbers, now. */
  async dashboard(): Promise<Dashboard> {
    const nowMs = this.clock.nowMs();
    const firstMinuteMs = (Math.floor(nowMs / minuteMs) - (dashboardMinutes - 1)) * minuteMs;
    const counted = await this.store.paymentsPerMinute(this.database, firstMinuteMs);
    const byMinute = new Map(counted.map((entry) => [entry.minuteStartMs, entry.count]));
    const paymentsPerMinute: MinuteCount[] = [];
    for (let index = 0; index < dashboardMinutes; index += 1) {
      const minuteStartMs = firstMinuteMs + index * minuteMs;
      paymentsPerMinute.push({ minuteStartMs, count: byMinute.get(minuteStartMs) ?? 0 });
    }
    const recent = await this.store.recentPaymentStats(this.database, nowMs - 60 * minuteMs);
    return {
      paymentsPerMinute,
      approvalsSucceeded: recent.byStatus.succeeded ?? 0,
      approvalsFailed: recent.failedApprovals,
      paymentsByStatus: recent.byStatus,
      openHolds: await this.store.openHolds(this.database),
      lockedPayers: await this.store.lockedPayers(this.database, nowMs),
    };
  }
}
