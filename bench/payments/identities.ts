/**
 * The bench's payers and payees, derived from one bench secret: payer `i` has a fixed id, terminal key,
 * verification code and session token, so the seeding (which stores their sealed and hashed forms) and
 * the load workers (which need them in clear, as a payer's second terminal would) agree without passing
 * a million secrets between processes.
 */
import { createHash, createHmac } from 'node:crypto';
import { defaultTerminalSuite } from '../../src/domain/terminal-suite.js';
import { derivedId, type KeyedHash } from '../../src/services/ids.js';
import { sessionTokenPrefix } from '../../src/services/parties/authentication-service.js';

/** The currency every bench payment uses. */
export const benchCurrency = 'EUR';
/** The verification code of every bench payer: the PIN input of OCRA. */
export const benchVerificationCode = '4321';
/** The password of every bench payer; they share one Argon2id hash (see seed.ts). */
export const benchPassword = 'bench payer password';
/** The OCRA suite of every bench terminal: the platform's default. */
export const benchSuite = defaultTerminalSuite;

/** The id of bench payer `index` (0-based). */
export function payerId(index: number): string {
  return `bench-payer-${String(index).padStart(7, '0')}`;
}

/** The id of bench payee `index` (0-based). */
export function payeeId(index: number): string {
  return `bench-payee-${String(index).padStart(3, '0')}`;
}

// A bench terminal's id only has to be the same in the seeding and in the workers; it is no secret, so a
// plain hash stands in for the platform's keyed one.
const fixtureHash: KeyedHash = (purpose, ...parts) =>
  createHash('sha256')
    .update(JSON.stringify([purpose, ...parts]))
    .digest('hex');

/** The id of the one terminal of a bench payer. */
export function terminalId(payer: string): string {
  return derivedId(fixtureHash, 'bench-terminal', payer);
}

/** The 32-byte OCRA key of a bench payer's terminal. */
export function terminalKey(benchSecret: string, payer: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', benchSecret).update(`terminal-key:${payer}`).digest());
}

/** The session token of a bench payer, as POST /v1/sessions would have returned it. */
export function sessionToken(benchSecret: string, payer: string): string {
  const random = createHmac('sha256', benchSecret).update(`session:${payer}`).digest('base64url');
  return sessionTokenPrefix + random;
}
