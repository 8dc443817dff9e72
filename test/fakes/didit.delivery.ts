/**
 * A Didit webhook delivery as it goes on the wire: the raw body written as Didit's Python writes it, the signature
 * headers (V2, V1, Simple, and the -Previous ones during a rotation), and on request the faults a receiver must
 * refuse or survive (forged, tampered, re-serialised, stale).
 */
import { randomBytes } from 'node:crypto';
import { signDiditWebhook } from '../../src/integrations/didit/didit.signature.ts';

/** One webhook as it goes on the wire. */
export interface DiditDelivery {
  headers: Record<string, string>;
  /** The exact bytes sent. */
  raw: string;
  body: Record<string, unknown>;
}

export interface DeliveryOptions {
  webhookType?: 'status.updated' | 'data.updated';
  /** Which signature headers to send (default all three). */
  signatures?: ('v2' | 'v1' | 'simple')[];
  /** Seconds added to the timestamp (header and body): ±301 makes it stale. */
  timestampOffsetSeconds?: number;
  /** Replace the signatures with ones made with a secret Didit never had. */
  forge?: boolean;
  /** Change the decision after signing (V2 and V1 no longer match; Simple still does: it covers no decision). */
  tamperDecision?: boolean;
  /** Re-serialise the body (other key order, other spacing) after signing: V1 breaks, V2 holds. */
  reserialise?: boolean;
  /** Sign only with the previous secret's headers (the receiver has not rotated yet). */
  previousOnly?: boolean;
}

/** Signs `body` as Didit would (with the faults asked for). */
export function signedDelivery(
  body: Record<string, unknown>,
  timestamp: number,
  webhookSecret: string,
  previousWebhookSecret: string | undefined,
  options: DeliveryOptions = {},
): DiditDelivery {
  const raw = pythonJson(body);
  const secret = options.forge ? `forged-${randomBytes(8).toString('hex')}` : webhookSecret;
  const signed = signDiditWebhook({
    secret,
    body,
    rawBody: raw,
    timestamp,
    previousSecret: options.forge ? undefined : previousWebhookSecret,
  });
  const wanted = new Set(options.signatures ?? ['v2', 'v1', 'simple']);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed)) {
    const scheme = name.startsWith('x-signature-v2')
      ? 'v2'
      : name.startsWith('x-signature-simple')
        ? 'simple'
        : name.startsWith('x-signature')
          ? 'v1'
          : null;
    if (scheme && !wanted.has(scheme)) continue;
    if (scheme && options.previousOnly && !name.endsWith('-previous')) continue;
    headers[name] = value;
  }
  let sent = body;
  let sentRaw = raw;
  if (options.tamperDecision && body.decision) {
    sent = structuredClone(body);
    const decision = sent.decision as Record<string, unknown>;
    const ids = decision.id_verifications as Record<string, unknown>[] | null;
    if (ids?.[0]) ids[0].first_name = 'Mallory';
    decision.status = 'Approved';
    sentRaw = pythonJson(sent);
  }
  if (options.reserialise) sentRaw = JSON.stringify(reversedKeys(sent));
  return { headers, raw: sentRaw, body: sent };
}

/** JSON as Didit's Python writes it by default: `", "` and `": "`, ASCII escapes, float scores as `95.0`. */
export function pythonJson(value: unknown, key = ''): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number')
    return Number.isInteger(value) && key === 'score' ? `${value}.0` : JSON.stringify(value);
  if (typeof value === 'string')
    return JSON.stringify(value).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  if (typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => pythonJson(item, key)).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
  return `{${entries.map(([name, item]) => `${pythonJson(name)}: ${pythonJson(item, name)}`).join(', ')}}`;
}

function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .reverse()
      .map(([key, item]) => [key, reversedKeys(item)]),
  );
}
