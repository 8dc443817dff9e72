/**
 * goAML reports: the STR for a case (its alerts' transactions and the people and wallets in them) and the CTR for a
 * cash transaction at or above the threshold in settings. Each report is built as data, written as XML, validated
 * against goaml/goAML_report.xsd and only then stored; one that does not validate is an error and is not stored.
 */
import { and, desc, eq, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import type { KeyRing } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { PayloadOf } from '../../platform/events.ts';
import { decodeCursor, paginate } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { formatDecimal } from '../../platform/money.ts';
import { userContact, userFullName } from '../identity/index.ts';
import type { SettingsService } from '../settings/index.ts';
import {
  findTransaction,
  type TransactionRow,
  type TransactionsApi,
  type transactionCompleted,
} from '../transactions/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { amlErrors } from './aml.errors.ts';
import { validateGoaml } from './aml.goaml.validate.ts';
import { type GoamlReport, type GoamlReportingPerson, goamlDate, goamlXml } from './aml.goaml.xml.ts';
import type { ReportWriter } from './aml.ports.ts';
import type { ReportsConfigValues } from './aml.reports.config.ts';
import { toLocal } from './aml.reports.fx.ts';
import { CASH_TYPES, type PartySettings, ReportParties } from './aml.reports.parties.ts';
import { amlAlerts, amlCaseEvents, amlCases, amlReports, type ReportKind } from './aml.tables.ts';

type ReportRow = typeof amlReports.$inferSelect;

export function reportView(row: ReportRow) {
  return {
    id: row.id,
    kind: row.kind,
    case_id: row.caseId,
    customer_id: row.customerId,
    transaction_ids: row.transactionIds,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    xml_bytes: Buffer.byteLength(row.xml, 'utf8'),
  };
}

export type ReportView = ReturnType<typeof reportView>;

const reportErrors = {
  notFound: () => amlErrors.AML_REPORT_NOT_FOUND(),
  caseNotFound: () => amlErrors.AML_CASE_NOT_FOUND(),
  noTransactions: () => amlErrors.AML_REPORT_NO_TRANSACTIONS(),
  invalid: (errors: string[]) =>
    amlErrors.AML_REPORT_INVALID({ params: { reason: errors[0] ?? 'unknown' }, details: { errors } }),
};

/** A goAML indicator code from a rule or scenario code (`structuring-below` → `STRUCTURING_BELOW`). */
const indicatorOf = (pattern: string) =>
  pattern
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 50) || 'AML';

export interface ReportsDeps {
  db: Executor;
  keys: KeyRing;
  settings: SettingsService;
  wallets: WalletsService;
  fx: TransactionsApi['fx'];
  config: ReportsConfigValues;
}

export class ReportsService implements ReportWriter {
  readonly #deps: ReportsDeps;

  constructor(deps: ReportsDeps) {
    this.#deps = deps;
  }

