#!/usr/bin/env node
/**
 * The `countersign` command line: `serve`, operator set-up commands, verifiers, and the OCRA calculator.
 */
import { Command } from 'commander';
import { registerOcraCommand } from './commands/ocra.js';
import { registerPartyCommands } from './commands/parties.js';
import { registerServeCommand } from './commands/serve.js';
import { registerVerifyCommands } from './commands/verify.js';

/** Builds the program with every command registered. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('countersign')
    .description('Countersign: payments approved with one-time transaction codes')
    .showHelpAfterError();
  registerServeCommand(program);
  registerPartyCommands(program);
  registerVerifyCommands(program);
  registerOcraCommand(program);
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`countersign: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
