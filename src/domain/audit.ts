/**
 * The audit log of security events, as pure rules: what an event may carry, the canonical text each
 * entry is hashed from, and the check of a chain of entries.
 *
 * Each entry's hash covers its canonical text, which includes the hash of the entry before it, so an
 * entry cannot be edited, removed or reordered without breaking every hash after it. The log's head
 * (position and hash of the last entry, kept in its own row) catches the removal of the newest entries.
 * The chain proves integrity against a change made through the database alone; someone able to rewrite
 * the whole chain and its head can only be caught by comparing the head with a copy kept elsewhere.
 *
 * SHA-256 reaches these functions as an argument (`Sha256Hex`) so that this file stays free of I/O and of
 * Node's crypto module; `services/audit-service` passes Node's implementation.
 */
import { auditLimits } from './limits.js';

/**
 * The events the log records. Later work adds an event without editing this file, by augmenting this
 * interface from its own module:
 *
 *     declare module '../domain/audit.js' {
 *       interface AuditEventRegistry { refund_created: true }
 *     }
 */
export interface AuditEventRegistry {
  payer_created: true;
  payee_created: true;
  login_succeeded: true;
  login_failed: true;
  payer_locked: true;
  payer_unlocked: true;
  code_issued: true;
  approval_succeeded: true;
  approval_failed: true;
  payment_status_changed: true;
  session_created: true;
  deposit_created: true;
}

/** The name of an audit event. */
export type AuditEvent = keyof AuditEventRegistry;

/**
 * Non-secret facts about an event: a flat object of scalars. Amounts travel as decimal strings (JSON has
 * no 64-bit integers). Keys that name a secret are refused; see `assertNoSecretKey`.
 */
export type AuditDetail = Readonly<Record<string, string | number | boolean | null>>;

/** One event to append: what happened, to whom (a payer id, payment id — never a secret), and facts. */
export interface AuditEventInput {
  readonly event: AuditEvent;
  readonly subject: string | null;
  readonly detail: AuditDetail;
}

/** An entry as stored: `detailJson` is the canonical text of the detail, the exact text that is hashed. */
export interface StoredAuditEntry {
  readonly id: string;
  readonly position: number;
  readonly event: string;
  readonly subject: string | null;
  readonly detailJson: string;
  readonly createdAtMs: number;
  readonly previousHash: string;
  readonly hash: string;
}

/** An entry as the API shows it, with its detail parsed. */
export interface AuditEntry extends Omit<StoredAuditEntry, 'detailJson'> {
  readonly detail: AuditDetail;
}

/** A point of the chain: a position and the hash of the entry there (position 0: the empty log). */
export interface AuditChainPoint {
  readonly position: number;
  readonly hash: string;
}

/** Why a chain does not verify. */
export type AuditChainBreak = 'position_gap' | 'previous_hash_mismatch' | 'hash_mismatch' | 'head_mismatch';

/** The result of checking (part of) a chain: the point it ends at, or the first broken position and why. */
export type AuditChainCheck =
  | { readonly ok: true; readonly end: AuditChainPoint }
  | { readonly ok: false; readonly brokenAt: number; readonly reason: AuditChainBreak };

/** SHA-256 of the UTF-8 text, as lowercase hex. */
export type Sha256Hex = (text: string) => string;

/** The `previousHash` of the first entry, and the head's hash of an empty log. */
export const genesisHash = '0'.repeat(64);

/** The start of every chain. */
export const genesisPoint: AuditChainPoint = Object.freeze({ position: 0, hash: genesisHash });

const eventNamePattern = /^[a-z][a-z0-9_]{0,63}$/;
const detailKeyPattern = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const hashPattern = /^[0-9a-f]{64}$/;

// Words that name a secret, alone or as two adjacent words of a key (`verificationCode`, `api_key`).
const secretWords = new Set([
  'password',
  'passwd',
  'passphrase',
  'pin',
  'token',
  'key',
  'apikey',
  'secret',
  'credential',
  'credentials',
  'otp',
  'firstcode',
  'secondcode',
  'verificationcode',
  'transactioncode',
]);

/** The words of a key: `verificationCode`, `verification_code` and `Verification-Code` give the same. */
function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

/**
 * Throws when a detail key names a secret. Logging a secret is a bug, not an expected failure, so this
 * crashes loudly instead of returning a result: the caller's transaction rolls back and nothing is written.
 */
export function assertNoSecretKey(key: string): void {
  const words = keyWords(key);
  for (let index = 0; index < words.length; index += 1) {
    const pair = index + 1 < words.length ? `${words[index]}${words[index + 1]}` : '';
    if (secretWords.has(words[index]!) || secretWords.has(pair)) {
      throw new Error(
        `audit detail key ${JSON.stringify(key)} names a secret; secrets never enter the audit log`,
      );
    }
  }
}

function assertDetailValue(key: string, value: unknown): void {
  const scalar =
    value === null ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    (typeof value === 'string' && value.length <= auditLimits.detailValueCharactersMax);
  if (!scalar) {
    throw new Error(
      `audit detail ${JSON.stringify(key)} is not a short string, finite number, boolean or null`,
    );
  }
}

/**
 * The canonical text of a detail: keys sorted, no whitespace. Throws on a detail that is not a plain flat
 * object of scalars, that names a secret, or that is larger than the limits.
 */
