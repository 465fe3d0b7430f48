/**
 * `countersign operator create|list|end-sessions`: operator accounts from the platform's machine. The CLI
 * holds the data directory's keys, so it acts with an admin's rights (recorded as `cli` in the audit log);
 * it is how the first admin comes to exist.
 */

import { type Command, InvalidArgumentError } from 'commander';
import { limits } from '../../domain/limits.js';
import { cliActor, isOperatorName, isOperatorRole, operatorRoles } from '../../domain/operator.js';
import { printJson, withPlatform } from '../platform-command.js';

/** `<name>`, checked as commander parses it, so that a typo is refused before the database is opened. */
function nameArgument(value: string): string {
  if (!isOperatorName(value)) {
    throw new InvalidArgumentError(
      `Expected 2–${limits.operatorNameLengthMax} of a-z 0-9 . _ -, starting with a letter.`,
    );
  }
  return value;
}

function roleOption(value: string): string {
  if (!isOperatorRole(value)) throw new InvalidArgumentError(`Expected one of ${operatorRoles.join(', ')}.`);
  return value;
}

/** Registers the `operator` commands. */
export function registerOperatorCommands(program: Command): void {
  const operator = program.command('operator').description('manage operator accounts of the console');
  operator
    .command('create')
    .description('create an operator; prints a one-time set-up code and where to use it')
    .argument('<name>', `operator name (2–${limits.operatorNameLengthMax} of a-z 0-9 . _ -)`, nameArgument)
    .requiredOption('--role <role>', `one of ${operatorRoles.join(', ')}`, roleOption)
    .action(async (name: string, options: { role: string }) => {
      await withPlatform(async (platform) => {
        const created = await platform.services.operators.create({ name, role: options.role }, cliActor);
        printJson({
          id: created.id,
          name: created.name,
          role: created.role,
          setupCode: created.setupCode,
          setupUrl: new URL('/operator/setup', platform.config.publicUrl).toString(),
          setupExpiresAt: new Date(created.setupExpiresAtMs).toISOString(),
        });
        process.stderr.write(
          `Give ${created.name} the set-up code by a channel only they read: it is shown only now.\n`,
        );
      });
    });

  operator
    .command('list')
    .description('list operators with their roles and open sessions')
    .action(async () => {
      await withPlatform(async (platform) => {
        for (const entry of await platform.services.operators.list(cliActor)) printJson(entry);
      });
    });

  operator
    .command('end-sessions')
    .description('end every console session of an operator at once')
    .argument('<name>', 'operator name', nameArgument)
    .action(async (name: string) => {
      await withPlatform(async (platform) => {
        printJson({ name, ended: await platform.services.operators.endSessions(name, cliActor) });
      });
    });
}
