/**
 * Identity path A: the applicant is an existing bank customer. The core banking system (Fineract, INTEGRATIONS.md
 * §6) is asked by national ID, or by account number (the registering phone is then what must match); the client
 * found is compared with the declared details by the documented rules (onboarding.cbs.match.ts). The CBS client id
 * is linked to the registration and, at activation, to the customer. A mismatch or an inactive client does not stop
 * the journey: it is recorded by name and completion sends the registration to manual review.
 */
import type { Config } from '../../config.ts';
import {
  type CbsClient,
  type CbsClientDirectory,
  FineractClient,
  FineractError,
} from '../../integrations/fineract/fineract.client.ts';
import type { RequestContext } from '../../platform/audit.ts';
import type { EphemeralStore } from '../../platform/cache.ts';
import { inTransaction } from '../../platform/db.ts';
import { DependencyUnavailableError } from '../../platform/errors.ts';
import { nationalIdBlindIndex } from '../customers/index.ts';
import { AMBIGUOUS_CLIENT, type CbsMismatch, cbsFullName, matchCbsClient } from './onboarding.cbs.match.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import type { Journey, RegistrationRow } from './onboarding.journey.ts';
import { expectedSteps, type RegistrationState } from './onboarding.machine.ts';

/** What the applicant declares on either identity path; sealed on the registration as `declared`. */
export interface DeclaredDetails {
  first_name: string;
  middle_name?: string | null;
  last_name: string;
  /** ISO date. */
  date_of_birth: string;
  national_id?: string | null;
  national_id_type?: string | null;
  email?: string | null;
  account_number?: string | null;
  nationality?: string | null;
}

/** The identity as its source holds it; sealed on the registration as `identity`. */
export interface IdentityResult {
  source: 'cbs' | 'didit';
  first_name: string | null;
  middle_name: string | null;
  last_name: string | null;
  date_of_birth: string | null;
  nationality?: string | null;
  document_type?: string | null;
  document_number?: string | null;
  cbs_client_id?: string | null;
  cbs_status?: string | null;
  mismatch_details?: CbsMismatch[];
}

export interface CbsLookupBody extends DeclaredDetails {
  lookup: 'national_id' | 'account';
}

/**
 * The lookup's answer says the client was found, never whether the details matched: with a national ID alone, an
 * answer that told would let anyone guess a bank client's birth date or name one try at a time. The match decides
 * at completion, after the phone OTP proved the phone, and its codes stay sealed with the identity (the status and
 * the identity summary show none for the CBS path).
 */
export interface CbsLookupAnswer {
  state: RegistrationState;
  path: 'cbs';
  expected_steps: string[];
}

/** The CBS match's mismatch codes (sealed with the identity), or the summary's for the Didit path; null: none known. */
export function mismatchCodes(journey: Journey, row: RegistrationRow): string[] | null {
  if (row.path === 'cbs') {
    const identity = journey.identity<IdentityResult>(row);
    return identity?.mismatch_details ? identity.mismatch_details.map((mismatch) => mismatch.code) : null;
  }
  const summary = (row.identitySummary ?? null) as { mismatches?: unknown } | null;
  return Array.isArray(summary?.mismatches) ? summary.mismatches.map(String) : null;
}

/** The CBS client directory built from config (Fineract), or null when none is configured. */
export function cbsDirectoryFrom(config: Config): CbsClientDirectory | null {
  if (!config.FINERACT_BASE_URL || !config.FINERACT_USERNAME || !config.FINERACT_PASSWORD) return null;
  return new FineractClient({
    baseUrl: config.FINERACT_BASE_URL,
    username: config.FINERACT_USERNAME,
    password: config.FINERACT_PASSWORD,
    tenantId: config.FINERACT_TENANT_ID,
    timeoutMs: config.FINERACT_TIMEOUT_MS,
  });
}

export function normaliseNationalIdValue(value: string): string {
  return value.replace(/[\s-]/g, '').toUpperCase();
}

export class CbsIdentity {
  readonly #journey: Journey;
  readonly #directory: CbsClientDirectory | null;
  readonly #pepper: string;
  readonly #nationalIdType: string;
  readonly #store: EphemeralStore;
  readonly #lookupsPerHour: number;

  constructor(
    journey: Journey,
    directory: CbsClientDirectory | null,
    options: { pepper: string; nationalIdType: string; store: EphemeralStore; lookupsPerHour: number },
  ) {
    this.#journey = journey;
    this.#directory = directory;
    this.#pepper = options.pepper;
    this.#nationalIdType = options.nationalIdType;
    this.#store = options.store;
    this.#lookupsPerHour = options.lookupsPerHour;
  }

