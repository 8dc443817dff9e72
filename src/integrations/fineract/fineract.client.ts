/**
 * Apache Fineract as the core banking system (CBS): account inquiry, balances and postings to savings accounts
 * over Fineract's REST API (INTEGRATIONS.md §6). Amounts cross this boundary as bigint minor units; Fineract's
 * decimal JSON numbers are read from their source text so no float ever touches money.
 */
import { DependencyUnavailableError } from '../../platform/errors.ts';
import {
  type CbsClient,
  type CbsClientDirectory,
  clientIdsInSearch,
  clientIdsOnPage,
  readClient,
} from './fineract.clients.ts';

export type { CbsClient, CbsClientDirectory, CbsClientStatus } from './fineract.clients.ts';

export type CoreBankingAccountStatus = 'active' | 'pending' | 'approved' | 'closed' | 'other';

/** The generic AccountInquiry answer: who holds the account and whether it can take postings. */
export interface AccountInquiry {
  accountNo: string;
  savingsAccountId: number;
  clientId: number;
  clientName: string;
  status: CoreBankingAccountStatus;
  currency: string;
  active: boolean;
}

export interface AccountBalance {
  accountBalance: bigint;
  availableBalance: bigint;
  currency: string;
  decimalPlaces: number;
}

/** `date` is the ISO calendar date (YYYY-MM-DD) of the posting in the tenant's business calendar. */
export interface PostingDetails {
  reference: string;
  date: string;
}

export interface PostingResult {
  transactionId: string;
}

export interface CoreBankingPort {
  inquireAccount(accountNo: string): Promise<AccountInquiry | null>;
  getBalance(savingsAccountId: number): Promise<AccountBalance>;
  deposit(
    savingsAccountId: number,
    amountMinor: bigint,
    decimalPlaces: number,
    details: PostingDetails,
  ): Promise<PostingResult>;
  withdraw(
    savingsAccountId: number,
    amountMinor: bigint,
    decimalPlaces: number,
    details: PostingDetails,
  ): Promise<PostingResult>;
}

export interface FineractClientOptions {
  /** The API root, e.g. `https://cbs.example:8443/fineract-provider/api/v1`. */
  baseUrl: string;
  username: string;
  password: string;
  tenantId?: string;
  /** The Fineract payment type recorded on every posting (configured per tenant). */
  paymentTypeId?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type FineractErrorKind = 'rejected' | 'not_found' | 'unauthorized' | 'unavailable';

export interface FineractFieldError {
  parameterName: string | null;
  globalisationCode: string;
  userMessage: string;
}

/** A refusal answered by Fineract, with its most specific globalisation code (the first `errors[]` entry's). */
export class FineractError extends Error {
  readonly status: number;
  readonly kind: FineractErrorKind;
  readonly globalisationCode: string;
  readonly userMessage: string;
  readonly errors: FineractFieldError[];
  constructor(
    status: number,
    globalisationCode: string,
    userMessage: string,
    errors: FineractFieldError[] = [],
  ) {
    super(`Fineract answered ${status} ${globalisationCode}: ${userMessage}`);
    this.name = 'FineractError';
    this.status = status;
    this.kind = errorKind(status, [globalisationCode, ...errors.map((error) => error.globalisationCode)]);
    this.globalisationCode = globalisationCode;
    this.userMessage = userMessage;
    this.errors = errors;
  }
}

function errorKind(status: number, codes: string[]): FineractErrorKind {
  if (status === 401) return 'unauthorized';
  // A 403 is either a missing permission or a domain rule (e.g. insufficient balance); only the code tells.
  if (status === 403 && codes.some((code) => code.startsWith('error.msg.not.authorized')))
    return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 408 || status === 429 || status >= 500) return 'unavailable';
  return 'rejected';
}

const SAVINGS_STATUS_BY_ID: ReadonlyMap<number, CoreBankingAccountStatus> = new Map([
  [100, 'pending'],
  [200, 'approved'],
  [300, 'active'],
  [600, 'closed'],
]);

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

/** Only these numeric fields keep their JSON source text: money must not pass through a float, ids may be longs. */
const EXACT_NUMBER_FIELDS = new Set([
  'accountBalance',
  'availableBalance',
  'totalDeposits',
  'totalWithdrawals',
  'resourceId',
]);

