/**
 * The frame of the operator console: the layout with the console's navigation, sign-out, the idle timeout,
 * and the fixed notices a page may be redirected to with `?notice=`.
 */
import { html, type SafeHtml } from '../html.js';
import { idleTimeoutData, idleTimeoutScript, idleWarning } from '../idle-timeout.js';
import { type Banner, noticeOf, renderLayout } from '../layout.js';

/** Paths of the console. */
export const operatorPaths = Object.freeze({
  dashboard: '/operator',
  signIn: '/operator/signin',
  signOut: '/operator/signout',
  setup: '/operator/setup',
  setupComplete: '/operator/setup/complete',
  operators: '/operator/operators',
  endSessions: (name: string) => `/operator/operators/${encodeURIComponent(name)}/end-sessions`,
  keepalive: '/operator/session/keepalive',
  payers: '/operator/payers',
  payees: '/operator/payees',
  deposits: '/operator/deposits',
  accounts: '/operator/ledger/accounts',
  transfers: '/operator/ledger/transfers',
  verify: '/operator/ledger/verify',
  exports: '/operator/ledger/export',
  audit: '/operator/audit',
  outbox: '/operator/outbox',
  payer: (id: string) => `/operator/payers/${encodeURIComponent(id)}`,
  unlock: (id: string) => `/operator/payers/${encodeURIComponent(id)}/unlock`,
  block: (id: string) => `/operator/payers/${encodeURIComponent(id)}/block`,
  payee: (id: string) => `/operator/payees/${encodeURIComponent(id)}`,
});

const notices: Readonly<Record<string, Banner>> = {
  unlocked: { kind: 'notice', text: 'The payer is unlocked.' },
  blocked: { kind: 'notice', text: 'The payer is blocked until you unlock it.' },
  deposited: { kind: 'notice', text: 'The deposit is booked.' },
  payee_created: { kind: 'notice', text: 'The payee is created.' },
  signed_out: { kind: 'notice', text: 'You are signed out.' },
  set_up: { kind: 'notice', text: 'Your account is set up. Sign in with your password and a new code.' },
  sessions_ended: { kind: 'notice', text: "The operator's sessions are ended." },
  expired: { kind: 'warning', text: 'Your session ended. Please sign in again.' },
};

/** The banner of a `notice` query value, if it names one. */
export function operatorNotice(notice: unknown): Banner[] {
  return noticeOf(notices, notice);
}

/** What every signed-in console page knows. */
export interface OperatorFrame {
  readonly csrfToken: string;
  readonly idleSecondsLeft: number;
  readonly currentPath: string;
  /** The signed-in operator's name and role, shown beside sign-out. */
  readonly operatorName: string;
  readonly role: string;
}

/** A signed-in console page. */
export function operatorPage(
  frame: OperatorFrame,
  title: string,
  body: SafeHtml,
  banners: readonly Banner[] = [],
): SafeHtml {
  return renderLayout({
    title,
    areaName: 'Operator console',
    homeHref: operatorPaths.dashboard,
    currentPath: frame.currentPath,
    navigation: [
      { href: operatorPaths.dashboard, label: 'Dashboard' },
      { href: operatorPaths.payers, label: 'Payers' },
      { href: operatorPaths.payees, label: 'Payees' },
      { href: operatorPaths.accounts, label: 'Accounts' },
      { href: operatorPaths.transfers, label: 'Transfers' },
      { href: operatorPaths.verify, label: 'Verify ledger' },
      { href: operatorPaths.audit, label: 'Audit log' },
      { href: operatorPaths.outbox, label: 'Outbox' },
      { href: operatorPaths.operators, label: 'Operators' },
    ],
    signOut: { action: operatorPaths.signOut, csrfToken: frame.csrfToken },
    banners,
    scripts: [idleTimeoutScript],
    data: idleTimeoutData(
      frame.idleSecondsLeft,
      operatorPaths.keepalive,
      `${operatorPaths.signIn}?notice=expired`,
    ),
    body: html`<p class="hint" data-testid="signed-in-as">Signed in as ${frame.operatorName} (${frame.role})</p>${idleWarning()}${body}`,
  });
}

/** A "newer / older" pager of a keyset list. */
export function pager(label: string, firstHref: string | undefined, nextHref: string | undefined): SafeHtml {
  if (firstHref === undefined && nextHref === undefined) return html``;
  return html`<nav class="pager" aria-label="${label}">${firstHref === undefined ? '' : html`<a href="${firstHref}">First page</a>`}${nextHref === undefined ? '' : html`<a href="${nextHref}">Next page</a>`}</nav>`;
}
