/**
 * The end-to-end journeys through the typed client only (clients/typescript, generated from openapi/openapi.json),
 * against a listening API: staff onboarding, then customer → KYC → wallet → cash-in → PIN → customer login →
 * transfer → receipt → dispute. Each call's path, parameters, body and answer are typed by the document, so a
 * journey that needs something the document lacks does not compile.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type CodeForgeClient, createCodeForgeClient, formData } from '../../clients/typescript/index.ts';
import { buildApp } from '../../src/app.ts';
import { closeDependencies, openDependencies } from '../../src/platform/dependencies.ts';
import { seedAll, seedFirstAdmin } from '../../src/seed.ts';
import { createTestDatabase, LogCapture, testConfig } from '../helpers/app.ts';
import { accessToken, expectData } from '../helpers/client.ts';

/** A well-formed one-page PDF (the upload inspection parses it), its cross-reference offsets computed. */
function onePagePdf(): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>',
  ];
  let body = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(body.length);
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

const PDF = onePagePdf();
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('IHDR-selfie'),
  Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]),
]);
const PIN = '8351';

/** The answer of a call that must succeed with `status`; on anything else the assertion shows the error body. */
function expectStatus(result: { error?: unknown; response: Response }, status: number) {
  assert.equal(result.response.status, status, JSON.stringify(result.error));
}

/** A token pair out of a login answer, which may instead ask for a second factor. */
const idempotencyKey = () => ({ 'Idempotency-Key': randomUUID() });

