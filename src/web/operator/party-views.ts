/**
 * The console's payers and payees: search, create, detail (balances, payments, lock state, unlock,
 * deposit). Passwords and verification codes typed into the forms are never rendered back; a new payer's
 * terminal key is shown once, on the page that answers its creation.
 */
import { limits } from '../../domain/limits.js';
import type {
  CurrencyBalance,
  Paged,
  PayeeCurrencyBalance,
  PayeeSummary,
  PayerSummary,
  PaymentListing,
} from '../../services/operators/overview-service.js';
import type { TerminalView } from '../../services/terminals/terminal-service.js';
import { money, paymentStatus, shortId, statusBadge, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField } from '../layout.js';
import { operatorPaths } from './operator-frame.js';

/** Values and errors of a console form. */
export interface FormState {
  readonly values?: Readonly<Record<string, string>>;
  readonly error?: string;
}

function errorOf(state: FormState | undefined): SafeHtml | '' {
  return state?.error === undefined ? '' : html`<div class="error" role="alert">${state.error}</div>`;
}

function lockState(payer: PayerSummary): SafeHtml {
  if (!payer.locked) return statusBadge('active', 'ok');
  return payer.blocked ? statusBadge('blocked by the operator', 'locked') : statusBadge('locked', 'locked');
}

/** The payers page: search, list, create. */
export function payersBody(
  query: string,
  page: Paged<PayerSummary>,
  nextHref: string | undefined,
  create: FormState | undefined,
  csrfToken: string,
): SafeHtml {
  const rows = page.items.map(
    (payer) => html`<tr>
<td><a href="${operatorPaths.payer(payer.id)}">${payer.id}</a></td>
<td>${lockState(payer)}</td>
<td class="amount">${payer.consecutiveFailures}</td>
<td class="amount">${payer.activeTerminals}</td>
<td>${time(payer.createdAtMs)}</td>
</tr>`,
  );
  const values = create?.values ?? {};
  return html`<h1>Payers</h1>
<form class="filters card" method="get" action="${operatorPaths.payers}" role="search">
<label for="q">Payer id starts with</label><input id="q" name="q" value="${query}" maxlength="${limits.partyIdLengthMax}">
<button type="submit">Search</button>
</form>
${
  rows.length === 0
    ? html`<p>No payer matches.</p>`
    : html`<table><caption>Payers by id</caption>
<thead><tr><th scope="col">Payer id</th><th scope="col">State</th><th scope="col" class="amount">Failures in a row</th><th scope="col" class="amount">Active terminals</th><th scope="col">Created</th></tr></thead>
<tbody>${rows}</tbody></table>`
}
${nextHref === undefined ? '' : html`<nav class="pager" aria-label="Pages of payers"><a href="${nextHref}">Next page</a></nav>`}
<h2 id="create-payer">Create a payer</h2>
${errorOf(create)}
<form class="card" method="post" action="${operatorPaths.payers}" autocomplete="off" aria-labelledby="create-payer">
${csrfField(csrfToken)}
<label for="new-id">Payer id <span class="hint">${limits.partyIdLengthMin}–${limits.partyIdLengthMax} characters: letters, digits, . _ @ + -</span></label>
<input id="new-id" name="id" required maxlength="${limits.partyIdLengthMax}" value="${values['id'] ?? ''}">
<label for="new-password">Password <span class="hint">${limits.passwordLengthMin}–${limits.passwordLengthMax} characters; give it to the payer, it is not shown again</span></label>
<input id="new-password" name="password" type="password" required minlength="${limits.passwordLengthMin}" maxlength="${limits.passwordLengthMax}" autocomplete="new-password">
<label for="new-verification">Verification code <span class="hint">${limits.verificationCodeDigitsMin}–${limits.verificationCodeDigitsMax} digits</span></label>
<input id="new-verification" name="verificationCode" type="password" inputmode="numeric" required maxlength="${limits.verificationCodeDigitsMax}" autocomplete="off">
<fieldset>
<legend>Second terminal</legend>
<input type="radio" id="first-terminal-ocra" name="firstTerminal" value="ocra"${values['firstTerminal'] === 'none' ? '' : html` checked`}>
<label for="first-terminal-ocra">An OCRA terminal <span class="hint">its key is shown once, on the next page</span></label>
<input type="radio" id="first-terminal-none" name="firstTerminal" value="none"${values['firstTerminal'] === 'none' ? html` checked` : ''}>
<label for="first-terminal-none">None for now <span class="hint">the payer adds a passkey from their pages; the platform then holds no key that approves for them</span></label>
</fieldset>
<button type="submit">Create payer</button>
</form>`;
}