export class FineractClient implements CoreBankingPort, CbsClientDirectory {
  readonly #baseUrl: string;
  readonly #authorization: string;
  readonly #tenantId: string;
  readonly #paymentTypeId: number;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: FineractClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    this.#tenantId = options.tenantId ?? 'default';
    this.#paymentTypeId = options.paymentTypeId ?? 1;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Fineract has no documented lookup by account number on the savings resource, and `/search` differs
   * between releases. Its default account number is the savings id zero-padded to nine digits, so a numeric
   * accountNo is read as the id via the documented `GET /savingsaccounts/{id}`, and the answer counts only if
   * its accountNo is the one asked for (a tenant with custom numbering then finds nothing rather than a
   * stranger's account).
   */
  async inquireAccount(accountNo: string): Promise<AccountInquiry | null> {
    const savingsAccountId = savingsIdFromAccountNo(accountNo);
    if (savingsAccountId === null) return null;
    const account = await this.#findSavingsAccount(savingsAccountId);
    if (!account || !sameAccountNo(account.accountNo, accountNo)) return null;
    return {
      accountNo: account.accountNo,
      savingsAccountId: account.id,
      clientId: account.clientId,
      clientName: account.clientName,
      status: SAVINGS_STATUS_BY_ID.get(account.status.id) ?? 'other',
      currency: account.currency.code,
      active: account.status.active,
    };
  }

  /**
   * The clients holding a national ID: as `externalId` first, then as an identifier document (exact match). A
   * release without `/search` (404) simply has no second place to look.
   */
  async findClientsByNationalId(nationalId: string): Promise<CbsClient[]> {
    const id = nationalId.trim();
    if (id.length === 0) return [];
    const page = await this.#request('GET', `/clients?externalId=${encodeURIComponent(id)}&limit=10`);
    let ids = clientIdsOnPage(page, id);
    if (ids.length === 0) {
      const query = `query=${encodeURIComponent(id)}&resource=clientIdentifiers&exactMatch=true`;
      ids = clientIdsInSearch((await this.#getOrNull(`/search?${query}`)) ?? []);
    }
    const clients = await Promise.all(ids.map((clientId) => this.getClient(clientId)));
    return clients.filter((client): client is CbsClient => client !== null);
  }

  /** The holder of a savings account (found as inquireAccount finds it), read in full. */
  async findClientByAccount(accountNo: string): Promise<CbsClient | null> {
    const account = await this.inquireAccount(accountNo);
    return account ? this.getClient(account.clientId) : null;
  }

  async getClient(clientId: number): Promise<CbsClient | null> {
    if (!Number.isSafeInteger(clientId) || clientId <= 0) return null;
    const body = await this.#getOrNull(`/clients/${clientId}`);
    return body === null ? null : readClient(body);
  }

  async #getOrNull(path: string): Promise<unknown> {
    try {
      return await this.#request('GET', path);
    } catch (error) {
      if (error instanceof FineractError && error.kind === 'not_found') return null;
      throw error;
    }
  }

  async getBalance(savingsAccountId: number): Promise<AccountBalance> {
    const account = readSavingsAccount(await this.#request('GET', `/savingsaccounts/${savingsAccountId}`));
    const { accountBalance, availableBalance } = account.summary;
    const { code, decimalPlaces } = account.currency;
    return {
      accountBalance: exactAmount(accountBalance, decimalPlaces),
      // Releases before holds existed omit availableBalance; there the ledger balance is all that is available.
      availableBalance: exactAmount(availableBalance ?? accountBalance, decimalPlaces),
      currency: code,
      decimalPlaces,
    };
  }

  deposit(
    savingsAccountId: number,
    amountMinor: bigint,
    decimalPlaces: number,
    details: PostingDetails,
  ): Promise<PostingResult> {
    return this.#post('deposit', savingsAccountId, amountMinor, decimalPlaces, details);
  }

  withdraw(
    savingsAccountId: number,
    amountMinor: bigint,
    decimalPlaces: number,
    details: PostingDetails,
  ): Promise<PostingResult> {
    return this.#post('withdrawal', savingsAccountId, amountMinor, decimalPlaces, details);
  }

  /**
   * A timeout here leaves the outcome unknown (Fineract may have booked it); the reference travels as the
   * receipt number so reconciliation can find the transaction.
   */
  async #post(
    command: 'deposit' | 'withdrawal',
    savingsAccountId: number,
    amountMinor: bigint,
    decimalPlaces: number,
    details: PostingDetails,
  ): Promise<PostingResult> {
    const body = postingBody(amountMinor, decimalPlaces, details, this.#paymentTypeId);
    const path = `/savingsaccounts/${savingsAccountId}/transactions?command=${command}`;
    const answer = asRecord(await this.#request('POST', path, body), 'transaction response');
    return { transactionId: exactText(answer.resourceId, 'resourceId') };
  }

  async #findSavingsAccount(savingsAccountId: number): Promise<SavingsAccountWire | null> {
    try {
      return readSavingsAccount(await this.#request('GET', `/savingsaccounts/${savingsAccountId}`));
    } catch (error) {
      if (error instanceof FineractError && error.kind === 'not_found') return null;
      throw error;
    }
  }

  async #request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const { status, text } = await this.#exchange(method, path, body);
    if (status >= 200 && status < 300) return parseExactJson(text);
    const error = fineractError(status, text);
    if (error.kind === 'unavailable') throw new DependencyUnavailableError('fineract', error);
    throw error;
  }

  /** Anything that keeps an answer from arriving (refused connection, reset, timeout) is unavailability. */
  async #exchange(method: string, path: string, body: unknown): Promise<{ status: number; text: string }> {
    try {
      const response = await this.#fetch(`${this.#baseUrl}${path}`, {
        method,
        headers: this.#headers(),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      throw new DependencyUnavailableError('fineract', error);
    }
  }

  #headers(): Record<string, string> {
    return {
      Authorization: this.#authorization,
      'Fineract-Platform-TenantId': this.#tenantId,
      'Content-Type': 'application/json',
      Accept: 'application/json',
    };
  }
}

interface SavingsAccountWire {
  id: number;
  accountNo: string;
  clientId: number;
  clientName: string;
  status: { id: number; active: boolean };
  currency: { code: string; decimalPlaces: number };
  summary: { accountBalance: string; availableBalance: string | undefined };
}

function readSavingsAccount(body: unknown): SavingsAccountWire {
  const account = asRecord(body, 'savings account');
  const status = asRecord(account.status, 'status');
  const currency = asRecord(account.currency, 'currency');
  const summary = asRecord(account.summary, 'summary');
  const statusId = numberField(status, 'id');
  const decimalPlaces = numberField(currency, 'decimalPlaces');
  if (!Number.isInteger(decimalPlaces) || decimalPlaces < 0 || decimalPlaces > 9) {
    throw malformed(`currency.decimalPlaces ${decimalPlaces} is not a number of decimal places`);
  }
  return {
    id: numberField(account, 'id'),
    accountNo: stringField(account, 'accountNo'),
    clientId: numberField(account, 'clientId'),
    clientName: stringField(account, 'clientName'),
    status: { id: statusId, active: typeof status.active === 'boolean' ? status.active : statusId === 300 },
    currency: { code: stringField(currency, 'code'), decimalPlaces },
    summary: {
      accountBalance: exactText(summary.accountBalance, 'accountBalance'),
      availableBalance:
        summary.availableBalance === undefined
          ? undefined
          : exactText(summary.availableBalance, 'availableBalance'),
    },
  };
}

function postingBody(
  amountMinor: bigint,
  decimalPlaces: number,
  details: PostingDetails,
  paymentTypeId: number,
): Record<string, string | number> {
  if (amountMinor <= 0n) throw new RangeError('A posting amount must be positive');
  if (details.reference.length === 0 || details.reference.length > 100) {
    throw new RangeError('A posting reference must be 1 to 100 characters');
  }
  return {
    transactionDate: fineractDate(details.date),
    dateFormat: 'dd MMMM yyyy',
    locale: 'en',
    transactionAmount: minorToDecimal(amountMinor, decimalPlaces),
    paymentTypeId,
    receiptNumber: details.reference,
  };
}

/** "2026-11-29" → "29 November 2026", the `dd MMMM yyyy` form sent with locale `en`. */
function fineractDate(isoDate: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  const [year, month, day] = (match ?? []).slice(1).map(Number);
  if (year === undefined || month === undefined || day === undefined) {
    throw new RangeError(`${isoDate} is not an ISO date (YYYY-MM-DD)`);
  }
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new RangeError(`${isoDate} is not a calendar date`);
  }
  return `${String(day).padStart(2, '0')} ${MONTHS[month - 1]} ${year}`;
}

