/**
 * SMS text rules shared by the SMS providers: how many segments a body costs (GSM 03.38 vs UCS-2) and phone
 * numbers in E.164. Africa's Talking does not report segments, so they are counted here.
 */
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegmentCount {
  encoding: SmsEncoding;
  /** Segments billed: 1 for an empty body. */
  segments: number;
  /** Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2. */
  units: number;
}

/** GSM 03.38 default alphabet, as the Unicode characters it maps to (ESC excluded). */
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);

/** GSM 03.38 extension table: each is ESC plus one septet. */
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

const LIMITS: Record<SmsEncoding, { single: number; multipart: number }> = {
  // A multipart segment loses 6 octets to the concatenation header: 7 septets, or 3 UCS-2 units.
  'GSM-7': { single: 160, multipart: 153 },
  'UCS-2': { single: 70, multipart: 67 },
};

/**
 * Segments as a handset or gateway splits the body: a GSM extension character (ESC + septet) and a UTF-16
 * surrogate pair (an emoji) are never split across two segments, so a segment may end short of the limit.
 */
export function countSmsSegments(body: string): SmsSegmentCount {
  const characters = Array.from(body);
  const gsm = characters.every((character) => GSM_BASIC.has(character) || GSM_EXTENSION.has(character));
  const encoding: SmsEncoding = gsm ? 'GSM-7' : 'UCS-2';
  const costs = characters.map((character) =>
    gsm ? (GSM_EXTENSION.has(character) ? 2 : 1) : character.length,
  );
  const units = costs.reduce((sum, cost) => sum + cost, 0);
  const { single, multipart } = LIMITS[encoding];
  if (units <= single) return { encoding, segments: 1, units };
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > multipart) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return { encoding, segments, units };
}

/**
 * The number in E.164 (+254712345678), or null when libphonenumber does not consider it a valid number.
 * A national number (0712345678) needs `defaultCountry`.
 */
export function toE164(phone: string, defaultCountry?: CountryCode): string | null {
  try {
    const parsed = parsePhoneNumberFromString(phone.trim(), defaultCountry);
    return parsed?.isValid() ? parsed.number : null;
  } catch {
    return null;
  }
}
