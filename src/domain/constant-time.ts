/**
 * Comparison whose running time does not depend on where two secrets first differ.
 * Written in plain JavaScript (no node:crypto) so that the browser and Node.js share it.
 */

/**
 * Returns true when `a` and `b` are the same string, comparing every UTF-16 code unit without an early
 * exit. An ordinary `===` stops at the first differing character, and the time that takes tells an attacker
 * how many leading characters of a guessed transaction code were right.
 *
 * The length is not treated as secret: callers compare codes of a length fixed by the suite, so a length
 * mismatch is already public. Even then the loop runs over the longer string, so that the work done does
 * not reveal which of the two was shorter. JavaScript engines give no hard guarantee of constant time;
 * this removes the data-dependent branch, which is the part that leaks in practice.
 */
export function timingSafeEqualString(a: string, b: string): boolean {
  const lengthMax = Math.max(a.length, b.length);
  // A length difference is folded into the accumulator instead of returning early.
  let difference = a.length ^ b.length;
  for (let index = 0; index < lengthMax; index += 1) {
    // charCodeAt past the end yields NaN, which `| 0` turns into 0 without a branch.
    difference |= (a.charCodeAt(index) | 0) ^ (b.charCodeAt(index) | 0);
  }
  return difference === 0;
}
