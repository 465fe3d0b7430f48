// Proves the webhook rules: the retry schedule's bounds and its three-day window, and the signature header's format and parsing.
import { describe, expect, it } from 'vitest';
import { webhookLimits } from './limits.js';
import {
  baseRetryDelayMs,
  formatSignatureHeader,
  nextAttemptAtMs,
  parseSignatureHeader,
  retryDelayMs,
} from './webhook.js';

describe('webhook retry schedule', () => {
  it('doubles from 30 seconds and caps at six hours', () => {
    expect([1, 2, 3, 4].map(baseRetryDelayMs)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(baseRetryDelayMs(11)).toBe(webhookLimits.retryDelayMaxMs);
    expect(baseRetryDelayMs(1000)).toBe(webhookLimits.retryDelayMaxMs);
    expect(() => baseRetryDelayMs(0)).toThrow(RangeError);
  });

  it('spreads each wait by at most ten percent either way', () => {
    expect(retryDelayMs(1, 0)).toBe(27_000);
    expect(retryDelayMs(1, 0.5)).toBe(30_000);
    expect(retryDelayMs(1, 0.999999)).toBeLessThanOrEqual(33_000);
    expect(() => retryDelayMs(1, 1)).toThrow(RangeError);
  });

  it('keeps trying for three days and then gives up', () => {
    const start = 1_000_000;
    const giveUp = start + webhookLimits.retryWindowMs;
    let now = start;
    let attempts = 1;
    for (let next = nextAttemptAtMs(1, now, giveUp, 0.5); next !== undefined; ) {
      now = next;
      attempts += 1;
      next = nextAttemptAtMs(attempts, now, giveUp, 0.5);
    }
    expect(now).toBeLessThanOrEqual(giveUp);
    expect(giveUp - now).toBeLessThan(webhookLimits.retryDelayMaxMs * 1.1);
    expect(attempts).toBe(21);
  });
});

describe('signature header', () => {
  const hex = 'ab'.repeat(32);

  it('formats and parses t and every v1, ignoring unknown schemes', () => {
    const header = formatSignatureHeader(1_700_000_000, [hex]);
    expect(header).toBe(`t=1700000000,v1=${hex}`);
    expect(parseSignatureHeader(`${header},v0=zz,v2=${'cd'.repeat(32)},v1=${'ef'.repeat(32)}`)).toEqual({
      timestampSeconds: 1_700_000_000,
      signaturesHex: [hex, 'ef'.repeat(32)],
    });
  });

  it('refuses headers without a single timestamp or without a v1 signature', () => {
    for (const header of [
      '',
      `v1=${hex}`,
      't=1',
      `t=1,t=2,v1=${hex}`,
      `t=x,v1=${hex}`,
      't=1,v1=short',
      `garbage,v1=${hex}`,
    ]) {
      expect(parseSignatureHeader(header), header).toBeUndefined();
    }
  });
});
