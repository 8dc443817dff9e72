/** Staff reads of the screenings made (GET /api/v1/aml/screenings): newest first, by customer, kind or outcome. */
import { and, desc, eq, lt } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/http.ts';
import { amlScreenings, type ScreeningOutcome, type ScreeningSubjectKind } from './aml.tables.ts';

type ScreeningRow = typeof amlScreenings.$inferSelect;

export function screeningView(row: ScreeningRow) {
  return {
    id: row.id,
    subject_kind: row.subjectKind,
    subject_id: row.subjectId,
    name: row.name,
    birth_date: row.birthDate,
    nationality: row.nationality,
    outcome: row.outcome,
    best_score: row.bestScore,
    matches: row.matches,
    list_versions: row.listVersions,
    trigger: row.trigger,
    created_at: row.createdAt.toISOString(),
  };
}

export async function listScreenings(
  db: Executor,
  query: {
    customer_id?: string;
    subject_kind?: string;
    outcome?: ScreeningOutcome;
    limit?: number;
    cursor?: string;
  },
) {
  const limit = query.limit ?? 20;
  const position = decodeCursor(query.cursor, ['id'] as const);
  if (query.cursor && !position) throw commonErrors.badRequest('The cursor is not one this list gave');
  const rows = await db
    .select()
    .from(amlScreenings)
    .where(
      and(
        query.customer_id ? eq(amlScreenings.subjectId, query.customer_id) : undefined,
        query.subject_kind
          ? eq(amlScreenings.subjectKind, query.subject_kind as ScreeningSubjectKind)
          : undefined,
        query.outcome ? eq(amlScreenings.outcome, query.outcome) : undefined,
        position ? lt(amlScreenings.id, position.id) : undefined,
      ),
    )
    .orderBy(desc(amlScreenings.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  return {
    items: items.map(screeningView),
    next_cursor: rows.length > limit ? encodeCursor({ id: items[items.length - 1]!.id }) : null,
  };
}
