import { describe, expect, it } from 'vitest';
import { CountersignError } from './errors.js';
import {
  csvField,
  csvHeader,
  csvLine,
  exportFileName,
  jsonLine,
  parseExportRequest,
} from './export-format.js';
import { formatDecimal } from './money.js';

const transfer = {
  id: '00000000-0000-4000-8000-000000000001',
  created_at_ms: BigInt(Date.UTC(2026, 10, 11)),
  kind: 'single',
  debit_account_id: 'a',
  credit_account_id: 'b',
  amount: 12345n,
  currency: 'EUR',
  pending_id: null,
  reference: 'inv, "7"',
};

describe('formatDecimal', () => {
  it('writes the currency exponent 0, 2 and 3', () => {
    expect(formatDecimal(5n, 'JPY')).toBe('5');
    expect(formatDecimal(12345n, 'EUR')).toBe('123.45');
    expect(formatDecimal(5n, 'EUR')).toBe('0.05');
    expect(formatDecimal(1005n, 'BHD')).toBe('1.005');
    expect(formatDecimal(5n, 'BHD')).toBe('0.005');
  });
  it('writes negative amounts and zero', () => {
    expect(formatDecimal(-5n, 'BHD')).toBe('-0.005');
    expect(formatDecimal(-12345n, 'EUR')).toBe('-123.45');
    expect(formatDecimal(0n, 'EUR')).toBe('0.00');
  });
  it('keeps amounts past 2^53 exact', () => {
    expect(formatDecimal(9_007_199_254_740_993n, 'EUR')).toBe('90071992547409.93');
  });
});

describe('CSV fields', () => {
  it('quotes commas, quotes and line breaks per RFC 4180, and leaves plain text alone', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
  });
  it('guards cells a spreadsheet would run as a formula', () => {
    expect(csvField('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-1')).toBe("'-1");
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  });
  it('writes a header and a row with CRLF, times in ISO 8601 UTC and amounts twice', () => {
    expect(csvHeader('transfers')).toBe(
      'id,created_at,kind,debit_account_id,credit_account_id,amount_minor,amount,currency,pending_id,reference\r\n',
    );
    expect(csvLine('transfers', transfer)).toBe(
      '00000000-0000-4000-8000-000000000001,2026-11-11T00:00:00.000Z,single,a,b,12345,123.45,EUR,,"inv, ""7"""\r\n',
    );
  });
  it('writes JSON Lines with the same names, null where empty', () => {
    const line = jsonLine('transfers', transfer);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      id: transfer.id,
      created_at: '2026-11-11T00:00:00.000Z',
      kind: 'single',
      debit_account_id: 'a',
      credit_account_id: 'b',
      amount_minor: '12345',
      amount: '123.45',
      currency: 'EUR',
      pending_id: null,
      reference: 'inv, "7"',
    });
  });
});

describe('export requests', () => {
  const codeOf = (input: Parameters<typeof parseExportRequest>[0]) => {
    try {
      parseExportRequest(input);
    } catch (error) {
      return error instanceof CountersignError ? `${error.code}:${error.param}` : 'other';
    }
    return 'accepted';
  };
  const ok = { kind: 'transfers', format: 'csv', from: '2026-11-01', to: '2026-12-01' };

  it('accepts dates and UTC instants, [from, to)', () => {
    expect(parseExportRequest(ok).range).toEqual({
      fromMs: Date.UTC(2026, 10, 1),
      toMs: Date.UTC(2026, 11, 1),
    });
    expect(parseExportRequest({ ...ok, to: '2026-11-01T00:00:01Z' }).range.toMs).toBe(
      Date.UTC(2026, 10, 1, 0, 0, 1),
    );
    expect(exportFileName('transfers', 'csv', parseExportRequest(ok).range)).toBe(
      'countersign-transfers-2026-11-01-2026-12-01.csv',
    );
  });
  it('refuses bad kinds, formats, dates and ranges with invalid_request', () => {
    expect(codeOf({ ...ok, kind: 'accounts' })).toBe('invalid_request:kind');
    expect(codeOf({ ...ok, format: 'xlsx' })).toBe('invalid_request:format');
    expect(codeOf({ ...ok, from: '2026-02-30' })).toBe('invalid_request:from');
    expect(codeOf({ ...ok, from: '2026-11-01T00:00:00+02:00' })).toBe('invalid_request:from');
    expect(codeOf({ ...ok, to: 'tomorrow' })).toBe('invalid_request:to');
    expect(codeOf({ ...ok, to: ok.from })).toBe('invalid_request:to');
    expect(codeOf({ ...ok, to: '2026-10-01' })).toBe('invalid_request:to');
    expect(codeOf({ ...ok, from: '2025-01-01', to: '2026-01-03' })).toBe('invalid_request:to');
    expect(codeOf({ ...ok, from: '2024-01-01', to: '2025-01-01' })).toBe('accepted');
  });
});
