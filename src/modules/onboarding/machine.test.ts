/** The registration state machine, pure: the table's shape and `nextState` for every state × step pair. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CUSTOMER_STEPS,
  ENDED_STATES,
  EXPIRABLE_STATES,
  expectedSteps,
  nextState,
  type RegistrationState,
  STATES,
  STEPS,
  SYSTEM_STEPS,
  TRANSITIONS,
  UNFINISHED_STATES,
  USSD_STEPS,
} from './onboarding.machine.ts';

describe('onboarding state machine', () => {
  test('every state has a row, every target is a state, and steps are customer xor system steps', () => {
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...STATES].sort());
    for (const [state, row] of Object.entries(TRANSITIONS))
      for (const [step, target] of Object.entries(row)) {
        assert.ok((STEPS as readonly string[]).includes(step), `${state}: unknown step ${step}`);
        assert.ok(
          (STATES as readonly string[]).includes(target),
          `${state} × ${step}: unknown target ${target}`,
        );
      }
    for (const step of CUSTOMER_STEPS) assert.ok(!(SYSTEM_STEPS as readonly string[]).includes(step));
    for (const step of USSD_STEPS) {
      assert.ok(!(CUSTOMER_STEPS as readonly string[]).includes(step), step);
      assert.ok(!(SYSTEM_STEPS as readonly string[]).includes(step), step);
    }
  });

  test('the USSD steps are never named to the app, and walk to completed or review without a phone OTP', () => {
    for (const state of STATES)
      for (const step of USSD_STEPS) assert.ok(!expectedSteps(state).includes(step), `${state}: ${step}`);
    const walk = (first: (typeof STEPS)[number], last: (typeof STEPS)[number]) =>
      [
        first,
        'phone_network',
        'email_skip',
        'terms_accept',
        'pin_set',
        'complete',
        last,
      ].reduce<RegistrationState>((state, step) => {
        const next = nextState(state, step as (typeof STEPS)[number]);
        assert.ok(next, `${state} × ${step} is refused`);
        return next;
      }, 'phone_checked');
    assert.equal(walk('identity_cbs', 'complete_approved'), 'completed');
    assert.equal(walk('identity_declared', 'complete_review'), 'in_review');
    assert.equal(walk('identity_declared', 'complete_approved'), 'completed');
    // A declared identity proves the phone by the network (USSD) or by the code the customer reads to an agent's
    // operator (the phone OTP steps); no app registration reaches it (identity_declared is a system step).
    assert.equal(nextState('identity_declared', 'phone_otp_send'), 'identity_declared');
    assert.equal(nextState('identity_declared', 'phone_otp_verify'), 'phone_verified');
    assert.equal(nextState('identity_expired', 'identity_declared'), null);
    assert.deepEqual(expectedSteps('identity_declared'), ['phone_otp_send', 'phone_otp_verify']);
  });

  test('nextState answers the table for every pair and null for every pair it lacks', () => {
    let allowed = 0;
    for (const state of STATES)
      for (const step of STEPS) {
        const target = TRANSITIONS[state][step];
        assert.equal(nextState(state, step), target ?? null, `${state} × ${step}`);
        if (target) allowed += 1;
      }
    assert.ok(allowed > 30);
  });

  test('the happy paths walk from the phone check to completed', () => {
    const walk = (steps: (typeof STEPS)[number][]) =>
      steps.reduce<RegistrationState>((state, step) => {
        const next = nextState(state, step);
        assert.ok(next, `${state} × ${step} is refused`);
        return next;
      }, 'phone_checked');
    const contacts = ['phone_otp_send', 'phone_otp_verify', 'email_otp_send', 'email_otp_verify'] as const;
    const rest = ['terms_accept', 'pin_set', 'complete'] as const;
    assert.equal(walk(['identity_cbs', ...contacts, ...rest, 'complete_approved']), 'completed');
    assert.equal(
      walk(['identity_didit', 'didit_in_review', 'didit_approved', ...contacts, ...rest, 'complete_review']),
      'in_review',
    );
    assert.equal(walk(['identity_didit', 'didit_expired', 'identity_didit', 'didit_declined']), 'declined');
    assert.equal(
      walk([
        'identity_cbs',
        'phone_otp_verify',
        'email_skip',
        ...rest,
        'complete_review',
        'review_request_info',
        'details_update',
        'review_approve',
      ]),
      'completed',
    );
  });

  test('every unfinished state can expire, only ended ones are purged, purged is final', () => {
    for (const state of UNFINISHED_STATES) assert.equal(nextState(state, 'expire'), 'expired');
    for (const state of EXPIRABLE_STATES) assert.equal(nextState(state, 'expire'), 'expired');
    for (const state of STATES)
      assert.equal(nextState(state, 'purge'), ENDED_STATES.includes(state) ? 'purged' : null, state);
    assert.deepEqual(expectedSteps('purged'), []);
    assert.deepEqual(expectedSteps('phone_checked'), ['identity_cbs', 'identity_didit']);
    assert.deepEqual(expectedSteps('in_review'), []);
  });
});
