/**
 * A local Apache Fineract speaking its wire format (INTEGRATIONS.md §6): Basic auth plus tenant header,
 * savings account reads and deposit/withdrawal postings, Fineract's error bodies, money as exact JSON numbers.
 * It keeps its own decimal arithmetic so a conversion bug in the client cannot hide behind a shared helper.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export const FINERACT_BASE_PATH = '/fineract-provider/api/v1';

export type FakeAccountStatus = 'pending' | 'approved' | 'active' | 'closed';

export interface FakeAccountInput {
  id: number;
  accountNo: string;
  clientId: number;
  clientName: string;
  currency: string;
  decimalPlaces: number;
  /** Sent back verbatim as the JSON number until the first posting, e.g. "1234.56" or "1000.000000". */
  balance: string;
  status: FakeAccountStatus;
  /** Funds on hold: availableBalance is balance minus this. */
  onHold?: string;
}

export type FakeClientStatus = 'pending' | 'active' | 'closed' | 'rejected' | 'withdrawn';

/** A Fineract client (person). The national ID is the externalId, an identifier document, or both. */
export interface FakeClientInput {
  id: number;
  firstname: string;
  middlename?: string;
  lastname: string;
  /** ISO date, sent as Fineract's [y, m, d]. */
  dateOfBirth?: string;
  mobileNo?: string;
  externalId?: string;
  /** Identifier documents, e.g. { documentType: 'National ID', documentKey: '12345678' }. */
  identifiers?: { documentType: string; documentKey: string }[];
  status?: FakeClientStatus;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as sent, e.g. /fineract-provider/api/v1/savingsaccounts/1/transactions?command=deposit */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
}

/** `unavailable` answers 503 as a proxy in front of Fineract would; `hang` never answers. */
export type FakeFailureMode = 'unavailable' | 'hang';

export interface FakeFineractOptions {
  username?: string;
  password?: string;
  tenantId?: string;
}

interface FakeTransaction {
  id: number;
  type: 'deposit' | 'withdrawal';
  date: [number, number, number];
  amountMinor: bigint;
  runningBalanceMinor: bigint;
  paymentTypeId: number | undefined;
  receiptNumber: string | undefined;
}

interface FakeAccount extends FakeAccountInput {
  totalDepositsMinor: bigint;
  totalWithdrawalsMinor: bigint;
  transactions: FakeTransaction[];
}

interface FieldProblem {
  parameterName: string;
  code: string;
  message: string;
  value?: unknown;
}

class FakeHttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    super(`fake Fineract ${status}`);
    this.status = status;
    this.body = body;
  }
}

const STATUS_WIRE: Record<FakeAccountStatus, { id: number; code: string; value: string }> = {
  pending: {
    id: 100,
    code: 'savingsAccountStatusType.submitted.and.pending.approval',
    value: 'Submitted and pending approval',
  },
  approved: { id: 200, code: 'savingsAccountStatusType.approved', value: 'Approved' },
  active: { id: 300, code: 'savingsAccountStatusType.active', value: 'Active' },
  closed: { id: 600, code: 'savingsAccountStatusType.closed', value: 'Closed' },
};

const CLIENT_STATUS_WIRE: Record<FakeClientStatus, { id: number; code: string; value: string }> = {
  pending: { id: 100, code: 'clientStatusType.pending', value: 'Pending' },
  active: { id: 300, code: 'clientStatusType.active', value: 'Active' },
  closed: { id: 600, code: 'clientStatusType.closed', value: 'Closed' },
  rejected: { id: 700, code: 'clientStatusType.rejected', value: 'Rejected' },
  withdrawn: { id: 800, code: 'clientStatusType.withdraw', value: 'Withdrawn' },
};

const CURRENCY_NAMES: Record<string, string> = {
  KES: 'Kenyan Shilling',
  UGX: 'Uganda Shilling',
  TZS: 'Tanzanian Shilling',
  USD: 'US Dollar',
};

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const TRANSACTION_PARAMETERS = new Set([
  'transactionDate',
  'dateFormat',
  'locale',
  'transactionAmount',
  'paymentTypeId',
  'accountNumber',
  'checkNumber',
  'routingCode',
  'receiptNumber',
  'bankNumber',
  'note',
]);

/** Node's JSON.rawJSON (not yet in TypeScript's lib): emits a number literal exactly as given. */
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

