// Proves that migrations apply once, record themselves, and are safe when two processes migrate at once.
import { describe, expect, it } from 'vitest';
import { openTestDatabase, testEngines } from '../../test/support/engines.js';
import { migrate, readMigrations } from './migrate.js';

describe.each(testEngines())('migrations on %s', (engine) => {
  it('records every migration file and applies nothing twice', async () => {
    const test = await openTestDatabase(engine);
    try {
      const files = await readMigrations();
      const rows = await test.database.query<{ name: string }>(
        'SELECT name FROM schema_migrations ORDER BY name',
      );
      expect(rows.map((row) => row.name)).toEqual(files.map((file) => file.name));
      expect(await migrate(test.database)).toEqual([]);
    } finally {
      await test.dispose();
    }
  });
});

// One PGlite instance belongs to one process; the race of two migrators needs a server.
describe.each(testEngines().filter((engine) => engine === 'postgres'))(
  'concurrent migrations on %s',
  (engine) => {
    it('lets two concurrent migrators apply each migration exactly once', async () => {
      const test = await openTestDatabase(engine);
      try {
        await test.database.query('DROP TABLE IF EXISTS race_probe');
        const migrations = [
          { name: '9000_race_probe.sql', sql: 'CREATE TABLE race_probe (id int PRIMARY KEY);' },
          { name: '9001_race_probe_row.sql', sql: 'INSERT INTO race_probe VALUES (1);' },
        ];
        const results = await Promise.all([
          migrate(test.database, migrations),
          migrate(test.database, migrations),
        ]);
        expect(results.flat().sort()).toEqual(migrations.map((m) => m.name));
        const rows = await test.database.query('SELECT id FROM race_probe');
        expect(rows).toHaveLength(1);
      } finally {
        await test.dispose();
      }
    });
  },
);
