/**
 * toAppError: what the database refuses for contention (a deadlock, a serialization failure after inTransaction's
 * retries, a lock it could not take, a cancelled statement) is "busy, try again" (503 with Retry-After), never a 500.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toAppError } from './errors.ts';

/** As Drizzle wraps a driver error: the statement and its parameters outside, the SQLSTATE in the cause. */
function failedQuery(code: string, message: string): Error {
  const driver = Object.assign(new Error(message), { code, severity: 'ERROR', routine: 'ProcessInterrupts' });
  return Object.assign(new Error(`Failed query: update wallets set balance = $1\nparams: 100`), {
    query: 'update wallets set balance = $1',
    params: [100],
    cause: driver,
  });
}

describe('database contention answers 503 with Retry-After', () => {
  for (const [code, message] of [
    ['57014', 'canceling statement due to statement timeout'],
    ['40P01', 'deadlock detected'],
    ['40001', 'could not serialize access due to concurrent update'],
    ['55P03', 'could not obtain lock on row in relation "wallets"'],
  ] as const) {
    test(`SQLSTATE ${code} (${message})`, () => {
      const error = toAppError(failedQuery(code, message));
      assert.equal(error.statusCode, 503);
      assert.equal(error.errorCode, 'SERVICE_UNAVAILABLE');
      assert.match(error.headers['retry-after'] ?? '', /^[1-9][0-9]*$/);
      assert.doesNotMatch(error.message, /wallets|params|deadlock|serialize/, 'nothing of the query leaks');
    });
  }

  test('other query failures stay a 500 without internals', () => {
    const error = toAppError(failedQuery('42P01', 'relation "nowhere" does not exist'));
    assert.equal(error.statusCode, 500);
    assert.equal(error.errorCode, 'INTERNAL_ERROR');
  });
});
