/**
 * The Didit fake's sessions and the v3 decision it answers for them (INTEGRATIONS.md §1): every feature block a
 * plural array of items with `node_id` and `status` (null until the feature ran), presigned-looking media URLs
 * (which the platform must not keep), and warnings with `risk`, `short_description` and `long_description` on a
 * declined feature.
 */

export interface FakeDiditPerson {
  first_name: string;
  last_name: string;
  /** YYYY-MM-DD. */
  date_of_birth: string;
  document_type: string;
  document_number: string;
  /** ISO 3166-1 alpha-3, as Didit sends it. */
  nationality: string;
  /** 0–100; Approved at 70 and above unless a status is given. */
  liveness_score: number;
  face_match_score: number;
}

export interface FakeDiditWarning {
  risk: string;
  short_description: string;
  long_description: string;
}

export interface FakeDiditSession {
  session_id: string;
  session_number: number;
  session_token: string;
  vendor_data: string;
  workflow_id: string;
  callback: string | null;
  callback_method: string | null;
  language: string | null;
  metadata: Record<string, unknown> | null;
  contact_details: Record<string, unknown> | null;
  expected_details: Record<string, unknown> | null;
  status: string;
  /** What the document and the selfie showed (defaults to the expected details). */
  person: FakeDiditPerson;
  /** The warnings of a declined (or reviewed) feature. */
  warnings: FakeDiditWarning[];
  /** Which feature carries the warnings and its own status. */
  failedFeature: 'id_verifications' | 'liveness_checks' | 'face_matches';
  created_at: string;
}

/** Statuses after which Didit creates a new session for the same vendor_data. */
export const FINISHED_STATUSES = new Set(['Approved', 'Declined', 'Expired', 'Kyc Expired', 'Abandoned']);
/** Statuses whose webhook carries the decision. */
export const STATUSES_WITH_DECISION = new Set(['Approved', 'Declined', 'In Review', 'Abandoned']);

export function personFrom(expected: Record<string, unknown> | null, index: number): FakeDiditPerson {
  const text = (key: string, fallback: string) => {
    const value = expected?.[key];
    return typeof value === 'string' && value !== '' ? value : fallback;
  };
  return {
    first_name: text('first_name', 'Amina'),
    last_name: text('last_name', 'Otieno'),
    date_of_birth: text('date_of_birth', '1990-01-01'),
    document_type: 'Identity Card',
    document_number: text('identification_number', `K${String(10_000_000 + index)}`),
    nationality: text('nationality', 'KEN'),
    liveness_score: 95,
    face_match_score: 92.5,
  };
}

function media(session: FakeDiditSession, name: string): string {
  const expires = Math.floor(Date.now() / 1000) + 900;
  return `https://media.didit.invalid/${session.session_id}/${name}?X-Amz-Expires=900&X-Amz-Signature=${expires.toString(16)}`;
}

function featureStatus(session: FakeDiditSession, feature: FakeDiditSession['failedFeature']): string {
  if (session.status === 'Declined' || session.status === 'In Review')
    return feature === session.failedFeature ? session.status : 'Approved';
  if (session.status === 'Approved') return 'Approved';
  return 'Not Finished';
}

/** Whether the person has reached the verification steps (before that every block is null). */
function ran(session: FakeDiditSession): boolean {
  return !['Not Started', 'Expired'].includes(session.status);
}

/** The full decision (`GET /v3/session/{id}/decision/`, and `decision` in a webhook). */
export function decisionOf(session: FakeDiditSession, baseUrl: string): Record<string, unknown> {
  const person = session.person;
  const warningsFor = (feature: FakeDiditSession['failedFeature']) =>
    feature === session.failedFeature && ['Declined', 'In Review'].includes(session.status)
      ? session.warnings.map((warning) => ({ ...warning, additional_data: null, log_type: 'error' }))
      : [];
  const started = ran(session);
  return {
    session_id: session.session_id,
    session_kind: 'user',
    session_number: session.session_number,
    session_url: `${baseUrl}/session/${session.session_token}`,
    status: session.status,
    environment: 'sandbox',
    workflow_id: session.workflow_id,
    features: ['ID_VERIFICATION', 'LIVENESS', 'FACE_MATCH'],
    vendor_data: session.vendor_data,
    metadata: session.metadata,
    expected_details: session.expected_details,
    contact_details: session.contact_details,
    callback: session.callback,
    id_verifications: started
      ? [
          {
            node_id: 'feature_ocr_1',
            status: featureStatus(session, 'id_verifications'),
            document_type: person.document_type,
            document_subtype: 'ID_CARD_GENERIC',
            document_number: person.document_number,
            personal_number: null,
            portrait_image: media(session, 'portrait.jpg'),
            front_image: media(session, 'front.jpg'),
            back_image: media(session, 'back.jpg'),
            full_front_image: media(session, 'full_front.jpg'),
            date_of_birth: person.date_of_birth,
            age: ageOn(person.date_of_birth, new Date()),
            expiration_date: '2031-01-01',
            date_of_issue: '2021-01-01',
            issuing_state: person.nationality,
            issuing_state_name: person.nationality === 'KEN' ? 'Kenya' : person.nationality,
            first_name: person.first_name,
            last_name: person.last_name,
            full_name: `${person.first_name} ${person.last_name}`,
            gender: 'F',
            nationality: person.nationality,
            place_of_birth: null,
            address: null,
            warnings: warningsFor('id_verifications'),
          },
        ]
      : null,
    nfc_verifications: null,
    liveness_checks: started
      ? [
          {
            node_id: 'feature_liveness_1',
            status: featureStatus(session, 'liveness_checks'),
            method: 'PASSIVE',
            // Didit sends floats: 95.0 canonicalises to 95 in X-Signature-V2.
            score: person.liveness_score,
            reference_image: media(session, 'liveness_reference.jpg'),
            video_url: media(session, 'liveness.mp4'),
            age_estimation: 30.2,
            warnings: warningsFor('liveness_checks'),
          },
        ]
      : null,
    face_matches: started
      ? [
          {
            node_id: 'feature_face_1',
            status: featureStatus(session, 'face_matches'),
            score: person.face_match_score,
            source_image: media(session, 'face_source.jpg'),
            target_image: media(session, 'face_target.jpg'),
            warnings: warningsFor('face_matches'),
          },
        ]
      : null,
    poa_verifications: null,
    phone_verifications: null,
    email_verifications: null,
    aml_screenings: null,
    ip_analyses: null,
    database_validations: null,
    questionnaire_responses: null,
    reviews: [],
    created_at: session.created_at,
  };
}

function ageOn(dateOfBirth: string, today: Date): number | null {
  const born = new Date(`${dateOfBirth}T00:00:00Z`);
  if (Number.isNaN(born.getTime())) return null;
  let age = today.getUTCFullYear() - born.getUTCFullYear();
  const before =
    today.getUTCMonth() < born.getUTCMonth() ||
    (today.getUTCMonth() === born.getUTCMonth() && today.getUTCDate() < born.getUTCDate());
  if (before) age -= 1;
  return age;
}

/** A seeded generator (mulberry32) so a shuffled delivery order is reproducible from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}
