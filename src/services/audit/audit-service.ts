/**
 * The audit log as a service. Other services append their events with `appendIn` inside their own
 * transaction, so that an entry commits or rolls back with the change it records; `append` is for an
 * event that stands alone. Appending locks the log's head row, which keeps positions gapless without a
 * sequence and serializes appenders only for the few statements of the append itself.
 */
import { createHash } from 'node:crypto';
import {
  type AuditChainBreak,
  type AuditChainPoint,
  type AuditEntry,
  type AuditEventInput,
  extendChain,
  genesisPoint,
  type PreparedAuditEvent,
  parseDetail,
  prepareAuditEvent,
  type Sha256Hex,
  type StoredAuditEntry,
  verifyChain,
  verifyHead,
} from '../../domain/audit.js';
import type { Clock } from '../../domain/clock.js';
import { auditLimits, limits } from '../../domain/limits.js';
import type { Database, SqlExecutor } from '../database.js';
import { newId } from '../ids.js';

/** What the audit log needs from storage; `store/audit-repository` implements it in SQL. */
export interface AuditStore {
  /** The head, locked until the end of `tx`: every appender waits here for the one before it. */
  lockHead(tx: SqlExecutor): Promise<AuditChainPoint>;
  /** The head, not locked. */
  selectHead(executor: SqlExecutor): Promise<AuditChainPoint>;
  /** Inserts entries with one statement. */
  insertEntries(tx: SqlExecutor, entries: readonly StoredAuditEntry[]): Promise<void>;
  /** Moves the head from `from` to `to`; throws when the head is not at `from`. */
  moveHead(tx: SqlExecutor, from: AuditChainPoint, to: AuditChainPoint): Promise<void>;
  /** At most `limit` entries before `beforePosition` (or the newest), newest first. */
  selectNewest(
    executor: SqlExecutor,
    beforePosition: number | undefined,
    limit: number,
  ): Promise<StoredAuditEntry[]>;
  /** At most `limit` entries with `afterPosition < position <= throughPosition`, oldest first. */
  selectRange(
    executor: SqlExecutor,
    afterPosition: number,
    throughPosition: number,
    limit: number,
  ): Promise<StoredAuditEntry[]>;
}

/** The audit head, locked in a transaction: appends entries after it, moving it on. */
export interface HeldAuditHead {
  /**
   * Chains `events` after the head and sends them with the head's move, in one round trip; throws when an
   * event breaks a rule (a bug of the caller: its transaction rolls back).
   */
  writeIn(tx: SqlExecutor, events: readonly AuditEventInput[], nowMs: number): Promise<AuditEntry[]>;
}

/** SHA-256 of UTF-8 text as lowercase hex: the hash the chain is built with. */
export const sha256Hex: Sha256Hex = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The outcome of verifying the whole log: how many entries verified, and the first broken position and why. */
export interface AuditVerification {
  readonly ok: boolean;
  readonly entries: number;
  readonly brokenAt?: number;
  readonly reason?: AuditChainBreak;
}

/** A page of the log, newest first. */
export interface AuditListOptions {
  /** Only entries before this position (the position of the last entry of the previous page). */
  readonly beforePosition?: number;
  /** At most `limits.pageSizeMax`; defaults to it. */
  readonly limit?: number;
}

function entryForApi(stored: StoredAuditEntry): AuditEntry {
  const { detailJson, ...fields } = stored;
  return { ...fields, detail: parseDetail(detailJson) };
}

