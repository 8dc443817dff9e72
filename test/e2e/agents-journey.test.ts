/**
 * The agent network end to end through the typed client only (clients/typescript) against a listening API: a staff
 * officer creates an agent (owned by an active customer), asks for its activation and a second officer approves it
 * (the maker cannot); a store with a geofence and a teller are added, the teller's device is bound and the teller
 * signs in with PIN + the device's Ed25519 signature of a nonce; a float deposit is asked and confirmed by two staff;
 * the teller cashes in to a customer (a replay with the same Idempotency-Key is the same answer), the customer makes a
 * withdrawal code in the app and the teller cashes it out; commissions accrued and the agent's performance are read.
 * The ledger verifies clean at the end, and every balance is checked against what moved.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type CodeForgeClient, createCodeForgeClient } from '../../clients/typescript/index.ts';
import { verifyLedger } from '../../src/modules/ledger/index.ts';
import { startTestApp, type TestContext } from '../helpers/app.ts';
import { accessToken, expectData } from '../helpers/client.ts';

const PIN = '8351';
const TELLER_PIN = '640273';
const STAFF_PASSWORD = 'copper kettle meadow 42';
const STORE = { lat: -1.2841, lon: 36.8233 };
const key = () => ({ 'Idempotency-Key': randomUUID() });
const here = () => ({ ...STORE, accuracy_m: 8, fix_at: new Date().toISOString() });

describe('the agent network through the typed client', () => {
  let t: TestContext;
  let baseUrl: string;
  const client = (token?: string): CodeForgeClient => createCodeForgeClient({ baseUrl, token });
  let admin: CodeForgeClient;
  let maker: CodeForgeClient;
  let checker: CodeForgeClient;
  let teller: CodeForgeClient;
  const people: Record<
    'owner' | 'wanjiru',
    { id: string; phone: string; walletId: string; me: CodeForgeClient }
  > = {} as never;
  let agent: { id: string; agent_number: string };
  let storeId: string;
  let cashInId: string;

  before(async () => {
    t = await startTestApp();
    baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
    admin = client(t.adminToken);
    expectData(
      await admin.POST('/api/v1/user/role/add', {
        body: {
          code: 'agent_network_officer',
          name: 'Agent network officer',
          permissions: [
            'agent:read',
            'agent:manage',
            'agent:suspend',
            'agent:float',
            'agent:commission',
            'approval:read',
            'approval:decide',
          ],
        },
      }),
      201,
    );
    maker = await staffUser('agents.maker');
    checker = await staffUser('agents.checker');
    people.owner = await customer('Kamau', '+254767100001', 0);
    people.wanjiru = await customer('Wanjiru', '+254767100002', 100_000);
  });
  after(async () => t?.close());

  async function staffUser(username: string): Promise<CodeForgeClient> {
    expectData(
      await admin.POST('/api/v1/user/user/add', {
        body: {
          username,
          email: `${username}@bank.test`,
          full_name: `${username} of the bank`,
          password: STAFF_PASSWORD,
          roles: ['agent_network_officer'],
          must_change_password: false,
        },
      }),
      201,
    );
    const login = await client().POST('/api/v1/auth/login', {
      body: { username, password: STAFF_PASSWORD },
    });
    return client(accessToken(expectData(login, 200)));
  }

  /** An active customer with a KES wallet holding `cash`, a PIN, signed in. */
  async function customer(firstName: string, phone: string, cash: number) {
    const created = expectData(
      await admin.POST('/api/v1/customer/customer/add', {
        body: { first_name: firstName, last_name: 'Njoroge', phone },
      }),
      201,
    );
    expectData(
      await admin.POST('/api/v1/customer/customer/status', {
        body: { customer_id: created.id, status: 'active', reason: 'verified at the branch' },
      }),
      200,
    );
    const wallet = expectData(
      await admin.POST('/api/v1/wallet/wallet/create', {
        body: { customer_id: created.id, currency: 'KES' },
      }),
      201,
    );
    if (cash > 0)
      expectData(
        await admin.POST('/api/v1/wallet/transaction/deposit', {
          params: { header: key() },
          body: { wallet_id: wallet.id, amount: cash, currency: 'KES' },
        }),
        201,
      );
    const pin = await admin.POST('/api/v1/customer/credentials/pin', {
      body: { customer_id: created.id, pin: PIN },
    });
    assert.equal(pin.response.status, 204);
    const login = await client().POST('/api/v1/auth/customer/login', { body: { phone, pin: PIN } });
    return { id: created.id, phone, walletId: wallet.id, me: client(accessToken(expectData(login, 200))) };
  }

  async function balance(walletId: string): Promise<number> {
    const answer = expectData(
      await admin.GET('/api/v1/wallet/wallet/{id}/balance', { params: { path: { id: walletId } } }),
      200,
    );
    return Number(answer.balance);
  }

  async function storeFloat(): Promise<number> {
    const positions = expectData(
      await checker.GET('/api/v1/agent/agent/{id}/float', { params: { path: { id: agent.id } } }),
      200,
    );
    const store = positions.stores.find((entry) => entry.store_id === storeId);
    assert.ok(store, 'the store has a float position');
    return Number(store.balance);
  }

  test('staff create an agent; a second officer approves its activation (maker-checker)', async () => {
    const created = expectData(
      await maker.POST('/api/v1/agent/agent/add', {
        body: {
          kind: 'agent',
          parent_id: null,
          business_name: 'Kamau Duka',
          registration_number: `BN-${randomUUID()}`,
          business_tier: 'standard',
          owner_customer_id: people.owner.id,
          phone: '+254767100009',
          currency: 'KES',
          geofence_policy: 'refuse',
          limits: {},
        },
      }),
      201,
    );
    assert.equal(created.status, 'pending');
    agent = created;
    const requested = expectData(
      await maker.POST('/api/v1/agent/agent/{id}/activate', { params: { path: { id: agent.id } } }),
      202,
    );
    const own = await maker.POST('/api/v1/policy/approval/approve', { body: { request_id: requested.id } });
    assert.equal(own.response.status, 403, 'the maker cannot approve their own request');
    const approved = expectData(
      await checker.POST('/api/v1/policy/approval/approve', { body: { request_id: requested.id } }),
      200,
    );
    assert.equal(approved.status, 'approved');
    const read = expectData(
      await maker.GET('/api/v1/agent/agent/{id}', { params: { path: { id: agent.id } } }),
      200,
    );
    assert.equal(read.status, 'active');
  });

  test('a store and a teller; the teller binds a device and signs in with it', async () => {
    const store = expectData(
      await maker.POST('/api/v1/agent/agent/{id}/store', {
        params: { path: { id: agent.id } },
        body: {
          name: 'Kamau Duka, Moi Avenue',
          address: 'Moi Avenue, Nairobi',
          opening_hours: { '1': [['08:00', '18:00']] },
          lat: STORE.lat,
          lon: STORE.lon,
          geofence: { type: 'circle', center: STORE, radius_m: 150 },
        },
      }),
      201,
    );
    storeId = store.id;
    const phone = '+254767100010';
    const operator = expectData(
      await maker.POST('/api/v1/agent/operator/add', {
        body: {
          agent_id: agent.id,
          store_id: storeId,
          role: 'teller',
          full_name: 'Achieng Teller',
          phone,
          pin: TELLER_PIN,
        },
      }),
      201,
    );
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const deviceId = `phone-${randomUUID()}`;
    expectData(
      await maker.POST('/api/v1/agent/operator/{id}/device', {
        params: { path: { id: operator.id } },
        body: {
          device_id: deviceId,
          public_key: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        },
      }),
      200,
    );
    const signIn = async (signWith: typeof privateKey) => {
      const { nonce } = expectData(
        await client().POST('/api/v1/agent/auth/challenge', { body: { phone, device_id: deviceId } }),
        200,
      );
      const message = Buffer.from(`agent-login:${nonce}:${deviceId}`);
      return client().POST('/api/v1/agent/auth/login', {
        body: {
          phone,
          device_id: deviceId,
          pin: TELLER_PIN,
          nonce,
          signature: sign(null, message, signWith).toString('base64'),
        },
      });
    };
    const stranger = await signIn(generateKeyPairSync('ed25519').privateKey);
    assert.equal(stranger.response.status, 401, 'another key than the bound device’s is refused');
    teller = client(expectData(await signIn(privateKey), 200).access_token);
    const me = expectData(await teller.GET('/api/v1/agent/me'), 200);
    assert.equal(me.operator.id, operator.id);
  });

  test('a float deposit asked by one officer and confirmed by another credits the store', async () => {
    const asked = expectData(
      await maker.POST('/api/v1/agent/float/deposit', {
        body: { store_id: storeId, amount: 5_000_000, currency: 'KES', bank_reference: `FT${Date.now()}` },
      }),
      201,
    );
    const self = await maker.POST('/api/v1/agent/float/deposit/{id}/confirm', {
      params: { path: { id: asked.id } },
    });
    assert.equal(self.response.status, 403, JSON.stringify(self.error));
    const confirmed = expectData(
      await checker.POST('/api/v1/agent/float/deposit/{id}/confirm', { params: { path: { id: asked.id } } }),
      200,
    );
    assert.equal(confirmed.deposit.status, 'confirmed');
    assert.equal(await storeFloat(), 5_000_000);
  });

  test('the teller cashes in to a customer; a replay is the same answer', async () => {
    const lookup = expectData(
      await teller.GET('/api/v1/agent/customer-lookup', {
        params: { query: { phone: people.wanjiru.phone } },
      }),
      200,
    );
    assert.equal(lookup.masked_name, 'W*** N***');
    const before = await balance(people.wanjiru.walletId);
    const idempotency = key();
    const body = { phone: people.wanjiru.phone, amount: 300_000, currency: 'KES', location: here() };
    const cashIn = expectData(
      await teller.POST('/api/v1/agent/transaction/cash-in', { params: { header: idempotency }, body }),
      201,
    );
    assert.equal(cashIn.type, 'cash_in');
    assert.equal(cashIn.status, 'completed');
    cashInId = cashIn.id;
    const replay = expectData(
      await teller.POST('/api/v1/agent/transaction/cash-in', { params: { header: idempotency }, body }),
      201,
    );
    assert.equal(replay.id, cashIn.id);
    assert.equal(await balance(people.wanjiru.walletId), before + 300_000);
    assert.equal(await storeFloat(), 5_000_000 - 300_000);
    const away = await teller.POST('/api/v1/agent/transaction/cash-in', {
      params: { header: key() },
      body: { ...body, location: { ...here(), lat: STORE.lat + 0.05 } },
    });
    assert.equal(away.response.status, 403, JSON.stringify(away.error));
    assert.equal((away.error as { error_code?: string }).error_code, 'GEOFENCE_VIOLATION');
  });

  test('the customer makes a withdrawal code in the app and the teller cashes it out', async () => {
    const made = expectData(
      await people.wanjiru.me.POST('/api/v1/agent/withdrawal-code', {
        body: { agent_number: agent.agent_number, amount: 150_000, currency: 'KES', pin: PIN },
      }),
      201,
    );
    assert.match(made.code, /^[0-9]{6}$/);
    const walletBefore = await balance(people.wanjiru.walletId);
    const floatBefore = await storeFloat();
    const cashOut = expectData(
      await teller.POST('/api/v1/agent/transaction/cash-out', {
        params: { header: key() },
        body: {
          phone: people.wanjiru.phone,
          amount: 150_000,
          currency: 'KES',
          location: here(),
          code: made.code,
        },
      }),
      201,
    );
    assert.ok('type' in cashOut && cashOut.type === 'cash_out', JSON.stringify(cashOut));
    const charges = Number(cashOut.fee) + Number(cashOut.tax);
    assert.equal(await balance(people.wanjiru.walletId), walletBefore - 150_000 - charges);
    assert.equal(await storeFloat(), floatBefore + 150_000);
    const codes = expectData(await people.wanjiru.me.GET('/api/v1/agent/withdrawal-code'), 200);
    assert.equal(codes.items[0]?.status, 'used');
  });

  test('commissions accrued on both movements and the agent’s performance are visible to staff', async () => {
    const totals = expectData(
      await checker.GET('/api/v1/agent/agent/{id}/commission', { params: { path: { id: agent.id } } }),
      200,
    );
    const kes = totals.totals.find((entry) => entry.currency === 'KES');
    assert.ok(kes, JSON.stringify(totals));
    assert.equal(kes.accrued_count, 2);
    assert.ok(BigInt(kes.accrued_minor) > 0n, 'the default plan pays a commission');
    assert.equal(totals.payable_balance_minor, kes.accrued_minor);
    const performance = expectData(
      await checker.GET('/api/v1/agent/agent/{id}/performance', { params: { path: { id: agent.id } } }),
      200,
    );
    const byType = Object.fromEntries(performance.totals.map((entry) => [entry.type, entry]));
    assert.deepEqual(byType.cash_in, { type: 'cash_in', count: 1, value_minor: '300000' });
    assert.deepEqual(byType.cash_out, { type: 'cash_out', count: 1, value_minor: '150000' });
    assert.equal(performance.customers_served, 1);
    assert.equal(performance.commission_total_minor, kes.accrued_minor);
    assert.equal(performance.geofence.violations, 1, 'the cash-in tried away from the store');
    const history = expectData(
      await admin.GET('/api/v1/transaction/transaction/{id}', { params: { path: { id: cashInId } } }),
      200,
    );
    assert.equal(history.channel, 'agent');
    const verification = await verifyLedger(t.deps.database.db);
    assert.ok(verification.ok, JSON.stringify(verification));
  });
});
