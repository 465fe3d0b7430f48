/**
 * Payers, payees, deposits and balances: the platform's side of method step 1 (storing each payer with
 * its verification code and password, and their association) and the operator's tools around it.
 */
import { randomBytes } from 'node:crypto';
import { CountersignError } from '../../domain/errors.js';
import { bytesToHex } from '../../domain/hex.js';
import { limits } from '../../domain/limits.js';
import { assertMoney, isCurrency } from '../../domain/money.js';
import { type Actor, actorLabel, assertMayAct } from '../../domain/operator.js';
import {
  isAcceptablePassword,
  isPartyId,
  isPayeeName,
  isVerificationCode,
  partyIdRule,
} from '../../domain/payer.js';
import { terminalKeyLabel, verificationCodeLabel } from '../../domain/sealed-labels.js';
import { checkTerminalSuite } from '../../domain/terminal-suite.js';
import type { SqlExecutor } from '../database.js';
import { derivedId, newId } from '../ids.js';
import { accountId, fundingAccount, payeeAccount, payerWallet } from '../ledger/accounts.js';
import type { MethodDependencies } from '../method-dependencies.js';

/**
 * What a new payer starts with: an OCRA terminal (the default: its key is shown once, at creation), or no
 * second terminal at all, for a payer who will add passkeys from their pages and never hold a key the
 * platform shares (docs/terminal.md, "What a database leak reveals").
 */
export type FirstTerminal = 'ocra' | 'none';

/** The kinds of first terminal, for input schemas and checks. */
export const firstTerminalKinds: readonly FirstTerminal[] = ['ocra', 'none'];

/** A new payer as the operator submits it. */
export interface PayerCreation {
  readonly id: string;
  readonly password: string;
  readonly verificationCode: string;
  /** OCRA suite of the first terminal; only with `firstTerminal: 'ocra'`. */
  readonly suite?: string;
  /** Default `ocra`. */
  readonly firstTerminal?: FirstTerminal;
}

/** A created payer's OCRA terminal: the key is shown once, here, and never again. */
export interface CreatedTerminal {
  readonly id: string;
  readonly suite: string;
  readonly keyHex: string;
  readonly enrollmentUri: string;
}

/** The created payer, with its first terminal (`null` when created without one). */
export interface CreatedPayer {
  readonly id: string;
  readonly terminal: CreatedTerminal | null;
  /** The enrollment of the first terminal, when the platform issues enrollments (docs/terminal.md). */
  readonly enrollment?: { readonly id: string; readonly expiresAt: string };
}

/** Issues the enrollment of a new payer's first terminal inside the payer's transaction. */
export interface PayerEnrollmentIssuer {
  issueIn(
    tx: SqlExecutor,
    request: {
      readonly payerId: string;
      readonly terminalId: string;
      readonly suite: string;
      readonly key: Uint8Array;
      readonly label: null;
      readonly nowMs: number;
    },
  ): Promise<{ readonly id: string; readonly uri: string; readonly expiresAtMs: number }>;
}

/** A deposit as asked for; with an idempotency key, a retry finds the first deposit. */
export interface DepositRequest {
  readonly payerId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly idempotencyKey?: string;
}

/** A deposit as recorded. */
export interface Deposit {
  readonly id: string;
  readonly payerId: string;
  readonly amount: bigint;
  readonly currency: string;
}

function invalid(param: string, message: string): CountersignError {
  return new CountersignError('invalid_request', { param, message });
}

/** A new payer's OCRA terminal before it is stored: its id, suite and key. */
interface FirstOcraTerminal {
  readonly id: string;
  readonly suite: string;
  readonly key: Buffer;
}

/** Refuses a new payer's malformed id, password or verification code with `invalid_request`. */
function checkPayerCreation(creation: PayerCreation): void {
  if (!isPartyId(creation.id)) throw invalid('id', `id must be ${partyIdRule}`);
  if (!isAcceptablePassword(creation.password))
    throw invalid(
      'password',
      `password must be ${limits.passwordLengthMin}–${limits.passwordLengthMax} characters`,
    );
  if (!isVerificationCode(creation.verificationCode)) {
    throw invalid(
      'verificationCode',
      `verificationCode must be ${limits.verificationCodeDigitsMin}–${limits.verificationCodeDigitsMax} digits`,
    );
  }
}

/** Payers, payees, deposits and balances. */
export class PartyService {
  constructor(
    private readonly deps: MethodDependencies,
    private readonly enrollments?: PayerEnrollmentIssuer,
  ) {}

