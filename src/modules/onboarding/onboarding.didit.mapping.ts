/**
 * Didit's decision → the registration (identity path B). Pure functions, no I/O.
 *
 * - **Statuses.** Approved → identity verified; Declined → the journey ends with a reason the customer can read
 *   (from the declined feature's warnings); In Review → wait (Didit's reviewers decide); Expired, Abandoned and
 *   Kyc Expired → the identity step may be started again; Not Started, In Progress, Awaiting User, Resubmitted →
 *   nothing yet (keep waiting, keep polling).
 * - **What is taken** from the decision: names, date of birth, document type and number, nationality (the last
 *   id_verifications item, the node that ran last), the liveness and face-match status and score. Nothing else is
 *   read, so no presigned media URL (portrait, document images, videos) can reach storage.
 * - **Compared with the declared details** (none stops the journey; completion sends a registration with any
 *   mismatch to manual review): the name with the CBS rule (`nameMatches`: case, accents, order and one missing
 *   middle name do not matter, two names must agree); the date of birth exactly; the declared national ID against
 *   the document number when the document is of the declared kind (an identity card for a national ID, a passport
 *   for a passport), else the ID is unconfirmed; the nationality (as ISO alpha-2: Didit's alpha-3 is converted, as
 *   customers keep alpha-2) when declared; liveness and face
 *   match must be Approved.
 */
import { nameMatches } from '../../integrations/fineract/fineract.client.ts';
import { countryAlpha2 } from './onboarding.didit.countries.ts';

/** What the applicant declared at the Didit identity step (sealed on the registration). */
export interface DiditDeclared {
  first_name: string;
  last_name: string;
  /** YYYY-MM-DD. */
  date_of_birth: string;
  national_id: string;
  national_id_type: 'national_id' | 'passport' | 'alien_id';
  /** ISO 3166-1 alpha-2 (as customers keep it); sent to Didit as alpha-3. */
  nationality: string | null;
  email: string | null;
}

export interface FeatureResult {
  status: string;
  score: number | null;
}

/** The identity as Didit verified it (sealed on the registration; no media URL). */
export interface DiditIdentity {
  source: 'didit';
  session_id: string;
  first_name: string | null;
  /** Didit reads no middle name apart (the shape activation shares with the CBS path). */
  middle_name: null;
  last_name: string | null;
  full_name: string | null;
  date_of_birth: string | null;
  document_type: string | null;
  document_number: string | null;
  /** ISO 3166-1 alpha-2 (Didit's alpha-3 converted), as customers keep it. */
  nationality: string | null;
  /** The document's issuing country, alpha-2. */
  issuing_state: string | null;
  liveness: FeatureResult | null;
  face_match: FeatureResult | null;
}

export type DiditMismatchCode =
  | 'name_mismatch'
  | 'date_of_birth_mismatch'
  | 'date_of_birth_missing'
  | 'document_number_mismatch'
  | 'national_id_unconfirmed'
  | 'nationality_mismatch'
  | 'liveness_not_passed'
  | 'face_match_not_passed';

export interface DiditMismatch {
  code: DiditMismatchCode;
  field: 'name' | 'date_of_birth' | 'national_id' | 'nationality' | 'liveness' | 'face_match';
  /** For the reviewer, without the values themselves. */
  reason: string;
}

export type DiditOutcome = 'approved' | 'declined' | 'review' | 'restart' | 'wait';

export function outcomeOf(status: string): DiditOutcome {
  switch (status) {
    case 'Approved':
      return 'approved';
    case 'Declined':
      return 'declined';
    case 'In Review':
      return 'review';
    case 'Expired':
    case 'Kyc Expired':
    case 'Abandoned':
      return 'restart';
    default:
      return 'wait';
  }
}

/** Statuses after which Didit changes the session no more (polling stops). */
export function isFinalStatus(status: string): boolean {
  const outcome = outcomeOf(status);
  return outcome === 'approved' || outcome === 'declined' || outcome === 'restart';
}

