/**
 * Which ledger account belongs to whom. Account ids are derived from owner and currency, so a payment
 * finds its accounts without a lookup and a payer's wallet in a new currency comes into being on first use.
 *
 * Unlike the other derived ids (`ids.ts`), an account id is not keyed. Its inputs (kind, owner id,
 * currency) are no secret and it gives access to nothing: no route shows or changes an account by its id
 * except the operator's ledger view, behind the operator's credentials. And every ledger row of an
 * existing platform refers to accounts by these ids, so changing their derivation would orphan every
 * balance.
 */

import { createHash } from 'node:crypto';
import type { AccountKind } from '../../domain/ledger.js';
import type { AccountRequest } from './ledger-service.js';

/** The id of the account of `kind` owned by `ownerId` in `currency`. */
export function accountId(kind: AccountKind, ownerId: string, currency: string): string {
  const hash = createHash('sha256');
  for (const part of ['account', kind, ownerId, currency]) hash.update(`${part.length}:${part}`);
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A payer's wallet: no overdraft, ever. */
export function payerWallet(payerId: string, currency: string): AccountRequest {
  return {
    id: accountId('payer', payerId, currency),
    currency,
    kind: 'payer',
    ownerId: payerId,
    debitsMustNotExceedCredits: true,
  };
}

/** A payee's (or merchant's: a merchant is a payee) account. Refunds debit it, so it must not go below zero. */
export function payeeAccount(payeeId: string, currency: string): AccountRequest {
  return {
    id: accountId('payee', payeeId, currency),
    currency,
    kind: 'payee',
    ownerId: payeeId,
    debitsMustNotExceedCredits: true,
  };
}

/** The platform's funding account per currency: deposits come from it, so its balance goes negative. */
export function fundingAccount(currency: string): AccountRequest {
  return {
    id: accountId('funding', 'deposits', currency),
    currency,
    kind: 'funding',
    ownerId: 'deposits',
    debitsMustNotExceedCredits: false,
  };
}
