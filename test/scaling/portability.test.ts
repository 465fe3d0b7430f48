// Proves that the migrations and the SQL of the store use nothing a PostgreSQL-compatible distributed engine refuses or serializes on: no advisory locks, no sequences (SERIAL, IDENTITY, nextval), and that LISTEN/NOTIFY appears only where push across servers is announced.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../support/processes.js';

/** Text of every file of `folder` ending in `suffix`, with SQL and line comments removed. */
async function sources(folder: string, suffix: string): Promise<Map<string, string>> {
  const directory = path.join(repositoryRoot, folder);
  const names = (await readdir(directory)).filter(
    (name) => name.endsWith(suffix) && !name.endsWith('.test.ts'),
  );
  const texts = new Map<string, string>();
  for (const name of names) {
    const text = await readFile(path.join(directory, name), 'utf8');
    texts.set(`${folder}/${name}`, text.replace(/--[^\n]*/g, '').replace(/^\s*(\*|\/\/).*$/gm, ''));
  }
  return texts;
}

const refused: readonly [string, RegExp][] = [
  ['advisory lock', /pg_(try_)?advisory/i],
  ['sequence', /\b(CREATE\s+SEQUENCE|nextval|setval|currval)\b/i],
  ['serial column', /\b(big|small)?serial\b/i],
  ['identity column', /\bGENERATED\s+(ALWAYS|BY\s+DEFAULT)\s+AS\s+IDENTITY\b/i],
];

describe('portability of the schema and the statements', () => {
  it('finds no advisory lock, sequence, serial or identity column in migrations/ or src/store/', async () => {
    const files = new Map([...(await sources('migrations', '.sql')), ...(await sources('src/store', '.ts'))]);
    expect(files.size).toBeGreaterThan(10);
    const findings: string[] = [];
    for (const [file, text] of files) {
      for (const [what, pattern] of refused) if (pattern.test(text)) findings.push(`${file}: ${what}`);
    }
    expect(findings).toEqual([]);
  });

  it('would report each kind of finding (the patterns match what they name)', () => {
    const samples = [
      'SELECT pg_advisory_xact_lock(1)',
      "SELECT nextval('s')",
      'id bigserial PRIMARY KEY',
      'id bigint GENERATED ALWAYS AS IDENTITY',
    ];
    expect(samples.map((sample, index) => refused[index]![1].test(sample))).toEqual([true, true, true, true]);
  });

  it('uses NOTIFY only to announce challenges (an engine without it falls back to the stream poll)', async () => {
    const files = await sources('src/store', '.ts');
    const notifying = [...files]
      .filter(([, text]) => /pg_notify|\bNOTIFY\b/.test(text))
      .map(([file]) => file);
    expect(notifying).toEqual(['src/store/challenge-notifications.ts']);
  });
});
