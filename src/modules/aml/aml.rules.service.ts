/**
 * The versioned store of AML rules (kinds `realtime` and `scenario`). Adding a version supersedes the current one in
 * the same transaction (same code, version + 1); a mode change (active, test, disabled) is a version too, so every
 * decision and alert names the exact version that fired. Definitions are validated against the rule language
 * (aml.rules.ts) before anything is written: a bad rule is a 422 AML_RULE_INVALID and is never stored.
 *
 * Reads of the current rules are cached per process (the payment decision must not query the database): invalidated
 * on every node through the ephemeral store's pub/sub when a rule changes, and re-read at most every 30 seconds in
 * case a message was lost.
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import type { EphemeralStore } from '../../platform/cache.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { amlErrors } from './aml.errors.ts';
import {
  currentRule,
  currentRules,
  insertRule,
  type RuleRow,
  ruleVersions,
  supersede,
} from './aml.rules.repository.ts';
import { definitionProblems } from './aml.rules.ts';
import type { AlertPriority, RuleAction, RuleKind, RuleMode } from './aml.tables.ts';

const CHANNEL = 'aml:rules:changed';
const CACHE_MS = 30_000;

export interface RuleCreate {
  code: string;
  kind: RuleKind;
  name: string;
  description?: string;
  mode: RuleMode;
  action: RuleAction;
  priority: AlertPriority;
  definition: Record<string, unknown>;
}

export type RuleChange = Partial<Omit<RuleCreate, 'code' | 'kind'>>;

export function ruleView(row: RuleRow) {
  return {
    id: row.id,
    code: row.code,
    version: row.version,
    kind: row.kind,
    name: row.name,
    description: row.description,
    mode: row.mode,
    action: row.action,
    priority: row.priority,
    definition: row.definition,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    superseded_at: row.supersededAt?.toISOString() ?? null,
  };
}
export type RuleView = ReturnType<typeof ruleView>;

function checkDefinition(kind: RuleKind, definition: unknown): void {
  const errors = definitionProblems(kind, definition);
  if (errors.length > 0)
    throw amlErrors.AML_RULE_INVALID({
      params: { reason: `${errors[0]!.field} ${errors[0]!.message}` },
      details: { errors },
    });
}

export class AmlRules {
  readonly #db: Executor;
  readonly #store: EphemeralStore;
  #cache: { at: number; rows: RuleRow[] } | null = null;
  #subscribed: Promise<(() => Promise<void>) | null> | null = null;

  constructor(db: Executor, store: EphemeralStore) {
    this.#db = db;
    this.#store = store;
  }

  /** Current versions of a kind that are not disabled, from the per-process cache. */
  async current(kind: RuleKind): Promise<RuleRow[]> {
    this.#subscribed ??= this.#store
      .subscribe(CHANNEL, () => {
        this.#cache = null;
      })
      .catch(() => null);
    if (!this.#cache || Date.now() - this.#cache.at >= CACHE_MS) {
      const rows = await currentRules(this.#db);
      this.#cache = { at: Date.now(), rows: rows.filter((row) => row.mode !== 'disabled') };
    }
    return this.#cache.rows.filter((row) => row.kind === kind);
  }

  /** Drops this node's cache and tells the others (after a change commits). */
  async #changed(): Promise<void> {
    this.#cache = null;
    await this.#store.publish(CHANNEL, String(Date.now())).catch(() => {});
  }

  async close(): Promise<void> {
    const unsubscribe = await this.#subscribed;
    await unsubscribe?.().catch(() => {});
  }

  async list(filter: { kind?: RuleKind; mode?: RuleMode }) {
    return { items: (await currentRules(this.#db, filter)).map(ruleView) };
  }

  async get(code: string) {
    const versions = await ruleVersions(this.#db, code);
    const current = versions.find((row) => row.supersededAt === null);
    if (!current) throw amlErrors.AML_RULE_NOT_FOUND({ params: { code } });
    return { ...ruleView(current), versions: versions.map(ruleView) };
  }

  async create(input: RuleCreate, context: RequestContext): Promise<RuleView> {
    checkDefinition(input.kind, input.definition);
    const row = await inTransaction(this.#db, async (tx) => {
      const created = await insertRule(tx, {
        id: uuidv7(),
        code: input.code,
        version: 1,
        kind: input.kind,
        name: input.name,
        description: input.description ?? '',
        mode: input.mode,
        action: input.action,
        priority: input.priority,
        definition: input.definition,
        createdBy: context.actor.id,
      });
      if (!created) throw amlErrors.AML_RULE_EXISTS({ params: { code: input.code } });
      await writeAudit(tx, context, {
        action: 'aml.rule_created',
        entityType: 'aml_rule',
        entityId: created.id,
        after: ruleView(created),
      });
      return created;
    }).catch((error: unknown) => {
      if (violatedConstraint(error)?.startsWith('aml_rules_'))
        throw amlErrors.AML_RULE_EXISTS({ params: { code: input.code } });
      throw error;
    });
    await this.#changed();
    return ruleView(row);
  }

  /** Adds a version: the given fields replace the current version's; the current one is superseded. */
  async addVersion(code: string, change: RuleChange, context: RequestContext): Promise<RuleView> {
    const row = await inTransaction(this.#db, async (tx) => {
      const current = await currentRule(tx, code, true);
      if (!current) throw amlErrors.AML_RULE_NOT_FOUND({ params: { code } });
      const definition = change.definition ?? current.definition;
      if (change.definition) checkDefinition(current.kind, definition);
      const now = new Date();
      await supersede(tx, current.id, now);
      const next = await insertRule(tx, {
        id: uuidv7(),
        code,
        version: current.version + 1,
        kind: current.kind,
        name: change.name ?? current.name,
        description: change.description ?? current.description,
        mode: change.mode ?? current.mode,
        action: change.action ?? current.action,
        priority: change.priority ?? current.priority,
        definition,
        createdBy: context.actor.id,
        createdAt: now,
      });
      if (!next) throw amlErrors.AML_RULE_EXISTS({ params: { code } });
      await writeAudit(tx, context, {
        action:
          change.mode && Object.keys(change).length === 1 ? 'aml.rule_mode_changed' : 'aml.rule_versioned',
        entityType: 'aml_rule',
        entityId: next.id,
        before: ruleView(current),
        after: ruleView(next),
      });
      return next;
    });
    await this.#changed();
    return ruleView(row);
  }

  setMode(code: string, mode: RuleMode, context: RequestContext): Promise<RuleView> {
    return this.addVersion(code, { mode }, context);
  }
}

/** Inserts the rules whose code is missing (a seed: staff versions of existing codes are left alone). */
export async function seedRules(db: Executor, rules: readonly RuleCreate[]): Promise<number> {
  let added = 0;
  for (const rule of rules) {
    checkDefinition(rule.kind, rule.definition);
    const existing = await currentRule(db, rule.code);
    if (existing) continue;
    const row = await insertRule(db, {
      id: uuidv7(),
      code: rule.code,
      version: 1,
      kind: rule.kind,
      name: rule.name,
      description: rule.description ?? '',
      mode: rule.mode,
      action: rule.action,
      priority: rule.priority,
      definition: rule.definition,
    });
    if (row) added += 1;
  }
  return added;
}
