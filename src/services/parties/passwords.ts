/**
 * Payer passwords, hashed with Argon2id at the parameters OWASP's Password Storage Cheat Sheet gives as
 * its first choice (19 MiB of memory, 2 passes, 1 lane). The salt is random per hash and, with the
 * parameters, is kept in the PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so a later
 * change of parameters still verifies old hashes.
 */
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

/** Memory cost of one hash, in kibibytes. */
export const passwordHashMemoryKibibytes = 19456;
/** Passes over the memory. */
export const passwordHashIterations = 2;
/** Lanes (threads) of one hash. */
export const passwordHashParallelism = 1;

const hashOptions = Object.freeze({
  type: argon2.argon2id,
  memoryCost: passwordHashMemoryKibibytes,
  timeCost: passwordHashIterations,
  parallelism: passwordHashParallelism,
});

const phcPrefixPattern = /^\$argon2id\$v=19\$([a-z]=\d+(?:,[a-z]=\d+)*)\$/;

/**
 * Rewrites the parameters of a PHC string in the reference order `m,t,p`. node-argon2 writes them
 * alphabetically (`m,p,t`); the reference implementation and libsodium write `m,t,p`, and libsodium's
 * verifier accepts only that order, so storing the reference form keeps the hashes portable.
 */
function withReferenceParameterOrder(hash: string): string {
  const match = phcPrefixPattern.exec(hash);
  const parameters = new Map(match?.[1]?.split(',').map((pair) => pair.split('=') as [string, string]));
  const [m, t, p] = [parameters.get('m'), parameters.get('t'), parameters.get('p')];
  if (match === null || parameters.size !== 3 || m === undefined || t === undefined || p === undefined) {
    throw new Error('argon2 returned a hash in an unexpected format');
  }
  return `$argon2id$v=19$m=${m},t=${t},p=${p}$${hash.slice(match[0].length)}`;
}

/** Hashes a password with Argon2id and a fresh random salt; returns the PHC string to store. */
export async function hashPassword(password: string): Promise<string> {
  return withReferenceParameterOrder(await argon2.hash(password, hashOptions));
}

/**
 * True when `password` matches the stored `hash`. False, never an exception, when the hash is malformed:
 * a login must fail closed, not surface a storage defect to the caller as a different answer.
 */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** True when `hash` was made with other parameters than today's, so it should be replaced at the next login. */
export function passwordNeedsRehash(hash: string): boolean {
  try {
    return argon2.needsRehash(hash, hashOptions);
  } catch {
    return true;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * The hash checked when a payer id is unknown: of a random password nobody knows, with today's
 * parameters, computed once per process. Call at start so that the first unknown id costs no more than
 * any other.
 */
export function prepareDummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(32).toString('base64url'));
  return dummyHash;
}

/**
 * Verifies `password` against `hash`, or — when the payer does not exist and `hash` is undefined —
 * against the dummy hash, and then answers false. Either way one Argon2id verification runs, so the
 * time taken does not tell an attacker whether the payer id exists.
 */
export async function verifyPasswordOrDummy(hash: string | undefined, password: string): Promise<boolean> {
  if (hash !== undefined) return verifyPassword(hash, password);
  await verifyPassword(await prepareDummyPasswordHash(), password);
  return false;
}
