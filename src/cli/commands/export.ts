/**
 * `countersign export transfers|payments|refunds --from DATE --to DATE --format csv|jsonl [--output FILE]`:
 * the books of a range, streamed a page at a time to a file or to standard output.
 *
 * Every flag is checked before the platform is opened, so a mistyped command never opens (or creates) a
 * data directory. A file is written beside its final name and renamed when complete: an interrupted export
 * never leaves a file that looks whole.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CountersignError } from '../../domain/errors.js';
import { exportFormats, exportKinds, parseExportRequest } from '../../domain/export-format.js';
import { cliActor } from '../../domain/operator.js';
import { exitCodes, withPlatform } from '../platform-command.js';

function fail(message: string): void {
  process.stderr.write(`countersign: ${message}\n`);
  process.exitCode = exitCodes.badInput;
}

/** Registers `export`. */
export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description(`export the books of a range [from, to) as CSV or JSON Lines (${exportKinds.join(', ')})`)
    .argument('<kind>', exportKinds.join(' | '))
    .requiredOption('--from <date>', 'first day or UTC instant, inclusive (YYYY-MM-DD or …Z)')
    .requiredOption('--to <date>', 'end day or UTC instant, exclusive')
    .option('--format <format>', exportFormats.join(' | '), 'csv')
    .option('--output <file>', 'the file to write (must not exist); default: standard output')
    .action(async (kind: string, options: { from: string; to: string; format: string; output?: string }) => {
      let request: ReturnType<typeof parseExportRequest>;
      try {
        request = parseExportRequest({ kind, ...options });
      } catch (error) {
        if (!(error instanceof CountersignError)) throw error;
        return fail(`${error.code}: ${error.message}`);
      }
      const output = options.output === undefined ? undefined : path.resolve(options.output);
      if (output !== undefined) {
        if (
          await stat(output).then(
            () => true,
            () => false,
          )
        ) {
          return fail(`${output} exists; choose a new file name`);
        }
        if (
          !(await stat(path.dirname(output)).then(
            (s) => s.isDirectory(),
            () => false,
          ))
        ) {
          return fail(`the directory of ${output} does not exist`);
        }
      }
      await withPlatform(async (platform) => {
        const chunks = Readable.from(
          platform.services.exports.file(cliActor, request.kind, request.format, request.range),
        );
        if (output === undefined) {
          await pipeline(chunks, process.stdout, { end: false });
          return;
        }
        const partial = `${output}.${randomBytes(6).toString('hex')}.partial`;
        try {
          await pipeline(chunks, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
          await rename(partial, output);
        } catch (error) {
          await rm(partial, { force: true });
          throw error;
        }
        process.stderr.write(`exported ${request.kind} to ${output}\n`);
      });
    });
}