export class FakeFineract {
  readonly requests: RecordedRequest[] = [];
  readonly username: string;
  readonly password: string;
  readonly tenantId: string;
  readonly #accounts = new Map<number, FakeAccount>();
  readonly #clients = new Map<number, FakeClientInput>();
  readonly #failures: FakeFailureMode[] = [];
  #server: Server | undefined;
  #nextTransactionId = 1;

  constructor(options: FakeFineractOptions = {}) {
    this.username = options.username ?? 'mifos';
    this.password = options.password ?? 'password';
    this.tenantId = options.tenantId ?? 'default';
  }

  addAccount(input: FakeAccountInput): void {
    this.#accounts.set(input.id, {
      ...input,
      totalDepositsMinor: 0n,
      totalWithdrawalsMinor: 0n,
      transactions: [],
    });
  }

  addClient(input: FakeClientInput): void {
    this.#clients.set(input.id, { ...input });
  }

  /** The account's balance as the fake would send it. */
  balanceOf(id: number): string {
    const account = this.#accounts.get(id);
    if (!account) throw new Error(`fake Fineract has no account ${id}`);
    return account.balance;
  }

  /** The next `count` requests fail this way, before authentication, as an outage in front of Fineract would. */
  failNext(count: number, mode: FakeFailureMode): void {
    for (let index = 0; index < count; index += 1) this.#failures.push(mode);
  }

  async start(): Promise<{ baseUrl: string; close: () => Promise<void> }> {
    const server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) =>
        sendJson(response, 500, internalError(error)),
      );
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { baseUrl: `http://127.0.0.1:${port}${FINERACT_BASE_PATH}`, close: () => this.close() };
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readText(request);
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    this.requests.push({
      method: request.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers: request.headers,
      body: parseMaybeJson(text),
    });
    const failure = this.#failures.shift();
    if (failure === 'hang') return;
    if (failure === 'unavailable')
      return sendText(response, 503, '<html><body>503 Service Unavailable</body></html>');
    try {
      sendJson(response, 200, this.#route(request, url, text));
    } catch (error) {
      if (!(error instanceof FakeHttpError)) throw error;
      sendJson(response, error.status, error.body);
    }
  }

  #route(request: IncomingMessage, url: URL, text: string): unknown {
    this.#authenticate(request.headers);
    const path = url.pathname.startsWith(`${FINERACT_BASE_PATH}/`)
      ? url.pathname.slice(FINERACT_BASE_PATH.length)
      : '';
    const savings = /^\/savingsaccounts\/(\d+)$/.exec(path);
    if (request.method === 'GET' && savings) {
      return this.#savingsAccount(
        Number(savings[1]),
        url.searchParams.get('associations') === 'transactions',
      );
    }
    if (request.method === 'GET' && path === '/clients') return this.#clientPage(url.searchParams);
    const client = /^\/clients\/(\d+)$/.exec(path);
    if (request.method === 'GET' && client) return clientWire(this.#client(Number(client[1])));
    if (request.method === 'GET' && path === '/search') return this.#search(url.searchParams);
    const clientAccounts = /^\/clients\/(\d+)\/accounts$/.exec(path);
    if (request.method === 'GET' && clientAccounts) return this.#clientAccounts(Number(clientAccounts[1]));
    const transactions = /^\/savingsaccounts\/(\d+)\/transactions$/.exec(path);
    if (request.method === 'POST' && transactions) {
      requireJsonContent(request.headers);
      return this.#post(Number(transactions[1]), url.searchParams.get('command'), text);
    }
    throw new FakeHttpError(
      404,
      errorBody(404, 'error.msg.resource.not.found', 'The requested resource is not available.'),
    );
  }

  #authenticate(headers: IncomingHttpHeaders): void {
    const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    if (headers['fineract-platform-tenantid'] !== this.tenantId) {
      throw new FakeHttpError(
        401,
        errorBody(
          401,
          'error.msg.invalid.tenant.identifier',
          'Invalid or missing Fineract-Platform-TenantId.',
        ),
      );
    }
    if (headers.authorization !== expected) {
      throw new FakeHttpError(
        401,
        errorBody(401, 'error.msg.not.authenticated', 'Unauthenticated. Please login.'),
      );
    }
  }

  #account(id: number): FakeAccount {
    const account = this.#accounts.get(id);
    if (account) return account;
    const message = `Saving Account with identifier ${id} does not exist`;
    throw new FakeHttpError(
      404,
      errorBody(404, 'error.msg.resource.not.found', 'The requested resource is not available.', [
        { parameterName: 'id', code: 'error.msg.saving.account.id.invalid', message, value: id },
      ]),
    );
  }

  #savingsAccount(id: number, withTransactions: boolean): unknown {
    const account = this.#account(id);
    const currency = currencyWire(account);
    return {
      id: account.id,
      accountNo: account.accountNo,
      clientId: account.clientId,
      clientName: account.clientName,
      savingsProductId: 1,
      savingsProductName: 'Passbook Savings',
      fieldOfficerId: 0,
      status: statusWire(account.status),
      timeline: { submittedOnDate: [2024, 1, 15], activatedOnDate: [2024, 1, 15] },
      currency,
      summary: {
        currency,
        totalDeposits: rawJson(formatMinor(account.totalDepositsMinor, account.decimalPlaces)),
        totalWithdrawals: rawJson(formatMinor(account.totalWithdrawalsMinor, account.decimalPlaces)),
        accountBalance: rawJson(account.balance),
        availableBalance: rawJson(availableBalance(account)),
      },
      ...(withTransactions
        ? { transactions: account.transactions.map((entry) => transactionWire(account, entry)) }
        : {}),
    };
  }

  #client(id: number): FakeClientInput {
    const client = this.#clients.get(id);
    if (client) return client;
    const message = `Client with identifier ${id} does not exist`;
    throw new FakeHttpError(
      404,
      errorBody(404, 'error.msg.resource.not.found', 'The requested resource is not available.', [
        { parameterName: 'id', code: 'error.msg.client.id.invalid', message, value: id },
      ]),
    );
  }

  /** `GET /clients`: the documented filters the fake understands (externalId, displayName), paged. */
  #clientPage(params: URLSearchParams): unknown {
    const externalId = params.get('externalId');
    const displayName = params.get('displayName')?.toLowerCase();
    const matching = [...this.#clients.values()].filter(
      (client) =>
        (externalId === null || client.externalId === externalId) &&
        (displayName === undefined || displayNameOf(client).toLowerCase().includes(displayName)),
    );
    const offset = Number(params.get('offset') ?? 0);
    const limit = Number(params.get('limit') ?? 200);
    return {
      totalFilteredRecords: matching.length,
      pageItems: matching.slice(offset, offset + limit).map(clientWire),
    };
  }

  /**
   * `GET /search?query=&resource=clients,clientIdentifiers&exactMatch=`: client hits by account number, external
   * id, mobile number or name; identifier hits by document key, with the client as parentId.
   */
  #search(params: URLSearchParams): unknown {
    const query = (params.get('query') ?? '').toLowerCase();
    const exact = params.get('exactMatch') === 'true';
    const resources = (params.get('resource') ?? 'clients').split(',');
    const hit = (value: string | undefined) =>
      value !== undefined && (exact ? value.toLowerCase() === query : value.toLowerCase().includes(query));
    const hits: unknown[] = [];
    for (const client of this.#clients.values()) {
      const base = { entityName: displayNameOf(client), entityMobileNo: client.mobileNo ?? null };
      if (
        resources.includes('clients') &&
        [accountNoOf(client.id), client.externalId, client.mobileNo, displayNameOf(client)].some(hit)
      ) {
        hits.push({
          ...base,
          entityId: client.id,
          entityAccountNo: accountNoOf(client.id),
          entityExternalId: client.externalId ?? null,
          entityType: 'CLIENT',
          parentId: 1,
          parentName: 'Head Office',
          entityStatus: CLIENT_STATUS_WIRE[client.status ?? 'active'],
        });
      }
      if (!resources.includes('clientIdentifiers')) continue;
      (client.identifiers ?? []).forEach((identifier, index) => {
        if (!hit(identifier.documentKey)) return;
        hits.push({
          ...base,
          entityId: client.id * 100 + index,
          entityAccountNo: identifier.documentKey,
          entityType: 'CLIENTIDENTIFIER',
          parentId: client.id,
          parentName: displayNameOf(client),
        });
      });
    }
    return hits;
  }

  #clientAccounts(clientId: number): unknown {
    const accounts = [...this.#accounts.values()].filter((account) => account.clientId === clientId);
    if (accounts.length === 0 && !this.#clients.has(clientId)) {
      const message = `Client with identifier ${clientId} does not exist`;
      throw new FakeHttpError(
        404,
        errorBody(404, 'error.msg.resource.not.found', 'The requested resource is not available.', [
          { parameterName: 'id', code: 'error.msg.client.id.invalid', message, value: clientId },
        ]),
      );
    }
    return {
      savingsAccounts: accounts.map((account) => ({
        id: account.id,
        accountNo: account.accountNo,
        productId: 1,
        productName: 'Passbook Savings',
        shortProductName: 'PS',
        status: statusWire(account.status),
        currency: currencyWire(account),
        accountBalance: rawJson(account.balance),
        accountType: { id: 1, code: 'accountType.individual', value: 'Individual' },
      })),
    };
  }

  #post(id: number, command: string | null, text: string): unknown {
    const account = this.#account(id);
    if (command !== 'deposit' && command !== 'withdrawal') {
      throw validationError([
        {
          parameterName: 'command',
          code: 'error.msg.command.unsupported',
          message: `Unsupported command ${command}`,
        },
      ]);
    }
    const posting = readPosting(text, account.decimalPlaces);
    if (account.status !== 'active') {
      throw domainRuleError(
        'error.msg.savingsaccount.transaction.account.is.not.active',
        'Transaction is not allowed. Account is not active.',
      );
    }
    return this.#book(account, command, posting);
  }

  #book(account: FakeAccount, type: 'deposit' | 'withdrawal', posting: Posting): unknown {
    const balanceMinor = parseMinor(account.balance, account.decimalPlaces);
    const availableMinor = parseMinor(availableBalance(account), account.decimalPlaces);
    if (type === 'withdrawal' && posting.amountMinor > availableMinor) {
      throw domainRuleError(
        'error.msg.savingsaccount.transaction.insufficient.account.balance',
        'Insufficient account balance.',
      );
    }
    const signed = type === 'deposit' ? posting.amountMinor : -posting.amountMinor;
    const runningBalanceMinor = balanceMinor + signed;
    account.balance = formatMinor(runningBalanceMinor, account.decimalPlaces);
    if (type === 'deposit') account.totalDepositsMinor += posting.amountMinor;
    else account.totalWithdrawalsMinor += posting.amountMinor;
    const transaction = { id: this.#nextTransactionId, type, runningBalanceMinor, ...posting };
    this.#nextTransactionId += 1;
    account.transactions.push(transaction);
    return {
      officeId: 1,
      clientId: account.clientId,
      savingsId: account.id,
      resourceId: transaction.id,
      changes: {},
    };
  }
}

