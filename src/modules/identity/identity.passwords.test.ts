/** The password strength check's own bounds (no database: the policy is plain input). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPassword, SCORED_LENGTH } from './identity.passwords.ts';

const policy = { minLength: 8, maxLength: 1024, minScore: 3, requireComplexity: false };

describe('password strength check', () => {
  test('only the first SCORED_LENGTH characters are scored, so a long password costs a bounded time', () => {
    // zxcvbn's matching grows much faster than the length (a 128-digit string took seconds): past the scored start a
    // password is judged by its start, which is as guessable as the start allows, whatever follows.
    const start = 'password'.repeat(SCORED_LENGTH / 8);
    const scoredStart = checkPassword(start, policy);
    assert.ok(scoredStart.strength && scoredStart.strength.score < 3, 'a guessable start');
    const whole = checkPassword(`${start}Xq7#vL9!mR2$kW4@zT6^pN8&`, policy);
    assert.deepEqual(whole.strength, scoredStart.strength);
    assert.deepEqual(whole.problems, scoredStart.problems);
    // A strong start is enough, however long and plain the rest.
    const strong = checkPassword(`Xq7#vL9!mR2$kW4@zT6^${'1'.repeat(1000)}`, policy);
    assert.deepEqual(strong.problems, []);
  });
});
