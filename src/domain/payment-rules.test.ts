// Proves the payment rulebook on its own: operations decided in arrival order, codes compared only under a reserved attempt, at most 3 wrong codes per payment and 5 consecutive per payer whatever the batch holds, and the ledger's answers concluded into creations.
import { describe, expect, it } from 'vitest';
import { type AttemptPolicy, type AttemptState, freshAttemptState } from './attempts.js';
import type { TransferResult } from './ledger.js';
import type { Payment } from './payment.js';
import {
  type Approval,
  concludeCreations,
  decidePayments,
  type LedgerNames,
  type LockedPayment,
  newPayment,
  type PaymentBook,
  type PaymentOperation,
} from './payment-rules.js';

const nowMs = 1_700_000_000_000;
const policy: AttemptPolicy = {
  failuresBeforeLock: 5,
  lockMs: 900_000,
  lockMsMax: 86_400_000,
  reservationLeaseMs: 30_000,
};
const names: LedgerNames = {
  payerWallet: (payerId, currency) => `wallet:${payerId}:${currency}`,
  payeeAccount: (payeeId, currency) => `payee:${payeeId}:${currency}`,
  post: (hold) => `post:${hold}`,
  void: (hold) => `void:${hold}`,
  expire: (hold) => `expire:${hold}`,
};

function payment(id: string, overrides: Partial<Payment> = {}): Payment {
  return {
    ...newPayment({
      id,
      metadata: {},
      holdTransferId: `hold:${id}`,
      payerId: 'alice',
      payeeId: 'shop',
      amount: 1250n,
      currency: 'EUR',
      deliverTo: 'first_terminal',
      paymentRequestId: null,
      nowMs: nowMs - 1000,
      codeTtlSeconds: 300,
    }),
    ...overrides,
  };
}

function locked(p: Payment): LockedPayment {
  return {
    payment: p,
    firstCodeHash: `first:${p.id}`,
    secondCodeHashes: [`right:${p.id}`],
    verificationCodeSealed: '',
  };
}

function book(payments: Payment[], attempts: AttemptState = freshAttemptState): PaymentBook {
  return {
    locked: new Map(payments.map((p) => [p.id, locked(p)])),
    existing: new Map(),
    payeeNames: new Map([['shop', 'Corner Shop']]),
    attempts: new Map([['alice', attempts]]),
  };
}

/** An environment whose code check counts its calls: "right" matches, anything else does not. */
function environment() {
  const compared: string[] = [];
  return {
    compared,
    env: {
      nowMs,
      attemptPolicy: policy,
      codesMatch: (l: LockedPayment, approval: Approval) => {
        compared.push(l.payment.id);
        return 'secondCode' in approval && approval.secondCode === 'right';
      },
      throttle: () => undefined,
    },
  };
}

const approve = (paymentId: string, secondCode: string): PaymentOperation => ({
  kind: 'approve',
  paymentId,
  approval: { secondCode },
});

const codesOf = (answers: ReturnType<typeof decidePayments>['answers']) =>
  answers.map((answer) => (answer.kind === 'refused' ? answer.refusal.code : answer.kind));