interface Posting {
  date: [number, number, number];
  amountMinor: bigint;
  paymentTypeId: number | undefined;
  receiptNumber: string | undefined;
}

/** Validates a posting the way Fineract's data validator does: every problem listed in one 400. */
function readPosting(text: string, decimalPlaces: number): Posting {
  const body = parseMaybeJson(text);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw validationError([
      { parameterName: 'body', code: 'error.msg.invalid.request.body', message: 'Invalid JSON' },
    ]);
  }
  const fields = body as Record<string, unknown>;
  const problems: FieldProblem[] = unsupportedParameters(fields);
  const date = readDate(fields, problems);
  const amountMinor = readAmount(fields.transactionAmount, decimalPlaces, problems);
  const paymentTypeId = fields.paymentTypeId;
  if (paymentTypeId !== undefined && !(Number.isInteger(paymentTypeId) && (paymentTypeId as number) > 0)) {
    problems.push(transactionProblem('paymentTypeId', 'integer.greater.than.zero', paymentTypeId));
  }
  const receiptNumber = fields.receiptNumber;
  if (receiptNumber !== undefined && (typeof receiptNumber !== 'string' || receiptNumber.length > 100)) {
    problems.push(transactionProblem('receiptNumber', 'exceeds.max.length', receiptNumber));
  }
  if (problems.length > 0 || !date || amountMinor === null) throw validationError(problems);
  return {
    date,
    amountMinor,
    paymentTypeId: paymentTypeId as number | undefined,
    receiptNumber: receiptNumber as string | undefined,
  };
}

