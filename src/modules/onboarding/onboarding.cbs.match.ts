/**
 * The CBS match rules (identity path A): does the bank client found in the core banking system hold what the
 * applicant declared? Pure functions, no I/O; docs/onboarding.md repeats these rules for the back office.
 *
 * - **Name.** The declared full name against the client's name parts (first, middle, last; the display name
 *   when the parts are missing). Case, accents (NFKD, marks dropped), punctuation and apostrophes, titles (Mr,
 *   Mrs, Dr, …) and the order of the names do not matter. One side may lack one name (typically the middle name),
 *   but both must share at least two names, so a shared first name or surname alone never matches. A single name
 *   matches only the same single name. (The rule is the adapter's `nameMatches`, shared with bank-account linking.)
 * - **Date of birth.** Exactly the same calendar date (YYYY-MM-DD). A client without a date of birth in the CBS is a
 *   mismatch (`date_of_birth_missing`): nothing was confirmed.
 * - **Phone.** The CBS mobile number, read in the registration phone's country when it has no international prefix
 *   (0712 345 678 in KE is +254712345678), must equal the registration's verified E.164 phone. No number, or one
 *   that is not a valid phone number, is `phone_missing`.
 * - **Status.** A client that is not active (pending, closed, rejected, withdrawn) is `client_inactive`.
 * - **Several clients** under one national ID is `ambiguous_client`: the bank's data must be fixed by a person.
 *
 * Every rule that fails is named, with what was compared in words that carry no PII; none stops the journey. The
 * registration continues, and completion sends it to manual review instead of approving it automatically.
 */
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import { type CbsClient, nameMatches } from '../../integrations/fineract/fineract.client.ts';

export type CbsMismatchCode =
  | 'name_mismatch'
  | 'date_of_birth_mismatch'
  | 'date_of_birth_missing'
  | 'phone_mismatch'
  | 'phone_missing'
  | 'client_inactive'
  | 'ambiguous_client';

export interface CbsMismatch {
  code: CbsMismatchCode;
  /** The field compared: name, date_of_birth, phone, status, client. */
  field: 'name' | 'date_of_birth' | 'phone' | 'status' | 'client';
  /** A sentence for the reviewer, without the values themselves. */
  reason: string;
}

export interface DeclaredIdentity {
  /** The full name as the applicant typed it. */
  fullName: string;
  /** ISO date YYYY-MM-DD. */
  dateOfBirth: string;
  /** The registration's phone, E.164. */
  phone: string;
  /** ISO 3166 country of the registration's phone: how a CBS number without prefix is read. */
  phoneCountry: string;
}

export interface CbsMatch {
  matched: boolean;
  mismatches: CbsMismatch[];
}

/** The client's name as the CBS holds it: the parts when present, else the display name. */
export function cbsFullName(client: CbsClient): string {
  const parts = [client.firstName, client.middleName, client.lastName].filter(
    (part): part is string => part !== null,
  );
  return parts.length > 0 ? parts.join(' ') : client.displayName;
}

/** A CBS mobile number as E.164, read in `country` when it has no international prefix; null when unusable. */
export function cbsPhoneE164(mobileNo: string | null, country: string): string | null {
  if (!mobileNo) return null;
  const parsed = parsePhoneNumberFromString(mobileNo.trim(), country.toUpperCase() as CountryCode);
  return parsed?.isValid() ? parsed.number : null;
}

export function matchCbsClient(declared: DeclaredIdentity, client: CbsClient): CbsMatch {
  const mismatches: CbsMismatch[] = [];
  if (!nameMatches(declared.fullName, cbsFullName(client))) {
    mismatches.push({
      code: 'name_mismatch',
      field: 'name',
      reason: 'The declared name is not the name the bank holds for this client',
    });
  }
  if (client.dateOfBirth === null) {
    mismatches.push({
      code: 'date_of_birth_missing',
      field: 'date_of_birth',
      reason: 'The bank holds no date of birth for this client',
    });
  } else if (client.dateOfBirth !== declared.dateOfBirth) {
    mismatches.push({
      code: 'date_of_birth_mismatch',
      field: 'date_of_birth',
      reason: 'The declared date of birth differs from the bank’s',
    });
  }
  const phone = cbsPhoneE164(client.mobileNo, declared.phoneCountry);
  if (phone === null) {
    mismatches.push({
      code: 'phone_missing',
      field: 'phone',
      reason: 'The bank holds no usable mobile number for this client',
    });
  } else if (phone !== declared.phone) {
    mismatches.push({
      code: 'phone_mismatch',
      field: 'phone',
      reason: 'The registering phone is not the mobile number the bank holds',
    });
  }
  if (!client.active || client.status !== 'active') {
    mismatches.push({
      code: 'client_inactive',
      field: 'status',
      reason: `The bank client is ${client.status === 'other' ? 'not active' : client.status}`,
    });
  }
  return { matched: mismatches.length === 0, mismatches };
}

/** The mismatch recorded when a national ID names several bank clients. */
export const AMBIGUOUS_CLIENT: CbsMismatch = {
  code: 'ambiguous_client',
  field: 'client',
  reason: 'Several bank clients hold this national ID',
};
