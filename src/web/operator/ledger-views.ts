/**
 * The console's ledger: accounts and transfers with filters, and the verification of every invariant with
 * totals per currency.
 */

import { exportFormats, exportKinds } from '../../domain/export-format.js';
import type { Account, Transfer } from '../../domain/ledger.js';
import type { LedgerVerification } from '../../domain/ledger-verification.js';
import { limits } from '../../domain/limits.js';
import type { AccountFilter, TransferFilter } from '../../services/operators/overview-service.js';
import { money, shortId, statusBadge, time } from '../format.js';
import { html, pathWithQuery, type SafeHtml } from '../html.js';
import { csrfField } from '../layout.js';
import { operatorPaths } from './operator-frame.js';

/** Account kinds and transfer kinds offered by the filters. */
export const accountKinds: readonly Account['kind'][] = ['payer', 'payee', 'merchant', 'funding', 'platform'];
export const transferKinds: readonly Transfer['kind'][] = ['single', 'pending', 'post', 'void', 'expire'];

function options(values: readonly string[], selected: string | undefined): SafeHtml {
  return html`<option value="">any</option>${values.map((value) => html`<option value="${value}"${value === selected ? html` selected` : ''}>${value}</option>`)}`;
}

/** A select's options without "any": an export is always of one kind, in one format. */
function choices(values: readonly string[], selected: string): SafeHtml {
  return html`${values.map((value) => html`<option value="${value}"${value === selected ? html` selected` : ''}>${value}</option>`)}`;
}

function accountLink(id: string): SafeHtml {
  return html`<a href="${pathWithQuery(operatorPaths.transfers, { account: id })}" title="${id}">${shortId(id)}</a>`;
}

/** The accounts page. */
export function accountsBody(
  filter: AccountFilter,
  accounts: readonly Account[],
  nextHref: string | undefined,
): SafeHtml {
  const rows = accounts.map(
    (account) => html`<tr>
<td>${accountLink(account.id)}</td><td>${account.kind}</td><td>${account.ownerId ?? ''}</td><td>${account.currency}</td>
<td class="amount">${money(account.debitsPosted, account.currency)}</td><td class="amount">${money(account.creditsPosted, account.currency)}</td>
<td class="amount">${money(account.debitsPending, account.currency)}</td><td class="amount">${money(account.creditsPending, account.currency)}</td>
</tr>`,
  );
  return html`<h1>Accounts</h1>
<form class="filters card" method="get" action="${operatorPaths.accounts}">
<label for="currency">Currency<input id="currency" name="currency" maxlength="3" value="${filter.currency ?? ''}"></label>
<label for="kind">Kind<select id="kind" name="kind">${options(accountKinds, filter.kind)}</select></label>
<label for="owner">Owner starts with<input id="owner" name="owner" maxlength="${limits.partyIdLengthMax}" value="${filter.owner ?? ''}"></label>
<button type="submit">Filter</button>
</form>
${
  rows.length === 0
    ? html`<p>No account matches.</p>`
    : html`<table><caption>Accounts by id; select one to see its transfers</caption>
<thead><tr><th scope="col">Account</th><th scope="col">Kind</th><th scope="col">Owner</th><th scope="col">Currency</th><th scope="col" class="amount">Debits posted</th><th scope="col" class="amount">Credits posted</th><th scope="col" class="amount">Debits pending</th><th scope="col" class="amount">Credits pending</th></tr></thead>
<tbody>${rows}</tbody></table>`
}
${nextHref === undefined ? '' : html`<nav class="pager" aria-label="Pages of accounts"><a href="${nextHref}">Next page</a></nav>`}`;
}

