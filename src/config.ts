/**
 * The platform's configuration, parsed once from the environment (and `.env`), frozen: the variables every process
 * and several modules need (server, database, Redis, keys and pepper, tokens, logging, rate limits, idempotency,
 * outbox, worker, first admin, and the providers more than one module uses). A variable that one module reads is
 * declared in that module's `config` instead (docs/modules.md, "Configuration"), and parsed by `moduleConfigOf` from
 * the same environment. `.env.example` documents each one (a test checks). Parsing collects every problem before
 * failing, so an operator sees the whole list at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseDotenv } from 'dotenv';
import {
  base64Key,
  bearerToken,
  boolean,
  ConfigProblem,
  type ConfigSpec,
  expandReferences,
  integer,
  list,
  oneOf,
  parseVariables,
  text,
  url,
  type VariableSpec,
  variable,
} from './platform/config-spec.ts';

/**
 * Which `X-Forwarded-For` hops to believe (Fastify's `trustProxy`): `false` (the socket address), a hop count, or the
 * addresses/CIDRs of the proxies in front. `true` is read as 1 hop, never as "trust every hop": that takes the
 * left-most address, which the client writes itself, and so lets any client choose its own IP for rate limits and
 * IP allowlists.
 */
export type TrustProxy = false | number | string[];

const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * TRUST_PROXY as Fastify's `trustProxy`. Fastify 5 no longer takes a hop count (it fails closed: a direct client
 * could otherwise send enough hops to pick its address), so a count becomes the function proxy-addr used for one:
 * the socket peer and the next `hops - 1` X-Forwarded-For entries from the right are proxies. Use it only where
 * clients cannot reach the API around the balancer; proxy CIDRs do not need that assumption.
 */
export function trustProxyOption(
  value: TrustProxy,
): false | string[] | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address, hop) => hop < value : value;
}

function trustProxy(raw: string): TrustProxy {
  const value = raw.trim().toLowerCase();
  if (['false', '0', 'no', 'off', ''].includes(value)) return false;
  if (['true', 'yes', 'on'].includes(value)) return 1;
  if (/^\d+$/.test(value)) return integer(1, 32)(value);
  const entries = list(raw);
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const validBits =
      bits === undefined ||
      (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32)) ||
      (family === 4 && isIP(bits) === 4);
    if (PROXY_RANGE_NAMES.includes(entry)) continue;
    if (family === 0 || !validBits || extra !== undefined)
      throw new ConfigProblem(
        `must be false, a hop count, or comma-separated proxy addresses/CIDRs (or ${PROXY_RANGE_NAMES.join(', ')}); "${entry}" is none of these`,
      );
  }
  return entries;
}

/** Previous master keys kept for unwrapping after a rotation: `id:base64key,id:base64key`. */
function keyRing(raw: string): Map<string, Buffer> {
  const ring = new Map<string, Buffer>();
  for (const entry of list(raw)) {
    const [id, encoded] = entry.split(':');
    if (!id || !encoded) throw new ConfigProblem('entries must look like id:base64key');
    ring.set(id, base64Key(32)(encoded));
  }
  return ring;
}

/** Well-known development values: fine on a laptop, refused when PRODUCTION=true. */
export const DEVELOPMENT_SECRETS = {
  MASTER_KEY: 'ZGV2ZWxvcG1lbnQtb25seS1tYXN0ZXIta2V5LTMyYiE=',
  HMAC_PEPPER: 'development-only-pepper-change-me-in-production',
} as const;