/** Appends to, lists and verifies the hash-chained audit log. */
export class AuditService {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly store: AuditStore,
  ) {}

  /**
   * Appends `events`, in order, inside the caller's transaction `tx`. Throws, before locking anything,
   * when an event breaks a rule (a detail key naming a secret, a value that is not a scalar, a limit):
   * that is a bug of the caller, and throwing rolls its transaction back.
   *
   * `alongside` starts statements of the caller's that are sent just before the head is locked, in the
   * same round trip (the server runs them in order): the head, which every writer waits for, then stays
   * locked one round trip less. Whatever it returns is awaited before the entries are written.
   */
  async appendIn(
    tx: SqlExecutor,
    events: readonly AuditEventInput[],
    nowMs: number,
    alongside?: () => Promise<unknown>,
  ): Promise<AuditEntry[]> {
    if (events.length > auditLimits.eventsPerAppendMax) {
      throw new RangeError(`one append holds at most ${auditLimits.eventsPerAppendMax} events`);
    }
    if (!Number.isSafeInteger(nowMs) || nowMs < 0)
      throw new RangeError('nowMs must be a non-negative integer');
    const prepared = events.map((input) => prepareAuditEvent(newId(), input));
    if (prepared.length === 0) {
      await alongside?.();
      return [];
    }
    const [, held] = await Promise.all([alongside?.(), this.holdHead(tx)]);
    return (await held.writePreparedIn(tx, prepared, nowMs)).map(entryForApi);
  }

  /**
   * Locks the head inside `tx` and returns what appends under it. A caller that holds other hot rows
   * already (a payment batch holds its payees' accounts) sends this with the statement that locks them,
   * then sends the entries with its own writes: the rows stay locked one round trip less than with
   * `appendIn`, which has to read the head before it can chain the entries. Take the head after every
   * other lock of the transaction (the platform's lock order ends with it).
   */
  async lockHeadIn(tx: SqlExecutor): Promise<HeldAuditHead> {
    const held = await this.holdHead(tx);
    return {
      writeIn: async (writeTx, events, nowMs) => {
        const prepared = events.map((input) => prepareAuditEvent(newId(), input));
        return (await held.writePreparedIn(writeTx, prepared, nowMs)).map(entryForApi);
      },
    };
  }

  /** The head locked in `tx`, and the one writer of entries after it. */
  private async holdHead(tx: SqlExecutor) {
    const { store } = this;
    let head = await store.lockHead(tx);
    return {
      async writePreparedIn(
        writeTx: SqlExecutor,
        prepared: readonly PreparedAuditEvent[],
        nowMs: number,
      ): Promise<StoredAuditEntry[]> {
        if (!Number.isSafeInteger(nowMs) || nowMs < 0)
          throw new RangeError('nowMs must be a non-negative integer');
        if (prepared.length === 0) return [];
        const entries = extendChain(sha256Hex, head, prepared, nowMs);
        const last = entries[entries.length - 1]!;
        const from = head;
        head = { position: last.position, hash: last.hash };
        // Sent together, one round trip: the server runs them in order. Each insert carries at most
        // `eventsPerAppendMax` entries, the bound of one statement.
        const inserts: Promise<void>[] = [];
        for (let start = 0; start < entries.length; start += auditLimits.eventsPerAppendMax) {
          const chunk = entries.slice(start, start + auditLimits.eventsPerAppendMax);
          inserts.push(store.insertEntries(writeTx, chunk));
        }
        await Promise.all([...inserts, store.moveHead(writeTx, from, head)]);
        return entries;
      },
    };
  }

  /** Appends `events` in a transaction of their own. */
  append(events: readonly AuditEventInput[]): Promise<AuditEntry[]> {
    return this.database.transaction((tx) => this.appendIn(tx, events, this.clock.nowMs()));
  }

  /** A page of entries, newest first. */
  async list(options: AuditListOptions = {}): Promise<AuditEntry[]> {
    const limit = options.limit ?? limits.pageSizeMax;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > limits.pageSizeMax) {
      throw new RangeError(`limit must be 1 to ${limits.pageSizeMax}`);
    }
    const before = options.beforePosition;
    if (before !== undefined && (!Number.isSafeInteger(before) || before < 1)) {
      throw new RangeError('beforePosition must be a positive integer');
    }
    const stored = await this.store.selectNewest(this.database, before, limit);
    return stored.map(entryForApi);
  }

  /**
   * Verifies the whole log, reading it in pages by position so that memory stays bounded however long it
   * grows. Only entries up to the head read at the start are checked: later appends commit with a later
   * head, and a log that ends before its head lost its newest entries.
   */
  async verify(): Promise<AuditVerification> {
    const head = await this.store.selectHead(this.database);
    const pageSize = auditLimits.verifyPageSizeEntries;
    let end = genesisPoint;
    let entries = 0;
    // Each full page moves `end` forward by at least one position, so this ends after head/pageSize + 1 pages.
    for (let page = 0; page <= Math.ceil(head.position / pageSize); page += 1) {
      const stored = await this.store.selectRange(this.database, end.position, head.position, pageSize);
      const check = verifyChain(sha256Hex, stored, end);
      // Positions before the break are consecutive from 1, so exactly brokenAt - 1 entries verified.
      if (!check.ok)
        return { ok: false, entries: check.brokenAt - 1, brokenAt: check.brokenAt, reason: check.reason };
      entries += stored.length;
      end = check.end;
      if (stored.length < pageSize) break;
    }
    const headCheck = verifyHead(end, head);
    if (!headCheck.ok) return { ok: false, entries, brokenAt: headCheck.brokenAt, reason: headCheck.reason };
    return { ok: true, entries };
  }
}
