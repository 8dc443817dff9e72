/**
 * Fineract clients (people) as the onboarding journey needs them: who the bank knows under a national ID or behind
 * an account, with the name parts, date of birth, mobile number and status to compare against what an applicant
 * declared (INTEGRATIONS.md §6). Only the wire reading lives here; the requests are FineractClient's.
 *
 * Where a national ID lives in Fineract depends on the tenant: as the client's `externalId`
 * (`GET /clients?externalId=…`), or as a client identifier document (found with
 * `GET /search?query=…&resource=clientIdentifiers&exactMatch=true`, whose hits carry the client as `parentId`).
 * The lookup asks the first, then the second.
 */
import { DependencyUnavailableError } from '../../platform/errors.ts';

export type CbsClientStatus = 'pending' | 'active' | 'closed' | 'rejected' | 'withdrawn' | 'other';

/** A Fineract client as the bank holds it. Dates are ISO (YYYY-MM-DD); absent fields are null. */
export interface CbsClient {
  clientId: number;
  accountNo: string;
  externalId: string | null;
  status: CbsClientStatus;
  active: boolean;
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  displayName: string;
  /** As typed into Fineract (often a local format such as 0712345678): normalise before comparing. */
  mobileNo: string | null;
  dateOfBirth: string | null;
}

/** The lookups by which an applicant is found in the core banking system. */
export interface CbsClientDirectory {
  /** Every client holding this national ID (normally one; more means the bank's data is ambiguous). */
  findClientsByNationalId(nationalId: string): Promise<CbsClient[]>;
  /** The client holding this savings account number, or null. */
  findClientByAccount(accountNo: string): Promise<CbsClient | null>;
  getClient(clientId: number): Promise<CbsClient | null>;
}

/** Client status ids (Fineract's ClientStatus enum). */
const CLIENT_STATUS_BY_ID: ReadonlyMap<number, CbsClientStatus> = new Map([
  [100, 'pending'],
  [300, 'active'],
  [600, 'closed'],
  [700, 'rejected'],
  [800, 'withdrawn'],
]);

export function readClient(body: unknown): CbsClient {
  const client = record(body, 'client');
  const status = client.status === undefined ? {} : record(client.status, 'status');
  const statusId = typeof status.id === 'number' ? status.id : null;
  const clientStatus = (statusId === null ? undefined : CLIENT_STATUS_BY_ID.get(statusId)) ?? 'other';
  const id = client.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw malformed('client id is not a number');
  const firstName = optionalText(client.firstname);
  const middleName = optionalText(client.middlename);
  const lastName = optionalText(client.lastname);
  const displayName =
    optionalText(client.displayName) ?? [firstName, middleName, lastName].filter(Boolean).join(' ');
  return {
    clientId: id,
    accountNo: optionalText(client.accountNo) ?? '',
    externalId: optionalText(client.externalId),
    status: clientStatus,
    active: typeof client.active === 'boolean' ? client.active : clientStatus === 'active',
    firstName,
    middleName,
    lastName,
    displayName,
    mobileNo: optionalText(client.mobileNo),
    dateOfBirth: isoDate(client.dateOfBirth),
  };
}

/** The ids on a `GET /clients` page whose externalId is exactly the one asked for (older releases match loosely). */
export function clientIdsOnPage(body: unknown, externalId: string): number[] {
  const page = record(body, 'client page');
  const items = Array.isArray(page.pageItems) ? page.pageItems : [];
  return items
    .map((item) => record(item, 'page item'))
    .filter((item) => item.externalId === externalId && typeof item.id === 'number')
    .map((item) => item.id as number);
}

/** The distinct client ids behind `GET /search` hits: a client hit is the client, an identifier hit its parent. */
export function clientIdsInSearch(body: unknown): number[] {
  if (!Array.isArray(body)) throw malformed('search result is not an array');
  const ids = new Set<number>();
  for (const entry of body) {
    const hit = record(entry, 'search hit');
    const type = typeof hit.entityType === 'string' ? hit.entityType.toUpperCase() : '';
    const id = type === 'CLIENT' ? hit.entityId : type === 'CLIENTIDENTIFIER' ? hit.parentId : undefined;
    if (typeof id === 'number' && Number.isSafeInteger(id)) ids.add(id);
  }
  return [...ids];
}

/** `[1990, 4, 7]` → "1990-04-07"; a date string already in ISO form passes; anything else is null. */
function isoDate(value: unknown): string | null {
  if (Array.isArray(value) && value.length === 3 && value.every((part) => Number.isInteger(part))) {
    const [year, month, day] = value as [number, number, number];
    return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  }
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  return null;
}

function optionalText(value: unknown): string | null {
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : null;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw malformed(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function malformed(what: string): DependencyUnavailableError {
  return new DependencyUnavailableError('fineract', new Error(`Fineract answered malformed JSON: ${what}`));
}
