/**
 * Every limit of the platform, in one place. Names carry their unit last, so that a reader never has to
 * guess whether a number counts seconds, milliseconds, bytes or items.
 *
 * Grouped by what they bound: `limits` (the platform's own: ledger, payers, terminals, sessions, storage),
 * `merchantLimits` (what a merchant sends), `auditLimits` (the audit log), `webhookLimits` (webhook
 * delivery), `ocraLimits` (RFC 4226 and RFC 6287) and `httpLimits` (the HTTP layer, which tests may lower
 * per app). This module imports nothing, so that the page scripts (OCRA runs in browsers too) can load it.
 */
/** Request body size accepted by the HTTP API (named here because a second limit derives from it). */
const requestBodyBytesMax = 16 * 1024;

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
  requestBodyBytesMax,
  /**
   * Nesting of objects and arrays the JSON body scan for NUL follows: each level takes at least one byte,
   * so a body within `requestBodyBytesMax` never reaches it.
   */
  jsonScanDepthMax: requestBodyBytesMax,
  /** Page size bounds for list endpoints, and the size of a page when the request names none (Stripe's). */
  pageSizeMax: 100,
  pageSizeDefault: 10,
  /**
   * The page of the operator's second-terminal outbox (`GET /v1/deliveries`) when the request names none:
   * messages are looked at in runs, so a longer page than other lists.
   */
  deliveryPageSizeDefault: 20,
  /** Proxies `TRUST_PROXY` may count in front of the server; more hops than this are no real deployment. */
  trustedProxyHopsMax: 16,
  /** Proxy addresses and networks `TRUST_PROXY` may list. */
  trustedProxyAddressesMax: 64,
  /** Connections in the PostgreSQL pool. */
  databasePoolSizeMax: 100,
  /** Hosts a failover `DATABASE_URL` may name (a primary and its standbys). */
  databaseHostsMax: 8,
  /**
   * Retries of a statement or transaction that never reached a primary (connection refused, only a standby
   * answering) before the request is answered 503; with the backoff below they span about 1.5 s.
   */
  databaseUnavailableRetriesMax: 4,
  /** First wait between those attempts, doubled after each: 100, 200, 400, 800 ms, about 1.5 s in all. */
  databaseUnavailableBackoffBaseMs: 100,
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
  /**
   * What a second terminal's passkey approval sends around that answer (the JSON keys, the client data's
   * envelope), counted on top of `passkeyResponseBytesMax` in the route's body limit.
   */
  passkeyApprovalEnvelopeBytesMax: 1024,
  /**
   * The costs a terminal vault may ask of the key derivation that opens it. A vault names its own costs
   * (a file written with other ones still opens); these bounds keep an altered file from making its opener
   * allocate gigabytes or spin for hours. Far above what any release writes: Argon2id 64 MiB, 3 passes,
   * 1 lane; PBKDF2 600,000 iterations.
   */
  vaultArgon2idMemoryKibibytesMax: 1_048_576,
  vaultArgon2idIterationsMax: 64,
  vaultArgon2idParallelismMax: 16,
  vaultPbkdf2IterationsMax: 10_000_000,
  /**
   * Longest wait before a transaction's retry after a serialization failure or deadlock; each wait is a
   * random part of the smaller of this and 2^attempt ms, so that two contending transactions drift apart.
   */
  transactionRetryBackoffMsMax: 50,
  /** First wait before reconnecting to the shared counters, grown by this much per attempt up to its bound. */
  sharedCounterReconnectDelayStepMs: 100,
  /**
   * Characters of a field name that an invalid-request error echoes back as its `param` (a name that is a
   * plain token only): a JSON path of nested fields, and a duplicated key's name.
   */
  errorParamLengthMax: 200,
  duplicateKeyParamLengthMax: 64,
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
  /** Characters of an operator's name: a login name, not a person's full name. */
  operatorNameLengthMax: 64,
  /** Bounds of an operator's password (longer than a payer's: operators hold every payer's fate). */
  operatorPasswordLengthMin: 12,
  operatorPasswordLengthMax: 128,
  /** The longest date range one export of the books covers, in days (a year, leap or not). */
  exportRangeDaysMax: 366,
  /**
   * Characters of an export's kind, and of each end of its range (a date, or an instant with milliseconds:
   * 24 characters), and of its format's name (`csv`, `json`): anything longer names none of them.
   */
  exportQueryValueLengthMax: 32,
  exportFormatLengthMax: 8,
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
  /**
   * Shortest interval of the purges (idempotency keys, terminal housekeeping), whatever the sweep interval:
   * what they delete only has to go eventually, so running them more than once a minute is wasted work.
   */
  purgeIntervalMsMin: 60_000,
  // Parties: what the operator and the payer type.
  /** Payer identification code (and payee id) length: short enough to type, room for an e-mail-like id. */
  partyIdLengthMin: 3,
  partyIdLengthMax: 64,
  /** Digits of the payer verification code, the OCRA PIN input: a PIN of 4 digits at least, 12 at most. */
  verificationCodeDigitsMin: 4,
  verificationCodeDigitsMax: 12,
  /** Password length bounds, in characters; the upper bound keeps the hash's input bounded. */
  passwordLengthMin: 8,
  passwordLengthMax: 128,
  /** Payee display-name length, in characters: enough for a company's full name, short enough for a page. */
  payeeNameLengthMax: 200,
  /**
   * Characters of a session token (a payer's or an operator's) that is looked up at all: a token is its
   * prefix and 43 base64url characters, so anything much longer is refused without a database read.
   */
  sessionTokenLengthMax: 128,
  /** Characters of the payee name in a second-terminal SMS; longer names are cut, so a message fits two segments. */
  smsPayeeNameLengthMax: 60,

  // Terminals and enrollments.
  /** Longest label of a terminal, in characters: a name such as "work laptop", shown in lists. */
  terminalLabelLengthMax: 64,
  /**
   * Digits of the second code a terminal suite may produce: RFC 4226's bounds of a HOTP value (at least 6,
   * and 31 bits give at most 10), the same as `ocraLimits.hotpDigitsMin` and `hotpDigitsMax`.
   */
  terminalSuiteDigitsMin: 6,
  terminalSuiteDigitsMax: 10,
  /** Longest enrollment URI accepted: a 256-byte key is 512 hex digits; everything else is well under 600. */
  enrollmentUriLengthMax: 2048,
  /** Characters of a terminal's public key (base64url SPKI) at enrollment: a P-256 key is 122. */
  terminalPublicKeyLengthMax: 200,
  /**
   * A terminal's last-seen time is rewritten at most this often: it is shown to the payer as "last seen", which
   * needs no finer grain, and a busy terminal's requests then mostly write nothing for it.
   */
  terminalTouchIntervalMs: 60_000,
  /**
   * Time one request of the command-line terminal may take (every request but the event stream): far longer
   * than a platform that is up takes to answer, short enough that one that is not is reported.
   */
  terminalRequestTimeoutMs: 15_000,
  /**
   * How long a terminal waits before reopening an event stream that ended without a refusal (a restart, a
   * network change): the stream announces it (its `retry:` field, for an EventSource) and the browser
   * terminal, which reads the stream through fetch, waits it itself; the command line comes back sooner,
   * since a person watching its output waits for it.
   */
  terminalStreamRetryMs: 3_000,
  commandLineStreamRetryMs: 2_000,
  /** The browser terminal scans for an enrollment QR code this long, looking at a frame this often. */
  enrollmentScanMs: 120_000,
  enrollmentScanFrameIntervalMs: 250,

  // Ledger, storage and keys.
  /** Characters of a transfer's reference: a kind and an id (`refund:<uuid>`), with room to spare. */
  transferReferenceLengthMax: 200,
  /** Violations of one invariant that `ledger verify` lists; past a few, more names add nothing to fix. */
  ledgerViolationsShownMax: 20,
  /** Longest backup manifest line read before giving up: a manifest is a few hundred bytes. */
  backupManifestBytesMax: 4096,
  /** Largest plaintext `seal` accepts: sealed values are small secrets, never documents. */
  sealPlaintextBytesMax: 64 * 1024,
  /** Rounds of "find a stale lock, move it away, try again" before giving up on a contended directory. */
  dataDirectoryTakeoverAttemptsMax: 3,
  /** Deepest nesting `restrictTreeToOwner` walks: PGlite's directory is a few levels deep. */
  dataDirectoryDepthMax: 16,
  /**
   * Claiming an idempotency key can race with a release (row gone between INSERT and SELECT) or with a
   * take-over; a few rounds settle every such race, and a caller who still has no answer is told the key
   * is in use.
   */
  idempotencyClaimRoundsMax: 3,
  /**
   * Payment batches running at once. PGlite runs one transaction at a time, so a second batch would only
   * wait; on PostgreSQL a second batch reads, locks its payments and computes its codes while the first one
   * holds the accounts and commits (docs/performance.md). With group commit off every operation is a batch
   * of one, and as many run at once as the pool serves.
   */
  commitBatchesInFlightMax: Object.freeze({ pglite: 1, postgres: 2 } as const),
  singleOperationsInFlightMax: Object.freeze({ pglite: 1, postgres: 16 } as const),

  // Pages and logs.
  /**
   * Rows of one page of an operator's lists (payers, payees, accounts, transfers, audit log, outbox), and of
   * the payments listed on one payer's or payee's page, which shares the page with their balances.
   */
  operatorPageRowsMax: 50,
  operatorPartyPaymentsPageRowsMax: 20,
  /** Payments on one page of a payer's own history (`/payments`). */
  payerPaymentsPageRowsMax: 20,
  /** Characters of the transfer reference prefix the operator's transfer list filters by. */
  transferReferenceFilterLengthMax: 100,
  /** Largest form body the pages accept: forms carry a few short fields. */
  pageFormBytesMax: 8 * 1024,
  /** Longest value of one form field, in characters; longer values are refused, not cut. */
  formFieldLengthMax: 512,
  /** Nested causes of a logged error searched for database fields to strip; an error chain is never deeper. */
  loggedErrorDepthMax: 8,
});

