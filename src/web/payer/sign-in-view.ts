/**
 * The payer's sign-in page. A failed attempt shows the page's message for its code, keeps the payer id the
 * person typed, and never the password.
 */
import { limits } from '../../domain/limits.js';
import { html, type SafeHtml } from '../html.js';
import { type Banner, csrfField, renderLayout } from '../layout.js';
import { payerPaths } from './payer-frame.js';

/** What the sign-in page shows. */
export interface SignInView {
  readonly csrfToken: string;
  readonly payerId?: string;
  readonly banners?: readonly Banner[];
}

/** The sign-in page. */
export function signInPage(view: SignInView): SafeHtml {
  return renderLayout({
    title: 'Sign in',
    areaName: 'Payer',
    homeHref: payerPaths.home,
    narrow: true,
    banners: view.banners ?? [],
    body: html`<h1>Sign in</h1>
<form class="card" method="post" action="${payerPaths.signIn}">
${csrfField(view.csrfToken)}
<label for="payerId">Payer id</label>
<input id="payerId" name="payerId" autocomplete="username" required maxlength="${limits.partyIdLengthMax}" value="${view.payerId ?? ''}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="${limits.passwordLengthMax}">
<button type="submit">Sign in</button>
</form>
<p class="hint">After 5 failed attempts in a row, signing in is locked for a while. You are signed out after 5 minutes without activity.</p>`,
  });
}
