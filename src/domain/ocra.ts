/**
 * OCRA (RFC 6287, the OATH challenge-response algorithm) and HOTP (RFC 4226), on WebCrypto by default.
 *
 * Countersign's second transaction code is an OCRA response: the question is the first transaction code,
 * the key is the terminal key and the PIN input is the payer verification code. The same module must run on
 * the server (Node.js 20) and on a second terminal in a browser, so it imports nothing from Node.js: no
 * `node:crypto`, no Buffer. Its hash primitives are WebCrypto's (`globalThis.crypto.subtle`) unless the
 * caller gives others (`OcraPrimitives`; the server gives Node's, in `services/payments/ocra-primitives.ts`). It is
 * pure: no I/O, no clock (callers pass time steps).
 */

import { bytesToHex, hexToBytes } from './hex.js';
import { ocraLimits } from './limits.js';

/** The hash functions RFC 4226 and RFC 6287 allow, spelled as WebCrypto names them. */
export type OtpHash = 'SHA-1' | 'SHA-256' | 'SHA-512';

/** How an OCRA question is written: A alphanumeric, N decimal digits, H hexadecimal digits. */
export type OcraQuestionFormat = 'A' | 'N' | 'H';

/** The unit of an OCRA time step: seconds, minutes or hours. */
export type OcraTimeStepUnit = 'S' | 'M' | 'H';

/** The time-step size of a suite's T input, e.g. `T1M` is size 1, unit M, 60 seconds. */
export interface OcraTimeStep {
  readonly size: number;
  readonly unit: OcraTimeStepUnit;
  readonly seconds: number;
}

/** A parsed, frozen OCRA suite. Absent optional inputs are `null`, never `undefined`, so none is forgotten. */
export interface OcraSuite {
  /** The suite exactly as written; these bytes open every OCRA message, so they must not be re-spelled. */
  readonly text: string;
  /** HMAC hash of the crypto function (`HOTP-SHA256-8` → SHA-256). */
  readonly hash: OtpHash;
  /** Response digits; 0 means no truncation (the whole HMAC, returned as hex). */
  readonly digits: number;
  /** Whether the data input starts with a counter (C). */
  readonly counter: boolean;
  readonly questionFormat: OcraQuestionFormat;
  /** Longest question the suite accepts (the xx of QFxx), in characters. */
  readonly questionLengthMax: number;
  /** Hash applied to the PIN (P input), or null when the suite takes no PIN. */
  readonly pinHash: OtpHash | null;
  /** Length of the session information (S input) in bytes, or null when the suite takes none. */
  readonly sessionInformationLengthBytes: number | null;
  /** Size of the time step (T input), or null when the suite takes no time. */
  readonly timeStep: OcraTimeStep | null;
}

/** Thrown by `parseOcraSuite` for a malformed suite; `reason` names the defect in one sentence. */
export class OcraSuiteError extends Error {
  readonly reason: string;

  constructor(suite: string, reason: string) {
    super(`Invalid OCRA suite "${suite.slice(0, ocraLimits.suiteLengthMax)}": ${reason}`);
    this.name = 'OcraSuiteError';
    this.reason = reason;
  }
}

/**
 * Thrown for an input that does not fit the suite or the algorithm (question, key, PIN, counter, time, session).
 * `reason` never repeats the offending value, since keys, PINs and codes are secrets.
 */
export class OcraInputError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(`Invalid OCRA input: ${reason}`);
    this.name = 'OcraInputError';
    this.reason = reason;
  }
}

const hashBySuiteName: Readonly<Record<string, OtpHash>> = Object.freeze({
  SHA1: 'SHA-1',
  SHA256: 'SHA-256',
  SHA512: 'SHA-512',
});

const digestBytesByHash: Readonly<Record<OtpHash, number>> = Object.freeze({
  'SHA-1': 20,
  'SHA-256': 32,
  'SHA-512': 64,
});

