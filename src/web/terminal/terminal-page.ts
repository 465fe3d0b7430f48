/**
 * The markup of the browser authenticator, its web-app manifest and its icon. The page is the same for
 * everyone and holds nothing of a payer: its script shows and hides the sections below and fills their
 * text. Every control has a label; the list of pending payments is a live region, so that a screen reader
 * announces a payment when it arrives.
 */
import { limits } from '../../domain/limits.js';
import { html, type SafeHtml } from '../html.js';

const codeInput = (id: string) =>
  html`<input id="${id}" type="password" inputmode="numeric" autocomplete="off" pattern="[0-9]{${limits.verificationCodeDigitsMin},${limits.verificationCodeDigitsMax}}" minlength="${limits.verificationCodeDigitsMin}" maxlength="${limits.verificationCodeDigitsMax}" required>`;

/** Enrolling this browser: the enrollment link (pasted or scanned), a name, the verification code. */
function enrollSection(): SafeHtml {
  return html`<section id="enroll" class="card" hidden>
<h2>Enroll this browser</h2>
<p>Scan the QR code the platform showed you, or paste its enrollment link (it starts with <span class="mono">countersign://enroll?</span>).</p>
<form id="enroll-form">
<label for="enroll-uri">Enrollment link</label>
<textarea id="enroll-uri" class="mono" rows="4" cols="40" autocomplete="off" spellcheck="false" required></textarea>
<button type="button" id="scan" class="secondary" hidden>Scan the QR code</button>
<video id="scan-video" muted playsinline hidden></video>
<label for="enroll-label">Name of this terminal <span class="hint">Optional, e.g. "my phone".</span></label>
<input id="enroll-label" maxlength="${limits.terminalLabelLengthMax}" autocomplete="off">
<label for="enroll-code">Your verification code <span class="hint">The platform checks it, and it encrypts the keys this browser keeps.</span></label>
${codeInput('enroll-code')}
<button type="submit" id="enroll-submit">Enroll</button>
</form>
</section>`;
}

/** Unlocking the stored keys with the verification code. */
function unlockSection(): SafeHtml {
  return html`<section id="locked" class="card" hidden>
<h2>Unlock</h2>
<p>Terminal <strong id="locked-label"></strong> of payer <strong id="locked-payer"></strong>.</p>
<form id="unlock-form">
<label for="unlock-code">Verification code</label>
${codeInput('unlock-code')}
<button type="submit" id="unlock-submit">Unlock</button>
</form>
</section>`;
}

/** The payer id's lock, with the form that lifts it from here. */
function payerLockSection(): SafeHtml {
  return html`<section id="payer-lock" class="card warning" hidden>
<h2>Your payer id is locked</h2>
<p id="payer-lock-state"></p>
<form id="payer-unlock-form">
<label for="payer-unlock-code">Verification code</label>
${codeInput('payer-unlock-code')}
<button type="submit" id="payer-unlock-submit">Unlock my payer id</button>
<p class="hint">One attempt: a wrong code counts like a wrong password.</p>
</form>
</section>`;
}

/** The pending payments, a live region, and the template of one. */
function pendingSection(): SafeHtml {
  return html`<section id="pending" hidden>
<h2>Payments waiting for you</h2>
<p id="pending-empty">No payment is waiting for approval.</p>
<ul id="challenges" class="challenges" aria-live="polite"></ul>
<template id="challenge-template"><li><div class="card">
<dl class="facts"><dt>Pay</dt><dd class="amount"></dd><dt>To</dt><dd class="payee"></dd><dt>Expires in</dt><dd class="expires"></dd></dl>
<button type="button" data-action="approve">Approve</button>
<button type="button" data-action="passkey" class="secondary" hidden>Approve with a passkey</button>
<button type="button" data-action="code" class="secondary">Show the code</button>
<button type="button" data-action="decline" class="secondary">Decline</button>
</div></li></template>
</section>`;
}

/** The dialog that asks the verification code to approve a payment or show its second code. */
function confirmDialog(): SafeHtml {
  return html`<dialog id="confirm" aria-labelledby="confirm-title">
<h2 id="confirm-title">Approve this payment</h2>
<p id="confirm-summary"></p>
<form id="confirm-form">
<label for="confirm-code">Verification code</label>
${codeInput('confirm-code')}
<button type="submit" id="confirm-submit">Approve</button>
</form>
<p id="second-code-box" hidden>Type this second code into the first terminal: <output id="second-code" class="code"></output></p>
<button type="button" id="confirm-cancel" class="secondary">Close</button>
</dialog>`;
}

/** Computing a second code without a network. */
function offlineSection(): SafeHtml {
  return html`<section id="offline" class="card" hidden>
<h2>Compute a second code</h2>
<p>Works without a connection: type the first code the first terminal shows.</p>
<form id="offline-form">
<label for="offline-first-code">First code</label>
<input id="offline-first-code" inputmode="numeric" autocomplete="off" pattern="[0-9]{8}" minlength="8" maxlength="8" required>
<label for="offline-code">Verification code</label>
${codeInput('offline-code')}
<button type="submit">Compute</button>
</form>
<p id="offline-result" hidden>Second code: <output id="offline-second-code" class="code"></output></p>
</section>`;
}

/** Locking the page and removing the terminal. */
function manageSection(): SafeHtml {
  return html`<section id="manage" class="card" hidden>
<h2>This terminal</h2>
<button type="button" id="lock" class="secondary">Lock</button>
<button type="button" id="forget" class="danger">Remove this terminal</button>
</section>`;
}

/**
 * The scripts the page names in its script tags, in order: the WebAuthn library first, since approving with
 * a passkey, where the payer has one, uses it. The service worker keeps them and all they import.
 */
export const terminalPageScripts: readonly string[] = Object.freeze([
  'vendor/simplewebauthn-browser',
  'web/terminal/scripts/app',
]);

/** The body of `/terminal/`. */
export function terminalPageBody(): SafeHtml {
  return html`<h1>Second terminal</h1>
<noscript><p class="warning">This authenticator runs in the browser: please allow JavaScript for this page.</p></noscript>
<p id="connection" class="hint" role="status" hidden></p>
<div id="message" role="alert" hidden></div>

${enrollSection()}

${unlockSection()}

${payerLockSection()}

${pendingSection()}

${confirmDialog()}

${offlineSection()}

${manageSection()}`;
}

/** The web-app manifest: the authenticator installs as its own app, scoped to `/terminal/`. */
export const terminalManifest = Object.freeze({
  name: 'Countersign second terminal',
  short_name: 'Countersign',
  description: 'Approve payments with one-time transaction codes.',
  start_url: '/terminal/',
  scope: '/terminal/',
  display: 'standalone',
  background_color: '#f3f5f7',
  theme_color: '#12263f',
  icons: [{ src: '/terminal/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
});

/** The app icon: a check mark on the header's colour. */
export const terminalIcon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96"><rect width="96" height="96" rx="18" fill="#12263f"/><path d="M26 50l14 14 30-32" fill="none" stroke="#ffbf47" stroke-width="10" stroke-linecap="round" stroke-linejoin="round"/></svg>`;
