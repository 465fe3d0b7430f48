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
  /** Connections in the PostgreSQL pool. */
  databasePoolSizeMax: 100,
  /** Rows the expiry sweeper resolves in one pass. */
  sweepBatchSizeMax: 500,
});
