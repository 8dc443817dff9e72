/**
 * Error codes are declared where they belong, each with its single HTTP status, its message and what it means:
 * - the platform declares here only the codes of what every module shares: malformed or invalid input,
 *   authentication and permission, not found, conflict, body limits, rate limits, unavailable dependencies, and the
 *   platform's own services (idempotency keys, one-time codes, currencies);
 * - each module declares its closed set in its `<module>.errors.ts` with `defineErrors`, and adds the codes to
 *   `ErrorCodes` by declaration merging, so the platform knows every code without importing any module:
 *
 *       const definitions = { WALLET_CLOSED: { status: 409, message: '…', description: '…' } } as const
 *         satisfies ErrorDefinitions;
 *       type WalletErrorCodes = typeof definitions;
 *       declare module '../../platform/error-catalogue.ts' {
 *         interface ErrorCodes extends WalletErrorCodes {}
 *       }
 *       export const walletErrorCatalogue = defineErrors('wallets', definitions);
 *       throw walletErrorCatalogue.WALLET_CLOSED();
 *
 * `AppError` takes only a declared code, with the status its definition gives it: a free string, or another status,
 * does not compile. At run time `collectErrorCatalogue` (called by the composition root, src/errors.ts) gathers the
 * platform's and every module's definitions for the OpenAPI document and docs/errors.md, and refuses a code that two
 * catalogues declare.
 */

export type ErrorDetails = Record<string, unknown> | unknown[] | null;

export interface ErrorDefinition {
  readonly status: number;
  /**
   * The answer's message. `{name}` placeholders are filled from the factory's `params` (which the type then
   * requires); a call may give its own message where one wording does not fit every case.
   */
  readonly message: string;
  /** What the code means, for the OpenAPI document and docs/errors.md. */
  readonly description: string;
  /** The answer carries `Retry-After`. */
  readonly retryAfter?: true;
  /** Sent only as a WebSocket error frame (`{"type":"error","code"}`), never as an HTTP answer. */
  readonly websocket?: true;
  /** The documented example's message and details, where the description alone would not show them. */
  readonly example?: { readonly message: string; readonly details: unknown };
}

/** A catalogue's definitions by code; codes are upper-case letters, digits and underscores. */
export type ErrorDefinitions = Readonly<Record<string, ErrorDefinition>>;

