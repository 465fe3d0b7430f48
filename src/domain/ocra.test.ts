// Proves that OCRA responses equal the published RFC 6287 Appendix C values, and that malformed suites, inputs and hex are refused with a reason.
import { describe, expect, it } from 'vitest';
import { timingSafeEqualString } from './constant-time.js';
import { bytesToHex, HexFormatError, hexToBytes } from './hex.js';
import { computeOcra, OcraInputError, OcraSuiteError, ocraPinHash, parseOcraSuite } from './ocra.js';

// RFC 6287 Appendix C: the keys are ASCII digit strings of 20, 32 and 64 bytes.
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const key20 = ascii('12345678901234567890');
const key32 = ascii('12345678901234567890123456789012');
const key64 = ascii('1234567890'.repeat(6) + '1234');
// Appendix C: PIN "1234", SHA-1 hash 7110eda4d09e062aa5e4a390b0a572ac0d2c0220; T = 0x132d0b6 minutes.
const pin = '1234';
const pinSha1Hex = '7110eda4d09e062aa5e4a390b0a572ac0d2c0220';
const timeSteps = 0x132d0b6;

// Eight copies of one digit: the questions Appendix C uses.
const repeated = (digit: number): string => String(digit).repeat(8);

describe('RFC 6287 Appendix C.1, one-way challenge-response', () => {
  it.each([
    ['00000000', '237653'],
    ['11111111', '243178'],
    ['22222222', '653583'],
    ['33333333', '740991'],
    ['44444444', '608993'],
    ['55555555', '388898'],
    ['66666666', '816933'],
    ['77777777', '224598'],
    ['88888888', '750600'],
    ['99999999', '294470'],
  ])('OCRA-1:HOTP-SHA1-6:QN08 answers %s with %s', async (question, response) => {
    await expect(computeOcra({ suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: key20, question })).resolves.toBe(
      response,
    );
  });

  it.each([
    [0, '65347737'],
    [1, '86775851'],
    [2, '78192410'],
    [3, '71565254'],
    [4, '10104329'],
    [5, '65983500'],
    [6, '70069104'],
    [7, '91771096'],
    [8, '75011558'],
    [9, '08522129'],
  ])(
    'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1 at counter %i answers 12345678 with %s',
    async (counter, response) => {
      const input = {
        suite: 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1',
        key: key32,
        question: '12345678',
        counter,
        pin,
      };
      await expect(computeOcra(input)).resolves.toBe(response);
    },
  );

  it.each([
    [0, '83238735'],
    [1, '01501458'],
    [2, '17957585'],
    [3, '86776967'],
    [4, '86807031'],
  ])('OCRA-1:HOTP-SHA256-8:QN08-PSHA1 answers question %i×8 with %s', async (digit, response) => {
    const input = { suite: 'OCRA-1:HOTP-SHA256-8:QN08-PSHA1', key: key32, question: repeated(digit), pin };
    await expect(computeOcra(input)).resolves.toBe(response);
  });

  // In this table both the counter and the question change from row to row.
  it.each([
    [0, '07016083'],
    [1, '63947962'],
    [2, '70123924'],
    [3, '25341727'],
    [4, '33203315'],
    [5, '34205738'],
    [6, '44343969'],
    [7, '51946085'],
    [8, '20403879'],
    [9, '31409299'],
  ])(
    'OCRA-1:HOTP-SHA512-8:C-QN08 at counter %i with question counter×8 answers %s',
    async (digit, response) => {
      const input = {
        suite: 'OCRA-1:HOTP-SHA512-8:C-QN08',
        key: key64,
        question: repeated(digit),
        counter: BigInt(digit),
      };
      await expect(computeOcra(input)).resolves.toBe(response);
    },
  );

  it.each([
    [0, '95209754'],
    [1, '55907591'],
    [2, '22048402'],
    [3, '24218844'],
    [4, '36209546'],
  ])(
    'OCRA-1:HOTP-SHA512-8:QN08-T1M at T=0x132d0b6 answers question %i×8 with %s',
    async (digit, response) => {
      const input = {
        suite: 'OCRA-1:HOTP-SHA512-8:QN08-T1M',
        key: key64,
        question: repeated(digit),
        timeSteps,
      };
      await expect(computeOcra(input)).resolves.toBe(response);
    },
  );
});

