/**
 * AML case work: the queue, a case with its alerts and trail, and the analysts' actions (claim, assign, start
 * investigating, escalate, note, attach, snooze). Decisions live in aml.cases.decide.ts. Every action is one
 * transaction that locks the case, checks its state, changes it and writes its `aml_case_events` row (the case's
 * audit trail) and an audit-log entry naming only the case.
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { AppError } from '../../platform/errors.ts';
import { decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import {
  alertsOfCase,
  type CaseFilters,
  type CaseRow,
  eventsOfCase,
  findCase,
  insertCaseEvent,
  listCases,
  updateCase,
} from './aml.cases.repository.ts';
import { type CaseDetailView, caseDetailView, caseView } from './aml.cases.views.ts';
import { amlErrors } from './aml.errors.ts';
import type { AlertPriority, CaseState } from './aml.tables.ts';

const DAY_MS = 86_400_000;
const MAX_SNOOZE_DAYS = 90;

export const caseErrors = {
  notFound: () => amlErrors.AML_CASE_NOT_FOUND(),
  state: (action: string, state: CaseState) =>
    amlErrors.AML_CASE_STATE({ params: { action, state }, details: { action, state } }),
  assigned: () => amlErrors.AML_CASE_ASSIGNED(),
  assigneeInvalid: () => amlErrors.AML_ASSIGNEE_INVALID(),
  sameAnalyst: () => amlErrors.AML_CASE_SAME_ANALYST(),
  attachment: (reason: string) =>
    amlErrors.AML_ATTACHMENT_INVALID({ params: { reason }, details: { reason } }),
  snooze: () => amlErrors.AML_SNOOZE_INVALID(),
  noCustomer: () => amlErrors.AML_CASE_NO_CUSTOMER(),
  notRestricted: () => amlErrors.AML_CASE_NOT_RESTRICTED(),
};

/** The documents module as the cases area uses it (an attachment is a document of the case's customer). */
export interface CaseDocuments {
  get(id: string, principal: Principal): Promise<{ id: string; customer_id: string }>;
  upload(
    customerId: string,
    documentType: string,
    data: Buffer,
    principal: Principal,
    context: RequestContext,
  ): Promise<{ id: string }>;
}

export interface CaseWorkDeps {
  db: Executor;
  documents: CaseDocuments;
  /** True when the staff user is active and their roles grant `aml:investigate` (identity's userAccess). */
  mayInvestigate(userId: string): Promise<boolean>;
  /** The clock (tests move it). */
  now?: () => Date;
}

export type AttachInput =
  | { document_id: string; description?: string }
  | { document_type: string; content_base64: string; description?: string };

/** Locks the case, runs `work`, writes the case event and the audit entry; answers the case with its trail. */
export async function actOnCase(
  db: Executor,
  caseId: string,
  context: RequestContext,
  action: string,
  work: (
    tx: Executor,
    row: CaseRow,
  ) => Promise<{ row: CaseRow; detail?: Record<string, unknown>; action?: string } | null>,
): Promise<CaseDetailView> {
  return inTransaction(db, async (tx) => {
    const row = await findCase(tx, caseId, true);
    if (!row) throw caseErrors.notFound();
    const done = await work(tx, row);
    const current = done?.row ?? row;
    if (done) {
      await insertCaseEvent(tx, caseId, context.actor.id, done.action ?? action, done.detail ?? {});
      await writeAudit(tx, context, {
        action: `aml.case.${done.action ?? action}`,
        entityType: 'aml_case',
        entityId: caseId,
        before: { state: row.state },
        after: { state: current.state },
      });
    }
    return detailOf(tx, current);
  });
}

export async function detailOf(db: Executor, row: CaseRow): Promise<CaseDetailView> {
  const [alerts, events] = await Promise.all([alertsOfCase(db, row.id), eventsOfCase(db, row.id)]);
  return caseDetailView(row, alerts, events);
}

const OPEN_STATES: readonly CaseState[] = ['open', 'assigned', 'investigating', 'escalated'];

function assertNotClosed(row: CaseRow, action: string): void {
  if (!OPEN_STATES.includes(row.state)) throw caseErrors.state(action, row.state);
}

export class CaseWork {
  readonly #deps: CaseWorkDeps;

  constructor(deps: CaseWorkDeps) {
    this.#deps = deps;
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }

  async list(query: {
    state?: CaseState;
    priority?: AlertPriority;
    assignee_id?: string;
    customer_id?: string;
    agent_id?: string;
    breached?: boolean;
    include_snoozed?: boolean;
    limit?: number;
    cursor?: string;
  }) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id'] as const);
    const filters: CaseFilters = {
      state: query.state,
      priority: query.priority,
      assigneeId: query.assignee_id,
      customerId: query.customer_id,
      agentId: query.agent_id,
      breached: query.breached,
      includeSnoozed: query.include_snoozed ?? false,
      beforeId: position?.id,
    };
    const rows = await listCases(this.#deps.db, filters, limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(caseView), next_cursor: page.next_cursor };
  }

