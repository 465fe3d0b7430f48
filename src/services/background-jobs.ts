/**
 * Background work of a server process: the expiry sweeper, outbox deliveries, purges. Each job claims its
 * rows in the database (FOR UPDATE SKIP LOCKED), so several processes can run the same jobs without doing
 * the same work twice, and nothing that matters lives only in one process's memory.
 */

/** A periodic job: `run` does one bounded pass and returns how many items it handled. */
export interface BackgroundJob {
  readonly name: string;
  readonly intervalMs: number;
  run(): Promise<number>;
}

/** Where job failures are reported; a failing pass is logged and retried at the next interval. */
export interface JobReporter {
  error(details: { job: string; err: unknown }, message: string): void;
}

/**
 * Where a failed outbound attempt (a webhook, a second-terminal message) is reported: the server's log.
 * Details never carry a message body or a response body: they may hold codes and a merchant's data.
 */
export interface AttemptFailureReporter {
  warn(details: Record<string, unknown>, message: string): void;
}

/** Runs jobs on their intervals until stopped. A pass that handled a full batch runs again at once. */
export class BackgroundJobs {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly jobs: readonly BackgroundJob[],
    private readonly reporter: JobReporter,
  ) {}

  /** Starts every job. */
  start(): void {
    for (const job of this.jobs) this.schedule(job, job.intervalMs);
  }

  private schedule(job: BackgroundJob, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const pass = this.pass(job);
      this.running.add(pass);
      void pass.finally(() => this.running.delete(pass));
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private async pass(job: BackgroundJob): Promise<void> {
    try {
      await job.run();
    } catch (err) {
      this.reporter.error(
        { job: job.name, err },
        'background job failed; it runs again at its next interval',
      );
    }
    this.schedule(job, job.intervalMs);
  }

  /** Stops scheduling and waits for passes in flight to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }
}