/** 15000n with 2 places → "150.00"; 1500n with 0 places → "1500". */
export function minorToDecimal(amountMinor: bigint, decimalPlaces: number): string {
  assertDecimalPlaces(decimalPlaces);
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(decimalPlaces + 1, '0');
  const whole = digits.slice(0, digits.length - decimalPlaces);
  const fraction = decimalPlaces > 0 ? `.${digits.slice(digits.length - decimalPlaces)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/**
 * "1234.56" with 2 places → 123456n, exactly, for any JSON number text (exponents included). Trailing zeros
 * beyond the currency's places are harmless; a non-zero digit there means the value is not representable.
 */
export function decimalToMinor(text: string, decimalPlaces: number): bigint {
  assertDecimalPlaces(decimalPlaces);
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) throw new RangeError(`${text} is not a decimal number`);
  const [, sign = '', whole = '', fraction = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  if (Math.abs(exponent) > 64) throw new RangeError(`${text} is out of range for an amount`);
  const digits = BigInt(whole + fraction);
  const shift = decimalPlaces - fraction.length + exponent;
  const minor =
    shift >= 0 ? digits * 10n ** BigInt(shift) : divideExactly(digits, 10n ** BigInt(-shift), text);
  return sign === '-' ? -minor : minor;
}

function divideExactly(digits: bigint, divisor: bigint, text: string): bigint {
  if (digits % divisor !== 0n) throw new RangeError(`${text} has more decimals than the currency allows`);
  return digits / divisor;
}

function assertDecimalPlaces(decimalPlaces: number): void {
  if (!Number.isInteger(decimalPlaces) || decimalPlaces < 0 || decimalPlaces > 9) {
    throw new RangeError(`${decimalPlaces} is not a number of decimal places`);
  }
}

/** A balance Fineract cannot have meant: refused as an unusable answer so money paths fail closed. */
function exactAmount(text: string, decimalPlaces: number): bigint {
  try {
    return decimalToMinor(text, decimalPlaces);
  } catch (error) {
    throw new DependencyUnavailableError('fineract', error);
  }
}

function savingsIdFromAccountNo(accountNo: string): number | null {
  if (!/^\d{1,16}$/.test(accountNo)) return null;
  const id = Number(accountNo);
  return id > 0 && Number.isSafeInteger(id) ? id : null;
}

function sameAccountNo(actual: string, asked: string): boolean {
  return actual === asked || actual.replace(/^0+/, '') === asked.replace(/^0+/, '');
}

type SourceReviver = (key: string, value: unknown, context?: { source?: string }) => unknown;

/** JSON.parse keeping the source text of money fields (Node's reviver `context.source`). */
function parseExactJson(text: string): unknown {
  const parse = JSON.parse as (text: string, reviver: SourceReviver) => unknown;
  try {
    return parse(text, (key, value, context) =>
      typeof value === 'number' && EXACT_NUMBER_FIELDS.has(key) ? (context?.source ?? String(value)) : value,
    );
  } catch (error) {
    throw new DependencyUnavailableError('fineract', error);
  }
}

/** Reads Fineract's error body; a body that is not Fineract's (a proxy's HTML page) still yields the status. */
function fineractError(status: number, text: string): FineractError {
  const body = parseLoosely(text);
  const errors = (Array.isArray(body.errors) ? body.errors : []).map(fieldError);
  const topCode =
    typeof body.userMessageGlobalisationCode === 'string' ? body.userMessageGlobalisationCode : '';
  const topMessage = typeof body.defaultUserMessage === 'string' ? body.defaultUserMessage : '';
  const first = errors[0];
  const code = first?.globalisationCode || topCode || `http.${status}`;
  const message = first?.userMessage || topMessage || `HTTP ${status}`;
  return new FineractError(status, code, message, errors);
}

function fieldError(entry: unknown): FineractFieldError {
  const record = entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>) : {};
  return {
    parameterName: typeof record.parameterName === 'string' ? record.parameterName : null,
    globalisationCode:
      typeof record.userMessageGlobalisationCode === 'string' ? record.userMessageGlobalisationCode : '',
    userMessage: typeof record.defaultUserMessage === 'string' ? record.defaultUserMessage : '',
  };
}

function parseLoosely(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function malformed(what: string): DependencyUnavailableError {
  return new DependencyUnavailableError('fineract', new Error(`Fineract answered malformed JSON: ${what}`));
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw malformed(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function numberField(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  if (typeof value !== 'number') throw malformed(`${key} is not a number`);
  return value;
}

function stringField(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw malformed(`${key} is not a string`);
  return value;
}

/** An exact field after parsing: the reviver turned its number into source text. */
function exactText(value: unknown, key: string): string {
  if (typeof value !== 'string') throw malformed(`${key} is not a number`);
  return value;
}

const HONORIFICS = new Set(['mr', 'mrs', 'ms', 'miss', 'dr', 'prof', 'sir']);

/**
 * Whether two renderings of a person's name are the same person: case, accents, punctuation, titles and token
 * order do not matter, and one side may lack a single name (typically a middle name). Both must share at least
 * two names, so a shared first name or surname alone is never enough.
 */
export function nameMatches(expected: string, actual: string): boolean {
  const [shorter, longer] = [nameTokens(expected), nameTokens(actual)].sort((a, b) => a.length - b.length);
  if (!shorter || !longer || shorter.length === 0) return false;
  const unmatched = [...longer];
  for (const token of shorter) {
    const index = unmatched.indexOf(token);
    if (index === -1) return false;
    unmatched.splice(index, 1);
  }
  if (shorter.length === 1) return longer.length === 1;
  return unmatched.length <= 1;
}

function nameTokens(name: string): string[] {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/['’`ʼ]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token.length > 0 && !HONORIFICS.has(token));
}
