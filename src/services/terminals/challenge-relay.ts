/**
 * Push across servers. The transaction that writes a payment's delivery to the outbox also announces the
 * payment's id through the database (PostgreSQL NOTIFY, delivered to every listening server only when that
 * transaction commits). Each server listens, and on an announcement re-reads the open challenges of the
 * terminals connected to it and pushes those they were not sent yet. The announcement carries ids only:
 * the outbox row stays the truth, so a lost announcement (a listening connection that dropped) delays a
 * challenge until the next stream poll (`SWEEP_INTERVAL_MS`) and loses nothing.
 */
import type { SqlExecutor } from '../database.js';

/** The announcements, implemented by `store/` over the database's notifications. */
export interface ChallengeNotifications {
  /** Announces, inside `tx`, that these payments have new challenges; sent to listeners on commit. */
  announceIn(tx: SqlExecutor, paymentIds: readonly string[]): Promise<void>;
  /**
   * Calls `onAnnounced` with the payment ids of every announcement, and `onListening` whenever listening
   * (re)starts; resolves to the function that stops. Undefined when the engine has no notifications.
   */
  listen(
    onAnnounced: (paymentIds: readonly string[]) => void,
    onListening: () => void,
  ): Promise<(() => Promise<void>) | undefined>;
}

/** What the relay refreshes: one pass over this process's streams (`TerminalService.refreshStreams`). */
export type RefreshStreams = () => Promise<number>;

/**
 * Turns announcements into stream refreshes, coalesced: at most one pass runs at a time, and however many
 * announcements arrive during a pass, one more pass follows it. A burst of payments therefore costs a few
 * passes, not one per payment.
 */
export class ChallengeRelay {
  private running: Promise<void> | undefined;
  private again = false;
  private stopListening: (() => Promise<void>) | undefined;

  constructor(
    private readonly notifications: ChallengeNotifications,
    private readonly refreshStreams: RefreshStreams,
    private readonly reportFailure: (error: unknown) => void,
  ) {}

  /** Starts listening; returns whether the engine offers notifications (else only the poll pushes). */
  async start(): Promise<boolean> {
    const request = (): void => this.request();
    this.stopListening = await this.notifications.listen(request, request);
    return this.stopListening !== undefined;
  }

  /** Asks for a pass; runs it now, or once more after the pass that is running. */
  request(): void {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.refreshStreams()
      .then(
        () => undefined,
        (error: unknown) => this.reportFailure(error),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.request();
        }
      });
  }

  /** Stops listening and waits for the pass that is running, if any. */
  async stop(): Promise<void> {
    const stop = this.stopListening;
    this.stopListening = undefined;
    if (stop !== undefined) await stop();
    this.again = false;
    await this.running;
  }
}