const secondsByTimeStepUnit: Readonly<Record<OcraTimeStepUnit, number>> = Object.freeze({
  S: 1,
  M: 60,
  H: 3600,
});
const timeStepSizeMaxByUnit: Readonly<Record<OcraTimeStepUnit, number>> = Object.freeze({
  S: ocraLimits.timeStepSecondsMax,
  M: ocraLimits.timeStepMinutesMax,
  H: ocraLimits.timeStepHoursMax,
});

// Digit counts are written without leading zeros, as in every RFC example; "HOTP-SHA1-06" is rejected.
const cryptoFunctionPattern = /^HOTP-(SHA1|SHA256|SHA512)-(0|[1-9][0-9]?)$/;
const questionPattern = /^Q([ANH])([0-9]{2})$/;
const pinPattern = /^P(SHA1|SHA256|SHA512)$/;
const sessionPattern = /^S([0-9]{3})$/;
const timeStepPattern = /^T([1-9][0-9]?)([SMH])$/;
const uint64Max = 2n ** 64n - 1n;
const textEncoder = new TextEncoder();

/**
 * Parses an OCRA suite such as `OCRA-1:HOTP-SHA256-8:QN08-PSHA1` (RFC 6287 section 6).
 * The data input is `[C-]QFxx[-PH][-Snnn][-TG]`, in that order, each part at most once. Parsing is strict
 * and case-sensitive because the suite text itself is hashed into every response: a second spelling of
 * the same suite would silently produce different codes.
 * Throws `OcraSuiteError` with a `reason` on anything malformed; returns a frozen `OcraSuite`.
 */
export function parseOcraSuite(suite: string): OcraSuite {
  if (typeof suite !== 'string' || suite.length === 0 || suite.length > ocraLimits.suiteLengthMax) {
    throw new OcraSuiteError(
      String(suite),
      `must be a string of 1 to ${ocraLimits.suiteLengthMax} characters`,
    );
  }
  const sections = suite.split(':');
  if (sections.length !== 3) {
    throw new OcraSuiteError(suite, 'must have three parts, Algorithm:CryptoFunction:DataInput');
  }
  const [algorithm, cryptoFunction, dataInput] = sections as [string, string, string];
  if (algorithm !== 'OCRA-1') {
    throw new OcraSuiteError(suite, 'the algorithm must be OCRA-1, the only version RFC 6287 defines');
  }
  const { hash, digits } = parseCryptoFunction(suite, cryptoFunction);
  const parsed: OcraSuite = { text: suite, hash, digits, ...parseDataInput(suite, dataInput) };
  if (parsed.timeStep !== null) Object.freeze(parsed.timeStep);
  return Object.freeze(parsed);
}

function parseCryptoFunction(suite: string, cryptoFunction: string): { hash: OtpHash; digits: number } {
  const match = cryptoFunctionPattern.exec(cryptoFunction);
  if (match === null) {
    throw new OcraSuiteError(
      suite,
      'the crypto function must be HOTP-SHA1-t, HOTP-SHA256-t or HOTP-SHA512-t',
    );
  }
  const digits = Number(match[2]);
  if (digits !== 0 && (digits < ocraLimits.digitsMin || digits > ocraLimits.digitsMax)) {
    throw new OcraSuiteError(
      suite,
      `the truncation must be 0 or ${ocraLimits.digitsMin} to ${ocraLimits.digitsMax} digits`,
    );
  }
  return { hash: hashBySuiteName[match[1]!]!, digits };
}

type DataInput = Omit<OcraSuite, 'text' | 'hash' | 'digits'>;

function parseDataInput(suite: string, dataInput: string): DataInput {
  const parts = dataInput.split('-');
  const counter = parts[0] === 'C';
  if (counter) parts.shift();
  const questionPart = parts.shift();
  const question = questionPattern.exec(questionPart ?? '');
  if (question === null) {
    throw new OcraSuiteError(suite, 'the data input must be [C-]QFxx[-PH][-Snnn][-TG] with F one of A, N, H');
  }
  const questionLengthMax = Number(question[2]);
  if (questionLengthMax < ocraLimits.questionLengthMin || questionLengthMax > ocraLimits.questionLengthMax) {
    throw new OcraSuiteError(
      suite,
      `the question length must be ${ocraLimits.questionLengthMin} to ${ocraLimits.questionLengthMax}`,
    );
  }
  return {
    counter,
    questionFormat: question[1] as OcraQuestionFormat,
    questionLengthMax,
    ...parseOptionalInputs(suite, parts),
  };
}

