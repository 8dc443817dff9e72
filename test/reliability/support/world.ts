/**
 * The shared setup of the reliability suites: one app on real PostgreSQL + Redis with a fake core-banking system
 * (so bank routes answer instead of 503 CBS_NOT_CONFIGURED), the principals (anonymous, customer A the owner,
 * customer B the other customer, one staff user per role of seed/permissions.json) and A's objects, one of each
 * kind a customer-reachable route takes (wallet, transaction, KYC application, document, bank account, merchant,
 * QR code, dispute, session, device, push challenge, inbox item, support conversation, loan application, active
 * loan), plus staff-side targets. The agent network: agent X (a store with teller X, a second store and teller, an
 * agent admin; a confirmed float deposit; a cash-out request X's teller made for A; A's withdrawal code at X) and
 * agent Y, whose teller is the operator of another agent.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { customers } from '../../../src/modules/customers/customers.tables.ts';
import { systemContext } from '../../../src/platform/audit.ts';
import { FakeFineract } from '../../fakes/fineract.ts';
import { fundFloat, inside, moneyAgent } from '../../helpers/agents-money.ts';
import { bearer, login, startTestApp, type TestContext } from '../../helpers/app.ts';
import { insertApplication, insertLoanProduct, type LoanCustomer } from '../../helpers/loans.ts';
import { insertActiveLoan } from '../../helpers/loans-cob.ts';
import { createCustomer, deposit, idempotent, openWallet, TEST_PIN } from '../../helpers/money.ts';
import { multipart } from '../../helpers/multipart.ts';

export const STAFF_PASSWORD = 'reliability matrix 2026 ok';
export const BANK_CODE = 'CFBANK';
export const A_BANK_ACCOUNT = '000000001';
/** A tiny but well-formed PDF, accepted by the document inspector. */
export const TINY_PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

export interface Principal {
  /** `anonymous`, `customer A`, `customer B`, `staff:<role>` or `operator:<who>`. */
  name: string;
  kind: 'anonymous' | 'customer' | 'staff' | 'operator';
  /** Staff: the role code; operators: `teller` or `agent_admin`. */
  role?: string;
  /** Operators: their agent. */
  agentId?: string;
  /** Customer id or user id. */
  id?: string;
  token?: string;
  relogin?: () => Promise<string>;
  /** Customers: the phone they sign in with. */
  phone?: string;
}

export interface OwnedObjects {
  customerId: string;
  walletId: string;
  walletNumber: string;
  transactionId: string;
  kycApplicationId: string;
  documentId: string;
  bankAccountId: string;
  merchantId: string;
  qrId: string;
  disputeId: string;
  /** A second session of A (not the one its token belongs to). */
  spareSessionId: string;
  deviceId: string;
  pushChallengeId: string;
  inboxId: string;
  conversationId: string;
  /** A's loan application (referred, waiting for a loan officer). */
  loanApplicationId: string;
  /** A's active (disbursed) loan. */
  loanId: string;
}

/** Agent X's objects (routes of the agent network take them as ids) and agent Y, another agent. */
export interface AgentObjects {
  agentId: string;
  agentNumber: string;
  /** Teller X's store. */
  storeId: string;
  /** X's second store and its teller (staff and X's admin act on this teller, never on a principal). */
  otherStoreId: string;
  spareTellerId: string;
  floatDepositId: string;
  /** A cash-out request X's teller made for customer A (A approves or rejects it). */
  cashOutRequestId: string;
  /** Customer A's withdrawal code at agent X. */
  withdrawalCodeId: string;
  /** The seeded default commission plan. */
  planId: string;
  otherAgentId: string;
}

export interface World {
  t: TestContext;
  anonymous: Principal;
  customerA: Principal;
  customerB: Principal;
  staff: Map<string, Principal>;
  /** Agent operators: X's teller and admin, and the teller of another agent (Y). */
  operators: { tellerX: Principal; adminX: Principal; tellerY: Principal };
  agents: AgentObjects;
  a: OwnedObjects;
  b: { customerId: string; walletId: string; walletNumber: string };
  /** Staff-side objects the routes act on, never one of the principals. */
  targets: {
    userId: string;
    roleId: string;
    roleCode: string;
    categoryId: string;
    accessPolicyId: string;
    limitId: string;
    productId: string;
    billerId: string;
    templateId: string;
    notificationId: string;
    /** A loan product (anyone may read it; not A's). */
    loanProductId: string;
  };
  close: () => Promise<void>;
}