/** Bounds of what a merchant sends. */
export const merchantLimits = Object.freeze({
  /** Characters of a payment request's reference (the merchant's order number, shown to the payer). */
  referenceCharactersMax: 200,
  /** Characters of a payment request's description. */
  descriptionCharactersMax: 500,
  /** Characters of a URL (return URL, webhook URL). */
  urlCharactersMax: 2048,
  /** A payment request's lifetime: at least a minute, at most a day, an hour unless the merchant says. */
  paymentRequestTtlSecondsMin: 60,
  paymentRequestTtlSecondsMax: 24 * 60 * 60,
  paymentRequestTtlSecondsDefault: 60 * 60,
  /** Active API keys of one merchant at once (rotation needs two). */
  activeApiKeysMax: 10,
  /** How long a rotated key may keep working, at most. */
  rotationGraceSecondsMax: 7 * 24 * 60 * 60,
  /**
   * Page sizes of list endpoints: the platform's. `pageSizeAcceptedMax` is the largest `limit` the schema
   * lets through, so that `limitOf` answers a page size out of bounds with a message naming them.
   */
  pageSizeMin: 1,
  pageSizeMax: limits.pageSizeMax,
  pageSizeDefault: limits.pageSizeDefault,
  pageSizeAcceptedMax: 9999,
});
/** Bounds of what one event may carry, and of the work one call may ask for. */
export const auditLimits = Object.freeze({
  /** Events appended by one call (one transaction). */
  eventsPerAppendMax: 1000,
  /** Characters of a subject (an id). */
  subjectCharactersMax: 200,
  /** Keys of one detail object. */
  detailKeysMax: 32,
  /** Characters of one string value of a detail. */
  detailValueCharactersMax: 1000,
  /** Characters of the canonical detail text. */
  detailCharactersMax: 4000,
  /** Entries read at once when verifying the log. */
  verifyPageSizeEntries: 1000,
});
/** Bounds of webhook delivery. */
export const webhookLimits = Object.freeze({
  /** First wait after a failed attempt. */
  firstRetryDelayMs: 30_000,
  /** Longest wait between two attempts. */
  retryDelayMaxMs: 6 * 60 * 60 * 1000,
  /** No attempt starts later than this after the event (at-least-once, within three days). */
  retryWindowMs: 3 * 24 * 60 * 60 * 1000,
  /** Jitter of a wait, as a fraction of it. */
  retryJitterFraction: 0.1,
  /** Time one attempt may take (connect, send, answer), bounds and default. */
  attemptTimeoutMsMin: 1_000,
  attemptTimeoutMsMax: 30_000,
  attemptTimeoutMsDefault: 10_000,
  /** Extra lease beyond the attempt timeout before a claimed delivery may be claimed again. */
  claimLeaseMarginMs: 30_000,
  /** Deliveries one pass of the job claims, and how many it sends at once. */
  claimBatchSizeMax: 50,
  concurrentAttemptsMax: 8,
  /** Bytes of an answer read (the rest is discarded) and characters of it kept for the merchant to see. */
  responseBytesReadMax: 64 * 1024,
  responseExcerptCharactersMax: 256,
  /** Characters of a signature header read at all: a few signatures (during a rotation) are far fewer. */
  signatureHeaderLengthMax: 4096,
});
/**
 * Bounds of OCRA (`ocra.ts`): those set by RFC 4226 and RFC 6287, plus the few the platform adds (marked
 * "Ours") so that no input is unbounded. The RFC's are protocol constants, not policy: never change them.
 */
