/**
 * The payer's second terminals: which exist, which can approve, and the ways to add or revoke one. Keys are
 * never shown here; enrolling a new terminal shows its one-time enrollment QR code (the browser
 * authenticator at `/terminal`, or an authenticator app, reads it).
 */
import { limits } from '../../domain/limits.js';
import type { TerminalView } from '../../services/terminals/terminal-service.js';
import { statusBadge, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField } from '../layout.js';
import { payerPaths } from './payer-frame.js';

/** What the terminals page shows. */
export interface TerminalsView {
  readonly terminals: readonly TerminalView[];
  /** An error of the last enroll or revoke, from the catalog's page messages. */
  readonly error?: string;
  readonly csrfToken: string;
  /** Whether terminals can be revoked from this page. */
  readonly canRevoke: boolean;
  /** The enrollment step, when the payer just asked for one: its QR code (an SVG) and its expiry. */
  readonly enrollment?: { readonly qrSvg: SafeHtml; readonly expiresAtMs: number };
  /** Where enrolling starts: a form action (POST) here, or a link to the authenticator. */
  readonly enroll:
    | { readonly kind: 'form'; readonly action: string }
    | { readonly kind: 'link'; readonly href: string };
}

function row(terminal: TerminalView, view: TerminalsView): SafeHtml {
  const active = terminal.status === 'active';
  const label = terminal.label ?? 'unnamed terminal';
  const revoke =
    active && view.canRevoke
      ? html`<form class="inline" method="post" action="${payerPaths.revokeTerminal(terminal.id)}">${csrfField(view.csrfToken)}<button type="submit" class="danger">Revoke<span class="sr-only"> ${label}</span></button></form>`
      : '';
  return html`<tr>
<td>${label}</td>
<td>${terminal.kind === 'passkey' ? 'passkey' : 'OCRA device'}</td>
<td class="mono">${terminal.suite}</td>
<td>${active ? statusBadge('active', 'ok') : statusBadge('revoked', 'failed')}</td>
<td>${terminal.enrolled ? 'device enrolled' : 'key only'}</td>
<td>${time(terminal.createdAtMs)}</td>
<td>${terminal.lastSeenAtMs === null ? '' : time(terminal.lastSeenAtMs)}</td>
<td>${terminal.revokedAtMs === null ? '' : time(terminal.revokedAtMs)}</td>
<td>${revoke}</td>
</tr>`;
}

/**
 * Adding a passkey: the page script asks for the registration options, lets the browser create the passkey
 * (the device checks the payer's fingerprint, face or PIN), and posts the answer with this form. Without a
 * browser that supports passkeys the form stays hidden.
 */
function passkeyForm(csrfToken: string): SafeHtml {
  return html`<form class="card" id="passkey-register-form" method="post" action="${payerPaths.passkeys}" data-options-url="${payerPaths.passkeyRegistrationOptions}" hidden>
${csrfField(csrfToken)}
<input type="hidden" name="challengeId" value="">
<input type="hidden" name="response" value="">
<h2>Add a passkey</h2>
<p>A passkey on this device (or your phone) can approve your payments: it signs each payment after your fingerprint, face or PIN, and the platform keeps only its public key.</p>
<label for="passkey-label">Name of the passkey <span class="hint">For example "my laptop"</span></label>
<input id="passkey-label" name="label" maxlength="${limits.terminalLabelLengthMax}">
<button type="submit" id="passkey-register">Add a passkey</button>
</form>`;
}

/** The terminals page body. */
export function terminalsBody(view: TerminalsView): SafeHtml {
  const enrollment =
    view.enrollment === undefined
      ? ''
      : html`<section class="card" aria-labelledby="enroll-title">
<h2 id="enroll-title">Scan this code with your new terminal</h2>
<div class="qr">${view.enrollment.qrSvg}</div>
<p>The code works once, until ${time(view.enrollment.expiresAtMs)}. Anyone who scans it can approve your payments: do not share it.</p>
</section>`;
  const enroll =
    view.enroll.kind === 'form'
      ? html`<form method="post" action="${view.enroll.action}">${csrfField(view.csrfToken)}
<label for="label">Name of the new terminal <span class="hint">For example "my phone"</span></label>
<input id="label" name="label" maxlength="${limits.terminalLabelLengthMax}">
<button type="submit">Enroll a new terminal</button></form>`
      : html`<p><a class="button" href="${view.enroll.href}">Enroll a new terminal</a></p>`;
  return html`<h1>Terminals</h1>
<p>Your second terminals compute the second code that approves a payment. Revoke one you lost at once: it can no longer approve anything.</p>
${view.error === undefined ? '' : html`<div class="error" role="alert">${view.error}</div>`}
${enrollment}
<table>
<caption>Your terminals, oldest first</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Suite</th><th scope="col">Status</th><th scope="col">Device</th><th scope="col">Added</th><th scope="col">Last seen</th><th scope="col">Revoked</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${view.terminals.map((terminal) => row(terminal, view))}</tbody>
</table>
${enroll}
${view.enroll.kind === 'form' ? passkeyForm(view.csrfToken) : ''}`;
}