describe('RFC 6287 Appendix C.2, mutual challenge-response', () => {
  const rows = [0, 1, 2, 3, 4].map((index) => ({ client: `CLI2222${index}`, server: `SRV1111${index}` }));

  it.each([
    [0, '28247970'],
    [1, '01984843'],
    [2, '65387857'],
    [3, '03351211'],
    [4, '83412541'],
  ])(
    'server OCRA-1:HOTP-SHA256-8:QA08, row %i (client then server question) answers %s',
    async (row, response) => {
      const { client, server } = rows[row]!;
      const input = { suite: 'OCRA-1:HOTP-SHA256-8:QA08', key: key32, question: [client, server] as const };
      await expect(computeOcra(input)).resolves.toBe(response);
    },
  );

  it.each([
    [0, '15510767'],
    [1, '90175646'],
    [2, '33777207'],
    [3, '95285278'],
    [4, '28934924'],
  ])(
    'client OCRA-1:HOTP-SHA256-8:QA08, row %i (server then client question) answers %s',
    async (row, response) => {
      const { client, server } = rows[row]!;
      const input = { suite: 'OCRA-1:HOTP-SHA256-8:QA08', key: key32, question: [server, client] as const };
      await expect(computeOcra(input)).resolves.toBe(response);
    },
  );

  it.each([
    [0, '79496648'],
    [1, '76831980'],
    [2, '12250499'],
    [3, '90856481'],
    [4, '12761449'],
  ])('server OCRA-1:HOTP-SHA512-8:QA08, row %i answers %s', async (row, response) => {
    const { client, server } = rows[row]!;
    const input = { suite: 'OCRA-1:HOTP-SHA512-8:QA08', key: key64, question: [client, server] as const };
    await expect(computeOcra(input)).resolves.toBe(response);
  });

  it.each([
    [0, '18806276'],
    [1, '70020315'],
    [2, '01600026'],
    [3, '18951020'],
    [4, '32528969'],
  ])('client OCRA-1:HOTP-SHA512-8:QA08-PSHA1, row %i answers %s', async (row, response) => {
    const { client, server } = rows[row]!;
    const input = {
      suite: 'OCRA-1:HOTP-SHA512-8:QA08-PSHA1',
      key: key64,
      question: [server, client] as const,
      pin,
    };
    await expect(computeOcra(input)).resolves.toBe(response);
  });
});

describe('RFC 6287 Appendix C.3, plain signature', () => {
  it.each([
    ['SIG10000', '53095496'],
    ['SIG11000', '04110475'],
    ['SIG12000', '31331128'],
    ['SIG13000', '76028668'],
    ['SIG14000', '46554205'],
  ])('OCRA-1:HOTP-SHA256-8:QA08 signs %s as %s', async (question, response) => {
    await expect(computeOcra({ suite: 'OCRA-1:HOTP-SHA256-8:QA08', key: key32, question })).resolves.toBe(
      response,
    );
  });

  it.each([
    ['SIG1000000', '77537423'],
    ['SIG1100000', '31970405'],
    ['SIG1200000', '10235557'],
    ['SIG1300000', '95213541'],
    ['SIG1400000', '65360607'],
  ])('OCRA-1:HOTP-SHA512-8:QA10-T1M at T=0x132d0b6 signs %s as %s', async (question, response) => {
    const input = {
      suite: 'OCRA-1:HOTP-SHA512-8:QA10-T1M',
      key: key64,
      question,
      timeSteps: BigInt(timeSteps),
    };
    await expect(computeOcra(input)).resolves.toBe(response);
  });
});

describe('the PIN hash', () => {
  it('is the Appendix C SHA-1 hash of PIN 1234', async () => {
    expect(bytesToHex(await ocraPinHash('OCRA-1:HOTP-SHA256-8:QN08-PSHA1', pin))).toBe(pinSha1Hex);
  });

  it('can be given precomputed instead of the PIN, with the same response', async () => {
    const input = { suite: 'OCRA-1:HOTP-SHA256-8:QN08-PSHA1', key: key32, question: '00000000' };
    await expect(computeOcra({ ...input, pinHash: hexToBytes(pinSha1Hex) })).resolves.toBe('83238735');
  });

  it('cannot be asked of a suite without P', async () => {
    await expect(ocraPinHash('OCRA-1:HOTP-SHA1-6:QN08', pin)).rejects.toThrow(OcraInputError);
  });
});