type OptionalInputs = {
  -readonly [K in 'pinHash' | 'sessionInformationLengthBytes' | 'timeStep']: OcraSuite[K];
};

/** Reads the P, S and T parts; RFC 6287 fixes their order, so each must come after the ones before it. */
function parseOptionalInputs(suite: string, parts: readonly string[]): OptionalInputs {
  const inputs: OptionalInputs = { pinHash: null, sessionInformationLengthBytes: null, timeStep: null };
  const order = ['P', 'S', 'T'];
  let previousRank = -1;
  for (const part of parts) {
    const rank = order.indexOf(part.charAt(0));
    if (rank === -1) {
      throw new OcraSuiteError(suite, 'after the question only P (PIN), S (session) or T (time) may follow');
    }
    if (rank <= previousRank) {
      throw new OcraSuiteError(suite, 'P, S and T must each appear at most once, in that order');
    }
    previousRank = rank;
    if (rank === 0) inputs.pinHash = parsePin(suite, part);
    if (rank === 1) inputs.sessionInformationLengthBytes = parseSession(suite, part);
    if (rank === 2) inputs.timeStep = parseTimeStep(suite, part);
  }
  return inputs;
}

function parsePin(suite: string, part: string): OtpHash {
  const match = pinPattern.exec(part);
  if (match === null) throw new OcraSuiteError(suite, 'the PIN input must be PSHA1, PSHA256 or PSHA512');
  return hashBySuiteName[match[1]!]!;
}

function parseSession(suite: string, part: string): number {
  const match = sessionPattern.exec(part);
  const lengthBytes = match === null ? 0 : Number(match[1]);
  if (lengthBytes < 1 || lengthBytes > ocraLimits.sessionInformationBytesMax) {
    throw new OcraSuiteError(
      suite,
      `the session input must be Snnn, three digits from 001 to ${ocraLimits.sessionInformationBytesMax}`,
    );
  }
  return lengthBytes;
}

function parseTimeStep(suite: string, part: string): OcraTimeStep {
  const match = timeStepPattern.exec(part);
  if (match === null) {
    throw new OcraSuiteError(suite, 'the time input must be T followed by a size and S, M or H, e.g. T1M');
  }
  const size = Number(match[1]);
  const unit = match[2] as OcraTimeStepUnit;
  if (size > timeStepSizeMaxByUnit[unit]) {
    throw new OcraSuiteError(suite, 'the time-step size must be 1-59 S, 1-59 M or 1-48 H');
  }
  return { size, unit, seconds: size * secondsByTimeStepUnit[unit] };
}

/** Everything one OCRA computation needs; each optional input is required exactly when the suite names it. */
export interface OcraInput {
  /** The suite text, or a suite from `parseOcraSuite` (its `text` is parsed again, so it cannot be forged). */
  readonly suite: string | OcraSuite;
  /** The shared secret (the terminal key), 16 to 256 bytes. */
  readonly key: Uint8Array;
  /**
   * The challenge. A pair is the two questions of mutual challenge-response (RFC 6287 section 7.3), in the
   * order the computation takes them; each is checked against the suite on its own, then they are joined.
   */
  readonly question: string | readonly [string, string];
  /** The PIN for a P suite; hashed here with the suite's P hash. Give this or `pinHash`, not both. */
  readonly pin?: string;
  /** The PIN already hashed with the suite's P hash, for a holder that never keeps the PIN itself. */
  readonly pinHash?: Uint8Array;
  /** The counter for a C suite, 0 to 2^64 - 1. */
  readonly counter?: bigint | number;
  /** The time steps since the Unix epoch for a T suite (unix seconds divided by the step, rounded down). */
  readonly timeSteps?: bigint | number;
  /** Exactly the suite's Snnn bytes of session information for an S suite. */
  readonly sessionInformation?: Uint8Array;
}