let phoneCounter = 0;
/** A fresh Kenyan mobile number, unique in this process. */
export function freshPhone(): string {
  phoneCounter += 1;
  return `+2547${String(process.pid % 1000).padStart(3, '0')}${String(phoneCounter).padStart(5, '0')}`;
}

async function expectStatus(
  response: { statusCode: number; body: string },
  status: number,
  what: string,
): Promise<Record<string, unknown>> {
  assert.equal(response.statusCode, status, `${what}: ${response.body}`);
  return response.body ? (JSON.parse(response.body) as Record<string, unknown>) : {};
}

export async function createStaff(t: TestContext, role: string, username: string): Promise<Principal> {
  const created = await expectStatus(
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email: `${username}@bank.test`,
        full_name: `Reliability ${role}`,
        password: STAFF_PASSWORD,
        roles: [role],
        must_change_password: false,
      },
    }),
    201,
    `create staff ${role}`,
  );
  const relogin = async () => (await login(t.app, username, STAFF_PASSWORD)).access_token;
  return {
    name: `staff:${role}`,
    kind: 'staff',
    role,
    id: created.id as string,
    token: await relogin(),
    relogin,
  };
}

async function customerPrincipal(t: TestContext, name: string, firstName: string): Promise<Principal> {
  const phone = freshPhone();
  const customer = await createCustomer(t, firstName, phone);
  const relogin = async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      payload: { phone, pin: TEST_PIN },
    });
    return (await expectStatus(response, 200, `${name} login`)).access_token as string;
  };
  return { name, kind: 'customer', id: customer.id, token: customer.token, relogin, phone };
}

/** The headers a principal sends (none for anonymous). */
export function authHeaders(principal: Principal): Record<string, string> {
  return principal.token ? bearer(principal.token) : {};
}

/**
 * Makes sure a principal's token still works (an operation may have logged it out or revoked its session) and
 * signs it in again when it does not.
 */
export async function ensureSignedIn(t: TestContext, principal: Principal): Promise<void> {
  if (!principal.token || !principal.relogin) return;
  const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(principal.token) });
  if (me.statusCode === 200) return;
  principal.token = await principal.relogin();
}

export interface WorldOptions {
  /** Environment overrides for the app. */
  config?: Record<string, string>;
  /** Staff users to create, one per role (`admin` is always there: it approves the fixture merchant). */
  roles?: string[];
}

export async function buildWorld(options: WorldOptions = {}): Promise<World> {
  const fake = new FakeFineract();
  fake.addAccount({
    id: 1,
    accountNo: A_BANK_ACCOUNT,
    clientId: 101,
    clientName: 'Alice Owner',
    currency: 'KES',
    decimalPlaces: 2,
    balance: '500000.00',
    status: 'active',
  });
  const server = await fake.start();
  let t: TestContext;
  try {
    t = await startTestApp(
      {
        FINERACT_BASE_URL: server.baseUrl,
        FINERACT_USERNAME: 'mifos',
        FINERACT_PASSWORD: 'password',
        FINERACT_TIMEOUT_MS: '10000',
        // One staff user per role over the API, admin and super_admin included: no second staff member to approve.
        PRIVILEGED_ROLE_FOUR_EYES: 'false',
        ...options.config,
      },
      { startJobs: true },
    );
  } catch (error) {
    await server.close();
    throw error;
  }
  const close = async () => {
    await t.close();
    await server.close();
  };
  try {
    return await populate(t, close, options);
  } catch (error) {
    // A half-built world must not keep the process alive (open pools, the fake bank).
    await close().catch(() => {});
    throw error;
  }
}

