// Proves, on both engines with group commit on and off, that random sequences of payment operations — creations, right and wrong approvals by both embodiments, cancellations, expiries and concurrent bursts — answer, hold money and count attempts exactly as a small in-memory model of the rules does, and leave a ledger and an audit chain that verify.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payment } from '../../src/domain/payment.js';
import { createFundedPayer, createPayee, secondCodeFor, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

const codeTtlMs = 300_000;
const lockMs = 900_000;
const lockMsMax = 86_400_000;
const deposit = 10_000n;

/** The model of one payer's payments. */
interface ModelPayment {
  readonly id: string;
  readonly amount: bigint;
  readonly firstCode: string;
  readonly expiresAtMs: number;
  status: Payment['status'];
  failedApprovals: number;
}

interface Model {
  nowMs: number;
  available: bigint;
  payments: ModelPayment[];
  failures: number;
  lockedUntilMs: number | null;
  locks: number;
}

interface Real {
  readonly platform: TestPlatform;
  readonly payer: TestPayer;
}

/** What an operation answered: the payment's status, or the error's code. */
type Outcome = string;

function outcomeOf(
  settled: PromiseSettledResult<{ status: string } | { payment: { status: string } }>,
): Outcome {
  if (settled.status === 'rejected')
    return (settled.reason as { code?: string }).code ?? String(settled.reason);
  const value = settled.value;
  return 'payment' in value ? value.payment.status : value.status;
}

const isLocked = (m: Model) => m.lockedUntilMs !== null && m.nowMs < m.lockedUntilMs;

function release(m: Model, p: ModelPayment, status: Payment['status']): void {
  p.status = status;
  if (status !== 'succeeded') m.available += p.amount;
}

/** The model of an open payment past its expiry: any operation that finds it expires it. */
function expireIfDue(m: Model, p: ModelPayment): boolean {
  if (p.status !== 'requires_approval' || m.nowMs < p.expiresAtMs) return false;
  release(m, p, 'expired');
  return true;
}

/** The model's answer to an approval, right or wrong, and what it changes. */
function modelApprove(m: Model, p: ModelPayment, right: boolean): Outcome {
  if (expireIfDue(m, p)) return 'payment_not_approvable';
  if (p.status !== 'requires_approval') return 'payment_not_approvable';
  if (isLocked(m) || m.failures >= 5) return 'payer_locked';
  if (right) {
    m.failures = 0;
    m.locks = 0;
    release(m, p, 'succeeded');
    return 'succeeded';
  }
  p.failedApprovals += 1;
  if (p.failedApprovals >= 3) release(m, p, 'failed');
  m.failures += 1;
  if (m.failures >= 5) {
    m.lockedUntilMs = m.nowMs + Math.min(lockMs * 2 ** m.locks, lockMsMax);
    m.locks += 1;
    m.failures = 0;
  }
  return 'approval_failed';
}

const pick = (m: Model, index: number) => m.payments[index % m.payments.length]!;

class Create implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amount: bigint) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const settled = await Promise.allSettled([
      r.platform.services.payments.create({
        payerId: r.payer.id,
        payeeId: 'shop',
        amount: this.amount,
        currency: 'EUR',
        deliverTo: 'first_terminal',
      }),
    ]);
    if (this.amount > m.available) {
      expect(outcomeOf(settled[0]!)).toBe('insufficient_funds');
      return;
    }
    const created = (settled[0] as PromiseFulfilledResult<{ payment: Payment; firstCode?: string }>).value;
    expect(created.payment.status).toBe('requires_approval');
    m.available -= this.amount;
    m.payments.push({
      id: created.payment.id,
      amount: this.amount,
      firstCode: created.firstCode!,
      expiresAtMs: m.nowMs + codeTtlMs,
      status: 'requires_approval',
      failedApprovals: 0,
    });
  }
  toString = () => `create(${this.amount})`;
}