/**
 * The two hash primitives OCRA is built on. WebCrypto's by default, which browsers and Node share; a
 * server computing many codes may give synchronous ones (Node's `createHmac`), which skip WebCrypto's
 * key import and thread-pool hop per code. Either must give the same bytes: the RFC vectors check both.
 */
export interface OcraPrimitives {
  hmac(hash: OtpHash, key: Uint8Array, message: Uint8Array): Uint8Array | Promise<Uint8Array>;
  digest(hash: OtpHash, data: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** WebCrypto's HMAC and digest (`globalThis.crypto.subtle`). */
export const webCryptoOcraPrimitives: OcraPrimitives = Object.freeze({
  async hmac(hash: OtpHash, key: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
    const subtle = globalThis.crypto.subtle;
    // Copies give WebCrypto plain ArrayBuffer-backed views, and keep a caller's later writes out of the MAC.
    const cryptoKey = await subtle.importKey('raw', new Uint8Array(key), { name: 'HMAC', hash }, false, [
      'sign',
    ]);
    return new Uint8Array(await subtle.sign('HMAC', cryptoKey, new Uint8Array(message)));
  },
  async digest(hash: OtpHash, data: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await globalThis.crypto.subtle.digest(hash, new Uint8Array(data)));
  },
});

/**
 * Computes the RFC 6287 response: HMAC over suite, 0x00, C, Q, P, S, T (section 5.1), dynamically truncated
 * as in HOTP and written as a zero-padded decimal string of the suite's digits (the whole HMAC in hex for
 * truncation 0). Throws `OcraSuiteError` for a bad suite and `OcraInputError` for a question that does not
 * fit the suite, a missing input the suite requires, or an input given that the suite does not take: a
 * silently ignored counter or PIN would make a payer and the platform disagree with no clue why.
 */
export async function computeOcra(
  input: OcraInput,
  primitives: OcraPrimitives = webCryptoOcraPrimitives,
): Promise<string> {
  const suite = parseOcraSuite(suiteText(input.suite));
  assertKey(input.key);
  assertNoInputOutsideSuite(suite, input);
  const message = concatenateBytes([
    textEncoder.encode(suite.text),
    Uint8Array.of(0),
    suite.counter ? encodeUint64(requireUint64(input.counter, 'a counter', 'C')) : new Uint8Array(0),
    encodeQuestion(suite, input.question),
    suite.pinHash === null ? new Uint8Array(0) : await resolvePinHash(suite.pinHash, input, primitives),
    encodeSessionInformation(suite, input.sessionInformation),
    suite.timeStep === null
      ? new Uint8Array(0)
      : encodeUint64(requireUint64(input.timeSteps, 'time steps', 'T')),
  ]);
  const mac = await primitives.hmac(suite.hash, input.key, message);
  return suite.digits === 0 ? bytesToHex(mac) : truncateToDecimal(mac, suite.digits);
}

/**
 * RFC 4226 HOTP: HMAC (SHA-1 unless `hash` says otherwise) over the 8-byte big-endian counter, dynamically
 * truncated to `digits` (6 to 10) decimal digits, zero-padded on the left. Throws `OcraInputError` on a key
 * shorter than 128 bits, a counter outside 0 to 2^64 - 1, or a digit count outside 6 to 10.
 */
export async function hotp(
  key: Uint8Array,
  counter: bigint | number,
  digits: number,
  hash: OtpHash = 'SHA-1',
): Promise<string> {
  assertKey(key);
  if (!Number.isInteger(digits) || digits < ocraLimits.hotpDigitsMin || digits > ocraLimits.hotpDigitsMax) {
    throw new OcraInputError(
      `HOTP digits must be an integer from ${ocraLimits.hotpDigitsMin} to ${ocraLimits.hotpDigitsMax}`,
    );
  }
  if (!Object.hasOwn(digestBytesByHash, hash)) {
    throw new OcraInputError('the hash must be SHA-1, SHA-256 or SHA-512');
  }
  const mac = await webCryptoOcraPrimitives.hmac(
    hash,
    key,
    encodeUint64(requireUint64(counter, 'a counter', 'C')),
  );
  return truncateToDecimal(mac, digits);
}

/**
 * Hashes a PIN with the suite's P hash (the UTF-8 bytes exactly as given, without Unicode normalization),
 * so that a store or a token can keep the hash instead of the PIN and pass it as `pinHash`.
 * Throws `OcraInputError` when the suite has no P input or the PIN is empty or longer than 256 bytes.
 */
export async function ocraPinHash(suite: string | OcraSuite, pin: string): Promise<Uint8Array> {
  const parsed = parseOcraSuite(suiteText(suite));
  if (parsed.pinHash === null) {
    throw new OcraInputError('the suite has no PIN input (P), so there is nothing to hash the PIN for');
  }
  return digestPin(parsed.pinHash, pin);
}

function suiteText(suite: string | OcraSuite): string {
  return typeof suite === 'string' ? suite : suite?.text;
}

function assertKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array)) throw new OcraInputError('the key must be a Uint8Array');
  if (key.length < ocraLimits.keyBytesMin || key.length > ocraLimits.keyBytesMax) {
    throw new OcraInputError(`the key must be ${ocraLimits.keyBytesMin} to ${ocraLimits.keyBytesMax} bytes`);
  }
}

