/**
 * Africa's Talking end-of-session notifications: stored once per session (a redelivery changes nothing), listed and
 * summed for staff. What is stored and what is left out (the input, which holds the PIN, and the last screen) is
 * said in ussd.reports.tables.ts.
 */
import { and, desc, eq, gte, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, paginate } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { CURRENCIES } from '../../platform/money.ts';
import type { GatewayName } from './ussd.gateway.types.ts';
import { ussdSessionReports } from './ussd.reports.tables.ts';

export interface SessionReportInput {
  gateway: GatewayName;
  sessionId: string;
  serviceCode: string | null;
  networkCode: string | null;
  phoneNumber: string | null;
  status: string;
  cost: string | null;
  durationMs: number | null;
  hopsCount: number | null;
  errorMessage: string | null;
  /** The gateway's `date` as sent. */
  date: string | null;
}

export interface SessionReportView {
  id: string;
  gateway: string;
  session_id: string;
  service_code: string | null;
  network_code: string | null;
  phone_number: string | null;
  status: string;
  cost: string | null;
  cost_currency: string | null;
  cost_minor?: bigint;
  duration_ms: number | null;
  hops_count: number | null;
  error_message: string | null;
  occurred_at: string;
  received_at: string;
}

export interface ReportQuery {
  limit?: number;
  cursor?: string;
  status?: string;
  from?: string;
  to?: string;
}

/** "KES 0.10" as currency and minor units; null when the currency is unknown or the amount not exact in it. */
export function parseCost(text: string | null): { currency: string; minor: bigint } | null {
  const match = /^\s*([A-Z]{3})\s+(\d{1,15})(?:\.(\d{1,12}))?\s*$/.exec(text ?? '');
  if (!match) return null;
  const [, currency = '', whole = '', fraction = ''] = match;
  const info = CURRENCIES.get(currency);
  if (!info) return null;
  const digits = fraction.replace(/0+$/, '');
  if (digits.length > info.exponent) return null;
  return { currency, minor: BigInt(whole + digits.padEnd(info.exponent, '0')) };
}

/** AT's `date` ("2026-12-07 08:10:23", read as UTC when it names no zone); null when unreadable. */
export function parseGatewayDate(text: string | null, now = new Date()): Date | null {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(Z|[+-]\d{2}:?\d{2})?$/.exec(
    text?.trim() ?? '',
  );
  if (!match) return null;
  const date = new Date(`${match[1]}T${match[2]}${match[3] ?? 'Z'}`);
  if (Number.isNaN(date.getTime())) return null;
  // A clock far ahead is not believed (the list is ordered by it).
  return date.getTime() > now.getTime() + 86_400_000 ? null : date;
}

/** Day bounds of a `YYYY-MM-DD` range, `to` inclusive. */
function dayRange(from: string | undefined, to: string | undefined): SQL[] {
  const conditions: SQL[] = [];
  if (from) conditions.push(gte(ussdSessionReports.occurredAt, new Date(`${from}T00:00:00Z`)));
  if (to) {
    const end = new Date(`${to}T00:00:00Z`);
    end.setUTCDate(end.getUTCDate() + 1);
    conditions.push(lt(ussdSessionReports.occurredAt, end));
  }
  return conditions;
}

type Row = typeof ussdSessionReports.$inferSelect;

function view(row: Row): SessionReportView {
  return {
    id: row.id,
    gateway: row.gateway,
    session_id: row.sessionId,
    service_code: row.serviceCode,
    network_code: row.networkCode,
    phone_number: row.phoneNumber,
    status: row.status,
    cost: row.costText,
    cost_currency: row.costCurrency,
    ...(row.costMinor === null ? {} : { cost_minor: row.costMinor }),
    duration_ms: row.durationMs,
    hops_count: row.hopsCount,
    error_message: row.errorMessage,
    occurred_at: row.occurredAt.toISOString(),
    received_at: row.receivedAt.toISOString(),
  };
}

export class UssdReports {
  readonly #db: Executor;

  constructor(db: Executor) {
    this.#db = db;
  }