  async #partySettings(): Promise<PartySettings> {
    const config = this.#deps.config;
    return {
      institutionName: await this.#deps.settings.get('institution.name'),
      institutionCode: String(config.GOAML_RENTITY_ID),
      branch: config.GOAML_RENTITY_BRANCH ?? null,
      country: config.GOAML_COUNTRY,
      timeZone: await this.#deps.settings.get('institution.time_zone'),
      currencyLocal: config.GOAML_CURRENCY_LOCAL,
    };
  }

  #parties(tx: Executor, settings: PartySettings): ReportParties {
    return new ReportParties({
      tx,
      keys: this.#deps.keys,
      wallets: this.#deps.wallets,
      settings,
    });
  }

  /** The staff member filing (a user), as goAML's reporting person; none for the system. */
  async #reportingPerson(tx: Executor, context: RequestContext): Promise<GoamlReportingPerson | null> {
    if (context.actor.type !== 'user' || !context.actor.id) return null;
    const name = await userFullName(tx, context.actor.id);
    const contact = await userContact(tx, context.actor.id);
    if (!name) return null;
    const parts = name.trim().split(/\s+/);
    const lastName = parts.length > 1 ? parts.pop()! : parts[0]!;
    return {
      firstName: parts.join(' ').slice(0, 100) || lastName,
      lastName: lastName.slice(0, 100),
      phones: [],
      email: contact?.email ?? null,
      occupation: 'Compliance officer',
    };
  }

  async #store(
    tx: Executor,
    report: GoamlReport,
    row: Omit<typeof amlReports.$inferInsert, 'id' | 'xml' | 'kind'>,
    context: RequestContext,
  ): Promise<string | null> {
    const xml = goamlXml(report);
    const validation = await validateGoaml(xml);
    if (!validation.valid) throw reportErrors.invalid(validation.errors);
    const id = uuidv7();
    const inserted = await tx
      .insert(amlReports)
      .values({ id, kind: report.code, xml, ...row })
      .onConflictDoNothing()
      .returning({ id: amlReports.id });
    if (inserted.length === 0) return null;
    await writeAudit(tx, context, {
      action: `aml.report.${report.code.toLowerCase()}_generated`,
      entityType: 'aml_report',
      entityId: id,
      after: { kind: report.code, case_id: row.caseId ?? null, transaction_ids: row.transactionIds },
    });
    return id;
  }

  async #header(
    tx: Executor,
    code: ReportKind,
    entityReference: string,
    context: RequestContext,
    settings: PartySettings,
  ) {
    const config = this.#deps.config;
    return {
      rentityId: config.GOAML_RENTITY_ID,
      rentityBranch: config.GOAML_RENTITY_BRANCH ?? null,
      code,
      entityReference,
      submissionDate: goamlDate(new Date(), settings.timeZone),
      currencyLocal: config.GOAML_CURRENCY_LOCAL,
      reportingPerson: await this.#reportingPerson(tx, context),
      location: config.GOAML_LOCATION_ADDRESS
        ? {
            type: 'B' as const,
            address: config.GOAML_LOCATION_ADDRESS.slice(0, 100),
            city: config.GOAML_LOCATION_CITY,
            countryCode: config.GOAML_COUNTRY,
          }
        : null,
    };
  }

  /** ReportWriter: the STR of a case, in the caller's transaction; the stored report's id. */
  async strForCase(tx: Executor, caseId: string, context: RequestContext): Promise<string> {
    const [found] = await tx.select().from(amlCases).where(eq(amlCases.id, caseId)).limit(1);
    if (!found) throw reportErrors.caseNotFound();
    const alerts = await tx
      .select()
      .from(amlAlerts)
      .where(eq(amlAlerts.caseId, caseId))
      .orderBy(amlAlerts.createdAt, amlAlerts.id);
    const ids = [...new Set(alerts.flatMap((alert) => alert.evidence.transaction_ids ?? []))];
    const rows: TransactionRow[] = [];
    for (const id of ids) {
      const row = await findTransaction(tx, id);
      if (row) rows.push(row);
    }
    if (rows.length === 0) throw reportErrors.noTransactions();
    rows.sort((a, b) => (a.completedAt ?? a.createdAt).getTime() - (b.completedAt ?? b.createdAt).getTime());

    const settings = await this.#partySettings();
    const parties = this.#parties(tx, settings);
    const local = toLocal(this.#deps.fx, settings.currencyLocal);
    const transactions = [];
    for (const row of rows) transactions.push(await parties.transaction(row, local));
    const patterns = [...new Set(alerts.map((alert) => alert.pattern))];
    const reason = [
      `AML case ${found.reference} (${found.priority} priority): ${alerts.length} alert(s) of ${patterns.join(', ')}.`,
      ...alerts.map((alert) => {
        const fields = alert.evidence.fields ? ` ${JSON.stringify(alert.evidence.fields)}` : '';
        return `- ${alert.source} ${alert.pattern}${alert.ruleVersion ? ` v${alert.ruleVersion}` : ''} at ${alert.createdAt.toISOString()}${fields}`;
      }),
    ]
      .join('\n')
      .slice(0, 8000);
    const action = found.decision
      ? `Case decided: ${found.decision.replace('_', ' ')}.`
      : `Case ${found.state}; reported to the FIU while the investigation continues.`;
    const count = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(amlReports)
      .where(and(eq(amlReports.caseId, caseId), eq(amlReports.kind, 'STR')));
    const report: GoamlReport = {
      ...(await this.#header(
        tx,
        'STR',
        `${found.reference}-STR-${(count[0]?.n ?? 0) + 1}`,
        context,
        settings,
      )),
      reason,
      action,
      transactions,
      indicators: patterns.map(indicatorOf),
    };
    const id = await this.#store(
      tx,
      report,
      {
        caseId,
        customerId: found.customerId,
        transactionIds: rows.map((row) => row.id),
        createdBy: context.actor.type === 'user' ? context.actor.id : null,
      },
      context,
    );
    // Without a dedupe key the insert cannot conflict.
    if (!id) throw new Error('an STR was not stored');
    return id;
  }

  /** `POST /aml/cases/{caseId}/str`: an STR for the case without deciding it (the case's trail records it). */
  async fileStr(caseId: string, context: RequestContext): Promise<ReportView> {
    return inTransaction(this.#deps.db, async (tx) => {
      const [found] = await tx
        .select({ id: amlCases.id })
        .from(amlCases)
        .where(eq(amlCases.id, caseId))
        .for('update');
      if (!found) throw reportErrors.caseNotFound();
      const id = await this.strForCase(tx, caseId, context);
      await tx.insert(amlCaseEvents).values({
        id: uuidv7(),
        caseId,
        actorId: context.actor.type === 'user' ? context.actor.id : null,
        action: 'str_generated',
        detail: { report_id: id },
      });
      return reportView(await this.#row(tx, id));
    });
  }

  /**
   * On `transaction.completed`: a CTR for a cash transaction (teller or agent) at or above the threshold of its
   * currency. Keyed `ctr:<transaction id>`, so a redelivered event adds nothing. The report's id, or null.
   */
  async ctrFor(
    tx: Executor,
    event: PayloadOf<typeof transactionCompleted>,
    context: RequestContext,
  ): Promise<string | null> {
    if (!CASH_TYPES.has(event.type)) return null;
    const thresholds = await this.#deps.settings.get('aml.ctr_threshold_minor');
    const threshold = thresholds[event.currency];
    if (threshold === undefined || BigInt(event.amount) < BigInt(threshold)) return null;
    const dedupeKey = `ctr:${event.transaction_id}`;
    const [done] = await tx
      .select({ id: amlReports.id })
      .from(amlReports)
      .where(eq(amlReports.dedupeKey, dedupeKey))
      .limit(1);
    if (done) return null;
    const row = await findTransaction(tx, event.transaction_id);
    if (!row) return null;
    const settings = await this.#partySettings();
    const parties = this.#parties(tx, settings);
    const transaction = await parties.transaction(row, toLocal(this.#deps.fx, settings.currencyLocal));
    const customerId =
      event.destination_customer_id ??
      event.source_customer_id ??
      row.customerId ??
      row.counterpartyCustomerId;
    const report: GoamlReport = {
      ...(await this.#header(tx, 'CTR', `CTR-${row.reference}`.slice(0, 255), context, settings)),
      reason: `Cash transaction (${row.type}) of ${formatDecimal(row.amount, row.currency)} ${row.currency} at or above the reporting threshold of ${formatDecimal(BigInt(threshold), row.currency)} ${row.currency}.`,
      transactions: [transaction],
      indicators: ['CASH_THRESHOLD'],
    };
    return this.#store(
      tx,
      report,
      { customerId, transactionIds: [row.id], dedupeKey, createdBy: null },
      context,
    );
  }

  async #row(executor: Executor, id: string): Promise<ReportRow> {
    const [row] = await executor.select().from(amlReports).where(eq(amlReports.id, id)).limit(1);
    if (!row) throw reportErrors.notFound();
    return row;
  }

  async list(query: {
    kind?: ReportKind;
    case_id?: string;
    customer_id?: string;
    limit?: number;
    cursor?: string;
  }) {
    const limit = query.limit ?? 20;
    const after = decodeCursor(query.cursor, ['id'] as const);
    const conditions: SQL[] = [];
    if (query.kind) conditions.push(eq(amlReports.kind, query.kind));
    if (query.case_id) conditions.push(eq(amlReports.caseId, query.case_id));
    if (query.customer_id) conditions.push(eq(amlReports.customerId, query.customer_id));
    if (after) conditions.push(lt(amlReports.id, after.id));
    const rows = await this.#deps.db
      .select()
      .from(amlReports)
      .where(conditions.length > 0 ? and(...conditions) : undefined)
      .orderBy(desc(amlReports.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(reportView), next_cursor: page.next_cursor };
  }

  async get(id: string): Promise<ReportView> {
    return reportView(await this.#row(this.#deps.db, id));
  }

  /** The stored XML (as validated when it was generated). */
  async xml(id: string): Promise<{ kind: ReportKind; xml: string }> {
    const row = await this.#row(this.#deps.db, id);
    return { kind: row.kind, xml: row.xml };
  }

  /** Reports of several cases (the cases area shows them with the case). */
  async forCases(caseIds: string[]): Promise<ReportView[]> {
    if (caseIds.length === 0) return [];
    const rows = await this.#deps.db
      .select()
      .from(amlReports)
      .where(inArray(amlReports.caseId, caseIds))
      .orderBy(desc(amlReports.id));
    return rows.map(reportView);
  }
}
