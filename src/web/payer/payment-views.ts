/**
 * The payer's overview, payment history, payment detail, "pay someone" form and approval step.
 */
import { limits } from '../../domain/limits.js';
import type { Payment } from '../../domain/payment.js';
import type {
  CurrencyBalance,
  Cursor,
  Paged,
  PaymentListing,
} from '../../services/operators/overview-service.js';
import { money, paymentStatus, time } from '../format.js';
import { html, pathWithQuery, type SafeHtml } from '../html.js';
import { csrfField } from '../layout.js';
import { fieldError, payerPaths } from './payer-frame.js';

/** A keyset cursor as one query value: `<createdAtMs>_<id>`. */
export function cursorParam(cursor: Cursor): string {
  return `${cursor.createdAtMs}_${cursor.id}`;
}

/** Parses a cursor query value; undefined for anything malformed. */
export function parseCursor(value: unknown): Cursor | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^([0-9]{1,16})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(value);
  if (match === null) return undefined;
  return { createdAtMs: Number(match[1]), id: match[2]! };
}

function balanceCards(balances: readonly CurrencyBalance[]): SafeHtml {
  if (balances.length === 0) return html`<p>You have no money on this platform yet.</p>`;
  const cards = balances.map(
    (balance) => html`<div class="card balance" data-currency="${balance.currency}">
<h3>${balance.currency}</h3>
<div class="available" data-testid="available-${balance.currency}">${money(balance.available, balance.currency)}</div>
<div>available</div>
<div class="held" data-testid="held-${balance.currency}">${money(balance.held, balance.currency)} held by open payments</div>
</div>`,
  );
  return html`<div class="balances">${cards}</div>`;
}