const PLATFORM_ERRORS = {
  BAD_REQUEST: { status: 400, message: 'Bad request', description: 'The request could not be understood.' },
  MALFORMED_REQUEST: {
    status: 400,
    message: 'Request body is not valid JSON',
    description: 'The body (JSON or multipart) or the URL is malformed.',
  },
  VALIDATION_ERROR: {
    status: 422,
    message: 'Request validation failed',
    description:
      'A field is missing or invalid; `details.errors` names each field (`body.x`, `query.x`, `params.x`).',
    example: {
      message: 'Request validation failed',
      details: { errors: [{ field: 'body.amount', message: 'must be >= 1', rule: 'minimum' }] },
    },
  },
  UNAUTHORIZED: {
    status: 401,
    message: 'Authentication required',
    description: 'No credentials, or credentials that do not authenticate.',
  },
  FORBIDDEN: {
    status: 403,
    message: 'You do not have permission to do this',
    description: 'The principal lacks the permission this operation requires.',
  },
  NOT_FOUND: {
    status: 404,
    message: '{entity} not found',
    description: 'No such resource, or one the caller may not see (never distinguished).',
  },
  CONFLICT: {
    status: 409,
    message: 'The resource changed meanwhile',
    description: 'The resource changed meanwhile (for example settled by someone else).',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    message: 'Request body is too large',
    description: 'The body is larger than the limit.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'Unsupported content type',
    description: 'The body is of a content type this operation does not take.',
  },
  LOCKED: {
    status: 423,
    message: 'Too many failed attempts; try again later',
    description: 'Locked after too many failed attempts.',
    retryAfter: true,
  },
  RATE_LIMITED: {
    status: 429,
    message: 'Too many requests',
    description: 'Too many requests from this client.',
    retryAfter: true,
    example: { message: 'Too many requests', details: { retry_after_seconds: 30 } },
  },
  INTERNAL_ERROR: {
    status: 500,
    message: 'An unexpected error occurred',
    description: 'An unexpected failure; the server log has it under the request id.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    message: 'A dependency is unavailable',
    description: 'A dependency (database, Redis) is unavailable or busy, or the node is shutting down.',
    retryAfter: true,
  },

  // Idempotency (src/platform/idempotency.ts)
  IDEMPOTENCY_KEY_REQUIRED: {
    status: 400,
    message: 'This operation requires an Idempotency-Key header (8–255 printable characters)',
    description: 'This operation requires an Idempotency-Key header.',
  },
  IDEMPOTENCY_KEY_INVALID: {
    status: 400,
    message: 'Idempotency-Key must be 8–255 printable ASCII characters',
    description: 'The Idempotency-Key is not 8–255 printable ASCII characters.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    message: 'This Idempotency-Key was used with a different request',
    description: 'This Idempotency-Key was used with a different request.',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    message: 'A request with this Idempotency-Key is still being processed',
    description: 'A request with this Idempotency-Key is still running; retry shortly.',
    retryAfter: true,
  },

  // One-time codes (src/platform/otp.ts)
  OTP_INVALID: {
    status: 401,
    message: 'The code is wrong or has expired',
    description: 'The one-time code is wrong or expired; `details.attempts_left`.',
  },
  OTP_LOCKED: {
    status: 423,
    message: 'Too many wrong codes; request a new code',
    description: 'Too many wrong codes: request a new one.',
  },
  OTP_COOLDOWN: {
    status: 429,
    message: 'A code was sent moments ago; wait before asking again',
    description: 'A code was sent moments ago; wait before asking again.',
    retryAfter: true,
  },
  OTP_RATE_LIMITED: {
    status: 429,
    message: 'Too many codes were requested; try again later',
    description: 'Too many codes requested for this subject this hour.',
    retryAfter: true,
  },

  // Currencies (src/platform/money.ts)
  UNSUPPORTED_CURRENCY: {
    status: 422,
    message: 'Currency {currency} is not supported',
    description: 'The currency is not supported.',
  },
  CURRENCY_MISMATCH: {
    status: 422,
    message: 'The currencies differ',
    description: 'The currency differs from the wallet’s, product’s or biller’s.',
  },
} as const satisfies ErrorDefinitions;

type PlatformErrorCodes = typeof PLATFORM_ERRORS;

/**
 * Every declared code with its definition: the platform's, and each module's, merged in by its errors file
 * (`declare module '../../platform/error-catalogue.ts' { interface ErrorCodes extends … {} }`).
 */
export interface ErrorCodes extends PlatformErrorCodes {}

/** A declared error code: the only `error_code` an answer can carry. */
export type ErrorCode = keyof ErrorCodes & string;

/** The status a code's definition gives it (for several codes, the union of theirs). */
export type ErrorStatus<C extends ErrorCode> = ErrorCodes[C]['status'];

/**
 * A refusal with a declared code and the status its definition gives it. Made by a catalogue's factories
 * (`walletErrorCatalogue.WALLET_CLOSED()`), not built by hand outside the errors files.
 */
export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  readonly statusCode: number;
  readonly errorCode: C;
  readonly details: ErrorDetails;
  readonly headers: Record<string, string>;
  constructor(
    statusCode: ErrorStatus<C>,
    errorCode: C,
    message: string,
    details: ErrorDetails = null,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.statusCode = statusCode;
    this.errorCode = errorCode;
    this.details = details;
    this.headers = headers;
  }
}

/** The `{name}` placeholders of a message template. */
export type Placeholders<M extends string> = M extends `${string}{${infer Name}}${infer Rest}`
  ? Name | Placeholders<Rest>
  : never;

export type ParamValue = string | number | bigint;

export interface ErrorOptions {
  /** This answer's own message, where the definition's wording does not fit the case. */
  readonly message?: string;
  readonly details?: ErrorDetails;
  /** Headers of the answer (`retry-after` for codes that carry it). */
  readonly headers?: Record<string, string>;
}

