/**
 * The only reader of the environment. Every variable is validated here, once, with a message that names
 * the variable; the resulting configuration is frozen and passed down as an argument.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { limits, type SettingLimit, secretSettingLimits, settingLimits } from './domain/limits.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly host: string;
  readonly port: number;
  /** Base URL under which payers and terminals reach this platform (enrollment URIs, checkout pages). */
  readonly publicUrl: string;
  /**
   * The WebAuthn relying party id of passkeys (`WEBAUTHN_RP_ID`): the host of `PUBLIC_URL` or a registrable
   * suffix of it; undefined means the host itself. Passkeys are bound to it: changing it orphans them.
   */
  readonly webauthnRpId: string | undefined;
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
  /** Cap of the escalating lock (each consecutive lock doubles `lockSeconds`). */
  readonly lockSecondsMax: number;
  readonly logLevel: LogLevel;
  readonly sweepIntervalMs: number;
  /**
   * Which proxies in front of the server to believe about the client's address (`TRUST_PROXY`): false for
   * none, a number of hops counted from the server, or the proxies' addresses and networks. Never "all":
   * then the client could name its own address and escape the per-address rate limit.
   */
  readonly trustProxy: false | number | readonly string[];
  /** Requests one client address may make per minute, across all routes (`RATE_LIMIT_PER_MINUTE`). */
  readonly rateLimitPerMinute: number;
  /** Payment operations per group commit (`COMMIT_BATCH_SIZE`); 0 commits each on its own. */
  readonly commitBatchSize: number;
  /** Longest wait of an operation for its group commit to close (`COMMIT_BATCH_WAIT_MS`). */
  readonly commitBatchWaitMs: number;
  /** Earlier master keys (hex) that still open sealed values until `keys rotate` has resealed them. */
  readonly masterKeysRetiredHex: readonly string[];
  /** Authentication attempts one payer id may make per minute on one process (`RATE_LIMIT_PER_PAYER`). */
  readonly rateLimitPerPayer: number;
  /** PEM certificate chain and private key files: when both are set the server speaks HTTPS itself. */
  readonly tlsCertPath: string | undefined;
  readonly tlsKeyPath: string | undefined;
  /** Where second-terminal messages are POSTed for SMS (`SMS_GATEWAY_URL`); undefined: no SMS channel. */
  readonly smsGatewayUrl: string | undefined;
  /** `SMS_GATEWAY_ALLOW_HTTP`: accept a plain-http `SMS_GATEWAY_URL` (development only). */
  readonly smsGatewayAllowHttp: boolean;
  /** Key of the HMAC-SHA256 signature on every SMS-gateway message (`SMS_GATEWAY_SECRET`). */
  readonly smsGatewaySecret: string | undefined;
  /** `DEVELOPMENT_OUTBOX`: keep every second-terminal message, first code included, for the operator. */
  readonly developmentOutbox: boolean;
  /** `WEBHOOK_ALLOW_PRIVATE_TARGETS`: let webhooks go to loopback and private addresses (development only). */
  readonly webhookAllowPrivateTargets: boolean;
  /** `WEBHOOK_TIMEOUT_MS`: time one webhook attempt may take, connect to answer. */
  readonly webhookTimeoutMs: number;
  /** `METRICS_TOKEN`: a second bearer token that may read `/metrics` (and nothing else). */
  readonly metricsToken: string | undefined;
  /**
   * `REDIS_URL`: where every server counts the per-address and per-payer throttles together; undefined:
   * each process counts alone. May hold a password: never logged, never put in an error message.
   */
  readonly redisUrl: string | undefined;
  /** `REDIS_KEY_PREFIX`: the prefix of every key this platform writes, so that platforms can share a Redis. */
  readonly redisKeyPrefix: string;
}

/**
 * A configuration error names the variable at fault; `main` prints it and exits non-zero. When several
 * variables are wrong, one error lists them all (`problems`), so that a deployment is fixed in one round.
 */
export class ConfigError extends Error {
  readonly problems: readonly ConfigError[];

  constructor(
    readonly variable: string,
    message: string,
    problems: readonly ConfigError[] = [],
  ) {
    super(problems.length > 0 ? message : `${variable}: ${message}`);
    this.name = 'ConfigError';
    this.problems = problems.length > 0 ? problems : [this];
  }
}

/** One error for every problem found: the problem itself when there is one, else a list of them. */
function combined(problems: readonly ConfigError[]): ConfigError {
  if (problems.length === 1) return problems[0]!;
  const lines = problems.map((problem) => `  ${problem.message}`).join('\n');
  return new ConfigError(
    problems.map((problem) => problem.variable).join(', '),
    `${problems.length} variables are invalid:\n${lines}`,
    problems,
  );
}

type Environment = Readonly<Record<string, string | undefined>>;

