/**
 * The Fineract client against a local fake speaking Fineract's wire format: inquiry, exact balances, postings
 * as Fineract expects them, and how each kind of failure surfaces.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { FakeFineract, type RecordedRequest } from '../../../test/fakes/fineract.ts';
import { DependencyUnavailableError } from '../../platform/errors.ts';
import {
  decimalToMinor,
  FineractClient,
  type FineractClientOptions,
  FineractError,
  minorToDecimal,
  nameMatches,
} from './fineract.client.ts';

const KES_ACCOUNT = {
  id: 42,
  accountNo: '000000042',
  clientId: 7,
  clientName: 'Wanjiku Achieng Otieno',
  currency: 'KES',
  decimalPlaces: 2,
  balance: '1234.56',
  status: 'active',
} as const;

const UGX_ACCOUNT = {
  id: 43,
  accountNo: '000000043',
  clientId: 8,
  clientName: 'Okello Moses',
  currency: 'UGX',
  decimalPlaces: 0,
  balance: '1500000',
  status: 'active',
} as const;

let fake: FakeFineract;
let baseUrl: string;
let close: () => Promise<void>;

function client(overrides: Partial<FineractClientOptions> = {}): FineractClient {
  return new FineractClient({ baseUrl, username: 'mifos', password: 'password', ...overrides });
}

function lastRequest(): RecordedRequest {
  const request = fake.requests.at(-1);
  assert.ok(request, 'the fake received no request');
  return request;
}

function isFineractError(kind: FineractError['kind'], code?: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof FineractError, `expected a FineractError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    if (code) assert.equal(error.globalisationCode, code);
    return true;
  };
}

function isUnavailable(error: unknown): boolean {
  assert.ok(error instanceof DependencyUnavailableError, `expected unavailability, got ${String(error)}`);
  assert.equal(error.dependency, 'fineract');
  return true;
}

before(async () => {
  fake = new FakeFineract();
  ({ baseUrl, close } = await fake.start());
});

after(() => close());

beforeEach(() => {
  fake.addAccount({ ...KES_ACCOUNT });
  fake.addAccount({ ...UGX_ACCOUNT });
  fake.requests.length = 0;
});

describe('inquireAccount', () => {
  test('answers holder, status and currency for the zero-padded account number', async () => {
    const found = await client().inquireAccount('000000042');
    assert.deepEqual(found, {
      accountNo: '000000042',
      savingsAccountId: 42,
      clientId: 7,
      clientName: 'Wanjiku Achieng Otieno',
      status: 'active',
      currency: 'KES',
      active: true,
    });
    assert.equal(lastRequest().path, '/fineract-provider/api/v1/savingsaccounts/42');
  });

  test('accepts the number without its padding', async () => {
    assert.equal((await client().inquireAccount('42'))?.accountNo, '000000042');
  });

  test('reports a pending account as not active', async () => {
    fake.addAccount({ ...KES_ACCOUNT, id: 44, accountNo: '000000044', status: 'pending' });
    const found = await client().inquireAccount('000000044');
    assert.equal(found?.status, 'pending');
    assert.equal(found?.active, false);
  });

  test('an unknown account is null', async () => {
    assert.equal(await client().inquireAccount('000009999'), null);
  });

  test('a number that is not the account found at that id is null', async () => {
    fake.addAccount({ ...KES_ACCOUNT, id: 45, accountNo: 'SAV-0045' });
    assert.equal(await client().inquireAccount('45'), null);
  });

  test('a non-numeric account number is null without asking Fineract', async () => {
    assert.equal(await client().inquireAccount('ABC-1'), null);
    assert.equal(fake.requests.length, 0);
  });
});

const WANJIKU = {
  id: 7,
  firstname: 'Wanjiku',
  middlename: 'Achieng',
  lastname: 'Otieno',
  dateOfBirth: '1990-04-07',
  mobileNo: '0712345678',
  externalId: '12345678',
} as const;

describe('client lookups', () => {
  test('finds a client by national ID held as the externalId, with name parts, birth date and phone', async () => {
    fake.addClient({ ...WANJIKU });
    const found = await client().findClientsByNationalId('12345678');
    assert.deepEqual(found, [
      {
        clientId: 7,
        accountNo: '000000007',
        externalId: '12345678',
        status: 'active',
        active: true,
        firstName: 'Wanjiku',
        middleName: 'Achieng',
        lastName: 'Otieno',
        displayName: 'Wanjiku Achieng Otieno',
        mobileNo: '0712345678',
        dateOfBirth: '1990-04-07',
      },
    ]);
    assert.equal(fake.requests[0]?.path, '/fineract-provider/api/v1/clients?externalId=12345678&limit=10');
    assert.equal(lastRequest().path, '/fineract-provider/api/v1/clients/7');
  });

  test('falls back to an identifier document found by exact search', async () => {
    fake.addClient({
      ...WANJIKU,
      id: 9,
      externalId: 'EXT-9',
      identifiers: [{ documentType: 'National ID', documentKey: '87654321' }],
    });
    const found = await client().findClientsByNationalId('87654321');
    assert.deepEqual(
      found.map((entry) => entry.clientId),
      [9],
    );
    assert.ok(
      fake.requests.some(
        (request) =>
          request.path ===
          '/fineract-provider/api/v1/search?query=87654321&resource=clientIdentifiers&exactMatch=true',
      ),
    );
  });

  test('an unknown national ID is an empty list; a blank one asks nothing', async () => {
    assert.deepEqual(await client().findClientsByNationalId('00000000'), []);
    fake.requests.length = 0;
    assert.deepEqual(await client().findClientsByNationalId('  '), []);
    assert.equal(fake.requests.length, 0);
  });

  test('reports an inactive client as such', async () => {
    fake.addClient({ ...WANJIKU, id: 10, externalId: '55555555', status: 'closed' });
    const [found] = await client().findClientsByNationalId('55555555');
    assert.equal(found?.status, 'closed');
    assert.equal(found?.active, false);
  });

  test('finds the holder of an account number', async () => {
    fake.addClient({ ...WANJIKU });
    const found = await client().findClientByAccount('000000042');
    assert.equal(found?.clientId, 7);
    assert.equal(found?.mobileNo, '0712345678');
    assert.equal(await client().findClientByAccount('000009999'), null);
  });

  test('an unknown client id is null', async () => {
    assert.equal(await client().getClient(4242), null);
  });
});

describe('getBalance', () => {
  test('converts decimals to minor units exactly', async () => {
    fake.addAccount({ ...KES_ACCOUNT, onHold: '200.06' });
    assert.deepEqual(await client().getBalance(42), {
      accountBalance: 123456n,
      availableBalance: 103450n,
      currency: 'KES',
      decimalPlaces: 2,
    });
  });

  test('a currency without decimals', async () => {
    const balance = await client().getBalance(43);
    assert.equal(balance.accountBalance, 1500000n);
    assert.equal(balance.decimalPlaces, 0);
  });

  test('stays exact beyond float precision and ignores trailing zeros', async () => {
    fake.addAccount({ ...KES_ACCOUNT, balance: '90071992547409.93' });
    assert.equal((await client().getBalance(42)).accountBalance, 9007199254740993n);
    fake.addAccount({ ...KES_ACCOUNT, balance: '1000.000000' });
    assert.equal((await client().getBalance(42)).accountBalance, 100000n);
  });

  test('refuses a balance finer than the currency allows', async () => {
    fake.addAccount({ ...KES_ACCOUNT, balance: '10.005' });
    await assert.rejects(client().getBalance(42), isUnavailable);
  });

  test('an unknown account is not_found', async () => {
    await assert.rejects(
      client().getBalance(9999),
      isFineractError('not_found', 'error.msg.saving.account.id.invalid'),
    );
  });
});

describe('postings', () => {
  test('a deposit sends exactly the documented headers and body', async () => {
    const result = await client().deposit(42, 15000n, 2, { reference: 'dep-0001', date: '2026-11-29' });
    const request = lastRequest();
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/fineract-provider/api/v1/savingsaccounts/42/transactions?command=deposit');
    assert.equal(request.headers.authorization, `Basic ${Buffer.from('mifos:password').toString('base64')}`);
    assert.equal(request.headers['fineract-platform-tenantid'], 'default');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers.accept, 'application/json');
    assert.deepEqual(request.body, {
      transactionDate: '29 November 2026',
      dateFormat: 'dd MMMM yyyy',
      locale: 'en',
      transactionAmount: '150.00',
      paymentTypeId: 1,
      receiptNumber: 'dep-0001',
    });
    assert.match(result.transactionId, /^\d+$/);
    assert.equal((await client().getBalance(42)).accountBalance, 138456n);
  });

  test('a withdrawal uses its command, the configured payment type and zero-padded days', async () => {
    const result = await client({ paymentTypeId: 7 }).withdraw(43, 1500n, 0, {
      reference: 'wd-0001',
      date: '2026-03-05',
    });
    const request = lastRequest();
    assert.equal(
      request.path,
      '/fineract-provider/api/v1/savingsaccounts/43/transactions?command=withdrawal',
    );
    assert.deepEqual(request.body, {
      transactionDate: '05 March 2026',
      dateFormat: 'dd MMMM yyyy',
      locale: 'en',
      transactionAmount: '1500',
      paymentTypeId: 7,
      receiptNumber: 'wd-0001',
    });
    assert.equal(typeof result.transactionId, 'string');
    assert.equal(fake.balanceOf(43), '1498500');
  });

  test('insufficient balance is a rejection and books nothing', async () => {
    await assert.rejects(
      client().withdraw(42, 123457n, 2, { reference: 'wd-0002', date: '2026-11-29' }),
      isFineractError('rejected', 'error.msg.savingsaccount.transaction.insufficient.account.balance'),
    );
    assert.equal(fake.balanceOf(42), '1234.56');
  });

  test('a validation failure is a rejection naming the parameter', async () => {
    // Three decimals on a two-decimal currency: only Fineract's validator can refuse this one.
    const error = await client()
      .deposit(42, 1n, 3, { reference: 'dep-0003', date: '2026-11-29' })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof FineractError);
    assert.equal(error.kind, 'rejected');
    assert.equal(error.status, 400);
    assert.equal(error.errors[0]?.parameterName, 'transactionAmount');
  });

  test('posting to an unknown account is not_found', async () => {
    await assert.rejects(
      client().deposit(9999, 100n, 2, { reference: 'dep-0004', date: '2026-11-29' }),
      isFineractError('not_found'),
    );
  });

  test('refuses a non-positive amount or an impossible date before sending', async () => {
    await assert.rejects(client().deposit(42, 0n, 2, { reference: 'r', date: '2026-11-29' }), RangeError);
    await assert.rejects(client().deposit(42, 1n, 2, { reference: 'r', date: '2026-02-30' }), RangeError);
    assert.equal(fake.requests.length, 0);
  });
});

describe('failures', () => {
  test('bad credentials are unauthorized', async () => {
    await assert.rejects(client({ password: 'wrong' }).getBalance(42), isFineractError('unauthorized'));
    await assert.rejects(client({ tenantId: 'other' }).inquireAccount('42'), isFineractError('unauthorized'));
  });

  test('a 503 is unavailability, and the next request succeeds', async () => {
    fake.failNext(1, 'unavailable');
    await assert.rejects(client().getBalance(42), (error: unknown) => {
      isUnavailable(error);
      const cause = (error as DependencyUnavailableError).cause;
      assert.ok(cause instanceof FineractError && cause.status === 503 && cause.kind === 'unavailable');
      return true;
    });
    assert.equal((await client().getBalance(42)).accountBalance, 123456n);
  });

  test('a request that hangs times out as unavailability', async () => {
    fake.failNext(1, 'hang');
    const started = Date.now();
    await assert.rejects(client({ timeoutMs: 150 }).getBalance(42), (error: unknown) => {
      isUnavailable(error);
      assert.equal(((error as DependencyUnavailableError).cause as Error).name, 'TimeoutError');
      return true;
    });
    assert.ok(Date.now() - started < 5000);
  });

  test('a refused connection is unavailability', async () => {
    const gone = new FakeFineract();
    const started = await gone.start();
    await started.close();
    const offline = new FineractClient({ baseUrl: started.baseUrl, username: 'mifos', password: 'password' });
    await assert.rejects(offline.getBalance(42), isUnavailable);
  });
});

describe('decimal conversion', () => {
  test('round-trips minor units', () => {
    assert.equal(minorToDecimal(15000n, 2), '150.00');
    assert.equal(minorToDecimal(5n, 2), '0.05');
    assert.equal(minorToDecimal(1500n, 0), '1500');
    assert.equal(decimalToMinor('0.05', 2), 5n);
    assert.equal(decimalToMinor('-12.5', 2), -1250n);
  });

  test('reads exponents exactly and refuses excess precision', () => {
    assert.equal(decimalToMinor('1.5E3', 2), 150000n);
    assert.equal(decimalToMinor('12345e-2', 2), 12345n);
    assert.throws(() => decimalToMinor('1.001', 2), RangeError);
    assert.throws(() => decimalToMinor('1,000.00', 2), RangeError);
  });
});

describe('nameMatches', () => {
  test('accepts the same person written differently', () => {
    assert.ok(nameMatches('Wanjiku Achieng Otieno', 'OTIENO, Wanjiku'));
    assert.ok(nameMatches('Wanjiku Otieno', 'Otieno Wanjiku'));
    assert.ok(nameMatches('José Müller', 'JOSE MULLER'));
    assert.ok(nameMatches("Aoife O'Brien", 'OBRIEN AOIFE'));
    assert.ok(nameMatches('Jean-Paul Mugisha', 'Mr. Jean Paul Mugisha'));
    assert.ok(nameMatches('Madonna', 'MADONNA'));
  });

  test('refuses different people', () => {
    assert.equal(nameMatches('Wanjiku Achieng Otieno', 'Wanjiku Kamau'), false);
    assert.equal(nameMatches('Wanjiku Otieno', 'Achieng Otieno'), false);
    assert.equal(nameMatches('Otieno', 'Wanjiku Otieno'), false);
    assert.equal(nameMatches('Mary Wanjiru', 'Mary Wanjiru Njeri Kamau'), false);
    assert.equal(nameMatches('', ''), false);
  });
});
