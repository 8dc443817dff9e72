/**
 * The in-memory screening index (`NameIndex`): built once from the list entries, then a name is searched against it
 * without scanning the list.
 *
 * Every name and alias of an entry is a slot, kept as its normalised tokens. A slot is filed under keys:
 * - each token's Double Metaphone keys, its first three letters (a typo further on keeps them), and the whole
 *   name's sound written as one word (`s:` single keys);
 * - each pair of its tokens as sound-alike keys and as their first three letters (`p:` pair keys, order-free), and
 *   each pair of an initial with a token's key (so "J. Smith" finds "John Smith").
 * Keys are hashed (FNV-1a, 32 bits) into buckets of one flat posting array (CSR: offsets + slot numbers), so memory is
 * a few typed arrays whatever the number of distinct keys; a collision only adds a candidate the scorer rejects.
 *
 * A search takes the query's keys and counts, per slot, how many it shares (a pair counts 2). Single keys shared by
 * more than `singleCap` slots (a common first name) are skipped: they find nothing a pair key would not; pair keys are
 * never skipped (many entries sharing two names are all real candidates). Then at most `maxCandidates` slots, those
 * sharing the most keys, are scored, and the best score per entry is kept.
 */

import { nameTokens, phoneticKeys } from './aml.matching.normalise.ts';
import { type NameScore, nameScore, type Weighting, weigh } from './aml.matching.score.ts';
import type { EntryKind, ListSource } from './aml.tables.ts';

export interface IndexEntry {
  id: string;
  source: ListSource;
  externalId: string;
  kind: EntryKind;
  name: string;
  aliases: readonly string[];
  birthDates: readonly string[];
  nationalities: readonly string[];
  pep: boolean;
}

export interface SearchOptions {
  birthDate?: string | null;
  nationality?: string | null;
  /** At most this many matches, best first (default 10). */
  limit?: number;
  /** Only matches scoring at least this (default 0.75). */
  minScore?: number;
}

export interface MatchFields {
  /** `name` or `alias`, and the listed name or alias that matched. */
  matched: 'name' | 'alias';
  value: string;
  name_score: number;
  tokens: NameScore['tokens'];
  missing: string[];
  extra: string[];
  joined: boolean;
  birth_date: Weighting['birthDate'];
  nationality: Weighting['nationality'];
}

export interface IndexMatch {
  entry: IndexEntry;
  score: number;
  fields: MatchFields;
}

export interface IndexOptions {
  singleCap?: number;
  maxCandidates?: number;
}

export interface IndexStats {
  entries: number;
  slots: number;
  buckets: number;
  postings: number;
  /** Bytes held by the typed arrays (postings, offsets, slot owners): the normalised names come on top. */
  arrayBytes: number;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const pairKey = (a: string, b: string) => (a < b ? `p:${a}|${b}` : `p:${b}|${a}`);

/**
 * The keys of a normalised name: single keys of each token, pair keys of each pair of tokens. A listed name is filed
 * under initial-and-sound pairs too; a query uses them only for the initials it has (they are broad keys).
 */
export function nameKeys(
  tokens: readonly string[],
  query = false,
  keysOf: (token: string) => string[] = phoneticKeys,
): string[] {
  const keys = new Set<string>();
  const codes = tokens.map(keysOf);
  for (const list of codes) for (const code of list) keys.add(`s:${code}`);
  // A typo that changes a token's sound keeps its first letters: "Zawahriov" still finds "Zawahirov".
  for (const token of tokens) if (token.length >= 4) keys.add(`s:${token.slice(0, 3)}`);
  // Written together or apart ("Xi Jinping", "XiJinPing"): the whole name's sound is a single key too.
  if (tokens.length > 1) for (const code of phoneticKeys(tokens.join(''))) keys.add(`s:${code}`);
  for (let i = 0; i < tokens.length; i += 1)
    for (let j = i + 1; j < tokens.length; j += 1) {
      const a = codes[i] as string[];
      const b = codes[j] as string[];
      const initialA = `i${(tokens[i] as string)[0]}`;
      const initialB = `i${(tokens[j] as string)[0]}`;
      for (const x of a) for (const y of b) keys.add(pairKey(x, y));
      if (query) {
        if (a.length === 0 && b[0]) keys.add(pairKey(initialA, b[0]));
        if (b.length === 0 && a[0]) keys.add(pairKey(a[0], initialB));
        continue;
      }
      if (a[0]) keys.add(pairKey(a[0], initialB));
      if (b[0]) keys.add(pairKey(initialA, b[0]));
    }
  // Both tokens' first three letters: a typo further on in a common family name changes its sound, not these.
  for (let i = 0; i < tokens.length; i += 1)
    for (let j = i + 1; j < tokens.length; j += 1) {
      const a = tokens[i] as string;
      const b = tokens[j] as string;
      if (a.length >= 3 && b.length >= 3) keys.add(pairKey(a.slice(0, 3), b.slice(0, 3)));
    }
  return [...keys];
}

/** Single-key-only candidates scored whatever the others: a name missing a token still finds its listing. */
const SMALL_TAIL = 200;

function nextPowerOfTwo(value: number): number {
  let power = 1024;
  while (power < value && power < 1 << 26) power *= 2;
  return power;
}

/** The per-name work of a build (normalise, key, hash), done in one go or in slices between other work. */
class Prepared {
  readonly slotTokens: string[] = [];
  readonly slotEntry: number[] = [];
  readonly slotAlias: number[] = [];
  /** Every slot's key hashes end to end (one growing buffer: millions of small arrays would weigh on the GC). */
  hashes = new Uint32Array(1 << 16);
  /** Where each slot's hashes end in `hashes`. */
  readonly slotEnd: number[] = [];
  occurrences = 0;
  /** A token's phonetic keys, once per distinct token (given names repeat across the list). */
  readonly #phonetic = new Map<string, string[]>();
  readonly #keysOf = (token: string) => {
    let keys = this.#phonetic.get(token);
    if (!keys) {
      keys = phoneticKeys(token);
      this.#phonetic.set(token, keys);
    }
    return keys;
  };

