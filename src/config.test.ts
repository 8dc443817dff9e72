/** Configuration: one schema, defaults that parse, every problem reported at once, production refusals. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type Config,
  ConfigError,
  DEVELOPMENT_SECRETS,
  describeConfig,
  moduleConfigOf,
  parseConfig,
  secretVariableNames,
  variables,
} from './config.ts';
import {
  devSinkOn,
  type NotificationsConfig,
  notificationsConfig,
} from './modules/notifications/notifications.config.ts';
import { orderedModules } from './modules.ts';

/** Parses and returns the ConfigError, failing the test when parsing succeeds or throws something else. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected parseConfig to throw a ConfigError');
}

/** The notifications module's variables (providers, reset link, development sink), parsed as at start-up. */
function notificationValues(env: Record<string, string | undefined>): NotificationsConfig {
  return moduleConfigOf(parseConfig(env), notificationsConfig) as NotificationsConfig;
}

/** The ConfigError of the notifications module's variables (the platform's parse fine). */
function notificationError(env: Record<string, string | undefined>): ConfigError {
  const config = parseConfig(env);
  try {
    moduleConfigOf(config, notificationsConfig);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the notifications variables to be refused');
}

function problemsAbout(error: ConfigError, name: string): string[] {
  return error.problems.filter((problem) => problem.includes(name));
}

/** A production environment with every required value set to a non-default. */
function productionEnv(): Record<string, string> {
  return {
    PRODUCTION: 'true',
    DATABASE_URL: 'postgres://bank:secret@db.internal:5432/bank',
    REDIS_URL: 'redis://cache.internal:6379',
    MASTER_KEY: randomBytes(32).toString('base64'),
    HMAC_PEPPER: randomBytes(32).toString('hex'),
  };
}

describe('parseConfig', () => {
  test('an empty environment parses to the documented defaults', () => {
    const config = parseConfig({});
    assert.equal(config.LOCAL_HOST, '0.0.0.0');
    assert.equal(config.LOCAL_PORT, 8000);
    assert.equal(config.PRODUCTION, false);
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.DATABASE_URL, undefined);
    assert.equal(config.REDIS_URL, undefined);
    assert.equal(config.DATABASE_POOL_SIZE, 10);
    assert.equal(config.AUTO_MIGRATE, true);
    assert.equal(config.WORKER_IN_PROCESS, 'auto');
    assert.deepEqual(config.CORS_ORIGINS, []);
    assert.equal(config.MASTER_KEY.length, 32);
    assert.deepEqual(config.MASTER_KEY, Buffer.from(DEVELOPMENT_SECRETS.MASTER_KEY, 'base64'));
    assert.equal(config.MASTER_KEYS_PREVIOUS.size, 0);
    assert.equal(config.HMAC_PEPPER, DEVELOPMENT_SECRETS.HMAC_PEPPER);
    assert.ok(Object.isFrozen(config));
  });

  test('every variable with a fallback has a value after parsing the defaults', () => {
    const config = parseConfig({});
    for (const [name, spec] of Object.entries(variables)) {
      const value = config[name as keyof Config];
      if (spec.fallback === undefined) assert.equal(value, undefined, name);
      else assert.notEqual(value, undefined, name);
    }
  });

  test('set values are parsed to their types; an empty string means unset', () => {
    const config = parseConfig({
      LOCAL_PORT: '9001',
      TRUST_PROXY: 'yes',
      CORS_ORIGINS: 'https://a.example, https://b.example,,',
      LOG_LEVEL: 'debug',
      DATABASE_POOL_SIZE: '',
      MASTER_KEYS_PREVIOUS: `k0:${randomBytes(32).toString('base64')}`,
    });
    assert.equal(config.LOCAL_PORT, 9001);
    assert.equal(config.TRUST_PROXY, 1, 'true is one trusted hop, never every hop');
    assert.deepEqual(config.CORS_ORIGINS, ['https://a.example', 'https://b.example']);
    assert.equal(config.LOG_LEVEL, 'debug');
    assert.equal(config.DATABASE_POOL_SIZE, 10);
    assert.deepEqual([...config.MASTER_KEYS_PREVIOUS.keys()], ['k0']);
  });

  test('PUBLIC_BASE_URL follows LOCAL_PORT when unset, and the reset link follows PUBLIC_BASE_URL', () => {
    const moved = parseConfig({ LOCAL_PORT: '9001' });
    assert.equal(moved.PUBLIC_BASE_URL, 'http://localhost:9001');
    // The reset link is the notifications module's variable; its default names the platform's PUBLIC_BASE_URL.
    assert.equal(
      notificationValues({ LOCAL_PORT: '9001' }).PASSWORD_RESET_URL,
      'http://localhost:9001/reset-password?token={token}',
    );
    assert.equal(parseConfig({}).PUBLIC_BASE_URL, 'http://localhost:8000');
    const external = parseConfig({ LOCAL_PORT: '9001', PUBLIC_BASE_URL: 'https://api.bank.example' });
    assert.equal(external.PUBLIC_BASE_URL, 'https://api.bank.example', 'a set value wins');
    assert.equal(
      notificationValues({ LOCAL_PORT: '9001', PUBLIC_BASE_URL: 'https://api.bank.example' })
        .PASSWORD_RESET_URL,
      'https://api.bank.example/reset-password?token={token}',
    );
    // The line .env.example documents, copied as it is, works too.
    const copied = parseConfig({ LOCAL_PORT: '9002', PUBLIC_BASE_URL: 'http://localhost:{LOCAL_PORT}' });
    assert.equal(copied.PUBLIC_BASE_URL, 'http://localhost:9002');
    const explicit = notificationValues({ PASSWORD_RESET_URL: 'https://app.example/r?t={token}' });
    assert.equal(explicit.PASSWORD_RESET_URL, 'https://app.example/r?t={token}');
    assert.equal(
      problemsAbout(notificationError({ PASSWORD_RESET_URL: 'https://app.example/r' }), 'PASSWORD_RESET_URL')
        .length,
      1,
    );
    // A bad port is one problem, not also a bad URL built from it.
    assert.deepEqual(configError({ LOCAL_PORT: 'x' }).problems, ['LOCAL_PORT must be an integer, got "x"']);
  });

  test('the development message sink is on by default outside production and can be turned off', () => {
    assert.equal(devSinkOn(notificationValues({}), false), true);
    assert.equal(devSinkOn(notificationValues({ DEV_MESSAGE_SINK: 'false' }), false), false);
    assert.equal(devSinkOn(notificationValues({ DEV_MESSAGE_SINK: 'true' }), false), true);
    assert.equal(notificationValues({}).DEV_MESSAGE_SINK_SIZE, 20);
    assert.deepEqual(
      problemsAbout(notificationError({ DEV_MESSAGE_SINK: 'maybe' }), 'DEV_MESSAGE_SINK').length,
      1,
    );
  });

  test('every bad value is reported in one ConfigError', () => {
    const error = configError({ LOCAL_PORT: 'abc', DATABASE_POOL_SIZE: '0', LOG_LEVEL: 'loud' });
    assert.equal(error.problems.length, 3, error.message);
    assert.equal(problemsAbout(error, 'LOCAL_PORT').length, 1);
    assert.equal(problemsAbout(error, 'DATABASE_POOL_SIZE').length, 1);
    assert.equal(problemsAbout(error, 'LOG_LEVEL').length, 1);
    assert.match(error.message, /LOCAL_PORT must be an integer, got "abc"/);
    assert.match(error.message, /DATABASE_POOL_SIZE must be between 1 and 500, got 0/);
    assert.match(error.message, /LOG_LEVEL must be one of .*, got "loud"/);
  });

  test('malformed URLs, booleans, keys and key rings are refused with the variable named', () => {
    const error = configError({
      DATABASE_URL: 'mysql://db/bank',
      REDIS_URL: 'not a url',
      TRUST_PROXY: 'maybe',
      MASTER_KEY: Buffer.alloc(16).toString('base64'),
      MASTER_KEYS_PREVIOUS: 'no-colon-here',
      HMAC_PEPPER: 'short',
      LOCAL_PORT: '70000',
    });
    for (const name of [
      'DATABASE_URL',
      'REDIS_URL',
      'TRUST_PROXY',
      'MASTER_KEY',
      'MASTER_KEYS_PREVIOUS',
      'HMAC_PEPPER',
      'LOCAL_PORT',
    ]) {
      assert.ok(
        error.problems.some((problem) => problem.startsWith(`${name} `)),
        `${name} missing from ${error.message}`,
      );
    }
    assert.equal(error.problems.length, 7, error.message);
  });

  test('a callback path secret the router could never match is refused (over 100 characters, or not URL-safe)', () => {
    for (const bad of ['x'.repeat(101), 'ok-secret,has space', 'slash/inside']) {
      const error = notificationError({ AFRICASTALKING_CALLBACK_SECRET: bad });
      assert.ok(
        error.problems.some((problem) => problem.startsWith('AFRICASTALKING_CALLBACK_SECRET ')),
        error.message,
      );
    }
  });
});

