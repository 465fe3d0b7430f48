/**
 * Which ledger account belongs to whom. Account ids are derived from owner and currency, so a payment
 * finds its accounts without a lookup and a payer's wallet in a new currency comes into being on first use.
 */
import type { AccountKind } from '../domain/ledger.js';
import { derivedId } from './ids.js';
import type { AccountRequest } from './ledger-service.js';

/** The id of the account of `kind` owned by `ownerId` in `currency`. */
export function accountId(kind: AccountKind, ownerId: string, currency: string): string {
  return derivedId('account', kind, ownerId, currency);
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