describe('approvals', () => {
  it('18 wrong codes and the right one: 3 are compared, the payment fails, the right one is never compared', () => {
    const { env, compared } = environment();
    const operations = [...Array.from({ length: 18 }, () => approve('p1', 'wrong')), approve('p1', 'right')];
    const { answers, effects } = decidePayments(operations, book([payment('p1')]), env, names);
    expect(codesOf(answers)).toEqual([
      'approval_failed',
      'approval_failed',
      'approval_failed',
      ...Array.from({ length: 16 }, () => 'payment_not_approvable'),
    ]);
    expect(compared).toHaveLength(3);
    expect(effects.statuses.get('p1')).toEqual({ status: 'failed', failedApprovals: 3 });
    expect(effects.transfers).toEqual([{ id: 'void:hold:p1', kind: 'void', pendingId: 'hold:p1' }]);
    expect(effects.attempts.get('alice')).toMatchObject({ consecutiveFailures: 3, reserved: 0 });
    expect(effects.succeeded).toEqual([]);
  });

  it('12 wrong codes over 6 payments: 5 are compared, the payer locks, the other 7 count nothing', () => {
    const { env, compared } = environment();
    const payments = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((id) => payment(id));
    const operations = payments.flatMap((p) => [approve(p.id, 'wrong'), approve(p.id, 'wrong')]);
    const { answers, effects } = decidePayments(operations, book(payments), env, names);
    expect(codesOf(answers).filter((code) => code === 'approval_failed')).toHaveLength(5);
    expect(codesOf(answers).filter((code) => code === 'payer_locked')).toHaveLength(7);
    expect(compared).toHaveLength(5);
    expect(effects.attempts.get('alice')).toMatchObject({
      consecutiveFailures: 0,
      lockedUntilMs: nowMs + policy.lockMs,
      consecutiveLocks: 1,
    });
    expect(effects.events.filter((event) => event.event === 'payer_locked')).toHaveLength(1);
  });

  it('counts the evaluations other processes have reserved: only the free slots are evaluated', () => {
    const { env, compared } = environment();
    const inFlight: AttemptState = {
      ...freshAttemptState,
      consecutiveFailures: 1,
      reserved: 2,
      reservedUntilMs: nowMs + 10_000,
    };
    const payments = ['p1', 'p2', 'p3', 'p4'].map((id) => payment(id));
    const operations = payments.map((p) => approve(p.id, 'wrong'));
    const { answers } = decidePayments(operations, book(payments, inFlight), env, names);
    expect(codesOf(answers)).toEqual(['approval_failed', 'approval_failed', 'payer_locked', 'payer_locked']);
    expect(compared).toHaveLength(2);
  });

  it('a locked payer is refused before any code is compared, even the right one', () => {
    const { env, compared } = environment();
    const lockedState: AttemptState = { ...freshAttemptState, lockedUntilMs: nowMs + 1, consecutiveLocks: 1 };
    const { answers, effects } = decidePayments(
      [approve('p1', 'right')],
      book([payment('p1')], lockedState),
      env,
      names,
    );
    expect(codesOf(answers)).toEqual(['payer_locked']);
    expect(compared).toEqual([]);
    expect(effects.transfers).toEqual([]);
    expect(effects.attempts.size).toBe(0);
  });

  it('a right code posts the hold, resets the count and escalation; later operations on it are refused', () => {
    const { env } = environment();
    const before: AttemptState = { ...freshAttemptState, consecutiveFailures: 4, consecutiveLocks: 2 };
    const operations: PaymentOperation[] = [
      approve('p1', 'right'),
      approve('p1', 'right'),
      { kind: 'cancel', paymentId: 'p1', payerId: 'alice' },
    ];
    const { answers, effects } = decidePayments(operations, book([payment('p1')], before), env, names);
    expect(codesOf(answers)).toEqual(['payment', 'payment_not_approvable', 'payment_not_cancelable']);
    expect(effects.transfers).toEqual([{ id: 'post:hold:p1', kind: 'post', pendingId: 'hold:p1' }]);
    expect(effects.attempts.get('alice')).toMatchObject({ consecutiveFailures: 0, consecutiveLocks: 0 });
    expect(effects.succeeded.map((p) => p.id)).toEqual(['p1']);
  });

  it('a payment past its expiry expires on the approval that finds it, which is refused uncompared', () => {
    const { env, compared } = environment();
    const due = payment('p1', { expiresAtMs: nowMs });
    const { answers, effects } = decidePayments([approve('p1', 'right')], book([due]), env, names);
    expect(answers[0]).toEqual({
      kind: 'refused',
      refusal: { code: 'payment_not_approvable', details: { status: 'expired' } },
    });
    expect(compared).toEqual([]);
    expect(effects.transfers).toEqual([{ id: 'expire:hold:p1', kind: 'expire', pendingId: 'hold:p1' }]);
    expect(effects.statuses.get('p1')).toEqual({ status: 'expired', failedApprovals: 0 });
  });

  it('an unknown payment is not found; a throttled approval is refused before its codes are compared', () => {
    const { env, compared } = environment();
    const throttled = new Error('throttled');
    const { answers } = decidePayments(
      [approve('nope', 'right'), approve('p1', 'right')],
      book([payment('p1')]),
      { ...env, throttle: () => throttled },
      names,
    );
    expect(codesOf(answers)).toEqual(['payment_not_found', 'throttled']);
    expect(compared).toEqual([]);
  });
});