/**
 * Makes the code's AppError. `params` fill the message template: required when it has placeholders, unless the
 * call gives its own message.
 */
export type ErrorFactory<C extends string, M extends string> = [Placeholders<M>] extends [never]
  ? (options?: ErrorOptions) => AppError<C & ErrorCode>
  : (
      options: ErrorOptions &
        ({ readonly params: Readonly<Record<Placeholders<M>, ParamValue>> } | { readonly message: string }),
    ) => AppError<C & ErrorCode>;

/** What a module contributes to the run-time catalogue (the `errors` of its module definition). */
export interface ErrorCatalogue {
  /** The module that owns the codes ("platform" for the generic ones). */
  readonly module: string;
  readonly definitions: ErrorDefinitions;
}

/** A catalogue with one factory per code: `catalogue.CODE({ params, details })`. */
export type DefinedErrors<D extends ErrorDefinitions> = ErrorCatalogue & {
  readonly definitions: D;
} & { readonly [C in keyof D & string]: ErrorFactory<C, D[C]['message']> };

const CODE_PATTERN = /^[A-Z][A-Z0-9_]*$/;

/** Fills `{name}` placeholders; a placeholder without its parameter is a programming error. */
export function renderMessage(template: string, params: Readonly<Record<string, ParamValue>> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`error message "${template}" needs the parameter ${name}`);
    return String(value);
  });
}

/**
 * Declares a module's error codes and returns its catalogue: the definitions, and one factory per code. Each code
 * must be in `ErrorCodes` (the module's errors file augments it), or this does not compile.
 */
export function defineErrors<const D extends ErrorDefinitions>(
  module: string,
  definitions: D & Record<Exclude<keyof D, ErrorCode>, never>,
): DefinedErrors<D> {
  const catalogue: Record<string, unknown> = { module, definitions };
  for (const [code, definition] of Object.entries(definitions as ErrorDefinitions)) {
    if (!CODE_PATTERN.test(code)) throw new Error(`${module}: error code "${code}" is not UPPER_SNAKE_CASE`);
    if (!Number.isInteger(definition.status) || definition.status < 400 || definition.status > 599)
      throw new Error(`${module}: error code ${code} has status ${definition.status}, not 4xx or 5xx`);
    catalogue[code] = (options: ErrorOptions & { params?: Record<string, ParamValue> } = {}) =>
      new AppError(
        definition.status as never,
        code as ErrorCode,
        options.message ?? renderMessage(definition.message, options.params),
        options.details ?? null,
        options.headers ?? {},
      );
  }
  return catalogue as DefinedErrors<D>;
}

/** The platform's generic codes (see `commonErrors` in errors.ts for the usual shapes). */
export const platformErrorCatalogue = defineErrors('platform', PLATFORM_ERRORS);

/** One code of the run-time catalogue: its definition and the module that declares it. */
export interface ErrorCatalogueEntry extends ErrorDefinition {
  readonly code: ErrorCode;
  readonly module: string;
}

/** Two catalogues declare the same code. */
export class DuplicateErrorCodeError extends Error {
  override name = 'DuplicateErrorCodeError';
}

/**
 * The run-time catalogue from the platform's and each module's: every code once, in the order given. Throws
 * `DuplicateErrorCodeError` naming both modules when two declare the same code.
 */
export function collectErrorCatalogue(
  catalogues: readonly ErrorCatalogue[],
): ReadonlyMap<ErrorCode, ErrorCatalogueEntry> {
  const entries = new Map<ErrorCode, ErrorCatalogueEntry>();
  for (const { module, definitions } of catalogues) {
    for (const [code, definition] of Object.entries(definitions)) {
      const known = entries.get(code as ErrorCode);
      if (known) {
        throw new DuplicateErrorCodeError(
          `error code ${code} is declared twice: by ${known.module} and by ${module}; one module owns a code and ` +
            'others use it through its index.ts',
        );
      }
      entries.set(code as ErrorCode, { ...definition, code: code as ErrorCode, module });
    }
  }
  return entries;
}
