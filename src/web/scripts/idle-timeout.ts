/**
 * Page script: warns before an idle session ends, and ends it visibly. The server enforces the timeout
 * whatever this script does; the script only makes it visible. It reads from `<body>`:
 * `data-idle-seconds` (seconds left when the page was rendered), `data-idle-warn-seconds` (when to warn),
 * `data-idle-keepalive-url` (GET: extends the session, answers `{"secondsLeft": n}`) and
 * `data-idle-expired-url` (where to go when the time is up). The warning's markup is in the page
 * (`#idle-warning`, `#idle-seconds`, `#idle-stay`), so this script creates no markup at all.
 */

const body = document.body;
const idleSeconds = Number(body.dataset['idleSeconds']);
const warnSeconds = Number(body.dataset['idleWarnSeconds'] ?? '60');
const keepaliveUrl = body.dataset['idleKeepaliveUrl'];
const expiredUrl = body.dataset['idleExpiredUrl'] ?? '/';
const warning = document.getElementById('idle-warning');
const secondsOutput = document.getElementById('idle-seconds');
const stayButton = document.getElementById('idle-stay');

let deadlineMs = Date.now() + idleSeconds * 1000;
let timer: number | undefined;

/** Shows or hides the warning, and leaves the page when the session is over. */
function tick(): void {
  const leftSeconds = Math.ceil((deadlineMs - Date.now()) / 1000);
  if (leftSeconds <= 0) {
    window.clearInterval(timer);
    window.location.assign(expiredUrl);
    return;
  }
  if (warning === null || secondsOutput === null) return;
  const show = leftSeconds <= warnSeconds;
  if (show) secondsOutput.textContent = String(leftSeconds);
  if (warning.hidden === show) warning.hidden = !show;
}

/** Asks the server to extend the session; a refusal means it already ended. */
async function stay(): Promise<void> {
  if (keepaliveUrl === undefined) return;
  try {
    const response = await fetch(keepaliveUrl, {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
    if (!response.ok) {
      window.location.assign(expiredUrl);
      return;
    }
    const answer = (await response.json()) as { secondsLeft?: unknown };
    if (typeof answer.secondsLeft === 'number') deadlineMs = Date.now() + answer.secondsLeft * 1000;
    tick();
  } catch {
    // A network failure leaves the countdown running; the server decides in the end.
  }
}

if (Number.isFinite(idleSeconds) && idleSeconds > 0) {
  stayButton?.addEventListener('click', () => {
    void stay();
  });
  timer = window.setInterval(tick, 1000);
  tick();
}

// A module, so that its names stay out of the global scope of other page scripts.
export {};
