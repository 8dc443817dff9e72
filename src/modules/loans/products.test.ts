/** Loan products through the API: versioned terms, the rules on terms, who may read and change them. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, type TestCustomer } from '../../../test/helpers/money.ts';
import { queryAuditLog } from '../../platform/audit.ts';
import { loansModule } from './index.ts';

const PASSWORD = 'amber lantern river 7';

function productTerms(overrides: Record<string, unknown> = {}) {
  return {
    min_amount_minor: 100_000,
    max_amount_minor: 10_000_000,
    min_term: 1,
    max_term: 12,
    frequency: 'monthly',
    interest_method: 'declining_equal_instalments',
    interest_calculation: 'per_period',
    annual_rate: '12',
    upfront_fee: { mode: 'deduct', percent: '1.5' },
    late_penalty: { type: 'fixed', value: '50000', after_days: 3 },
    eligibility: { min_kyc_tier: 'basic', min_wallet_tenure_days: 0, max_active_loans: 2 },
    fraud_threshold: 60,
    auto_approve_limit_minor: 1_000_000,
    maker_checker_above_minor: 5_000_000,
    ...overrides,
  };
}

describe('loan products', () => {
  let t: TestContext;
  let officer: string;
  let support: string;
  let customer: TestCustomer;

  async function staff(username: string, roles: string[]): Promise<string> {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email: `${username}@bank.test`,
        full_name: username,
        password: PASSWORD,
        roles,
        must_change_password: false,
      },
    });
    assert.equal(response.statusCode, 201, response.body);
    return (await login(t.app, username, PASSWORD)).access_token;
  }

  before(async () => {
    t = await startTestApp();
    officer = await staff('product_officer', ['loan_officer']);
    support = await staff('product_support', ['support_agent']);
    customer = await createCustomer(t, 'Pia', '+254733100001');
  });
  after(async () => t.close());

  const post = (url: string, token: string, payload: object) =>
    t.app.inject({ method: 'POST', url, headers: bearer(token), payload });
  const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
  const add = (code: string, terms: object = productTerms(), currency = 'KES') =>
    post('/api/v1/loan/product/add', officer, { code, name: `Product ${code}`, currency, terms });

  test('the demo products are seeded, and customers can list them', async () => {
    const listed = await get('/api/v1/loan/product/list?currency=KES', customer.token);
    assert.equal(listed.statusCode, 200, listed.body);
    const codes = listed.json().items.map((item: { code: string }) => item.code);
    assert.ok(codes.includes('salary-advance'));
    assert.ok(codes.includes('sme-working-capital'));
  });

  test('a product is created as version 1 with defaults and an audit entry', async () => {
    const created = await add('boda-loan');
    assert.equal(created.statusCode, 201, created.body);
    const product = created.json();
    assert.equal(product.current_version, 1);
    assert.equal(product.status, 'active');
    assert.equal(product.terms.min_amount_minor, 100_000);
    assert.deepEqual(product.terms.allocation_order, ['penalty', 'fee', 'interest', 'principal']);
    assert.equal(product.terms.prepayment, 'reduce_term');
    assert.equal(product.terms.grace_principal_periods, 0);
    const audit = await queryAuditLog(t.deps.database.db, { entityId: product.id, limit: 5 });
    assert.deepEqual(
      audit.map((row) => row.action),
      ['loan_product.created'],
    );

    const again = await add('boda-loan');
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().error_code, 'LOAN_PRODUCT_EXISTS');
  });

  test('terms that break a rule are a 422 naming each field', async () => {
    const fieldsOf = (body: { details: { errors: { field: string }[] } }) =>
      body.details.errors.map((error) => error.field);
    const bad = await add(
      'bad-terms',
      productTerms({
        min_amount_minor: 500_000,
        max_amount_minor: 400_000,
        min_term: 6,
        max_term: 3,
        annual_rate: '1200',
        grace_principal_periods: 9,
        interest_method: 'flat',
        interest_calculation: 'daily',
        upfront_fee: { mode: 'deduct', fixed_minor: 600_000 },
        late_penalty: { type: 'percent', value: '0', after_days: 1 },
        eligibility: { min_kyc_tier: 'platinum' },
      }),
    );
    assert.equal(bad.statusCode, 422, bad.body);
    assert.equal(bad.json().error_code, 'VALIDATION_ERROR');
    const fields = fieldsOf(bad.json());
    for (const field of [
      'body.terms.min_amount_minor',
      'body.terms.min_term',
      'body.terms.annual_rate',
      'body.terms.grace_principal_periods',
      'body.terms.interest_calculation',
      'body.terms.upfront_fee',
      'body.terms.late_penalty.value',
      'body.terms.eligibility.min_kyc_tier',
    ])
      assert.ok(fields.includes(field), `${field} in ${fields.join(', ')}`);

    // A fixed fee is answered as an int64 beside the percent (the answer's fee is object-or-null, not a union the
    // serializer had to match a bigint against).
    const fixed = await add(
      'fixed-fee',
      productTerms({ upfront_fee: { mode: 'first_instalment', fixed_minor: 25_000, percent: '0.5' } }),
    );
    assert.equal(fixed.statusCode, 201, fixed.body);
    assert.deepEqual(fixed.json().terms.upfront_fee, {
      mode: 'first_instalment',
      fixed_minor: 25_000,
      percent: '0.5',
    });

    const rate = await add('bad-rate', productTerms({ annual_rate: '12.5.1' }));
    assert.equal(rate.statusCode, 422);
    assert.ok(fieldsOf(rate.json()).includes('body.terms.annual_rate'));

    const order = await add(
      'bad-order',
      productTerms({ allocation_order: ['fee', 'fee', 'interest', 'principal'] }),
    );
    assert.equal(order.statusCode, 422);
    assert.ok(fieldsOf(order.json()).some((field) => field.startsWith('body.terms.allocation_order')));

    const short = await add(
      'bad-order-2',
      productTerms({ allocation_order: ['fee', 'interest', 'principal'] }),
    );
    assert.equal(short.statusCode, 422);

    const unknown = await add('bad-currency', productTerms(), 'XYZ');
    assert.equal(unknown.statusCode, 422);
    assert.deepEqual(fieldsOf(unknown.json()), ['body.currency']);
    // A real currency the installation offers no wallets in cannot be lent in either.
    const noWallets = await add('bad-currency-2', productTerms(), 'EUR');
    assert.equal(noWallets.statusCode, 422);
    assert.deepEqual(fieldsOf(noWallets.json()), ['body.currency']);

    const missing = await post('/api/v1/loan/product/add', officer, {
      code: 'no-terms',
      name: 'No terms',
      currency: 'KES',
    });
    assert.equal(missing.statusCode, 422);
    assert.ok(fieldsOf(missing.json()).includes('body.terms'));
  });

  test('a change makes a new version; the old one stays readable; a name change alone makes none', async () => {
    const product = (await add('versioned')).json();
    const changed = await post('/api/v1/loan/product/update', officer, {
      product_id: product.id,
      terms: { annual_rate: '13.75', late_penalty: null },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    const v2 = changed.json();
    assert.equal(v2.current_version, 2);
    assert.equal(v2.terms.annual_rate, '13.75');
    assert.equal(v2.terms.late_penalty, null);
    assert.equal(v2.terms.max_term, 12, 'fields not given keep their value');

    const versions = await get(`/api/v1/loan/product/${product.id}/versions`, officer);
    assert.equal(versions.statusCode, 200, versions.body);
    assert.deepEqual(
      versions
        .json()
        .items.map((item: { version: number; terms: { annual_rate: string } }) => [
          item.version,
          item.terms.annual_rate,
        ]),
      [
        [1, '12'],
        [2, '13.75'],
      ],
    );
    const api = t.application.system.api(loansModule);
    assert.equal((await api.products.version(product.id, 1)).annual_rate, '12');
    assert.equal((await api.products.version(product.id, 2)).annual_rate, '13.75');

    const renamed = await post('/api/v1/loan/product/update', officer, {
      product_id: product.id,
      name: 'Renamed',
    });
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.equal(renamed.json().current_version, 2);
    assert.equal(renamed.json().name, 'Renamed');

    const same = await post('/api/v1/loan/product/update', officer, {
      product_id: product.id,
      terms: { annual_rate: '13.75' },
    });
    assert.equal(same.json().current_version, 2, 'unchanged terms make no version');

    const broken = await post('/api/v1/loan/product/update', officer, {
      product_id: product.id,
      terms: { min_amount_minor: 20_000_000 },
    });
    assert.equal(broken.statusCode, 422, broken.body);
    assert.ok(
      broken
        .json()
        .details.errors.some((error: { field: string }) => error.field === 'body.terms.min_amount_minor'),
    );

    const audit = await queryAuditLog(t.deps.database.db, { entityId: product.id, limit: 10 });
    assert.deepEqual(audit.map((row) => row.action).reverse(), [
      'loan_product.created',
      'loan_product.versioned',
      'loan_product.updated',
      'loan_product.updated',
    ]);
  });

  test('a retired product is hidden from customers and takes no changes', async () => {
    const product = (await add('retiring')).json();
    const shown = await get(`/api/v1/loan/product/${product.id}`, customer.token);
    assert.equal(shown.statusCode, 200);
    // Customers see the terms they apply under, never the risk settings.
    assert.equal(shown.json().terms.annual_rate, '12');
    for (const hidden of ['fraud_threshold', 'auto_approve_limit_minor', 'maker_checker_above_minor'])
      assert.ok(!(hidden in shown.json().terms), hidden);
    assert.equal(product.terms.fraud_threshold, 60);
    const retired = await post('/api/v1/loan/product/retire', officer, {
      product_id: product.id,
      reason: 'Replaced by a new product',
    });
    assert.equal(retired.statusCode, 200, retired.body);
    assert.equal(retired.json().status, 'retired');

    const hidden = await get(`/api/v1/loan/product/${product.id}`, customer.token);
    assert.equal(hidden.statusCode, 404);
    assert.equal(hidden.json().error_code, 'LOAN_PRODUCT_NOT_FOUND');
    const customerList = await get('/api/v1/loan/product/list?status=retired&limit=100', customer.token);
    assert.ok(!customerList.json().items.some((item: { id: string }) => item.id === product.id));
    const staffList = await get('/api/v1/loan/product/list?status=retired', officer);
    assert.ok(staffList.json().items.some((item: { id: string }) => item.id === product.id));
    assert.equal((await get(`/api/v1/loan/product/${product.id}`, officer)).json().status, 'retired');

    const update = await post('/api/v1/loan/product/update', officer, {
      product_id: product.id,
      name: 'Again',
    });
    const retireAgain = await post('/api/v1/loan/product/retire', officer, { product_id: product.id });
    for (const refused of [update, retireAgain]) {
      assert.equal(refused.statusCode, 409, refused.body);
      assert.equal(refused.json().error_code, 'LOAN_PRODUCT_RETIRED');
    }
  });

  test('pages follow the cursor; access needs the permissions', async () => {
    const first = await get('/api/v1/loan/product/list?limit=2', officer);
    assert.equal(first.statusCode, 200);
    assert.equal(first.json().items.length, 2);
    const cursor = first.json().next_cursor;
    assert.ok(cursor);
    const second = await get(`/api/v1/loan/product/list?limit=2&cursor=${cursor}`, officer);
    const firstIds = first.json().items.map((item: { id: string }) => item.id);
    for (const item of second.json().items) assert.ok(!firstIds.includes(item.id));

    assert.equal((await add('x-customer', productTerms())).statusCode, 201);
    const byCustomer = await post('/api/v1/loan/product/add', customer.token, {
      code: 'by-customer',
      name: 'Nope',
      currency: 'KES',
      terms: productTerms(),
    });
    assert.equal(byCustomer.statusCode, 403);
    assert.equal((await get('/api/v1/loan/product/list', support)).statusCode, 403);
    const versionsByCustomer = await get(`/api/v1/loan/product/${firstIds[0]}/versions`, customer.token);
    assert.equal(versionsByCustomer.statusCode, 403);
    const missing = await get('/api/v1/loan/product/00000000-0000-7000-8000-000000000000', officer);
    assert.equal(missing.statusCode, 404);
  });
});
