/**
 * `countersign serve`: starts the platform and keeps it running until SIGTERM or SIGINT, then drains
 * requests, stops background work and closes the database.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { cliActor } from '../../domain/operator.js';
import { operatorTokenFileName } from '../../services/keys/key-files.js';
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
      // Everything the server says goes through its JSON log, so every line on stdout parses as JSON.
      const log = server.app.log;
      log.info(
        { url: server.url, storage: config.databaseUrl === undefined ? 'pglite' : 'postgres' },
        `Countersign listening on ${server.url}`,
      );
      if (server.platform.operatorToken.created) {
        // The token itself is never printed (logs are shipped and kept): the file that holds it is named.
        log.info(
          { operatorTokenFile: path.join(config.dataDir, operatorTokenFileName) },
          'operator token created; read it from the file (mode 0600)',
        );
      }
      if ((await server.platform.services.operators.list(cliActor)).length === 0) {
        // The console has no token sign-in: without an account nobody can use it.
        log.info(
          'No operator account yet: create one with POST /v1/operators (operator token) while the server runs, ' +
            'or `npx countersign operator create <name> --role admin` while it is stopped; then open /operator/setup.',
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
