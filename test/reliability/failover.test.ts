// Proves, in a short seeded bank run against a primary with a synchronous standby, that killing the primary
// with -m immediate mid-run and promoting the standby loses no acknowledged deposit or payment, posts or
// voids each hold once, and leaves ledger and audit verifiable on the new primary; the long form is in
// `npm run test:faults` (`bank.ts --failover`).
import { describe, expect, it } from 'vitest';
import { formatReport, runBank } from '../faults/bank-run.js';

/** Fixed, so that a failure in CI replays with `node --import tsx test/faults/bank.ts --failover --seed 515151 --seconds 16`. */
const seed = 515_151;

describe('the bank test through a database failover (short form)', () => {
  it('keeps every acknowledged write on the promoted standby, and pays again after it', async () => {
    const report = await runBank({
      engine: 'postgres',
      seed,
      // Long enough after the promotion (at 2 to 5 s) for a payment to be asked and answered on a loaded CI machine:
      // with 10 s, one full-suite run under load saw none within the run.
      durationMs: 16_000,
      clients: 4,
      payers: 6,
      payees: 3,
      faultGapMs: [1500, 3000],
      faults: ['failover'],
      failover: true,
      requestDeadlineMs: 8_000,
      log: () => {},
    });
    process.stdout.write(`${formatReport(report)}\n`);
    expect(report.violations).toEqual([]);
    expect(report.faults.failover).toBe(1);
    expect(report.facts['paymentsAcknowledged']).toBeGreaterThan(0);
    // A payment asked for after the kill was acknowledged: the platform found the new primary.
    expect(typeof report.facts['firstPaymentAfterKillMs']).toBe('number');
  }, 180_000);
});
