/**
 * Group commit: operations that arrive together are applied in ONE database transaction, so that one
 * durable commit (one WAL flush, one pass over the hot rows — the audit head, a shop's account) serves
 * many requests. This is TigerBeetle's batching, applied to the platform's own operations.
 *
 * A batch closes when it is full (`batchSizeMax`), when its oldest operation has waited `lingerMs`, or at
 * once when no batch is running (so a lone request never waits); at most `batchesInFlightMax` batches run
 * at a time, and while they run the next batch fills up, so batches grow with the load by themselves.
 *
 * `runMany(tx, inputs)` applies a whole batch with set-oriented statements and answers per input: done
 * (a value) or failed (an expected error, with nothing of it written). A batcher that wraps a store may
 * also answer `alone`: the input is then handed to the wrapped store's own statement (`runAlone`), as for an
 * idempotency key already taken; the payment batcher has no such path (a batch of one is its only other
 * size).
 *
 * A batch that throws rolls back whole and is split in two halves, each run again in arrival order
 * (bisection), so that one bad input fails only itself after about 2·log2(n) transactions, and never its
 * neighbours; a batch of one that throws rejects its caller with the error. Every split is counted and
 * reported (`onBatchFailed`) with its cause. An error whose message starts with `invariant:` is a bug, not
 * a bad input: it is never split or retried; the process is stopped (`onInvariantBroken`, by default an
 * uncaught exception), because a platform whose ledger broke an invariant must not go on.
 *
 * Every caller is answered only after the transaction holding its operation has committed.
 */
import { CountersignError } from '../../domain/errors.js';
import type { Database, SqlExecutor } from '../database.js';

/** How one input of a batch ended. */
export type BatchOutcome<O> =
  | { readonly kind: 'done'; readonly value: O }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'alone' };

/** What a batcher applies. */
export interface BatchOperation<I, O> {
  /**
   * Applies `inputs` inside `tx`, one outcome per input in order. It may run again with the same inputs
   * when the transaction is retried after a serialization failure, so it must not act outside `tx`.
   */
  runMany(tx: SqlExecutor, inputs: readonly I[]): Promise<BatchOutcome<O>[]>;
  /** Applies an input answered `alone` through the wrapped store's own statement (store wrappers only). */
  runAlone?(input: I): Promise<O>;
}

/** Bounds of a batcher. */
export interface CommitBatcherOptions<I = unknown> {
  /** Inputs in one batch (one transaction). */
  readonly batchSizeMax: number;
  /** Longest time an input waits for its batch to close while another batch runs, in milliseconds. */
  readonly lingerMs: number;
  /** Batches running at once. */
  readonly batchesInFlightMax: number;
  /** Inputs waiting at once; beyond it a caller is refused with `service_unavailable` (back-pressure). */
  readonly queueLengthMax: number;
  /**
   * False when `runMany` is a single statement, atomic on its own: it then runs on the database directly,
   * without BEGIN and COMMIT around it. Default true.
   */
  readonly transactional?: boolean;
  /** Names the kind of an input, for counters per kind when one batcher carries several operations. */
  readonly kindOf?: (input: I) => string;
  /** Told of every batch that threw and was split (or, alone, failed its caller), with the cause. */
  readonly onBatchFailed?: (error: unknown, size: number) => void;
  /** Told of a broken invariant; by default the error is rethrown outside any promise, ending the process. */
  readonly onInvariantBroken?: (error: Error) => void;
}

/** True for the errors that mean a bug: their message starts with `invariant:`. */
export function isInvariantFailure(error: unknown): error is Error {
  return error instanceof Error && error.message.startsWith('invariant:');
}

/** Stops the process: the error is thrown from a fresh turn of the event loop, where nothing catches it. */
function stopProcess(error: Error): void {
  setImmediate(() => {
    throw error;
  });
}

/** Counters of a batcher, for tests and benchmarks. */
export interface CommitBatcherStats {
  batches: number;
  inputs: number;
  batchSizeLargest: number;
  /** Inputs answered through the wrapped store's own statement (store wrappers only). */
  inputsAlone: number;
  /** Batches that threw and rolled back: split in two when they held several inputs, failed when one. */
  batchesRolledBack: number;
}

interface Pending<I, O> {
  readonly input: I;
  readonly enqueuedAtMs: number;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/** Collects inputs of one operation and commits them in shared transactions. */
export class CommitBatcher<I, O> {
  readonly stats: CommitBatcherStats = {
    batches: 0,
    inputs: 0,
    batchSizeLargest: 0,
    inputsAlone: 0,
    batchesRolledBack: 0,
  };
  /** The same counters per kind of input (`kindOf`): a batch counts once for each kind it holds. */
  readonly statsByKind = new Map<string, CommitBatcherStats>();
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(
    private readonly database: Database,
    private readonly operation: BatchOperation<I, O>,
    private readonly options: CommitBatcherOptions<NoInfer<I>>,
  ) {
    const { batchSizeMax, lingerMs, batchesInFlightMax, queueLengthMax } = options;
    if (!(Number.isInteger(batchSizeMax) && batchSizeMax >= 1)) throw new RangeError('batchSizeMax ≥ 1');
    if (!(lingerMs >= 0)) throw new RangeError('lingerMs ≥ 0');
    if (!(Number.isInteger(batchesInFlightMax) && batchesInFlightMax >= 1))
      throw new RangeError('batchesInFlightMax ≥ 1');
    if (!(queueLengthMax >= batchSizeMax)) throw new RangeError('queueLengthMax ≥ batchSizeMax');
  }

