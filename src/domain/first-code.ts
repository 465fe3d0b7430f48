/**
 * The first transaction code: 8 decimal digits from a CSPRNG (about 26.6 bits), one per payment.
 * Digits are drawn by rejection sampling so every code is equally likely.
 */

/** Digits in a first code. */
export const firstCodeDigits = 8;

const codeSpace = 10 ** firstCodeDigits;
// The largest multiple of codeSpace below 2^32: values at or above it are redrawn to avoid modulo bias.
const rejectionBound = Math.floor(2 ** 32 / codeSpace) * codeSpace;

/** A uniformly random first code, zero-padded. `random` fills a buffer (WebCrypto's getRandomValues). */
export function generateFirstCode(
  random: (buffer: Uint32Array) => Uint32Array = (buffer) => globalThis.crypto.getRandomValues(buffer),
): string {
  const buffer = new Uint32Array(1);
  for (;;) {
    const value = random(buffer)[0]!;
    if (value < rejectionBound) return String(value % codeSpace).padStart(firstCodeDigits, '0');
  }
}

/** True when `code` has the shape of a first code. */
export function isFirstCode(code: string): boolean {
  return code.length === firstCodeDigits && /^[0-9]+$/.test(code);
}
