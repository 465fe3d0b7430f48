// Proves that console session cookies verify only untampered, within the idle and absolute timeouts, and only under the operator token they were issued for.
import { describe, expect, it } from 'vitest';
import { createSecrets } from '../../services/secrets.js';
import { OperatorSessions, operatorSessionIdleMs, operatorSessionLifetimeMs } from './operator-session.js';

const secrets = createSecrets('11'.repeat(32));
const sessions = new OperatorSessions(secrets, 'aa'.repeat(32));
const startMs = 1_700_000_000_000;

describe('OperatorSessions', () => {
  it('opens a cookie it issued, and keeps the session id across refreshes', () => {
    const cookie = sessions.issue(startMs);
    const opened = sessions.open(cookie, startMs + 1000);
    expect(opened).toMatchObject({ issuedAtMs: startMs, lastUsedAtMs: startMs });
    const refreshed = sessions.refresh(opened!, startMs + 1000);
    expect(sessions.open(refreshed, startMs + 2000)).toMatchObject({
      id: opened!.id,
      lastUsedAtMs: startMs + 1000,
    });
    expect(sessions.boundId(refreshed)).toBe(opened!.id);
  });

  it('refuses a cookie idle too long, or older than the lifetime however busy', () => {
    const cookie = sessions.issue(startMs);
    expect(sessions.open(cookie, startMs + operatorSessionIdleMs - 1)).toBeDefined();
    expect(sessions.open(cookie, startMs + operatorSessionIdleMs)).toBeUndefined();
    let session = sessions.open(cookie, startMs)!;
    let nowMs = startMs;
    while (nowMs + operatorSessionIdleMs / 2 < startMs + operatorSessionLifetimeMs) {
      nowMs += operatorSessionIdleMs / 2;
      session = sessions.open(sessions.refresh(session, nowMs), nowMs)!;
      expect(session).toBeDefined();
    }
    const late = sessions.refresh(session, startMs + operatorSessionLifetimeMs - 1);
    expect(sessions.open(late, startMs + operatorSessionLifetimeMs)).toBeUndefined();
    // Timed out is still the same session for CSRF binding, so the form reaches sign-in instead of a 403.
    expect(sessions.boundId(late)).toBe(session.id);
  });

  it('refuses a tampered cookie, one from another token, one from the future, and garbage', () => {
    const cookie = sessions.issue(startMs);
    const fields = cookie.split('.');
    const extended = [fields[0], fields[1], fields[2], String(startMs + 10 * 60_000), fields[4]].join('.');
    expect(sessions.open(extended, startMs + 20 * 60_000)).toBeUndefined();
    const otherToken = new OperatorSessions(secrets, 'bb'.repeat(32));
    expect(otherToken.open(cookie, startMs)).toBeUndefined();
    expect(otherToken.boundId(cookie)).toBeUndefined();
    expect(sessions.open(sessions.issue(startMs + 60_000), startMs)).toBeUndefined();
    for (const garbage of [undefined, '', 'v1', `${cookie}x`, cookie.replace('v1.', 'v2.')]) {
      expect(sessions.open(garbage, startMs)).toBeUndefined();
    }
  });

  it('counts the seconds left to the nearer of the two timeouts', () => {
    const session = sessions.open(sessions.issue(startMs), startMs)!;
    expect(sessions.secondsLeft(session, startMs)).toBe(operatorSessionIdleMs / 1000);
    expect(sessions.secondsLeft(session, startMs + operatorSessionLifetimeMs - 60_000)).toBe(60);
  });
});