/** A numeric setting of `settingLimits`: its default when unset, else a whole number within its range. */
function integer(env: Environment, setting: SettingLimit, fallback = setting.defaultValue): number {
  const { variable: name, min, max } = setting;
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
  // WHATWG URLs take one host only; a failover URL names several (`postgres://h1:5432,h2:5433/db`), so the
  // host list is checked on its own and the rest of the URL is parsed with the first host in its place.
  const hostList = /^[a-z]+:\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(raw)?.[1] ?? '';
  const hosts = hostList.split(',');
  let url: URL;
  try {
    url = new URL(raw.replace(hostList, hosts[0] ?? ''));
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
  if (hosts.length > 1) checkFailoverHosts(hosts, url.searchParams.get('target_session_attrs'));
  return raw;
}

/**
 * `REDIS_URL`: `redis://` or `rediss://` (TLS), a host, an optional port and database number. Messages
 * never repeat the value, which may carry a password.
 */
function redisUrl(env: Environment): string | undefined {
  const raw = env['REDIS_URL'];
  if (raw === undefined || raw === '') return undefined;
  const expected = '(expected redis://[:password@]host[:port][/database])';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('REDIS_URL', `is not a valid URL ${expected}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError('REDIS_URL', `must use the redis:// or rediss:// scheme ${expected}`);
  }
  if (url.hostname === '') throw new ConfigError('REDIS_URL', `must name a host ${expected}`);
  if (!/^(\/([0-9]{1,2})?)?$/.test(url.pathname) || url.search !== '' || url.hash !== '') {
    throw new ConfigError('REDIS_URL', `may end with a database number only ${expected}`);
  }
  return raw;
}

/** `REDIS_KEY_PREFIX`: printable, without spaces, bounded; default `countersign:`. */
function redisKeyPrefix(env: Environment): string {
  const raw = env['REDIS_KEY_PREFIX'];
  if (raw === undefined || raw === '') return 'countersign:';
  if (raw.length > limits.redisKeyPrefixLengthMax || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError(
      'REDIS_KEY_PREFIX',
      `must be 1 to ${limits.redisKeyPrefixLengthMax} printable characters without spaces`,
    );
  }
  return raw;
}

/**
 * Several hosts are a primary and its standbys. Without `target_session_attrs` the driver would take the
 * first that answers, a standby included, where every write fails; so the URL must ask for the primary.
 */
function checkFailoverHosts(hosts: readonly string[], targetSessionAttrs: string | null): void {
  if (hosts.length > limits.databaseHostsMax) {
    throw new ConfigError(
      'DATABASE_URL',
      `names at most ${limits.databaseHostsMax} hosts, got ${hosts.length}`,
    );
  }
  for (const host of hosts) {
    const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(host);
    const port = match?.[2] === undefined ? 5432 : Number(match[2]);
    if (match === null || port < 1 || port > 65_535) {
      throw new ConfigError('DATABASE_URL', `has an invalid host "${host}" (expected host:port)`);
    }
  }
  if (targetSessionAttrs !== 'read-write' && targetSessionAttrs !== 'primary') {
    throw new ConfigError(
      'DATABASE_URL',
      'names several hosts, so it must end with ?target_session_attrs=read-write (or primary)',
    );
  }
}

/** What a token given by the environment must be: as strong as a generated one (128 bits or more). */
const tokenStrength = `must be at least ${secretSettingLimits.bearerTokenLengthMin} printable characters (128 bits or more)`;

function operatorToken(env: Environment): string | undefined {
  const raw = env['OPERATOR_TOKEN'];
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < secretSettingLimits.bearerTokenLengthMin || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError('OPERATOR_TOKEN', tokenStrength);
  }
  return raw;
}

