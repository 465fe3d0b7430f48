/**
 * `countersign payer create`, `payee create`, `deposit`: the operator's set-up commands. They call the
 * services directly over the configured database.
 */

import type { Command } from 'commander';
import { limits } from '../../domain/limits.js';
import { cliActor } from '../../domain/operator.js';
import {
  amountOption,
  currencyOption,
  nameOption,
  partyIdOption,
  passwordOption,
  suiteOption,
  verificationCodeOption,
} from '../options.js';
import { printJson, withPlatform } from '../platform-command.js';

/** `payer create`: the payer, and its first terminal unless `--no-ocra-terminal`. */
async function createPayer(options: {
  id: string;
  password: string;
  verificationCode: string;
  suite?: string;
  ocraTerminal: boolean;
}): Promise<void> {
  const { ocraTerminal, ...creation } = options;
  await withPlatform(async (platform) => {
    printJson(
      await platform.services.parties.createPayer(
        { ...creation, firstTerminal: ocraTerminal ? 'ocra' : 'none' },
        cliActor,
      ),
    );
  });
}

/** `payee create`. */
async function createPayee(options: { id: string; name: string }): Promise<void> {
  await withPlatform(async (platform) => {
    printJson(await platform.services.parties.createPayee(options, cliActor));
  });
}

/**
 * `deposit`: the key carries the same `operator:` prefix as the operator API's, so that a deposit retried
 * through either lands once.
 */
async function deposit(options: {
  payer: string;
  amount: bigint;
  currency: string;
  idempotencyKey?: string;
}): Promise<void> {
  await withPlatform(async (platform) => {
    const deposited = await platform.services.parties.deposit(
      {
        payerId: options.payer,
        amount: options.amount,
        currency: options.currency,
        ...(options.idempotencyKey === undefined
          ? {}
          : { idempotencyKey: `operator:${options.idempotencyKey}` }),
      },
      cliActor,
    );
    printJson(deposited);
  });
}

/** Registers `payer create`, `payee create` and `deposit`. */
export function registerPartyCommands(program: Command): void {
  const payer = program.command('payer').description('manage payers');
  payer
    .command('create')
    .description('create a payer; prints its id and its first terminal (suite, key, enrollment URI) once')
    .requiredOption(
      '--id <id>',
      `payer identification code (${limits.partyIdLengthMin}–${limits.partyIdLengthMax} of A-Z a-z 0-9 . _ @ + -)`,
      partyIdOption,
    )
    .requiredOption(
      '--password <password>',
      `password, ${limits.passwordLengthMin}–${limits.passwordLengthMax} characters`,
      passwordOption,
    )
    .requiredOption(
      '--verification-code <digits>',
      `verification code (PIN), ${limits.verificationCodeDigitsMin}–${limits.verificationCodeDigitsMax} digits`,
      verificationCodeOption,
    )
    .option(
      '--suite <suite>',
      'OCRA suite of the terminal (default OCRA-1:HOTP-SHA256-8:QN08-PSHA1)',
      suiteOption,
    )
    .option(
      '--no-ocra-terminal',
      'create the payer without a second terminal; they add a passkey from their pages ("terminal": null)',
    )
    .action(createPayer);

  const payee = program.command('payee').description('manage payees');
  payee
    .command('create')
    .description('create a payee')
    .requiredOption(
      '--id <id>',
      `payee id (${limits.partyIdLengthMin}–${limits.partyIdLengthMax} of A-Z a-z 0-9 . _ @ + -)`,
      partyIdOption,
    )
    .requiredOption('--name <name>', 'display name shown to payers', nameOption)
    .action(createPayee);

  program
    .command('deposit')
    .description("credit a payer's wallet from the platform's funding account")
    .requiredOption('--payer <id>', 'payer id', partyIdOption)
    .requiredOption('--amount <minor-units>', 'amount in minor units (cents for EUR)', amountOption)
    .requiredOption('--currency <code>', 'ISO 4217 currency code', currencyOption)
    .option('--idempotency-key <key>', 'makes a retried deposit land once')
    .action(deposit);
}