function unsupportedParameters(fields: Record<string, unknown>): FieldProblem[] {
  return Object.keys(fields)
    .filter((name) => !TRANSACTION_PARAMETERS.has(name))
    .map((name) => ({
      parameterName: name,
      code: 'error.msg.parameter.unsupported',
      message: `The parameter ${name} is not supported.`,
    }));
}

function readDate(
  fields: Record<string, unknown>,
  problems: FieldProblem[],
): [number, number, number] | null {
  const { transactionDate, dateFormat, locale } = fields;
  if (typeof locale !== 'string' || locale.length === 0) {
    problems.push({
      parameterName: 'locale',
      code: 'validation.msg.locale.cannot.be.blank',
      message: 'locale is required',
    });
  } else if (locale !== 'en') {
    problems.push({
      parameterName: 'locale',
      code: 'validation.msg.invalid.locale.format',
      message: 'Unsupported locale',
    });
  }
  if (typeof dateFormat !== 'string' || dateFormat.length === 0) {
    problems.push(transactionProblem('dateFormat', 'cannot.be.blank', dateFormat));
    return null;
  }
  const date = typeof transactionDate === 'string' ? parseDate(transactionDate, dateFormat) : null;
  if (!date) problems.push(transactionProblem('transactionDate', 'invalid.date.format', transactionDate));
  return date;
}

