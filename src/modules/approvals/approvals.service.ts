/**
 * Maker-checker. Modules register actions (name, the permission a checker must also hold, what makes two requests
 * the same, how to execute); runtime setting `approvals.required_actions` says which of them wait for a second staff
 * member. The maker cannot approve their own request, and an approved request executes exactly once: the transition
 * out of `pending` is a guarded update that only one checker can win. Filing is idempotent per subject: while a
 * request is open (pending or executing), the same action on the same subject is refused with 409 (ADR 0007).
 */
import { createHash } from 'node:crypto';
import { and, desc, eq, inArray, lt, lte, type SQL, sql } from 'drizzle-orm';
import { type RequestContext, systemContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { AppError, commonErrors, platformErrorCatalogue } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import { decodeCursor, paginate } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { toJsonSafe } from '../../platform/json.ts';
import type { SettingsService } from '../settings/index.ts';
import { approvalErrorCatalogue as codes } from './approvals.errors.ts';
import { approvalRequests } from './approvals.tables.ts';

type Row = typeof approvalRequests.$inferSelect;

export interface ApprovalAction<P extends object = object> {
  name: string;
  description: string;
  /** A checker needs approval:decide and this permission (they must be allowed to do the thing themselves). */
  permission: string;
  /** Always needs a checker whatever `approvals.required_actions` says (reversals, merchant registration). */
  always?: boolean;
  /**
   * What makes two requests the same, from the payload (e.g. the transaction a reversal undoes, the user and role
   * of an assignment). Only one open request may hold a key; filing another answers 409 APPROVAL_ALREADY_PENDING.
   */
  dedupeKey(payload: P): string;
  execute(payload: P, context: RequestContext): Promise<unknown>;
}

export const approvalErrors = {
  ownRequest: () => codes.OWN_REQUEST(),
  notPending: (status: string) => codes.NOT_PENDING({ params: { status }, details: { status } }),
  unknownAction: (name: string) => codes.UNKNOWN_ACTION({ params: { name } }),
  alreadyPending: (existing: Row | null) =>
    codes.APPROVAL_ALREADY_PENDING({
      details: existing
        ? {
            request_id: existing.id,
            action: existing.action,
            status: existing.status,
            maker_id: existing.makerId,
            created_at: existing.createdAt.toISOString(),
          }
        : {},
    }),
  /** A checker must be allowed to do the thing themselves. */
  cannotApprove: (permission: string) =>
    platformErrorCatalogue.FORBIDDEN({
      message: 'You do not have permission to approve this action',
      details: { permission },
    }),
};

/** The stored key: the action's name and its declared key, hashed (a key may be long; the index holds 64 hex). */
export function dedupeHash(action: string, key: string): string {
  return createHash('sha256').update(`${action}\n${key}`).digest('hex');
}

export function approvalView(row: Row) {
  return {
    id: row.id,
    action: row.action,
    summary: row.summary,
    payload: row.payload,
    entity_type: row.entityType,
    entity_id: row.entityId,
    maker_id: row.makerId,
    status: row.status,
    checker_id: row.checkerId,
    decided_at: row.decidedAt?.toISOString() ?? null,
    reason: row.reason,
    result: row.result ?? null,
    error: row.error,
    expires_at: row.expiresAt.toISOString(),
    created_at: row.createdAt.toISOString(),
  };
}

export type ApprovalView = ReturnType<typeof approvalView>;

/** What a route answers: the action's own result, or the request now waiting for approval. */
export type Outcome<T> = { kind: 'done'; result: T } | { kind: 'pending'; request: ApprovalView };

export class ApprovalService {
  readonly #db: Executor;
  readonly #settings: SettingsService;
  readonly #actions = new Map<string, ApprovalAction>();

  constructor(db: Executor, settings: SettingsService) {
    this.#db = db;
    this.#settings = settings;
  }

  /** Names in `approvals.required_actions` must be registered actions: a typo would otherwise gate nothing. */
  unknownActions(names: string[]): string[] {
    return names.filter((name) => !this.#actions.has(name));
  }

  register<P extends object>(action: ApprovalAction<P>): void {
    if (this.#actions.has(action.name)) throw new Error(`approval action ${action.name} registered twice`);
    this.#actions.set(action.name, action as unknown as ApprovalAction);
  }

  get actions() {
    return [...this.#actions.values()].map(({ name, description, permission, always }) => ({
      name,
      description,
      permission,
      always: always ?? false,
    }));
  }

  /** Whether an action currently waits for a second staff member. */
  async isRequired(name: string): Promise<boolean> {
    if (this.#actions.get(name)?.always) return true;
    return (await this.#settings.get('approvals.required_actions')).includes(name);
  }

  /** Runs the action now, or files it for approval when the action is configured to need one. */
  async run<P extends object, T>(
    name: string,
    payload: P,
    detail: { summary: string; entityType?: string; entityId?: string },
    context: RequestContext,
    /**
     * `always`: the action needs a checker whatever `approvals.required_actions` says (reversals, large cash).
     * `claim`: the Idempotency-Key's stored answer (202 with the request) commits with the request itself, so a retry
     * after a crash cannot file a second one.
     */
    options: { always?: boolean; claim?: IdempotencyClaim | null } = {},
  ): Promise<Outcome<T>> {
    const action = this.#actions.get(name);
    if (!action) throw approvalErrors.unknownAction(name);
    const required = await this.#settings.get('approvals.required_actions');
    if (!options.always && !action.always && !required.includes(name))
      return { kind: 'done', result: (await action.execute(payload, context)) as T };
    if (!context.actor.id) throw commonErrors.unauthorized();
    const hours = await this.#settings.get('approvals.expiry_hours');
    const dedupeKey = dedupeHash(name, action.dedupeKey(payload));
    const request = await inTransaction(this.#db, async (tx) => {
      // A request past its expiry that the sweeping job has not closed yet does not block a new filing.
      const lapsed = await tx
        .update(approvalRequests)
        .set({ status: 'cancelled', reason: 'expired', updatedAt: new Date() })
        .where(
          and(
            eq(approvalRequests.action, name),
            eq(approvalRequests.dedupeKey, dedupeKey),
            eq(approvalRequests.status, 'pending'),
            lte(approvalRequests.expiresAt, sql`now()`),
          ),
        )
        .returning({ id: approvalRequests.id });
      for (const { id } of lapsed)
        await writeAudit(tx, context, { action: 'approval.expired', entityType: 'approval', entityId: id });
      // A concurrent filing of the same key waits here for the other to commit, then finds the conflict.
      let row: Row | undefined;
      for (let attempt = 1; !row; attempt += 1) {
        [row] = await tx
          .insert(approvalRequests)
          .values({
            id: uuidv7(),
            action: name,
            summary: detail.summary,
            payload: toJsonSafe(payload),
            dedupeKey,
            entityType: detail.entityType ?? null,
            entityId: detail.entityId ?? null,
            makerId: context.actor.id!,
            status: 'pending',
            expiresAt: new Date(Date.now() + hours * 3_600_000),
          })
          .onConflictDoNothing()
          .returning();
        if (row) break;
        const [open] = await tx
          .select()
          .from(approvalRequests)
          .where(
            and(
              eq(approvalRequests.action, name),
              eq(approvalRequests.dedupeKey, dedupeKey),
              inArray(approvalRequests.status, ['pending', 'executing']),
            ),
          )
          .limit(1);
        // Found: refused. Not found: the other request closed between the conflict and this read; file again.
        if (open || attempt >= 3) throw approvalErrors.alreadyPending(open ?? null);
      }
      const view = approvalView(row);
      await writeAudit(tx, context, {
        action: 'approval.requested',
        entityType: 'approval',
        entityId: row.id,
        after: view,
      });
      await options.claim?.commit(tx, 202, view);
      return view;
    });
    return { kind: 'pending', request };
  }

  async list(filters: { status?: Row['status']; action?: string; limit?: number; cursor?: string }) {
    const limit = filters.limit ?? 20;
    const conditions: SQL[] = [];
    if (filters.status) conditions.push(eq(approvalRequests.status, filters.status));
    if (filters.action) conditions.push(eq(approvalRequests.action, filters.action));
    const position = decodeCursor(filters.cursor, ['id'] as const);
    if (position) conditions.push(lt(approvalRequests.id, position.id));
    const rows = await this.#db
      .select()
      .from(approvalRequests)
      .where(and(...conditions))
      .orderBy(desc(approvalRequests.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(approvalView), next_cursor: page.next_cursor };
  }

  async get(id: string) {
    const [row] = await this.#db.select().from(approvalRequests).where(eq(approvalRequests.id, id)).limit(1);
    if (!row) throw commonErrors.notFound('Approval request');
    return approvalView(row);
  }

  /** Moves a pending request to `to`; only one caller can win. Returns the row as it was. */
  async #transition(
    id: string,
    checker: Principal,
    to: Row['status'],
    reason: string | null,
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const [row] = await tx
        .select()
        .from(approvalRequests)
        .where(eq(approvalRequests.id, id))
        .for('update')
        .limit(1);
      if (!row) throw commonErrors.notFound('Approval request');
      // Only the maker may withdraw a request, and to anyone else it does not exist: another principal's request
      // answers 404 like a random id, whatever its status (no 409 telling them it exists and how it ended).
      if (to === 'cancelled' && row.makerId !== checker.id) throw commonErrors.notFound('Approval request');
      if (row.status !== 'pending') throw approvalErrors.notPending(row.status);
      if (row.expiresAt.getTime() <= Date.now()) throw approvalErrors.notPending('expired');
      if (to !== 'cancelled' && row.makerId === checker.id) throw approvalErrors.ownRequest();
      const action = this.#actions.get(row.action);
      if (to === 'executing' && action && !checker.permissions.has(action.permission)) {
        throw approvalErrors.cannotApprove(action.permission);
      }
      await tx
        .update(approvalRequests)
        .set({
          status: to,
          checkerId: to === 'cancelled' ? null : checker.id,
          decidedAt: new Date(),
          reason,
          updatedAt: new Date(),
        })
        .where(and(eq(approvalRequests.id, id), eq(approvalRequests.status, 'pending')));
      await writeAudit(tx, context, {
        action: `approval.${to === 'executing' ? 'approved' : to}`,
        entityType: 'approval',
        entityId: id,
        before: { status: 'pending' },
        after: { status: to === 'executing' ? 'approved' : to, reason },
      });
      return row;
    });
  }

  async approve(id: string, checker: Principal, context: RequestContext) {
    const row = await this.#transition(id, checker, 'executing', null, context);
    const action = this.#actions.get(row.action);
    let status: Row['status'] = 'approved';
    let result: unknown = null;
    let error: string | null = null;
    try {
      if (!action) throw approvalErrors.unknownAction(row.action);
      // The effect is the maker's request, carried out on the checker's approval.
      result = await action.execute(row.payload as object, context);
    } catch (failure) {
      status = 'failed';
      error = failure instanceof AppError ? `${failure.errorCode}: ${failure.message}` : 'execution failed';
    }
    const updated = await inTransaction(this.#db, async (tx) => {
      const [row] = await tx
        .update(approvalRequests)
        .set({
          status,
          result: result === null ? null : toJsonSafe(result),
          error,
          updatedAt: new Date(),
        })
        .where(and(eq(approvalRequests.id, id), eq(approvalRequests.status, 'executing')))
        .returning();
      await writeAudit(tx, context, {
        action: status === 'approved' ? 'approval.executed' : 'approval.failed',
        entityType: 'approval',
        entityId: id,
        after: { status, error },
      });
      return row;
    });
    return approvalView(updated!);
  }

  async reject(id: string, reason: string, checker: Principal, context: RequestContext) {
    await this.#transition(id, checker, 'rejected', reason, context);
    return this.get(id);
  }

  async cancel(id: string, maker: Principal, context: RequestContext) {
    await this.#transition(id, maker, 'cancelled', null, context);
    return this.get(id);
  }
}

/** Pending requests past their expiry are closed by a scheduled job. */
export async function expireStaleApprovals(db: Executor): Promise<number> {
  return inTransaction(db, async (tx) => {
    const rows = await tx
      .update(approvalRequests)
      .set({ status: 'cancelled', reason: 'expired', updatedAt: new Date() })
      .where(and(eq(approvalRequests.status, 'pending'), lt(approvalRequests.expiresAt, sql`now()`)))
      .returning({ id: approvalRequests.id });
    for (const row of rows) {
      await writeAudit(tx, systemContext(), {
        action: 'approval.expired',
        entityType: 'approval',
        entityId: row.id,
      });
    }
    return rows.length;
  });
}
