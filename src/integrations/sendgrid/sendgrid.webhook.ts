/**
 * SendGrid's signed Event Webhook (INTEGRATIONS.md §5): an ECDSA P-256 signature over SHA-256 of the timestamp
 * header followed by the raw request body, exactly as received. Verify before parsing; a body that was parsed and
 * serialised again no longer matches.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

export type SendGridEventType =
  | 'processed'
  | 'delivered'
  | 'deferred'
  | 'bounce'
  | 'dropped'
  | 'open'
  | 'click'
  | 'spamreport'
  | 'unsubscribe'
  | 'group_unsubscribe'
  | 'group_resubscribe';

const EVENT_TYPES: ReadonlySet<string> = new Set<SendGridEventType>([
  'processed',
  'delivered',
  'deferred',
  'bounce',
  'dropped',
  'open',
  'click',
  'spamreport',
  'unsubscribe',
  'group_unsubscribe',
  'group_resubscribe',
]);

export interface SendGridEvent {
  email: string;
  /** Unix seconds. */
  timestamp: number;
  event: SendGridEventType;
  sg_event_id: string;
  /** `<X-Message-Id>.<SendGrid suffix>`; see `isSendGridEventFor`. */
  sg_message_id: string;
}

/**
 * Whether the webhook request is SendGrid's: the signature (base64 DER ECDSA) over `timestamp + rawBody` checks
 * against the public key (base64 DER SPKI, as the SendGrid console shows it), and the timestamp (Unix seconds) is
 * within `toleranceSeconds` of now. Any malformed input is simply `false`.
 */
export function verifySendGridSignature(
  publicKeyBase64Der: string,
  rawBody: Buffer | string,
  signatureB64: string,
  timestamp: string,
  nowMs: number = Date.now(),
  toleranceSeconds = 300,
): boolean {
  try {
    if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) return false;
    if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return false;
    if (typeof signatureB64 !== 'string' || !isBase64(signatureB64)) return false;
    const key = publicKey(publicKeyBase64Der);
    if (!key) return false;
    const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
    if (!Buffer.isBuffer(body)) return false;
    const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), body]);
    return verify('sha256', signed, { key, dsaEncoding: 'der' }, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

const keyCache = new Map<string, KeyObject>();

function publicKey(base64Der: string): KeyObject | undefined {
  if (typeof base64Der !== 'string' || !isBase64(base64Der)) return undefined;
  const cached = keyCache.get(base64Der);
  if (cached) return cached;
  const key = createPublicKey({ key: Buffer.from(base64Der, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    return undefined;
  if (keyCache.size > 16) keyCache.clear();
  keyCache.set(base64Der, key);
  return key;
}

function isBase64(value: string): boolean {
  const compact = value.replace(/\s+/g, '');
  return compact.length > 0 && compact.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact);
}

/**
 * The events of a webhook body (the parsed JSON array, or its raw text), each with the fields the delivery
 * tracking needs; entries that lack one of them or name an unknown event are left out.
 */
export function parseSendGridEvents(body: unknown): SendGridEvent[] {
  let value = body;
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    try {
      value = JSON.parse(value.toString());
    } catch {
      return [];
    }
  }
  if (!Array.isArray(value)) return [];
  const events: SendGridEvent[] = [];
  for (const entry of value) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue;
    const { email, timestamp, event, sg_event_id, sg_message_id } = entry as Record<string, unknown>;
    if (typeof email !== 'string' || email.length === 0) continue;
    if (typeof timestamp !== 'number' || !Number.isInteger(timestamp) || timestamp < 0) continue;
    if (typeof event !== 'string' || !EVENT_TYPES.has(event)) continue;
    if (typeof sg_event_id !== 'string' || sg_event_id.length === 0) continue;
    if (typeof sg_message_id !== 'string' || sg_message_id.length === 0) continue;
    events.push({ email, timestamp, event: event as SendGridEventType, sg_event_id, sg_message_id });
  }
  return events;
}

/**
 * Whether an event's `sg_message_id` belongs to the message Mail Send answered with `xMessageId`: SendGrid appends
 * `.<filter/recv suffix>` to the X-Message-Id (which may itself contain dots in older accounts).
 */
export function isSendGridEventFor(sgMessageId: string, xMessageId: string): boolean {
  return xMessageId.length > 0 && (sgMessageId === xMessageId || sgMessageId.startsWith(`${xMessageId}.`));
}
