/**
 * AML rules as data over HTTP: the seeded default ruleset, creating a rule, adding versions (the old one superseded,
 * same code), mode changes as versions, scenario params, the 422s of a bad definition (nothing stored), and
 * tipping-off: customers and staff without aml:* get 403 on every rule and held-payment route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { staffToken } from '../../../test/helpers/loans.ts';
import { createCustomer, type TestCustomer } from '../../../test/helpers/money.ts';
import { DEFAULT_REALTIME_RULES } from './aml.rules.seed.ts';

const velocity = {
  conditions: [
    { field: 'channel', in: ['ussd'] },
    { field: 'aggregate', subject: 'wallet', measure: 'count', window: '24h', op: 'gte', value: 5 },
  ],
};

describe('AML rules', () => {
  let t: TestContext;
  let officer: string;
  let operations: string;
  let customer: TestCustomer;

  before(async () => {
    t = await startTestApp();
    officer = await staffToken(t, 'aml-officer', ['compliance_officer']);
    operations = await staffToken(t, 'ops-user', ['operations']);
    customer = await createCustomer(t, 'Carol', '+254722000411');
  });
  after(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(token), ...(payload === undefined ? {} : { payload }) });

  test('the default realtime ruleset is seeded, active, version 1', async () => {
    const response = await call('GET', '/api/v1/aml/rules?kind=realtime', officer);
    assert.equal(response.statusCode, 200, response.body);
    const codes = response.json().items.map((rule: { code: string }) => rule.code);
    for (const rule of DEFAULT_REALTIME_RULES) assert.ok(codes.includes(rule.code), rule.code);
    for (const rule of response.json().items) {
      assert.equal(rule.version, 1);
      assert.equal(rule.mode, 'active');
      assert.equal(rule.superseded_at, null);
    }
  });

  test('create, then a new version supersedes the old one under the same code', async () => {
    const created = await call('POST', '/api/v1/aml/rules', officer, {
      code: 'rt_ussd_wallet_velocity',
      kind: 'realtime',
      name: 'USSD wallet velocity',
      mode: 'active',
      action: 'alert',
      priority: 'low',
      definition: velocity,
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().version, 1);
    assert.deepEqual(created.json().definition, velocity);

    const again = await call('POST', '/api/v1/aml/rules', officer, {
      ...created.json(),
      id: undefined,
      version: undefined,
      created_by: undefined,
      created_at: undefined,
      superseded_at: undefined,
    });
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().error_code, 'AML_RULE_EXISTS');

    const stricter = structuredClone(velocity);
    stricter.conditions[1] = { ...stricter.conditions[1]!, value: 3 } as (typeof stricter.conditions)[1];
    const versioned = await call('PATCH', '/api/v1/aml/rules/rt_ussd_wallet_velocity', officer, {
      definition: stricter,
      priority: 'medium',
    });
    assert.equal(versioned.statusCode, 200, versioned.body);
    assert.equal(versioned.json().version, 2);
    assert.equal(versioned.json().priority, 'medium');
    assert.equal(versioned.json().name, 'USSD wallet velocity', 'fields not given are carried over');

    const moded = await call('POST', '/api/v1/aml/rules/rt_ussd_wallet_velocity/mode', officer, {
      mode: 'test',
    });
    assert.equal(moded.statusCode, 200, moded.body);
    assert.equal(moded.json().version, 3);
    assert.equal(moded.json().mode, 'test');
    assert.deepEqual(moded.json().definition, stricter);

    const read = await call('GET', '/api/v1/aml/rules/rt_ussd_wallet_velocity', officer);
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json().version, 3);
    assert.deepEqual(
      read.json().versions.map((version: { version: number }) => version.version),
      [3, 2, 1],
    );
    const [v3, v2, v1] = read.json().versions;
    assert.equal(v3.superseded_at, null);
    assert.ok(v2.superseded_at && v1.superseded_at, 'older versions are superseded');
    assert.ok(v1.superseded_at <= v2.superseded_at);
    const listed = await call('GET', '/api/v1/aml/rules?mode=test', officer);
    assert.deepEqual(
      listed.json().items.map((rule: { code: string; version: number }) => [rule.code, rule.version]),
      [['rt_ussd_wallet_velocity', 3]],
      'the list shows current versions only',
    );
  });

  test('a bad definition is a 422 and nothing is stored', async () => {
    const bad = [
      // An unknown field.
      { conditions: [{ field: 'colour', in: ['red'] }] },
      // A sum needs per-currency values, not a number.
      {
        conditions: [
          { field: 'aggregate', subject: 'customer', measure: 'sum', window: '1h', op: 'gt', value: 5 },
        ],
      },
      // An unknown window.
      {
        conditions: [
          { field: 'aggregate', subject: 'customer', measure: 'count', window: '2h', op: 'gt', value: 5 },
        ],
      },
      // No conditions.
      { conditions: [] },
      // A scenario's params for a realtime rule.
      { params: { threshold: 3 } },
      // A fractional amount.
      { conditions: [{ field: 'amount', op: 'gte', values: { KES: '12.5' } }] },
    ];
    for (const definition of bad) {
      const response = await call('POST', '/api/v1/aml/rules', officer, {
        code: 'rt_bad_rule',
        kind: 'realtime',
        name: 'Bad',
        mode: 'active',
        action: 'block',
        priority: 'high',
        definition,
      });
      assert.equal(response.statusCode, 422, `${JSON.stringify(definition)}: ${response.body}`);
      assert.ok(['AML_RULE_INVALID', 'VALIDATION_ERROR'].includes(response.json().error_code), response.body);
    }
    const missing = await call('GET', '/api/v1/aml/rules/rt_bad_rule', officer);
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error_code, 'AML_RULE_NOT_FOUND');

    // A version with a bad definition leaves the current version in place.
    const versioned = await call('PATCH', '/api/v1/aml/rules/rt_large_single_payment', officer, {
      definition: { params: { x: 1 } },
    });
    assert.equal(versioned.statusCode, 422, versioned.body);
    assert.equal(versioned.json().error_code, 'AML_RULE_INVALID');
    const current = await call('GET', '/api/v1/aml/rules/rt_large_single_payment', officer);
    assert.equal(current.json().version, 1);
    const unknown = await call('PATCH', '/api/v1/aml/rules/rt_no_such_rule', officer, { mode: 'disabled' });
    assert.equal(unknown.statusCode, 404);
  });

  test('scenario rules: staff change their params (a version) and mode', async () => {
    const created = await call('POST', '/api/v1/aml/rules', officer, {
      code: 'sc_test_structuring',
      kind: 'scenario',
      name: 'Structuring (test)',
      mode: 'active',
      action: 'alert',
      priority: 'medium',
      definition: { params: { window_hours: 24, min_count: 3, band: 'below_ctr' } },
    });
    assert.equal(created.statusCode, 201, created.body);
    const changed = await call('PATCH', '/api/v1/aml/rules/sc_test_structuring', officer, {
      definition: { params: { window_hours: 48, min_count: 4, band: 'below_ctr' } },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(changed.json().version, 2);
    assert.deepEqual(changed.json().definition, {
      params: { window_hours: 48, min_count: 4, band: 'below_ctr' },
    });
    const realtimeShape = await call('PATCH', '/api/v1/aml/rules/sc_test_structuring', officer, {
      definition: velocity,
    });
    assert.equal(realtimeShape.statusCode, 422, 'a scenario takes params, not conditions');
    const disabled = await call('POST', '/api/v1/aml/rules/sc_test_structuring/mode', officer, {
      mode: 'disabled',
    });
    assert.equal(disabled.json().mode, 'disabled');
  });

  test('tipping-off: customers and staff without aml:* are refused on every route', async () => {
    const id = '01890000-0000-7000-8000-000000000000';
    const routes: ['GET' | 'POST' | 'PATCH', string, object?][] = [
      ['GET', '/api/v1/aml/rules'],
      ['GET', '/api/v1/aml/rules/rt_large_single_payment'],
      ['POST', '/api/v1/aml/rules', { code: 'rt_x_rule', kind: 'realtime' }],
      ['PATCH', '/api/v1/aml/rules/rt_large_single_payment', { mode: 'disabled' }],
      ['POST', '/api/v1/aml/rules/rt_large_single_payment/mode', { mode: 'disabled' }],
      ['GET', '/api/v1/aml/held'],
      ['GET', `/api/v1/aml/held/${id}`],
      ['POST', `/api/v1/aml/held/${id}/release`],
      ['POST', `/api/v1/aml/held/${id}/reject`, { reason: 'because' }],
    ];
    for (const token of [customer.token, operations]) {
      for (const [method, url, payload] of routes) {
        const response = await call(method, url, token, payload);
        assert.equal(response.statusCode, 403, `${method} ${url}: ${response.body}`);
        assert.equal(response.json().error_code, 'FORBIDDEN');
        assert.doesNotMatch(response.json().message, /rt_|rule|alert|case|aml/i, 'the refusal names no rule');
      }
    }
    const current = await call('GET', '/api/v1/aml/rules/rt_large_single_payment', officer);
    assert.equal(current.json().mode, 'active', 'nothing changed');
  });
});