describe('parseOcraSuite', () => {
  it('reads the suites of the RFC examples', () => {
    expect(parseOcraSuite('OCRA-1:HOTP-SHA256-8:QN08-PSHA1')).toEqual({
      text: 'OCRA-1:HOTP-SHA256-8:QN08-PSHA1',
      hash: 'SHA-256',
      digits: 8,
      counter: false,
      questionFormat: 'N',
      questionLengthMax: 8,
      pinHash: 'SHA-1',
      sessionInformationLengthBytes: null,
      timeStep: null,
    });
    expect(parseOcraSuite('OCRA-1:HOTP-SHA512-8:C-QN08')).toMatchObject({ hash: 'SHA-512', counter: true });
    expect(parseOcraSuite('OCRA-1:HOTP-SHA512-8:QA10-T1M')).toMatchObject({
      questionFormat: 'A',
      questionLengthMax: 10,
      timeStep: { size: 1, unit: 'M', seconds: 60 },
    });
    expect(parseOcraSuite('OCRA-1:HOTP-SHA1-6:QH40-S064')).toMatchObject({
      hash: 'SHA-1',
      digits: 6,
      questionFormat: 'H',
      questionLengthMax: 40,
      sessionInformationLengthBytes: 64,
      pinHash: null,
    });
  });

  it('reads every input at once, and the limits of each part', () => {
    expect(parseOcraSuite('OCRA-1:HOTP-SHA512-10:C-QA64-PSHA512-S512-T48H')).toEqual({
      text: 'OCRA-1:HOTP-SHA512-10:C-QA64-PSHA512-S512-T48H',
      hash: 'SHA-512',
      digits: 10,
      counter: true,
      questionFormat: 'A',
      questionLengthMax: 64,
      pinHash: 'SHA-512',
      sessionInformationLengthBytes: 512,
      timeStep: { size: 48, unit: 'H', seconds: 172800 },
    });
    expect(parseOcraSuite('OCRA-1:HOTP-SHA1-0:QN04-PSHA256-S001-T59S')).toMatchObject({
      digits: 0,
      questionLengthMax: 4,
      pinHash: 'SHA-256',
      sessionInformationLengthBytes: 1,
      timeStep: { size: 59, unit: 'S', seconds: 59 },
    });
  });

  it('returns a frozen suite, so a parsed suite cannot be altered after its checks', () => {
    const suite = parseOcraSuite('OCRA-1:HOTP-SHA512-8:QA10-T1M');
    expect(Object.isFrozen(suite)).toBe(true);
    expect(Object.isFrozen(suite.timeStep)).toBe(true);
  });

  it.each([
    ['', /1 to 64 characters/],
    ['x'.repeat(65), /1 to 64 characters/],
    ['OCRA-1:HOTP-SHA1-6', /three parts/],
    ['OCRA-1:HOTP-SHA1-6:QN08:QN08', /three parts/],
    ['OCRA-2:HOTP-SHA1-6:QN08', /OCRA-1/],
    ['ocra-1:hotp-sha1-6:qn08', /OCRA-1/],
    ['OCRA-1:TOTP-SHA1-6:QN08', /crypto function/],
    ['OCRA-1:HOTP-MD5-6:QN08', /crypto function/],
    ['OCRA-1:HOTP-SHA1-06:QN08', /crypto function/],
    ['OCRA-1:HOTP-SHA1-3:QN08', /truncation/],
    ['OCRA-1:HOTP-SHA1-11:QN08', /truncation/],
    ['OCRA-1:HOTP-SHA1-6:', /data input/],
    ['OCRA-1:HOTP-SHA1-6:C', /data input/],
    ['OCRA-1:HOTP-SHA1-6:QX08', /data input/],
    ['OCRA-1:HOTP-SHA1-6:QN8', /data input/],
    ['OCRA-1:HOTP-SHA1-6:PSHA1-QN08', /data input/],
    ['OCRA-1:HOTP-SHA1-6:QN03', /question length/],
    ['OCRA-1:HOTP-SHA1-6:QN65', /question length/],
    ['OCRA-1:HOTP-SHA1-6:QN08-C', /only P \(PIN\), S \(session\) or T \(time\)/],
    ['OCRA-1:HOTP-SHA1-6:QN08-', /only P \(PIN\), S \(session\) or T \(time\)/],
    ['OCRA-1:HOTP-SHA1-6:QN08-PMD5', /PSHA1, PSHA256 or PSHA512/],
    ['OCRA-1:HOTP-SHA1-6:QN08-S64', /Snnn/],
    ['OCRA-1:HOTP-SHA1-6:QN08-S000', /Snnn/],
    ['OCRA-1:HOTP-SHA1-6:QN08-S513', /Snnn/],
    ['OCRA-1:HOTP-SHA1-6:QN08-T0M', /time input/],
    ['OCRA-1:HOTP-SHA1-6:QN08-T01M', /time input/],
    ['OCRA-1:HOTP-SHA1-6:QN08-T1D', /time input/],
    ['OCRA-1:HOTP-SHA1-6:QN08-T60S', /time-step size/],
    ['OCRA-1:HOTP-SHA1-6:QN08-T49H', /time-step size/],
    ['OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1', /in that order/],
    ['OCRA-1:HOTP-SHA1-6:QN08-PSHA1-PSHA1', /in that order/],
  ])('rejects %j with a reason', (suite, reason) => {
    let thrown: unknown;
    try {
      parseOcraSuite(suite);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OcraSuiteError);
    expect((thrown as OcraSuiteError).reason).toMatch(reason);
  });
});