/** The transfers page. */
export function transfersBody(
  filter: TransferFilter,
  transfers: readonly Transfer[],
  nextHref: string | undefined,
): SafeHtml {
  const rows = transfers.map(
    (transfer) => html`<tr>
<td>${time(transfer.createdAtMs)}</td><td>${shortId(transfer.id)}</td><td>${transfer.kind}</td>
<td>${accountLink(transfer.debitAccountId)}</td><td>${accountLink(transfer.creditAccountId)}</td>
<td class="amount">${money(transfer.amount, transfer.currency)}</td>
<td>${transfer.pendingId === null ? '' : shortId(transfer.pendingId)}</td><td class="mono">${transfer.reference ?? ''}</td>
</tr>`,
  );
  return html`<h1>Transfers</h1>
<form class="filters card" method="get" action="${operatorPaths.transfers}">
<label for="currency">Currency<input id="currency" name="currency" maxlength="3" value="${filter.currency ?? ''}"></label>
<label for="kind">Kind<select id="kind" name="kind">${options(transferKinds, filter.kind)}</select></label>
<label for="account">Account id<input id="account" name="account" maxlength="36" value="${filter.accountId ?? ''}"></label>
<label for="reference">Reference starts with<input id="reference" name="reference" maxlength="${limits.transferReferenceFilterLengthMax}" value="${filter.reference ?? ''}"></label>
<button type="submit">Filter</button>
</form>
${
  rows.length === 0
    ? html`<p>No transfer matches.</p>`
    : html`<table><caption>Transfers, newest first</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Transfer</th><th scope="col">Kind</th><th scope="col">Debit</th><th scope="col">Credit</th><th scope="col" class="amount">Amount</th><th scope="col">Resolves</th><th scope="col">Reference</th></tr></thead>
<tbody>${rows}</tbody></table>`
}
${nextHref === undefined ? '' : html`<nav class="pager" aria-label="Pages of transfers"><a href="${nextHref}">Next page</a></nav>`}
${exportForm()}`;
}

/**
 * The export form: a plain GET, so the browser downloads the file with the console session's cookie; the
 * range is [from, to) in UTC days, as the API and the CLI take it.
 */
function exportForm(): SafeHtml {
  return html`<h2 id="export-heading">Export for the books</h2>
<form class="filters card" method="get" action="${operatorPaths.exports}" aria-labelledby="export-heading">
<label for="export-kind">What<select id="export-kind" name="kind">${choices(exportKinds, 'transfers')}</select></label>
<label for="export-from">From (UTC, inclusive)<input id="export-from" name="from" type="date" required></label>
<label for="export-to">To (UTC, exclusive)<input id="export-to" name="to" type="date" required></label>
<label for="export-format">Format<select id="export-format" name="format">${choices(exportFormats, 'csv')}</select></label>
<button type="submit">Download</button>
</form>`;
}

/** The verification page: the button, and the result when it ran. */
export function verifyBody(result: LedgerVerification | undefined, csrfToken: string): SafeHtml {
  const checks =
    result === undefined
      ? ''
      : html`<section class="card" aria-labelledby="result-title">
<h2 id="result-title">Result: <span data-testid="ledger-result">${result.ok ? statusBadge('all invariants hold', 'ok') : statusBadge('violations found', 'broken')}</span></h2>
<table><thead><tr><th scope="col">Invariant</th><th scope="col">Result</th><th scope="col">Violations (first few)</th></tr></thead>
<tbody>${result.checks.map((check) => html`<tr><td>${check.name}</td><td>${check.ok ? statusBadge('holds', 'ok') : statusBadge('broken', 'broken')}</td><td>${check.violations.map((violation) => html`<div class="mono">${violation}</div>`)}</td></tr>`)}</tbody></table>
<h2>Totals per currency</h2>
${
  result.totals.length === 0
    ? html`<p>No accounts yet.</p>`
    : html`<table><thead><tr><th scope="col">Currency</th><th scope="col" class="amount">Debits posted</th><th scope="col" class="amount">Credits posted</th><th scope="col" class="amount">Debits pending</th><th scope="col" class="amount">Credits pending</th></tr></thead>
<tbody>${result.totals.map((total) => html`<tr><td>${total.currency}</td><td class="amount">${money(BigInt(total.debitsPosted), total.currency)}</td><td class="amount">${money(BigInt(total.creditsPosted), total.currency)}</td><td class="amount">${money(BigInt(total.debitsPending), total.currency)}</td><td class="amount">${money(BigInt(total.creditsPending), total.currency)}</td></tr>`)}</tbody></table>`
}
</section>`;
  return html`<h1>Verify the ledger</h1>
<p>Recomputes every account from the append-only history and checks each invariant by name. It reads the whole ledger, so it may take a while on a large one.</p>
<form method="post" action="${operatorPaths.verify}">${csrfField(csrfToken)}<button type="submit">Verify ledger</button></form>
${checks}`;
}