  /**
   * Creates a payer, with an OCRA first terminal unless `firstTerminal` is `none`. Throws `payer_exists`
   * if the id is taken, `invalid_request` for bad input (nothing is stored then).
   */
  async createPayer(creation: PayerCreation, actor: Actor): Promise<CreatedPayer> {
    assertMayAct(actor, 'create_party');
    checkPayerCreation(creation);
    const suite = this.firstTerminalSuite(creation);
    const passwordHash = await this.deps.passwords.hashPassword(creation.password);
    const terminal = suite === undefined ? undefined : { id: newId(), suite, key: randomBytes(32) };
    const nowMs = this.deps.clock.nowMs();
    const enrollment = await this.deps.database.transaction((tx) =>
      this.insertPayerIn(tx, creation, passwordHash, terminal, actor, nowMs),
    );
    if (terminal === undefined) return { id: creation.id, terminal: null };
    const keyHex = bytesToHex(terminal.key);
    return {
      id: creation.id,
      terminal: {
        id: terminal.id,
        suite: terminal.suite,
        keyHex,
        enrollmentUri: enrollment?.uri ?? this.enrollmentUri(creation.id, terminal.suite, keyHex),
      },
      ...(enrollment === undefined
        ? {}
        : { enrollment: { id: enrollment.id, expiresAt: new Date(enrollment.expiresAtMs).toISOString() } }),
    };
  }

  /**
   * Stores the payer, its first terminal if it has one, and the audit entry, then issues the terminal's
   * enrollment in the same transaction, so that a payer never exists without the terminal it was promised.
   */
  private async insertPayerIn(
    tx: SqlExecutor,
    creation: PayerCreation,
    passwordHash: string,
    terminal: FirstOcraTerminal | undefined,
    actor: Actor,
    nowMs: number,
  ): Promise<{ readonly id: string; readonly uri: string; readonly expiresAtMs: number } | undefined> {
    const { secrets, partyStore, audit } = this.deps;
    const inserted = await partyStore.insertPayer(tx, {
      id: creation.id,
      passwordHash,
      verificationCodeSealed: secrets.box.seal(creation.verificationCode, verificationCodeLabel(creation.id)),
      createdAtMs: nowMs,
    });
    if (!inserted) throw new CountersignError('payer_exists', { param: 'id' });
    if (terminal !== undefined) {
      await partyStore.insertTerminal(tx, {
        id: terminal.id,
        payerId: creation.id,
        suite: terminal.suite,
        keySealed: secrets.box.seal(terminal.key, terminalKeyLabel(terminal.id)),
        status: 'active',
        label: 'first terminal',
        createdAtMs: nowMs,
      });
    }
    const detail = {
      terminalId: terminal?.id ?? null,
      suite: terminal?.suite ?? null,
      actor: actorLabel(actor),
    };
    await audit.appendIn(tx, [{ event: 'payer_created', subject: creation.id, detail }], nowMs);
    if (terminal === undefined) return undefined;
    const { id: terminalId, suite, key } = terminal;
    return this.enrollments?.issueIn(tx, {
      payerId: creation.id,
      terminalId,
      suite,
      key,
      label: null,
      nowMs,
    });
  }

  /** The suite of the new payer's OCRA terminal, or undefined for a payer created without one. */
  private firstTerminalSuite(creation: PayerCreation): string | undefined {
    const kind = creation.firstTerminal ?? 'ocra';
    if (!firstTerminalKinds.includes(kind))
      throw invalid('firstTerminal', `firstTerminal must be one of ${firstTerminalKinds.join(', ')}`);
    if (kind === 'none') {
      // A suite without a terminal is a mistake of the caller's, not something to ignore quietly.
      if (creation.suite !== undefined)
        throw invalid('suite', 'suite applies to an OCRA first terminal only, not with firstTerminal none');
      return undefined;
    }
    const suite = creation.suite ?? this.deps.settings.defaultSuite;
    const suiteCheck = checkTerminalSuite(suite);
    if (!suiteCheck.ok)
      throw invalid('suite', `suite is not usable by a second terminal: ${suiteCheck.reason}`);
    return suite;
  }

  private enrollmentUri(payerId: string, suite: string, keyHex: string): string {
    const query = new URLSearchParams({
      payer: payerId,
      suite,
      key: keyHex,
      platform: this.deps.settings.publicUrl,
    });
    return `countersign://enroll?${query.toString()}`;
  }