  /** Stores the notification unless one for the session was stored already. */
  async record(input: SessionReportInput, now = new Date()): Promise<'recorded' | 'duplicate'> {
    const cost = parseCost(input.cost);
    const inserted = await this.#db
      .insert(ussdSessionReports)
      .values({
        id: uuidv7(),
        gateway: input.gateway,
        sessionId: input.sessionId,
        serviceCode: input.serviceCode,
        networkCode: input.networkCode,
        phoneNumber: input.phoneNumber,
        status: input.status.trim().toLowerCase(),
        costText: input.cost,
        costCurrency: cost?.currency ?? null,
        costMinor: cost?.minor ?? null,
        durationMs: input.durationMs,
        hopsCount: input.hopsCount,
        errorMessage: input.errorMessage,
        occurredAt: parseGatewayDate(input.date, now) ?? now,
      })
      .onConflictDoNothing({ target: [ussdSessionReports.gateway, ussdSessionReports.sessionId] })
      .returning({ id: ussdSessionReports.id });
    return inserted.length > 0 ? 'recorded' : 'duplicate';
  }

  /** Newest first, by when the session ended. */
  async list(query: ReportQuery): Promise<{ items: SessionReportView[]; next_cursor: string | null }> {
    const limit = query.limit ?? 20;
    const conditions = dayRange(query.from, query.to);
    if (query.status) conditions.push(eq(ussdSessionReports.status, query.status.toLowerCase()));
    const position = decodeCursor(query.cursor, ['at', 'id'] as const);
    if (position) {
      const at = new Date(position.at);
      if (Number.isNaN(at.getTime()))
        throw commonErrors.validation('Invalid cursor', {
          errors: [{ field: 'query.cursor', message: 'is not a cursor' }],
        });
      conditions.push(
        or(
          lt(ussdSessionReports.occurredAt, at),
          and(eq(ussdSessionReports.occurredAt, at), lt(ussdSessionReports.id, position.id)),
        )!,
      );
    }
    const rows = await this.#db
      .select()
      .from(ussdSessionReports)
      .where(and(...conditions))
      .orderBy(desc(ussdSessionReports.occurredAt), desc(ussdSessionReports.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ at: row.occurredAt.toISOString(), id: row.id }));
    return { items: page.items.map(view), next_cursor: page.next_cursor };
  }

  /** Counts by status, the average duration and the cost per currency between two days (inclusive). */
  async summary(from: string, to: string) {
    const where = and(...dayRange(from, to));
    const [statuses, [totals], costs] = await Promise.all([
      this.#db
        .select({ status: ussdSessionReports.status, sessions: sql<number>`count(*)::int` })
        .from(ussdSessionReports)
        .where(where)
        .groupBy(ussdSessionReports.status)
        .orderBy(ussdSessionReports.status),
      this.#db
        .select({
          sessions: sql<number>`count(*)::int`,
          averageDuration: sql<string | null>`round(avg(${ussdSessionReports.durationMs}))::text`,
          unpriced: sql<number>`(count(*) filter (where ${ussdSessionReports.costText} is not null and ${ussdSessionReports.costMinor} is null))::int`,
        })
        .from(ussdSessionReports)
        .where(where),
      this.#db
        .select({
          currency: ussdSessionReports.costCurrency,
          total: sql<string>`sum(${ussdSessionReports.costMinor})::text`,
        })
        .from(ussdSessionReports)
        .where(and(where, sql`${ussdSessionReports.costMinor} is not null`))
        .groupBy(ussdSessionReports.costCurrency)
        .orderBy(ussdSessionReports.costCurrency),
    ]);
    return {
      from,
      to,
      sessions: totals?.sessions ?? 0,
      by_status: statuses.map((row) => ({ status: row.status, sessions: row.sessions })),
      average_duration_ms: totals?.averageDuration == null ? null : Number(totals.averageDuration),
      cost: costs.map((row) => ({ currency: row.currency!, total_minor: BigInt(row.total) })),
      unpriced_sessions: totals?.unpriced ?? 0,
    };
  }
}