/** The codes of an approval: embodiment 1 or 2, right or wrong. */
async function approvalOf(r: Real, p: ModelPayment, right: boolean, embodiment: 1 | 2, variant = 0) {
  if (embodiment === 2) {
    return { firstCode: p.firstCode, verificationCode: right ? r.payer.verificationCode : `9${variant}99` };
  }
  const code = await secondCodeFor(r.payer, p.firstCode);
  if (right) return { secondCode: code };
  return { secondCode: code.slice(0, 7) + String((Number(code[7]) + 1 + (variant % 9)) % 10) };
}

class Approve implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly index: number,
    readonly right: boolean,
    readonly embodiment: 1 | 2,
  ) {}
  check = (m: Readonly<Model>) => m.payments.length > 0;
  async run(m: Model, r: Real) {
    const p = pick(m, this.index);
    const approval = await approvalOf(r, p, this.right, this.embodiment);
    const settled = await Promise.allSettled([r.platform.services.payments.approve(p.id, approval)]);
    expect(outcomeOf(settled[0]!)).toBe(modelApprove(m, p, this.right));
  }
  toString = () => `approve(${this.index}, ${this.right ? 'right' : 'wrong'}, e${this.embodiment})`;
}

class Cancel implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.payments.length > 0;
  async run(m: Model, r: Real) {
    const p = pick(m, this.index);
    const settled = await Promise.allSettled([r.platform.services.payments.cancel(p.id, r.payer.id)]);
    let expected: Outcome;
    if (expireIfDue(m, p) || p.status !== 'requires_approval') expected = 'payment_not_cancelable';
    else {
      release(m, p, 'canceled');
      expected = 'canceled';
    }
    expect(outcomeOf(settled[0]!)).toBe(expected);
  }
  toString = () => `cancel(${this.index})`;
}

class Wait implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    r.platform.clock.advance(this.ms);
    m.nowMs += this.ms;
    await r.platform.services.payments.expireDue();
    for (const p of m.payments) expireIfDue(m, p);
  }
  toString = () => `wait(${this.ms})`;
}

/** Wrong codes on one payment at once: how many are counted does not depend on their order. */
class WrongBurst implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly index: number,
    readonly size: number,
  ) {}
  check = (m: Readonly<Model>) => m.payments.length > 0;
  async run(m: Model, r: Real) {
    const p = pick(m, this.index);
    const approvals = await Promise.all(
      Array.from({ length: this.size }, (_, variant) => approvalOf(r, p, false, 1, variant)),
    );
    const settled = await Promise.allSettled(
      approvals.map((approval) => r.platform.services.payments.approve(p.id, approval)),
    );
    const expected = approvals.map(() => modelApprove(m, p, false)).sort();
    expect(settled.map(outcomeOf).sort()).toEqual(expected);
  }
  toString = () => `wrongBurst(${this.index}, ${this.size})`;
}

/** Creations at once that the balance covers together: each is created, whatever their order. */
class CreateBurst implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amounts: readonly bigint[]) {}
  check = (m: Readonly<Model>) => this.amounts.reduce((a, b) => a + b, 0n) <= m.available;
  async run(m: Model, r: Real) {
    const created = await Promise.all(
      this.amounts.map((amount) =>
        r.platform.services.payments.create({
          payerId: r.payer.id,
          payeeId: 'shop',
          amount,
          currency: 'EUR',
          deliverTo: 'first_terminal',
        }),
      ),
    );
    for (const [index, c] of created.entries()) {
      m.available -= this.amounts[index]!;
      m.payments.push({
        id: c.payment.id,
        amount: this.amounts[index]!,
        firstCode: c.firstCode!,
        expiresAtMs: m.nowMs + codeTtlMs,
        status: 'requires_approval',
        failedApprovals: 0,
      });
    }
  }
  toString = () => `createBurst(${this.amounts.join(', ')})`;
}

