/**
 * Platform keys in SQL (`platform_keys`, migration 0008).
 */

import type { SqlExecutor } from '../services/database.js';
import type { PlatformKeyStore } from '../services/keys/platform-keys.js';

/** The PlatformKeyStore over SQL. */
export const sqlPlatformKeyStore: PlatformKeyStore = Object.freeze({
  async selectSealed(tx: SqlExecutor, name: string): Promise<string | undefined> {
    const rows = await tx.query<{ key_sealed: string }>(
      'SELECT key_sealed FROM platform_keys WHERE name = $1',
      [name],
    );
    return rows[0]?.key_sealed;
  },
  async insertSealed(tx: SqlExecutor, name: string, sealed: string, nowMs: number): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO platform_keys (name, key_sealed, created_at_ms) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO NOTHING RETURNING name`,
      [name, sealed, nowMs],
    );
    return rows.length === 1;
  },
});
