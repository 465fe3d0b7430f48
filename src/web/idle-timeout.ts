/**
 * The visible idle timeout of signed-in pages: the warning's markup and the `<body>` data its script
 * (`scripts/idle-timeout.ts`) reads. Without JavaScript the warning never shows, and the server still ends
 * the session on time.
 */
import { html, type SafeHtml } from './html.js';

/** Source path of the script, for `LayoutOptions.scripts`. */
export const idleTimeoutScript = 'web/scripts/idle-timeout';

/** How long before the end the warning shows. */
export const idleWarningSeconds = 60;

/** The warning box, hidden until the script shows it. */
export function idleWarning(): SafeHtml {
  return html`<div id="idle-warning" class="warning" role="alert" hidden>
<p>You will be signed out in <strong id="idle-seconds">${idleWarningSeconds}</strong> seconds because nothing happened for a while.</p>
<button type="button" id="idle-stay">Stay signed in</button>
</div>`;
}

/** The `<body>` data of the script (`LayoutOptions.data`). */
export function idleTimeoutData(
  secondsLeft: number,
  keepaliveUrl: string,
  expiredUrl: string,
): Readonly<Record<string, string | number>> {
  return {
    'idle-seconds': Math.max(0, Math.floor(secondsLeft)),
    'idle-warn-seconds': idleWarningSeconds,
    'idle-keepalive-url': keepaliveUrl,
    'idle-expired-url': expiredUrl,
  };
}