/**
 * The answer to creating a payer: the first terminal's key and enrollment, shown this once; or, for a payer
 * created without one, how they add a passkey.
 */
export function payerCreatedBody(
  payerId: string,
  terminal: { suite: string; keyHex: string } | null,
  qrSvg: SafeHtml | undefined,
): SafeHtml {
  if (terminal === null)
    return html`<h1>Payer ${payerId} created</h1>
<section class="card" data-testid="no-terminal">
<p>This payer has no second terminal yet. They sign in to their pages with the payer id and the password, and add a passkey under <strong>Terminals</strong>; until then they approve payments with the first code and the verification code.</p>
</section>
<p><a href="${operatorPaths.payer(payerId)}">Go to the payer</a></p>`;
  return html`<h1>Payer ${payerId} created</h1>
<div class="warning" role="alert">This page shows the key of the payer's first second terminal once. Set up the terminal now; the key is never shown again.</div>
<section class="card">
${qrSvg === undefined ? '' : html`<div class="qr">${qrSvg}</div>`}
<dl class="facts"><dt>OCRA suite</dt><dd class="mono">${terminal.suite}</dd><dt>Terminal key</dt><dd class="mono" data-testid="terminal-key">${terminal.keyHex}</dd></dl>
</section>
<p><a href="${operatorPaths.payer(payerId)}">Go to the payer</a></p>`;
}

