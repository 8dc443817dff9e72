/** pino settings: JSON logs with secrets redacted wherever they appear in logged objects. */
import type { DestinationStream, LoggerOptions } from 'pino';
import { stdSerializers } from 'pino';
import { queryFailure } from './db.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Path parameters that hold a secret (a callback's shared secret in its URL): their segment of the URL is
     * replaced by `[REDACTED]` in every log line.
     */
    secretParams?: readonly string[];
  }
}

const SENSITIVE = ['password', 'pin', 'otp', 'token', 'secret', 'pan', 'cvv', 'authorization', 'cookie'];

/** Paths at the top and first two levels of any logged object. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...SENSITIVE.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]),
  ...[
    'access_token',
    'refresh_token',
    'new_password',
    'current_password',
    'mfa_token',
    'card_number',
  ].flatMap((name) => [name, `*.${name}`, `*.*.${name}`]),
];

/** Query parameters whose values are secrets (anywhere in the name). */
const SECRET_QUERY = /token|password|pin|otp|secret|code|key|signature/i;
/** Query parameters whose values are personal data: searches by phone, email, national ID, name, free text. */
const PERSONAL_QUERY =
  /^(q|query|search|term|name|(first|last|middle|full|business|user)_?name|email|phone|msisdn|mobile|national_id|id_number|passport(_number)?|date_of_birth|dob|address|account_number|meter_number)$/i;

/** The URL with the values of sensitive query parameters replaced. */
export function redactUrl(url: string): string {
  const index = url.indexOf('?');
  if (index < 0) return url;
  const params = new URLSearchParams(url.slice(index + 1));
  for (const key of [...params.keys()])
    if (SECRET_QUERY.test(key) || PERSONAL_QUERY.test(key)) params.set(key, '[REDACTED]');
  // CR/LF are percent-encoded by URLSearchParams, so a crafted URL cannot forge log lines.
  return `${url.slice(0, index)}?${params.toString()}`;
}

/** Path parameters that are secret whether or not their route says so. */
const SECRET_PARAM = /secret|token|signature|password/i;

interface LoggedRequest {
  method: string;
  url: string;
  id: string;
  ip?: string;
  routeOptions?: { url?: string; config?: { secretParams?: readonly string[] } };
}

/**
 * The URL with the path segments of secret parameters replaced: those the route declares (`config.secretParams`)
 * and any whose name says secret, token, signature or password. Segments are matched by position against the route's
 * pattern, so the secret is found however the client encoded it.
 */
export function redactPath(
  url: string,
  pattern: string | undefined,
  declared: readonly string[] = [],
): string {
  if (!pattern?.includes(':')) return url;
  const cut = url.search(/[?#]/);
  const path = cut < 0 ? url : url.slice(0, cut);
  const patternSegments = pattern.split('/');
  const segments = path.split('/');
  if (patternSegments.length !== segments.length) return url;
  let changed = false;
  for (const [index, segment] of patternSegments.entries()) {
    const name = /^:([A-Za-z0-9_]+)$/.exec(segment)?.[1];
    if (name && (declared.includes(name) || SECRET_PARAM.test(name))) {
      segments[index] = '[REDACTED]';
      changed = true;
    }
  }
  return changed ? `${segments.join('/')}${cut < 0 ? '' : url.slice(cut)}` : url;
}

/** The URL as every log line shows it: secret path segments and sensitive query values redacted. */
export function loggedUrl(request: LoggedRequest): string {
  const route = request.routeOptions;
  return redactUrl(redactPath(request.url, route?.url, route?.config?.secretParams));
}

/** Only stack frames: a failed query's first stack lines repeat its message, which holds the bound parameters. */
function framesOf(stack: unknown): string | undefined {
  if (typeof stack !== 'string') return undefined;
  return stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
}

/**
 * Errors as pino logs them, except that a failed query (anywhere in the cause chain) is logged by its statement's
 * name and SQLSTATE only: never its parameters (a PIN's keyed hash, a password hash, phone numbers), nor the
 * database's own message and detail, which quote the values they refused.
 */
export function serializeError(error: unknown): unknown {
  const failure = queryFailure(error);
  if (!failure) return stdSerializers.err(error as Error);
  const type = (error as { constructor?: { name?: string } })?.constructor?.name ?? 'Error';
  return {
    type,
    message: `query failed: ${failure.statement}${failure.code ? ` (SQLSTATE ${failure.code})` : ''}`,
    query: failure,
    stack: framesOf((error as { stack?: unknown })?.stack),
  };
}

export function loggerOptions(
  level: string,
  stream?: DestinationStream,
): LoggerOptions & { stream?: DestinationStream } {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req: (request: LoggedRequest) => ({
        id: request.id,
        method: request.method,
        url: loggedUrl(request),
        ip: request.ip,
      }),
      err: serializeError,
    },
    ...(stream ? { stream } : {}),
  };
}
