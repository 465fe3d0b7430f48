// Proves that `countersign ocra` prints an RFC 6287 response alone on stdout, and answers bad input with one stderr line and exit code 2.
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { bytesToHex } from '../../domain/hex.js';
import { registerOcraCommand } from './ocra.js';

// RFC 6287 Appendix C: the 20-byte key "12345678901234567890" in hex.
const key20Hex = '3132333435363738393031323334353637383930';

describe('countersign ocra', () => {
  let stdout: MockInstance;
  let stderr: MockInstance;
  let exitCodeBefore: typeof process.exitCode;

  beforeEach(() => {
    exitCodeBefore = process.exitCode;
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = exitCodeBefore;
  });

  async function run(args: readonly string[]): Promise<void> {
    const program = new Command();
    registerOcraCommand(program);
    await program.parseAsync(['ocra', ...args], { from: 'user' });
  }

  const written = (spy: MockInstance): string => spy.mock.calls.map((call) => String(call[0])).join('');

  it('prints the RFC 6287 Appendix C response alone on one line', async () => {
    await run(['--suite', 'OCRA-1:HOTP-SHA1-6:QN08', '--key', key20Hex, '--question', '22222222']);
    expect(written(stdout)).toBe('653583\n');
    expect(written(stderr)).toBe('');
    expect(process.exitCode).toBe(exitCodeBefore);
  });

  it('passes counter, PIN and time steps through, with hex time steps as the RFC writes them', async () => {
    const key64Hex = bytesToHex(new TextEncoder().encode('1234567890'.repeat(6) + '1234'));
    await run([
      '--suite',
      'OCRA-1:HOTP-SHA512-8:QA10-T1M',
      '--key',
      key64Hex,
      '--question',
      'SIG1000000',
      '--time-steps',
      '0x132d0b6',
    ]);
    expect(written(stdout)).toBe('77537423\n');
  });

  it('answers a question that does not fit the suite with one stderr line and exit code 2, printing nothing', async () => {
    await run(['--suite', 'OCRA-1:HOTP-SHA1-6:QN08', '--key', key20Hex, '--question', '1234ABCD']);
    expect(written(stdout)).toBe('');
    expect(written(stderr)).toMatch(/^countersign ocra: [^\n]*decimal digits[^\n]*\n$/);
    expect(process.exitCode).toBe(2);
  });

  it.each([
    [['--key', key20Hex, '--question', '00000000'], /--suite is required/],
    [['--suite', 'OCRA-1:HOTP-SHA1-6:QN08', '--key', '31323', '--question', '00000000'], /--key: odd length/],
    [['--suite', 'OCRA-1:HOTP-SHA1-6:QN08X', '--key', key20Hex, '--question', '00000000'], /data input/],
    [
      ['--suite', 'OCRA-1:HOTP-SHA1-6:QN08', '--key', key20Hex, '--question', '00000000', '--pn', '1'],
      /unknown option/,
    ],
    [
      [
        '--suite',
        'OCRA-1:HOTP-SHA512-8:C-QN08',
        '--key',
        key20Hex,
        '--question',
        '00000000',
        '--counter',
        'one',
      ],
      /--counter/,
    ],
  ])('rejects %j with one stderr line and exit code 2', async (args, reason) => {
    await run(args);
    expect(written(stdout)).toBe('');
    expect(written(stderr)).toMatch(reason);
    expect(written(stderr).split('\n')).toHaveLength(2);
    expect(process.exitCode).toBe(2);
  });

  it('describes every option in --help', () => {
    const program = new Command();
    registerOcraCommand(program);
    const help = program.commands.find((command) => command.name() === 'ocra')!.helpInformation();
    for (const option of [
      '--suite',
      '--key',
      '--question',
      '--pin',
      '--pin-hash',
      '--counter',
      '--time-steps',
      '--session',
    ]) {
      expect(help).toContain(option);
    }
  });
});
