/**
 * `countersign ocra`: computes one RFC 6287 response from the command line, the way a second terminal would.
 * It exists so that support staff and integrators can check a token or a test vector by hand. It calls the
 * pure domain function directly rather than a service because nothing is stored or looked up: the caller
 * supplies every input.
 */

import type { Command } from 'commander';
import { HexFormatError, hexToBytes } from '../../domain/hex.js';
import { ocraLimits } from '../../domain/limits.js';
import { computeOcra, type OcraInput, OcraInputError, OcraSuiteError } from '../../domain/ocra.js';

/** Exit code for input the command cannot use; 1 stays free for crashes, so scripts can tell the two apart. */
const badInputExitCode = 2;

interface OcraCommandOptions {
  suite?: string;
  key?: string;
  question?: string;
  pin?: string;
  pinHash?: string;
  counter?: string;
  timeSteps?: string;
  session?: string;
}

/** A command-line mistake the domain never sees, such as a missing option or a counter written in words. */
class OcraUsageError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.name = 'OcraUsageError';
    this.reason = reason;
  }
}

const helpExample = `
Prints the response alone on one line. Bad input prints one line on stderr and exits with code 2.
Options are visible in the process list and in shell history: use test keys, not production secrets.

Example (RFC 6287 Appendix C, prints 237653):
  countersign ocra --suite OCRA-1:HOTP-SHA1-6:QN08 \\
    --key 3132333435363738393031323334353637383930 --question 00000000`;

/**
 * Registers `ocra` on the given program. Every option is optional for commander and checked here instead,
 * and unknown options are collected rather than rejected by commander, so that every kind of bad input ends
 * the same way: one line on stderr and `process.exitCode = 2`, never `process.exit`.
 */
export function registerOcraCommand(program: Command): void {
  program
    .command('ocra')
    .summary('compute an OCRA (RFC 6287) response')
    .description('Compute an OCRA (RFC 6287) response, e.g. the second transaction code for a first code.')
    .option('--suite <suite>', 'OCRA suite (required), e.g. OCRA-1:HOTP-SHA256-8:QN08-PSHA1')
    .option(
      '--key <hex>',
      `shared secret (terminal key) in hex, ${ocraLimits.keyBytesMin} to ${ocraLimits.keyBytesMax} bytes (required)`,
    )
    .option('--question <question>', 'challenge question in the suite format, e.g. the first code (required)')
    .option('--pin <pin>', 'PIN (payer verification code) for a suite with P; hashed with its P hash')
    .option('--pin-hash <hex>', 'instead of --pin: the PIN already hashed with the suite P hash, in hex')
    .option('--counter <n>', 'counter for a suite with C, 0 to 2^64-1, decimal or 0x hex')
    .option('--time-steps <n>', 'time steps since the Unix epoch for a suite with T, decimal or 0x hex')
    .option('--session <hex>', 'session information for a suite with Snnn, exactly nnn bytes in hex')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', helpExample)
    .action(async (options: OcraCommandOptions, command: Command) => {
      await runOcra(options, command.args);
    });
}

async function runOcra(options: OcraCommandOptions, leftovers: readonly string[]): Promise<void> {
  let response: string;
  try {
    response = await computeOcra(toOcraInput(options, leftovers));
  } catch (error) {
    if (!isBadInput(error)) throw error;
    // One line, whatever the reason says, so that scripts can read stderr line by line.
    process.stderr.write(`countersign ocra: ${error.reason.replace(/\s+/g, ' ')}\n`);
    process.exitCode = badInputExitCode;
    return;
  }
  process.stdout.write(`${response}\n`);
}

function isBadInput(error: unknown): error is { reason: string } {
  return (
    error instanceof OcraUsageError ||
    error instanceof OcraSuiteError ||
    error instanceof OcraInputError ||
    error instanceof HexFormatError
  );
}

function toOcraInput(options: OcraCommandOptions, leftovers: readonly string[]): OcraInput {
  if (leftovers.length > 0) {
    throw new OcraUsageError(`unknown option or argument "${leftovers[0]}"; see countersign ocra --help`);
  }
  return {
    suite: required(options.suite, '--suite'),
    key: hexOption(required(options.key, '--key'), '--key'),
    question: required(options.question, '--question'),
    ...(options.pin === undefined ? {} : { pin: options.pin }),
    ...(options.pinHash === undefined ? {} : { pinHash: hexOption(options.pinHash, '--pin-hash') }),
    ...(options.counter === undefined ? {} : { counter: integerOption(options.counter, '--counter') }),
    ...(options.timeSteps === undefined
      ? {}
      : { timeSteps: integerOption(options.timeSteps, '--time-steps') }),
    ...(options.session === undefined ? {} : { sessionInformation: hexOption(options.session, '--session') }),
  };
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new OcraUsageError(`${name} is required; see countersign ocra --help`);
  return value;
}

function hexOption(value: string, name: string): Uint8Array {
  try {
    return hexToBytes(value);
  } catch (error) {
    if (error instanceof HexFormatError) throw new OcraUsageError(`${name}: ${error.reason}`);
    throw error;
  }
}

// Twenty decimal digits or sixteen hex digits cover 2^64 - 1; the domain checks the exact range.
const integerPattern = /^(?:[0-9]{1,20}|0x[0-9a-fA-F]{1,16})$/;

function integerOption(value: string, name: string): bigint {
  if (!integerPattern.test(value)) {
    throw new OcraUsageError(`${name} must be a whole number, in decimal or 0x-prefixed hex`);
  }
  return BigInt(value);
}
