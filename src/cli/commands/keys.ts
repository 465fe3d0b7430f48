/**
 * `countersign keys generate | status | rotate`: master-key rotation. Rotation re-encrypts, in batches,
 * every sealed value still under a retired key (MASTER_KEYS_RETIRED) with the current one (MASTER_KEY);
 * the servers keep serving meanwhile, because each of them opens values under either key. With the
 * embedded database run it while the server is stopped, or let the server reseal in the background.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { limits } from '../../domain/limits.js';
import { exitCodes, withPlatform } from '../platform-command.js';

function batchSize(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > limits.resealBatchSizeMax) {
    throw new Error(`--batch-size must be a whole number from 1 to ${limits.resealBatchSizeMax}`);
  }
  return value;
}

function printCounts(counts: ReadonlyMap<string, ReadonlyMap<string, number>>, currentKeyId: string): number {
  let stale = 0;
  for (const [column, byKey] of counts) {
    for (const [keyId, count] of byKey) {
      const current = keyId === currentKeyId;
      if (!current) stale += count;
      process.stdout.write(`  ${column}: ${count} under key ${keyId}${current ? ' (current)' : ''}\n`);
    }
  }
  return stale;
}

/** Registers the `keys` commands. */
export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('master-key tools: generate, status, rotate');

  keys
    .command('generate')
    .description('print a new random master key (64 hex digits) for MASTER_KEY; nothing is stored')
    .action(() => {
      process.stdout.write(`${randomBytes(32).toString('hex')}\n`);
    });

  keys
    .command('status')
    .description('count sealed values per master key id; exit status 1 while some are under a retired key')
    .action(async () => {
      await withPlatform(async (platform) => {
        const rotation = platform.services.keyRotation;
        const stale = printCounts(await rotation.status(), rotation.currentKeyId);
        process.stdout.write(`${stale} sealed values under retired keys\n`);
        if (stale > 0) process.exitCode = exitCodes.failure;
      });
    });

  keys
    .command('rotate')
    .description(
      're-encrypt every sealed value under MASTER_KEY; values under MASTER_KEYS_RETIRED keys are resealed in batches',
    )
    .option('--batch-size <n>', 'values resealed per transaction', String(limits.resealBatchSizeMax))
    .action(async (options: { batchSize: string }) => {
      const size = batchSize(options.batchSize);
      await withPlatform(async (platform) => {
        const rotation = platform.services.keyRotation;
        const report = await rotation.rotate(size, (count) => {
          process.stdout.write(`resealed ${count} values\n`);
        });
        const stale = printCounts(report.remaining, rotation.currentKeyId);
        process.stdout.write(
          `resealed ${report.resealed} values in ${report.batches} passes; ${stale} left under retired keys\n`,
        );
        if (stale > 0) {
          process.stdout.write('some rows were busy: run the command again\n');
          process.exitCode = exitCodes.failure;
        } else {
          process.stdout.write('no value needs a retired key any more: MASTER_KEYS_RETIRED may be emptied\n');
        }
      });
    });
}