/** The two patterns the fake understands; any other pattern fails to parse, as a wrong one would. */
function parseDate(text: string, format: string): [number, number, number] | null {
  let parts: [number, number, number] | null = null;
  if (format === 'dd MMMM yyyy') {
    const match = /^(\d{2}) ([A-Z][a-z]+) (\d{4})$/.exec(text);
    const month = MONTHS.indexOf(match?.[2] ?? '') + 1;
    if (match && month > 0) parts = [Number(match[3]), month, Number(match[1])];
  } else if (format === 'yyyy-MM-dd') {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (match) parts = [Number(match[1]), Number(match[2]), Number(match[3])];
  }
  if (!parts) return null;
  const [year, month, day] = parts;
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? parts : null;
}

function readAmount(value: unknown, decimalPlaces: number, problems: FieldProblem[]): bigint | null {
  if (value === undefined || value === '') {
    problems.push(transactionProblem('transactionAmount', 'cannot.be.blank', value));
    return null;
  }
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d+(\.\d+)?$/.test(text)) {
    problems.push(transactionProblem('transactionAmount', 'invalid.decimal.format', value));
    return null;
  }
  const fraction = text.split('.')[1] ?? '';
  if (fraction.length > decimalPlaces) {
    problems.push(
      transactionProblem('transactionAmount', 'scale.is.greater.than.currency.decimal.places', value),
    );
    return null;
  }
  const amountMinor = parseMinor(text, decimalPlaces);
  if (amountMinor <= 0n) {
    problems.push(transactionProblem('transactionAmount', 'not.greater.than.zero', value));
    return null;
  }
  return amountMinor;
}

function transactionProblem(parameterName: string, rule: string, value: unknown): FieldProblem {
  return {
    parameterName,
    code: `validation.msg.savingsaccount.transaction.${parameterName}.${rule}`,
    message: `The parameter ${parameterName} is invalid (${rule}).`,
    value,
  };
}

/** Plain decimal text → minor units, with no float and no rounding; the fake's own, independent of the client. */
function parseMinor(text: string, decimalPlaces: number): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new Error(`fake Fineract cannot read ${text}`);
  const fraction = (match[3] ?? '').padEnd(decimalPlaces, '0');
  if (fraction.length > decimalPlaces && /[1-9]/.test(fraction.slice(decimalPlaces))) {
    throw new Error(`fake Fineract cannot hold ${text} with ${decimalPlaces} decimals`);
  }
  const minor = BigInt(`${match[2]}${fraction.slice(0, decimalPlaces)}`);
  return match[1] === '-' ? -minor : minor;
}

function formatMinor(minor: bigint, decimalPlaces: number): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(decimalPlaces + 1, '0');
  const cut = digits.length - decimalPlaces;
  const text = decimalPlaces === 0 ? digits : `${digits.slice(0, cut)}.${digits.slice(cut)}`;
  return negative ? `-${text}` : text;
}

function availableBalance(account: FakeAccount): string {
  if (account.onHold === undefined) return account.balance;
  const minor =
    parseMinor(account.balance, account.decimalPlaces) - parseMinor(account.onHold, account.decimalPlaces);
  return formatMinor(minor, account.decimalPlaces);
}

function statusWire(status: FakeAccountStatus): Record<string, unknown> {
  return {
    ...STATUS_WIRE[status],
    submittedAndPendingApproval: status === 'pending',
    approved: status === 'approved',
    rejected: false,
    withdrawnByApplicant: false,
    active: status === 'active',
    closed: status === 'closed',
  };
}