function metricsToken(env: Environment): string | undefined {
  const raw = env['METRICS_TOKEN'];
  if (raw === undefined || raw === '') return undefined;
  // The same strength as the operator token: a guessed one reads the platform's volumes.
  if (raw.length < secretSettingLimits.bearerTokenLengthMin || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError('METRICS_TOKEN', tokenStrength);
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

function masterKeysRetired(env: Environment, current: string | undefined): string[] {
  const raw = env['MASTER_KEYS_RETIRED'];
  if (raw === undefined || raw.trim() === '') return [];
  const keys = raw.split(',').map((key) => key.trim().toLowerCase());
  if (keys.some((key) => !/^[0-9a-f]{64}$/.test(key))) {
    throw new ConfigError('MASTER_KEYS_RETIRED', 'must be a comma-separated list of 64-hex-character keys');
  }
  if (keys.length > limits.retiredMasterKeysMax)
    throw new ConfigError('MASTER_KEYS_RETIRED', `holds at most ${limits.retiredMasterKeysMax} keys`);
  if (new Set(keys).size !== keys.length || (current !== undefined && keys.includes(current))) {
    throw new ConfigError('MASTER_KEYS_RETIRED', 'must not repeat a key or contain MASTER_KEY');
  }
  return keys;
}

function tlsFiles(env: Environment): { tlsCertPath: string | undefined; tlsKeyPath: string | undefined } {
  const cert = env['TLS_CERT'] || undefined;
  const key = env['TLS_KEY'] || undefined;
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(
      cert === undefined ? 'TLS_CERT' : 'TLS_KEY',
      'TLS_CERT and TLS_KEY are set together',
    );
  }
  return {
    tlsCertPath: cert === undefined ? undefined : path.resolve(cert),
    tlsKeyPath: key === undefined ? undefined : path.resolve(key),
  };
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

const trustProxyForms =
  'set it to the number of proxies in front of the server (1 for one reverse proxy), or to a ' +
  'comma-separated list of proxy addresses or networks (10.0.0.1, 10.0.0.0/8, fd00::/8)';

/**
 * `TRUST_PROXY`: unset, `false` or `0` trusts no proxy; a whole number trusts that many hops next to the
 * server; otherwise a list of proxy addresses and CIDR networks. `true` is refused: it used to trust every
 * hop, so that any client could choose the address it is known by.
 */
function trustProxy(env: Environment): false | number | readonly string[] {
  const raw = (env['TRUST_PROXY'] ?? '').trim();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (/^[0-9]+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > limits.trustedProxyHopsMax) {
      throw new ConfigError(
        'TRUST_PROXY',
        `trusts at most ${limits.trustedProxyHopsMax} proxies, got ${hops}`,
      );
    }
    return hops;
  }
  if (/^true$/i.test(raw)) {
    throw new ConfigError(
      'TRUST_PROXY',
      `no longer accepts "true", which trusted every hop; ${trustProxyForms}`,
    );
  }
  const entries = raw.split(',').map((entry) => entry.trim());
  if (entries.length > limits.trustedProxyAddressesMax) {
    throw new ConfigError('TRUST_PROXY', `lists at most ${limits.trustedProxyAddressesMax} proxy addresses`);
  }
  for (const entry of entries) {
    if (!isAddressOrNetwork(entry)) {
      throw new ConfigError('TRUST_PROXY', `"${entry}" is not an IP address or network; ${trustProxyForms}`);
    }
  }
  return Object.freeze(entries);
}

/** True for an IPv4 or IPv6 address, alone or with a prefix length that fits its family (`10.0.0.0/8`). */
function isAddressOrNetwork(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function publicUrl(env: Environment, host: string, port: number): string {
  const raw = env['PUBLIC_URL'];
  const scheme = env['TLS_CERT'] ? 'https' : 'http';
  if (raw === undefined || raw === '')
    return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError('PUBLIC_URL', 'must be an http:// or https:// URL');
  }
  return raw.replace(/\/+$/, '');
}

/** `WEBAUTHN_RP_ID`: the host of `PUBLIC_URL` or a suffix of it on a label boundary, as WebAuthn requires. */
function webauthnRpId(env: Environment, publicUrlValue: string): string | undefined {
  const raw = env['WEBAUTHN_RP_ID'];
  if (raw === undefined || raw === '') return undefined;
  const host = new URL(publicUrlValue).hostname;
  const id = raw.toLowerCase();
  if (!/^[a-z0-9.-]{1,253}$/.test(id) || !(host === id || host.endsWith(`.${id}`)))
    throw new ConfigError('WEBAUTHN_RP_ID', 'must be the host of PUBLIC_URL or a domain it is under');
  return id;
}

/**
 * The SMS gateway: a URL and a signing secret, both or neither. The URL must be https: every message
 * carries a first code, which must not cross the network in clear (the signature proves origin, it does
 * not hide the text). Plain http is for a gateway on the developer's own machine, and only when
 * `SMS_GATEWAY_ALLOW_HTTP` says so.
 */
const noSmsGateway = { smsGatewayUrl: undefined, smsGatewaySecret: undefined, smsGatewayAllowHttp: false };

function smsGateway(env: Environment): {
  smsGatewayUrl: string | undefined;
  smsGatewaySecret: string | undefined;
  smsGatewayAllowHttp: boolean;
} {
  const url = env['SMS_GATEWAY_URL'] || undefined;
  const secret = env['SMS_GATEWAY_SECRET'] || undefined;
  const allowHttp = boolean(env, 'SMS_GATEWAY_ALLOW_HTTP');
  if (url === undefined) {
    if (secret !== undefined)
      throw new ConfigError('SMS_GATEWAY_SECRET', 'is set but SMS_GATEWAY_URL is not');
    return { smsGatewayUrl: undefined, smsGatewaySecret: undefined, smsGatewayAllowHttp: allowHttp };
  }
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new ConfigError('SMS_GATEWAY_URL', 'must be an https:// URL');
  }
  if (protocol === 'http:' && !allowHttp) {
    throw new ConfigError(
      'SMS_GATEWAY_URL',
      'must be an https:// URL: messages carry first codes, which must not travel in clear ' +
        '(for a gateway on a development machine only, set SMS_GATEWAY_ALLOW_HTTP=true)',
    );
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new ConfigError('SMS_GATEWAY_URL', 'must be an https:// URL');
  }
  const secretLengthMin = secretSettingLimits.smsGatewaySecretLengthMin;
  if (secret === undefined || secret.length < secretLengthMin || !/^[\x21-\x7e]+$/.test(secret)) {
    throw new ConfigError(
      'SMS_GATEWAY_SECRET',
      `must be at least ${secretLengthMin} printable characters when SMS_GATEWAY_URL is set`,
    );
  }
  return { smsGatewayUrl: url, smsGatewaySecret: secret, smsGatewayAllowHttp: allowHttp };
}

