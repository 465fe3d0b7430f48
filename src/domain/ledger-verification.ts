/**
 * The result of checking the ledger's invariants against its append-only history: what the store's
 * verification returns and what the operator pages and the CLI show. Declared here, not beside the SQL
 * that computes it, so that the layers that show it need not import the store.
 */

/** One named invariant and whether it holds; `violations` lists a few offenders when it does not. */
export interface LedgerCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly violations: readonly string[];
}

/** The result of `verifyLedger`: every check, and whether all passed. */
export interface LedgerVerification {
  readonly ok: boolean;
  readonly checks: readonly LedgerCheck[];
  readonly totals: readonly {
    currency: string;
    debitsPosted: string;
    creditsPosted: string;
    debitsPending: string;
    creditsPending: string;
  }[];
}
