/** A module's variables: `{NAME}` references to the platform's values, and refusals in production. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  boolean,
  integer,
  needsSecretInProduction,
  parseVariables,
  refusedInProduction,
  text,
  url,
  variable,
} from './config-spec.ts';

const spec = {
  SMS_USER: needsSecretInProduction(variable('user', undefined, text), 'SMS_KEY'),
  SMS_KEY: variable('key', undefined, text, true),
  SINK: refusedInProduction(variable('sink', 'false', boolean), (on) =>
    on ? 'SINK must not be on in production' : undefined,
  ),
  LINK: variable('link', '{PUBLIC_BASE_URL}/reset?token={token}', text),
  LIMIT: variable('limit', '5', integer(1, 10)),
  CALLBACK: variable('callback', '{PUBLIC_BASE_URL}/cb', url(['http:', 'https:'])),
};

test('a default naming a platform variable follows its value; placeholders in lower case stay', () => {
  const problems: string[] = [];
  const values = parseVariables(spec, {}, problems, {
    references: { PUBLIC_BASE_URL: 'https://bank.example' },
  });
  assert.deepEqual(problems, []);
  assert.equal(values.LINK, 'https://bank.example/reset?token={token}');
  assert.equal(values.CALLBACK, 'https://bank.example/cb');
  assert.equal(values.LIMIT, 5);
  // A referenced value that is missing (it failed to parse) is not reported again as a bad URL.
  const missing: string[] = [];
  parseVariables(spec, {}, missing, { references: { PUBLIC_BASE_URL: undefined } });
  assert.deepEqual(missing, []);
});

test('production refusals run only with production, all reported at once', () => {
  const references = { PUBLIC_BASE_URL: 'https://bank.example' };
  const env = { SMS_USER: 'bank', SINK: 'true', LIMIT: '50' };
  const development: string[] = [];
  parseVariables(spec, env, development, { references });
  assert.deepEqual(development, ['LIMIT must be between 1 and 10, got 50']);
  const production: string[] = [];
  parseVariables(spec, env, production, { production: true, references });
  assert.deepEqual(production.sort(), [
    'LIMIT must be between 1 and 10, got 50',
    'SINK must not be on in production',
    'SMS_KEY is required when SMS_USER is set',
  ]);
  const fine: string[] = [];
  parseVariables(spec, { SMS_USER: 'bank', SMS_KEY: 'k' }, fine, { production: true, references });
  assert.deepEqual(fine, []);
});