  add(entry: IndexEntry, entryIndex: number): void {
    const seen = new Set<string>();
    const names = [entry.name, ...entry.aliases];
    for (let nameIndex = 0; nameIndex < names.length; nameIndex += 1) {
      const tokens = nameTokens(names[nameIndex] as string);
      const joined = tokens.join(' ');
      if (tokens.length === 0 || seen.has(joined)) continue;
      seen.add(joined);
      const hashes = new Set(nameKeys(tokens, false, this.#keysOf).map(fnv1a));
      if (this.occurrences + hashes.size > this.hashes.length) {
        const grown = new Uint32Array(Math.max(this.hashes.length * 2, this.occurrences + hashes.size));
        grown.set(this.hashes);
        this.hashes = grown;
      }
      for (const hash of hashes) {
        this.hashes[this.occurrences] = hash;
        this.occurrences += 1;
      }
      this.slotTokens.push(joined);
      this.slotEntry.push(entryIndex);
      this.slotAlias.push(nameIndex);
      this.slotEnd.push(this.occurrences);
    }
  }
}

/** Entries normalised per slice of the async build before the event loop gets a turn. */
const BUILD_SLICE = 5_000;

export class NameIndex {
  readonly #entries: readonly IndexEntry[];
  /** Per slot: its normalised tokens joined by spaces, its entry, and 0 for the name or 1 + the alias's index. */
  readonly #slotTokens: string[];
  readonly #slotEntry: Int32Array;
  readonly #slotAlias: Int32Array;
  readonly #mask: number;
  readonly #offsets: Uint32Array;
  readonly #postings: Int32Array;
  readonly #singleCap: number;
  readonly #maxCandidates: number;
  /** Scratch per search: shared keys per slot (searches are synchronous, so one buffer serves them all). */
  readonly #counts: Uint8Array;

  /**
   * Builds without yielding (tests, the bench). A process serving requests uses `NameIndex.build`: the same index,
   * normalised in slices so a million-entry list does not hold the event loop for the whole build.
   */
  constructor(entries: readonly IndexEntry[], options: IndexOptions = {}, prepared?: Prepared) {
    this.#entries = entries;
    this.#singleCap = options.singleCap ?? 300;
    this.#maxCandidates = options.maxCandidates ?? 1_000;
    let work = prepared;
    if (!work) {
      work = new Prepared();
      for (let i = 0; i < entries.length; i += 1) work.add(entries[i] as IndexEntry, i);
    }
    const { slotEntry, slotAlias, slotEnd, hashes, occurrences } = work;
    this.#slotTokens = work.slotTokens;
    this.#slotEntry = Int32Array.from(slotEntry);
    this.#slotAlias = Int32Array.from(slotAlias);
    const buckets = nextPowerOfTwo(Math.max(1, occurrences));
    this.#mask = buckets - 1;
    const offsets = new Uint32Array(buckets + 1);
    for (let h = 0; h < occurrences; h += 1) {
      const at = ((hashes[h] as number) & this.#mask) + 1;
      offsets[at] = (offsets[at] as number) + 1;
    }
    for (let b = 0; b < buckets; b += 1) offsets[b + 1] = (offsets[b + 1] as number) + (offsets[b] as number);
    const fill = offsets.slice(0, buckets);
    const postings = new Int32Array(occurrences);
    let h = 0;
    for (let slot = 0; slot < slotEnd.length; slot += 1) {
      for (const end = slotEnd[slot] as number; h < end; h += 1) {
        const bucket = (hashes[h] as number) & this.#mask;
        const at = fill[bucket] as number;
        postings[at] = slot;
        fill[bucket] = at + 1;
      }
    }
    this.#offsets = offsets;
    this.#postings = postings;
    this.#counts = new Uint8Array(this.#slotTokens.length);
  }

  static async build(entries: readonly IndexEntry[], options: IndexOptions = {}): Promise<NameIndex> {
    const prepared = new Prepared();
    for (let start = 0; start < entries.length; start += BUILD_SLICE) {
      const end = Math.min(entries.length, start + BUILD_SLICE);
      for (let i = start; i < end; i += 1) prepared.add(entries[i] as IndexEntry, i);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return new NameIndex(entries, options, prepared);
  }

  get size(): number {
    return this.#entries.length;
  }

  stats(): IndexStats {
    return {
      entries: this.#entries.length,
      slots: this.#slotTokens.length,
      buckets: this.#mask + 1,
      postings: this.#postings.length,
      arrayBytes:
        this.#postings.byteLength +
        this.#offsets.byteLength +
        this.#slotEntry.byteLength +
        this.#slotAlias.byteLength +
        this.#counts.byteLength,
    };
  }

  /** The best matches of a name, best first, each with its score and the fields that matched. */
  search(query: string, options: SearchOptions = {}): IndexMatch[] {
    const tokens = nameTokens(query);
    if (tokens.length === 0) return [];
    const candidates = this.#candidates(tokens);
    const minScore = options.minScore ?? 0.75;
    const best = new Map<number, IndexMatch>();
    for (const slot of candidates) {
      const slotTokens = (this.#slotTokens[slot] as string).split(' ');
      const name = nameScore(tokens, slotTokens);
      // Date of birth and nationality lift a name by at most half its distance to 1: below this it cannot pass.
      if (name.score < minScore * 0.6) continue;
      const entryIndex = this.#slotEntry[slot] as number;
      const entry = this.#entries[entryIndex] as IndexEntry;
      const weighting = weigh(name.score, options, entry);
      if (weighting.score < minScore) continue;
      const previous = best.get(entryIndex);
      if (previous && previous.score >= weighting.score) continue;
      const alias = this.#slotAlias[slot] as number;
      best.set(entryIndex, {
        entry,
        score: weighting.score,
        fields: {
          matched: alias === 0 ? 'name' : 'alias',
          value: alias === 0 ? entry.name : (entry.aliases[alias - 1] as string),
          name_score: name.score,
          tokens: name.tokens,
          missing: name.missing,
          extra: name.extra,
          joined: name.joined,
          birth_date: weighting.birthDate,
          nationality: weighting.nationality,
        },
      });
    }
    return [...best.values()].sort((a, b) => b.score - a.score).slice(0, options.limit ?? 10);
  }

  /** How many slots a search of this name scores (the bench reports it). */
  candidateCount(query: string): number {
    const tokens = nameTokens(query);
    return tokens.length === 0 ? 0 : this.#candidates(tokens).length;
  }

  /** The slots sharing the query's keys, those sharing the most first, at most `maxCandidates`. */
  #candidates(tokens: readonly string[]): number[] {
    const counts = this.#counts;
    const touched: number[] = [];
    const keys = nameKeys(tokens, true);
    for (const key of keys) {
      const bucket = fnv1a(key) & this.#mask;
      const start = this.#offsets[bucket] as number;
      const end = this.#offsets[bucket + 1] as number;
      const pair = key.startsWith('p:');
      if (!pair && end - start > this.#singleCap) continue;
      const add = pair ? 2 : 1;
      for (let p = start; p < end; p += 1) {
        const slot = this.#postings[p] as number;
        const count = counts[slot] as number;
        if (count === 0) touched.push(slot);
        counts[slot] = Math.min(255, count + add);
      }
    }
    let chosen = touched;
    if (touched.length > SMALL_TAIL) {
      // Bucket by shared-key count (≤ 255), highest first: linear, no sort of the whole list.
      const byCount: number[][] = [];
      for (const slot of touched) {
        const count = counts[slot] as number;
        if (!byCount[count]) byCount[count] = [];
        (byCount[count] as number[]).push(slot);
      }
      chosen = [];
      for (let count = byCount.length - 1; count > 0 && chosen.length < this.#maxCandidates; count -= 1) {
        const slots = byCount[count];
        if (!slots) continue;
        // Slots sharing a single sound with the query (one token alike, the rest not) are scored only when nothing
        // shares more, or when they are few: a long tail of them is a common name's namesakes.
        if (count === 1 && chosen.length > 0 && slots.length > SMALL_TAIL) break;
        for (const slot of slots) {
          if (chosen.length >= this.#maxCandidates) break;
          chosen.push(slot);
        }
      }
    }
    for (const slot of touched) counts[slot] = 0;
    return chosen;
  }
}
