/**
 * The hosted checkout's views: what the merchant asks for (merchant name, amount, reference), the payer's
 * sign-in with the choice of where the first code goes, the approval step, and the outcome. Server-rendered
 * forms without any script. Nothing here is shown to the merchant; the payer sees only their own id.
 */
import { limits } from '../../domain/limits.js';
import type { PaymentRequest } from '../../domain/merchant.js';
import type { Payment } from '../../domain/payment.js';
import { money, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, renderLayout } from '../layout.js';

/** Paths of the checkout pages. */
export const checkoutPaths = Object.freeze({
  page: (id: string) => `/checkout/${encodeURIComponent(id)}`,
  pay: (id: string) => `/checkout/${encodeURIComponent(id)}/pay`,
  approve: (id: string) => `/checkout/${encodeURIComponent(id)}/approve`,
  passkeyOptions: (id: string) => `/checkout/${encodeURIComponent(id)}/passkey-options`,
  cancel: (id: string) => `/checkout/${encodeURIComponent(id)}/cancel`,
});

/** The merchant's request as the payer sees it. */
export interface CheckoutSummary {
  readonly request: PaymentRequest;
  readonly merchantName: string;
}

/** A whole checkout page. */
export function checkoutPage(title: string, body: SafeHtml, scripts: readonly string[] = []): SafeHtml {
  return renderLayout({ title, areaName: 'Checkout', homeHref: '/', body, narrow: true, scripts });
}

/** The scripts of the approval step alone (the passkey ceremony); every other step runs no script. */
export const approvalScripts: readonly string[] = [
  'vendor/simplewebauthn-browser',
  'web/payer/scripts/passkeys',
];

function facts({ request, merchantName }: CheckoutSummary): SafeHtml {
  return html`<dl class="facts">
<dt>Pay to</dt><dd data-testid="merchant">${merchantName}</dd>
<dt>Amount</dt><dd data-testid="amount">${money(request.amount, request.currency)}</dd>
<dt>Reference</dt><dd data-testid="reference">${request.reference}</dd>
${request.description === null ? '' : html`<dt>For</dt><dd>${request.description}</dd>`}
</dl>`;
}

function errorBanner(message: string | undefined): SafeHtml {
  return message === undefined
    ? html``
    : html`<div class="error" role="alert" id="checkout-error">${message}</div>`;
}

/** The start: what is asked, and the payer's sign-in with the choice of where the first code goes. */
export function signInBody(
  summary: CheckoutSummary,
  csrfToken: string,
  form: { readonly payerId?: string; readonly deliverTo?: string; readonly error?: string } = {},
): SafeHtml {
  const deliverTo = form.deliverTo === 'second_terminal' ? 'second_terminal' : 'first_terminal';
  return html`<h1>Pay ${summary.merchantName}</h1>
<section class="card">${facts(summary)}<p class="hint">Pay before ${time(summary.request.expiresAtMs)}</p></section>
${errorBanner(form.error)}
<form class="card" method="post" action="${checkoutPaths.pay(summary.request.id)}" autocomplete="off">
${csrfField(csrfToken)}
<label for="payerId">Your payer id</label>
<input id="payerId" name="payerId" required maxlength="${limits.partyIdLengthMax}" autocomplete="username" value="${form.payerId ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" required maxlength="${limits.passwordLengthMax}" autocomplete="current-password">
<fieldset>
<legend>Where should the first code go?</legend>
<input type="radio" id="deliver-first" name="deliverTo" value="first_terminal"${deliverTo === 'first_terminal' ? html` checked` : ''}>
<label for="deliver-first">Show it here</label>
<input type="radio" id="deliver-second" name="deliverTo" value="second_terminal"${deliverTo === 'second_terminal' ? html` checked` : ''}>
<label for="deliver-second">Send it to my second terminal</label>
</fieldset>
<button type="submit">Sign in and pay</button>
</form>
<p class="hint">${summary.merchantName} never learns who you are: it sees only that its request was paid.</p>`;
}

/** What the approval step shows. */
export interface CheckoutApproval {
  readonly summary: CheckoutSummary;
  readonly payment: Payment;
  /** Only in the answer to the sign-in form, when the code goes to this terminal. */
  readonly firstCode?: string;
  /** Lets this page cancel the payment it started (a keyed hash of payment and payer). */
  readonly cancelToken: string;
  readonly error?: string;
}

