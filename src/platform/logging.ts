/** pino settings: JSON logs with secrets redacted wherever they appear in logged objects. */
import type { DestinationStream, LoggerOptions } from 'pino';

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

const SENSITIVE_QUERY = /token|password|pin|otp|secret|code|key|signature/i;

/** The URL with the values of sensitive query parameters replaced. */
export function redactUrl(url: string): string {
  const index = url.indexOf('?');
  if (index < 0) return url;
  const params = new URLSearchParams(url.slice(index + 1));
  for (const key of [...params.keys()]) if (SENSITIVE_QUERY.test(key)) params.set(key, '[REDACTED]');
  // CR/LF are percent-encoded by URLSearchParams, so a crafted URL cannot forge log lines.
  return `${url.slice(0, index)}?${params.toString()}`;
}

export function loggerOptions(
  level: string,
  stream?: DestinationStream,
): LoggerOptions & { stream?: DestinationStream } {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req: (request: { method: string; url: string; id: string; ip?: string }) => ({
        id: request.id,
        method: request.method,
        url: redactUrl(request.url),
        ip: request.ip,
      }),
    },
    ...(stream ? { stream } : {}),
  };
}
