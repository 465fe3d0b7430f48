/**
 * What both drivers share: parameters in a form both accept, and the pause between transaction retries.
 */

import { limits } from '../domain/limits.js';

function scalarParameter(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function arrayElement(value: unknown): unknown {
  // Array elements travel as text; the SQL casts them (`$1::bigint[]`, booleans as `$1::text[]::boolean[]`
  // because one driver serializes a boolean array element by element and reads 'true' as false).
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : String(value);
}

/**
 * Parameters as both drivers accept them: bigints as decimal text, arrays as arrays of text (the
 * statement casts them), everything else unchanged.
 */
export function normalizeParameters(params: readonly unknown[] | undefined): unknown[] {
  if (params === undefined) return [];
  return params.map((value) => (Array.isArray(value) ? value.map(arrayElement) : scalarParameter(value)));
}

/** Waits a little before a retry, with jitter so that two contending transactions drift apart. */
export function retryBackoff(attempt: number): Promise<void> {
  const ms = Math.min(limits.transactionRetryBackoffMsMax, 2 ** attempt) * Math.random();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
