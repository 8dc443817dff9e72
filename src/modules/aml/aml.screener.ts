/**
 * The Screener port: a name against the sanctions and PEP lists in force (the latest loaded version of each source),
 * through the in-memory NameIndex built from `aml_list_entries`.
 *
 * - `screen`: searches, decides the band from `aml.screening_thresholds` (clear below `review`, review, hit at or above
 *   `hit`), records the screening (`aml_screenings`: subject, matches with their scores and fields, best score, the
 *   list versions screened against, trigger) and, for review or hit, raises an alert through the AlertSink (pattern
 *   `screening`, medium for review, high for a hit) in the same transaction. A screening with no customer or agent to
 *   raise it for (a name-only check) is recorded only.
 * - The index follows the lists: each screening reads the current version of every source (one indexed query) and
 *   rebuilds the index when one changed, whichever node loaded it; `reload()` rebuilds it now (the loader calls it).
 * - `isPep`: the latest screening of the customer matched a PEP entry at or above the review band.
 */
import { and, desc, eq, gt, inArray } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { SettingsService } from '../settings/index.ts';
import { type IndexEntry, type IndexMatch, NameIndex } from './aml.matching.index.ts';
import type { AlertSink, Screener, ScreeningRecord, ScreeningRequest } from './aml.ports.ts';
import {
  amlListEntries,
  amlLists,
  amlScreenings,
  type ScreeningMatch,
  type ScreeningOutcome,
} from './aml.tables.ts';

/** Matches kept on a screening (best first): enough for an analyst, bounded for the row. */
const MAX_MATCHES = 10;
/** Entries read per query while loading (a 1M-entry list is read in pages, not one result set). */
const LOAD_PAGE = 50_000;

interface Loaded {
  index: NameIndex;
  /** `{ un: 3, ofac: 1 }`: what the index was built from. */
  versions: Record<string, number>;
  /** The version rows' ids, to see a change at a glance. */
  signature: string;
}

export interface ReloadResult {
  versions: Record<string, number>;
  entries: number;
  seconds: number;
}

export class AmlScreener implements Screener {
  readonly #db: Executor;
  readonly #alerts: AlertSink;
  readonly #settings: SettingsService;
  #loaded: Loaded | null = null;
  #loading: Promise<Loaded> | null = null;

  readonly #loadPage: number;

  constructor(
    deps: Pick<Dependencies, 'database'>,
    ports: { alerts: AlertSink; settings: SettingsService },
    options: { loadPage?: number } = {},
  ) {
    this.#db = deps.database.db;
    this.#alerts = ports.alerts;
    this.#settings = ports.settings;
    this.#loadPage = options.loadPage ?? LOAD_PAGE;
  }

  /** Rebuilds the index from the current version of each source (after a load; also on first use). */
  async reload(): Promise<ReloadResult> {
    const started = Date.now();
    const loaded = await this.#rebuild(await this.#current());
    return {
      versions: loaded.versions,
      entries: loaded.index.size,
      seconds: (Date.now() - started) / 1000,
    };
  }