/** Rejects inputs the suite does not use; the missing ones are caught where each part is encoded. */
function assertNoInputOutsideSuite(suite: OcraSuite, input: OcraInput): void {
  const unexpected: string[] = [];
  if (!suite.counter && input.counter !== undefined) unexpected.push('a counter (C)');
  if (suite.pinHash === null && (input.pin !== undefined || input.pinHash !== undefined)) {
    unexpected.push('a PIN (P)');
  }
  if (suite.sessionInformationLengthBytes === null && input.sessionInformation !== undefined) {
    unexpected.push('session information (S)');
  }
  if (suite.timeStep === null && input.timeSteps !== undefined) unexpected.push('time steps (T)');
  if (unexpected.length > 0) {
    throw new OcraInputError(`the suite does not take ${unexpected.join(', ')}, but it was given`);
  }
}

function requireUint64(value: bigint | number | undefined, name: string, part: string): bigint {
  if (value === undefined) {
    throw new OcraInputError(`the suite requires ${name} (${part}), but none was given`);
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new OcraInputError(`${name} must be a whole number from 0 to 2^53 - 1 (use a bigint above that)`);
    }
    return BigInt(value);
  }
  if (typeof value !== 'bigint' || value < 0n || value > uint64Max) {
    throw new OcraInputError(`${name} must be from 0 to 2^64 - 1`);
  }
  return value;
}

function encodeUint64(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, false);
  return bytes;
}

const questionCharacterPatternByFormat: Readonly<Record<OcraQuestionFormat, RegExp>> = Object.freeze({
  A: /^[0-9A-Za-z]*$/,
  N: /^[0-9]*$/,
  H: /^[0-9A-Fa-f]*$/,
});

const questionFormatNames: Readonly<Record<OcraQuestionFormat, string>> = Object.freeze({
  A: 'letters A-Z, a-z and digits',
  N: 'decimal digits',
  H: 'hexadecimal digits',
});

/** Checks each question against the suite, joins them and writes the 128-byte Q field. */
function encodeQuestion(suite: OcraSuite, question: OcraInput['question']): Uint8Array {
  const parts: readonly unknown[] = typeof question === 'string' ? [question] : question;
  if (!Array.isArray(parts) || parts.length < 1 || parts.length > 2) {
    throw new OcraInputError(
      'the question must be a string, or a pair of strings for mutual challenge-response',
    );
  }
  for (const part of parts) assertQuestionPart(suite, part);
  const bytes = questionBytes(suite.questionFormat, parts.join(''));
  if (bytes.length > ocraLimits.questionFieldBytes) {
    // The per-question limits keep every question inside the field; reaching this line is a bug.
    throw new Error(`OCRA question encoded to ${bytes.length} bytes, more than the 128-byte field`);
  }
  const field = new Uint8Array(ocraLimits.questionFieldBytes);
  field.set(bytes);
  return field;
}