/**
 * Reads and validates the environment. Every variable is checked even after one fails; the ConfigError
 * thrown names each bad variable (see `combined`).
 */
export function loadConfig(env: Environment = process.env): Config {
  const problems: ConfigError[] = [];
  // Runs one reader; a ConfigError is noted and the fallback stands in, so the next reader still runs.
  const check = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(error);
      return fallback;
    }
  };
  // A numeric setting of `settingLimits`; when it is refused, its default stands in for the next readers.
  const numeric = (setting: SettingLimit): number => check(() => integer(env, setting), setting.defaultValue);
  const host = env['HOST'] || '127.0.0.1';
  const port = numeric(settingLimits.port);
  const masterKeyHex = check(() => masterKey(env), undefined);
  const publicUrlValue = check(
    () => publicUrl(env, host, port),
    `http://127.0.0.1:${settingLimits.port.defaultValue}`,
  );
  const config: Config = {
    host,
    port,
    publicUrl: publicUrlValue,
    webauthnRpId: check(() => webauthnRpId(env, publicUrlValue), undefined),
    dataDir: path.resolve(env['DATA_DIR'] || './data'),
    databaseUrl: check(() => databaseUrl(env), undefined),
    databasePoolSize: numeric(settingLimits.databasePoolSize),
    operatorToken: check(() => operatorToken(env), undefined),
    masterKeyHex,
    codeTtlSeconds: numeric(settingLimits.codeTtlSeconds),
    ...check(() => lockSeconds(env), {
      lockSeconds: settingLimits.lockSeconds.defaultValue,
      lockSecondsMax: settingLimits.lockSecondsMax.defaultValue,
    }),
    logLevel: check(() => logLevel(env), 'info'),
    sweepIntervalMs: numeric(settingLimits.sweepIntervalMs),
    trustProxy: check(() => trustProxy(env), false),
    rateLimitPerMinute: numeric(settingLimits.rateLimitPerMinute),
    commitBatchSize: numeric(settingLimits.commitBatchSize),
    commitBatchWaitMs: numeric(settingLimits.commitBatchWaitMs),
    masterKeysRetiredHex: Object.freeze(check(() => masterKeysRetired(env, masterKeyHex), [])),
    rateLimitPerPayer: numeric(settingLimits.rateLimitPerPayer),
    ...check(() => tlsFiles(env), { tlsCertPath: undefined, tlsKeyPath: undefined }),
    ...check(() => smsGateway(env), noSmsGateway),
    developmentOutbox: check(() => boolean(env, 'DEVELOPMENT_OUTBOX'), false),
    webhookAllowPrivateTargets: check(() => boolean(env, 'WEBHOOK_ALLOW_PRIVATE_TARGETS'), false),
    webhookTimeoutMs: numeric(settingLimits.webhookTimeoutMs),
    metricsToken: check(() => metricsToken(env), undefined),
    redisUrl: check(() => redisUrl(env), undefined),
    redisKeyPrefix: check(() => redisKeyPrefix(env), 'countersign:'),
  };
  if (problems.length > 0) throw combined(problems);
  return Object.freeze(config);
}

/** `LOCK_SECONDS` and its escalation's cap `LOCK_SECONDS_MAX`, which may not be shorter. */
function lockSeconds(env: Environment): { lockSeconds: number; lockSecondsMax: number } {
  const first = integer(env, settingLimits.lockSeconds);
  const max = integer(
    env,
    settingLimits.lockSecondsMax,
    Math.max(settingLimits.lockSecondsMax.defaultValue, first),
  );
  if (max < first) throw new ConfigError('LOCK_SECONDS_MAX', 'must not be less than LOCK_SECONDS');
  return { lockSeconds: first, lockSecondsMax: max };
}
