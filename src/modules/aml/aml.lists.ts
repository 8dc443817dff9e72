/**
 * Loading a published sanctions or PEP list as a new version: the file's SHA-256 first (the same file again adds no
 * version, and says so), then in one transaction the version row, its entries in batches, the diff with the previous
 * version by external id and fingerprint (added, removed, changed: stored with the version), the audit entry and
 * `aml.list_loaded`. A version with differences starts the rescreening of every customer (the area subscribes to its
 * own topic and queues the job: the load returns at once, from the API, the CLI or the directory watcher alike).
 * Only the current and the previous version keep their entries (the diff needs the previous one).
 */
import { createHash } from 'node:crypto';
import { and, desc, eq, gt, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { amlErrors } from './aml.errors.ts';
import {
  fingerprint,
  type ListFile,
  ListFormatError,
  type ParsedEntry,
  parseList,
} from './aml.lists.parse.ts';
import { amlListLoaded } from './aml.screening.events.ts';
import { amlListEntries, amlLists, type ListSource } from './aml.tables.ts';

const BATCH = 1000;

export interface ListVersionView {
  id: string;
  source: ListSource;
  version: number;
  origin: string;
  checksum: string;
  entry_count: number;
  added: number;
  removed: number;
  changed: number;
  loaded_at: string;
  /** The version screening matches against (the newest of its source). */
  current: boolean;
}

export interface ListLoadOutcome {
  /** True when the file's checksum is the current version's: nothing was loaded. */
  unchanged: boolean;
  list: ListVersionView;
}

type ListRow = typeof amlLists.$inferSelect;

const view = (row: ListRow, current: boolean): ListVersionView => ({
  id: row.id,
  source: row.source,
  version: row.version,
  origin: row.origin,
  checksum: row.checksum,
  entry_count: row.entryCount,
  added: row.added,
  removed: row.removed,
  changed: row.changed,
  loaded_at: row.loadedAt.toISOString(),
  current,
});

/** SHA-256 over the file (and the alias file, for OFAC), streamed. */
export async function checksumOf(files: readonly ListFile[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    for await (const chunk of file.open()) hash.update(chunk as Buffer);
    hash.update('\0');
  }
  return hash.digest('hex');
}

async function latest(db: Executor, source: ListSource): Promise<ListRow | undefined> {
  const [row] = await db
    .select()
    .from(amlLists)
    .where(eq(amlLists.source, source))
    .orderBy(desc(amlLists.version))
    .limit(1);
  return row;
}

function entryRow(listId: string, source: ListSource, entry: ParsedEntry) {
  return {
    id: uuidv7(),
    listId,
    source,
    externalId: entry.externalId,
    kind: entry.kind,
    name: entry.name,
    aliases: entry.aliases,
    birthDates: entry.birthDates,
    nationalities: entry.nationalities,
    programs: entry.programs,
    pep: entry.pep,
    fingerprint: fingerprint(entry),
  };
}

/** Added, removed and changed entries between two versions (by external id; changed: another fingerprint). */
async function diff(tx: Executor, listId: string, previousId: string | null) {
  if (!previousId) {
    const [row] = await tx
      .select({ count: sql<number>`count(*)::int` })
      .from(amlListEntries)
      .where(eq(amlListEntries.listId, listId));
    return { added: row?.count ?? 0, removed: 0, changed: 0 };
  }
  const result = (await tx.execute(sql`
    select
      count(*) filter (where old.id is null)::int as added,
      count(*) filter (where new.id is null)::int as removed,
      count(*) filter (where new.id is not null and old.id is not null and new.fingerprint <> old.fingerprint)::int
        as changed
    from (select id, external_id, fingerprint from aml_list_entries where list_id = ${listId}) new
    full join (select id, external_id, fingerprint from aml_list_entries where list_id = ${previousId}) old
      on new.external_id = old.external_id`)) as unknown as {
    rows: { added: number; removed: number; changed: number }[];
  };
  const [row] = result.rows;
  return { added: row?.added ?? 0, removed: row?.removed ?? 0, changed: row?.changed ?? 0 };
}

export class ListLoader {
  readonly #db: Executor;

  constructor(db: Executor) {
    this.#db = db;
  }

  /** Loads `file` (and OFAC's alias file) as the next version of `source`; the same file again is a no-op. */
  async load(
    source: ListSource,
    file: ListFile,
    alt: ListFile | undefined,
    context: RequestContext,
  ): Promise<ListLoadOutcome> {
    const checksum = await checksumOf(alt ? [file, alt] : [file]);
    const current = await latest(this.#db, source);
    if (current?.checksum === checksum) return { unchanged: true, list: view(current, true) };
    try {
      return await inTransaction(this.#db, async (tx) => {
        // One load of a source at a time: the second waits, then finds the first's version.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`aml_lists:${source}`}))`);
        const previous = await latest(tx, source);
        if (previous?.checksum === checksum) return { unchanged: true, list: view(previous, true) };
        const listId = uuidv7();
        const version = (previous?.version ?? 0) + 1;
        await tx.insert(amlLists).values({
          id: listId,
          source,
          version,
          origin: file.origin,
          checksum,
          entryCount: 0,
          loadedBy: context.actor.type === 'user' ? context.actor.id : null,
        });
        let count = 0;
        let batch: ReturnType<typeof entryRow>[] = [];
        const flush = async () => {
          if (batch.length === 0) return;
          // A file naming one external id twice keeps the first.
          await tx.insert(amlListEntries).values(batch).onConflictDoNothing();
          batch = [];
        };
        for await (const entry of parseList(source, file, alt)) {
          batch.push(entryRow(listId, source, entry));
          count += 1;
          if (batch.length >= BATCH) await flush();
        }
        await flush();
        if (count === 0) throw new ListFormatError('the file holds no entry');
        const counts = await diff(tx, listId, previous?.id ?? null);
        const [stored] = await tx
          .select({ count: sql<number>`count(*)::int` })
          .from(amlListEntries)
          .where(eq(amlListEntries.listId, listId));
        const [row] = await tx
          .update(amlLists)
          .set({ entryCount: stored?.count ?? count, ...counts })
          .where(eq(amlLists.id, listId))
          .returning();
        // Versions before the previous one keep their row (the history) but not their entries.
        if (previous) {
          await tx.execute(sql`
            delete from aml_list_entries where list_id in (
              select id from aml_lists where source = ${source} and version < ${previous.version})`);
        }
        await writeAudit(tx, context, {
          action: 'aml.list_loaded',
          entityType: 'aml_list',
          entityId: listId,
          after: { source, version, checksum, origin: file.origin, entry_count: row!.entryCount, ...counts },
        });
        await emitEvent(
          tx,
          amlListLoaded,
          { type: 'aml_list', id: listId },
          { list_id: listId, source, version, entry_count: row!.entryCount, ...counts },
        );
        return { unchanged: false, list: view(row!, true) };
      });
    } catch (error) {
      if (error instanceof ListFormatError)
        throw amlErrors.AML_LIST_INVALID({ params: { reason: error.message } });
      throw error;
    }
  }

  /** Every loaded version, newest first per source (the current one flagged). */
  async versions(source?: ListSource): Promise<ListVersionView[]> {
    const rows = await this.#db
      .select()
      .from(amlLists)
      .where(source ? eq(amlLists.source, source) : undefined)
      .orderBy(amlLists.source, desc(amlLists.version))
      .limit(500);
    const seen = new Set<string>();
    return rows.map((row) => {
      const current = !seen.has(row.source);
      seen.add(row.source);
      return view(row, current);
    });
  }

  /** The current version of each source that has one: `{ un: 3, ofac: 1 }`. */
  async currentVersions(): Promise<Partial<Record<ListSource, number>>> {
    const rows = await this.#db
      .select({ source: amlLists.source, version: sql<number>`max(${amlLists.version})::int` })
      .from(amlLists)
      .groupBy(amlLists.source);
    return Object.fromEntries(rows.map((row) => [row.source, row.version]));
  }

  /** Entries of a version (tests and the analyst's view of a diff). */
  async entries(listId: string, options: { limit?: number; afterExternalId?: string } = {}) {
    return this.#db
      .select()
      .from(amlListEntries)
      .where(
        and(
          eq(amlListEntries.listId, listId),
          options.afterExternalId ? gt(amlListEntries.externalId, options.afterExternalId) : undefined,
        ),
      )
      .orderBy(amlListEntries.externalId)
      .limit(options.limit ?? 1000);
  }
}