function record(value: unknown): Record<string, unknown> | null {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** The last item of a feature block (v3 blocks are arrays, null until the feature ran). */
function lastItem(decision: Record<string, unknown>, block: string): Record<string, unknown> | null {
  const items = decision[block];
  return Array.isArray(items) && items.length > 0 ? record(items.at(-1)) : null;
}

function text(item: Record<string, unknown> | null, key: string): string | null {
  const value = item?.[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function feature(item: Record<string, unknown> | null): FeatureResult | null {
  if (!item) return null;
  const score = item.score;
  return {
    status: text(item, 'status') ?? 'Not Finished',
    score: typeof score === 'number' && Number.isFinite(score) ? score : null,
  };
}

/** The identity fields of a decision, and only those (see the file comment). */
export function identityFromDecision(sessionId: string, decision: Record<string, unknown>): DiditIdentity {
  const id = lastItem(decision, 'id_verifications');
  const first = text(id, 'first_name');
  const last = text(id, 'last_name');
  return {
    source: 'didit',
    session_id: sessionId,
    first_name: first,
    middle_name: null,
    last_name: last,
    full_name: text(id, 'full_name') ?? ([first, last].filter(Boolean).join(' ') || null),
    date_of_birth: text(id, 'date_of_birth'),
    document_type: text(id, 'document_type'),
    document_number: text(id, 'document_number'),
    nationality: countryAlpha2(text(id, 'nationality')),
    issuing_state: countryAlpha2(text(id, 'issuing_state')),
    liveness: feature(lastItem(decision, 'liveness_checks')),
    face_match: feature(lastItem(decision, 'face_matches')),
  };
}

const normaliseNumber = (value: string) => value.toUpperCase().replace(/[^A-Z0-9]/g, '');

/** Which declared ID type a Didit document type proves. */
function documentKind(documentType: string | null): DiditDeclared['national_id_type'] | null {
  const type = (documentType ?? '').toLowerCase();
  if (type.includes('passport')) return 'passport';
  if (type.includes('residence') || type.includes('alien')) return 'alien_id';
  if (type.includes('identity') || type.includes('id card') || type === 'id') return 'national_id';
  return null;
}

export function compareDeclared(declared: DiditDeclared, identity: DiditIdentity): DiditMismatch[] {
  const mismatches: DiditMismatch[] = [];
  const verifiedName = identity.full_name ?? '';
  if (!nameMatches(`${declared.first_name} ${declared.last_name}`, verifiedName))
    mismatches.push({
      code: 'name_mismatch',
      field: 'name',
      reason: 'The name on the verified document does not match the declared name.',
    });
  if (!identity.date_of_birth)
    mismatches.push({
      code: 'date_of_birth_missing',
      field: 'date_of_birth',
      reason: 'Didit read no date of birth from the document.',
    });
  else if (identity.date_of_birth !== declared.date_of_birth)
    mismatches.push({
      code: 'date_of_birth_mismatch',
      field: 'date_of_birth',
      reason: 'The date of birth on the document differs from the declared one.',
    });
  {
    const kind = documentKind(identity.document_type);
    if (kind !== declared.national_id_type || !identity.document_number)
      mismatches.push({
        code: 'national_id_unconfirmed',
        field: 'national_id',
        reason:
          'The document verified is not of the declared ID type, so the declared ID number is unconfirmed.',
      });
    else if (normaliseNumber(identity.document_number) !== normaliseNumber(declared.national_id))
      mismatches.push({
        code: 'document_number_mismatch',
        field: 'national_id',
        reason: 'The document number differs from the declared ID number.',
      });
  }
  if (declared.nationality && identity.nationality && declared.nationality !== identity.nationality)
    mismatches.push({
      code: 'nationality_mismatch',
      field: 'nationality',
      reason: 'The nationality on the document differs from the declared one.',
    });
  if (identity.liveness?.status !== 'Approved')
    mismatches.push({
      code: 'liveness_not_passed',
      field: 'liveness',
      reason: 'The liveness check did not pass (or did not run).',
    });
  if (identity.face_match?.status !== 'Approved')
    mismatches.push({
      code: 'face_match_not_passed',
      field: 'face_match',
      reason: 'The selfie was not matched to the document portrait (or the check did not run).',
    });
  return mismatches;
}

/** The registration's identity summary (no PII): what the status answer and the reviewers see. */
export function identitySummary(
  status: string,
  identity: DiditIdentity | null,
  mismatches: DiditMismatch[],
): Record<string, unknown> {
  return {
    assurance: 'didit',
    didit_status: status,
    mismatches: mismatches.map((mismatch) => mismatch.code),
    mismatch_reasons: mismatches.map((mismatch) => mismatch.reason),
    document_type: identity?.document_type ?? null,
    liveness_status: identity?.liveness?.status ?? null,
    liveness_score: identity?.liveness?.score ?? null,
    face_match_status: identity?.face_match?.status ?? null,
    face_match_score: identity?.face_match?.score ?? null,
  };
}

const FEATURE_REASONS: Record<string, string> = {
  id_verifications: 'the identity document could not be verified',
  liveness_checks: 'the selfie did not pass the liveness check',
  face_matches: 'the selfie does not match the photo on the document',
  nfc_verifications: 'the document chip could not be read or verified',
  aml_screenings: 'the screening check did not pass',
  database_validations: 'the details could not be confirmed against official records',
};

/** Why Didit declined, in words a customer can read (the declined features' warnings, else the feature). */
export function declineReason(decision: Record<string, unknown> | null): string {
  const reasons: string[] = [];
  for (const [block, fallback] of Object.entries(FEATURE_REASONS)) {
    const items = decision?.[block];
    if (!Array.isArray(items)) continue;
    for (const item of items.map(record)) {
      if (item?.status !== 'Declined') continue;
      const warnings = Array.isArray(item.warnings) ? item.warnings.map(record) : [];
      const described = warnings
        .map((warning) => text(warning, 'short_description'))
        .filter((value): value is string => value !== null);
      reasons.push(...(described.length > 0 ? described : [fallback]));
    }
  }
  const unique = [...new Set(reasons)].slice(0, 3);
  const because = unique.length > 0 ? `: ${unique.join('; ')}` : '';
  return `Your identity could not be verified${because}. Contact us if you think this is wrong.`.slice(
    0,
    500,
  );
}

export function restartReason(status: string): string {
  return status === 'Abandoned'
    ? 'The identity verification was left unfinished; start it again.'
    : 'The identity verification session expired; start it again.';
}