export const variables = {
  // Server
  LOCAL_HOST: variable('Address the API listens on.', '0.0.0.0', text),
  LOCAL_PORT: variable('Port the API listens on.', '8000', integer(0, 65535)),
  PRODUCTION: variable(
    'Production mode: refuses the embedded database, a missing Redis and development secrets.',
    'false',
    boolean,
  ),
  LOG_LEVEL: variable(
    'pino log level.',
    'info',
    oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  ),
  DATA_DIR: variable('Directory for the embedded database and stored documents.', './data', text),
  PUBLIC_BASE_URL: variable(
    'External URL of the API (links in emails, callbacks). Unset: http://localhost on LOCAL_PORT.',
    'http://localhost:{LOCAL_PORT}',
    url(['http:', 'https:']),
  ),
  CORS_ORIGINS: variable('Comma-separated browser origins allowed by CORS; empty allows none.', '', list),
  TRUST_PROXY: variable(
    'Client address behind load balancers, from X-Forwarded-For: false (the socket address; clients connect directly), a hop count (1: one proxy in front, 2: a CDN then a load balancer), or comma-separated addresses/CIDRs of your proxies (e.g. 10.0.0.0/8,loopback). true means 1 hop. Trusting more hops than there are proxies lets a client pick its own address (per-IP rate limits, IP allowlists).',
    'false',
    trustProxy,
  ),
  API_DOCS: variable(
    'Who may read /docs and /openapi.json: public, staff (any signed-in staff bearer token) or off (not served). Unset: off with PRODUCTION=true, public otherwise.',
    undefined,
    oneOf('public', 'staff', 'off'),
  ),
  METRICS_TOKEN: variable(
    'Bearer token Prometheus must send to read /metrics (32+ characters). Unset: /metrics is open, except with PRODUCTION=true, where it is not served.',
    undefined,
    bearerToken,
    true,
  ),
  BODY_LIMIT_BYTES: variable(
    'Largest accepted request body (JSON), in bytes.',
    '1048576',
    integer(1024, 104857600),
  ),
  RATE_LIMIT_MAX: variable('Requests per client IP per window before 429.', '600', integer(1, 1000000)),
  RATE_LIMIT_WINDOW_MS: variable('Rate-limit window, in milliseconds.', '60000', integer(1000, 86400000)),
  SHUTDOWN_TIMEOUT_MS: variable(
    'Time allowed for in-flight requests on SIGTERM.',
    '10000',
    integer(0, 600000),
  ),
  // Database
  DATABASE_URL: variable(
    'PostgreSQL (>=15) connection URL. Unset: embedded PGlite database in DATA_DIR.',
    undefined,
    url(['postgres:', 'postgresql:']),
  ),
  AUTO_MIGRATE: variable(
    'Apply migrations and seed data when the API starts (one node at a time).',
    'true',
    boolean,
  ),
  DATABASE_POOL_SIZE: variable('PostgreSQL connection pool size.', '10', integer(1, 500)),
  DATABASE_STATEMENT_TIMEOUT_MS: variable(
    "Statement timeout on the API's and worker's PostgreSQL connections (0: none). The CLI's operator commands run without one.",
    '30000',
    integer(0, 3600000),
  ),
  // Redis
  REDIS_URL: variable(
    'Redis URL for shared ephemeral state. Unset: in-process store (single node only).',
    undefined,
    url(['redis:', 'rediss:']),
  ),
  REDIS_KEY_PREFIX: variable('Prefix of every Redis key written by this deployment.', 'cf:', text),
  // Jobs
  WORKER_IN_PROCESS: variable(
    'Run the background worker inside the API process (auto: only on the embedded database).',
    'auto',
    oneOf('auto', 'true', 'false'),
  ),
  JOB_BATCH_SIZE: variable('Jobs fetched per worker poll.', '10', integer(1, 1000)),
  // Tokens
  ACCESS_TOKEN_EXPIRE_MINUTES: variable('Lifetime of access tokens.', '60', integer(1, 1440)),
  REFRESH_TOKEN_EXPIRE_MINUTES: variable('Lifetime of refresh tokens.', '10080', integer(5, 525600)),
  JWT_ISSUER: variable('`iss` of issued tokens.', 'codeforge-suite', text),
  JWT_AUDIENCE: variable('`aud` of issued tokens.', 'codeforge-api', text),
  // Secrets
  MASTER_KEY: variable(
    'Key-encryption key (32 bytes, base64) wrapping per-object data keys and signing keys.',
    DEVELOPMENT_SECRETS.MASTER_KEY,
    base64Key(32),
    true,
  ),
  MASTER_KEY_ID: variable(
    'Identifier of MASTER_KEY, stored beside every wrapped key (letters, digits, _ or -).',
    'k1',
    (raw) => {
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(raw)) throw new ConfigProblem('must be 1–32 letters, digits, _ or -');
      return raw;
    },
  ),
  MASTER_KEYS_PREVIOUS: variable(
    'Retired master keys still able to unwrap: `id:base64,id:base64`.',
    '',
    keyRing,
    true,
  ),
  HMAC_PEPPER: variable(
    'Server secret keying PIN/OTP HMACs and PII blind indexes (>=32 characters).',
    DEVELOPMENT_SECRETS.HMAC_PEPPER,
    (raw) => {
      if (raw.length < 32) throw new ConfigProblem('must be at least 32 characters');
      return raw;
    },
    true,
  ),
  // Identity
  ADMIN_EMAIL: variable(
    'Email of the first administrator created on an empty database.',
    'admin@example.com',
    text,
  ),
  ADMIN_PASSWORD: variable(
    'Password of the first administrator; unset: a random one is printed once.',
    undefined,
    text,
    true,
  ),
  PASSWORD_MIN_LENGTH: variable('Shortest password accepted (NIST: 8 or more).', '8', integer(8, 64)),
  PASSWORD_MAX_LENGTH: variable('Longest password accepted (never truncated).', '128', integer(64, 1024)),
  PASSWORD_MIN_SCORE: variable(
    'Lowest zxcvbn strength score (0-4) a new password must reach; 3 means about 10^8 guesses or more, so random passwords need about 9 characters and passphrases pass easily.',
    '3',
    integer(2, 4),
  ),
  OUTBOX_RETENTION_DAYS: variable(
    'Days a dispatched domain event is kept in outbox_events before the hourly purge (0: keep them all). An event a consumer has not yet handled, or has set aside after its attempts, is always kept.',
    '7',
    integer(0, 3650),
  ),
  EVENT_VALIDATION_RATE: variable(
    'Share of published domain events whose payload is checked against its topic schema, from 0 (none) to 1 (all). auto: all unless PRODUCTION=true, then 0.01.',
    'auto',
    (raw: string): number | 'auto' => {
      if (raw.trim().toLowerCase() === 'auto') return 'auto';
      const rate = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(rate) || rate < 0 || rate > 1)
        throw new ConfigProblem('must be auto or a number from 0 to 1');
      return rate;
    },
  ),
  IDEMPOTENCY_TTL_HOURS: variable(
    'How long idempotency keys and their responses are kept.',
    '24',
    integer(24, 720),
  ),
  CRASH_POINTS: variable(
    'Reliability tests only: name:n,… makes the process kill itself the n-th time it passes that point; refused in production.',
    undefined,
    text,
  ),
  // Core banking (Apache Fineract): bank top-ups and withdrawals to bank (banking) and the CBS identity check
  // (onboarding): two modules share these settings
  FINERACT_BASE_URL: variable(
    'Fineract API root, e.g. https://cbs.example:8443/fineract-provider/api/v1; unset: bank transfers answer 503.',
    undefined,
    url(['http:', 'https:']),
  ),
  FINERACT_USERNAME: variable('Fineract API user (Basic auth).', undefined, text),
  FINERACT_PASSWORD: variable('Fineract API password.', undefined, text, true),
  FINERACT_TENANT_ID: variable('Fineract-Platform-TenantId header.', 'default', text),
  FINERACT_PAYMENT_TYPE_ID: variable('Fineract payment type of wallet transfers.', '1', integer(1, 1000000)),
  FINERACT_TIMEOUT_MS: variable('Timeout of one Fineract call.', '10000', integer(100, 120000)),
  // Federation (spec names; planned, no code reads them yet: they will be identity's)
  SAML_CONFIG_FILE: variable('SAML service-provider settings file.', undefined, text),
  LDAP_SERVER: variable('LDAP server URL (ldap:// or ldaps://).', undefined, text),
  LDAP_BIND_DN: variable('DN used to search the directory.', undefined, text),
  LDAP_BIND_PASSWORD: variable('Password of LDAP_BIND_DN.', undefined, text, true),
  LDAP_BASE_DN: variable('Search base for users.', undefined, text),
} as const;