describe('parseConfig in production', () => {
  test('no database, no Redis and development secrets are all listed in one ConfigError', () => {
    const error = configError({ PRODUCTION: 'true' });
    assert.equal(problemsAbout(error, 'DATABASE_URL').length, 1, error.message);
    assert.equal(problemsAbout(error, 'REDIS_URL').length, 1, error.message);
    assert.equal(problemsAbout(error, 'MASTER_KEY').length, 1, error.message);
    assert.equal(problemsAbout(error, 'HMAC_PEPPER').length, 1, error.message);
    assert.equal(error.problems.length, 4, error.message);
  });

  test('the development secrets given explicitly are refused too', () => {
    const error = configError({
      ...productionEnv(),
      MASTER_KEY: DEVELOPMENT_SECRETS.MASTER_KEY,
      HMAC_PEPPER: DEVELOPMENT_SECRETS.HMAC_PEPPER,
    });
    assert.deepEqual(error.problems.sort(), [
      'HMAC_PEPPER is the development default',
      'MASTER_KEY is the development default',
    ]);
  });

  test('the development master key is refused however it is spelled in base64', () => {
    const unpadded = DEVELOPMENT_SECRETS.MASTER_KEY.replace(/=+$/, '');
    assert.deepEqual(Buffer.from(unpadded, 'base64'), Buffer.from(DEVELOPMENT_SECRETS.MASTER_KEY, 'base64'));
    const error = configError({ ...productionEnv(), MASTER_KEY: unpadded });
    assert.deepEqual(error.problems, ['MASTER_KEY is the development default']);
  });

  test('everything set properly parses', () => {
    const env = productionEnv();
    const config = parseConfig({
      ...env,
      TWILIO_ACCOUNT_SID: 'AC0123456789',
      TWILIO_AUTH_TOKEN: 'token-value',
      ADMIN_PASSWORD: 'a long enough admin password',
    });
    assert.equal(config.PRODUCTION, true);
    assert.equal(config.DATABASE_URL, env.DATABASE_URL);
    assert.equal(config.REDIS_URL, env.REDIS_URL);
    assert.deepEqual(config.MASTER_KEY, Buffer.from(env.MASTER_KEY!, 'base64'));
    assert.equal(config.HMAC_PEPPER, env.HMAC_PEPPER);
  });

  test('TWILIO_ACCOUNT_SID without TWILIO_AUTH_TOKEN is refused', () => {
    const error = notificationError({ ...productionEnv(), TWILIO_ACCOUNT_SID: 'AC0123456789' });
    assert.deepEqual(error.problems, ['TWILIO_AUTH_TOKEN is required when TWILIO_ACCOUNT_SID is set']);
  });

  test('each provider identity without its secret is refused, all at once', () => {
    const providers = {
      TWILIO_ACCOUNT_SID: 'AC0123456789',
      SMTP_USERNAME: 'mailer',
      FIREBASE_PROJECT_ID: 'bank-app',
      AFRICASTALKING_USERNAME: 'bank',
    };
    // The notification providers are the notifications module's variables, refused by its own parse.
    assert.deepEqual(notificationError({ ...productionEnv(), ...providers }).problems.sort(), [
      'AFRICASTALKING_API_KEY is required when AFRICASTALKING_USERNAME is set',
      'FIREBASE_CREDENTIALS is required when FIREBASE_PROJECT_ID is set',
      'SMTP_PASSWORD is required when SMTP_USERNAME is set',
      'TWILIO_AUTH_TOKEN is required when TWILIO_ACCOUNT_SID is set',
    ]);
    const platform = configError({
      ...productionEnv(),
      LDAP_BIND_DN: 'cn=svc,dc=bank,dc=test',
      FINERACT_USERNAME: 'svc',
    });
    assert.deepEqual(platform.problems.sort(), [
      'FINERACT_PASSWORD is required when FINERACT_USERNAME is set',
      'LDAP_BIND_PASSWORD is required when LDAP_BIND_DN is set',
    ]);
    // Outside production the same identities alone are accepted.
    notificationValues(providers);
  });

  test('a short ADMIN_PASSWORD is refused in production but accepted in development', () => {
    const error = configError({ ...productionEnv(), ADMIN_PASSWORD: 'short-pw' });
    assert.deepEqual(error.problems, ['ADMIN_PASSWORD must be at least 12 characters in production']);
    assert.equal(parseConfig({ ADMIN_PASSWORD: 'short-pw' }).ADMIN_PASSWORD, 'short-pw');
  });

  test('the development message sink is off in production, and refused when turned on there', () => {
    assert.equal(devSinkOn(notificationValues(productionEnv()), true), false);
    assert.equal(
      devSinkOn(notificationValues({ ...productionEnv(), DEV_MESSAGE_SINK: 'auto' }), true),
      false,
    );
    const error = notificationError({ ...productionEnv(), DEV_MESSAGE_SINK: 'true' });
    assert.deepEqual(error.problems, [
      'DEV_MESSAGE_SINK must not be on in production (it shows codes and reset links)',
    ]);
  });

  test('Twilio without its token is accepted outside production', () => {
    assert.equal(
      notificationValues({ TWILIO_ACCOUNT_SID: 'AC0123456789' }).TWILIO_ACCOUNT_SID,
      'AC0123456789',
    );
  });
});

