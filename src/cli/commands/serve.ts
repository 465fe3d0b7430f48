/**
 * `countersign serve`: starts the platform and keeps it running until SIGTERM or SIGINT, then drains
 * requests, stops background work and closes the database.
 */
import type { Command } from 'commander';
import { cliActor } from '../../domain/operator.js';
import { configOrExit, restrictNewFilesToUser } from '../platform-command.js';

/** Registers `serve`. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'start the platform: HTTP API, pages and background jobs (configured by environment variables)',
    )
    .action(async () => {
      const config = configOrExit();
      if (config === undefined) return;
      restrictNewFilesToUser();
      // Loaded on use, so that `--help` stays quick (see platform-command.ts).
      const { startServer } = await import('../../main.js');
      const server = await startServer(config);
      const storage =
        config.databaseUrl === undefined ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL';
      process.stdout.write(`Countersign listening on ${server.url} (${storage})\n`);
      if (server.platform.operatorToken.created) {
        // Printed once, at the first start; afterwards it is only in DATA_DIR/operator.token (mode 0600).
        process.stdout.write(
          `Operator token (shown once, stored in ${config.dataDir}): ${server.platform.operatorToken.token}\n`,
        );
      }
      if ((await server.platform.services.operators.list(cliActor)).length === 0) {
        // The console has no token sign-in: without an account nobody can use it.
        process.stdout.write(
          'No operator account yet: create one with POST /v1/operators (operator token) while the server runs, ' +
            'or `npx countersign operator create <name> --role admin` while it is stopped; then open /operator/setup.\n',
        );
      }
      let closing = false;
      const shutdown = (signal: string) => {
        if (closing) return;
        closing = true;
        server.app.log.info({ signal }, 'shutting down');
        server.close().then(
          () => process.exit(0),
          (error: unknown) => {
            server.app.log.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
}