export function canonicalDetail(detail: AuditDetail): string {
  const isObject = typeof detail === 'object' && detail !== null;
  const prototype: unknown = isObject ? Object.getPrototypeOf(detail) : undefined;
  if (!isObject || (prototype !== Object.prototype && prototype !== null)) {
    throw new Error('an audit detail must be a plain object');
  }
  const keys = Object.keys(detail).sort();
  if (keys.length > auditLimits.detailKeysMax) {
    throw new Error(`an audit detail holds at most ${auditLimits.detailKeysMax} keys`);
  }
  const sorted: Record<string, unknown> = {};
  for (const key of keys) {
    if (!detailKeyPattern.test(key)) {
      throw new Error(`audit detail key ${JSON.stringify(key)} is not an identifier`);
    }
    assertNoSecretKey(key);
    assertDetailValue(key, detail[key]);
    sorted[key] = detail[key];
  }
  const text = JSON.stringify(sorted);
  if (text.length > auditLimits.detailCharactersMax) {
    throw new Error(`an audit detail is at most ${auditLimits.detailCharactersMax} characters`);
  }
  return text;
}

/**
 * The text an entry's hash is computed from: a JSON array, in a fixed order, of a format tag and every
 * field but the hash itself. Positions and times are decimal strings, so no reader rounds them.
 */
export function canonicalAuditEntry(entry: Omit<StoredAuditEntry, 'hash'>): string {
  return JSON.stringify([
    'countersign-audit-v1',
    String(entry.position),
    entry.id,
    entry.event,
    entry.subject,
    entry.detailJson,
    String(entry.createdAtMs),
    entry.previousHash,
  ]);
}

/** The hash of an entry chained to `previousHash`. */
export function chainHash(
  sha256Hex: Sha256Hex,
  previousHash: string,
  entry: Omit<StoredAuditEntry, 'hash' | 'previousHash'>,
): string {
  return sha256Hex(canonicalAuditEntry({ ...entry, previousHash }));
}

/** An event checked and ready to be chained: its id and the canonical text of its detail. */
export interface PreparedAuditEvent {
  readonly id: string;
  readonly event: string;
  readonly subject: string | null;
  readonly detailJson: string;
}

/**
 * Checks one event on the way in and gives it an id and its canonical detail. Throws (a bug in the
 * caller) when the event breaks a rule, before anything is locked or written.
 */
export function prepareAuditEvent(id: string, input: AuditEventInput): PreparedAuditEvent {
  if (!eventNamePattern.test(input.event)) throw new Error(`audit event ${JSON.stringify(input.event)}`);
  const subject = input.subject;
  if (subject !== null && (subject.length === 0 || subject.length > auditLimits.subjectCharactersMax)) {
    throw new Error(`an audit subject is 1 to ${auditLimits.subjectCharactersMax} characters`);
  }
  return { id, event: input.event, subject, detailJson: canonicalDetail(input.detail) };
}

/** Builds the stored entries that extend the chain at `head`: consecutive positions, each hash chained. */
export function extendChain(
  sha256Hex: Sha256Hex,
  head: AuditChainPoint,
  events: readonly PreparedAuditEvent[],
  createdAtMs: number,
): StoredAuditEntry[] {
  const entries: StoredAuditEntry[] = [];
  let previous = head;
  for (const event of events) {
    const fields = { ...event, position: previous.position + 1, createdAtMs };
    const entry = {
      ...fields,
      previousHash: previous.hash,
      hash: chainHash(sha256Hex, previous.hash, fields),
    };
    entries.push(entry);
    previous = entry;
  }
  return entries;
}

/**
 * Checks consecutive entries, starting after `start` (the genesis by default, or the end of the previous
 * page): positions follow each other with no gap, each entry names the hash before it, and each hash is
 * the hash of the entry. Returns the end of the chain, or the first broken position and why.
 */
export function verifyChain(
  sha256Hex: Sha256Hex,
  entries: readonly StoredAuditEntry[],
  start: AuditChainPoint = genesisPoint,
): AuditChainCheck {
  let end = start;
  for (const entry of entries) {
    const expectedPosition = end.position + 1;
    if (entry.position !== expectedPosition)
      return { ok: false, brokenAt: expectedPosition, reason: 'position_gap' };
    if (entry.previousHash !== end.hash) {
      return { ok: false, brokenAt: entry.position, reason: 'previous_hash_mismatch' };
    }
    if (!hashPattern.test(entry.hash) || chainHash(sha256Hex, entry.previousHash, entry) !== entry.hash) {
      return { ok: false, brokenAt: entry.position, reason: 'hash_mismatch' };
    }
    end = { position: entry.position, hash: entry.hash };
  }
  return { ok: true, end };
}

/**
 * Checks that the verified chain ends where the head says the log ends. A log shorter than its head lost
 * its newest entries: the first missing position is reported.
 */
export function verifyHead(end: AuditChainPoint, head: AuditChainPoint): AuditChainCheck {
  if (end.position < head.position) return { ok: false, brokenAt: end.position + 1, reason: 'head_mismatch' };
  if (end.position !== head.position || end.hash !== head.hash) {
    return { ok: false, brokenAt: head.position, reason: 'head_mismatch' };
  }
  return { ok: true, end };
}

/**
 * Parses a stored detail text back into an object. Throws when it is not a JSON object: the log was
 * written by `canonicalDetail`, so anything else was changed behind the platform's back.
 */
export function parseDetail(detailJson: string): AuditDetail {
  const parsed: unknown = JSON.parse(detailJson);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('a stored audit detail is not a JSON object');
  }
  return parsed as AuditDetail;
}
