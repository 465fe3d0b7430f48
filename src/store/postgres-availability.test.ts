// Proves which database failures the platform retries itself (those where the work certainly did not run),
// which it answers 503 with Retry-After, and that a multi-host DATABASE_URL is accepted only when it asks
// for the primary.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { CountersignError } from '../domain/errors.js';
import {
  connectionLost,
  databaseUnavailable,
  neverReachedPrimary,
  unavailableError,
} from './postgres-availability.js';

const failure = (code: string) => Object.assign(new Error(code), { code });

describe('database availability', () => {
  it('retries only what never reached a primary', () => {
    for (const code of ['ECONNREFUSED', 'CONNECT_TIMEOUT', '57P03', '25006']) {
      expect(neverReachedPrimary(failure(code)), code).toBe(true);
      expect(databaseUnavailable(failure(code)), code).toBe(true);
    }
  });

  it('answers 503 without a replay when a connection is lost mid-call (the commit may have happened)', () => {
    for (const code of ['CONNECTION_CLOSED', 'ECONNRESET', '57P01', '57P02', '08006']) {
      expect(neverReachedPrimary(failure(code)), code).toBe(false);
      expect(databaseUnavailable(failure(code)), code).toBe(true);
      expect(connectionLost(failure(code)), code).toBe(true);
    }
  });

  it('tells a lost connection from one that was never opened, and from a failure of the statement', () => {
    for (const code of ['ECONNREFUSED', 'CONNECT_TIMEOUT', '57P03', '25006', '40001', '23505']) {
      expect(connectionLost(failure(code)), code).toBe(false);
    }
    expect(connectionLost(new Error('no code'))).toBe(false);
  });

  it('leaves every other failure alone', () => {
    for (const code of ['23505', '40001', '22P02']) {
      expect(neverReachedPrimary(failure(code)), code).toBe(false);
      expect(databaseUnavailable(failure(code)), code).toBe(false);
    }
    expect(databaseUnavailable(new Error('no code'))).toBe(false);
  });

  it('is the catalogued 503 with a Retry-After', () => {
    const error = unavailableError(failure('ECONNREFUSED'));
    expect(error).toBeInstanceOf(CountersignError);
    expect(error.code).toBe('service_unavailable');
    expect(error.status).toBe(503);
    expect(error.details).toEqual({ retryAfterSeconds: 1 });
  });
});

describe('DATABASE_URL with several hosts', () => {
  const refusal = (url: string): string => {
    try {
      loadConfig({ DATABASE_URL: url });
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
    throw new Error('the configuration was accepted');
  };

  it('accepts a primary and standbys that ask for the read-write session', () => {
    const url = 'postgres://app@db1:5432,db2:5433,[::1]:5434/pay?target_session_attrs=read-write';
    expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    const primary = 'postgres://app@db1,db2/pay?target_session_attrs=primary';
    expect(loadConfig({ DATABASE_URL: primary }).databaseUrl).toBe(primary);
  });

  it('refuses several hosts without target_session_attrs, and a malformed host', () => {
    expect(refusal('postgres://app@db1:5432,db2:5433/pay')).toMatch(/target_session_attrs=read-write/);
    expect(refusal('postgres://app@db1:5432,db2:70000/pay?target_session_attrs=read-write')).toMatch(
      /invalid host "db2:70000"/,
    );
    expect(refusal('postgres://app@db1:5432,/pay?target_session_attrs=read-write')).toMatch(/invalid host/);
    const many = Array.from({ length: 9 }, (_unused, index) => `db${index}`).join(',');
    expect(refusal(`postgres://app@${many}/pay?target_session_attrs=read-write`)).toMatch(/at most 8 hosts/);
  });
});