async function populate(t: TestContext, close: () => Promise<void>, options: WorldOptions): Promise<World> {
  const admin = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: object, headers = {}) =>
    t.app.inject({ method, url, headers: { ...bearer(t.adminToken), ...headers }, payload });

  const anonymous: Principal = { name: 'anonymous', kind: 'anonymous' };
  const customerA = await customerPrincipal(t, 'customer A', 'Alice');
  const customerB = await customerPrincipal(t, 'customer B', 'Bob');
  // Bank transfers and the premium upgrade path are `standard`-tier features.
  await t.deps.database.db
    .update(customers)
    .set({ kycTier: 'standard' })
    .where(eq(customers.id, customerA.id!));

  const staff = new Map<string, Principal>();
  const suffix = randomUUID().slice(0, 8);
  for (const role of new Set([...(options.roles ?? []), 'admin'])) {
    staff.set(role, await createStaff(t, role, `rel_${role}_${suffix}`));
  }
  const checker = staff.get('admin')!;

  const walletA = await openWallet(t, customerA.id!);
  const walletB = await openWallet(t, customerB.id!);
  await openWallet(t, customerA.id!, 'USD');
  await deposit(t, walletA.id, 5_000_000);
  await deposit(t, walletB.id, 1_000_000);
  // A pays a third customer, so B is no party to A's transaction (a payee may read a redacted view of it).
  const payee = await createCustomer(t, 'Carol', freshPhone());
  const walletC = await openWallet(t, payee.id);
  const transfer = await expectStatus(
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(customerA.token!),
      payload: { to_wallet_number: walletC.wallet_number, amount: 10_000, currency: 'KES', pin: TEST_PIN },
    }),
    201,
    'A transfers to C',
  );
  const asA = (method: 'GET' | 'POST', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(customerA.token!), payload });

  const kyc = await expectStatus(
    await asA('POST', '/api/v1/customer/kyc/initiate', { customer_id: customerA.id, target_tier: 'premium' }),
    200,
    'A starts a KYC upgrade',
  );
  const upload = multipart({ customer_id: customerA.id!, document_type: 'national_id' }, TINY_PDF, 'id.pdf');
  const document = await expectStatus(
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/document/document/upload',
      headers: { ...bearer(customerA.token!), ...upload.headers },
      payload: upload.payload,
    }),
    201,
    'A uploads a document',
  );
  const bank = await expectStatus(
    await asA('POST', '/api/v1/wallet/bank-account/link', {
      bank_code: BANK_CODE,
      account_number: A_BANK_ACCOUNT,
      account_name: 'Alice Owner',
      currency: 'KES',
    }),
    201,
    'A links a bank account',
  );
  // Merchant registration is always maker-checker: the seeded administrator files, another admin approves.
  const filed = await admin('POST', '/api/v1/merchant/merchant/add', {
    name: 'Alice Shop',
    mcc: '5411',
    city: 'Nairobi',
    country: 'KE',
    currency: 'KES',
    fee_bps: 100,
    owner_customer_id: customerA.id,
  });
  let merchantId: string;
  if (filed.statusCode === 202) {
    const approved = await expectStatus(
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/policy/approval/approve',
        headers: bearer(checker.token!),
        payload: { request_id: filed.json().id },
      }),
      200,
      'approve merchant',
    );
    merchantId = (approved.result as { id: string }).id ?? (approved.entity_id as string);
  } else {
    merchantId = (await expectStatus(filed, 201, 'register merchant')).id as string;
  }
  const qr = await expectStatus(
    await asA('POST', '/api/v1/merchant/qr/static', { merchant_id: merchantId }),
    201,
    'A makes a static QR code',
  );
  const dispute = await expectStatus(
    await asA('POST', '/api/v1/transaction/dispute/add', {
      transaction_id: transfer.id,
      reason: 'other',
      description: 'reliability fixture',
    }),
    201,
    'A disputes the transfer',
  );
  // A second session of A, so a route revoking "A's session" leaves A's token alone.
  const spare = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/customer/login',
    payload: { phone: customerA.phone, pin: TEST_PIN },
  });
  await expectStatus(spare, 200, 'A signs in a second time');
  const sessions = await expectStatus(await asA('GET', '/api/v1/auth/sessions'), 200, 'A lists sessions');
  const spareSession = (sessions.items as { id: string; current: boolean }[]).find((item) => !item.current);
  assert.ok(spareSession, 'A has a second session');
  const { publicKey } = generateKeyPairSync('ed25519');
  const device = await expectStatus(
    await asA('POST', '/api/v1/auth/device/register', {
      device_id: 'reliability-device-a',
      name: 'A phone',
      platform: 'android',
      public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      push_token: 'push-token-a',
    }),
    201,
    'A registers a device',
  );
  const challenge = await expectStatus(
    await asA('POST', '/api/v1/auth/push/challenge', { purpose: 'transaction' }),
    201,
    'A asks for a push approval',
  );
  const sent = await expectStatus(
    await admin('POST', '/api/v1/notify/notification/send', {
      recipient_type: 'customer',
      recipient_id: customerA.id,
      template: 'auth.new_device',
      channels: ['in_app'],
      variables: { name: 'Alice', device: 'phone', time: 'now' },
    }),
    202,
    'send A an in-app message',
  );
  const notificationId = (sent.notifications as { id: string }[])[0]!.id;
  // No worker runs here: deliver the queued message in-process, as the delivery job would.
  await t.application.notifications.delivery.deliver(notificationId);
  const inbox = await expectStatus(await asA('GET', '/api/v1/notify/inbox'), 200, 'A reads the inbox');
  const inboxId = (inbox.items as { id: string }[])[0]?.id;
  assert.ok(inboxId, `A has an inbox item: ${JSON.stringify(inbox)}`);
  const conversation = await expectStatus(
    await asA('POST', '/api/v1/support/chat/conversation/add', { subject: 'Help', text: 'Hello' }),
    201,
    'A opens a support conversation',
  );

  // A's loans: a product, an application waiting for a loan officer and a disbursed loan (factories: the loan
  // routes' own tests cover getting there over HTTP).
  const loanProduct = await insertLoanProduct(t, {}, { code: `rel-${suffix}` });
  const loanApplicationId = await insertApplication(t, {
    customerId: customerA.id!,
    product: loanProduct,
    amountMinor: 200_000,
    term: 3,
    status: 'referred',
  });
  const loanOwner = { id: customerA.id!, wallet: { id: walletA.id } } as LoanCustomer;
  const activeLoan = await insertActiveLoan(t, {
    customer: loanOwner,
    product: loanProduct,
    principal: 300_000n,
    term: 3,
    disbursedOn: new Date().toISOString().slice(0, 10),
  });

  // Staff-side targets.
  const targetRoleCode = `rel_target_${suffix}`;
  const targetRole = await expectStatus(
    await admin('POST', '/api/v1/user/role/add', {
      code: targetRoleCode,
      name: 'Reliability target',
      permissions: ['customer:read'],
    }),
    201,
    'create target role',
  );
  const targetUser = await expectStatus(
    await admin('POST', '/api/v1/auth/register', {
      username: `rel_target_${suffix}`,
      email: `rel_target_${suffix}@bank.test`,
      full_name: 'Reliability target',
      password: STAFF_PASSWORD,
      roles: [],
    }),
    201,
    'create target user',
  );
  const category = await expectStatus(
    await admin('POST', '/api/v1/core/category/add', {
      entity_type: 'reliability',
      code: `target_${suffix.replace(/[^a-z0-9]/g, '')}`,
      name: 'Target',
    }),
    201,
    'create category',
  );
  const policy = await expectStatus(
    await admin('POST', '/api/v1/policy/access/add', { name: 'reliability target', active: false }),
    201,
    'create access policy',
  );
  const limit = await expectStatus(
    await admin('POST', '/api/v1/policy/transaction/add', {
      kyc_tier: 'premium',
      channel: 'ussd',
      transaction_type: 'reliability_target',
      period: 'monthly',
      currency: 'USD',
      max_amount_minor: 1_000_000_000,
      active: false,
    }),
    201,
    'create transaction limit',
  );
  await expectStatus(
    await admin('POST', '/api/v1/wallet/fx/rate/set', {
      base_currency: 'USD',
      quote_currency: 'KES',
      rate: '129.5',
      spread_bps: 100,
    }),
    200,
    'set an FX rate',
  );
  const products = await expectStatus(await admin('GET', '/api/v1/wallet/product'), 200, 'list products');
  const billers = await expectStatus(await admin('GET', '/api/v1/wallet/biller'), 200, 'list billers');
  const template = await expectStatus(
    await admin('POST', '/api/v1/notify/template/add', {
      code: `reliability.target${suffix.replace(/[^a-z0-9]/g, '')}`,
      channel: 'in_app',
      language: 'en',
      category: 'transactional',
      subject: 'Target',
      body: 'Hello {{name}}',
      html_body: null,
      variables: ['name'],
      secret_variables: [],
    }),
    201,
    'create template',
  );

  // The agent network: X (owned by C) and Y, made by the fixtures of the agents' money tests.
  const operatorPrincipal = async (
    name: string,
    operatorId: string,
    role: 'teller' | 'agent_admin',
    agentId: string,
  ): Promise<Principal> => {
    const relogin = async () =>
      (
        await t.application.identity.sessions.openSession(
          t.deps.database.db,
          { type: 'agent_operator', id: operatorId },
          systemContext(),
          'agent',
        )
      ).access_token;
    return { name, kind: 'operator', role, agentId, id: operatorId, token: await relogin(), relogin };
  };
  const agentX = await moneyAgent(t, payee.id);
  const agentY = await moneyAgent(t, payee.id);
  const floatDeposit = (await fundFloat(t, { store_id: agentX.stores[0].id }, 1_000_000)) as {
    deposit: { id: string };
  };
  const tellerX = await operatorPrincipal(
    'operator:teller X',
    agentX.stores[0].tellerId,
    'teller',
    agentX.id,
  );
  const adminX = await operatorPrincipal('operator:admin X', agentX.adminId, 'agent_admin', agentX.id);
  const tellerY = await operatorPrincipal(
    'operator:teller Y',
    agentY.stores[0].tellerId,
    'teller',
    agentY.id,
  );
  const cashOutRequest = await expectStatus(
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/transaction/cash-out',
      headers: idempotent(tellerX.token!),
      payload: { phone: customerA.phone, amount: 1_000, currency: 'KES', location: inside() },
    }),
    202,
    "X's teller asks A to approve a cash-out",
  );
  const withdrawalCode = await expectStatus(
    await asA('POST', '/api/v1/agent/withdrawal-code', {
      agent_number: agentX.number,
      amount: 1_000,
      currency: 'KES',
      pin: TEST_PIN,
    }),
    201,
    'A makes a withdrawal code at X',
  );
  const plans = await expectStatus(await admin('GET', '/api/v1/agent/commission/plan'), 200, 'list plans');
  const defaultPlan = (plans.items as { id: string; is_default: boolean }[]).find((plan) => plan.is_default);
  assert.ok(defaultPlan, 'a default commission plan is seeded');

  return {
    t,
    anonymous,
    customerA,
    customerB,
    staff,
    operators: { tellerX, adminX, tellerY },
    agents: {
      agentId: agentX.id,
      agentNumber: agentX.number,
      storeId: agentX.stores[0].id,
      otherStoreId: agentX.stores[1].id,
      spareTellerId: agentX.stores[1].tellerId,
      floatDepositId: floatDeposit.deposit.id,
      cashOutRequestId: cashOutRequest.id as string,
      withdrawalCodeId: withdrawalCode.id as string,
      planId: defaultPlan.id,
      otherAgentId: agentY.id,
    },
    a: {
      customerId: customerA.id!,
      walletId: walletA.id,
      walletNumber: walletA.wallet_number,
      transactionId: transfer.id as string,
      kycApplicationId: (kyc.application as { id: string }).id,
      documentId: document.id as string,
      bankAccountId: bank.id as string,
      merchantId,
      qrId: qr.id as string,
      disputeId: dispute.id as string,
      spareSessionId: spareSession.id,
      deviceId: device.device_id as string,
      pushChallengeId: challenge.challenge_id as string,
      inboxId,
      conversationId: conversation.id as string,
      loanApplicationId,
      loanId: activeLoan.id,
    },
    b: { customerId: customerB.id!, walletId: walletB.id, walletNumber: walletB.wallet_number },
    targets: {
      userId: targetUser.id as string,
      roleId: targetRole.id as string,
      roleCode: targetRoleCode,
      categoryId: category.id as string,
      accessPolicyId: policy.id as string,
      limitId: limit.id as string,
      productId: (products.items as { id: string }[])[0]!.id,
      billerId: (billers.items as { id: string }[])[0]!.id,
      templateId: template.id as string,
      notificationId,
      loanProductId: loanProduct.id,
    },
    close,
  };
}