function balancesTable(rows: readonly SafeHtml[], heldLabel: string): SafeHtml {
  if (rows.length === 0) return html`<p>No accounts yet.</p>`;
  return html`<table><thead><tr><th scope="col">Currency</th><th scope="col" class="amount">Available</th><th scope="col" class="amount">${heldLabel}</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function paymentsTable(page: Paged<PaymentListing>, counterpart: 'payer' | 'payee'): SafeHtml {
  if (page.items.length === 0) return html`<p>No payments.</p>`;
  const rows = page.items.map(
    ({ payment, payeeName }) => html`<tr>
<td>${time(payment.createdAtMs)}</td>
<td>${shortId(payment.id)}</td>
<td>${counterpart === 'payee' ? html`<a href="${operatorPaths.payee(payment.payeeId)}">${payeeName}</a>` : html`<a href="${operatorPaths.payer(payment.payerId)}">${payment.payerId}</a>`}</td>
<td class="amount">${money(payment.amount, payment.currency)}</td>
<td>${paymentStatus(payment.status)}</td>
<td class="amount">${payment.failedApprovals}</td>
</tr>`,
  );
  return html`<table><thead><tr><th scope="col">Created</th><th scope="col">Payment</th><th scope="col">${counterpart === 'payee' ? 'Payee' : 'Payer'}</th><th scope="col" class="amount">Amount</th><th scope="col">Status</th><th scope="col" class="amount">Wrong codes</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Everything the payer detail page shows. */
export interface PayerDetail {
  readonly payer: PayerSummary;
  readonly balances: readonly CurrencyBalance[];
  readonly payments: Paged<PaymentListing>;
  readonly nextPaymentsHref: string | undefined;
  readonly terminals: readonly TerminalView[];
  readonly deposit: FormState | undefined;
  readonly formKey: string;
}

/** The payer detail page. */
export function payerBody(detail: PayerDetail, csrfToken: string): SafeHtml {
  const { payer } = detail;
  const values = detail.deposit?.values ?? {};
  const balanceRows = detail.balances.map(
    (balance) =>
      html`<tr><td>${balance.currency}</td><td class="amount" data-testid="payer-available-${balance.currency}">${money(balance.available, balance.currency)}</td><td class="amount">${money(balance.held, balance.currency)}</td></tr>`,
  );
  const lockedUntil =
    payer.lockedUntilMs !== null && payer.locked && !payer.blocked
      ? html` until ${time(payer.lockedUntilMs)}`
      : '';
  const terminalRows = detail.terminals.map(
    (terminal) =>
      html`<tr><td>${terminal.label ?? 'unnamed'}</td><td>${shortId(terminal.id)}</td><td class="mono">${terminal.suite}</td><td>${terminal.status === 'active' ? statusBadge('active', 'ok') : statusBadge('revoked', 'failed')}</td><td>${time(terminal.createdAtMs)}</td></tr>`,
  );
  return html`<h1>Payer ${payer.id}</h1>
<section class="card" aria-labelledby="lock-title">
<h2 id="lock-title">Sign-in state</h2>
<p data-testid="lock-state">${lockState(payer)}${lockedUntil} · ${payer.consecutiveFailures} failed attempts in a row · ${payer.consecutiveLocks} consecutive locks (each doubles the next)</p>
${payer.locked || payer.consecutiveFailures > 0 || payer.consecutiveLocks > 0 ? html`<form method="post" action="${operatorPaths.unlock(payer.id)}">${csrfField(csrfToken)}<button type="submit">Unlock payer</button></form>` : ''}
${payer.blocked ? '' : html`<form method="post" action="${operatorPaths.block(payer.id)}">${csrfField(csrfToken)}<button type="submit" class="secondary">Block payer</button></form>`}
</section>
<h2>Balances</h2>
${balancesTable(balanceRows, 'Held')}
<h2 id="deposit-title">Deposit</h2>
${errorOf(detail.deposit)}
<form class="card filters" method="post" action="${operatorPaths.deposits}" aria-labelledby="deposit-title">
${csrfField(csrfToken)}
<input type="hidden" name="payerId" value="${payer.id}">
<input type="hidden" name="formKey" value="${detail.formKey}">
<label for="deposit-amount">Amount <span class="hint">e.g. 100.00</span><input id="deposit-amount" name="amount" required inputmode="decimal" maxlength="24" value="${values['amount'] ?? ''}"></label>
<label for="deposit-currency">Currency<input id="deposit-currency" name="currency" required maxlength="3" value="${values['currency'] ?? 'EUR'}"></label>
<button type="submit">Deposit</button>
</form>
<h2>Payments</h2>
${paymentsTable(detail.payments, 'payee')}
${detail.nextPaymentsHref === undefined ? '' : html`<nav class="pager" aria-label="Pages of payments"><a href="${detail.nextPaymentsHref}">Older payments</a></nav>`}
<h2>Terminals</h2>
${terminalRows.length === 0 ? html`<p>No terminals.</p>` : html`<table><thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Suite</th><th scope="col">Status</th><th scope="col">Added</th></tr></thead><tbody>${terminalRows}</tbody></table>`}`;
}

/** The payees page: search, list, create. */
export function payeesBody(
  query: string,
  page: Paged<PayeeSummary>,
  nextHref: string | undefined,
  create: FormState | undefined,
  csrfToken: string,
): SafeHtml {
  const values = create?.values ?? {};
  const rows = page.items.map(
    (payee) =>
      html`<tr><td><a href="${operatorPaths.payee(payee.id)}">${payee.id}</a></td><td>${payee.name}</td><td>${payee.kind}</td><td>${time(payee.createdAtMs)}</td></tr>`,
  );
  return html`<h1>Payees</h1>
<form class="filters card" method="get" action="${operatorPaths.payees}" role="search">
<label for="q">Id or name starts with</label><input id="q" name="q" value="${query}" maxlength="${limits.partyIdLengthMax}">
<button type="submit">Search</button>
</form>
${rows.length === 0 ? html`<p>No payee matches.</p>` : html`<table><caption>Payees by id</caption><thead><tr><th scope="col">Payee id</th><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Created</th></tr></thead><tbody>${rows}</tbody></table>`}
${nextHref === undefined ? '' : html`<nav class="pager" aria-label="Pages of payees"><a href="${nextHref}">Next page</a></nav>`}
<h2 id="create-payee">Create a payee</h2>
${errorOf(create)}
<form class="card" method="post" action="${operatorPaths.payees}" aria-labelledby="create-payee">
${csrfField(csrfToken)}
<label for="payee-id">Payee id</label><input id="payee-id" name="id" required maxlength="${limits.partyIdLengthMax}" value="${values['id'] ?? ''}">
<label for="payee-name">Name</label><input id="payee-name" name="name" required maxlength="${limits.payeeNameLengthMax}" value="${values['name'] ?? ''}">
<button type="submit">Create payee</button>
</form>`;
}

/** The payee detail page. */
export function payeeBody(
  payee: { id: string; name: string },
  balances: readonly PayeeCurrencyBalance[],
  payments: Paged<PaymentListing>,
  nextPaymentsHref: string | undefined,
): SafeHtml {
  const balanceRows = balances.map(
    (balance) =>
      html`<tr><td>${balance.currency}</td><td class="amount">${money(balance.available, balance.currency)}</td><td class="amount">${money(balance.incoming, balance.currency)}</td></tr>`,
  );
  return html`<h1>Payee ${payee.name} <span class="hint">${payee.id}</span></h1>
<h2>Balances</h2>
${balancesTable(balanceRows, 'Incoming (held)')}
<h2>Payments received</h2>
${paymentsTable(payments, 'payer')}
${nextPaymentsHref === undefined ? '' : html`<nav class="pager" aria-label="Pages of payments"><a href="${nextPaymentsHref}">Older payments</a></nav>`}`;
}
