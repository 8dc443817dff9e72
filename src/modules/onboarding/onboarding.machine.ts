/**
 * The registration's state machine: ONE table, state × step → next state. Every step of every area goes through
 * `journey.advance`, which refuses a step this table does not allow in the current state (409
 * REGISTRATION_STEP_OUT_OF_ORDER with the expected steps). machine.test.ts walks every state × step pair.
 *
 * The journey: phone_checked → identity (CBS lookup, or a Didit session: identity_pending / identity_review) →
 * identity_verified → phone OTP → phone_verified → email OTP (or skipped when email is optional) → email_verified
 * → terms → terms_accepted → PIN and device → credentials_set → completed (auto-approved) or in_review (manual queue)
 * → completed | rejected | info_requested (a reviewer reopened a step: identity again, or corrected details).
 * Didit may end a journey (declined) or let it restart from the identity step (identity_expired: expired or
 * abandoned). A registration from USSD (onboarding.ussd.ts) walks the same table with its own steps, which no app
 * route sends: the identity the customer typed, unconfirmed by the bank (`identity_declared`), and the phone proved by
 * the mobile network that delivered the session (`phone_network`) instead of a phone OTP. `expire` ends any
 * unfinished registration whose token lapsed; `purge` clears an ended one's PII.
 */

export const STATES = [
  'phone_checked',
  /** The phone belongs to a customer already: the app is pointed to sign-in or PIN reset; no step follows. */
  'sign_in_required',
  'identity_pending',
  'identity_review',
  'identity_expired',
  'identity_verified',
  /** USSD: the customer typed their identity and the bank did not confirm it (manual review unless allowed). */
  'identity_declared',
  'phone_verified',
  'email_verified',
  'terms_accepted',
  'credentials_set',
  'in_review',
  'info_requested',
  'completed',
  'declined',
  'rejected',
  'expired',
  'purged',
] as const;
export type RegistrationState = (typeof STATES)[number];

/** Steps the app sends (with the registration token). */
export const CUSTOMER_STEPS = [
  'identity_cbs',
  'identity_didit',
  'phone_otp_send',
  'phone_otp_verify',
  'email_otp_send',
  'email_otp_verify',
  'email_skip',
  'terms_accept',
  'pin_set',
  'details_update',
  'complete',
] as const;

/**
 * Steps only the USSD registration takes (onboarding.ussd.ts): the gateway's MSISDN is the phone proof, and an
 * identity the bank did not confirm is declared. No app route sends them, and the app is never told to.
 */
export const USSD_STEPS = ['identity_declared', 'phone_network'] as const;

/** Steps the system takes (Didit's decision, completion's outcome, reviewers, housekeeping). */
export const SYSTEM_STEPS = [
  'didit_in_review',
  'didit_approved',
  'didit_declined',
  'didit_expired',
  /** Didit's reviewer corrected the verified data (`data.updated`): the identity is re-mapped, the state kept. */
  'didit_data_updated',
  'complete_approved',
  'complete_review',
  'review_approve',
  'review_reject',
  'review_request_info',
  'expire',
  'purge',
] as const;

export const STEPS = [...CUSTOMER_STEPS, ...USSD_STEPS, ...SYSTEM_STEPS] as const;
export type RegistrationStep = (typeof STEPS)[number];

type Table = {
  readonly [S in RegistrationState]: Partial<Readonly<Record<RegistrationStep, RegistrationState>>>;
};

/** States a registration can still move on from (by a customer, Didit or a reviewer). */
const UNFINISHED: readonly RegistrationState[] = [
  'phone_checked',
  'identity_pending',
  'identity_review',
  'identity_expired',
  'identity_verified',
  'identity_declared',
  'phone_verified',
  'email_verified',
  'terms_accepted',
  'credentials_set',
  'info_requested',
];

/** Identity steps: from a fresh registration, after Didit expired or was abandoned, or reopened by a reviewer. */
const IDENTITY = { identity_cbs: 'identity_verified', identity_didit: 'identity_pending' } as const;
/** A Didit decision arriving (webhook, callback or polling) while the session is open or in review. */
const DIDIT = {
  didit_in_review: 'identity_review',
  didit_approved: 'identity_verified',
  didit_declined: 'declined',
  didit_expired: 'identity_expired',
} as const;