type Variables = typeof variables;
type Parsed<S> = S extends VariableSpec<infer T, string | undefined> ? T : never;
type HasFallback<S> = S extends { fallback: string } ? true : false;
export type Config = {
  readonly [K in keyof Variables]: HasFallback<Variables[K]> extends true
    ? Parsed<Variables[K]>
    : Parsed<Variables[K]> | undefined;
};
export type VariableName = keyof Variables;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Reads `.env` from the working directory; real environment variables win. */
export function environmentWithDotenv(
  env: NodeJS.ProcessEnv = process.env,
  file = '.env',
): Record<string, string | undefined> {
  if (!existsSync(file)) return { ...env };
  return { ...parseDotenv(readFileSync(file)), ...env };
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(variables) as [string, VariableSpec<unknown>][]) {
    const raw = env[name];
    const unexpanded = raw === undefined || raw === '' ? spec.fallback : raw;
    const source = spec.secret
      ? unexpanded
      : expandReferences(
          unexpanded,
          (reference) => Object.hasOwn(variables, reference),
          (reference) => values[reference],
        );
    // A reference to a variable that failed to parse: that problem is reported already.
    if (source === null) continue;
    if (source === undefined) {
      values[name] = undefined;
      continue;
    }
    try {
      values[name] = spec.parse(source);
    } catch (error) {
      problems.push(`${name} ${error instanceof ConfigProblem ? error.message : String(error)}`);
    }
  }
  const ring = values.MASTER_KEYS_PREVIOUS as Map<string, Buffer> | undefined;
  if (ring?.has(values.MASTER_KEY_ID as string)) {
    problems.push(
      'MASTER_KEY_ID must not also name a key in MASTER_KEYS_PREVIOUS (it would replace that key)',
    );
  }
  problems.push(...productionProblems(values as Config, env));
  if (problems.length > 0) throw new ConfigError(problems);
  const config = Object.freeze(values) as Config;
  ENVIRONMENTS.set(config, { ...env });
  return config;
}

