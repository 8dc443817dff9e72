/**
 * The loan deny lists: national IDs (by blind index, never in clear), phones (E.164) and device ids. The
 * known-patterns rule trips on any hit. Staff add and remove entries; a confirmed fraud case can add the
 * application's identifiers, recording the case.
 */
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { normalisePhone } from '../customers/index.ts';
import { loansErrors } from './loans.errors.ts';
import type { FraudSources } from './loans.fraud.sources.ts';
import { type DenyKind, loanDenyList } from './loans.fraud.tables.ts';

type DenyRow = typeof loanDenyList.$inferSelect;

export function denyView(row: DenyRow) {
  return {
    id: row.id,
    kind: row.kind,
    value: row.value,
    reason: row.reason,
    case_id: row.caseId,
    added_by_id: row.addedById,
    created_at: row.createdAt.toISOString(),
  };
}

export class DenyList {
  readonly #db: Executor;
  readonly #sources: FraudSources;

  constructor(db: Executor, sources: FraudSources) {
    this.#db = db;
    this.#sources = sources;
  }

  async list(query: { kind?: DenyKind; limit?: number; cursor?: string }) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id']);
    const conditions: SQL[] = [];
    if (query.kind) conditions.push(eq(loanDenyList.kind, query.kind));
    if (position) conditions.push(lt(loanDenyList.id, position.id));
    const rows = await this.#db
      .select()
      .from(loanDenyList)
      .where(and(...conditions))
      .orderBy(desc(loanDenyList.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(denyView), next_cursor: page.next_cursor };
  }

  /**
   * Adds an entry: a phone is normalised to E.164; a national ID is given as its blind index (`value`, as a check's
   * evidence shows it) or by the customer whose ID it is (`customer_id`).
   */
  add(
    principal: Principal,
    input: { kind: DenyKind; value?: string; customer_id?: string; reason: string },
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const value = await this.#valueOf(tx, input);
      const [row] = await tx
        .insert(loanDenyList)
        .values({ id: uuidv7(), kind: input.kind, value, reason: input.reason, addedById: principal.id })
        .onConflictDoNothing()
        .returning();
      if (!row)
        throw loansErrors.LOAN_DENY_LIST_EXISTS({
          params: { kind: input.kind },
          details: { kind: input.kind },
        });
      await writeAudit(tx, context, {
        action: 'loan.deny_list_added',
        entityType: 'loan_deny_list',
        entityId: row.id,
        after: { kind: row.kind, reason: row.reason },
      });
      return denyView(row);
    });
  }

  async #valueOf(
    tx: Executor,
    input: { kind: DenyKind; value?: string; customer_id?: string },
  ): Promise<string> {
    const noValue = (problem: string) =>
      loansErrors.LOAN_DENY_LIST_NO_VALUE({ params: { problem }, details: { kind: input.kind } });
    if (input.kind === 'national_id_index' && input.customer_id) {
      const index = await this.#sources.nationalIdIndex(tx, input.customer_id);
      if (!index) throw noValue('the customer has no national ID on file');
      return index;
    }
    const value = input.value?.trim();
    if (!value) throw noValue('give a value (or customer_id for a national ID)');
    return input.kind === 'phone' ? normalisePhone(value) : value;
  }

  remove(id: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const [row] = await tx.delete(loanDenyList).where(eq(loanDenyList.id, id)).returning();
      if (!row) throw commonErrors.notFound('Deny-list entry');
      await writeAudit(tx, context, {
        action: 'loan.deny_list_removed',
        entityType: 'loan_deny_list',
        entityId: row.id,
        before: { kind: row.kind, reason: row.reason, case_id: row.caseId },
      });
      return denyView(row);
    });
  }

  /** Adds the identifiers a confirmed case found (those already listed stay as they are); returns what was added. */
  async addFromCase(
    tx: Executor,
    identifiers: { kind: DenyKind; value: string | null }[],
    caseId: string,
    reason: string,
    addedById: string,
  ) {
    const values = identifiers
      .filter((item): item is { kind: DenyKind; value: string } => item.value !== null)
      .map((item) => ({ id: uuidv7(), ...item, reason, caseId, addedById }));
    if (values.length === 0) return [];
    const rows = await tx.insert(loanDenyList).values(values).onConflictDoNothing().returning();
    return rows.map(denyView);
  }
}