export const ocraLimits = Object.freeze({
  /** RFC 6287 section 6.3: a question format is QF04 to QF64. */
  questionLengthMin: 4,
  questionLengthMax: 64,
  /** RFC 6287 section 5.1: the question field is 128 bytes. */
  questionFieldBytes: 128,
  /** RFC 6287 section 6.2: t is 0 or 4 to 10. */
  digitsMin: 4,
  digitsMax: 10,
  /** RFC 4226 section 5.3: a HOTP value has at least 6 digits; 31 bits give at most 10. */
  hotpDigitsMin: 6,
  hotpDigitsMax: 10,
  /** RFC 4226 section 4 (R6): the shared secret is at least 128 bits. The maximum is ours. */
  keyBytesMin: 16,
  keyBytesMax: 256,
  /** Ours: a PIN or password longer than this is a mistake, not a credential. */
  pinBytesMax: 256,
  /** Ours: RFC 6287 lets the parties agree on any Snnn; 512 is its largest typical value. */
  sessionInformationBytesMax: 512,
  /** RFC 6287 section 6.3, Table 3: [1-59]S, [1-59]M, [1-48]H. */
  timeStepSecondsMax: 59,
  timeStepMinutesMax: 59,
  timeStepHoursMax: 48,
  /** Ours: the longest well-formed suite is 46 characters; longer text is rejected before parsing. */
  suiteLengthMax: 64,
});
/**
 * Limits of the HTTP layer. Tests may lower a limit through `AppDependencies.httpLimits` instead of sending
 * thousands of requests; production uses these values.
 */
