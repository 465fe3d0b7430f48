/**
 * How pages show values: money in major units with its currency, times in UTC with a machine-readable
 * `<time>` element, statuses as words with a class for their colour, ids shortened for tables.
 */
import { isCurrency } from '../domain/money.js';
import type { PaymentStatus } from '../domain/payment.js';
import { formatMajorUnits } from './amount.js';
import { html, type SafeHtml } from './html.js';

/** 1250n EUR → "12.50 EUR"; a currency the platform does not know shows its minor units as they are. */
export function money(minorUnits: bigint, currency: string): string {
  if (!isCurrency(currency)) return `${minorUnits} ${currency} (minor units)`;
  return `${formatMajorUnits(minorUnits, currency)} ${currency}`;
}

/** A time as "2025-03-01 14:05:09 UTC" inside `<time datetime="…">`. */
export function time(epochMs: number): SafeHtml {
  const iso = new Date(epochMs).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}

const paymentStatusWords: Readonly<Record<PaymentStatus, string>> = {
  requires_approval: 'waiting for approval',
  succeeded: 'paid',
  canceled: 'canceled',
  expired: 'expired',
  failed: 'failed',
};

/** A payment status as a coloured word. */
export function paymentStatus(status: PaymentStatus): SafeHtml {
  return html`<span class="status ${status}">${paymentStatusWords[status]}</span>`;
}

/** A status word with a colour class chosen by the caller from a fixed set. */
export function statusBadge(
  word: string,
  tone: 'ok' | 'broken' | 'locked' | 'pending' | 'delivered' | 'failed',
): SafeHtml {
  return html`<span class="status ${tone}">${word}</span>`;
}

/** The first 8 characters of a UUID, with the whole id as a tooltip. */
export function shortId(id: string): SafeHtml {
  return html`<span class="mono" title="${id}">${id.slice(0, 8)}</span>`;
}
