/**
 * The frame of the payer's pages: the layout with the payer's navigation, the sign-out button and the
 * visible idle timeout, and the fixed notices a page may be redirected to with `?notice=`.
 */
import { type HtmlValue, html, type SafeHtml } from '../html.js';
import { idleTimeoutData, idleTimeoutScript, idleWarning } from '../idle-timeout.js';
import { type Banner, noticeOf, renderLayout } from '../layout.js';

/** Paths of the payer's pages. */
export const payerPaths = Object.freeze({
  home: '/',
  signIn: '/signin',
  signOut: '/signout',
  keepalive: '/session/keepalive',
  payments: '/payments',
  pay: '/pay',
  terminals: '/terminals',
  payment: (id: string) => `/payments/${encodeURIComponent(id)}`,
  approve: (id: string) => `/payments/${encodeURIComponent(id)}/approve`,
  cancel: (id: string) => `/payments/${encodeURIComponent(id)}/cancel`,
  revokeTerminal: (id: string) => `/terminals/${encodeURIComponent(id)}/revoke`,
  passkeys: '/passkeys',
  passkeyRegistrationOptions: '/passkeys/registration-options',
  passkeyApprovalOptions: (id: string) => `/payments/${encodeURIComponent(id)}/passkey-options`,
});

/** Sentences a redirect may ask a page to show; a query value is only ever a key of this table. */
const notices: Readonly<Record<string, Banner>> = {
  approved: { kind: 'notice', text: 'Payment approved. The money is on its way to the payee.' },
  canceled: { kind: 'notice', text: 'Payment canceled. The held amount is available again.' },
  signed_out: { kind: 'notice', text: 'You are signed out.' },
  expired: { kind: 'warning', text: 'Your session ended. Please sign in again.' },
  revoked: { kind: 'notice', text: 'The terminal was revoked. It can no longer approve payments.' },
  passkey_added: {
    kind: 'notice',
    text: 'Your passkey was added. It can approve your payments from now on.',
  },
  not_approvable: { kind: 'warning', text: 'This payment can no longer be approved.' },
  not_cancelable: { kind: 'warning', text: 'This payment can no longer be canceled.' },
};

/** The banner of a `notice` query value, if it names one. */
export function noticeBanner(notice: unknown): Banner[] {
  return noticeOf(notices, notice);
}

/** What every signed-in payer page knows. */
export interface PayerFrame {
  readonly payerId: string;
  readonly csrfToken: string;
  /** Seconds until the session ends if nothing happens. */
  readonly idleSecondsLeft: number;
  readonly currentPath: string;
}

/** A signed-in payer page. */
export function payerPage(
  frame: PayerFrame,
  title: string,
  body: SafeHtml,
  banners: readonly Banner[] = [],
): SafeHtml {
  return renderLayout({
    title,
    areaName: 'Payer',
    homeHref: payerPaths.home,
    currentPath: frame.currentPath,
    navigation: [
      { href: payerPaths.home, label: 'Overview' },
      { href: payerPaths.payments, label: 'Payments' },
      { href: payerPaths.pay, label: 'Pay someone' },
      { href: payerPaths.terminals, label: 'Terminals' },
    ],
    signOut: { action: payerPaths.signOut, csrfToken: frame.csrfToken },
    banners,
    scripts: [idleTimeoutScript, ...passkeyScripts],
    data: idleTimeoutData(frame.idleSecondsLeft, payerPaths.keepalive, `${payerPaths.signIn}?notice=expired`),
    body: html`${idleWarning()}<p class="hint">Signed in as <strong>${frame.payerId}</strong></p>${body}`,
  });
}

/**
 * The WebAuthn browser library (vendored, served by the platform) and the script that runs the passkey
 * ceremonies of the terminals and payment pages; on other pages it finds nothing to do.
 */
const passkeyScripts = ['vendor/simplewebauthn-browser', 'web/payer/scripts/passkeys'];

/** A field's `aria-invalid` and `aria-describedby` when it has an error message. */
export function fieldError(
  id: string,
  message: string | undefined,
): { attributes: SafeHtml; text: HtmlValue } {
  if (message === undefined) return { attributes: html``, text: '' };
  return {
    attributes: html` aria-invalid="true" aria-describedby="${id}-error"`,
    text: html`<span class="error" id="${id}-error">${message}</span>`,
  };
}
