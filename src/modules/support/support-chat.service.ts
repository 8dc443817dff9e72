/**
 * Support chat (tickets and FAQs come later in this module): a customer, or staff holding `support:chat` on their
 * behalf, opens a conversation; both sides post messages; either side closes it. Each use case is one database
 * transaction; new messages and the closing are fanned out to the conversation's realtime topic after the commit.
 * Customers see only their own conversations (anyone else's answer 404) and never staff ids.
 */
import { and, count, desc, eq, lt, type SQL } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, type Principal, paginate, staffOrCustomer } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { RealtimeEvent, RealtimeHub } from '../../platform/realtime.ts';
import { lockLiveCustomer } from '../customers/index.ts';
import { chatErrors } from './support.errors.ts';
import { supportReply } from './support.events.ts';
import { TEXT_MAX } from './support-chat.schemas.ts';
import {
  type ConversationStatus,
  type SenderType,
  supportChatMessages,
  supportConversations,
} from './support-chat.tables.ts';

export const CHAT_PERMISSION = 'support:chat';
/** Open conversations one customer may have at once (staff can always close old ones). */
export const MAX_OPEN_PER_CUSTOMER = 10;

type ConversationRow = typeof supportConversations.$inferSelect;
type MessageRow = typeof supportChatMessages.$inferSelect;
/** Who acts: a principal as authenticated (REST request or WebSocket). */
export type ChatActor = Pick<Principal, 'type' | 'id' | 'permissions'>;

export const supportChatErrors = {
  ...chatErrors,
  customerRequired: () =>
    commonErrors.validation('Staff open a conversation for a customer: customer_id is required', {
      errors: [{ field: 'body.customer_id', message: 'is required for staff', rule: 'required' }],
    }),
  invalidText: (field: string, message: string) =>
    commonErrors.validation(`text ${message}`, { errors: [{ field, message, rule: 'text' }] }),
};

export function conversationTopic(conversationId: string): string {
  return `support:${conversationId}`;
}

