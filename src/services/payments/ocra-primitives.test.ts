// Proves that OCRA over Node's synchronous primitives gives the published RFC 6287 Appendix C responses, and RFC 4226's HMAC values, exactly as WebCrypto does.
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../domain/hex.js';
import { computeOcra, webCryptoOcraPrimitives } from '../../domain/ocra.js';
import { nodeOcraPrimitives } from './ocra-primitives.js';

// RFC 6287 Appendix C: the keys are ASCII digit strings of 20, 32 and 64 bytes; T = 0x132d0b6 minutes.
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const keys = {
  key20: ascii('12345678901234567890'),
  key32: ascii('12345678901234567890123456789012'),
  key64: ascii('1234567890'.repeat(6) + '1234'),
} as const;

// One vector of each kind of Appendix C (one-way, with counter and PIN, with time, mutual, signature).
const vectors: readonly {
  suite: string;
  key: keyof typeof keys;
  question: string | readonly [string, string];
  counter?: number;
  pin?: string;
  timeSteps?: number;
  response: string;
}[] = [
  { suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: 'key20', question: '00000000', response: '237653' },
  { suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: 'key20', question: '11111111', response: '243178' },
  { suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: 'key20', question: '22222222', response: '653583' },
  {
    suite: 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1',
    key: 'key32',
    counter: 0,
    question: '12345678',
    pin: '1234',
    response: '65347737',
  },
  {
    suite: 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1',
    key: 'key32',
    counter: 1,
    question: '12345678',
    pin: '1234',
    response: '86775851',
  },
  {
    suite: 'OCRA-1:HOTP-SHA256-8:QN08-PSHA1',
    key: 'key32',
    question: '00000000',
    pin: '1234',
    response: '83238735',
  },
  {
    suite: 'OCRA-1:HOTP-SHA512-8:C-QN08',
    key: 'key64',
    counter: 0,
    question: '00000000',
    response: '07016083',
  },
  {
    suite: 'OCRA-1:HOTP-SHA512-8:QN08-T1M',
    key: 'key64',
    question: '00000000',
    timeSteps: 20107446,
    response: '95209754',
  },
  {
    suite: 'OCRA-1:HOTP-SHA256-8:QA08',
    key: 'key32',
    question: ['CLI22220', 'SRV11110'],
    response: '28247970',
  },
  { suite: 'OCRA-1:HOTP-SHA256-8:QA08', key: 'key32', question: 'SIG10000', response: '53095496' },
  {
    suite: 'OCRA-1:HOTP-SHA512-8:QA10-T1M',
    key: 'key64',
    question: 'SIG1000000',
    timeSteps: 20107446,
    response: '77537423',
  },
];

describe('OCRA over node:crypto', () => {
  it.each(vectors)('$suite answers $question with $response', async (vector) => {
    const { key, response, ...rest } = vector;
    const input = { ...rest, key: keys[key] };
    await expect(computeOcra(input, nodeOcraPrimitives)).resolves.toBe(response);
    await expect(computeOcra(input, webCryptoOcraPrimitives)).resolves.toBe(response);
  });

  it('gives RFC 4226 Appendix D HMAC-SHA-1 values and the Appendix C PIN hash', () => {
    // RFC 4226 Appendix D: HMAC-SHA-1 of counters 0 and 1 under the 20-byte key.
    const counter = (n: number) => Uint8Array.of(0, 0, 0, 0, 0, 0, 0, n);
    expect(bytesToHex(nodeOcraPrimitives.hmac('SHA-1', keys.key20, counter(0)) as Uint8Array)).toBe(
      'cc93cf18508d94934c64b65d8ba7667fb7cde4b0',
    );
    expect(bytesToHex(nodeOcraPrimitives.hmac('SHA-1', keys.key20, counter(1)) as Uint8Array)).toBe(
      '75a48a19d4cbe100644e8ac1397eea747a2d33ab',
    );
    // RFC 6287 Appendix C: SHA-1 of PIN "1234".
    expect(bytesToHex(nodeOcraPrimitives.digest('SHA-1', ascii('1234')) as Uint8Array)).toBe(
      '7110eda4d09e062aa5e4a390b0a572ac0d2c0220',
    );
  });
});
