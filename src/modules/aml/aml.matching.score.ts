/**
 * The name score of a screening match, and its weighting by date of birth and nationality.
 *
 * Tokens are compared with Jaro–Winkler (talisman's textbook implementation: Winkler's boost above 0.7, common prefix
 * of at most 4 characters), lifted to 0.94 when the two spellings sound alike (same Double Metaphone key, both at
 * least 4 letters), 0.9 for an initial against a name with that letter. The query's and the candidate's tokens are
 * aligned one to one, best pairs first, whatever their order. Each token then costs its distance: a paired token
 * 3 × (1 − similarity) (so a 0.95 pair costs 0.15 and a 0.8 pair 0.6), a query token the candidate lacks 1, a
 * candidate token the query lacks 0.5 (lists carry middle names and patronymics a customer leaves out). Initials
 * weigh half a token. The name score is 1 − cost / weight. Names written joined or apart ("Xi Jinping",
 * "XiJinPing") are compared joined as well, and the better of the two counts.
 */
import jaroWinkler from 'talisman/metrics/jaro-winkler.js';
import { birthYear, cachedPhoneticKeys } from './aml.matching.normalise.ts';

export type TokenHow = 'exact' | 'phonetic' | 'fuzzy' | 'initial';

export interface TokenMatch {
  query: string;
  candidate: string;
  score: number;
  how: TokenHow;
}

export interface NameScore {
  score: number;
  tokens: TokenMatch[];
  /** Query tokens the candidate name lacks, and the other way round. */
  missing: string[];
  extra: string[];
  /** The names matched written together (token boundaries differ) rather than token by token. */
  joined: boolean;
}

const AMPLIFY = 3;
const PAIR_FLOOR = 0.8;
const PHONETIC_SCORE = 0.95;
const DERIVED_SCORE = 0.8;
const INITIAL_SCORE = 0.93;
const INITIAL_WEIGHT = 0.5;
const MISSING_COST = 1;
const EXTRA_COST = 0.5;

const weight = (token: string) => (token.length === 1 ? INITIAL_WEIGHT : 1);
const distance = (similarity: number) => Math.min(1, AMPLIFY * (1 - similarity));

export function tokenSimilarity(query: string, candidate: string): { score: number; how: TokenHow } {
  if (query === candidate) return { score: 1, how: 'exact' };
  if (query.length === 1 || candidate.length === 1)
    return query[0] === candidate[0] ? { score: INITIAL_SCORE, how: 'initial' } : { score: 0, how: 'fuzzy' };
  const score = jaroWinkler(query, candidate);
  // "Bashir" → "Bashiri", "Paul" → "Paula", "Chen" → "Cheng": a name extended by a suffix is another name (feminine,
  // nisba, patronymic), though Jaro–Winkler's prefix bonus rates it above 0.95. A doubled last letter is a typo.
  const [shorter, longer] = query.length < candidate.length ? [query, candidate] : [candidate, query];
  if (
    longer.startsWith(shorter) &&
    longer.slice(shorter.length) !== shorter.slice(-1).repeat(longer.length - shorter.length)
  )
    return { score: Math.min(score, DERIVED_SCORE), how: 'fuzzy' };
  if (score < PHONETIC_SCORE && score >= 0.7 && query.length >= 4 && candidate.length >= 4) {
    const keys = cachedPhoneticKeys(query);
    if (cachedPhoneticKeys(candidate).some((key) => keys.includes(key)))
      return { score: PHONETIC_SCORE, how: 'phonetic' };
  }
  return { score, how: 'fuzzy' };
}

/** Aligns tokens one to one (best pairs first) and scores the whole name. */
export function nameScore(query: readonly string[], candidate: readonly string[]): NameScore {
  const pairs: { i: number; j: number; score: number; how: TokenHow }[] = [];
  for (let i = 0; i < query.length; i += 1)
    for (let j = 0; j < candidate.length; j += 1) {
      const similarity = tokenSimilarity(query[i] as string, candidate[j] as string);
      if (similarity.score >= PAIR_FLOOR) pairs.push({ i, j, ...similarity });
    }
  pairs.sort((a, b) => b.score - a.score);
  const usedQuery = new Uint8Array(query.length);
  const usedCandidate = new Uint8Array(candidate.length);
  const tokens: TokenMatch[] = [];
  let cost = 0;
  let total = 0;
  for (const pair of pairs) {
    if (usedQuery[pair.i] || usedCandidate[pair.j]) continue;
    usedQuery[pair.i] = 1;
    usedCandidate[pair.j] = 1;
    const q = query[pair.i] as string;
    const c = candidate[pair.j] as string;
    cost += (weight(q) + weight(c)) * distance(pair.score);
    tokens.push({ query: q, candidate: c, score: round(pair.score), how: pair.how });
  }
  const missing = query.filter((_, i) => !usedQuery[i]);
  const extra = candidate.filter((_, j) => !usedCandidate[j]);
  for (const token of missing) cost += weight(token) * MISSING_COST;
  for (const token of extra) cost += weight(token) * EXTRA_COST;
  for (const token of query) total += weight(token);
  for (const token of candidate) total += weight(token);
  const byToken = total > 0 ? Math.max(0, 1 - cost / total) : 0;
  // Only worth comparing joined when token by token falls short (token boundaries differ).
  const byJoin = byToken < 0.95 ? joinedScore(query, candidate) : 0;
  if (byJoin > byToken)
    return {
      score: round(byJoin),
      tokens: [{ query: query.join(''), candidate: candidate.join(''), score: round(byJoin), how: 'fuzzy' }],
      missing: [],
      extra: [],
      joined: true,
    };
  return { score: round(byToken), tokens, missing, extra, joined: false };
}

