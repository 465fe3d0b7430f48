// Proves that enrollment URIs round-trip through their documented format and that every malformed one is refused with a reason.
import { describe, expect, it } from 'vitest';
import {
  EnrollmentUriError,
  enrollmentConfirmationQuestion,
  formatEnrollmentUri,
  parseEnrollmentUri,
} from './enrollment-uri.js';
import { hexToBytes } from './hex.js';
import { computeOcra } from './ocra.js';

const enrollment = {
  platformUrl: 'https://pay.example.com',
  payerId: 'alice',
  enrollmentId: '0f8b2d6e-5c1a-4c3e-9a7b-2d4e6f8a0b1c',
  secret: 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE',
  suite: 'OCRA-1:HOTP-SHA256-8:QN08-PSHA1',
  keyHex: '3132333435363738393031323334353637383930313233343536373839303132',
  expiresAtMs: 1_800_000_000_000,
};

describe('the enrollment URI', () => {
  it('is written in the documented form and read back unchanged', () => {
    const uri = formatEnrollmentUri(enrollment);
    expect(uri).toBe(
      'countersign://enroll?v=1&platform=https%3A%2F%2Fpay.example.com&payer=alice' +
        '&enrollment=0f8b2d6e-5c1a-4c3e-9a7b-2d4e6f8a0b1c&secret=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE' +
        '&suite=OCRA-1%3AHOTP-SHA256-8%3AQN08-PSHA1' +
        '&key=3132333435363738393031323334353637383930313233343536373839303132&expires=1800000000',
    );
    expect(parseEnrollmentUri(`  ${uri}\n`)).toEqual({ version: 1, ...enrollment });
  });

  it('keeps a platform URL with a path, without its trailing slash', () => {
    const uri = formatEnrollmentUri({ ...enrollment, platformUrl: 'http://127.0.0.1:8080/pay/' });
    expect(parseEnrollmentUri(uri).platformUrl).toBe('http://127.0.0.1:8080/pay');
  });

  it.each([
    ['another scheme', (uri: string) => uri.replace('countersign://', 'otpauth://'), 'must start with'],
    ['an unknown version', (uri: string) => uri.replace('v=1', 'v=2'), 'version 1'],
    ['a missing secret', (uri: string) => uri.replace(/&secret=[^&]+/, ''), 'secret is missing'],
    ['a repeated key', (uri: string) => `${uri}&key=00`, 'key is given twice'],
    ['an unknown parameter', (uri: string) => `${uri}&pin=1234`, 'pin is not known'],
    ['a short secret', (uri: string) => uri.replace(/secret=[^&]+/, 'secret=abc'), 'secret is malformed'],
    ['a bad payer id', (uri: string) => uri.replace('payer=alice', 'payer=a%20b'), 'payer id'],
    ['a non-hex key', (uri: string) => uri.replace(/key=[^&]+/, 'key=zz'), 'not hexadecimal'],
    ['a short key', (uri: string) => uri.replace(/key=[^&]+/, 'key=00112233'), '16 to 256 bytes'],
    [
      'an unusable suite',
      (uri: string) => uri.replace(/suite=[^&]+/, 'suite=OCRA-1%3AHOTP-SHA1-6%3AQN04'),
      'suite',
    ],
    [
      'a javascript: platform',
      (uri: string) => uri.replace(/platform=[^&]+/, 'platform=javascript%3Aalert(1)'),
      'http or https',
    ],
    [
      'a platform with credentials',
      (uri: string) => uri.replace(/platform=[^&]+/, 'platform=https%3A%2F%2Fu%3Ap%40h'),
      'credentials',
    ],
    ['an expiry in words', (uri: string) => uri.replace(/expires=[^&]+/, 'expires=soon'), 'unix seconds'],
    ['an overlong text', (uri: string) => `${uri}${'x'.repeat(3000)}`, 'too long'],
  ])('refuses %s', (_name, change, reason) => {
    const uri = change(formatEnrollmentUri(enrollment));
    expect(() => parseEnrollmentUri(uri)).toThrow(EnrollmentUriError);
    expect(() => parseEnrollmentUri(uri)).toThrow(reason);
  });

  it('refuses to write an expiry that is not a whole second', () => {
    expect(() => formatEnrollmentUri({ ...enrollment, expiresAtMs: 1_800_000_000_001 })).toThrow(
      'whole number of seconds',
    );
  });
});

describe('the confirmation question', () => {
  it('is eight digits derived from the enrollment id, which any terminal suite can answer', async () => {
    const question = enrollmentConfirmationQuestion(enrollment.enrollmentId);
    expect(question).toMatch(/^[0-9]{8}$/);
    expect(question).toBe(enrollmentConfirmationQuestion(enrollment.enrollmentId));
    expect(question).not.toBe(enrollmentConfirmationQuestion('1f8b2d6e-5c1a-4c3e-9a7b-2d4e6f8a0b1c'));
    const key = hexToBytes(enrollment.keyHex);
    for (const [suite, pin] of [
      ['OCRA-1:HOTP-SHA256-8:QN08-PSHA1', '1234'],
      ['OCRA-1:HOTP-SHA1-6:QA08', undefined],
      ['OCRA-1:HOTP-SHA512-10:QH08-PSHA256', '1234'],
    ] as const) {
      const response = await computeOcra({ suite, key, question, ...(pin === undefined ? {} : { pin }) });
      expect(response).toMatch(/^[0-9]{6,10}$/);
    }
    expect(() => enrollmentConfirmationQuestion('not-a-uuid')).toThrow(EnrollmentUriError);
  });
});