  async get(id: string): Promise<CaseDetailView> {
    const row = await findCase(this.#deps.db, id);
    if (!row) throw caseErrors.notFound();
    return detailOf(this.#deps.db, row);
  }

  /** The caller takes an unassigned case (open → assigned); claiming one's own case again changes nothing. */
  claim(id: string, context: RequestContext) {
    const userId = context.actor.id!;
    return actOnCase(this.#deps.db, id, context, 'claimed', async (tx, row) => {
      assertNotClosed(row, 'claim');
      if (row.assigneeId === userId) return null;
      if (row.assigneeId) throw caseErrors.assigned();
      const state = row.state === 'open' ? 'assigned' : row.state;
      return {
        row: await updateCase(tx, row.id, { assigneeId: userId, state }),
        detail: { assignee_id: userId },
      };
    });
  }

  /** Gives the case to a staff user who may investigate (any open state; an open case becomes assigned). */
  async assign(id: string, assigneeId: string, context: RequestContext) {
    if (!(await this.#deps.mayInvestigate(assigneeId))) throw caseErrors.assigneeInvalid();
    return actOnCase(this.#deps.db, id, context, 'assigned', async (tx, row) => {
      assertNotClosed(row, 'assign');
      if (row.assigneeId === assigneeId) return null;
      const state = row.state === 'open' ? 'assigned' : row.state;
      return {
        row: await updateCase(tx, row.id, { assigneeId, state }),
        detail: { assignee_id: assigneeId, previous_assignee_id: row.assigneeId },
      };
    });
  }

  /** assigned → investigating, or escalated → investigating (the escalation answered). */
  investigate(id: string, context: RequestContext) {
    return actOnCase(this.#deps.db, id, context, 'investigating', async (tx, row) => {
      if (row.state !== 'assigned' && row.state !== 'escalated')
        throw caseErrors.state('start investigating', row.state);
      return { row: await updateCase(tx, row.id, { state: 'investigating' }), detail: { from: row.state } };
    });
  }

  /** investigating → escalated, with the reason. */
  escalate(id: string, reason: string, context: RequestContext) {
    return actOnCase(this.#deps.db, id, context, 'escalated', async (tx, row) => {
      if (row.state !== 'investigating') throw caseErrors.state('escalate', row.state);
      return { row: await updateCase(tx, row.id, { state: 'escalated' }), detail: { reason } };
    });
  }

  /** A note on the trail (closed cases take notes too: what was learnt afterwards). */
  note(id: string, text: string, context: RequestContext) {
    return actOnCase(this.#deps.db, id, context, 'note', async (_tx, row) => ({ row, detail: { text } }));
  }

  /**
   * Attaches a document: an existing one (it must exist, and belong to the case's customer when the case has one),
   * or a file uploaded now through the documents module (checked by its bytes, stored encrypted) for the customer.
   */
  async attach(id: string, input: AttachInput, principal: Principal, context: RequestContext) {
    const row = await findCase(this.#deps.db, id);
    if (!row) throw caseErrors.notFound();
    let documentId: string;
    let uploaded = false;
    if ('document_id' in input) {
      const document = await this.#document(input.document_id, principal);
      if (row.customerId && document.customer_id !== row.customerId)
        throw caseErrors.attachment('the document belongs to another customer');
      documentId = document.id;
    } else {
      if (!row.customerId)
        throw caseErrors.attachment('a case without a customer takes only existing documents');
      const data = Buffer.from(input.content_base64, 'base64');
      if (data.length === 0) throw caseErrors.attachment('the file is empty');
      documentId = (
        await this.#deps.documents.upload(row.customerId, input.document_type, data, principal, context)
      ).id;
      uploaded = true;
    }
    return actOnCase(this.#deps.db, id, context, 'attachment', async (_tx, locked) => ({
      row: locked,
      detail: { document_id: documentId, uploaded, description: input.description ?? null },
    }));
  }

  async #document(documentId: string, principal: Principal) {
    try {
      return await this.#deps.documents.get(documentId, principal);
    } catch (error) {
      if (error instanceof AppError && error.statusCode === 404)
        throw caseErrors.attachment('no such document');
      throw error;
    }
  }

  /** Hides the case from the default queue until `until` (the SLA clock keeps running). */
  snooze(id: string, until: Date, reason: string, context: RequestContext) {
    const now = this.#now();
    if (!(until.getTime() > now.getTime()) || until.getTime() - now.getTime() > MAX_SNOOZE_DAYS * DAY_MS)
      throw caseErrors.snooze();
    return actOnCase(this.#deps.db, id, context, 'snoozed', async (tx, row) => {
      assertNotClosed(row, 'snooze');
      return {
        row: await updateCase(tx, row.id, { snoozedUntil: until }),
        detail: { until: until.toISOString(), reason },
      };
    });
  }
}
