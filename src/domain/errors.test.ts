// Proves that the error catalog and docs/errors.md list the same codes with the same statuses and types.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CountersignError, errorCatalog, isErrorCode } from './errors.js';

interface DocumentedCode {
  readonly code: string;
  readonly status: number;
  readonly type: string;
  readonly meaning: string;
}

const documentPath = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));

/** Every row of the `| code | HTTP status | type | meaning |` table of a markdown document. */
function parseCodeTable(markdown: string): DocumentedCode[] {
  const lines = markdown.split('\n');
  const header = lines.findIndex((line) =>
    /^\|\s*code\s*\|\s*HTTP status\s*\|\s*type\s*\|\s*meaning\s*\|$/.test(line),
  );
  if (header === -1) throw new Error('no | code | HTTP status | type | meaning | table');
  const rows: DocumentedCode[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    if (cells.length !== 4) throw new Error(`row without four cells: ${line}`);
    const [code, status, type, meaning] = cells as [string, string, string, string];
    rows.push({ code, status: Number(status), type, meaning });
  }
  return rows;
}

/** Every disagreement between documented rows and the catalog, as sentences; empty when in step. */
function catalogMismatches(rows: readonly DocumentedCode[]): string[] {
  const mismatches: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.code)) mismatches.push(`${row.code} is documented twice`);
    seen.add(row.code);
    if (!isErrorCode(row.code)) {
      mismatches.push(`${row.code} is documented but not in the catalog`);
      continue;
    }
    const entry = errorCatalog[row.code];
    if (row.status !== entry.status)
      mismatches.push(`${row.code}: documented ${row.status}, catalog ${entry.status}`);
    if (row.type !== entry.type)
      mismatches.push(`${row.code}: documented ${row.type}, catalog ${entry.type}`);
    if (row.meaning.length < 20) mismatches.push(`${row.code}: meaning is missing`);
  }
  for (const code of Object.keys(errorCatalog)) {
    if (!seen.has(code)) mismatches.push(`${code} is in the catalog but not documented`);
  }
  return mismatches;
}

async function documentedCodes(): Promise<DocumentedCode[]> {
  return parseCodeTable(await readFile(documentPath, 'utf8'));
}

describe('error catalog and docs/errors.md', () => {
  it('list the same codes with the same statuses and types', async () => {
    const rows = await documentedCodes();
    expect(catalogMismatches(rows)).toEqual([]);
    expect(rows.map((row) => row.code).sort()).toEqual(Object.keys(errorCatalog).sort());
  });

  it('are told apart when a code is missing on either side or a status is wrong', async () => {
    const rows = await documentedCodes();
    const withoutRow = rows.filter((row) => row.code !== 'payer_locked');
    expect(catalogMismatches(withoutRow)).toEqual(['payer_locked is in the catalog but not documented']);
    const extraRow = [
      ...rows,
      { code: 'made_up', status: 400, type: 'api_error', meaning: 'A code nobody defined.' },
    ];
    expect(catalogMismatches(extraRow)).toEqual(['made_up is documented but not in the catalog']);
    const wrongStatus = rows.map((row) => (row.code === 'rate_limited' ? { ...row, status: 503 } : row));
    expect(catalogMismatches(wrongStatus)).toEqual(['rate_limited: documented 503, catalog 429']);
    expect(catalogMismatches([...rows, rows[0]!])).toEqual([`${rows[0]!.code} is documented twice`]);
  });
});

describe('catalog entries', () => {
  it('use an error status and a sentence as message', () => {
    for (const [code, entry] of Object.entries(errorCatalog)) {
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
      expect(entry.message, code).toMatch(/^[A-Z].*\.$/);
    }
  });

  it('never tell which authentication factor was wrong', () => {
    const { authentication_failed, approval_failed } = errorCatalog;
    // Both factors are named together, or neither is: never one alone.
    expect(authentication_failed.message).toMatch(/payer id or the password/);
    expect(approval_failed.message).not.toMatch(/first|second|verification/i);
  });
});

describe('CountersignError', () => {
  it('takes status, type and message from the catalog', () => {
    const error = new CountersignError('payer_locked');
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('payer_locked');
    expect(error.status).toBe(423);
    expect(error.type).toBe('authentication_error');
    expect(error.message).toBe(errorCatalog.payer_locked.message);
    expect(error.param).toBeUndefined();
    expect(error.details).toBeUndefined();
  });

  it('carries an overriding message, param, details and cause', () => {
    const cause = new Error('inner');
    const error = new CountersignError('payment_not_approvable', {
      message: 'This payment was canceled.',
      param: 'paymentId',
      details: { status: 'canceled' },
      cause,
    });
    expect(error.message).toBe('This payment was canceled.');
    expect(error.param).toBe('paymentId');
    expect(error.details).toEqual({ status: 'canceled' });
    expect(error.cause).toBe(cause);
    expect(error.status).toBe(409);
  });

  it('recognizes catalog codes only', () => {
    expect(isErrorCode('rate_limited')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode('no_such_code')).toBe(false);
  });
});
