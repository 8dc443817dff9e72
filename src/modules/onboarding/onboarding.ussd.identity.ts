/**
 * The USSD registration's details and identity: what the customer typed, parsed into the app's declared details, and
 * identity path A (the CBS lookup by national ID, matched by the app's rules) or, when the bank does not hold the
 * national ID (or is not configured, or is down), a declared identity.
 */
import {
  type CbsClient,
  type CbsClientDirectory,
  FineractError,
} from '../../integrations/fineract/fineract.client.ts';
import type { RequestContext } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import { AppError, DependencyUnavailableError } from '../../platform/errors.ts';
import { nationalIdBlindIndex } from '../customers/index.ts';
import type { NotificationsService } from '../notifications/index.ts';
import type { Activation } from './onboarding.activation.ts';
import { AMBIGUOUS_CLIENT, cbsFullName, matchCbsClient } from './onboarding.cbs.match.ts';
import { type DeclaredDetails, type IdentityResult, normaliseNationalIdValue } from './onboarding.cbs.ts';
import type { Journey, RegistrationPatch, RegistrationRow } from './onboarding.journey.ts';
import type { UssdRegistrationInput } from './onboarding.ussd.config.ts';

export type Identified =
  | { step: 'identity_cbs'; identity: IdentityResult; mismatches: string[] }
  | { step: 'identity_declared'; cbs: 'not_configured' | 'not_found' | 'unavailable' };

export interface Parsed {
  declared: DeclaredDetails & { national_id: string; national_id_type: string };
  fullName: string;
}

export function parseUssdDetails(input: UssdRegistrationInput, nationalIdType: string): Parsed | null {
  const names = input.fullName.normalize('NFC').trim().split(/\s+/).filter(Boolean);
  if (names.length < 2 || names.some((name) => name.length > 60)) return null;
  if (!validBirthDate(input.dateOfBirth)) return null;
  const nationalId = normaliseNationalIdValue(input.nationalId);
  if (!/^[A-Z0-9]{4,20}$/.test(nationalId)) return null;
  return {
    fullName: names.join(' '),
    declared: {
      first_name: names[0]!,
      middle_name: names.length > 2 ? names.slice(1, -1).join(' ') : null,
      last_name: names[names.length - 1]!,
      date_of_birth: input.dateOfBirth,
      national_id: nationalId,
      national_id_type: nationalIdType,
      email: null,
      account_number: null,
      nationality: null,
    },
  };
}

/**
 * Identity path A when a CBS is configured and holds the national ID (matched by the app's rules; a mismatch goes
 * to review at completion); otherwise the identity is declared. The bank being down declares it too: the
 * registration then waits for a person rather than for the bank.
 */
export async function identifyByCbs(
  directory: CbsClientDirectory | null,
  parsed: Parsed,
  phone: string,
  country: string,
): Promise<Identified> {
  if (!directory) return { step: 'identity_declared', cbs: 'not_configured' };
  let clients: CbsClient[];
  try {
    clients = await directory.findClientsByNationalId(parsed.declared.national_id);
  } catch (error) {
    if (error instanceof FineractError && error.kind === 'not_found') clients = [];
    else if (error instanceof FineractError || error instanceof DependencyUnavailableError)
      return { step: 'identity_declared', cbs: 'unavailable' };
    else throw error;
  }
  const [client] = clients;
  if (!client) return { step: 'identity_declared', cbs: 'not_found' };
  const match = matchCbsClient(
    {
      fullName: parsed.fullName,
      dateOfBirth: parsed.declared.date_of_birth,
      phone,
      phoneCountry: country,
    },
    client,
  );
  const mismatches = clients.length > 1 ? [AMBIGUOUS_CLIENT, ...match.mismatches] : match.mismatches;
  return {
    step: 'identity_cbs',
    mismatches: mismatches.map((mismatch) => mismatch.code),
    identity: {
      source: 'cbs',
      first_name: client.firstName,
      middle_name: client.middleName,
      last_name: client.lastName ?? (client.firstName ? null : cbsFullName(client)),
      date_of_birth: client.dateOfBirth,
      cbs_client_id: clients.length > 1 ? null : String(client.clientId),
      cbs_status: client.status,
      mismatch_details: mismatches,
    },
  };
}