/** Both names written together (as given, and sorted, for order): only when the token boundaries differ. */
function joinedScore(query: readonly string[], candidate: readonly string[]): number {
  if (query.length === candidate.length) return 0;
  const q = query.join('');
  const c = candidate.join('');
  if (q.length < 6 || c.length < 6 || Math.abs(q.length - c.length) > 3) return 0;
  const asWritten = jaroWinkler(q, c);
  const sorted = jaroWinkler([...query].sort().join(''), [...candidate].sort().join(''));
  // A small discount: one name written as another's tokens is a weaker sign than the same tokens.
  return Math.max(0, 1 - distance(Math.max(asWritten, sorted))) * 0.98;
}

export type BirthDateResult = 'match' | 'year_match' | 'near' | 'mismatch' | 'unknown';
export type NationalityResult = 'match' | 'mismatch' | 'unknown';

export interface Weighting {
  score: number;
  birthDate: { result: BirthDateResult; value: string | null };
  nationality: { result: NationalityResult; value: string | null };
}

/** Only a plausible name is lifted by a matching date of birth or nationality: they never make a name match. */
const LIFT_FLOOR = 0.8;

function compareBirthDates(query: string | null | undefined, listed: readonly string[]) {
  const year = birthYear(query);
  if (!query || year === null || listed.length === 0) return { result: 'unknown' as const, value: null };
  let best: { result: BirthDateResult; value: string | null; rank: number } = {
    result: 'unknown',
    value: null,
    rank: 0,
  };
  const fullQuery = query.length >= 10 ? query.slice(0, 10) : null;
  for (const value of listed) {
    const listedYear = birthYear(value);
    if (listedYear === null) continue;
    const fullListed = value.length >= 10 ? value.slice(0, 10) : null;
    let result: BirthDateResult;
    let rank: number;
    if (fullQuery && fullListed && fullQuery === fullListed) [result, rank] = ['match', 5];
    else if (listedYear === year && !(fullQuery && fullListed)) [result, rank] = ['year_match', 4];
    else if (listedYear === year) [result, rank] = ['year_match', 3];
    else if (Math.abs(listedYear - year) <= 1) [result, rank] = ['near', 2];
    else [result, rank] = ['mismatch', 1];
    if (rank > best.rank) best = { result, value, rank };
  }
  return { result: best.result, value: best.value, exactYearOnly: best.rank === 4 };
}

/** Weighs a name score by date of birth (same → up, different → down, unknown → neutral) and nationality. */
export function weigh(
  name: number,
  query: { birthDate?: string | null; nationality?: string | null },
  listed: { birthDates: readonly string[]; nationalities: readonly string[] },
): Weighting {
  let score = name;
  const birth = compareBirthDates(query.birthDate, listed.birthDates);
  switch (birth.result) {
    case 'match':
      if (score >= LIFT_FLOOR) score += 0.5 * (1 - score);
      break;
    case 'year_match':
      // A year against a year (or a full date): lifted; two full dates in the same year that differ: barely down.
      if ('exactYearOnly' in birth && birth.exactYearOnly) {
        if (score >= LIFT_FLOOR) score += 0.3 * (1 - score);
      } else score *= 0.98;
      break;
    case 'near':
      score *= 0.93;
      break;
    case 'mismatch':
      score *= 0.82;
      break;
    default:
      break;
  }
  const wanted = query.nationality?.trim().toUpperCase() || null;
  let nationality: Weighting['nationality'] = { result: 'unknown', value: null };
  if (wanted && listed.nationalities.length > 0) {
    if (listed.nationalities.includes(wanted)) {
      nationality = { result: 'match', value: wanted };
      if (score >= LIFT_FLOOR) score += 0.2 * (1 - score);
    } else {
      nationality = { result: 'mismatch', value: listed.nationalities.join(',') };
      score *= 0.96;
    }
  }
  return {
    score: round(Math.min(1, Math.max(0, score))),
    birthDate: { result: birth.result, value: birth.value },
    nationality,
  };
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;