/**
 * A Didit correction after the identity was verified and before activation: re-mapped in place (the comparison with
 * the declared details runs again; completion or the reviewer reads the new mismatches).
 */
const correctedIn = <S extends RegistrationState>(state: S) => ({ didit_data_updated: state }) as const;

export const TRANSITIONS: Table = {
  phone_checked: { ...IDENTITY, identity_declared: 'identity_declared', expire: 'expired' },
  sign_in_required: { expire: 'expired' },
  identity_pending: { ...DIDIT, expire: 'expired' },
  identity_review: { ...DIDIT, didit_in_review: 'identity_review', expire: 'expired' },
  identity_expired: { ...IDENTITY, expire: 'expired' },
  identity_verified: {
    ...correctedIn('identity_verified'),
    phone_otp_send: 'identity_verified',
    phone_otp_verify: 'phone_verified',
    phone_network: 'phone_verified',
    expire: 'expired',
  },
  identity_declared: {
    // An agent-assisted registration proves the phone with the customer's OTP (USSD: the network proved it).
    phone_otp_send: 'identity_declared',
    phone_otp_verify: 'phone_verified',
    phone_network: 'phone_verified',
    expire: 'expired',
  },
  phone_verified: {
    ...correctedIn('phone_verified'),
    email_otp_send: 'phone_verified',
    email_otp_verify: 'email_verified',
    email_skip: 'email_verified',
    expire: 'expired',
  },
  email_verified: { ...correctedIn('email_verified'), terms_accept: 'terms_accepted', expire: 'expired' },
  terms_accepted: { ...correctedIn('terms_accepted'), pin_set: 'credentials_set', expire: 'expired' },
  credentials_set: {
    ...correctedIn('credentials_set'),
    complete: 'credentials_set',
    complete_approved: 'completed',
    complete_review: 'in_review',
    expire: 'expired',
  },
  in_review: {
    ...correctedIn('in_review'),
    review_approve: 'completed',
    review_reject: 'rejected',
    review_request_info: 'info_requested',
  },
  info_requested: {
    ...IDENTITY,
    ...correctedIn('info_requested'),
    details_update: 'in_review',
    expire: 'expired',
  },
  completed: { purge: 'purged' },
  declined: { purge: 'purged' },
  rejected: { purge: 'purged' },
  expired: { purge: 'purged' },
  purged: {},
};

/** The state a step leads to from `state`, or null when the table does not allow it there. */
export function nextState(state: RegistrationState, step: RegistrationStep): RegistrationState | null {
  return TRANSITIONS[state]?.[step] ?? null;
}

/** Every step allowed in a state (system steps included). */
export function allowedSteps(state: RegistrationState): RegistrationStep[] {
  return Object.keys(TRANSITIONS[state] ?? {}) as RegistrationStep[];
}

/** The steps the app may send next (what a 409 and the status answer name). */
export function expectedSteps(state: RegistrationState): RegistrationStep[] {
  return allowedSteps(state).filter((step) => (CUSTOMER_STEPS as readonly string[]).includes(step));
}

export function isState(value: string): value is RegistrationState {
  return (STATES as readonly string[]).includes(value);
}

/** Whether the registration is still in progress (housekeeping expires these when their token lapses). */
export function isUnfinished(state: RegistrationState): boolean {
  return UNFINISHED.includes(state);
}

export const UNFINISHED_STATES = UNFINISHED;
/** States housekeeping expires once the token lapsed: the unfinished ones and a pointer to sign-in (its phone goes). */
export const EXPIRABLE_STATES: readonly RegistrationState[] = [...UNFINISHED, 'sign_in_required'];
/** Ended registrations whose PII the purge clears after the retention period. */
export const ENDED_STATES: readonly RegistrationState[] = ['completed', 'declined', 'rejected', 'expired'];
