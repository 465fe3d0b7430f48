#!/usr/bin/env node
/**
 * The `countersign` command line: `serve`, operator set-up commands, verifiers, and the OCRA calculator.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerExportCommand } from './commands/export.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerMerchantCommands } from './commands/merchants.js';
import { registerOcraCommand } from './commands/ocra.js';
import { registerOperatorCommands } from './commands/operators.js';
import { registerPartyCommands } from './commands/parties.js';
import { registerServeCommand } from './commands/serve.js';
import { registerTerminalCommands } from './commands/terminal.js';
import { registerVerifyCommands } from './commands/verify.js';
import { exitCodes } from './platform-command.js';

/** Builds the program with every command registered. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('countersign')
    .description('Countersign: payments approved with one-time transaction codes')
    .showHelpAfterError()
    // Usage errors (a missing or unknown option) reach the catch below instead of exiting with 1, so that
    // they end with exit code 2 like every other bad input; set before the commands, which inherit it.
    .exitOverride();
  registerServeCommand(program);
  registerDemoCommand(program);
  registerPartyCommands(program);
  registerMerchantCommands(program);
  registerOperatorCommands(program);
  registerBackupCommands(program);
  registerVerifyCommands(program);
  registerExportCommand(program);
  registerOcraCommand(program);
  registerKeysCommands(program);
  registerTerminalCommands(program);
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof CommanderError) {
      // Commander has printed the help or the usage error already.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (error instanceof ConfigError) {
      // Found late, once a setting's file was read (TLS_CERT, TLS_KEY): still the configuration's fault.
      process.stderr.write(`countersign: configuration error: ${error.message}\n`);
      process.exitCode = exitCodes.badInput;
      return;
    }
    process.stderr.write(`countersign: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