/** A real calendar date in the past, at most 120 years ago. */
function validBirthDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) return false;
  const years = (Date.now() - date.getTime()) / (365.25 * 86_400_000);
  return years > 0 && years <= 120;
}

/**
 * The identity step of a registration made without the app (USSD, an agent): the bank's record when the core banking
 * system holds the national ID (`identity_cbs`), else the identity as declared, for review (`identity_declared`).
 */
export async function recordIdentity(
  journey: Journey,
  tx: Executor,
  input: { id: string; pepper: string; declared: Parsed['declared']; identified: Identified },
  options: { context: RequestContext; audit: Record<string, unknown> },
): Promise<void> {
  const { id, declared, identified } = input;
  const { context, audit } = options;
  const identityPatch: RegistrationPatch = {
    declaredSealed: journey.seal(id, 'declared', declared),
    nationalIdIndex: nationalIdBlindIndex(input.pepper, declared.national_id_type, declared.national_id),
  };
  if (identified.step === 'identity_cbs') {
    await journey.advance(
      tx,
      id,
      'identity_cbs',
      {
        ...identityPatch,
        path: 'cbs',
        identitySealed: journey.seal(id, 'identity', identified.identity),
        identitySummary: { source: 'cbs', assurance: 'cbs', mismatches: [], didit_status: null },
        cbsClientId: identified.identity.cbs_client_id ?? null,
      },
      {
        context,
        audit: {
          ...audit,
          lookup: 'national_id',
          mismatches: identified.mismatches,
          cbs_client_id: identified.identity.cbs_client_id ?? null,
        },
      },
    );
    return;
  }
  await journey.advance(
    tx,
    id,
    'identity_declared',
    {
      ...identityPatch,
      path: null,
      identitySealed: null,
      // No `mismatches` list: nothing was compared, so nothing may read as "verified without mismatch".
      identitySummary: { source: 'declared', assurance: 'declared', cbs_lookup: identified.cbs },
    },
    { context, audit: { ...audit, cbs_lookup: identified.cbs } },
  );
}

/**
 * The end of a registration made without the app (USSD, an agent), once it is `completed`-bound: activated at once
 * when nothing needs a reviewer (and no customer took the phone or ID meanwhile), else sent to review with an SMS.
 */
export async function finishRegistration(
  services: { journey: Journey; activation: Activation; notifications: NotificationsService },
  tx: Executor,
  input: { registration: RegistrationRow; reasons: string[] },
  options: { context: RequestContext; audit: Record<string, unknown> },
): Promise<{ outcome: 'active' | 'in_review' }> {
  const { journey, activation, notifications } = services;
  const { registration: row, reasons } = input;
  const { context, audit } = options;
  if (reasons.length === 0) {
    try {
      // The customer, the wallet, the credentials and the welcome event (its SMS confirms the registration).
      const activated = await activation.activate(tx, row, context, 'automatic');
      await journey.advance(
        tx,
        row.id,
        'complete_approved',
        { customerId: activated.customerId, completedAt: new Date() },
        { context, audit: { ...audit, customer_id: activated.customerId, kyc_tier: activated.kycTier } },
      );
      return { outcome: 'active' };
    } catch (error) {
      // The phone or national ID became another customer's meanwhile (customers' savepoint kept this transaction).
      if (!(error instanceof AppError && error.errorCode === 'CUSTOMER_EXISTS')) throw error;
      reasons.push(`duplicate_at_activation: ${String((error.details as { field?: string })?.field ?? '')}`);
    }
  }
  await journey.advance(
    tx,
    row.id,
    'complete_review',
    { reviewReasons: reasons },
    { context, audit: { channel: audit.channel, reasons: reasons.map((reason) => reason.split(':')[0]) } },
  );
  await notifications.queue(tx, {
    // The customer id activation will create on approval: the message is theirs from the start.
    recipient: { type: 'customer', id: row.pinCustomerId! },
    template: 'onboarding.ussd_review',
    channels: ['sms'],
    variables: {},
    addresses: { sms: row.phone! },
    language: row.language,
    dedupeKey: `onboarding.ussd_review:${row.id}`,
    data: { kind: 'registration_review', registration_id: row.id },
  });
  return { outcome: 'in_review' };
}
