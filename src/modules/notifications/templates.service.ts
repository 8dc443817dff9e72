/**
 * Template administration: create, list, read, edit (a new version; the old one is retired but kept, since sent
 * messages name it), retire; resolution of the active template for a code, channel and language (falling back to
 * English); and the seed from `seed/template_seed.json`, which only adds what is missing (staff edits survive).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import {
  type NotificationCategory,
  type NotificationChannel,
  notificationTemplates,
} from './notifications.tables.ts';
import { templateProblems } from './templates.ts';

export type TemplateRow = typeof notificationTemplates.$inferSelect;
export const DEFAULT_LANGUAGE = 'en';

export interface TemplateInput {
  code: string;
  channel: NotificationChannel;
  language: string;
  category: NotificationCategory;
  subject: string | null;
  body: string;
  html_body: string | null;
  variables: string[];
  secret_variables: string[];
}

export function templateView(row: TemplateRow) {
  return {
    id: row.id,
    code: row.code,
    channel: row.channel,
    language: row.language,
    version: row.version,
    category: row.category,
    subject: row.subject,
    body: row.body,
    html_body: row.htmlBody,
    variables: row.variables,
    secret_variables: row.secretVariables,
    active: row.active,
    created_by_id: row.createdById,
    created_at: row.createdAt.toISOString(),
  };
}

function checked(input: TemplateInput): TemplateInput {
  const problems = templateProblems({
    channel: input.channel,
    subject: input.subject ?? null,
    body: input.body,
    htmlBody: input.html_body ?? null,
    variables: input.variables,
    secretVariables: input.secret_variables ?? [],
  });
  if (problems.length > 0) throw commonErrors.validation('The template is not valid', { errors: problems });
  return input;
}

export class TemplatesService {
  readonly #db: Executor;

  constructor(db: Executor) {
    this.#db = db;
  }

  async list(query: {
    code?: string;
    channel?: NotificationChannel;
    language?: string;
    include_retired?: boolean;
    limit?: number;
    cursor?: string;
  }) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id'] as const);
    const rows = await this.#db
      .select()
      .from(notificationTemplates)
      .where(
        and(
          query.code ? eq(notificationTemplates.code, query.code) : undefined,
          query.channel ? eq(notificationTemplates.channel, query.channel) : undefined,
          query.language ? eq(notificationTemplates.language, query.language) : undefined,
          query.include_retired ? undefined : eq(notificationTemplates.active, true),
          position ? gt(notificationTemplates.id, position.id) : undefined,
        ),
      )
      .orderBy(asc(notificationTemplates.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map(templateView),
      next_cursor: rows.length > limit ? encodeCursor({ id: page.at(-1)!.id }) : null,
    };
  }

  async get(id: string) {
    const [row] = await this.#db
      .select()
      .from(notificationTemplates)
      .where(eq(notificationTemplates.id, id))
      .limit(1);
    if (!row) throw commonErrors.notFound('Template');
    return templateView(row);
  }

  async create(input: TemplateInput, context: RequestContext) {
    checked(input);
    return inTransaction(this.#db, async (tx) => {
      await this.#lockKey(tx, input);
      const [existing] = await tx
        .select({ version: notificationTemplates.version })
        .from(notificationTemplates)
        .where(this.#sameKey(input))
        .orderBy(desc(notificationTemplates.version))
        .limit(1);
      if (existing)
        throw commonErrors.conflict(
          'A template with this code, channel and language exists; edit it instead',
          {
            version: existing.version,
          },
        );
      const row = await this.#insert(tx, input, 1, context);
      await writeAudit(tx, context, {
        action: 'notify.template.create',
        entityType: 'notification_template',
        entityId: row.id,
        after: templateView(row),
      });
      return templateView(row);
    });
  }

  /** Editing keeps the history: the active version is retired and a new one becomes active. */
  async update(
    id: string,
    changes: Partial<Omit<TemplateInput, 'code' | 'channel' | 'language'>>,
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const [current] = await tx
        .select()
        .from(notificationTemplates)
        .where(eq(notificationTemplates.id, id))
        .limit(1);
      if (!current) throw commonErrors.notFound('Template');
      await this.#lockKey(tx, current);
      const [latest] = await tx
        .select()
        .from(notificationTemplates)
        .where(this.#sameKey(current))
        .orderBy(desc(notificationTemplates.version))
        .limit(1);
      if (latest!.id !== current.id)
        throw commonErrors.conflict('Only the latest version can be edited', { latest_id: latest!.id });
      const input = checked({
        code: current.code,
        channel: current.channel,
        language: current.language,
        category: changes.category ?? current.category,
        subject: changes.subject === undefined ? current.subject : changes.subject,
        body: changes.body ?? current.body,
        html_body: changes.html_body === undefined ? current.htmlBody : changes.html_body,
        variables: changes.variables ?? current.variables,
        secret_variables: changes.secret_variables ?? current.secretVariables,
      });
      await tx
        .update(notificationTemplates)
        .set({ active: false, updatedAt: new Date() })
        .where(and(this.#sameKey(current), eq(notificationTemplates.active, true)));
      const row = await this.#insert(tx, input, current.version + 1, context);
      await writeAudit(tx, context, {
        action: 'notify.template.update',
        entityType: 'notification_template',
        entityId: row.id,
        before: templateView(current),
        after: templateView(row),
      });
      return templateView(row);
    });
  }

  /** Retires the active version: sending this code on this channel and language stops (other languages fall back). */
  async retire(id: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const [row] = await tx
        .update(notificationTemplates)
        .set({ active: false, updatedAt: new Date() })
        .where(and(eq(notificationTemplates.id, id), eq(notificationTemplates.active, true)))
        .returning();
      if (!row) throw commonErrors.notFound('Active template');
      await writeAudit(tx, context, {
        action: 'notify.template.retire',
        entityType: 'notification_template',
        entityId: row.id,
        after: { active: false },
      });
      return templateView(row);
    });
  }

  /** Active templates of a code in the language, falling back to English per channel. */
  async resolve(
    executor: Executor,
    code: string,
    language: string,
  ): Promise<Map<NotificationChannel, TemplateRow>> {
    const languages = language === DEFAULT_LANGUAGE ? [DEFAULT_LANGUAGE] : [language, DEFAULT_LANGUAGE];
    const rows = await executor
      .select()
      .from(notificationTemplates)
      .where(
        and(
          eq(notificationTemplates.code, code),
          inArray(notificationTemplates.language, languages),
          eq(notificationTemplates.active, true),
        ),
      );
    const chosen = new Map<NotificationChannel, TemplateRow>();
    for (const lang of languages)
      for (const row of rows)
        if (row.language === lang && !chosen.has(row.channel)) chosen.set(row.channel, row);
    return chosen;
  }

  async byId(executor: Executor, id: string): Promise<TemplateRow | undefined> {
    const [row] = await executor
      .select()
      .from(notificationTemplates)
      .where(eq(notificationTemplates.id, id))
      .limit(1);
    return row;
  }

  async #insert(tx: Executor, input: TemplateInput, version: number, context: RequestContext | null) {
    const [row] = await tx
      .insert(notificationTemplates)
      .values({
        id: uuidv7(),
        code: input.code,
        channel: input.channel,
        language: input.language,
        version,
        category: input.category,
        subject: input.subject ?? null,
        body: input.body,
        htmlBody: input.html_body ?? null,
        variables: input.variables,
        secretVariables: input.secret_variables ?? [],
        active: true,
        createdById: context?.actor.type === 'user' ? context.actor.id : null,
      })
      .returning();
    return row!;
  }

  #sameKey(key: { code: string; channel: NotificationChannel; language: string }) {
    return and(
      eq(notificationTemplates.code, key.code),
      eq(notificationTemplates.channel, key.channel),
      eq(notificationTemplates.language, key.language),
    );
  }

  async #lockKey(tx: Executor, key: { code: string; channel: string; language: string }) {
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtextextended(${`template:${key.code}:${key.channel}:${key.language}`}, 0))`,
    );
  }

  /** Adds the seed templates that do not exist yet (any version); returns how many were added. */
  async seed(seedDir: string): Promise<number> {
    const seeds = JSON.parse(readFileSync(join(seedDir, 'template_seed.json'), 'utf8')) as TemplateInput[];
    let added = 0;
    for (const seed of seeds) {
      checked(seed);
      try {
        const created = await inTransaction(this.#db, async (tx) => {
          await this.#lockKey(tx, seed);
          const [existing] = await tx
            .select({ id: notificationTemplates.id })
            .from(notificationTemplates)
            .where(this.#sameKey(seed))
            .limit(1);
          if (existing) return false;
          await this.#insert(tx, seed, 1, null);
          return true;
        });
        if (created) added += 1;
      } catch (error) {
        // Another process seeding at the same moment added it first.
        if (!violatedConstraint(error)) throw error;
      }
    }
    return added;
  }
}
