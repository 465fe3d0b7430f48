/**
 * The port `/metrics` reads the platform's state through: counts of rows by status, read from the database
 * at scrape time (`store/metrics-repository.ts` implements it), so that they are the same whichever
 * process answers the scrape.
 */

/** A count of rows for one value of a status column. */
export interface StatusCount {
  readonly status: string;
  readonly count: number;
}

/** The state counts `/metrics` reports (see docs/operations.md, "Metrics"). */
export interface PlatformStateCounts {
  readonly paymentsByStatus: readonly StatusCount[];
  /**
   * Subjects locked now after consecutive failed authentications, or blocked by an operator, by kind:
   * `payer` (payer ids as claimed) and `operator` (operator sign-ins).
   */
  readonly locksByKind: readonly { readonly kind: string; readonly count: number }[];
  readonly webhookDeliveriesByStatus: readonly StatusCount[];
  /** Webhook attempts that did not end in a 2xx answer (time-out, connection failure, refusal, 4xx/5xx). */
  readonly webhookAttemptsFailed: number;
  readonly deliveriesByStatus: readonly StatusCount[];
  readonly deliveryAttemptsFailed: number;
}
