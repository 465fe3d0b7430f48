/**
 * The only reader of the environment. Every variable is validated here, once, with a message that names
 * the variable; the resulting configuration is frozen and passed down as an argument.
 */
import path from 'node:path';
import { limits } from './domain/limits.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly host: string;
  readonly port: number;
  /** Base URL under which payers and terminals reach this platform (enrollment URIs, checkout pages). */
  readonly publicUrl: string;
  readonly dataDir: string;
  /** A PostgreSQL URL, or undefined for the embedded PGlite in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly databasePoolSize: number;
  /** Operator token given in the environment; when undefined one is generated into `dataDir`. */
  readonly operatorToken: string | undefined;
  /** 32-byte master key as hex; when undefined one is generated into `dataDir`. */
  readonly masterKeyHex: string | undefined;
  readonly codeTtlSeconds: number;
  readonly lockSeconds: number;
  readonly temporaryLocksBeforePermanent: number;
  readonly logLevel: LogLevel;
  readonly sweepIntervalMs: number;
  readonly trustProxy: boolean;
}

/** A configuration error names the variable at fault; `main` prints it and exits non-zero. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Environment = Readonly<Record<string, string | undefined>>;

function integer(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function databaseUrl(env: Environment): string | undefined {
  const raw = env['DATABASE_URL'];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a valid URL (expected postgres://user@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must use the postgres:// scheme, got "${url.protocol}"`);
  }
  if (url.hostname === '' || url.pathname.length <= 1) {
    throw new ConfigError(
      'DATABASE_URL',
      'must name a host and a database (postgres://user@host:port/database)',
    );
  }
  return raw;
}

function operatorToken(env: Environment): string | undefined {
  const raw = env['OPERATOR_TOKEN'];
  if (raw === undefined || raw === '') return undefined;
  // 22 base64url characters carry 132 bits; a shorter token is guessable.
  if (raw.length < 22 || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError('OPERATOR_TOKEN', 'must be at least 22 printable characters (128 bits or more)');
  }
  return raw;
}

function masterKey(env: Environment): string | undefined {
  const raw = env['MASTER_KEY'];
  if (raw === undefined || raw === '') return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(raw))
    throw new ConfigError('MASTER_KEY', 'must be 64 hex characters (32 bytes)');
  return raw.toLowerCase();
}

const logLevels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(env: Environment): LogLevel {
  const raw = env['LOG_LEVEL'] ?? 'info';
  if (!(logLevels as readonly string[]).includes(raw)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${logLevels.join(', ')}`);
  }
  return raw as LogLevel;
}

function boolean(env: Environment, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(name, 'must be true or false');
}

function publicUrl(env: Environment, host: string, port: number): string {
  const raw = env['PUBLIC_URL'];
  if (raw === undefined || raw === '') return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError('PUBLIC_URL', 'must be an http:// or https:// URL');
  }
  return raw.replace(/\/+$/, '');
}

/** Reads and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Environment = process.env): Config {
  const host = env['HOST'] || '127.0.0.1';
  const port = integer(env, 'PORT', 8080, 0, 65535);
  return Object.freeze({
    host,
    port,
    publicUrl: publicUrl(env, host, port),
    dataDir: path.resolve(env['DATA_DIR'] || './data'),
    databaseUrl: databaseUrl(env),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, limits.databasePoolSizeMax),
    operatorToken: operatorToken(env),
    masterKeyHex: masterKey(env),
    codeTtlSeconds: integer(env, 'CODE_TTL_SECONDS', 300, limits.codeTtlSecondsMin, limits.codeTtlSecondsMax),
    lockSeconds: integer(env, 'LOCK_SECONDS', 900, 1, 30 * 24 * 3600),
    temporaryLocksBeforePermanent: integer(env, 'TEMPORARY_LOCKS_BEFORE_PERMANENT', 3, 1, 100),
    logLevel: logLevel(env),
    sweepIntervalMs: integer(env, 'SWEEP_INTERVAL_MS', 1000, 10, 60_000),
    trustProxy: boolean(env, 'TRUST_PROXY'),
  });
}
