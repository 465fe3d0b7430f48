/**
 * The event streams of terminals connected to this server process. It only forwards: what a terminal must
 * see is decided by the database (the outbox rows and the payments they belong to), so a stream that
 * misses an event, or a server that dies, loses nothing — the terminal gets the challenge from its next
 * stream or from `GET /v1/terminal/challenges`. Each stream remembers which payments it was sent, so a
 * challenge pushed twice (by the outbox and by the poll) reaches the terminal once.
 */
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import type { SecondTerminalMessage } from '../delivery/delivery-message.js';

/** What a stream carries. */
export type TerminalStreamEvent =
  | { readonly type: 'challenge'; readonly challenge: SecondTerminalMessage }
  | { readonly type: 'closed'; readonly paymentId: string }
  | { readonly type: 'revoked' };

/** The HTTP layer's end of a stream. */
export interface TerminalStreamSink {
  send(event: TerminalStreamEvent): void;
  /** Ends the stream; the hub has already forgotten it. */
  close(): void;
}

interface StreamEntry {
  readonly sink: TerminalStreamSink;
  readonly sentPaymentIds: Set<string>;
}

/** Limits of a hub; the defaults are those of `limits.ts`. */
export interface PushHubLimits {
  readonly streamsPerTerminalMax: number;
  readonly streamsMax: number;
}

/** The registry of open streams in this process. */
export class TerminalPushHub {
  private readonly streams = new Map<string, Set<StreamEntry>>();
  private count = 0;

  constructor(
    private readonly hubLimits: PushHubLimits = {
      streamsPerTerminalMax: limits.terminalStreamsPerTerminalMax,
      streamsMax: limits.terminalStreamsPerProcessMax,
    },
  ) {}

  /**
   * Adds a stream of `terminalId`; returns the function that removes it. Throws
   * `terminal_streams_exhausted` when the terminal or the process has as many streams as allowed.
   */
  register(terminalId: string, sink: TerminalStreamSink): () => void {
    const entries = this.streams.get(terminalId) ?? new Set<StreamEntry>();
    if (entries.size >= this.hubLimits.streamsPerTerminalMax || this.count >= this.hubLimits.streamsMax) {
      throw new CountersignError('terminal_streams_exhausted');
    }
    const entry: StreamEntry = { sink, sentPaymentIds: new Set() };
    entries.add(entry);
    this.streams.set(terminalId, entries);
    this.count += 1;
    return () => this.forget(terminalId, entry);
  }

  private forget(terminalId: string, entry: StreamEntry): void {
    const entries = this.streams.get(terminalId);
    if (entries === undefined || !entries.delete(entry)) return;
    this.count -= 1;
    if (entries.size === 0) this.streams.delete(terminalId);
  }

  /** Sends a challenge to every stream of the terminal that was not sent this payment yet; returns how many. */
  publish(terminalId: string, challenge: SecondTerminalMessage): number {
    let sent = 0;
    for (const entry of this.streams.get(terminalId) ?? []) {
      if (entry.sentPaymentIds.has(challenge.paymentId)) continue;
      entry.sentPaymentIds.add(challenge.paymentId);
      entry.sink.send({ type: 'challenge', challenge });
      sent += 1;
    }
    return sent;
  }

  /** Tells the terminal's streams that payments they were sent and that are no longer open are closed. */
  closePaymentsExcept(terminalId: string, openPaymentIds: ReadonlySet<string>): number {
    let sent = 0;
    for (const entry of this.streams.get(terminalId) ?? []) {
      for (const paymentId of [...entry.sentPaymentIds]) {
        if (openPaymentIds.has(paymentId)) continue;
        entry.sentPaymentIds.delete(paymentId);
        entry.sink.send({ type: 'closed', paymentId });
        sent += 1;
      }
    }
    return sent;
  }

  /** Terminals with at least one open stream here. */
  connectedTerminalIds(): string[] {
    return [...this.streams.keys()];
  }

  /** Streams open in this process. */
  streamCount(): number {
    return this.count;
  }

  /** Ends every stream of a terminal, telling it first that it was revoked. */
  revokeTerminal(terminalId: string): void {
    for (const entry of [...(this.streams.get(terminalId) ?? [])]) {
      this.forget(terminalId, entry);
      entry.sink.send({ type: 'revoked' });
      entry.sink.close();
    }
  }

  /** Ends every stream (the server is shutting down; terminals reconnect to another). */
  closeAll(): void {
    for (const [terminalId, entries] of [...this.streams]) {
      for (const entry of [...entries]) {
        this.forget(terminalId, entry);
        entry.sink.close();
      }
    }
  }
}