  /** Creates a payee. Throws `payee_exists` if the id is taken. */
  async createPayee(
    creation: { id: string; name: string },
    actor: Actor,
  ): Promise<{ id: string; name: string }> {
    assertMayAct(actor, 'create_party');
    const { database, clock, partyStore, audit } = this.deps;
    if (!isPartyId(creation.id)) throw invalid('id', `id must be ${partyIdRule}`);
    const name = creation.name.trim();
    if (!isPayeeName(name)) {
      throw invalid('name', `name must be 1–${limits.payeeNameLengthMax} characters`);
    }
    const nowMs = clock.nowMs();
    await database.transaction(async (tx) => {
      const inserted = await partyStore.insertPayee(tx, {
        id: creation.id,
        name,
        kind: 'payee',
        createdAtMs: nowMs,
      });
      if (!inserted) throw new CountersignError('payee_exists', { param: 'id' });
      await audit.appendIn(
        tx,
        [{ event: 'payee_created', subject: creation.id, detail: { actor: actorLabel(actor) } }],
        nowMs,
      );
    });
    return { id: creation.id, name };
  }

  /**
   * Credits a payer's wallet from the platform's funding account. With an idempotency key the deposit's
   * id is derived from it, so a retry after a lost answer finds the first deposit instead of paying twice.
   */
  async deposit(request: DepositRequest, actor: Actor): Promise<Deposit> {
    assertMayAct(actor, 'deposit');
    const { database, clock, ledgerStore, partyStore, audit } = this.deps;
    assertMoney(request.amount, request.currency);
    const id =
      request.idempotencyKey === undefined
        ? newId()
        : derivedId(this.deps.secrets.keyedHash, 'deposit', request.idempotencyKey);
    return database.transaction(async (tx) => {
      if ((await partyStore.selectPayer(tx, request.payerId)) === undefined) {
        throw new CountersignError('payer_not_found', { param: 'payerId' });
      }
      const nowMs = clock.nowMs();
      const funding = fundingAccount(request.currency);
      const wallet = payerWallet(request.payerId, request.currency);
      await ledgerStore.insertAccounts(tx, [funding, wallet], nowMs);
      const [result] = await ledgerStore.createTransfersIn(
        tx,
        [
          {
            id,
            kind: 'single',
            debitAccountId: funding.id,
            creditAccountId: wallet.id,
            amount: request.amount,
            reference: `deposit:${request.payerId}`,
          },
        ],
        nowMs,
      );
      if (result === undefined || result.status === 'failed') {
        throw invalid(
          'amount',
          `the deposit was refused by the ledger (${result?.status === 'failed' ? result.error : 'no result'})`,
        );
      }
      if (result.status === 'created') {
        await audit.appendIn(
          tx,
          [
            {
              event: 'deposit_created',
              subject: request.payerId,
              detail: {
                depositId: id,
                amount: request.amount.toString(),
                currency: request.currency,
                actor: actorLabel(actor),
              },
            },
          ],
          nowMs,
        );
      }
      return {
        id,
        payerId: request.payerId,
        amount: result.transfer.amount,
        currency: result.transfer.currency,
      };
    });
  }

  /** A payer's balance in one currency: what can be spent, and what is held by open payments. */
  async payerBalance(payerId: string, currency: string): Promise<{ available: bigint; held: bigint }> {
    const { database, partyStore, ledgerStore } = this.deps;
    if (!isCurrency(currency)) throw invalid('currency', 'currency must be an ISO 4217 code such as EUR');
    if ((await partyStore.selectPayer(database, payerId)) === undefined)
      throw new CountersignError('payer_not_found');
    const [account] = await ledgerStore.selectAccounts(
      database,
      [accountId('payer', payerId, currency)],
      false,
    );
    if (account === undefined) return { available: 0n, held: 0n };
    return {
      available: account.creditsPosted - account.debitsPosted - account.debitsPending,
      held: account.debitsPending,
    };
  }

  /** A payee's balance in one currency: what has been paid to it, and what is on its way (held). */
  async payeeBalance(payeeId: string, currency: string): Promise<{ available: bigint; incoming: bigint }> {
    const { database, partyStore, ledgerStore } = this.deps;
    if (!isCurrency(currency)) throw invalid('currency', 'currency must be an ISO 4217 code such as EUR');
    if ((await partyStore.selectPayee(database, payeeId)) === undefined)
      throw new CountersignError('payee_not_found');
    const [account] = await ledgerStore.selectAccounts(database, [payeeAccount(payeeId, currency).id], false);
    if (account === undefined) return { available: 0n, incoming: 0n };
    return {
      available: account.creditsPosted - account.debitsPosted - account.debitsPending,
      incoming: account.creditsPending,
    };
  }
}
