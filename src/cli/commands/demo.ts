/**
 * `countersign demo`: a sandbox for a developer. On a development data directory it creates a funded test
 * payer (with its second terminal's key), a payee and a merchant, and prints everything needed to try a
 * payment end to end: the merchant's API key and webhook secret, the payer's credentials, the command that
 * computes a second code, and the one that enrolls the command-line terminal. It refuses a PostgreSQL
 * database or a public (https) PUBLIC_URL unless `--force`: test credentials with known secrets do not
 * belong in a real platform.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Command } from 'commander';
import type { Config } from '../../config.js';
import { cliActor } from '../../domain/operator.js';
import { printJson, withPlatform } from '../platform-command.js';

/** The ids the sandbox creates; fixed, so that the docs can name them. */
export const demoIds = Object.freeze({ payer: 'demo-payer', payee: 'demo-payee', merchant: 'demo-shop' });

/** What the test payer is given: 1 000.00 EUR. */
const demoFunding = Object.freeze({ amount: 100_000n, currency: 'EUR' });

/** Why this configuration is not a development one, or undefined when it is. */
export function demoRefusal(config: Config, force: boolean): string | undefined {
  if (force) return undefined;
  if (config.databaseUrl !== undefined) {
    return 'demo refuses a PostgreSQL database (DATABASE_URL): it is meant for a development data directory; --force to insist';
  }
  if (config.publicUrl.startsWith('https:')) {
    return `demo refuses a public platform (PUBLIC_URL ${config.publicUrl}); --force to insist`;
  }
  return undefined;
}

/** Registers `demo`. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'development sandbox: create a funded test payer, a payee and a merchant, and print their credentials',
    )
    .option('--force', 'run on PostgreSQL or with an https PUBLIC_URL too')
    .action(async (options: { force?: boolean }) => {
      await withPlatform(
        async (platform) => {
          const { parties, merchants } = platform.services;
          const password = `demo-${randomBytes(12).toString('base64url')}`;
          const verificationCode = String(randomInt(0, 1_000_000)).padStart(6, '0');
          const payer = await parties.createPayer(
            { id: demoIds.payer, password, verificationCode },
            cliActor,
          );
          await parties.deposit(
            { payerId: demoIds.payer, ...demoFunding, idempotencyKey: 'operator:demo-funding' },
            cliActor,
          );
          await parties.createPayee({ id: demoIds.payee, name: 'Demo Payee' }, cliActor);
          const merchant = await merchants.create({ id: demoIds.merchant, name: 'Demo Shop' }, cliActor);
          if (payer.terminal === null) throw new Error('invariant: the demo payer has an OCRA terminal');
          const { suite, keyHex, enrollmentUri } = payer.terminal;
          printJson({
            merchant: { id: merchant.id, apiKey: merchant.apiKey, webhookSecret: merchant.webhookSecret },
            payer: {
              id: payer.id,
              password,
              verificationCode,
              balance: { available: demoFunding.amount, currency: demoFunding.currency },
              terminal: { id: payer.terminal.id, suite, keyHex },
            },
            payee: { id: demoIds.payee },
            secondCodeCommand: `npx countersign ocra --suite ${suite} --key ${keyHex} --pin ${verificationCode} --question <first code>`,
            enrollTerminalCommand: `npx countersign terminal enroll '${enrollmentUri}'`,
            publicUrl: platform.config.publicUrl,
          });
        },
        (config) => demoRefusal(config, options.force === true),
      );
    });
}