test('a metrics token shorter than 32 characters or with spaces is refused', () => {
  for (const value of ['short-token', `${'a'.repeat(31)}`, `${'a'.repeat(20)} ${'b'.repeat(20)}`]) {
    const error = configError({ METRICS_TOKEN: value });
    assert.equal(problemsAbout(error, 'METRICS_TOKEN').length, 1, value);
  }
  assert.equal(parseConfig({ METRICS_TOKEN: 'm'.repeat(32) }).METRICS_TOKEN, 'm'.repeat(32));
});

describe('describeConfig', () => {
  test('secrets are hidden, other values shown, unset ones marked', () => {
    const secrets = {
      MASTER_KEY: randomBytes(32).toString('base64'),
      MASTER_KEYS_PREVIOUS: `k0:${randomBytes(32).toString('base64')}`,
      HMAC_PEPPER: `pepper-${randomBytes(24).toString('hex')}`,
      ADMIN_PASSWORD: `admin-${randomBytes(12).toString('hex')}`,
      LDAP_BIND_PASSWORD: `ldap-${randomBytes(12).toString('hex')}`,
      FINERACT_PASSWORD: `fineract-${randomBytes(12).toString('hex')}`,
      METRICS_TOKEN: `metrics-${randomBytes(16).toString('hex')}`,
    };
    const config = parseConfig({
      ...secrets,
      LOCAL_PORT: '8123',
      CORS_ORIGINS: 'https://a.example,https://b.example',
    });
    const described = describeConfig(config);
    assert.deepEqual(Object.keys(described).sort(), Object.keys(variables).sort());
    assert.deepEqual(Object.keys(secrets).sort(), [...secretVariableNames].sort());
    for (const name of secretVariableNames) assert.equal(described[name], '(set, hidden)', name);
    const printed = JSON.stringify(described);
    for (const value of Object.values(secrets)) {
      assert.ok(!printed.includes(value), 'a secret value was printed');
      for (const part of value.split(/[:,-]/).filter((piece) => piece.length >= 8))
        assert.ok(!printed.includes(part), 'part of a secret value was printed');
    }
    assert.equal(described.LOCAL_PORT, '8123');
    assert.equal(described.CORS_ORIGINS, 'https://a.example,https://b.example');
    assert.equal(described.DATABASE_URL, '(unset)');
    assert.equal(described.PRODUCTION, 'false');
  });

  test('the default secrets are hidden too', () => {
    const described = describeConfig(parseConfig({}));
    assert.equal(described.MASTER_KEY, '(set, hidden)');
    assert.equal(described.HMAC_PEPPER, '(set, hidden)');
    assert.ok(!JSON.stringify(described).includes(DEVELOPMENT_SECRETS.HMAC_PEPPER));
    assert.equal(described.ADMIN_PASSWORD, '(unset)');
  });
});

describe('.env.example', () => {
  test('documents every variable as NAME= or # NAME= at a line start', () => {
    const text = readFileSync(join(import.meta.dirname, '..', '.env.example'), 'utf8');
    const documented = new Set(
      text
        .split(/\r?\n/)
        .map((line) => /^(?:# ?)?([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
        .filter((name): name is string => name !== undefined),
    );
    // The platform's variables and each module's own (its `config`).
    const known = new Set([
      ...Object.keys(variables),
      ...orderedModules().flatMap((module) => Object.keys(module.config ?? {})),
    ]);
    const missing = [...known].filter((name) => !documented.has(name));
    assert.deepEqual(missing, [], `.env.example lacks ${missing.join(', ')}`);
    const unknown = [...documented].filter((name) => !known.has(name));
    assert.deepEqual(unknown, [], `.env.example documents unknown variables ${unknown.join(', ')}`);
  });
});