/** The payments table; empty history says so. */
export function paymentsTable(listings: readonly PaymentListing[], caption: string): SafeHtml {
  if (listings.length === 0) return html`<p>No payments yet.</p>`;
  const rows = listings.map(
    ({ payment, payeeName }) => html`<tr>
<td>${time(payment.createdAtMs)}</td>
<td>${payeeName} <span class="hint">${payment.payeeId}</span></td>
<td class="amount">${money(payment.amount, payment.currency)}</td>
<td>${paymentStatus(payment.status)}</td>
<td><a href="${payerPaths.payment(payment.id)}">Details<span class="sr-only"> of the payment of ${money(payment.amount, payment.currency)} to ${payeeName}</span></a></td>
</tr>`,
  );
  return html`<table>
<caption>${caption}</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Payee</th><th scope="col" class="amount">Amount</th><th scope="col">Status</th><th scope="col"><span class="sr-only">Link</span></th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

/** The overview: balances, the newest payments, and the way to pay. */
export function homeBody(balances: readonly CurrencyBalance[], recent: Paged<PaymentListing>): SafeHtml {
  return html`<h1>Overview</h1>
<h2>Balances</h2>
${balanceCards(balances)}
<p><a class="button" href="${payerPaths.pay}">Pay someone</a></p>
<h2>Latest payments</h2>
${paymentsTable(recent.items, 'Your latest payments, newest first')}
${recent.next === undefined ? '' : html`<p><a href="${payerPaths.payments}">All payments</a></p>`}`;
}

/** The payment history, one page. */
export function historyBody(page: Paged<PaymentListing>, isFirstPage: boolean): SafeHtml {
  const older =
    page.next === undefined
      ? ''
      : html`<a href="${pathWithQuery(payerPaths.payments, { after: cursorParam(page.next) })}">Older payments</a>`;
  const newest = isFirstPage ? '' : html`<a href="${payerPaths.payments}">Newest payments</a>`;
  return html`<h1>Payments</h1>
${paymentsTable(page.items, 'Your payments, newest first')}
<nav class="pager" aria-label="Pages of payments">${newest}${older}</nav>`;
}

/** Values and errors of the "pay someone" form. */
export interface PayForm {
  readonly payeeId?: string;
  readonly amount?: string;
  readonly currency?: string;
  readonly deliverTo?: 'first_terminal' | 'second_terminal';
  readonly formKey: string;
  readonly errors?: Readonly<Partial<Record<'payeeId' | 'amount' | 'currency' | 'form', string>>>;
}

/** The "pay someone" form. Currencies offered are those the payer holds money in. */
export function payBody(form: PayForm, currencies: readonly string[], csrfToken: string): SafeHtml {
  const errors = form.errors ?? {};
  const payee = fieldError('payeeId', errors.payeeId);
  const amount = fieldError('amount', errors.amount);
  const currency = fieldError('currency', errors.currency);
  const offered = currencies.length === 0 ? ['EUR'] : currencies;
  const options = offered.map(
    (code) => html`<option value="${code}"${code === form.currency ? html` selected` : ''}>${code}</option>`,
  );
  const deliverTo = form.deliverTo ?? 'first_terminal';
  return html`<h1>Pay someone</h1>
${errors.form === undefined ? '' : html`<div class="error" role="alert">${errors.form}</div>`}
<form class="card" method="post" action="${payerPaths.pay}" novalidate>
${csrfField(csrfToken)}
<input type="hidden" name="formKey" value="${form.formKey}">
<label for="payeeId">Payee id <span class="hint">The id the payee gave you, e.g. corner-shop.</span></label>
<input id="payeeId" name="payeeId" required maxlength="${limits.partyIdLengthMax}" value="${form.payeeId ?? ''}"${payee.attributes}>
${payee.text}
<label for="amount">Amount <span class="hint">For example 12.50</span></label>
<input id="amount" name="amount" required inputmode="decimal" maxlength="24" value="${form.amount ?? ''}"${amount.attributes}>
${amount.text}
<label for="currency">Currency</label>
<select id="currency" name="currency"${currency.attributes}>${options}</select>
${currency.text}
<fieldset>
<legend>Where should the first code go?</legend>
<input type="radio" id="deliver-first" name="deliverTo" value="first_terminal"${deliverTo === 'first_terminal' ? html` checked` : ''}>
<label for="deliver-first">Show it here</label>
<input type="radio" id="deliver-second" name="deliverTo" value="second_terminal"${deliverTo === 'second_terminal' ? html` checked` : ''}>
<label for="deliver-second">Send it to my second terminal</label>
</fieldset>
<button type="submit">Continue</button>
</form>`;
}

function paymentFacts(payment: Payment, payeeName: string): SafeHtml {
  return html`<dl class="facts">
<dt>Payee</dt><dd data-testid="payee">${payeeName} <span class="hint">${payment.payeeId}</span></dd>
<dt>Amount</dt><dd data-testid="amount">${money(payment.amount, payment.currency)}</dd>
<dt>Status</dt><dd data-testid="status">${paymentStatus(payment.status)}</dd>
<dt>Created</dt><dd>${time(payment.createdAtMs)}</dd>
${payment.status === 'requires_approval' ? html`<dt>Approve before</dt><dd>${time(payment.expiresAtMs)}</dd>` : ''}
<dt>First code</dt><dd>${payment.deliverTo === 'first_terminal' ? 'shown on this page' : 'sent to your second terminal'}</dd>
<dt>Wrong codes</dt><dd>${payment.failedApprovals} of 3</dd>
<dt>Payment id</dt><dd class="mono">${payment.id}</dd>
</dl>`;
}

/** What the approval step shows. */
export interface ApprovalView {
  readonly payment: Payment;
  readonly payeeName: string;
  /** Only in the answer to the "pay" form, when the code goes to this terminal: it exists nowhere else. */
  readonly firstCode?: string;
  readonly error?: string;
}

function approvalForms(view: ApprovalView, csrfToken: string): SafeHtml {
  const { payment } = view;
  const error =
    view.error === undefined
      ? ''
      : html`<div class="error" role="alert" id="approval-error">${view.error}</div>`;
  const firstCode =
    view.firstCode !== undefined
      ? html`<div class="card"><p>Your first code for this payment:</p>
<p class="code" data-testid="first-code">${view.firstCode}</p>
<p>Enter it into your second terminal. It shows the payee and the amount, and computes the second code. This code is shown only once.</p></div>`
      : payment.deliverTo === 'second_terminal'
        ? html`<p>The first code was sent to your second terminal. Check that it shows this payee and amount, then enter the second code it computes.</p>`
        : html`<p>The first code was shown when you created this payment. If you no longer have it, cancel this payment and start again.</p>`;
  return html`<h2>Approve</h2>
${error}
${firstCode}
<form class="card" method="post" action="${payerPaths.approve(payment.id)}" autocomplete="off">
${csrfField(csrfToken)}
<label for="secondCode">Second code <span class="hint">The code your second terminal shows</span></label>
<input id="secondCode" name="secondCode" inputmode="numeric" pattern="[0-9]{6,10}" maxlength="10" required autocomplete="one-time-code">
<button type="submit">Approve payment</button>
</form>
<form class="card" id="passkey-approve-form" method="post" action="${payerPaths.approve(payment.id)}" data-options-url="${payerPaths.passkeyApprovalOptions(payment.id)}" hidden>
${csrfField(csrfToken)}
<input type="hidden" name="passkeyChallengeId" value="">
<input type="hidden" name="passkeyResponse" value="">
<p>Or approve with a passkey of yours: your device asks for your fingerprint, face or PIN, and signs this payment — this payee, this amount — and nothing else.</p>
<button type="submit" id="passkey-approve">Approve with a passkey</button>
</form>
<details class="card">
<summary>Approve with the first code and your verification code instead</summary>
<form method="post" action="${payerPaths.approve(payment.id)}" autocomplete="off">
${csrfField(csrfToken)}
<label for="firstCode">First code</label>
<input id="firstCode" name="firstCode" inputmode="numeric" pattern="[0-9]{8}" maxlength="8" required>
<label for="verificationCode">Verification code</label>
<input id="verificationCode" name="verificationCode" type="password" inputmode="numeric" maxlength="${limits.verificationCodeDigitsMax}" required>
<button type="submit">Approve payment</button>
</form>
</details>
<form method="post" action="${payerPaths.cancel(payment.id)}">
${csrfField(csrfToken)}
<button type="submit" class="secondary">Cancel this payment</button>
</form>`;
}

/** The payment page: its facts, and the approval step while it waits for approval. */
export function paymentBody(view: ApprovalView, approvable: boolean, csrfToken: string): SafeHtml {
  const title = approvable ? 'Approve the payment' : 'Payment';
  return html`<h1>${title}</h1>
<section class="card">${paymentFacts(view.payment, view.payeeName)}</section>
${approvable ? approvalForms(view, csrfToken) : ''}
<p><a href="${payerPaths.payments}">All payments</a></p>`;
}
