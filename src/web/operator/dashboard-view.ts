/**
 * The console's dashboard: payments per minute (chart), approval success and failure rates, open holds
 * and locked payers.
 */
import { type Dashboard, dashboardMinutes } from '../../services/operators/overview-service.js';
import { money } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { barChart } from './chart.js';
import { operatorPaths } from './operator-frame.js';

function percent(part: number, whole: number): string {
  if (whole === 0) return '—';
  return `${(Math.round((part / whole) * 1000) / 10).toFixed(1)} %`;
}

function tile(label: string, value: string | number, testId: string, hint?: string): SafeHtml {
  return html`<div class="tile"><div>${label}</div><div class="value" data-testid="${testId}">${value}</div>${hint === undefined ? '' : html`<div class="hint">${hint}</div>`}</div>`;
}

/** The dashboard's body. */
export function dashboardBody(dashboard: Dashboard): SafeHtml {
  const attempts = dashboard.approvalsSucceeded + dashboard.approvalsFailed;
  const recentPayments = dashboard.paymentsPerMinute.reduce((sum, minute) => sum + minute.count, 0);
  const holds = dashboard.openHolds.reduce((sum, hold) => sum + hold.count, 0);
  const bars = dashboard.paymentsPerMinute.map((minute) => ({
    label: new Date(minute.minuteStartMs).toISOString().slice(11, 16),
    value: minute.count,
  }));
  const holdRows = dashboard.openHolds.map(
    (hold) =>
      html`<tr><td>${hold.currency}</td><td class="amount">${hold.count}</td><td class="amount">${money(hold.amount, hold.currency)}</td></tr>`,
  );
  const statuses = Object.entries(dashboard.paymentsByStatus).map(
    ([status, count]) =>
      html`<tr><td><span class="status ${status}">${status}</span></td><td class="amount">${count}</td></tr>`,
  );
  return html`<h1>Dashboard</h1>
<div class="tiles">
${tile(`Payments, last ${dashboardMinutes} minutes`, recentPayments, 'payments-recent')}
${tile('Approval success rate', percent(dashboard.approvalsSucceeded, attempts), 'approval-success-rate', `${dashboard.approvalsSucceeded} approved, last hour`)}
${tile('Approval failure rate', percent(dashboard.approvalsFailed, attempts), 'approval-failure-rate', `${dashboard.approvalsFailed} wrong ${dashboard.approvalsFailed === 1 ? 'code' : 'codes'}, last hour`)}
${tile('Open holds', holds, 'open-holds')}
${tile('Locked payers', dashboard.lockedPayers, 'locked-payers')}
</div>
<h2>Payments per minute</h2>
${barChart('payments-per-minute', `Payments created per minute, last ${dashboardMinutes} minutes (UTC)`, bars)}
<h2>Open holds by currency</h2>
${holdRows.length === 0 ? html`<p>No open holds.</p>` : html`<table><thead><tr><th scope="col">Currency</th><th scope="col" class="amount">Holds</th><th scope="col" class="amount">Amount held</th></tr></thead><tbody>${holdRows}</tbody></table>`}
<h2>Payments of the last hour by status</h2>
${statuses.length === 0 ? html`<p>No payments in the last hour.</p>` : html`<table><thead><tr><th scope="col">Status</th><th scope="col" class="amount">Payments</th></tr></thead><tbody>${statuses}</tbody></table>`}
<p class="hint">Rates count, over payments created in the last hour, approvals that succeeded and wrong codes submitted. <a href="${operatorPaths.verify}">Verify the ledger</a>.</p>`;
}
