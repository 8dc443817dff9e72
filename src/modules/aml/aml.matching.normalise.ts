/**
 * Name normalisation for screening: any script to ASCII (any-ascii: Cyrillic, Greek, Arabic, CJK … and every
 * diacritic), lower case, punctuation out, honorifics out, connecting particles out, joined prefixes put together
 * ("Abd al-Rahman" = "Abdul Rahman" = "Abdurrahman"), each spelling variant read as its group's canonical spelling.
 * The result is a list of tokens; order is left as written (the scorer aligns tokens whatever their order).
 */
import anyAscii from 'any-ascii';
import { doubleMetaphone } from 'double-metaphone';
import { HONORIFICS, JOINING_PREFIXES, NAME_VARIANTS, PARTICLES } from './aml.matching.variants.ts';

/** Outside Latin (incl. Latin Extended): a script any-ascii writes as capitalised syllables ("XiJinPing"). */
const NON_LATIN = /[^\u0020-\u024F\u1E00-\u1EFF\s]/u;
/** Arabic articles and the prefixes they join: dropped even as a first token ("Al Bashir" = "Bashir"). */
const ARTICLES = new Set(['al', 'el', 'ul']);
/** "Abdurrahman", "Abdussalam": the article assimilated into the next letter. */
const ASSIMILATED_ABDUL = /^abdu([rstdnz])\1(?=[a-z]{2})/;
const JOINED_ABDUL = /^(?:abdul|abdel|abdal|abdoul|abdol)(?=[a-z]{3})/;

function baseTokens(raw: string): string[] {
  let text = anyAscii(raw.normalize('NFC'));
  // CJK and similar come back as "XiJinPing": one token per syllable, the scorer joins them again when needed.
  if (NON_LATIN.test(raw)) text = text.replace(/([a-z])([A-Z])/g, '$1 $2');
  text = text
    .toLowerCase()
    // Apostrophes and the like join ("O'Brien" = "OBrien"); hyphens, dots, commas and the rest separate.
    .replace(/['`\u2019]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  return text ? text.split(' ').filter((token) => !/^\d+$/.test(token)) : [];
}

function canonicalToken(token: string): string {
  let value = token.replace(ASSIMILATED_ABDUL, 'abdul$1').replace(JOINED_ABDUL, 'abdul');
  value = NAME_VARIANTS.get(value) ?? value;
  return value;
}

/** The tokens of a name, normalised. Empty when nothing nameable is left (only titles or digits). */
export function nameTokens(raw: string): string[] {
  const tokens = baseTokens(raw).filter((token) => !HONORIFICS.has(token));
  const joined: string[] = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as string;
    const canonical = NAME_VARIANTS.get(token) ?? token;
    if (JOINING_PREFIXES.includes(canonical) && i + 1 < tokens.length) {
      let next = i + 1;
      while (next < tokens.length - 1 && PARTICLES.has(tokens[next] as string)) next += 1;
      const rest = tokens[next] as string;
      if (!PARTICLES.has(rest)) {
        joined.push(`${canonical}${NAME_VARIANTS.get(rest) ?? rest}`);
        i = next;
        continue;
      }
    }
    joined.push(token);
  }
  const kept = joined.filter((token, index) => !(ARTICLES.has(token) || (index > 0 && PARTICLES.has(token))));
  const result = (kept.length > 0 ? kept : joined).map(canonicalToken);
  return result;
}

/** A token's phonetic keys (Double Metaphone primary and alternate; one when they agree). Initials have none. */
export function phoneticKeys(token: string): string[] {
  if (token.length < 2) return [];
  const [primary, alternate] = doubleMetaphone(token);
  return !primary ? [] : alternate && alternate !== primary ? [primary, alternate] : [primary];
}

/** The same, remembered: scoring asks for the same candidate tokens again and again (bounded, emptied when full). */
export function cachedPhoneticKeys(token: string): string[] {
  const cached = phoneticCache.get(token);
  if (cached) return cached;
  const keys = phoneticKeys(token);
  if (phoneticCache.size >= PHONETIC_CACHE_SIZE) phoneticCache.clear();
  phoneticCache.set(token, keys);
  return keys;
}

const PHONETIC_CACHE_SIZE = 200_000;
const phoneticCache = new Map<string, string[]>();

/** The year of an ISO date or a bare year ("1957-03-10", "1957"), or null. */
export function birthYear(value: string | null | undefined): number | null {
  const match = value ? /^(\d{4})/.exec(value.trim()) : null;
  return match ? Number(match[1]) : null;
}