function displayNameOf(client: FakeClientInput): string {
  return [client.firstname, client.middlename, client.lastname].filter(Boolean).join(' ');
}

function accountNoOf(id: number): string {
  return String(id).padStart(9, '0');
}

/** A client as `GET /clients/{id}` and the `GET /clients` page items carry it. */
function clientWire(client: FakeClientInput): Record<string, unknown> {
  const status = client.status ?? 'active';
  const dateOfBirth = client.dateOfBirth?.split('-').map(Number);
  return {
    id: client.id,
    accountNo: accountNoOf(client.id),
    ...(client.externalId === undefined ? {} : { externalId: client.externalId }),
    status: CLIENT_STATUS_WIRE[status],
    subStatus: { active: false, mandatory: false },
    active: status === 'active',
    ...(status === 'active' ? { activationDate: [2024, 1, 15] } : {}),
    firstname: client.firstname,
    ...(client.middlename === undefined ? {} : { middlename: client.middlename }),
    lastname: client.lastname,
    displayName: displayNameOf(client),
    ...(client.mobileNo === undefined ? {} : { mobileNo: client.mobileNo }),
    ...(dateOfBirth === undefined ? {} : { dateOfBirth }),
    gender: {},
    clientType: {},
    clientClassification: {},
    isStaff: false,
    officeId: 1,
    officeName: 'Head Office',
    timeline: { submittedOnDate: [2024, 1, 15] },
    legalForm: { id: 1, code: 'legalFormType.person', value: 'PERSON' },
    groups: [],
  };
}

function currencyWire(account: FakeAccount): Record<string, unknown> {
  const name = CURRENCY_NAMES[account.currency] ?? account.currency;
  return {
    code: account.currency,
    name,
    decimalPlaces: account.decimalPlaces,
    inMultiplesOf: 1,
    displaySymbol: account.currency,
    nameCode: `currency.${account.currency}`,
    displayLabel: `${name} (${account.currency})`,
  };
}

function transactionWire(account: FakeAccount, entry: FakeTransaction): Record<string, unknown> {
  const deposit = entry.type === 'deposit';
  return {
    id: entry.id,
    transactionType: {
      id: deposit ? 1 : 2,
      code: `savingsAccountTransactionType.${entry.type}`,
      value: deposit ? 'Deposit' : 'Withdrawal',
      deposit,
      withdrawal: !deposit,
    },
    accountId: account.id,
    accountNo: account.accountNo,
    date: entry.date,
    currency: currencyWire(account),
    paymentDetailData: { paymentType: { id: entry.paymentTypeId }, receiptNumber: entry.receiptNumber },
    amount: rawJson(formatMinor(entry.amountMinor, account.decimalPlaces)),
    runningBalance: rawJson(formatMinor(entry.runningBalanceMinor, account.decimalPlaces)),
    reversed: false,
  };
}

/** Fineract's error envelope: a generic top-level code, the specific ones in `errors[]`. */
function errorBody(status: number, code: string, message: string, problems: FieldProblem[] = []): unknown {
  return {
    developerMessage: message,
    httpStatusCode: String(status),
    defaultUserMessage: message,
    userMessageGlobalisationCode: code,
    errors: problems.map((problem) => ({
      developerMessage: problem.message,
      defaultUserMessage: problem.message,
      userMessageGlobalisationCode: problem.code,
      parameterName: problem.parameterName,
      value: problem.value ?? null,
      args: [{ value: problem.value ?? null }],
    })),
  };
}

function validationError(problems: FieldProblem[]): FakeHttpError {
  return new FakeHttpError(
    400,
    errorBody(400, 'validation.msg.validation.errors.exist', 'Validation errors exist.', problems),
  );
}

function domainRuleError(code: string, message: string): FakeHttpError {
  return new FakeHttpError(
    403,
    errorBody(
      403,
      'validation.msg.domain.rule.violation',
      'Errors contain reason for domain rule violation.',
      [{ parameterName: 'id', code, message }],
    ),
  );
}

function internalError(error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  return errorBody(500, 'error.msg.platform.service.unavailable', message);
}

function requireJsonContent(headers: IncomingHttpHeaders): void {
  if (!(headers['content-type'] ?? '').startsWith('application/json')) {
    throw new FakeHttpError(415, { message: 'HTTP 415 Unsupported Media Type' });
  }
}

function parseMaybeJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
