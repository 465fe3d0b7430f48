/**
 * Every limit of the platform, in one place. Names carry their unit last, so that a reader never has to
 * guess whether a number counts seconds, milliseconds, bytes or items.
 */
export const limits = Object.freeze({
  /** Largest amount one ledger transfer may carry: the largest signed 64-bit integer. */
  transferAmountMax: 2n ** 63n - 1n,
  /** Largest amount the JSON API accepts, so that every amount survives a JavaScript number. */
  apiAmountMax: 2 ** 53 - 1,
  /** Transfers accepted in one ledger batch; a batch is one database transaction. */
  transferBatchSizeMax: 8190,
  /** Attempts of a transaction that failed with a serialization failure or a deadlock. */
  transactionRetriesMax: 8,
  /** First-code lifetime bounds; the method caps a code's validity at ten minutes. */
  codeTtlSecondsMin: 1,
  codeTtlSecondsMax: 600,
  /** Request body size accepted by the HTTP API. */
  requestBodyBytesMax: 16 * 1024,
  /** Page size bounds for list endpoints. */
  pageSizeMax: 100,
  /** Proxies `TRUST_PROXY` may count in front of the server; more hops than this are no real deployment. */
  trustedProxyHopsMax: 16,
  /** Proxy addresses and networks `TRUST_PROXY` may list. */
  trustedProxyAddressesMax: 64,
  /** Connections in the PostgreSQL pool. */
  databasePoolSizeMax: 100,
  /** Hosts a failover `DATABASE_URL` may name (a primary and its standbys). */
  databaseHostsMax: 8,
  /**
   * Attempts of a statement or transaction that never reached a primary (connection refused, only a standby
   * answering) before the request is answered 503; with the backoff below they span about a second.
   */
  databaseUnavailableRetriesMax: 4,
  /**
   * How long a transaction whose statement reported a lost connection waits for the driver to see the
   * connection close, before it is ended as a failure on a connection that is evidently still open.
   */
  transactionConnectionCloseWaitMs: 1_000,
  /** Seconds a client is asked to wait (`Retry-After`) while no database primary can be reached. */
  databaseUnavailableRetryAfterSeconds: 1,
  /** Rows the expiry sweeper resolves in one pass. */
  sweepBatchSizeMax: 500,
  /** Payment operations committed together in one transaction (group commit). */
  commitBatchSizeMax: 500,
  /** Longest time an operation waits for its group-commit batch to close while another batch runs. */
  commitBatchWaitMsMax: 2,
  /** Operations waiting for a group commit at once; more are refused with 503 (back-pressure). */
  commitQueueLengthMax: 20_000,
  /**
   * Authentication attempts (password checks and code approvals) one payer id may make in one window,
   * whatever the client address: a throttle on top of the attempt locks. Counted by every server together
   * when `REDIS_URL` is set, else by each server process on its own.
   */
  payerAttemptsPerWindowMax: 20,
  /**
   * How long a reserved evaluation of a payer's secret holds its slot if it is never settled (its process
   * died): far longer than an Argon2 check and a commit take, short enough that a crash locks nobody out.
   */
  attemptReservationLeaseMs: 30_000,
  /** Length of the per-payer rate-limit window. */
  payerRateLimitWindowMs: 60_000,
  /** Payer ids the per-payer limiter tracks at once; the least recently seen are forgotten. */
  payerRateLimitPayersTrackedMax: 100_000,
  /** Seconds a client is asked to wait (`Retry-After`) while the shared attempt counter cannot be reached. */
  payerRateLimitUnavailableRetryAfterSeconds: 1,
  /**
   * Time one call to the shared counter (Redis) may take, connecting included, before it counts as out of
   * reach: a counter round trip is well under a millisecond, so a longer wait is an outage, not load.
   */
  sharedCounterTimeoutMs: 500,
  /** Longest pause between reconnections to the shared counters: a Redis back up is used within it. */
  sharedCounterReconnectDelayMsMax: 2_000,
  /** How long a server's start waits for the shared counters before it goes on without them (warned). */
  sharedCounterStartWaitMs: 5_000,
  /** Length of the key prefix (`REDIS_KEY_PREFIX`) under which a platform keeps its counts in Redis. */
  redisKeyPrefixLengthMax: 64,
  /** Bounds of the per-payer rate limit a deployment may configure, in attempts per window. */
  rateLimitPerWindowMin: 1,
  rateLimitPerWindowMax: 1_000_000,
  /** Sealed values re-encrypted under the current master key in one transaction of a key rotation. */
  resealBatchSizeMax: 500,
  /** Retired master keys a keyring holds at once. */
  retiredMasterKeysMax: 8,
  /** Lifetime of an enrollment (its URI and QR code): ten minutes, like the longest code lifetime. */
  enrollmentTtlSeconds: 600,
  /** Active terminals of one payer, and enrollments of one payer open at once. */
  terminalsPerPayerMax: 10,
  openEnrollmentsPerPayerMax: 5,
  /** Wrong verification codes an enrollment accepts before it is canceled. */
  enrollmentConfirmationFailuresMax: 3,
  /** A passkey ceremony's server challenge (registration or approval) is valid this long, and used once. */
  passkeyChallengeTtlSeconds: 300,
  /** Unused, unexpired passkey challenges of one payer at once; more is a script, not a person. */
  passkeyChallengesOpenPerPayerMax: 20,
  /**
   * Longest answer of an authenticator (the JSON of a registration or an assertion) a page form carries;
   * inside the page body's own bound of 8 KiB. Answers without attestation are about 1 to 2 KiB.
   */
  passkeyResponseBytesMax: 6144,
  /** How far the timestamp of a signed terminal request may be from the platform's clock, either way. */
  terminalRequestSkewSecondsMax: 60,
  /** Event streams open at once for one terminal, and in one server process. */
  terminalStreamsPerTerminalMax: 3,
  terminalStreamsPerProcessMax: 1000,
  /** A stream sends a comment this often, so that proxies keep it open and a dead peer is noticed. */
  terminalStreamHeartbeatSeconds: 15,
  /** A stream ends after this long; the terminal reconnects with a freshly signed request. */
  terminalStreamLifetimeSeconds: 3600,
  /**
   * Bytes of one database notification announcing new challenges (payment ids, comma-separated); the
   * server's own bound is 8000, and a batch announcing more ids sends several notifications.
   */
  challengeNotificationBytesMax: 7000,
  /** Open challenges one terminal request or stream pass returns. */
  terminalChallengesMax: 100,
  /** Delivery outbox: attempts of one message before it is marked failed. */
  deliveryAttemptsMax: 8,
  /** Backoff between attempts: base × 2^(attempt − 1), capped. */
  deliveryBackoffBaseMs: 1000,
  deliveryBackoffMaxMs: 60_000,
  /** Messages one delivery pass claims. */
  deliveryBatchSizeMax: 100,
  /** How long a claimed message stays claimed: a process that dies mid-delivery is retried after this. */
  deliveryLeaseMs: 30_000,
  /** How long one channel (the SMS gateway) may take to accept a message. */
  deliveryChannelTimeoutMs: 5000,
  /** Characters of a channel's error kept with an attempt. */
  deliveryErrorLengthMax: 500,
  /** How long the development outbox keeps a message. */
  developmentOutboxRetentionHours: 24,
  /** Rows one housekeeping pass deletes or closes (nonces, expired enrollments, development outbox). */
  terminalPurgeBatchSizeMax: 1000,
  /**
   * A payer session's last use is rewritten at most this often (and at most every tenth of its idle window):
   * a request inside the interval only reads the session, so most requests write nothing for it.
   */
  sessionTouchIntervalMsMax: 60_000,
  /** A payer's session ends after this long without a request (5 minutes), and after the lifetime in all. */
  payerSessionIdleMs: 5 * 60 * 1000,
  payerSessionLifetimeMs: 30 * 60 * 1000,
  /** An operator's console session ends after this long without a request, and after the lifetime in all. */
  operatorSessionIdleMs: 15 * 60 * 1000,
  operatorSessionLifetimeMs: 8 * 60 * 60 * 1000,
  /** How long a new operator's one-time set-up code is valid. */
  operatorSetupTtlMs: 24 * 60 * 60 * 1000,
  /** Bounds of an operator's password (longer than a payer's: operators hold every payer's fate). */
  operatorPasswordLengthMin: 12,
  operatorPasswordLengthMax: 128,
  /** The longest date range one export of the books covers, in days (a year, leap or not). */
  exportRangeDaysMax: 366,
  /** Rows an export reads from the database per page; the file is streamed, a page at a time. */
  exportPageRowsMax: 1000,
  /**
   * Metadata of a payment, payment request or refund: at most this many keys, each key and value a string of
   * at most this many characters (Stripe's bounds but fewer keys: metadata is a merchant's cross-reference,
   * not a store). Stored with the object and repeated in every answer and event about it.
   */
  metadataKeysMax: 20,
  metadataKeyLengthMax: 40,
  metadataValueLengthMax: 500,
  /** Completed idempotency keys are kept at least this long, so that a client may retry for a whole day. */
  idempotencyKeyRetentionMs: 24 * 60 * 60 * 1000,
  /** Expired idempotency keys one purge deletes, at most. */
  idempotencyPurgeBatchSizeMax: 1000,
});