export const httpLimits = Object.freeze({
  /** Requests one client address may make in one rate-limit window, across all routes. */
  requestsPerWindowPerAddressMax: 600,
  /**
   * Length of the rate-limit window: one minute, and it must stay one, since `RATE_LIMIT_PER_MINUTE` sets
   * the count per window in production (main.ts).
   */
  rateLimitWindowMs: 60_000,
  /** Client addresses the in-memory rate limiter tracks at once; the least recently seen are forgotten. */
  rateLimitAddressesTrackedMax: 10_000,
  /** Time to receive a whole request (headers and body); cuts off slow-loris clients. */
  requestTimeoutMs: 10_000,
  /** Idle time after which a socket is closed. */
  connectionTimeoutMs: 30_000,
  /** Idle time a kept-alive connection waits for the next request. */
  keepAliveTimeoutMs: 5_000,
  /** Length of an Idempotency-Key header, in characters. */
  idempotencyKeyLengthMax: 255,
  /**
   * How long a started idempotent request holds its key. A retry arriving later takes the key over, which
   * is how a request whose process crashed mid-way becomes retryable; it must exceed the longest handler.
   */
  idempotencyLeaseMs: 60_000,
  /** Length of a bearer token accepted in an Authorization header, in characters. */
  bearerTokenLengthMax: 512,
  /** Time the health check waits for the database before answering 503. */
  healthCheckTimeoutMs: 2_000,
  /**
   * Length of an incoming X-Request-Id kept as the request's id, in characters: room for a UUID with a
   * prefix, short enough that a client cannot fill log lines with it.
   */
  requestIdLengthMax: 128,
  /** Length of a URL path parameter, in characters. */
  pathParameterLengthMax: 200,
});
/** The shape of the HTTP limits, for overrides in tests. */
export type HttpLimits = { readonly [name in keyof typeof httpLimits]: number };

