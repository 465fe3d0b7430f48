/**
 * What a backup reads from the database itself.
 */
import type { BackupStore } from '../services/backups/backup-service.js';
import type { SqlExecutor } from '../services/database.js';

/** The SQL implementation of BackupStore. */
export const sqlBackupStore: BackupStore = Object.freeze({
  async selectSchemaVersion(executor: SqlExecutor): Promise<string> {
    const [row] = await executor.query<{ name: string }>(
      'SELECT name FROM schema_migrations ORDER BY name DESC LIMIT 1',
    );
    if (row === undefined) throw new Error('invariant: a platform database without migrations');
    return row.name;
  },
});