describe('journeys through the typed client', () => {
  const cleanup: (() => Promise<void>)[] = [];
  let baseUrl: string;
  let generatedPassword: string;
  const client = (token?: string): CodeForgeClient => createCodeForgeClient({ baseUrl, token });
  const staff: Record<'admin' | 'teller' | 'compliance' | 'support', CodeForgeClient> = {} as never;

  before(async () => {
    const database = await createTestDatabase();
    const deps = await openDependencies(testConfig({ ADMIN_PASSWORD: undefined }, database?.url), {
      migrate: true,
      runsWorker: false,
    });
    cleanup.push(async () => {
      await closeDependencies(deps);
      await database?.drop();
    });
    await seedAll(deps);
    const application = await buildApp(deps, { logStream: new LogCapture() });
    cleanup.unshift(() => application.app.close());
    const first = await seedFirstAdmin(deps, application.identity);
    assert.ok(first.generatedPassword);
    generatedPassword = first.generatedPassword;
    baseUrl = await application.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    for (const step of cleanup) await step();
  });

  async function signIn(username: string, password: string): Promise<CodeForgeClient> {
    const answer = await client().POST('/api/v1/auth/login', { body: { username, password } });
    return client(accessToken(expectData(answer, 200)));
  }

  test('staff onboarding: first admin login, password change, a staff user with a role signs in', async () => {
    const first = await signIn('admin', generatedPassword);
    const me = expectData(await first.GET('/api/v1/auth/me'), 200);
    assert.equal(me.type, 'user');
    assert.equal(me.user?.must_change_password, true);
    const blocked = await first.GET('/api/v1/core/category');
    assert.equal(blocked.response.status, 403);
    assert.equal(blocked.error?.error_code, 'PASSWORD_CHANGE_REQUIRED');

    const adminPassword = 'a brand new operator passphrase for the journey';
    expectStatus(
      await first.POST('/api/v1/auth/password/change', {
        body: { current_password: generatedPassword, new_password: adminPassword },
      }),
      204,
    );
    const stale = await first.GET('/api/v1/auth/me');
    assert.equal(stale.response.status, 401, 'the password change ended the first session');

    staff.admin = await signIn('admin@bank.test', adminPassword);
    const roles = expectData(await staff.admin.GET('/api/v1/user/role'), 200);
    const roleCodes = roles.items.map((role) => role.code);
    for (const code of ['operations', 'compliance_officer', 'support_agent'])
      assert.ok(roleCodes.includes(code));

    const temporary = 'temporary passphrase quartz lagoon 71';
    const teller = expectData(
      await staff.admin.POST('/api/v1/user/user/add', {
        body: {
          username: 'teller',
          email: 'teller@bank.test',
          full_name: 'Wanjikũ Teller',
          password: temporary,
          roles: ['operations'],
          must_change_password: true,
        },
      }),
      201,
    );
    assert.deepEqual(
      [teller.username, teller.roles, teller.must_change_password],
      ['teller', ['operations'], true],
    );

    const tellerFirst = await signIn('teller', temporary);
    const tellerPassword = 'she chose a passphrase of her own';
    expectStatus(
      await tellerFirst.POST('/api/v1/auth/password/change', {
        body: { current_password: temporary, new_password: tellerPassword },
      }),
      204,
    );
    staff.teller = await signIn('teller', tellerPassword);
    const tellerMe = expectData(await staff.teller.GET('/api/v1/auth/me'), 200);
    assert.deepEqual([tellerMe.roles, tellerMe.user?.must_change_password], [['operations'], false]);
    assert.ok(tellerMe.permissions.includes('customer:create'));

    for (const [username, role] of [
      ['compliance', 'compliance_officer'],
      ['support', 'support_agent'],
    ] as const) {
      const password = `velvet glacier harbour ${role.length} signal`;
      const user = expectData(
        await staff.admin.POST('/api/v1/user/user/add', {
          body: {
            username,
            email: `${username}@bank.test`,
            full_name: `${username} officer`,
            password,
            roles: [role],
            must_change_password: false,
          },
        }),
        201,
      );
      assert.deepEqual(user.roles, [role]);
      staff[username] = await signIn(username, password);
    }
  });

  test('customer → KYC → wallet → cash-in → PIN → login → transfer → receipt → dispute', async () => {
    const { teller, compliance, support } = staff;
    assert.ok(teller && compliance && support, 'staff onboarding ran first');

    // The teller registers the customer and the person she will pay.
    const customer = expectData(
      await teller.POST('/api/v1/customer/customer/add', {
        body: {
          first_name: 'Amani',
          last_name: 'Njoroge',
          phone: '+254711000101',
          national_id: '29384756',
          national_id_type: 'national_id',
        },
      }),
      201,
    );
    assert.equal(customer.kyc_tier, 'basic');
    const payee = expectData(
      await teller.POST('/api/v1/customer/customer/add', {
        body: { first_name: 'Baraka', last_name: 'Otieno', phone: '+254711000102' },
      }),
      201,
    );

    // KYC Basic → Standard: the teller files it with the documents, the compliance officer verifies and approves.
    const started = expectData(
      await teller.POST('/api/v1/customer/kyc/initiate', {
        body: { customer_id: customer.id, target_tier: 'standard' },
      }),
      200,
    );
    const applicationId = started.application.id;
    const documents = [];
    for (const [documentType, file] of [
      ['national_id', new Blob([PDF], { type: 'application/pdf' })],
      ['selfie', new Blob([PNG], { type: 'image/png' })],
    ] as const) {
      const uploaded = expectData(
        await teller.POST('/api/v1/document/document/upload', {
          body: { customer_id: customer.id, document_type: documentType, file },
          bodySerializer: formData,
        }),
        201,
      );
      assert.deepEqual([uploaded.customer_id, uploaded.document_type], [customer.id, documentType]);
      documents.push(uploaded);
    }
    const submitted = expectData(
      await teller.POST('/api/v1/customer/kyc/submit', { body: { application_id: applicationId } }),
      200,
    );
    assert.equal(submitted.status, 'submitted');
    for (const document of documents) {
      const verified = expectData(
        await compliance.POST('/api/v1/document/document/review', {
          body: { document_id: document.id, decision: 'verified' },
        }),
        200,
      );
      assert.equal(verified.status, 'verified');
    }
    const phone = expectData(
      await teller.POST('/api/v1/customer/phone/verify', { body: { customer_id: customer.id } }),
      200,
    );
    assert.equal(phone.customer_id, customer.id);
    const approved = expectData(
      await compliance.POST('/api/v1/customer/kyc/review', {
        body: { application_id: applicationId, decision: 'approve' },
      }),
      200,
    );
    assert.ok('status' in approved && approved.status === 'approved', JSON.stringify(approved));

    // Wallets, and cash paid in at the counter.
    const wallet = expectData(
      await teller.POST('/api/v1/wallet/wallet/create', {
        body: { customer_id: customer.id, currency: 'KES' },
      }),
      201,
    );
    const payeeWallet = expectData(
      await teller.POST('/api/v1/wallet/wallet/create', { body: { customer_id: payee.id, currency: 'KES' } }),
      201,
    );
    assert.deepEqual([wallet.currency, wallet.balance], ['KES', 0]);
    const cashIn = expectData(
      await teller.POST('/api/v1/wallet/transaction/deposit', {
        params: { header: idempotencyKey() },
        body: { wallet_id: wallet.id, amount: 500_000, currency: 'KES' },
      }),
      201,
    );
    assert.deepEqual([cashIn.type, cashIn.status, cashIn.amount], ['cash_deposit', 'completed', 500_000]);
    assert.equal(cashIn.destination_wallet_id, wallet.id);

    // The PIN, and the customer's own session.
    expectStatus(
      await teller.POST('/api/v1/customer/credentials/pin', { body: { customer_id: customer.id, pin: PIN } }),
      204,
    );
    const login = expectData(
      await client().POST('/api/v1/auth/customer/login', { body: { phone: '+254711000101', pin: PIN } }),
      200,
    );
    const me = client(accessToken(login));
    const profile = expectData(await me.GET('/api/v1/customer/me'), 200);
    assert.deepEqual([profile.id, profile.kyc_tier], [customer.id, 'standard']);

    // A transfer, answered once however often it is retried with the same key.
    const transferKey = idempotencyKey();
    const transferBody = {
      to_wallet_number: payeeWallet.wallet_number,
      amount: 150_000,
      currency: 'KES',
      narration: 'Rent share',
      pin: PIN,
    };
    const transfer = await me.POST('/api/v1/wallet/transaction/transfer', {
      params: { header: transferKey },
      body: transferBody,
    });
    const sent = expectData(transfer, 201);
    assert.deepEqual(
      [sent.type, sent.status, sent.amount, sent.source_wallet_id, sent.destination_wallet_id],
      ['p2p', 'completed', 150_000, wallet.id, payeeWallet.id],
    );
    assert.equal(transfer.response.headers.get('idempotent-replayed'), null);
    const retried = await me.POST('/api/v1/wallet/transaction/transfer', {
      params: { header: transferKey },
      body: transferBody,
    });
    assert.equal(expectData(retried, 201).id, sent.id);
    assert.equal(retried.response.headers.get('idempotent-replayed'), 'true');
    const noKey = await me.POST('/api/v1/wallet/transaction/transfer', {
      // @ts-expect-error the document declares Idempotency-Key required on money POSTs; the API refuses without it
      params: { header: {} },
      body: transferBody,
    });
    assert.equal(noKey.error?.error_code, 'IDEMPOTENCY_KEY_REQUIRED');

    const balance = expectData(
      await me.GET('/api/v1/wallet/wallet/{id}/balance', { params: { path: { id: wallet.id } } }),
      200,
    );
    assert.equal(balance.balance, 500_000 - sent.total);

    // The receipt, as data and as a PDF.
    const receipt = expectData(
      await me.GET('/api/v1/transaction/transaction/{id}/receipt', { params: { path: { id: sent.id } } }),
      200,
    );
    assert.ok('reference' in receipt, 'JSON unless format=pdf');
    assert.equal(receipt.reference, sent.reference);
    assert.equal(receipt.from?.wallet_number, wallet.wallet_number);
    assert.equal(receipt.to?.wallet_number, payeeWallet.wallet_number);
    assert.deepEqual([receipt.amount, receipt.total, receipt.currency], [150_000, sent.total, 'KES']);
    const pdf = expectData(
      await me.GET('/api/v1/transaction/transaction/{id}/receipt', {
        params: { path: { id: sent.id }, query: { format: 'pdf' } },
        parseAs: 'arrayBuffer',
      }),
      200,
    );
    assert.equal(Buffer.from(pdf).subarray(0, 5).toString(), '%PDF-');

    // The customer disputes it; support takes it up.
    const dispute = expectData(
      await me.POST('/api/v1/transaction/dispute/add', {
        params: { header: idempotencyKey() },
        body: {
          transaction_id: sent.id,
          reason: 'not_received',
          description: 'The landlord says nothing came',
        },
      }),
      201,
    );
    assert.deepEqual(
      [dispute.transaction_id, dispute.transaction_reference, dispute.status, dispute.amount],
      [sent.id, sent.reference, 'open', 150_000],
    );
    const mine = expectData(await me.GET('/api/v1/transaction/dispute'), 200);
    assert.deepEqual(
      mine.items.map((item) => item.id),
      [dispute.id],
    );
    const investigating = expectData(
      await support.POST('/api/v1/transaction/dispute/investigate', {
        body: { dispute_id: dispute.id, note: 'Asked the payee for a statement' },
      }),
      200,
    );
    assert.equal(investigating.status, 'investigating');
  });
});