/** The environment each parsed config came from: modules parse their own variables from it. */
const ENVIRONMENTS = new WeakMap<Config, Record<string, string | undefined>>();

/**
 * A module's own variables (its `config`), parsed from the environment `config` was parsed from: with its production
 * refusals when PRODUCTION=true, and `{NAME}` in a value or default naming a platform variable (PUBLIC_BASE_URL).
 */
export function moduleConfigOf(config: Config, spec: ConfigSpec): Record<string, unknown> {
  const problems: string[] = [];
  const values = moduleValues(config, spec, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return values;
}

/** Every module's variables at once, by module name: one ConfigError lists the problems of all of them. */
export function moduleConfigsOf(
  config: Config,
  modules: readonly { name: string; config?: ConfigSpec }[],
): Map<string, Record<string, unknown>> {
  const problems: string[] = [];
  const parsed = new Map(
    modules.map((module) => [module.name, moduleValues(config, module.config ?? {}, problems)]),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed;
}

function moduleValues(config: Config, spec: ConfigSpec, problems: string[]): Record<string, unknown> {
  // A copy of a parsed config (the CLI's, with its own statement timeout) reads the process's environment.
  return parseVariables(spec, ENVIRONMENTS.get(config) ?? environmentWithDotenv(), problems, {
    production: config.PRODUCTION,
    references: config,
  });
}

/** Compares parsed values, so the development master key is caught however its base64 is spelled. */
function isDevelopmentSecret(config: Config, name: keyof typeof DEVELOPMENT_SECRETS): boolean {
  if (name === 'MASTER_KEY')
    return config.MASTER_KEY.equals(Buffer.from(DEVELOPMENT_SECRETS.MASTER_KEY, 'base64'));
  return config[name] === DEVELOPMENT_SECRETS[name];
}

function productionProblems(config: Config, env: Record<string, string | undefined>): string[] {
  if (!config.PRODUCTION) return [];
  const problems: string[] = [];
  if (!config.DATABASE_URL)
    problems.push('DATABASE_URL is required in production (the embedded database is single-node)');
  if (!config.REDIS_URL)
    problems.push('REDIS_URL is required in production (shared rate limits, denylist, sessions)');
  for (const name of Object.keys(DEVELOPMENT_SECRETS) as (keyof typeof DEVELOPMENT_SECRETS)[]) {
    if (!env[name]) problems.push(`${name} must be set in production`);
    else if (isDevelopmentSecret(config, name)) problems.push(`${name} is the development default`);
  }
  const pairs: [VariableName, VariableName][] = [
    ['LDAP_BIND_DN', 'LDAP_BIND_PASSWORD'],
    ['FINERACT_USERNAME', 'FINERACT_PASSWORD'],
  ];
  for (const [owner, secret] of pairs) {
    if (config[owner] && !config[secret]) problems.push(`${secret} is required when ${owner} is set`);
  }
  if (config.CRASH_POINTS) problems.push('CRASH_POINTS must not be set in production');
  if (config.ADMIN_PASSWORD !== undefined && config.ADMIN_PASSWORD.length < 12) {
    problems.push('ADMIN_PASSWORD must be at least 12 characters in production');
  }
  return problems;
}

/** API_DOCS with its default applied: off in production, public otherwise. */
export function apiDocsMode(config: Pick<Config, 'API_DOCS' | 'PRODUCTION'>): 'public' | 'staff' | 'off' {
  return config.API_DOCS ?? (config.PRODUCTION ? 'off' : 'public');
}

/** Names of variables whose values must never be printed. */
export const secretVariableNames: readonly string[] = Object.entries(variables)
  .filter(([, spec]) => spec.secret)
  .map(([name]) => name);

export function describeConfig(config: Config): Record<string, string> {
  const described: Record<string, string> = {};
  for (const name of Object.keys(variables)) {
    const value = config[name as VariableName];
    if (value === undefined) described[name] = '(unset)';
    else if (secretVariableNames.includes(name)) described[name] = '(set, hidden)';
    else described[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return described;
}
