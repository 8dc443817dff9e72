/** What log lines may say about requests and failed queries (pure rules; the e2e canary tests cover the wiring). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { queryFailure, statementName } from './db.ts';
import { loggedUrl, redactPath, serializeError } from './logging.ts';

describe('request URLs in logs', () => {
  test('declared secret path parameters are replaced, however the client encoded them', () => {
    const route = '/api/v1/notify/callback/:provider/:hook';
    assert.equal(
      redactPath('/api/v1/notify/callback/at/s%65cret-value?x=1', route, ['hook']),
      '/api/v1/notify/callback/at/[REDACTED]?x=1',
    );
    assert.equal(
      redactPath('/api/v1/notify/callback/at/value', route, []),
      '/api/v1/notify/callback/at/value',
    );
    // A parameter named like a secret is redacted without a declaration.
    assert.equal(redactPath('/hooks/abc123', '/hooks/:secret'), '/hooks/[REDACTED]');
    assert.equal(redactPath('/admin/config/auth.x', '/admin/config/:key'), '/admin/config/auth.x');
  });

  test('personal and secret query values are replaced; others are kept', () => {
    const url = loggedUrl({
      id: '1',
      method: 'GET',
      url: '/api/v1/customer/customer?q=%2B2547&phone=%2B254700000001&email=a%40b.c&national_id=1234&first_name=Ann&status=active&limit=5',
    });
    assert.equal(
      url,
      '/api/v1/customer/customer?q=%5BREDACTED%5D&phone=%5BREDACTED%5D&email=%5BREDACTED%5D&national_id=%5BREDACTED%5D&first_name=%5BREDACTED%5D&status=active&limit=5',
    );
  });
});

describe('failed queries in logs', () => {
  test('statements are named by verb and table, with a hash of their text', () => {
    assert.match(
      statementName('insert into "customer_phones" ("id", "phone") values ($1, $2)'),
      /^insert customer_phones#[0-9a-f]{8}$/,
    );
    assert.match(statementName('update "wallets" set "balance" = $1 where "id" = $2'), /^update wallets#/);
    assert.match(statementName('delete from "sessions" where "id" = $1'), /^delete sessions#/);
    assert.match(statementName('select "id" from "users" where "email" = $1'), /^select users#/);
    assert.match(statementName('select post_transfer($1, $2)'), /^select post_transfer#/);
    assert.notEqual(statementName('select 1'), statementName('select 2'), 'the hash tells statements apart');
  });

  test('a failed query is logged by statement and SQLSTATE, never its parameters or the database message', () => {
    const driver = Object.assign(
      new Error('value "+254700999888" violates check constraint "phones_check"'),
      {
        severity: 'ERROR',
        code: '23514',
        detail: 'Failing row contains (+254700999888, CANARY-hash).',
        routine: 'ExecConstraints',
        constraint: 'phones_check',
        table: 'customer_phones',
      },
    );
    const query = 'insert into "customer_phones" ("phone", "pin_hash") values ($1, $2)';
    const params = ['+254700999888', 'CANARY-hash'];
    const drizzle = Object.assign(new Error(`Failed query: ${query}\nparams: ${params}`), {
      query,
      params,
      cause: driver,
    });
    const wrapped = new Error('postgres is unavailable', { cause: drizzle });
    for (const error of [drizzle, wrapped, driver]) {
      const logged = JSON.stringify(serializeError(error));
      for (const leak of ['254700999888', 'CANARY-hash', 'Failing row'])
        assert.ok(!logged.includes(leak), logged);
    }
    assert.deepEqual(queryFailure(wrapped), {
      statement: statementName(query),
      code: '23514',
      constraint: 'phones_check',
      table: 'customer_phones',
    });
    assert.equal((serializeError(driver) as { query: { statement: string } }).query.statement, 'unknown');
    // Other errors keep pino's usual shape.
    const plain = serializeError(new Error('plain failure')) as { message: string; stack: string };
    assert.equal(plain.message, 'plain failure');
    assert.match(plain.stack, /plain failure/);
  });
});
