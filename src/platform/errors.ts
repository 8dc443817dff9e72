/**
 * The one error shape of the API, the spec's: {status_code, error_code, message, details, request_id}.
 * Modules throw `AppError` with a code from their closed set; mapping to HTTP and hiding the internals
 * of unexpected failures happen only here.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError, type ErrorDetails, platformErrorCatalogue as platform } from './error-catalogue.ts';

export {
  AppError,
  type ErrorCode,
  type ErrorDetails,
  type ErrorStatus,
  platformErrorCatalogue,
} from './error-catalogue.ts';

/** A backing service (Redis, a provider) failed; answered as 503 so money paths fail closed. */
export class DependencyUnavailableError extends Error {
  readonly dependency: string;
  constructor(dependency: string, cause?: unknown) {
    super(`${dependency} is unavailable`, { cause });
    this.name = 'DependencyUnavailableError';
    this.dependency = dependency;
  }
}

/** The generic refusals every module may raise, in their usual shapes (the platform's catalogue). */
export const commonErrors = {
  badRequest: (message: string, details: ErrorDetails = null) => platform.BAD_REQUEST({ message, details }),
  unauthorized: (message?: string) => platform.UNAUTHORIZED({ message }),
  forbidden: (message?: string) => platform.FORBIDDEN({ message }),
  notFound: (entity = 'Resource') => platform.NOT_FOUND({ params: { entity } }),
  conflict: (message: string, details: ErrorDetails = null) => platform.CONFLICT({ message, details }),
  validation: (message: string, details: ErrorDetails = null) =>
    platform.VALIDATION_ERROR({ message, details }),
  locked: (message: string, retryAfterSeconds?: number) =>
    platform.LOCKED({
      message,
      headers: retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
    }),
  tooManyRequests: (retryAfterSeconds: number, message?: string) =>
    platform.RATE_LIMITED({
      message,
      details: { retry_after_seconds: retryAfterSeconds },
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  unavailable: (message?: string) => platform.SERVICE_UNAVAILABLE({ message }),
};

export const ErrorBody = Type.Object(
  {
    status_code: Type.Integer(),
    error_code: Type.String(),
    message: Type.String(),
    details: Type.Union([
      Type.Object({}, { additionalProperties: true }),
      Type.Array(Type.Unknown()),
      Type.Null(),
    ]),
    request_id: Type.String(),
  },
  { $id: 'ErrorBody', additionalProperties: false, description: 'Standard error body' },
);

export interface ErrorBodyShape {
  status_code: number;
  error_code: string;
  message: string;
  details: ErrorDetails;
  request_id: string;
}

export function errorBody(error: AppError, requestId: string): ErrorBodyShape {
  return {
    status_code: error.statusCode,
    error_code: error.errorCode,
    message: error.message,
    details: jsonDetails(error.details) as ErrorDetails,
    request_id: requestId,
  };
}

/** Money in details is bigint: a JSON number when exact (as the spec's example shows), else a decimal string. */
function jsonDetails(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (Array.isArray(value)) return value.map(jsonDetails);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonDetails(item)]));
  }
  return value;
}

interface AjvLikeError {
  instancePath?: string;
  params?: Record<string, unknown>;
  message?: string;
  keyword?: string;
}

