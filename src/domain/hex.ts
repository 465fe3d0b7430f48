/**
 * Strict hexadecimal encoding, written without Buffer so that the same code runs in Node.js and in a browser.
 * Keys and PIN hashes arrive as hex from operators and terminals; a lenient decoder (one that skips a bad
 * character or drops an odd nibble) would silently turn a typo into a different key, so this one refuses.
 */

/** Thrown when a string is not a whole number of hexadecimal bytes; `reason` says what is wrong. */
export class HexFormatError extends Error {
  /** A sentence naming the defect, safe to show: it never repeats the input, which may be a secret. */
  readonly reason: string;

  constructor(reason: string) {
    super(`Invalid hexadecimal string: ${reason}`);
    this.name = 'HexFormatError';
    this.reason = reason;
  }
}

const hexDigitsPattern = /^[0-9a-fA-F]*$/;

/**
 * Decodes a hexadecimal string (either case) into bytes. An empty string is zero bytes.
 * Throws `HexFormatError` on an odd length or on any character that is not a hex digit, because guessing
 * what a malformed key was meant to be would make two parties disagree without either noticing.
 */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) {
    throw new HexFormatError(`odd length ${hex.length}; every byte needs two hex digits`);
  }
  if (!hexDigitsPattern.test(hex)) {
    throw new HexFormatError('contains a character that is not a hex digit (0-9, a-f, A-F)');
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index += 1) {
    bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

/** Encodes bytes as lowercase hexadecimal, two digits a byte, so that the output always decodes back exactly. */
export function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) {
    hex += byte.toString(16).padStart(2, '0');
  }
  return hex;
}