  /**
   * Lookups per registration and hour: without a cap, one registration could ask the bank about national ID after
   * national ID and learn who is a client (a 404 tells). 429 REGISTRATION_RATE_LIMITED over it.
   */
  async #limit(registrationId: string): Promise<void> {
    const { count, ttlMs } = await this.#store.hit(`onboarding:cbs:${registrationId}`, 3_600_000);
    if (count <= this.#lookupsPerHour) return;
    const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
    throw onboardingErrors.REGISTRATION_RATE_LIMITED({
      details: { retry_after_seconds: seconds, limit: 'cbs_lookup' },
      headers: { 'retry-after': String(seconds) },
    });
  }

  get configured(): boolean {
    return this.#directory !== null;
  }

  async lookup(
    registration: RegistrationRow,
    body: CbsLookupBody,
    context: RequestContext,
    idempotencyKey?: string,
  ): Promise<CbsLookupAnswer> {
    const requestHash = this.#journey.requestHash('identity_cbs', body, idempotencyKey);
    const stored = await this.#journey.replay(registration.id, 'identity_cbs', requestHash);
    if (stored) return stored.answer as CbsLookupAnswer;
    this.#journey.assertAllowed(registration, 'identity_cbs');
    const directory = this.#directory;
    if (!directory) throw onboardingErrors.REGISTRATION_CBS_NOT_CONFIGURED();
    await this.#limit(registration.id);
    const clients = await this.#find(directory, body);
    if (clients.length === 0) throw onboardingErrors.REGISTRATION_CBS_CLIENT_NOT_FOUND();
    const [client] = clients as [CbsClient, ...CbsClient[]];
    const declaredName = [body.first_name, body.middle_name, body.last_name].filter(Boolean).join(' ');
    const match = matchCbsClient(
      {
        fullName: declaredName,
        dateOfBirth: body.date_of_birth,
        phone: registration.phone ?? '',
        phoneCountry: registration.phoneCountry,
      },
      client,
    );
    const mismatches = clients.length > 1 ? [AMBIGUOUS_CLIENT, ...match.mismatches] : match.mismatches;
    // The national ID the customer will hold: the declared one, else the one the bank keeps as external id.
    const nationalId = body.national_id ?? (body.lookup === 'account' ? client.externalId : null);
    const declared: DeclaredDetails = {
      first_name: body.first_name,
      middle_name: body.middle_name ?? null,
      last_name: body.last_name,
      date_of_birth: body.date_of_birth,
      national_id: nationalId ? normaliseNationalIdValue(nationalId) : null,
      national_id_type: nationalId ? (body.national_id_type ?? this.#nationalIdType) : null,
      email: body.email ?? null,
      account_number: body.account_number ?? null,
      nationality: body.nationality ?? null,
    };
    const identity: IdentityResult = {
      source: 'cbs',
      first_name: client.firstName,
      middle_name: client.middleName,
      last_name: client.lastName ?? (client.firstName ? null : cbsFullName(client)),
      date_of_birth: client.dateOfBirth,
      cbs_client_id: clients.length > 1 ? null : String(client.clientId),
      cbs_status: client.status,
      mismatch_details: mismatches,
    };
    const codes = mismatches.map((mismatch) => mismatch.code);
    const { answer } = await inTransaction(this.#journey.db, (tx) =>
      this.#journey.advance<CbsLookupAnswer>(
        tx,
        registration.id,
        'identity_cbs',
        {
          path: 'cbs',
          declaredSealed: this.#journey.seal(registration.id, 'declared', declared),
          identitySealed: this.#journey.seal(registration.id, 'identity', identity),
          nationalIdIndex: declared.national_id
            ? nationalIdBlindIndex(this.#pepper, declared.national_id_type!, declared.national_id)
            : null,
          // No mismatch codes and no client status here: the status answer shows the summary (see CbsLookupAnswer).
          identitySummary: { source: 'cbs', assurance: 'cbs', mismatches: [], didit_status: null },
          cbsClientId: identity.cbs_client_id ?? null,
        },
        {
          requestHash,
          context,
          audit: { lookup: body.lookup, mismatches: codes, cbs_client_id: identity.cbs_client_id ?? null },
          answer: (row: RegistrationRow) => ({
            state: row.state as RegistrationState,
            path: 'cbs' as const,
            expected_steps: expectedSteps(row.state as RegistrationState),
          }),
        },
      ),
    );
    return answer;
  }

  async #find(directory: CbsClientDirectory, body: CbsLookupBody): Promise<CbsClient[]> {
    try {
      if (body.lookup === 'national_id') {
        if (!body.national_id) return [];
        return await directory.findClientsByNationalId(normaliseNationalIdValue(body.national_id));
      }
      if (!body.account_number) return [];
      const client = await directory.findClientByAccount(body.account_number.trim());
      return client ? [client] : [];
    } catch (error) {
      if (error instanceof FineractError && error.kind === 'not_found') return [];
      if (error instanceof FineractError || error instanceof DependencyUnavailableError)
        throw onboardingErrors.REGISTRATION_CBS_UNAVAILABLE({ headers: { 'retry-after': '30' } });
      throw error;
    }
  }
}