function assertQuestionPart(suite: OcraSuite, part: unknown): void {
  if (typeof part !== 'string') throw new OcraInputError('each question must be a string');
  if (part.length < ocraLimits.questionLengthMin || part.length > suite.questionLengthMax) {
    throw new OcraInputError(
      `the question must be ${ocraLimits.questionLengthMin} to ${suite.questionLengthMax} characters for this suite`,
    );
  }
  if (!questionCharacterPatternByFormat[suite.questionFormat].test(part)) {
    throw new OcraInputError(`the question must contain only ${questionFormatNames[suite.questionFormat]}`);
  }
}

/**
 * RFC 6287 section 5.1 and the reference implementation: a numeric question is read as one decimal integer
 * and written in hex; an odd hex string gets a 0 on the right (so 22222222 = 0x153158e becomes 15 31 58 e0).
 * BigInt, because a QN64 question does not fit a double. A hex question gets the same right-hand 0.
 */
function questionBytes(format: OcraQuestionFormat, question: string): Uint8Array {
  if (format === 'A') return textEncoder.encode(question);
  const hex = format === 'N' ? BigInt(question).toString(16) : question;
  return hexToBytes(hex.length % 2 === 0 ? hex : `${hex}0`);
}

async function resolvePinHash(
  hash: OtpHash,
  input: OcraInput,
  primitives: OcraPrimitives,
): Promise<Uint8Array> {
  if (input.pin !== undefined && input.pinHash !== undefined) {
    throw new OcraInputError('give either the PIN or its hash, not both');
  }
  if (input.pinHash !== undefined) {
    if (!(input.pinHash instanceof Uint8Array) || input.pinHash.length !== digestBytesByHash[hash]) {
      throw new OcraInputError(
        `the PIN hash must be the ${digestBytesByHash[hash]}-byte ${hash} digest of the PIN`,
      );
    }
    return input.pinHash;
  }
  if (input.pin === undefined) throw new OcraInputError('the suite requires a PIN (P), but none was given');
  return digestPin(hash, input.pin, primitives);
}

async function digestPin(
  hash: OtpHash,
  pin: string,
  primitives: OcraPrimitives = webCryptoOcraPrimitives,
): Promise<Uint8Array> {
  if (typeof pin !== 'string' || pin.length === 0)
    throw new OcraInputError('the PIN must be a non-empty string');
  const pinBytes = textEncoder.encode(pin);
  if (pinBytes.length > ocraLimits.pinBytesMax) {
    throw new OcraInputError(`the PIN must be at most ${ocraLimits.pinBytesMax} bytes of UTF-8`);
  }
  return await primitives.digest(hash, pinBytes);
}

/**
 * The S field. RFC 6287 encodes session information on exactly Snnn bytes; the reference code pads a shorter
 * value on the left, but then two different values can encode alike, so this demands the exact length.
 */
function encodeSessionInformation(suite: OcraSuite, sessionInformation: Uint8Array | undefined): Uint8Array {
  const lengthBytes = suite.sessionInformationLengthBytes;
  if (lengthBytes === null) return new Uint8Array(0);
  if (sessionInformation === undefined) {
    throw new OcraInputError('the suite requires session information (S), but none was given');
  }
  if (!(sessionInformation instanceof Uint8Array) || sessionInformation.length !== lengthBytes) {
    throw new OcraInputError(`the session information must be exactly ${lengthBytes} bytes for this suite`);
  }
  return sessionInformation;
}

function concatenateBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/**
 * RFC 4226 section 5.3 dynamic truncation: the low 4 bits of the last byte pick an offset, the 31 bits from
 * there are taken modulo 10^digits and padded to `digits` characters.
 */
function truncateToDecimal(mac: Uint8Array, digits: number): string {
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary =
    ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  const response = (binary % 10 ** digits).toString().padStart(digits, '0');
  if (response.length !== digits) {
    throw new Error(`truncation produced ${response.length} digits instead of ${digits}`);
  }
  return response;
}