  /** Submits one input; resolves with its result once the transaction that applied it has committed. */
  submit(input: I): Promise<O> {
    if (this.queue.length >= this.options.queueLengthMax) {
      return Promise.reject(new CountersignError('service_unavailable'));
    }
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, enqueuedAtMs: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  /** Starts every batch that is due, and arms the timer of the one that is not yet. */
  private schedule(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.batchesInFlightMax) {
      const waitedMs = performance.now() - this.queue[0]!.enqueuedAtMs;
      const due =
        this.queue.length >= this.options.batchSizeMax ||
        waitedMs >= this.options.lingerMs ||
        this.inFlight === 0;
      if (!due) {
        this.armTimer(this.options.lingerMs - waitedMs);
        return;
      }
      if (
        this.inFlight === 0 &&
        this.queue.length < this.options.batchSizeMax &&
        this.immediate === undefined
      ) {
        // Nothing runs: close the batch after the requests that arrived in this same turn of the event loop.
        this.immediate = setImmediate(() => {
          this.immediate = undefined;
          this.startBatch();
          this.schedule();
        });
        return;
      }
      if (this.immediate !== undefined) return;
      this.startBatch();
    }
  }

  private armTimer(delayMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.schedule();
      },
      Math.max(0, Math.ceil(delayMs)),
    );
  }

  private startBatch(): void {
    const batch = this.queue.splice(0, this.options.batchSizeMax);
    if (batch.length === 0) return;
    this.inFlight += 1;
    this.stats.batches += 1;
    this.stats.inputs += batch.length;
    this.stats.batchSizeLargest = Math.max(this.stats.batchSizeLargest, batch.length);
    for (const [kind, count] of this.kindCounts(batch)) {
      const stats = this.kindStats(kind);
      stats.batches += 1;
      stats.inputs += count;
      stats.batchSizeLargest = Math.max(stats.batchSizeLargest, count);
    }
    void this.runBatch(batch).finally(() => {
      this.inFlight -= 1;
      this.schedule();
    });
  }

  /**
   * Commits one batch; a batch that throws is split in two and each half committed in turn (arrival order
   * kept). Inputs answered `alone` run after the commit, outside the batch's slot.
   */
  private async runBatch(batch: readonly Pending<I, O>[]): Promise<void> {
    const inputs = batch.map((pending) => pending.input);
    let outcomes: BatchOutcome<O>[];
    try {
      outcomes =
        this.options.transactional === false
          ? await this.operation.runMany(this.database, inputs)
          : await this.database.transaction((tx) => this.operation.runMany(tx, inputs));
      if (outcomes.length !== batch.length) throw new Error('invariant: one outcome per input');
    } catch (error) {
      await this.failed(batch, error);
      return;
    }
    for (const [index, pending] of batch.entries()) this.answer(pending, outcomes[index]!);
  }

  private async failed(batch: readonly Pending<I, O>[], error: unknown): Promise<void> {
    this.stats.batchesRolledBack += 1;
    for (const [kind] of this.kindCounts(batch)) this.kindStats(kind).batchesRolledBack += 1;
    if (isInvariantFailure(error)) {
      for (const pending of batch) pending.reject(error);
      (this.options.onInvariantBroken ?? stopProcess)(error);
      return;
    }
    this.options.onBatchFailed?.(error, batch.length);
    if (batch.length === 1) {
      batch[0]!.reject(error);
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await this.runBatch(batch.slice(0, half));
    await this.runBatch(batch.slice(half));
  }

  private answer(pending: Pending<I, O>, outcome: BatchOutcome<O>): void {
    if (outcome.kind === 'done') pending.resolve(outcome.value);
    else if (outcome.kind === 'failed') pending.reject(outcome.error);
    else {
      const { runAlone } = this.operation;
      if (runAlone === undefined) {
        pending.reject(new Error('invariant: an input answered alone by a batcher without runAlone'));
        return;
      }
      this.stats.inputsAlone += 1;
      const kind = this.options.kindOf?.(pending.input);
      if (kind !== undefined) this.kindStats(kind).inputsAlone += 1;
      runAlone.call(this.operation, pending.input).then(pending.resolve, pending.reject);
    }
  }

  private kindCounts(batch: readonly Pending<I, O>[]): Map<string, number> {
    const counts = new Map<string, number>();
    const { kindOf } = this.options;
    if (kindOf === undefined) return counts;
    for (const pending of batch) {
      const kind = kindOf(pending.input);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    return counts;
  }

  private kindStats(kind: string): CommitBatcherStats {
    let stats = this.statsByKind.get(kind);
    if (stats === undefined) {
      stats = { batches: 0, inputs: 0, batchSizeLargest: 0, inputsAlone: 0, batchesRolledBack: 0 };
      this.statsByKind.set(kind, stats);
    }
    return stats;
  }
}