describe('cancellations and expiries', () => {
  it('someone else cannot cancel; the payer can, once; an expiry of a canceled payment changes nothing', () => {
    const { env } = environment();
    const operations: PaymentOperation[] = [
      { kind: 'cancel', paymentId: 'p1', payerId: 'mallory' },
      { kind: 'cancel', paymentId: 'p1', payerId: 'alice' },
      { kind: 'cancel', paymentId: 'p1', payerId: 'alice' },
      { kind: 'expire', paymentId: 'p1' },
    ];
    const { answers, effects } = decidePayments(operations, book([payment('p1')]), env, names);
    expect(codesOf(answers)).toEqual(['payment_not_found', 'payment', 'payment_not_cancelable', 'payment']);
    expect(effects.transfers).toEqual([{ id: 'void:hold:p1', kind: 'void', pendingId: 'hold:p1' }]);
    expect(effects.statuses.get('p1')?.status).toBe('canceled');
  });

  it('an expiry before the payment is due changes nothing', () => {
    const { env } = environment();
    const { effects } = decidePayments(
      [{ kind: 'expire', paymentId: 'p1' }],
      book([payment('p1')]),
      env,
      names,
    );
    expect(effects.transfers).toEqual([]);
    expect(effects.statuses.size).toBe(0);
  });
});

describe('creations', () => {
  const create = (id: string, payeeId = 'shop'): PaymentOperation => ({
    kind: 'create',
    payment: payment(id, { payeeId, status: 'requires_approval', createdAtMs: nowMs }),
  });

  it('holds per creation in arrival order; an unknown payee, a retry and a twin in the batch hold nothing', () => {
    const { env } = environment();
    const retried = payment('p9');
    const base = book([]);
    const { answers, effects } = decidePayments(
      [create('p1'), create('p2', 'nobody'), create('p9'), create('p1')],
      { ...base, existing: new Map([['p9', retried]]) },
      env,
      names,
    );
    expect(answers).toEqual([
      { kind: 'pending_hold', transferIndex: 0 },
      { kind: 'refused', refusal: { code: 'payee_not_found', param: 'payeeId' } },
      { kind: 'existing', payment: retried },
      { kind: 'same_as', index: 0 },
    ]);
    expect(effects.transfers).toHaveLength(1);
    expect(effects.transfers[0]).toMatchObject({
      id: 'hold:p1',
      kind: 'pending',
      debitAccountId: 'wallet:alice:EUR',
      creditAccountId: 'payee:shop:EUR',
      amount: 1250n,
    });
  });

  it('concludes holds from the ledger: refused for funds or for want of a wallet is insufficient_funds', () => {
    const { env } = environment();
    const operations = [create('p1'), create('p2'), create('p3'), create('p4')];
    const decisions = decidePayments(operations, book([]), env, names);
    const transfer = { id: 'x' } as unknown as Extract<TransferResult, { status: 'created' }>['transfer'];
    const results: TransferResult[] = [
      { id: 'hold:p1', status: 'created', transfer },
      { id: 'hold:p2', status: 'failed', error: 'exceeds_credits' },
      { id: 'hold:p3', status: 'failed', error: 'debit_account_not_found' },
      { id: 'hold:p4', status: 'exists', transfer },
    ];
    const outcomes = concludeCreations(operations, decisions, results);
    expect([...outcomes.values()].map((o) => o.kind)).toEqual([
      'created',
      'insufficient_funds',
      'insufficient_funds',
      'created_concurrently',
    ]);
  });

  it('any other refusal by the ledger breaks an invariant', () => {
    const { env } = environment();
    const decisions = decidePayments([approve('p1', 'right')], book([payment('p1')]), env, names);
    expect(() =>
      concludeCreations([approve('p1', 'right')], decisions, [
        { id: 'post:hold:p1', status: 'failed', error: 'pending_transfer_not_found' },
      ]),
    ).toThrow(/^invariant: post of hold hold:p1 refused/);
    const canceled = decidePayments(
      [{ kind: 'cancel', paymentId: 'p1', payerId: 'alice' }],
      book([payment('p1')]),
      env,
      names,
    );
    // A void may find the hold already expired by the ledger's own sweeper.
    expect(() =>
      concludeCreations([{ kind: 'cancel', paymentId: 'p1', payerId: 'alice' }], canceled, [
        { id: 'void:hold:p1', status: 'failed', error: 'pending_transfer_expired' },
      ]),
    ).not.toThrow();
  });
});
