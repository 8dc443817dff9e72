/**
 * Access policies bind a role (or all staff) to channels, IP addresses and hours; every staff request is checked
 * against the active ones (cached per process for a few seconds).
 */
import { BlockList, isIP } from 'node:net';
import { asc, eq } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { policyErrors } from './policy.errors.ts';
import { accessPolicies } from './policy.tables.ts';

type AccessRow = typeof accessPolicies.$inferSelect;
export type TimeWindow = NonNullable<AccessRow['timeWindow']>;

const CACHE_MS = 5000;

export { policyErrors } from './policy.errors.ts';

function blockListOf(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address ?? '');
    if (!address || family === 0) throw policyErrors.invalidAddress(entry);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else {
      const bits = Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32))
        throw policyErrors.invalidAddress(entry);
      list.addSubnet(address, bits, type);
    }
  }
  return list;
}

function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** Local hour:minute and ISO weekday of `at` in `timezone`. */
function localTime(at: Date, timezone: string): { minutes: number; weekday: number } {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    }).formatToParts(at);
  } catch {
    throw policyErrors.invalidTimeZone(timezone);
  }
  const value = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(value('weekday')) + 1;
  return { minutes: Number(value('hour')) * 60 + Number(value('minute')), weekday };
}

export function withinWindow(window: TimeWindow, at: Date): boolean {
  const { minutes, weekday } = localTime(at, window.timezone);
  if (window.days.length > 0 && !window.days.includes(weekday)) return false;
  const toMinutes = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
  const start = toMinutes(window.start);
  const end = toMinutes(window.end);
  // A window may run past midnight (22:00–06:00).
  return start <= end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
}

export function accessPolicyView(row: AccessRow) {
  return {
    id: row.id,
    name: row.name,
    role_code: row.roleCode,
    allowed_channels: row.allowedChannels ?? null,
    ip_allowlist: row.ipAllowlist ?? null,
    time_window: row.timeWindow ?? null,
    active: row.active,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export interface AccessPolicyInput {
  name: string;
  role_code?: string | null;
  allowed_channels?: string[] | null;
  ip_allowlist?: string[] | null;
  time_window?: TimeWindow | null;
  active?: boolean;
}

export class AccessPolicies {
  readonly #db: Executor;
  #cache: { at: number; policies: { row: AccessRow; ips: BlockList | null }[] } | null = null;

  constructor(db: Executor) {
    this.#db = db;
  }

  #validate(input: Partial<AccessPolicyInput>) {
    if (input.ip_allowlist) blockListOf(input.ip_allowlist);
    if (input.time_window) {
      localTime(new Date(), input.time_window.timezone);
      if (input.time_window.start === input.time_window.end) {
        throw policyErrors.emptyTimeWindow();
      }
    }
  }

  async #activePolicies() {
    if (this.#cache && Date.now() - this.#cache.at < CACHE_MS) return this.#cache.policies;
    const rows = await this.#db.select().from(accessPolicies).where(eq(accessPolicies.active, true));
    const policies = rows.map((row) => ({ row, ips: row.ipAllowlist ? blockListOf(row.ipAllowlist) : null }));
    this.#cache = { at: Date.now(), policies };
    return policies;
  }

  /** Every active policy binding one of the roles (or all staff) must allow the request. */
  async evaluateAccess(question: { roles: readonly string[]; ip: string; channel: string; at?: Date }) {
    const reasons: string[] = [];
    const at = question.at ?? new Date();
    const ip = normaliseIp(question.ip);
    for (const { row, ips } of await this.#activePolicies()) {
      if (row.roleCode !== null && !question.roles.includes(row.roleCode)) continue;
      if (row.allowedChannels && !row.allowedChannels.includes(question.channel)) {
        reasons.push(`${row.name}: channel ${question.channel} is not allowed`);
      }
      if (ips) {
        const family = isIP(ip);
        if (family === 0 || !ips.check(ip, family === 6 ? 'ipv6' : 'ipv4'))
          reasons.push(`${row.name}: address not allowed`);
      }
      if (row.timeWindow && !withinWindow(row.timeWindow, at))
        reasons.push(`${row.name}: outside allowed hours`);
    }
    return { allowed: reasons.length === 0, reasons };
  }

  async listAccess() {
    const rows = await this.#db.select().from(accessPolicies).orderBy(asc(accessPolicies.id)).limit(500);
    return { items: rows.map(accessPolicyView) };
  }

  async getAccess(id: string) {
    const [row] = await this.#db.select().from(accessPolicies).where(eq(accessPolicies.id, id)).limit(1);
    if (!row) throw commonErrors.notFound('Access policy');
    return accessPolicyView(row);
  }

  async createAccess(input: AccessPolicyInput, context: RequestContext) {
    this.#validate(input);
    const view = await inTransaction(this.#db, async (tx) => {
      const [row] = await tx
        .insert(accessPolicies)
        .values({
          id: uuidv7(),
          name: input.name,
          roleCode: input.role_code ?? null,
          allowedChannels: input.allowed_channels ?? null,
          ipAllowlist: input.ip_allowlist ?? null,
          timeWindow: input.time_window ?? null,
          active: input.active ?? true,
        })
        .returning();
      const created = accessPolicyView(row!);
      await writeAudit(tx, context, {
        action: 'policy.access_created',
        entityType: 'access_policy',
        entityId: row!.id,
        after: created,
      });
      return created;
    });
    this.#cache = null;
    return view;
  }

  async updateAccess(id: string, changes: Partial<AccessPolicyInput>, context: RequestContext) {
    this.#validate(changes);
    const view = await inTransaction(this.#db, async (tx) => {
      const [before] = await tx
        .select()
        .from(accessPolicies)
        .where(eq(accessPolicies.id, id))
        .for('update')
        .limit(1);
      if (!before) throw commonErrors.notFound('Access policy');
      const [row] = await tx
        .update(accessPolicies)
        .set({
          ...(changes.name !== undefined ? { name: changes.name } : {}),
          ...(changes.role_code !== undefined ? { roleCode: changes.role_code } : {}),
          ...(changes.allowed_channels !== undefined ? { allowedChannels: changes.allowed_channels } : {}),
          ...(changes.ip_allowlist !== undefined ? { ipAllowlist: changes.ip_allowlist } : {}),
          ...(changes.time_window !== undefined ? { timeWindow: changes.time_window } : {}),
          ...(changes.active !== undefined ? { active: changes.active } : {}),
          updatedAt: new Date(),
        })
        .where(eq(accessPolicies.id, id))
        .returning();
      const after = accessPolicyView(row!);
      await writeAudit(tx, context, {
        action: 'policy.access_updated',
        entityType: 'access_policy',
        entityId: id,
        before: accessPolicyView(before),
        after,
      });
      return after;
    });
    this.#cache = null;
    return view;
  }

  async deleteAccess(id: string, context: RequestContext) {
    await inTransaction(this.#db, async (tx) => {
      const [row] = await tx.delete(accessPolicies).where(eq(accessPolicies.id, id)).returning();
      if (!row) throw commonErrors.notFound('Access policy');
      await writeAudit(tx, context, {
        action: 'policy.access_deleted',
        entityType: 'access_policy',
        entityId: id,
        before: accessPolicyView(row),
      });
    });
    this.#cache = null;
  }
}
