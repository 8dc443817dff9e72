/**
 * The one catalogue of the API's error codes: every `error_code` an answer (or a WebSocket error frame) can carry,
 * with its single HTTP status and what it means. `AppError` takes only a code of this catalogue, with the status
 * the catalogue gives it (a free string, or another status, is a type error), and the OpenAPI document lists each
 * operation's codes from it. Adding a code: add it here first.
 */

export interface ErrorCatalogueEntry {
  readonly status: number;
  readonly description: string;
  /** The answer carries `Retry-After`. */
  readonly retryAfter?: true;
  /** Sent only as a WebSocket error frame (`{"type":"error","code"}`), never as an HTTP answer. */
  readonly websocket?: true;
  /** The documented example's message and details, where the description alone would not show them. */
  readonly example?: { readonly message: string; readonly details: unknown };
}

export const ERROR_CATALOGUE = {
  // Generic: any operation
  BAD_REQUEST: { status: 400, description: 'The request could not be understood.' },
  MALFORMED_REQUEST: {
    status: 400,
    description: 'The body (JSON or multipart) or the URL is malformed.',
  },
  VALIDATION_ERROR: {
    status: 422,
    description:
      'A field is missing or invalid; `details.errors` names each field (`body.x`, `query.x`, `params.x`).',
    example: {
      message: 'Request validation failed',
      details: { errors: [{ field: 'body.amount', message: 'must be >= 1', rule: 'minimum' }] },
    },
  },
  UNAUTHORIZED: { status: 401, description: 'No credentials, or credentials that do not authenticate.' },
  INVALID_TOKEN: { status: 401, description: 'The access token is invalid or expired.' },
  TOKEN_REVOKED: {
    status: 401,
    description: 'The session of this token was revoked (logout, password change).',
  },
  FORBIDDEN: { status: 403, description: 'The principal lacks the permission this operation requires.' },
  ACCESS_POLICY: {
    status: 403,
    description: 'An access policy (channel, IP allowlist, hours) refuses this request.',
  },
  PASSWORD_CHANGE_REQUIRED: {
    status: 403,
    description: 'The password is temporary or expired: only the password change is open.',
  },
  MFA_ENROLLMENT_REQUIRED: {
    status: 403,
    description: 'Staff must enrol a second factor first: only enrolment is open.',
  },
  NOT_FOUND: {
    status: 404,
    description: 'No such resource, or one the caller may not see (never distinguished).',
  },
  CONFLICT: {
    status: 409,
    description: 'The resource changed meanwhile (for example settled by someone else).',
  },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The body is larger than the limit.' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    description: 'The body is of a content type this operation does not take.',
  },
  LOCKED: { status: 423, description: 'Locked after too many failed attempts.', retryAfter: true },
  UPGRADE_REQUIRED: { status: 426, description: 'The endpoint is a WebSocket: send an upgrade request.' },
  RATE_LIMITED: {
    status: 429,
    description: 'Too many requests from this client.',
    retryAfter: true,
    example: { message: 'Too many requests', details: { retry_after_seconds: 30 } },
  },
  INTERNAL_ERROR: {
    status: 500,
    description: 'An unexpected failure; the server log has it under the request id.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    description: 'A dependency (database, Redis) is unavailable or busy, or the node is shutting down.',
    retryAfter: true,
  },

  // Idempotency
  IDEMPOTENCY_KEY_REQUIRED: {
    status: 400,
    description: 'This operation requires an Idempotency-Key header.',
  },
  IDEMPOTENCY_KEY_INVALID: {
    status: 400,
    description: 'The Idempotency-Key is not 8–255 printable ASCII characters.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    description: 'This Idempotency-Key was used with a different request.',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    description: 'A request with this Idempotency-Key is still running; retry shortly.',
    retryAfter: true,
  },

  // Identity and sessions
  INVALID_CREDENTIALS: {
    status: 401,
    description: 'Wrong username, email, phone or password (never which).',
  },
  ACCOUNT_LOCKED: {
    status: 423,
    description: 'The account is locked after too many failed sign-ins.',
    retryAfter: true,
  },
  ACCOUNT_INACTIVE: { status: 403, description: 'The account is suspended, disabled or closed.' },
  PASSWORD_POLICY: {
    status: 422,
    description: 'The new password does not meet the password policy; `details.reasons` says why.',
  },
  USER_EXISTS: { status: 409, description: 'A user with this username, email or phone exists.' },
  ROLES_NEED_APPROVAL: {
    status: 409,
    description: 'Role assignment is under maker-checker: create the user without roles, then assign them.',
  },
  BEYOND_OWN_PERMISSIONS: { status: 403, description: 'Nobody may grant permissions they do not hold.' },
  INVALID_MFA_CODE: { status: 401, description: 'The second-factor code is wrong or already used.' },
  MFA_ALREADY_ENABLED: { status: 409, description: 'This second factor is already on.' },
  MFA_NOT_ENABLED: { status: 409, description: 'This second factor is not on.' },
  MFA_NOT_ENROLLED: { status: 409, description: 'Start the enrolment of this factor first.' },
  MFA_FACTOR_UNAVAILABLE: { status: 422, description: 'This factor is not one of this sign-in.' },
  PHONE_REQUIRED: { status: 409, description: 'The account has no phone number for SMS codes.' },
  DUPLICATE_QUESTION: { status: 422, description: 'A security question is answered twice.' },
  UNKNOWN_QUESTION: { status: 422, description: 'A security question is not in the catalogue.' },
  QUESTIONS_NOT_SET: { status: 409, description: 'No security questions are set.' },
  DEVICE_LIMIT: { status: 409, description: 'Too many registered devices; revoke one first.' },
  INVALID_PUBLIC_KEY: { status: 422, description: 'The device public key is not a usable Ed25519 key.' },
  INVALID_SIGNATURE: {
    status: 401,
    description: 'The signature does not verify with a registered device key.',
  },
  NO_DEVICE: { status: 409, description: 'No registered device can receive a push challenge.' },
  PUSH_CHALLENGE_CLOSED: { status: 409, description: 'The push challenge was already answered or expired.' },
  PUSH_CHALLENGE_LOCKED: { status: 423, description: 'Too many bad signatures closed the push challenge.' },
  PUSH_NOT_APPROVED: { status: 401, description: 'The sign-in was not approved on the device.' },
  OTP_INVALID: {
    status: 401,
    description: 'The one-time code is wrong or expired; `details.attempts_left`.',
  },
  OTP_LOCKED: { status: 423, description: 'Too many wrong codes: request a new one.' },
  OTP_COOLDOWN: {
    status: 429,
    description: 'A code was sent moments ago; wait before asking again.',
    retryAfter: true,
  },
  OTP_RATE_LIMITED: {
    status: 429,
    description: 'Too many codes requested for this subject this hour.',
    retryAfter: true,
  },

  // Access control (roles, permissions, policies, approvals)
  ROLE_EXISTS: { status: 409, description: 'A role with this code exists.' },
  ROLE_IN_USE: { status: 409, description: 'The role is held by users; remove it from them first.' },
  SYSTEM_ROLE: { status: 409, description: 'System roles cannot be deleted or renamed.' },
  UNKNOWN_ROLE: { status: 422, description: 'No role has this code.' },
  UNKNOWN_PERMISSION: { status: 422, description: 'A permission code does not exist.' },
  PROTECTED_PERMISSION: {
    status: 409,
    description: 'super_admin must keep permission:manage, or nobody could grant it back.',
  },
  PERMISSIONS_NEED_APPROVAL: {
    status: 409,
    description:
      'Granting permissions is under maker-checker: create the role without them, then grant them.',
  },
  LAST_SUPER_ADMIN: { status: 409, description: 'At least one active super administrator must remain.' },
  SELF_STATUS_CHANGE: { status: 409, description: 'Nobody may change the status of their own account.' },
  UNKNOWN_ACTION: { status: 422, description: 'No maker-checker action has this name.' },
  NOT_PENDING: { status: 409, description: 'The request was already decided or cancelled.' },
  OWN_REQUEST: {
    status: 403,
    description: 'Maker-checker: whoever made a request (or opened a case) cannot also decide it.',
  },
  APPROVAL_ALREADY_PENDING: {
    status: 409,
    description: 'The same request is already waiting for approval; decide or cancel that one first.',
  },
  VERSION_CONFLICT: {
    status: 409,
    description: 'The setting changed since it was read (`version` differs).',
  },
  CATEGORY_EXISTS: { status: 409, description: 'A category with this code exists for this entity type.' },

  // Customers, KYC, documents
  CUSTOMER_EXISTS: { status: 409, description: 'A customer with this phone, email or national ID exists.' },
  CUSTOMER_ERASED: { status: 409, description: 'The customer was erased; the record is anonymised.' },
  CUSTOMER_INACTIVE: { status: 409, description: 'The customer is suspended or closed.' },
  CUSTOMER_UNAVAILABLE: { status: 409, description: 'The customer is suspended, closed or erased.' },
  PRIMARY_CONTACT: { status: 409, description: 'Make another contact primary before removing this one.' },
  INVALID_PIN: { status: 401, description: 'Wrong phone number or PIN (never which).' },
  PIN_LOCKED: { status: 423, description: 'The PIN is locked after too many wrong tries; staff reset it.' },
  PIN_NOT_SET: { status: 409, description: 'The customer has no PIN yet.' },
  PIN_POLICY: { status: 422, description: 'The PIN is not 4–6 digits.' },
  WEAK_PIN: {
    status: 422,
    description: 'The PIN is guessable (a run, a repeat, a common PIN or a year); choose another.',
  },
  IDENTITY_MISMATCH: {
    status: 401,
    description: 'The ID number does not match the one on file; the reset code is used up.',
  },
  UNKNOWN_TIER: { status: 422, description: 'No KYC tier has this code.' },
  KYC_IN_PROGRESS: { status: 409, description: 'An application for this tier is already open.' },
  KYC_WRONG_STATE: { status: 409, description: 'The application is not in a state that allows this step.' },
  NOT_AN_UPGRADE: { status: 409, description: 'The target tier is not above the customer’s current tier.' },
  CHECKLIST_INCOMPLETE: { status: 409, description: 'Documents or checks the tier requires are missing.' },
  DOCUMENT_REJECTED: {
    status: 422,
    description: 'The file was refused: not a PDF, JPEG or PNG by its bytes, or it holds active content.',
  },
  DOCUMENT_INTEGRITY: { status: 409, description: 'The stored document failed its integrity check.' },
  NOT_REVIEWABLE: { status: 409, description: 'The document was already reviewed.' },
  OWN_DOCUMENT: { status: 403, description: 'The staff member who uploaded a document cannot review it.' },

  // Wallets and products
  WALLET_EXISTS: { status: 409, description: 'The customer already has a wallet in this currency.' },
  WALLET_NOT_ACTIVE: { status: 409, description: 'The wallet is frozen or closed.' },
  WALLET_NOT_EMPTY: {
    status: 409,
    description: 'Only a wallet with a zero balance and no holds can be closed.',
  },
  WALLET_CLOSED: { status: 409, description: 'A closed wallet cannot be reopened.' },
  NO_WALLET_PRODUCT: { status: 422, description: 'No active wallet product for this currency.' },
  PRODUCT_EXISTS: { status: 409, description: 'A wallet product with this code exists.' },
  UNSUPPORTED_CURRENCY: { status: 422, description: 'The currency is not supported.' },
  EXPORT_TOO_LARGE: { status: 422, description: 'The statement period has too many lines; narrow it.' },
  RECIPIENT_NOT_FOUND: {
    status: 404,
    description: 'No wallet in this currency for that wallet number or phone.',
  },

  // Payments
  INSUFFICIENT_BALANCE: {
    status: 422,
    description: 'The available balance does not cover amount, fee and duty; `details` has the figures.',
    example: {
      message: 'Insufficient balance for transaction',
      details: { required: 152875, available: 100000, deficit: 52875 },
    },
  },
  LIMIT_EXCEEDED: {
    status: 422,
    description: 'A transaction limit (per transaction, day, week or month) would be exceeded.',
    example: {
      message: 'This transaction exceeds your daily limit',
      details: { scope: 'customer', period: 'daily', kind: 'amount', limit: 7000000, remaining: 250000 },
    },
  },
  RECIPIENT_UNAVAILABLE: { status: 422, description: 'The recipient wallet cannot receive payments now.' },
  RECIPIENT_LIMIT_EXCEEDED: { status: 422, description: 'The recipient cannot receive this amount now.' },
  BALANCE_CAP_EXCEEDED: {
    status: 422,
    description: 'The receiving wallet would exceed its maximum balance.',
  },
  CURRENCY_MISMATCH: {
    status: 422,
    description: 'The currency differs from the wallet’s, product’s or biller’s.',
  },
  SAME_WALLET: { status: 422, description: 'Source and destination are the same wallet.' },
  FEATURE_NOT_ALLOWED: {
    status: 403,
    description: 'The feature is not open on this channel at the customer’s KYC tier.',
  },
  CHANNEL_NOT_ALLOWED: { status: 403, description: 'The wallet product does not allow this channel.' },
  FEATURE_DISABLED: { status: 403, description: 'The feature is switched off.' },
  STAFF_PAYMENT_NOT_ALLOWED: {
    status: 403,
    description: 'Staff may not move a customer’s money this way without the dedicated permission.',
  },
  AML_REFUSED: { status: 422, description: 'A screening check (a pre-posting hook) refused the payment.' },
  NOT_A_CUSTOMER_WALLET: { status: 422, description: 'The wallet does not belong to a customer.' },
  OTP_REQUIRED: {
    status: 428,
    description: 'This amount needs a one-time code, now sent; repeat the request with `otp`.',
    example: {
      message: 'This amount needs a one-time code; it was sent to your phone. Repeat the request with it.',
      details: { challenge_id: 'otp_7f3c2e8a9b10d4c5', expires_at: '2026-03-14T09:31:53.000Z' },
    },
  },
  NO_FX_RATE: { status: 422, description: 'No exchange rate is set for this currency pair.' },
  SAME_CURRENCY: { status: 422, description: 'A conversion needs two different currencies.' },
  AMOUNT_TOO_SMALL: {
    status: 422,
    description: 'The amount converts to less than one minor unit of the target currency.',
  },

  // Merchants and QR codes
  MERCHANT_UNAVAILABLE: { status: 422, description: 'The merchant is not active and cannot be paid.' },
  MERCHANT_STATUS_UNCHANGED: { status: 409, description: 'The merchant already has this status.' },
  MERCHANT_CLOSED: { status: 409, description: 'A closed merchant cannot change status.' },
  INVALID_QR: {
    status: 422,
    description: 'The QR payload is not valid EMVCo; `details.field` names the field.',
  },
  UNKNOWN_QR_SCHEME: {
    status: 422,
    description: 'The QR code does not carry a merchant account of this platform.',
  },
  QR_EXPIRED: { status: 422, description: 'The dynamic QR code has expired.' },
  QR_ALREADY_USED: { status: 409, description: 'The single-use QR code was already paid.' },
  AMOUNT_MISMATCH: { status: 422, description: 'The amount differs from the amount in the QR code.' },
  REFERENCE_EXISTS: { status: 409, description: 'A QR code with this reference exists.' },

  // Bills
  BILLER_NOT_FOUND: { status: 404, description: 'No biller has this id or code.' },
  BILLER_EXISTS: { status: 409, description: 'A biller with this code exists.' },
  UNKNOWN_BILLER_ADAPTER: { status: 422, description: 'No biller adapter has this name.' },
  INVALID_REFERENCE_PATTERN: {
    status: 422,
    description: 'The biller’s reference pattern is not a usable expression.',
  },
  BILLER_UNAVAILABLE: { status: 422, description: 'The biller is not accepting payments now.' },
  INVALID_BILL_REFERENCE: {
    status: 422,
    description: 'The account, meter or smartcard number is not valid.',
  },
  AMOUNT_OUT_OF_RANGE: { status: 422, description: 'The amount is outside what this biller accepts.' },

  // Bank accounts (core banking)
  CBS_NOT_CONFIGURED: {
    status: 503,
    description: 'No core banking system is configured (FINERACT_BASE_URL).',
  },
  CBS_UNAVAILABLE: {
    status: 503,
    description: 'The core banking system is not answering.',
    retryAfter: true,
  },
  CUSTOMER_ONLY: {
    status: 403,
    description: 'Only the account holder can move money to or from their bank.',
  },
  ACCOUNT_ALREADY_LINKED: {
    status: 409,
    description: 'This bank account is already linked to the customer.',
  },
  ACCOUNT_NOT_LINKABLE: { status: 409, description: 'This bank account cannot be linked.' },
  LINK_ATTEMPTS_EXHAUSTED: {
    status: 429,
    description: 'The bank account had too many verification attempts.',
    retryAfter: true,
  },
  LINKED_ACCOUNT_LIMIT: {
    status: 409,
    description: 'The customer has linked the most bank accounts allowed.',
  },
  ACCOUNT_NOT_VERIFIED: { status: 409, description: 'The bank account must be verified first.' },
  VERIFICATION_CLOSED: { status: 409, description: 'Verification of the bank account failed or is over.' },
  NO_MICRO_DEPOSIT: { status: 409, description: 'No micro deposit was sent to this account.' },
  MICRO_DEPOSIT_ALREADY_SENT: {
    status: 409,
    description: 'A micro deposit was already sent; confirm its amount.',
  },
  BANK_REJECTED: { status: 422, description: 'The bank refused the transfer; `details.reason` says why.' },
  BANK_OUTCOME_UNKNOWN: {
    status: 503,
    description:
      'The bank did not confirm the transfer; it stays processing until reconciliation settles it.',
  },

  // Reversals and disputes
  NOT_REVERSIBLE: { status: 409, description: 'The transaction’s type or status cannot be reversed.' },
  ALREADY_REVERSED: { status: 409, description: 'The transaction was already reversed.' },
  REVERSAL_INSUFFICIENT_FUNDS: { status: 409, description: 'The receiving side no longer holds the amount.' },
  COUNTERPARTY_INSUFFICIENT_FUNDS: {
    status: 409,
    description: 'The counterparty cannot cover the movement.',
  },
  NOT_DISPUTABLE: { status: 422, description: 'Transactions of this type cannot be disputed.' },
  NOT_DISPUTABLE_STATUS: { status: 409, description: 'Only a completed transaction can be disputed.' },
  DISPUTE_WINDOW_CLOSED: { status: 422, description: 'The dispute window of the payment has closed.' },
  DISPUTE_EXISTS: { status: 409, description: 'The transaction already has a dispute.' },
  DISPUTE_CLOSED: { status: 409, description: 'The dispute was already decided.' },
  DISPUTE_NOT_OPEN: { status: 409, description: 'Only an open dispute can be taken into investigation.' },
  DISPUTE_OPEN: {
    status: 409,
    description: 'The transaction has an open dispute; resolve the dispute instead.',
  },
  ALREADY_REFUNDED: { status: 409, description: 'The transaction was already refunded through a dispute.' },
  HOLD_CHANGED: {
    status: 409,
    description: 'The dispute hold changed while resolving; try again.',
    retryAfter: true,
  },

  // Support chat
  CONVERSATION_CLOSED: { status: 409, description: 'The conversation is closed.' },
  CLIENT_ID_REUSED: { status: 409, description: 'This client_id was used for a different message.' },
  TOO_MANY_OPEN_CONVERSATIONS: { status: 409, description: 'Too many conversations are open at once.' },

  // WebSocket error frames
  UNKNOWN_TYPE: { status: 400, description: 'WebSocket: unknown message type.', websocket: true },
  BAD_MESSAGE: {
    status: 400,
    description: 'WebSocket: not a JSON object with a string `type` (or a binary message).',
    websocket: true,
  },
  INVALID_JSON: { status: 400, description: 'WebSocket: the message is not valid JSON.', websocket: true },
  UNKNOWN_CHANNEL: { status: 400, description: 'WebSocket: no such channel.', websocket: true },
  TOO_MANY_SUBSCRIPTIONS: {
    status: 400,
    description: 'WebSocket: the socket has the most subscriptions allowed.',
    websocket: true,
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The status the catalogue gives a code (for several codes, the union of theirs). */
export type ErrorStatus<C extends ErrorCode> = (typeof ERROR_CATALOGUE)[C]['status'];

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, value);
}