  async screen(request: ScreeningRequest): Promise<ScreeningRecord> {
    const loaded = await this.#fresh();
    const thresholds = await this.#settings.get('aml.screening_thresholds');
    const found = loaded.index.search(request.name, {
      birthDate: request.birthDate ?? null,
      nationality: request.nationality ?? null,
      limit: MAX_MATCHES,
      minScore: thresholds.review,
    });
    const matches = found.map(toScreeningMatch);
    const bestScore = matches[0]?.score ?? 0;
    const outcome: ScreeningOutcome =
      bestScore >= thresholds.hit ? 'hit' : bestScore >= thresholds.review ? 'review' : 'clear';
    const id = uuidv7();
    await inTransaction(this.#db, async (tx) => {
      await tx.insert(amlScreenings).values({
        id,
        subjectKind: request.kind,
        subjectId: request.subjectId ?? null,
        name: request.name,
        birthDate: isoDate(request.birthDate),
        nationality: request.nationality?.toUpperCase() ?? null,
        outcome,
        bestScore,
        matches,
        listVersions: loaded.versions,
        trigger: request.trigger,
      });
      if (outcome === 'clear' || (!request.customerId && !request.agentId)) return;
      await this.#alerts.raise(tx, {
        source: 'screening',
        pattern: 'screening',
        priority: outcome === 'hit' ? 'high' : 'medium',
        customerId: request.customerId ?? null,
        agentId: request.agentId ?? null,
        evidence: {
          screening_id: id,
          fields: {
            outcome,
            best_score: bestScore,
            subject_kind: request.kind,
            trigger: request.trigger,
            matches: matches.map((match) => ({
              entry_id: match.entry_id,
              source: match.source,
              external_id: match.external_id,
              name: match.name,
              score: match.score,
              pep: match.pep,
              matched: match.fields.matched,
              value: match.fields.value,
            })),
          },
        },
      });
    });
    return { id, outcome, bestScore, matches };
  }

  async isPep(customerId: string): Promise<boolean> {
    const [latest] = await this.#db
      .select({ matches: amlScreenings.matches })
      .from(amlScreenings)
      .where(eq(amlScreenings.subjectId, customerId))
      .orderBy(desc(amlScreenings.createdAt), desc(amlScreenings.id))
      .limit(1);
    if (!latest) return false;
    const { review } = await this.#settings.get('aml.screening_thresholds');
    return latest.matches.some((match) => match.pep && match.score >= review);
  }

  /** The index, rebuilt first when a source has a newer version than the one it was built from. */
  async #fresh(): Promise<Loaded> {
    const current = await this.#current();
    if (this.#loaded && this.#loaded.signature === signatureOf(current)) return this.#loaded;
    return this.#rebuild(current);
  }

  /** The current (latest) version of each source. */
  async #current(): Promise<{ id: string; source: string; version: number }[]> {
    return this.#db
      .selectDistinctOn([amlLists.source], {
        id: amlLists.id,
        source: amlLists.source,
        version: amlLists.version,
      })
      .from(amlLists)
      .orderBy(amlLists.source, desc(amlLists.version));
  }

  /** One rebuild at a time: screenings arriving meanwhile wait for it rather than start their own. */
  async #rebuild(current: { id: string; source: string; version: number }[]): Promise<Loaded> {
    const signature = signatureOf(current);
    if (this.#loading) {
      const pending = await this.#loading;
      if (pending.signature === signature) return pending;
    }
    const loading = this.#load(current, signature);
    this.#loading = loading;
    try {
      const loaded = await loading;
      this.#loaded = loaded;
      return loaded;
    } finally {
      if (this.#loading === loading) this.#loading = null;
    }
  }

  async #load(
    current: { id: string; source: string; version: number }[],
    signature: string,
  ): Promise<Loaded> {
    const entries: IndexEntry[] = [];
    const listIds = current.map((list) => list.id);
    let after = '';
    while (listIds.length > 0) {
      const page = await this.#db
        .select({
          id: amlListEntries.id,
          source: amlListEntries.source,
          externalId: amlListEntries.externalId,
          kind: amlListEntries.kind,
          name: amlListEntries.name,
          aliases: amlListEntries.aliases,
          birthDates: amlListEntries.birthDates,
          nationalities: amlListEntries.nationalities,
          pep: amlListEntries.pep,
        })
        .from(amlListEntries)
        .where(
          after
            ? and(inArray(amlListEntries.listId, listIds), gt(amlListEntries.id, after))
            : inArray(amlListEntries.listId, listIds),
        )
        .orderBy(amlListEntries.id)
        .limit(this.#loadPage);
      for (const row of page) entries.push(row);
      if (page.length < this.#loadPage) break;
      after = (page.at(-1) as { id: string }).id;
    }
    const versions: Record<string, number> = {};
    for (const list of current) versions[list.source] = list.version;
    return { index: await NameIndex.build(entries), versions, signature };
  }
}

function signatureOf(current: { id: string }[]): string {
  return current
    .map((list) => list.id)
    .sort()
    .join(',');
}

function toScreeningMatch(match: IndexMatch): ScreeningMatch {
  return {
    entry_id: match.entry.id,
    source: match.entry.source,
    external_id: match.entry.externalId,
    name: match.entry.name,
    score: match.score,
    fields: { ...match.fields, kind: match.entry.kind },
    pep: match.entry.pep,
  };
}

/** The `date` column takes a full ISO date; a year alone (or anything else) is kept out of it. */
/** A full calendar date (`1960-02-29` only in a leap year), else null: a year or a month alone is matched, not stored. */
function isoDate(value: string | null | undefined): string | null {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value) && date.getUTCFullYear() >= 1
    ? value
    : null;
}
