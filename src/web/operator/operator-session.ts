/**
 * The operator console's session: an HMAC-signed cookie instead of server-side state, so that any number of
 * server processes accept it and nothing about it sits in the database.
 *
 * Value: `v1.<session id>.<issued at ms>.<last used at ms>.<mac>`, the mac being HMAC-SHA256 (key derived
 * from the master key) over the operator token's SHA-256 and the four fields. A session ends after
 * `operatorSessionIdleMs` without a request and `operatorSessionLifetimeMs` in all; every request re-issues
 * the cookie with a new "last used". Changing the operator token invalidates every session at once, since
 * its digest is part of every mac. The session id stays the same for the whole session: the CSRF tokens of
 * the console are bound to it.
 */
import { randomBytes } from 'node:crypto';

/** A console session ends after this long without a request. */
export const operatorSessionIdleMs = 15 * 60 * 1000;

/** And after this long in all, however busy. */
export const operatorSessionLifetimeMs = 8 * 60 * 60 * 1000;

/** What the sessions need from the platform's secrets. */
export interface OperatorSessionSecrets {
  keyedHash(purpose: string, ...parts: string[]): string;
  constantTimeEqualHex(a: string, b: string): boolean;
}

/** An open console session. */
export interface OperatorSession {
  readonly id: string;
  readonly issuedAtMs: number;
  readonly lastUsedAtMs: number;
}

const cookiePattern = /^v1\.([A-Za-z0-9_-]{22})\.([0-9]{1,16})\.([0-9]{1,16})\.([0-9a-f]{64})$/;

/** Issues and opens console session cookies. */
export class OperatorSessions {
  /** `operatorTokenHashHex`: SHA-256 of the operator token, hex. */
  constructor(
    private readonly secrets: OperatorSessionSecrets,
    private readonly operatorTokenHashHex: string,
  ) {}

  /** A new session's cookie value. */
  issue(nowMs: number): string {
    return this.encode({ id: randomBytes(16).toString('base64url'), issuedAtMs: nowMs, lastUsedAtMs: nowMs });
  }

  /** The session of a cookie value, or undefined when it is malformed, forged, idle too long or too old. */
  open(value: string | undefined, nowMs: number): OperatorSession | undefined {
    const match = value === undefined ? null : cookiePattern.exec(value);
    if (match === null) return undefined;
    const session = { id: match[1]!, issuedAtMs: Number(match[2]), lastUsedAtMs: Number(match[3]) };
    if (!this.secrets.constantTimeEqualHex(match[4]!, this.mac(session))) return undefined;
    if (session.lastUsedAtMs > nowMs || session.issuedAtMs > session.lastUsedAtMs) return undefined;
    if (nowMs - session.lastUsedAtMs >= operatorSessionIdleMs) return undefined;
    if (nowMs - session.issuedAtMs >= operatorSessionLifetimeMs) return undefined;
    return session;
  }

  /**
   * The session id of a cookie whose mac verifies, even when the session timed out: the CSRF token is bound
   * to it, so that a form posted after the timeout reaches its handler and is sent to sign in, not refused.
   */
  boundId(value: string | undefined): string | undefined {
    const match = value === undefined ? null : cookiePattern.exec(value);
    if (match === null) return undefined;
    const session = { id: match[1]!, issuedAtMs: Number(match[2]), lastUsedAtMs: Number(match[3]) };
    return this.secrets.constantTimeEqualHex(match[4]!, this.mac(session)) ? session.id : undefined;
  }

  /** The cookie value of `session` used now. */
  refresh(session: OperatorSession, nowMs: number): string {
    return this.encode({ ...session, lastUsedAtMs: Math.max(nowMs, session.lastUsedAtMs) });
  }

  /** Seconds until the session ends if nothing happens from `nowMs` on. */
  secondsLeft(session: OperatorSession, nowMs: number): number {
    const endMs = Math.min(nowMs + operatorSessionIdleMs, session.issuedAtMs + operatorSessionLifetimeMs);
    return Math.max(0, Math.floor((endMs - nowMs) / 1000));
  }

  private encode(session: OperatorSession): string {
    return `v1.${session.id}.${session.issuedAtMs}.${session.lastUsedAtMs}.${this.mac(session)}`;
  }

  private mac(session: OperatorSession): string {
    return this.secrets.keyedHash(
      'operator_session',
      this.operatorTokenHashHex,
      session.id,
      String(session.issuedAtMs),
      String(session.lastUsedAtMs),
    );
  }
}