describe('computeOcra input validation', () => {
  const qn08 = { suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: key20 };

  async function reasonOf(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(OcraInputError);
    return (error as OcraInputError).reason;
  }

  it('rejects a QN question with letters', async () => {
    expect(await reasonOf(computeOcra({ ...qn08, question: '1234567A' }))).toMatch(/only decimal digits/);
  });

  it('rejects a question longer than the suite allows, or shorter than 4', async () => {
    expect(await reasonOf(computeOcra({ ...qn08, question: '123456789' }))).toMatch(/4 to 8 characters/);
    expect(await reasonOf(computeOcra({ ...qn08, question: '123' }))).toMatch(/4 to 8 characters/);
  });

  it('rejects an A question with other characters, and an H question with non-hex', async () => {
    const qa08 = { suite: 'OCRA-1:HOTP-SHA256-8:QA08', key: key32 };
    expect(await reasonOf(computeOcra({ ...qa08, question: 'SIG 1000' }))).toMatch(/letters/);
    expect(await reasonOf(computeOcra({ ...qa08, question: 'SIGé1000' }))).toMatch(/letters/);
    const qh08 = { suite: 'OCRA-1:HOTP-SHA1-6:QH08', key: key20 };
    expect(await reasonOf(computeOcra({ ...qh08, question: '0123456g' }))).toMatch(/hexadecimal/);
  });

  it('checks each half of a mutual question against the suite on its own', async () => {
    const qa08 = { suite: 'OCRA-1:HOTP-SHA256-8:QA08', key: key32 };
    expect(await reasonOf(computeOcra({ ...qa08, question: ['CLI222200', 'SRV1111'] }))).toMatch(/4 to 8/);
    expect(await reasonOf(computeOcra({ ...qa08, question: 'CLI22220SRV11110' }))).toMatch(/4 to 8/);
  });

  it('rejects a missing PIN for a P suite, and both a PIN and its hash', async () => {
    const suite = 'OCRA-1:HOTP-SHA256-8:QN08-PSHA1';
    const input = { suite, key: key32, question: '00000000' };
    expect(await reasonOf(computeOcra(input))).toMatch(/requires a PIN/);
    const both = { ...input, pin, pinHash: hexToBytes(pinSha1Hex) };
    expect(await reasonOf(computeOcra(both))).toMatch(/not both/);
    const short = { ...input, pinHash: new Uint8Array(19) };
    expect(await reasonOf(computeOcra(short))).toMatch(/20-byte SHA-1/);
    expect(await reasonOf(computeOcra({ ...input, pin: '' }))).toMatch(/non-empty/);
  });

  it('rejects a missing counter for a C suite, and a counter out of range', async () => {
    const input = { suite: 'OCRA-1:HOTP-SHA512-8:C-QN08', key: key64, question: '00000000' };
    expect(await reasonOf(computeOcra(input))).toMatch(/requires a counter/);
    expect(await reasonOf(computeOcra({ ...input, counter: -1 }))).toMatch(/whole number/);
    expect(await reasonOf(computeOcra({ ...input, counter: 1.5 }))).toMatch(/whole number/);
    expect(await reasonOf(computeOcra({ ...input, counter: 2n ** 64n }))).toMatch(/2\^64 - 1/);
  });

  it('rejects missing time steps for a T suite and missing or mis-sized session information for an S suite', async () => {
    const timed = { suite: 'OCRA-1:HOTP-SHA512-8:QN08-T1M', key: key64, question: '00000000' };
    expect(await reasonOf(computeOcra(timed))).toMatch(/requires time steps/);
    const session = { suite: 'OCRA-1:HOTP-SHA1-6:QH40-S064', key: key20, question: 'abcdef' };
    expect(await reasonOf(computeOcra(session))).toMatch(/requires session information/);
    const wrongSize = { ...session, sessionInformation: new Uint8Array(63) };
    expect(await reasonOf(computeOcra(wrongSize))).toMatch(/exactly 64 bytes/);
  });

  it('rejects inputs the suite does not take instead of ignoring them', async () => {
    expect(await reasonOf(computeOcra({ ...qn08, question: '00000000', counter: 0 }))).toMatch(
      /counter \(C\)/,
    );
    expect(await reasonOf(computeOcra({ ...qn08, question: '00000000', pin }))).toMatch(/PIN \(P\)/);
    expect(await reasonOf(computeOcra({ ...qn08, question: '00000000', timeSteps: 1 }))).toMatch(
      /time steps/,
    );
    const session = { ...qn08, question: '00000000', sessionInformation: new Uint8Array(64) };
    expect(await reasonOf(computeOcra(session))).toMatch(/session information/);
  });

  it('rejects a key shorter than 128 bits', async () => {
    const input = { ...qn08, key: key20.subarray(0, 15), question: '00000000' };
    expect(await reasonOf(computeOcra(input))).toMatch(/16 to 256 bytes/);
  });

  it('rejects a malformed suite with OcraSuiteError', async () => {
    await expect(
      computeOcra({ ...qn08, suite: 'OCRA-1:HOTP-SHA1-6:QN99', question: '0000' }),
    ).rejects.toThrow(OcraSuiteError);
  });

  it('leaves the caller unchanged after a rejection: same key bytes, same response next time', async () => {
    const key = new Uint8Array(key20);
    await expect(computeOcra({ ...qn08, key, question: 'abcdefgh' })).rejects.toThrow(OcraInputError);
    expect(key).toEqual(key20);
    await expect(computeOcra({ ...qn08, key, question: '00000000' })).resolves.toBe('237653');
  });
});