/** The approval step: the first code when shown here, and the two ways to approve. */
export function approvalBody(view: CheckoutApproval, csrfToken: string): SafeHtml {
  const { summary, payment } = view;
  const requestId = summary.request.id;
  const firstCode =
    view.firstCode !== undefined
      ? html`<div class="card"><p>Your first code for this payment:</p>
<p class="code" data-testid="first-code">${view.firstCode}</p>
<p>Enter it into your second terminal: it shows the payee and the amount, and computes the second code. This code is shown only once.</p></div>`
      : payment.deliverTo === 'second_terminal'
        ? html`<p>The first code was sent to your second terminal. Check that it shows ${summary.merchantName} and ${money(payment.amount, payment.currency)}, then enter the second code it computes.</p>`
        : html`<p>The first code was shown before. If you no longer have it, cancel and start again.</p>`;
  const hidden = html`${csrfField(csrfToken)}<input type="hidden" name="paymentId" value="${payment.id}">`;
  return html`<h1>Approve your payment to ${summary.merchantName}</h1>
<section class="card">${facts(summary)}<p class="hint">Approve before ${time(payment.expiresAtMs)}</p></section>
${errorBanner(view.error)}
${firstCode}
<form class="card" method="post" action="${checkoutPaths.approve(requestId)}" autocomplete="off">
${hidden}
<label for="secondCode">Second code <span class="hint">The code your second terminal shows</span></label>
<input id="secondCode" name="secondCode" inputmode="numeric" pattern="[0-9]{6,10}" maxlength="10" required autocomplete="one-time-code">
<button type="submit">Approve payment</button>
</form>
<form class="card" id="passkey-approve-form" method="post" action="${checkoutPaths.approve(requestId)}" data-options-url="${checkoutPaths.passkeyOptions(requestId)}" hidden>
${hidden}
<input type="hidden" name="cancelToken" value="${view.cancelToken}">
<input type="hidden" name="passkeyChallengeId" value="">
<input type="hidden" name="passkeyResponse" value="">
<p>Or approve with a passkey of yours: your device asks for your fingerprint, face or PIN, and signs this payment to ${summary.merchantName} and nothing else.</p>
<button type="submit" id="passkey-approve">Approve with a passkey</button>
</form>
<details class="card">
<summary>Approve with the first code and your verification code instead</summary>
<form method="post" action="${checkoutPaths.approve(requestId)}" autocomplete="off">
${hidden}
<label for="firstCode">First code</label>
<input id="firstCode" name="firstCode" inputmode="numeric" pattern="[0-9]{8}" maxlength="8" required>
<label for="verificationCode">Verification code</label>
<input id="verificationCode" name="verificationCode" type="password" inputmode="numeric" maxlength="${limits.verificationCodeDigitsMax}" required>
<button type="submit">Approve payment</button>
</form>
</details>
<form method="post" action="${checkoutPaths.cancel(requestId)}">
${hidden}
<input type="hidden" name="cancelToken" value="${view.cancelToken}">
<button type="submit" class="secondary">Cancel and start again</button>
</form>`;
}

const outcomeWords: Readonly<Record<PaymentRequest['status'], string>> = {
  open: 'This payment request is waiting to be paid.',
  paid: 'This payment request has been paid. Thank you.',
  expired: 'This payment request has expired. Ask the merchant for a new one.',
  canceled: 'The merchant canceled this payment request.',
};

/**
 * The outcome of a request that no longer takes payments, with a way back to the merchant. The return URL
 * was checked to be an http(s) URL when the merchant gave it, so it cannot carry a script.
 */
export function outcomeBody(summary: CheckoutSummary, notice?: string): SafeHtml {
  const back =
    summary.request.returnUrl === null
      ? ''
      : html`<p><a class="button" href="${summary.request.returnUrl}">Back to ${summary.merchantName}</a></p>`;
  const tone = summary.request.status === 'paid' ? 'notice' : 'warning';
  return html`<h1>${summary.merchantName}</h1>
<section class="card">${facts(summary)}</section>
<div class="${tone}" role="status" data-testid="outcome">${notice ?? outcomeWords[summary.request.status]}</div>
${back}`;
}
