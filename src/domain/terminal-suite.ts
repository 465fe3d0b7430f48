/**
 * Which OCRA suites a payer's second terminal may use. The question is the 8-digit first code, so the
 * suite must take a question of at least 8 characters; counters, time steps and session data are left
 * out because the platform precomputes the expected second codes when it issues the first code.
 */
import { firstCodeDigits } from './first-code.js';
import { limits } from './limits.js';
import { type OcraSuite, OcraSuiteError, parseOcraSuite } from './ocra.js';

/** The default suite: SHA-256, 8 digits, numeric 8-digit question, PIN hashed with SHA-1. */
export const defaultTerminalSuite = 'OCRA-1:HOTP-SHA256-8:QN08-PSHA1';

const { terminalSuiteDigitsMin, terminalSuiteDigitsMax } = limits;

/** A second code as a terminal suite may produce it: 6 to 10 digits (`limits.terminalSuiteDigitsMin`, `Max`). */
export const secondCodePattern = new RegExp(`^[0-9]{${terminalSuiteDigitsMin},${terminalSuiteDigitsMax}}$`);

/** Parses a suite and checks that a second terminal can use it; returns a reason when it cannot. */
export function checkTerminalSuite(
  suite: string,
): { ok: true; suite: OcraSuite } | { ok: false; reason: string } {
  let parsed: OcraSuite;
  try {
    parsed = parseOcraSuite(suite);
  } catch (error) {
    return { ok: false, reason: error instanceof OcraSuiteError ? error.reason : 'malformed suite' };
  }
  if (parsed.digits < terminalSuiteDigitsMin || parsed.digits > terminalSuiteDigitsMax) {
    return {
      ok: false,
      reason: `the response must have ${terminalSuiteDigitsMin} to ${terminalSuiteDigitsMax} digits`,
    };
  }
  if (parsed.questionLengthMax < firstCodeDigits) {
    return { ok: false, reason: `the question must hold at least ${firstCodeDigits} characters` };
  }
  if (parsed.counter || parsed.timeStep !== null || parsed.sessionInformationLengthBytes !== null) {
    return { ok: false, reason: 'counter, time and session inputs are not supported for second terminals' };
  }
  return { ok: true, suite: parsed };
}
