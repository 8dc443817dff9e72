/**
 * Twilio's webhook signature (INTEGRATIONS.md §3): X-Twilio-Signature is
 * base64(HMAC-SHA1(AuthToken, fullUrl + every POST parameter as key then value, keys sorted)). There is no
 * timestamp, so a valid callback can be replayed: handlers must be idempotent on MessageSid + status.
 * The URL must be exactly the one Twilio posted to (scheme, host, port, path and query); behind a proxy that
 * rewrites it, rebuild the public URL from configuration rather than from the request.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** An HMAC-SHA1 digest is 20 bytes: 28 base64 characters ending in one '='. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{27}=$/;

export function twilioSignature(authToken: string, fullUrl: string, params: Record<string, string>): string {
  // Twilio sorts by the parameter name's code units (case-sensitive), as Array.prototype.sort does.
  const payload = Object.keys(params)
    .sort()
    .reduce((text, key) => `${text}${key}${params[key]}`, fullUrl);
  return createHmac('sha1', authToken).update(payload, 'utf8').digest('base64');
}

/** Whether `headerValue` is Twilio's signature of this request; false (never a throw) for a missing or malformed one. */
export function verifyTwilioSignature(
  authToken: string,
  fullUrl: string,
  params: Record<string, string>,
  headerValue: string | readonly string[] | null | undefined,
): boolean {
  if (typeof headerValue !== 'string' || !SIGNATURE_PATTERN.test(headerValue)) return false;
  try {
    const expected = Buffer.from(twilioSignature(authToken, fullUrl, params), 'base64');
    const given = Buffer.from(headerValue, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  } catch {
    return false;
  }
}
