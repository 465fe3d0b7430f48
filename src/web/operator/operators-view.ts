/**
 * The console's operators page: every operator with role, state and open sessions; for admins, a form to
 * create one (its one-time set-up code is shown once, on the page that answers the creation) and a button
 * that ends an operator's sessions.
 */
import { limits } from '../../domain/limits.js';
import type { OperatorSummary } from '../../services/operators/operator-store.js';
import { statusBadge, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField } from '../layout.js';
import { operatorPaths } from './operator-frame.js';

/** A new operator's set-up code, shown once. */
export interface NewOperator {
  readonly name: string;
  readonly role: string;
  readonly setupCode: string;
  readonly setupExpiresAtMs: number;
}

function stateOf(operator: OperatorSummary): SafeHtml {
  if (operator.disabled) return statusBadge('disabled', 'locked');
  return operator.active ? statusBadge('active', 'ok') : statusBadge('awaiting set-up', 'pending');
}

/** The operators page. */
export function operatorsBody(
  operators: readonly OperatorSummary[],
  admin: boolean,
  csrfToken: string,
  created?: NewOperator,
  error?: string,
): SafeHtml {
  const rows = operators.map(
    (operator) => html`<tr>
<td>${operator.name}</td>
<td>${operator.role}</td>
<td>${stateOf(operator)}</td>
<td class="amount">${operator.openSessions}</td>
<td>${operator.createdBy}</td>
<td>${time(operator.createdAtMs)}</td>
<td>${admin && operator.openSessions > 0 ? html`<form method="post" action="${operatorPaths.endSessions(operator.name)}">${csrfField(csrfToken)}<button type="submit" class="secondary">End sessions of ${operator.name}</button></form>` : ''}</td>
</tr>`,
  );
  const createdPanel =
    created === undefined
      ? ''
      : html`<section class="card" role="status" aria-labelledby="created-operator">
<h2 id="created-operator">Operator ${created.name} created</h2>
<p>Give ${created.name} this one-time set-up code, by a channel only they read. It is shown only now and works
until ${time(created.setupExpiresAtMs)}, at <a href="${operatorPaths.setup}">${operatorPaths.setup}</a>.</p>
<p><code data-testid="setup-code">${created.setupCode}</code></p>
</section>`;
  const form = admin
    ? html`<h2 id="create-operator">Create an operator</h2>
${error === undefined ? '' : html`<div class="error" role="alert">${error}</div>`}
<form class="card" method="post" action="${operatorPaths.operators}" autocomplete="off" aria-labelledby="create-operator">
${csrfField(csrfToken)}
<label for="new-name">Name <span class="hint">2–${limits.operatorNameLengthMax} of a-z 0-9 . _ -, starting with a letter</span></label>
<input id="new-name" name="name" required maxlength="${limits.operatorNameLengthMax}">
<label for="new-role">Role</label>
<select id="new-role" name="role"><option value="viewer">viewer: reads</option><option value="support">support: also unlocks and blocks payers, replays deliveries</option><option value="admin">admin: also creates payers, payees, merchants, operators and deposits</option></select>
<button type="submit">Create operator</button>
</form>`
    : '';
  return html`<h1>Operators</h1>
${createdPanel}
<table><caption>Operators by name</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">State</th><th scope="col" class="amount">Open sessions</th><th scope="col">Created by</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${rows}</tbody></table>
${form}`;
}