const amount = fc.bigInt({ min: 1n, max: 4_000n });
const commands = [
  amount.map((a) => new Create(a)),
  fc
    .tuple(fc.nat(), fc.boolean(), fc.constantFrom<1 | 2>(1, 2))
    .map(([i, right, e]) => new Approve(i, right, e)),
  fc.tuple(fc.nat(), fc.constantFrom<1 | 2>(1, 2)).map(([i, e]) => new Approve(i, false, e)),
  fc.nat().map((i) => new Cancel(i)),
  fc.constantFrom(1_000, 120_000, 400_000, 1_000_000).map((ms) => new Wait(ms)),
  fc.tuple(fc.nat(), fc.integer({ min: 2, max: 8 })).map(([i, size]) => new WrongBurst(i, size)),
  fc.array(fc.bigInt({ min: 1n, max: 800n }), { minLength: 2, maxLength: 5 }).map((a) => new CreateBurst(a)),
];

/** Compares the database with the model: balance, every payment, the payer's attempt state. */
async function expectStateMatches(m: Model, r: Real): Promise<void> {
  const balance = await r.platform.services.parties.payerBalance(r.payer.id, 'EUR');
  const held = m.payments
    .filter((p) => p.status === 'requires_approval')
    .reduce((sum, p) => sum + p.amount, 0n);
  expect(balance).toEqual({ available: m.available, held });
  for (const p of m.payments) {
    const stored = await r.platform.services.payments.get(p.id);
    expect({ id: p.id, status: stored.status, failedApprovals: stored.failedApprovals }).toEqual({
      id: p.id,
      status: p.status,
      failedApprovals: p.failedApprovals,
    });
  }
  const [row] = await r.platform.test.database.query<{
    consecutive_failures: number;
    locked_until_ms: bigint | null;
    consecutive_locks: number;
    reserved: number;
  }>(
    'SELECT consecutive_failures, locked_until_ms, consecutive_locks, reserved FROM authentication_failures WHERE subject = $1',
    [r.payer.id],
  );
  expect({
    failures: row?.consecutive_failures ?? 0,
    lockedUntilMs: row?.locked_until_ms === null || row === undefined ? null : Number(row.locked_until_ms),
    locks: row?.consecutive_locks ?? 0,
    reserved: row?.reserved ?? 0,
  }).toEqual({ failures: m.failures, lockedUntilMs: m.lockedUntilMs, locks: m.locks, reserved: 0 });
}

const configurations = testEngines().flatMap((engine) =>
  [
    { name: 'group commit on', commitBatchSize: undefined },
    { name: 'group commit off', commitBatchSize: 0 },
  ].map((batching) => ({ engine, ...batching })),
);

describe.each(configurations)(
  'payments against their model on $engine, $name',
  ({ engine, commitBatchSize }) => {
    let platform: TestPlatform;
    let runs = 0;

    beforeAll(async () => {
      platform = await startTestPlatform(engine, {
        codeTtlSeconds: codeTtlMs / 1000,
        ...(commitBatchSize === undefined ? {} : { commitBatchSize }),
      });
      await createPayee(platform.app, platform.operatorToken, 'shop');
    });
    afterAll(async () => {
      await platform?.dispose();
    });

    it('answers, holds and counts as the model says, and leaves a ledger and audit chain that verify', async () => {
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), async (sequence) => {
          runs += 1;
          const payer = await createFundedPayer(
            platform.app,
            platform.operatorToken,
            `model-${runs}-${Math.random().toString(36).slice(2, 8)}`,
            Number(deposit),
          );
          const model: Model = {
            nowMs: platform.clock.nowMs(),
            available: deposit,
            payments: [],
            failures: 0,
            lockedUntilMs: null,
            locks: 0,
          };
          const real: Real = { platform, payer };
          await fc.asyncModelRun(() => ({ model, real }), sequence);
          await expectStateMatches(model, real);
        }),
        { numRuns: 20 },
      );
      expect((await platform.services.ledger.verify()).ok).toBe(true);
      expect((await platform.services.audit.verify()).ok).toBe(true);
    });
  },
);