function validationDetails(error: FastifyError): ErrorDetails {
  // Fastify names the query string `querystring`; clients know it as the query (`query.limit`).
  const context = error.validationContext === 'querystring' ? 'query' : (error.validationContext ?? 'body');
  const issues = (error.validation ?? []) as AjvLikeError[];
  return {
    errors: issues.map((issue) => {
      let field = `${context}${(issue.instancePath ?? '').replaceAll('/', '.')}`;
      const extra = issue.params?.additionalProperty ?? issue.params?.missingProperty;
      if (typeof extra === 'string') field = `${field}.${extra}`;
      const allowed = issue.params?.allowedValues;
      return {
        field,
        message: issue.message ?? 'is invalid',
        rule: issue.keyword ?? 'invalid',
        ...(Array.isArray(allowed) ? { allowed } : {}),
      };
    }),
  };
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** True when the database or Redis could not be reached (as opposed to a query that failed). */
function isDependencyUnreachable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || /^(08|57P0)/.test(code)))
      return true;
    const message = (current as { message?: unknown }).message;
    if (
      typeof message === 'string' &&
      /timeout exceeded when trying to connect|pool after calling end|Connection terminated|PGlite is closed|Command timed out|max retries per request|Stream isn't writeable|Connection is closed/i.test(
        message,
      )
    ) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * What the database refuses for load or contention, not because the request is wrong: a cancelled statement (57014:
 * `statement_timeout`, an operator's `pg_cancel_backend`), a deadlock (40P01) or serialization failure (40001) that
 * outlived inTransaction's retries or hit a statement outside one, a lock it could not take (55P03). Each answers
 * 503 with how long to wait: the same request may well succeed then.
 */
const BUSY_SQLSTATES: Record<string, string> = { '57014': '5', '40P01': '1', '40001': '1', '55P03': '1' };

function busyRetryAfter(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && Object.hasOwn(BUSY_SQLSTATES, code)) return BUSY_SQLSTATES[code]!;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/** Converts anything thrown into an AppError without leaking internals. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const busy = busyRetryAfter(error);
  if (busy) {
    return platform.SERVICE_UNAVAILABLE({
      message: 'The database is busy; try again shortly',
      headers: { 'retry-after': busy },
    });
  }
  if (error instanceof DependencyUnavailableError || isDependencyUnreachable(error)) {
    return platform.SERVICE_UNAVAILABLE({
      message: 'A dependency is unavailable; try again shortly',
      headers: { 'retry-after': '5' },
    });
  }
  const fastifyError = error as Partial<FastifyError> & { type?: string };
  if (fastifyError?.validation) {
    return platform.VALIDATION_ERROR({ details: validationDetails(error as FastifyError) });
  }
  const status = fastifyError?.statusCode;
  const code = fastifyError?.code;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fastifyError?.type === 'entity.parse.failed') {
    return platform.MALFORMED_REQUEST();
  }
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return platform.MALFORMED_REQUEST({ message: 'Request body is empty but content-type is JSON' });
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return platform.PAYLOAD_TOO_LARGE();
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return platform.UNSUPPORTED_MEDIA_TYPE();
  if (status === 429) return platform.RATE_LIMITED();
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Another 4xx of Fastify or a plugin (multipart limits are 413): its catalogue code.
    const code = ({ 404: 'NOT_FOUND', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' } as const)[
      status as 404 | 413 | 415
    ];
    return platform[code ?? 'BAD_REQUEST']({ message: fastifyError.message ?? 'Bad request' });
  }
  return platform.INTERNAL_ERROR();
}

/**
 * Errors the router raises before any route (and so before the error handler): a malformed percent-encoding in
 * the URL, or a path parameter longer than any identifier the API issues. Answered with the standard body; the
 * latter as the 404 it amounts to (no object has such an id), not Fastify's own 414 body.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const appError =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? commonErrors.notFound()
      : error.code === 'FST_ERR_BAD_URL'
        ? platform.MALFORMED_REQUEST({ message: 'The URL is not valid' })
        : toAppError(error);
  request.log.info({ error_code: appError.errorCode, status: appError.statusCode }, 'request refused');
  reply
    .code(appError.statusCode)
    .header('x-request-id', request.id)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(errorBody(appError, request.id));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error);
    if (appError.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ error_code: appError.errorCode, status: appError.statusCode }, 'request refused');
    const headers = { ...appError.headers };
    const upstream = (error as { headers?: Record<string, string> })?.headers;
    if (appError.statusCode === 429 && upstream?.['retry-after'])
      headers['retry-after'] = upstream['retry-after'];
    return reply
      .code(appError.statusCode)
      .headers(headers)
      .type('application/json; charset=utf-8')
      .send(errorBody(appError, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = commonErrors.notFound(`Route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(404).send(errorBody(error, request.id));
  });
}

/** Standard error responses added to every operation of the OpenAPI document. */
export function errorResponses(codes: number[]): Record<number, typeof ErrorBody> {
  const responses: Record<number, typeof ErrorBody> = {};
  for (const code of codes) responses[code] = ErrorBody;
  return responses;
}
