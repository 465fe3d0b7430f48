/**
 * The ledger's rules, pure: given the accounts and pending transfers a batch touches, decide each
 * transfer's fate and the counter changes. The store loads that state under row locks, calls
 * `applyTransfers`, and writes what it returns; the database's CHECK constraints are the second line.
 *
 * The data model follows TigerBeetle's: accounts keep four counters (debits/credits × pending/posted);
 * a pending transfer (a hold) moves amounts into the pending counters and is later posted (in full or
 * in part), voided, or expired, exactly once.
 */
import { limits } from './limits.js';
import { isCurrency } from './money.js';

export type AccountKind = 'payer' | 'payee' | 'merchant' | 'funding' | 'platform';
export type TransferKind = 'single' | 'pending' | 'post' | 'void' | 'expire';
export type PendingStatus = 'pending' | 'posted' | 'voided' | 'expired';

/** An account and its counters, all in minor units of its currency. */
export interface Account {
  readonly id: string;
  readonly currency: string;
  readonly kind: AccountKind;
  readonly ownerId: string | null;
  readonly debitsMustNotExceedCredits: boolean;
  readonly creditsMustNotExceedDebits: boolean;
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
}

/** A transfer as recorded: append-only, never changed after it is written. */
export interface Transfer {
  readonly id: string;
  readonly kind: TransferKind;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly pendingId: string | null;
  readonly timeoutAtMs: number | null;
  readonly reference: string | null;
  readonly createdAtMs: number;
}

/**
 * A transfer as asked for. Single and pending transfers name both accounts and the amount; post, void
 * and expire name the pending transfer and take accounts and currency from it. A post may carry a
 * smaller amount (partial capture); without an amount it posts the full hold.
 */
export interface TransferRequest {
  readonly id: string;
  readonly kind: TransferKind;
  readonly debitAccountId?: string;
  readonly creditAccountId?: string;
  readonly amount?: bigint;
  readonly pendingId?: string;
  /** For pending transfers: when the hold lapses, in milliseconds since the epoch. */
  readonly timeoutAtMs?: number;
  readonly reference?: string;
}

/** Why a transfer was refused; each is a stable code, like TigerBeetle's result codes. */
export type TransferErrorCode =
  | 'id_invalid'
  | 'amount_must_be_positive'
  | 'amount_too_large'
  | 'amount_not_allowed'
  | 'accounts_must_be_different'
  | 'accounts_required'
  | 'debit_account_not_found'
  | 'credit_account_not_found'
  | 'currency_mismatch'
  | 'exceeds_credits'
  | 'exceeds_debits'
  | 'overflow'
  | 'timeout_required'
  | 'timeout_not_allowed'
  | 'timeout_in_past'
  | 'pending_id_required'
  | 'pending_id_not_allowed'
  | 'pending_transfer_not_found'
  | 'pending_transfer_already_posted'
  | 'pending_transfer_already_voided'
  | 'pending_transfer_expired'
  | 'pending_transfer_not_expired'
  | 'exceeds_pending_transfer_amount'
  | 'exists_with_different_fields'
  | 'reference_too_long';

/** The outcome of one transfer in a batch. */
export type TransferResult =
  | { readonly id: string; readonly status: 'created' | 'exists'; readonly transfer: Transfer }
  | { readonly id: string; readonly status: 'failed'; readonly error: TransferErrorCode };

/** A pending transfer and whether it is still open. */
export interface PendingTransferState {
  readonly transfer: Transfer;
  status: PendingStatus;
}

/** What a batch may read: accounts, pending transfers it resolves, transfers already recorded with its ids. */
export interface LedgerSnapshot {
  readonly accounts: Map<string, Account>;
  readonly pending: Map<string, PendingTransferState>;
  readonly existing: Map<string, Transfer>;
}

