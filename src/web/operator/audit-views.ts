/**
 * The console's audit log (newest first, with the state of its hash chain) and the delivery outbox
 * (status, attempts and errors of each message; never its payload, so never a code).
 */
import type { AuditEntry } from '../../domain/audit.js';
import type { AuditVerification } from '../../services/audit/audit-service.js';
import type { DeliverySummary } from '../../services/operators/overview-service.js';
import { shortId, statusBadge, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { operatorPaths } from './operator-frame.js';

const breakReasons: Readonly<Record<string, string>> = {
  position_gap: 'an entry is missing',
  previous_hash_mismatch: 'an entry does not link to the one before it',
  hash_mismatch: 'an entry was changed after it was written',
  head_mismatch: 'the newest entries are missing',
};

function chainStatus(verification: AuditVerification): SafeHtml {
  if (verification.ok) {
    return html`<p data-testid="chain-status">${statusBadge('chain intact', 'ok')} All ${verification.entries} entries verified, each linked to the one before by its hash.</p>`;
  }
  const reason = breakReasons[verification.reason ?? ''] ?? 'the chain is broken';
  return html`<p data-testid="chain-status">${statusBadge('chain broken', 'broken')} At position ${verification.brokenAt ?? '?'}: ${reason}. ${verification.entries} entries before it verified.</p>`;
}

function detailOf(entry: AuditEntry): SafeHtml {
  const pairs = Object.entries(entry.detail).map(
    ([name, value]) => html`<span class="mono">${name}=${String(value)}</span> `,
  );
  return html`${pairs}`;
}

/** The audit log page. */
export function auditBody(
  entries: readonly AuditEntry[],
  verification: AuditVerification | undefined,
  nextHref: string | undefined,
): SafeHtml {
  const rows = entries.map(
    (entry) =>
      html`<tr><td class="amount">${entry.position}</td><td>${time(entry.createdAtMs)}</td><td>${entry.event}</td><td>${entry.subject ?? ''}</td><td>${detailOf(entry)}</td><td>${shortId(entry.hash)}</td></tr>`,
  );
  return html`<h1>Audit log</h1>
${verification === undefined ? '' : html`<section class="card" aria-label="Hash chain">${chainStatus(verification)}</section>`}
${
  rows.length === 0
    ? html`<p>The log is empty.</p>`
    : html`<table><caption>Security events, newest first</caption>
<thead><tr><th scope="col" class="amount">#</th><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Subject</th><th scope="col">Detail</th><th scope="col">Hash</th></tr></thead>
<tbody>${rows}</tbody></table>`
}
<nav class="pager" aria-label="Pages of the audit log">${nextHref === undefined ? '' : html`<a href="${operatorPaths.audit}">Newest entries</a><a href="${nextHref}">Older entries</a>`}</nav>`;
}

const deliveryTones: Readonly<Record<string, 'ok' | 'pending' | 'failed' | 'delivered'>> = {
  delivered: 'ok',
  pending: 'pending',
  failed: 'failed',
  skipped: 'delivered',
};

/** The outbox page. */
export function outboxBody(deliveries: readonly DeliverySummary[], nextHref: string | undefined): SafeHtml {
  const rows = deliveries.map(
    (delivery) => html`<tr>
<td>${time(delivery.createdAtMs)}</td><td>${shortId(delivery.id)}</td><td>${delivery.channel}</td>
<td><a href="${operatorPaths.payer(delivery.payerId)}">${delivery.payerId}</a></td>
<td>${delivery.paymentId === null ? '' : shortId(delivery.paymentId)}</td>
<td>${statusBadge(delivery.status, deliveryTones[delivery.status] ?? 'pending')}</td>
<td class="amount">${delivery.attempts}</td>
<td>${delivery.status === 'pending' ? time(delivery.nextAttemptAtMs) : delivery.deliveredAtMs === null ? '' : time(delivery.deliveredAtMs)}</td>
<td>${delivery.lastError ?? ''}</td>
</tr>`,
  );
  return html`<h1>Delivery outbox</h1>
<p>Messages to payers' second terminals and other channels. Their content (which carries a first code) is sealed and is not shown here.</p>
${
  rows.length === 0
    ? html`<p>The outbox is empty.</p>`
    : html`<table><caption>Deliveries, newest first</caption>
<thead><tr><th scope="col">Created</th><th scope="col">Delivery</th><th scope="col">Channel</th><th scope="col">Payer</th><th scope="col">Payment</th><th scope="col">Status</th><th scope="col" class="amount">Attempts</th><th scope="col">Next attempt / delivered</th><th scope="col">Last error</th></tr></thead>
<tbody>${rows}</tbody></table>`
}
${nextHref === undefined ? '' : html`<nav class="pager" aria-label="Pages of the outbox"><a href="${operatorPaths.outbox}">Newest</a><a href="${nextHref}">Older</a></nav>`}`;
}
