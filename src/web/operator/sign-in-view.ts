/**
 * The operator's sign-in and set-up pages. Nothing typed into them is rendered back but the name; the
 * set-up code travels in a hidden field between the two set-up steps only, on the operator's own browser.
 */
import { limits } from '../../domain/limits.js';
import { html, type SafeHtml } from '../html.js';
import { type Banner, csrfField, renderLayout } from '../layout.js';
import { operatorPaths } from './operator-frame.js';

function narrowPage(title: string, banners: readonly Banner[], body: SafeHtml): SafeHtml {
  return renderLayout({
    title,
    areaName: 'Operator console',
    homeHref: operatorPaths.dashboard,
    narrow: true,
    banners,
    body,
  });
}

/** The sign-in page: name, password and the authenticator app's code. */
export function operatorSignInPage(csrfToken: string, banners: readonly Banner[], name = ''): SafeHtml {
  return narrowPage(
    'Operator sign in',
    banners,
    html`<h1>Operator sign in</h1>
<form class="card" method="post" action="${operatorPaths.signIn}" autocomplete="off">
${csrfField(csrfToken)}
<label for="name">Name</label>
<input id="name" name="name" required maxlength="${limits.operatorNameLengthMax}" autocomplete="username" value="${name}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" required maxlength="${limits.operatorPasswordLengthMax}" autocomplete="current-password">
<label for="code">Code <span class="hint">6 digits from your authenticator app</span></label>
<input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" required maxlength="6" autocomplete="one-time-code">
<button type="submit">Sign in</button>
</form>
<p><a href="${operatorPaths.setup}">Set up a new operator account</a></p>`,
  );
}

/** Set-up, step 1: the name and the one-time set-up code an admin gave. */
export function operatorSetupStartPage(csrfToken: string, banners: readonly Banner[], name = ''): SafeHtml {
  return narrowPage(
    'Set up your operator account',
    banners,
    html`<h1>Set up your operator account</h1>
<p>An admin created your account and gave you a one-time set-up code (valid for ${limits.operatorSetupTtlMs / (60 * 60 * 1000)} hours).</p>
<form class="card" method="post" action="${operatorPaths.setup}" autocomplete="off">
${csrfField(csrfToken)}
<label for="name">Name</label>
<input id="name" name="name" required maxlength="${limits.operatorNameLengthMax}" autocomplete="username" value="${name}" autofocus>
<label for="setup-code">Set-up code</label>
<input id="setup-code" name="setupCode" type="password" required maxlength="128" autocomplete="off">
<button type="submit">Continue</button>
</form>`,
  );
}

/** Set-up, step 2: the TOTP key as a QR code and as text, then password and a first code. */
export function operatorSetupKeyPage(
  csrfToken: string,
  banners: readonly Banner[],
  enrollment: {
    readonly name: string;
    readonly setupCode: string;
    readonly keyBase32: string;
    readonly qrSvg: SafeHtml;
  },
): SafeHtml {
  return narrowPage(
    'Set up your operator account',
    banners,
    html`<h1>Set up your operator account</h1>
<ol>
<li>Scan this code with an authenticator app (or type the key below into it).</li>
<li>Choose a password of ${limits.operatorPasswordLengthMin} to ${limits.operatorPasswordLengthMax} characters.</li>
<li>Enter the 6-digit code the app shows, to prove it holds the key.</li>
</ol>
<figure class="qr" aria-label="TOTP key as a QR image">${enrollment.qrSvg}</figure>
<p>Key: <code data-testid="totp-key">${enrollment.keyBase32}</code></p>
<form class="card" method="post" action="${operatorPaths.setupComplete}" autocomplete="off">
${csrfField(csrfToken)}
<input type="hidden" name="name" value="${enrollment.name}">
<input type="hidden" name="setupCode" value="${enrollment.setupCode}">
<label for="new-password">Password <span class="hint">${limits.operatorPasswordLengthMin}–${limits.operatorPasswordLengthMax} characters</span></label>
<input id="new-password" name="password" type="password" required minlength="${limits.operatorPasswordLengthMin}" maxlength="${limits.operatorPasswordLengthMax}" autocomplete="new-password">
<label for="code">Code <span class="hint">6 digits from your authenticator app</span></label>
<input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" required maxlength="6" autocomplete="one-time-code">
<button type="submit">Finish set-up</button>
</form>`,
  );
}