/** One numeric setting of the environment: the variable, its value when unset, and the values accepted. */
export interface SettingLimit {
  readonly variable: string;
  readonly defaultValue: number;
  readonly min: number;
  readonly max: number;
}

/** Thirty days, in seconds: the longest lock a setting may ask for (no lock is meant to be permanent). */
const lockSecondsLimit = 30 * 24 * 3600;

/**
 * The environment's numeric settings (README, *Configuration*): `config.ts` reads each through this table
 * only, so that the default it applies and the range it refuses outside are the ones listed here, and a
 * test keeps the README's table in step with it.
 */
export const settingLimits = Object.freeze({
  port: { variable: 'PORT', defaultValue: 8080, min: 0, max: 65_535 },
  databasePoolSize: {
    variable: 'DATABASE_POOL_SIZE',
    defaultValue: 10,
    min: 1,
    max: limits.databasePoolSizeMax,
  },
  codeTtlSeconds: {
    variable: 'CODE_TTL_SECONDS',
    defaultValue: 300,
    min: limits.codeTtlSecondsMin,
    max: limits.codeTtlSecondsMax,
  },
  /** The first lock after consecutive failures; each next one doubles, up to `lockSecondsMax`. */
  lockSeconds: { variable: 'LOCK_SECONDS', defaultValue: 900, min: 1, max: lockSecondsLimit },
  /** Its default is a day, or `LOCK_SECONDS` when that is longer (config.ts). */
  lockSecondsMax: { variable: 'LOCK_SECONDS_MAX', defaultValue: 86_400, min: 1, max: lockSecondsLimit },
  /** How often the background jobs run: often enough for expiry, not so often that they spin. */
  sweepIntervalMs: { variable: 'SWEEP_INTERVAL_MS', defaultValue: 1_000, min: 10, max: 60_000 },
  rateLimitPerMinute: {
    variable: 'RATE_LIMIT_PER_MINUTE',
    defaultValue: httpLimits.requestsPerWindowPerAddressMax,
    min: 1,
    max: 10_000_000,
  },
  commitBatchSize: {
    variable: 'COMMIT_BATCH_SIZE',
    defaultValue: limits.commitBatchSizeMax,
    min: 0,
    max: limits.commitBatchSizeMax,
  },
  commitBatchWaitMs: {
    variable: 'COMMIT_BATCH_WAIT_MS',
    defaultValue: limits.commitBatchWaitMsMax,
    min: 0,
    max: limits.commitBatchWaitMsMax,
  },
  rateLimitPerPayer: {
    variable: 'RATE_LIMIT_PER_PAYER',
    defaultValue: limits.payerAttemptsPerWindowMax,
    min: limits.rateLimitPerWindowMin,
    max: limits.rateLimitPerWindowMax,
  },
  /** One webhook attempt, connect to answer: a receiver gets a second at least, never more than 30. */
  webhookTimeoutMs: { variable: 'WEBHOOK_TIMEOUT_MS', defaultValue: 10_000, min: 1_000, max: 30_000 },
} satisfies Record<string, SettingLimit>);

/** Secrets the environment gives, by length. */
export const secretSettingLimits = Object.freeze({
  /** `OPERATOR_TOKEN` and `METRICS_TOKEN`: 22 base64url characters carry 132 bits; fewer is guessable. */
  bearerTokenLengthMin: 22,
  /** `SMS_GATEWAY_SECRET` keys an HMAC: a short one could be guessed from the signed messages. */
  smsGatewaySecretLengthMin: 32,
});
