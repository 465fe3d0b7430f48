/**
 * `countersign ledger verify` and `countersign audit verify`: check the ledger's invariants and the audit
 * log's hash chain; print what was checked; exit 1 on any violation.
 */
import type { Command } from 'commander';
import { exitCodes, withPlatform } from '../platform-command.js';

/** Registers `ledger verify` and `audit verify`. */
export function registerVerifyCommands(program: Command): void {
  program
    .command('ledger')
    .description('ledger tools')
    .command('verify')
    .description('check every ledger invariant by name; exit status 1 when one fails')
    .action(async () => {
      await withPlatform(async (platform) => {
        const result = await platform.services.ledger.verify();
        for (const check of result.checks) {
          process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}\n`);
          for (const violation of check.violations) process.stdout.write(`       ${violation}\n`);
        }
        for (const total of result.totals) {
          process.stdout.write(
            `     ${total.currency}: posted debits ${total.debitsPosted} = credits ${total.creditsPosted}; pending debits ${total.debitsPending} = credits ${total.creditsPending}\n`,
          );
        }
        process.stdout.write(result.ok ? 'ledger verified\n' : 'ledger verification FAILED\n');
        if (!result.ok) process.exitCode = exitCodes.failure;
      });
    });

  program
    .command('audit')
    .description('audit log tools')
    .command('verify')
    .description('check the hash chain of the audit log; exit status 1 when an entry was edited or deleted')
    .action(async () => {
      await withPlatform(async (platform) => {
        const result = await platform.services.audit.verify();
        if (result.ok) {
          process.stdout.write(`audit log verified: ${result.entries} entries, chain intact\n`);
          return;
        }
        process.stdout.write(
          `audit log verification FAILED at position ${result.brokenAt}: ${result.reason}\n`,
        );
        process.exitCode = exitCodes.failure;
      });
    });
}
