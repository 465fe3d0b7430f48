/**
 * The operator's sign-in page. The token typed is never rendered back.
 */
import { html, type SafeHtml } from '../html.js';
import { type Banner, csrfField, renderLayout } from '../layout.js';
import { operatorPaths } from './operator-frame.js';

/** The operator's sign-in page. */
export function operatorSignInPage(csrfToken: string, banners: readonly Banner[]): SafeHtml {
  return renderLayout({
    title: 'Operator sign in',
    areaName: 'Operator console',
    homeHref: operatorPaths.dashboard,
    narrow: true,
    banners,
    body: html`<h1>Operator sign in</h1>
<form class="card" method="post" action="${operatorPaths.signIn}" autocomplete="off">
${csrfField(csrfToken)}
<label for="token">Operator token <span class="hint">From OPERATOR_TOKEN, or the file operator.token in the data directory</span></label>
<input id="token" name="token" type="password" required maxlength="512" autocomplete="off" autofocus>
<button type="submit">Sign in</button>
</form>`,
  });
}