export function conversationView(row: ConversationRow) {
  return {
    id: row.id,
    customer_id: row.customerId,
    subject: row.subject,
    status: row.status,
    assigned_user_id: row.assignedUserId,
    closed_at: row.closedAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
export type ConversationView = ReturnType<typeof conversationView>;

export function messageView(row: MessageRow) {
  return {
    id: row.id,
    conversation_id: row.conversationId,
    sender_type: row.senderType,
    sender_id: row.senderId as string | null,
    text: row.text,
    client_id: row.clientId,
    created_at: row.createdAt.toISOString(),
  };
}
export type MessageView = ReturnType<typeof messageView>;

/** Staff ids stay internal: customers see that staff wrote or hold a conversation, not who. */
export function conversationFor(view: ConversationView, viewer: Pick<Principal, 'type'>): ConversationView {
  return viewer.type === 'customer' ? { ...view, assigned_user_id: null } : view;
}

export function messageFor(view: MessageView, viewer: Pick<Principal, 'type'>): MessageView {
  return viewer.type === 'customer' && view.sender_type === 'user' ? { ...view, sender_id: null } : view;
}

/** The same rule for events on a conversation topic, applied per socket. */
export function chatEventFor(event: RealtimeEvent, viewer: Pick<Principal, 'type'>): RealtimeEvent {
  if (viewer.type !== 'customer' || !event.data || typeof event.data !== 'object') return event;
  if (event.type === 'chat.message') return { ...event, data: messageFor(event.data as MessageView, viewer) };
  if (event.type === 'conversation.closed')
    return { ...event, data: conversationFor(event.data as ConversationView, viewer) };
  return event;
}

/**
 * Trimmed text, or a 422: not blank, at most TEXT_MAX characters, and no control characters other than tab and
 * line breaks (PostgreSQL refuses NUL, and the others only hide text).
 */
export function cleanText(text: string, field = 'body.text'): string {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw supportChatErrors.invalidText(field, 'must not be blank');
  if ([...trimmed].length > TEXT_MAX)
    throw supportChatErrors.invalidText(field, `must be at most ${TEXT_MAX} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(trimmed))
    throw supportChatErrors.invalidText(field, 'must not contain control characters');
  return trimmed;
}

export interface SendResult {
  message: MessageView;
  /** False when this was a resend of a stored message (same client_id and text): nothing was stored or sent. */
  created: boolean;
}

export class SupportChatService {
  readonly #db: Executor;
  readonly #hub: RealtimeHub;
  readonly #onFanOutError: (error: unknown) => void;

  constructor(options: { db: Executor; hub: RealtimeHub; onFanOutError?: (error: unknown) => void }) {
    this.#db = options.db;
    this.#hub = options.hub;
    this.#onFanOutError = options.onFanOutError ?? (() => {});
  }

  static isStaffAgent(actor: Pick<Principal, 'type' | 'permissions'>): boolean {
    return actor.type === 'user' && actor.permissions.has(CHAT_PERMISSION);
  }

  #visible(actor: ChatActor, row: ConversationRow | undefined): ConversationRow {
    if (!row) throw supportChatErrors.notFound();
    if (actor.type === 'customer' ? row.customerId !== actor.id : !SupportChatService.isStaffAgent(actor))
      throw supportChatErrors.notFound();
    return row;
  }

  /** The conversation if this principal may see it; 404 otherwise (also for staff without `support:chat`). */
  async conversation(actor: ChatActor, id: string, executor: Executor = this.#db): Promise<ConversationRow> {
    const [row] = await executor
      .select()
      .from(supportConversations)
      .where(eq(supportConversations.id, id))
      .limit(1);
    return this.#visible(actor, row);
  }

  async get(actor: ChatActor, id: string): Promise<ConversationView> {
    return conversationFor(conversationView(await this.conversation(actor, id)), actor);
  }

  /** A customer opens a conversation with its first message; staff may open one for a customer (`customer_id`). */
  async open(
    actor: ChatActor,
    input: { subject: string; text: string; customer_id?: string; client_id?: string },
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ): Promise<ConversationView> {
    const text = cleanText(input.text);
    const subject = input.subject.trim();
    if (subject.length === 0)
      throw commonErrors.validation('subject must not be blank', {
        errors: [{ field: 'body.subject', message: 'must not be blank', rule: 'subject' }],
      });
    let customerId: string;
    if (actor.type === 'customer') {
      if (input.customer_id && input.customer_id !== actor.id) throw supportChatErrors.customerNotFound();
      customerId = actor.id;
    } else {
      if (!SupportChatService.isStaffAgent(actor)) throw supportChatErrors.notFound();
      if (!input.customer_id) throw supportChatErrors.customerRequired();
      customerId = input.customer_id;
    }
    const id = uuidv7();
    return inTransaction(this.#db, async (tx) => {
      // Locking the customer row serialises concurrent opens, so the open-conversation cap holds.
      if (!(await lockLiveCustomer(tx, customerId))) throw supportChatErrors.customerNotFound();
      const [open] = await tx
        .select({ open: count() })
        .from(supportConversations)
        .where(and(eq(supportConversations.customerId, customerId), eq(supportConversations.status, 'open')));
      if ((open?.open ?? 0) >= MAX_OPEN_PER_CUSTOMER)
        throw supportChatErrors.tooManyOpen(MAX_OPEN_PER_CUSTOMER);
      const [row] = await tx
        .insert(supportConversations)
        .values({
          id,
          customerId,
          subject,
          status: 'open',
          assignedUserId: actor.type === 'user' ? actor.id : null,
        })
        .returning();
      await tx.insert(supportChatMessages).values({
        id: uuidv7(),
        conversationId: id,
        senderType: staffOrCustomer(actor).type,
        senderId: actor.id,
        text,
        clientId: input.client_id ?? null,
      });
      // Neither the subject nor the text goes to the append-only audit trail: they are the customer's words.
      await writeAudit(tx, context, {
        action: 'support.conversation_opened',
        entityType: 'support_conversation',
        entityId: id,
        after: { id, customer_id: customerId, status: 'open', opened_by: { type: actor.type, id: actor.id } },
      });
      const view = conversationFor(conversationView(row!), actor);
      await claim?.commit(tx, 201, view);
      return view;
    });
  }

  async list(
    actor: ChatActor,
    filters: { status?: ConversationStatus; customer_id?: string; limit?: number; cursor?: string },
  ) {
    const limit = filters.limit ?? 20;
    const conditions: SQL[] = [];
    if (actor.type === 'customer') {
      // Another customer's conversations are not found, as everywhere else a customer names someone else.
      if (filters.customer_id && filters.customer_id !== actor.id) throw supportChatErrors.customerNotFound();
      conditions.push(eq(supportConversations.customerId, actor.id));
    } else {
      if (!SupportChatService.isStaffAgent(actor)) return { items: [], next_cursor: null };
      if (filters.customer_id) conditions.push(eq(supportConversations.customerId, filters.customer_id));
    }
    if (filters.status) conditions.push(eq(supportConversations.status, filters.status));
    const position = decodeCursor(filters.cursor, ['id'] as const);
    if (position) conditions.push(lt(supportConversations.id, position.id));
    const rows = await this.#db
      .select()
      .from(supportConversations)
      .where(and(...conditions))
      .orderBy(desc(supportConversations.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return {
      items: page.items.map((row) => conversationFor(conversationView(row), actor)),
      next_cursor: page.next_cursor,
    };
  }

  /** Messages newest first; the cursor pages back in time. */
  async messages(actor: ChatActor, conversationId: string, filters: { limit?: number; cursor?: string }) {
    await this.conversation(actor, conversationId);
    const limit = filters.limit ?? 20;
    const conditions: SQL[] = [eq(supportChatMessages.conversationId, conversationId)];
    const position = decodeCursor(filters.cursor, ['id'] as const);
    if (position) conditions.push(lt(supportChatMessages.id, position.id));
    const rows = await this.#db
      .select()
      .from(supportChatMessages)
      .where(and(...conditions))
      .orderBy(desc(supportChatMessages.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return {
      items: page.items.map((row) => messageFor(messageView(row), actor)),
      next_cursor: page.next_cursor,
    };
  }

  /**
   * Posts a message and, once committed, sends it to everyone on the conversation's topic. A resend with the same
   * `client_id` returns the stored message and sends nothing; the same `client_id` with other text is a 409.
   * The first staff member to reply is assigned the conversation.
   */
  async send(
    actor: ChatActor,
    conversationId: string,
    input: { text: string; client_id?: string | null },
  ): Promise<SendResult> {
    const text = cleanText(input.text);
    const clientId = input.client_id ?? null;
    const result = await inTransaction(this.#db, async (tx) => {
      // The row lock orders messages against the closing: nothing is stored once a close has committed.
      const [locked] = await tx
        .select()
        .from(supportConversations)
        .where(eq(supportConversations.id, conversationId))
        .for('update');
      const conversation = this.#visible(actor, locked);
      if (clientId !== null) {
        const existing = await this.#byClientId(tx, conversationId, actor.id, clientId);
        if (existing) return this.#resent(existing, text);
      }
      if (conversation.status !== 'open') throw supportChatErrors.closed();
      const senderType: SenderType = staffOrCustomer(actor).type;
      const [inserted] = await tx
        .insert(supportChatMessages)
        .values({ id: uuidv7(), conversationId, senderType, senderId: actor.id, text, clientId })
        .onConflictDoNothing({
          target: [
            supportChatMessages.conversationId,
            supportChatMessages.senderId,
            supportChatMessages.clientId,
          ],
        })
        .returning();
      if (!inserted) {
        // A concurrent resend won the insert (only possible with a client_id).
        const existing = await this.#byClientId(tx, conversationId, actor.id, clientId!);
        return this.#resent(existing!, text);
      }
      await tx
        .update(supportConversations)
        .set({
          updatedAt: new Date(),
          ...(actor.type === 'user' && conversation.assignedUserId === null
            ? { assignedUserId: actor.id }
            : {}),
        })
        .where(eq(supportConversations.id, conversationId));
      // A customer who is not in the app hears of a staff reply through the notifications (push, inbox); the
      // event commits with the message, so neither exists without the other.
      if (actor.type === 'user')
        await emitEvent(
          tx,
          supportReply,
          { type: 'support_conversation', id: conversationId },
          {
            conversation_id: conversationId,
            message_id: inserted.id,
            customer_id: conversation.customerId,
            subject: conversation.subject,
          },
        );
      return { message: messageView(inserted), created: true };
    });
    if (result.created) await this.#fanOut(conversationId, { type: 'chat.message', data: result.message });
    return { message: messageFor(result.message, actor), created: result.created };
  }

  async #byClientId(tx: Executor, conversationId: string, senderId: string, clientId: string) {
    const [row] = await tx
      .select()
      .from(supportChatMessages)
      .where(
        and(
          eq(supportChatMessages.conversationId, conversationId),
          eq(supportChatMessages.senderId, senderId),
          eq(supportChatMessages.clientId, clientId),
        ),
      )
      .limit(1);
    return row;
  }

  #resent(existing: MessageRow, text: string): SendResult {
    if (existing.text !== text) throw supportChatErrors.clientIdReused();
    return { message: messageView(existing), created: false };
  }

  /** Either side closes an open conversation; nothing more can be posted to it. */
  async close(actor: ChatActor, conversationId: string, context: RequestContext): Promise<ConversationView> {
    const view = await inTransaction(this.#db, async (tx) => {
      const [locked] = await tx
        .select()
        .from(supportConversations)
        .where(eq(supportConversations.id, conversationId))
        .for('update');
      const conversation = this.#visible(actor, locked);
      if (conversation.status !== 'open') throw supportChatErrors.closed();
      const now = new Date();
      const [row] = await tx
        .update(supportConversations)
        .set({ status: 'closed', closedAt: now, updatedAt: now })
        .where(eq(supportConversations.id, conversationId))
        .returning();
      await writeAudit(tx, context, {
        action: 'support.conversation_closed',
        entityType: 'support_conversation',
        entityId: conversationId,
        before: { status: 'open' },
        after: { status: 'closed', closed_by: { type: actor.type, id: actor.id } },
      });
      return conversationView(row!);
    });
    await this.#fanOut(conversationId, { type: 'conversation.closed', data: view });
    return conversationFor(view, actor);
  }

  /** After the commit: a store outage loses the live copy only (the message is stored and listed), not the call. */
  async #fanOut(conversationId: string, event: { type: string; data: unknown }): Promise<void> {
    const topic = conversationTopic(conversationId);
    try {
      await this.#hub.publishToTopic(topic, { channel: topic, ...event });
    } catch (error) {
      this.#onFanOutError(error);
    }
  }
}