describe('truncation 0', () => {
  it('returns the whole HMAC in hex instead of digits', async () => {
    const input = { suite: 'OCRA-1:HOTP-SHA256-0:QN08', key: key32, question: '00000000' };
    await expect(computeOcra(input)).resolves.toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('hex', () => {
  it('decodes both cases and encodes lowercase, back to the same bytes', () => {
    expect(hexToBytes('00ff7F80')).toEqual(Uint8Array.of(0x00, 0xff, 0x7f, 0x80));
    expect(bytesToHex(Uint8Array.of(0x00, 0xff, 0x7f, 0x80))).toBe('00ff7f80');
    expect(hexToBytes('')).toEqual(new Uint8Array(0));
  });

  it.each([
    ['abc', /odd length/],
    ['0g', /not a hex digit/],
    ['0x12', /not a hex digit/],
    [' 12 ', /not a hex digit/],
  ])('rejects %j', (hex, reason) => {
    expect(() => hexToBytes(hex)).toThrow(HexFormatError);
    expect(() => hexToBytes(hex)).toThrow(reason);
  });
});

describe('timingSafeEqualString', () => {
  it('is true only for identical strings', () => {
    expect(timingSafeEqualString('83238735', '83238735')).toBe(true);
    expect(timingSafeEqualString('', '')).toBe(true);
    expect(timingSafeEqualString('83238735', '83238736')).toBe(false);
    expect(timingSafeEqualString('03238735', '83238735')).toBe(false);
  });

  it('is false for strings of different length, even when one is a prefix of the other', () => {
    expect(timingSafeEqualString('8323873', '83238735')).toBe(false);
    expect(timingSafeEqualString('83238735', '8323873')).toBe(false);
    expect(timingSafeEqualString('a', 'a\u0000')).toBe(false);
    expect(timingSafeEqualString('', 'a')).toBe(false);
  });
});