/** What a batch writes: new transfers, new pending states, resolved pending states, touched accounts. */
export interface LedgerChanges {
  readonly results: TransferResult[];
  readonly transfers: Transfer[];
  readonly newPending: Transfer[];
  readonly resolved: { readonly pendingId: string; readonly status: PendingStatus; readonly by: string }[];
  readonly accounts: Map<string, Account>;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True when `id` is a lower-case UUID, the form every ledger id takes. */
export function isUuid(id: string): boolean {
  return uuidPattern.test(id);
}

/** Ids of accounts and pending transfers a batch needs loaded (for the store, before locking). */
export function batchDependencies(requests: readonly TransferRequest[]): {
  accountIds: string[];
  pendingIds: string[];
  transferIds: string[];
} {
  const accountIds = new Set<string>();
  const pendingIds = new Set<string>();
  for (const request of requests) {
    if (request.debitAccountId !== undefined && isUuid(request.debitAccountId))
      accountIds.add(request.debitAccountId);
    if (request.creditAccountId !== undefined && isUuid(request.creditAccountId))
      accountIds.add(request.creditAccountId);
    if (request.pendingId !== undefined && isUuid(request.pendingId)) pendingIds.add(request.pendingId);
  }
  const transferIds = [...new Set(requests.map((request) => request.id).filter(isUuid))];
  return {
    accountIds: [...accountIds].sort(),
    pendingIds: [...pendingIds].sort(),
    transferIds: transferIds.sort(),
  };
}

/** Applies a batch to a snapshot, in order; each transfer succeeds or fails alone. Pure. */
export function applyTransfers(
  snapshot: LedgerSnapshot,
  requests: readonly TransferRequest[],
  nowMs: number,
): LedgerChanges {
  if (requests.length > limits.transferBatchSizeMax)
    throw new RangeError('batch exceeds transferBatchSizeMax');
  const accounts = new Map([...snapshot.accounts].map(([id, account]) => [id, { ...account }]));
  const pending = new Map([...snapshot.pending].map(([id, state]) => [id, { ...state }]));
  const existing = new Map(snapshot.existing);
  const changes: LedgerChanges = { results: [], transfers: [], newPending: [], resolved: [], accounts };
  for (const request of requests) {
    const result = applyOne({ accounts, pending, existing }, request, nowMs, changes);
    changes.results.push(result);
    if (result.status === 'created') existing.set(result.id, result.transfer);
  }
  return changes;
}

function applyOne(
  state: LedgerSnapshot,
  request: TransferRequest,
  nowMs: number,
  changes: LedgerChanges,
): TransferResult {
  const fail = (error: TransferErrorCode): TransferResult => ({ id: request.id, status: 'failed', error });
  if (!isUuid(request.id)) return fail('id_invalid');
  if (request.reference !== undefined && request.reference.length > limits.transferReferenceLengthMax) {
    return fail('reference_too_long');
  }
  const recorded = state.existing.get(request.id);
  if (recorded !== undefined) {
    return sameFields(recorded, request, state)
      ? { id: request.id, status: 'exists', transfer: recorded }
      : fail('exists_with_different_fields');
  }
  const outcome =
    request.kind === 'single' || request.kind === 'pending'
      ? applyMovement(state, request, nowMs, changes)
      : applyResolution(state, request, nowMs, changes);
  if (typeof outcome === 'string') return fail(outcome);
  changes.transfers.push(outcome);
  return { id: request.id, status: 'created', transfer: outcome };
}

function applyMovement(
  state: LedgerSnapshot,
  request: TransferRequest,
  nowMs: number,
  changes: LedgerChanges,
): Transfer | TransferErrorCode {
  if (request.pendingId !== undefined) return 'pending_id_not_allowed';
  if (request.debitAccountId === undefined || request.creditAccountId === undefined)
    return 'accounts_required';
  if (request.amount === undefined || request.amount <= 0n) return 'amount_must_be_positive';
  if (request.amount > limits.transferAmountMax) return 'amount_too_large';
  if (request.debitAccountId === request.creditAccountId) return 'accounts_must_be_different';
  if (request.kind === 'pending' && request.timeoutAtMs === undefined) return 'timeout_required';
  if (request.kind === 'single' && request.timeoutAtMs !== undefined) return 'timeout_not_allowed';
  if (request.timeoutAtMs !== undefined && request.timeoutAtMs <= nowMs) return 'timeout_in_past';
  const debit = state.accounts.get(request.debitAccountId);
  if (debit === undefined) return 'debit_account_not_found';
  const credit = state.accounts.get(request.creditAccountId);
  if (credit === undefined) return 'credit_account_not_found';
  if (debit.currency !== credit.currency) return 'currency_mismatch';
  const amount = request.amount;
  const field = request.kind === 'pending' ? 'Pending' : 'Posted';
  const debitsAfter = debit[`debits${field}`] + amount;
  const creditsAfter = credit[`credits${field}`] + amount;
  if (debitsAfter > limits.transferAmountMax || creditsAfter > limits.transferAmountMax) return 'overflow';
  // Pending debits count against the balance: a hold reserves funds exactly as a posted debit would.
  if (
    debit.debitsMustNotExceedCredits &&
    debit.debitsPending + debit.debitsPosted + amount > debit.creditsPosted
  ) {
    return 'exceeds_credits';
  }
  if (
    credit.creditsMustNotExceedDebits &&
    credit.creditsPending + credit.creditsPosted + amount > credit.debitsPosted
  ) {
    return 'exceeds_debits';
  }
  debit[`debits${field}`] = debitsAfter;
  credit[`credits${field}`] = creditsAfter;
  const transfer: Transfer = {
    id: request.id,
    kind: request.kind,
    debitAccountId: debit.id,
    creditAccountId: credit.id,
    amount,
    currency: debit.currency,
    pendingId: null,
    timeoutAtMs: request.kind === 'pending' ? (request.timeoutAtMs ?? null) : null,
    reference: request.reference ?? null,
    createdAtMs: nowMs,
  };
  if (transfer.kind === 'pending') {
    changes.newPending.push(transfer);
    state.pending.set(transfer.id, { transfer, status: 'pending' });
  }
  return transfer;
}

function resolutionError(status: PendingStatus): TransferErrorCode {
  if (status === 'posted') return 'pending_transfer_already_posted';
  if (status === 'expired') return 'pending_transfer_expired';
  return 'pending_transfer_already_voided';
}

function applyResolution(
  state: LedgerSnapshot,
  request: TransferRequest,
  nowMs: number,
  changes: LedgerChanges,
): Transfer | TransferErrorCode {
  if (request.pendingId === undefined) return 'pending_id_required';
  if (request.timeoutAtMs !== undefined) return 'timeout_not_allowed';
  const held = state.pending.get(request.pendingId);
  if (held === undefined) return 'pending_transfer_not_found';
  if (held.status !== 'pending') return resolutionError(held.status);
  const hold = held.transfer;
  if (request.debitAccountId !== undefined && request.debitAccountId !== hold.debitAccountId) {
    return 'accounts_must_be_different';
  }
  if (request.creditAccountId !== undefined && request.creditAccountId !== hold.creditAccountId) {
    return 'accounts_must_be_different';
  }
  const timedOut = hold.timeoutAtMs !== null && nowMs >= hold.timeoutAtMs;
  // A hold past its timeout can no longer be captured, even before the sweeper has expired it.
  if (request.kind === 'post' && timedOut) return 'pending_transfer_expired';
  if (request.kind === 'expire' && !timedOut) return 'pending_transfer_not_expired';
  let amount = hold.amount;
  if (request.amount !== undefined) {
    if (request.kind !== 'post' && request.amount !== hold.amount) return 'amount_not_allowed';
    if (request.amount <= 0n) return 'amount_must_be_positive';
    if (request.amount > hold.amount) return 'exceeds_pending_transfer_amount';
    amount = request.amount;
  }
  const debit = state.accounts.get(hold.debitAccountId);
  const credit = state.accounts.get(hold.creditAccountId);
  if (debit === undefined || credit === undefined) {
    throw new Error(`invariant: accounts of pending transfer ${hold.id} were not loaded`);
  }
  debit.debitsPending -= hold.amount;
  credit.creditsPending -= hold.amount;
  if (request.kind === 'post') {
    debit.debitsPosted += amount;
    credit.creditsPosted += amount;
  }
  held.status = request.kind === 'post' ? 'posted' : request.kind === 'void' ? 'voided' : 'expired';
  changes.resolved.push({ pendingId: hold.id, status: held.status, by: request.id });
  return {
    id: request.id,
    kind: request.kind,
    debitAccountId: hold.debitAccountId,
    creditAccountId: hold.creditAccountId,
    amount,
    currency: hold.currency,
    pendingId: hold.id,
    timeoutAtMs: null,
    reference: request.reference ?? null,
    createdAtMs: nowMs,
  };
}

/** Whether a retried request asks for the same transfer that was recorded under its id. */
function sameFields(recorded: Transfer, request: TransferRequest, state: LedgerSnapshot): boolean {
  if (recorded.kind !== request.kind) return false;
  if ((request.reference ?? null) !== recorded.reference) return false;
  if ((request.pendingId ?? null) !== recorded.pendingId) return false;
  if (recorded.kind === 'single' || recorded.kind === 'pending') {
    return (
      request.debitAccountId === recorded.debitAccountId &&
      request.creditAccountId === recorded.creditAccountId &&
      request.amount === recorded.amount &&
      (request.timeoutAtMs ?? null) === recorded.timeoutAtMs
    );
  }
  // A resolution without an amount means the full hold, which is what was recorded for void and expire.
  const hold = recorded.pendingId === null ? undefined : state.pending.get(recorded.pendingId);
  const requested = request.amount ?? hold?.transfer.amount;
  return requested === recorded.amount;
}

/** Checks an account row on its way in from storage: a broken invariant here is a bug, so it throws. */
export function assertAccountInvariants(account: Account): void {
  const counters = [
    account.debitsPending,
    account.debitsPosted,
    account.creditsPending,
    account.creditsPosted,
  ];
  if (counters.some((counter) => counter < 0n))
    throw new Error(`invariant: account ${account.id} has a negative counter`);
  if (!isCurrency(account.currency))
    throw new Error(`invariant: account ${account.id} has currency ${account.currency}`);
  if (
    account.debitsMustNotExceedCredits &&
    account.debitsPending + account.debitsPosted > account.creditsPosted
  ) {
    throw new Error(`invariant: account ${account.id} is overdrawn`);
  }
}
