/**
 * `countersign merchant create|list|rotate-key`: the operator's merchant commands, over the configured
 * database. Every flag is checked before the platform is opened (options.ts).
 */
import type { Command } from 'commander';
import { limits, merchantLimits } from '../../domain/limits.js';
import { cliActor } from '../../domain/operator.js';
import { integerOption, nameOption, partyIdOption, urlOption, uuidOption } from '../options.js';
import { printJson, withPlatform } from '../platform-command.js';

/** Registers `merchant create`, `merchant list` and `merchant rotate-key`. */
export function registerMerchantCommands(program: Command): void {
  const merchant = program.command('merchant').description('manage merchants and their API keys');
  merchant
    .command('create')
    .description('create a merchant; prints its API key and webhook secret, this once')
    .requiredOption(
      '--id <id>',
      `merchant id, also its payee id (${limits.partyIdLengthMin}–${limits.partyIdLengthMax} of A-Z a-z 0-9 . _ @ + -)`,
      partyIdOption,
    )
    .requiredOption('--name <name>', 'display name shown to payers', nameOption)
    .option('--webhook-url <url>', 'where events are POSTed (https; see docs/webhooks.md)', urlOption)
    .action(async (options: { id: string; name: string; webhookUrl?: string }) => {
      await withPlatform(async (platform) => {
        printJson(await platform.services.merchants.create(options, cliActor));
      });
    });

  merchant
    .command('list')
    .description('list merchants by id, one JSON object a line')
    .option('--after <id>', 'start after this merchant id (paging)', partyIdOption)
    .option(
      '--limit <n>',
      `merchants to list, 1–${merchantLimits.pageSizeMax}`,
      integerOption(1, merchantLimits.pageSizeMax),
      merchantLimits.pageSizeMax,
    )
    .action(async (options: { after?: string; limit: number }) => {
      await withPlatform(async (platform) => {
        for (const view of await platform.services.merchants.list(options.after, options.limit)) {
          printJson(view);
        }
      });
    });

  merchant
    .command('rotate-key')
    .description(
      'issue a new API key; the old one stops after --grace-seconds (default 0: at once). Prints the new key once',
    )
    .requiredOption('--id <id>', 'merchant id', partyIdOption)
    .option(
      '--key <key-id>',
      'the key to replace; may be left out when the merchant has one usable key',
      uuidOption,
    )
    .option(
      '--grace-seconds <n>',
      `how long the old key keeps working, 0–${merchantLimits.rotationGraceSecondsMax}`,
      integerOption(0, merchantLimits.rotationGraceSecondsMax),
      0,
    )
    .action(async (options: { id: string; key?: string; graceSeconds: number }) => {
      await withPlatform(async (platform) => {
        const merchants = platform.services.merchants;
        const keyId = options.key ?? (await merchants.onlyUsableApiKeyId(options.id));
        const issued = await merchants.rotateApiKey(options.id, keyId, options.graceSeconds, cliActor);
        printJson({
          apiKey: issued.apiKey,
          apiKeyId: issued.key.id,
          replaced: keyId,
          graceSeconds: options.graceSeconds,
        });
      });
    });
}
