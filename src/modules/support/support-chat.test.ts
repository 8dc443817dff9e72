/** Support chat end to end: its REST routes, and its channels and `chat.send` on realtime's `/api/v1/ws`. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, type TestCustomer } from '../../../test/helpers/money.ts';
import { type Frame, TestSocket } from '../realtime/realtime.testing.ts';
import { supportChatMessages } from './support-chat.tables.ts';

const PASSWORD = 'quartz meadow lantern 58';

function wsUrl(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  return `ws://127.0.0.1:${address.port}/api/v1/ws`;
}

describe('support chat', () => {
  let t: TestContext;
  let url: string;
  let alice: TestCustomer;
  let bob: TestCustomer;
  let agentToken: string;
  let agentId: string;
  let clerkToken: string;
  const sockets: TestSocket[] = [];

  async function staff(username: string, roles: string[]) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email: `${username}@bank.test`,
        full_name: username,
        password: PASSWORD,
        roles,
        must_change_password: false,
      },
    });
    assert.equal(response.statusCode, 201, response.body);
    return { id: response.json().id as string, token: (await login(t.app, username, PASSWORD)).access_token };
  }

  async function connect(token: string, via: 'header' | 'message' = 'header') {
    const socket = await TestSocket.ready(url, token, via);
    sockets.push(socket);
    return socket;
  }

  async function openConversation(token: string, payload: Record<string, unknown> = {}) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/support/chat/conversation/add',
      headers: bearer(token),
      payload: { subject: 'Card not arriving', text: 'Hello, my card has not arrived', ...payload },
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as {
      id: string;
      customer_id: string;
      status: string;
      assigned_user_id: string | null;
    };
  }

  const isChat = (text: string) => (frame: Frame) =>
    frame.type === 'chat.message' && (frame.data as { text?: string }).text === text;

  before(async () => {
    t = await startTestApp();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    url = wsUrl(t.app);
    alice = await createCustomer(t, 'Alice', '+254744000001');
    bob = await createCustomer(t, 'Bob', '+254744000002');
    const agent = await staff('chat.agent', ['support_agent']);
    agentToken = agent.token;
    agentId = agent.id;
    clerkToken = (await staff('field.clerk', ['field_agent'])).token;
  });

  after(async () => {
    for (const socket of sockets) socket.close();
    await t?.close();
  });

  describe('over the socket', () => {
    test('someone else’s conversation, or staff without support:chat: NOT_FOUND', async () => {
      const conversation = await openConversation(alice.token);
      const bobSocket = await connect(bob.token);
      const refused = await bobSocket.request({ type: 'subscribe', channel: `support:${conversation.id}` });
      assert.equal(refused.type, 'error');
      assert.equal(refused.code, 'NOT_FOUND');
      const clerk = await connect(clerkToken);
      assert.equal(
        (await clerk.request({ type: 'subscribe', channel: `support:${conversation.id}` })).code,
        'NOT_FOUND',
      );
      assert.equal((await clerk.request({ type: 'subscribe', channel: 'support:nope' })).code, 'NOT_FOUND');
      const sent = await bobSocket.request({
        type: 'chat.send',
        conversation_id: conversation.id,
        text: 'let me in',
      });
      assert.equal(sent.code, 'NOT_FOUND');
      const aliceSocket = await connect(alice.token);
      assert.equal(
        (await aliceSocket.request({ type: 'subscribe', channel: `support:${conversation.id}` })).type,
        'subscribed',
      );
    });

    test('chat.send is stored and reaches the other party; customers never see staff ids', async () => {
      const conversation = await openConversation(alice.token);
      const channel = `support:${conversation.id}`;
      const customer = await connect(alice.token, 'message');
      const agent = await connect(agentToken);
      await customer.request({ type: 'subscribe', channel });
      await agent.request({ type: 'subscribe', channel });

      const ack = await customer.request({
        type: 'chat.send',
        conversation_id: conversation.id,
        text: '  Any news?  ',
        client_id: 'c-1',
      });
      assert.equal(ack.type, 'chat.sent');
      assert.equal(ack.duplicate, false);
      const atAgent = await agent.next(isChat('Any news?'));
      assert.equal(atAgent.channel, channel);
      assert.deepEqual(atAgent.data, (ack as { data: unknown }).data);
      assert.deepEqual(Object.keys(atAgent.data as object).sort(), [
        'client_id',
        'conversation_id',
        'created_at',
        'id',
        'sender_id',
        'sender_type',
        'text',
      ]);
      assert.equal((atAgent.data as { sender_id: string }).sender_id, alice.id);

      await agent.request({ type: 'chat.send', conversation_id: conversation.id, text: 'On its way' });
      const atCustomer = await customer.next(isChat('On its way'));
      assert.equal((atCustomer.data as { sender_type: string }).sender_type, 'user');
      assert.equal((atCustomer.data as { sender_id: unknown }).sender_id, null);
      const atAgentOwn = await agent.next(isChat('On its way'));
      assert.equal((atAgentOwn.data as { sender_id: string }).sender_id, agentId);

      const stored = await t.deps.database.db
        .select()
        .from(supportChatMessages)
        .where(eq(supportChatMessages.conversationId, conversation.id));
      assert.deepEqual(stored.map((row) => row.text).sort(), [
        'Any news?',
        'Hello, my card has not arrived',
        'On its way',
      ]);
      // The first staff member to reply is assigned.
      const listed = await t.app.inject({
        method: 'GET',
        url: `/api/v1/support/chat/conversation?customer_id=${alice.id}`,
        headers: bearer(agentToken),
      });
      const row = listed.json().items.find((item: { id: string }) => item.id === conversation.id);
      assert.equal(row.assigned_user_id, agentId);
    });

    test('a resend with the same client_id stores and sends nothing twice', async () => {
      const conversation = await openConversation(alice.token);
      const channel = `support:${conversation.id}`;
      const customer = await connect(alice.token);
      const agent = await connect(agentToken);
      await agent.request({ type: 'subscribe', channel });
      const message = {
        type: 'chat.send',
        conversation_id: conversation.id,
        text: 'Once',
        client_id: 'dup-1',
      };
      const first = await customer.request(message);
      const second = await customer.request(message);
      assert.equal(first.duplicate, false);
      assert.equal(second.duplicate, true);
      assert.equal((second.data as { id: string }).id, (first.data as { id: string }).id);
      const reused = await customer.request({ ...message, text: 'Something else' });
      assert.equal(reused.code, 'CLIENT_ID_REUSED');
      await customer.request({ type: 'chat.send', conversation_id: conversation.id, text: 'Twice' });
      // Messages of one sender arrive in order: after 'Once' the next one is 'Twice', not 'Once' again.
      await agent.next(isChat('Once'));
      const following = await agent.next((frame) => frame.type === 'chat.message');
      assert.equal((following.data as { text: string }).text, 'Twice');
      const stored = await t.deps.database.db
        .select()
        .from(supportChatMessages)
        .where(eq(supportChatMessages.clientId, 'dup-1'));
      assert.equal(stored.length, 1);
    });

    test('chat.send validates its fields and refuses a closed conversation', async () => {
      const conversation = await openConversation(alice.token);
      const socket = await connect(alice.token);
      const send = (fields: Record<string, unknown>) =>
        socket.request({ type: 'chat.send', conversation_id: conversation.id, ...fields });
      assert.equal((await send({ text: '   ' })).code, 'VALIDATION_ERROR');
      assert.equal((await send({ text: 'x'.repeat(2001) })).code, 'VALIDATION_ERROR');
      assert.equal((await send({ text: 'ok', client_id: 'has space' })).code, 'VALIDATION_ERROR');
      assert.equal(
        (await socket.request({ type: 'chat.send', conversation_id: 'nope', text: 'hi' })).code,
        'VALIDATION_ERROR',
      );
      assert.equal((await send({ text: 'x'.repeat(2000) })).type, 'chat.sent');
      const closed = await t.app.inject({
        method: 'POST',
        url: `/api/v1/support/chat/conversation/${conversation.id}/close`,
        headers: bearer(agentToken),
      });
      assert.equal(closed.statusCode, 200, closed.body);
      assert.equal((await send({ text: 'too late' })).code, 'CONVERSATION_CLOSED');
    });
  });

  describe('routes', () => {
    test('open, list, page messages, post and close; other customers get 404', async () => {
      const mine = await openConversation(alice.token, { subject: 'Statement question' });
      assert.equal(mine.customer_id, alice.id);
      assert.equal(mine.status, 'open');
      assert.equal(mine.assigned_user_id, null);
      const bobs = await openConversation(bob.token, { subject: 'Bob’s question' });
      // A retry with the same Idempotency-Key opens nothing new.
      const retry = () =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/support/chat/conversation/add',
          headers: { ...bearer(bob.token), 'idempotency-key': 'open-conversation-1' },
          payload: { subject: 'Retried', text: 'Once only' },
        });
      const [firstTry, secondTry] = [await retry(), await retry()];
      assert.equal(firstTry.statusCode, 201, firstTry.body);
      assert.equal(secondTry.json().id, firstTry.json().id);

      // Staff open one for a customer (and must say which).
      const missing = await t.app.inject({
        method: 'POST',
        url: '/api/v1/support/chat/conversation/add',
        headers: bearer(agentToken),
        payload: { subject: 'Follow-up', text: 'Hello' },
      });
      assert.equal(missing.statusCode, 422, missing.body);
      const byStaff = await openConversation(agentToken, { customer_id: alice.id, subject: 'Follow-up' });
      assert.equal(byStaff.customer_id, alice.id);
      assert.equal(byStaff.assigned_user_id, agentId);
      const forOther = await t.app.inject({
        method: 'POST',
        url: '/api/v1/support/chat/conversation/add',
        headers: bearer(alice.token),
        payload: { subject: 'x', text: 'y', customer_id: bob.id },
      });
      assert.equal(forOther.statusCode, 404);

      // Customers list their own (staff ids hidden); staff all, with filters and cursor pages.
      const aliceList = await t.app.inject({
        method: 'GET',
        url: '/api/v1/support/chat/conversation?limit=100',
        headers: bearer(alice.token),
      });
      assert.equal(aliceList.statusCode, 200);
      const aliceItems = aliceList.json().items as {
        id: string;
        customer_id: string;
        assigned_user_id: unknown;
      }[];
      assert.ok(aliceItems.every((item) => item.customer_id === alice.id));
      assert.ok(aliceItems.some((item) => item.id === byStaff.id));
      assert.ok(aliceItems.every((item) => item.assigned_user_id === null));
      assert.ok(!aliceItems.some((item) => item.id === bobs.id));
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { id: string }[]; next_cursor: string | null } = (
          await t.app.inject({
            method: 'GET',
            url: `/api/v1/support/chat/conversation?status=open&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
            headers: bearer(agentToken),
          })
        ).json();
        ids.push(...page.items.map((item) => item.id));
        cursor = page.next_cursor;
      } while (cursor);
      assert.ok(ids.includes(mine.id) && ids.includes(bobs.id) && ids.includes(byStaff.id));
      assert.equal(new Set(ids).size, ids.length);
      assert.deepEqual(ids, [...ids].sort().reverse());

      // Post over REST: it fans out to the socket too.
      const socket = await connect(alice.token);
      await socket.request({ type: 'subscribe', channel: `support:${mine.id}` });
      const post = (token: string, payload: Record<string, unknown>, id = mine.id) =>
        t.app.inject({
          method: 'POST',
          url: `/api/v1/support/chat/conversation/${id}/message`,
          headers: bearer(token),
          payload,
        });
      const posted = await post(agentToken, { text: 'Which month?', client_id: 'agent-1' });
      assert.equal(posted.statusCode, 201, posted.body);
      assert.equal(posted.json().sender_id, agentId);
      assert.equal((await post(agentToken, { text: 'Which month?', client_id: 'agent-1' })).statusCode, 200);
      const live = await socket.next(isChat('Which month?'));
      assert.equal((live.data as { id: string }).id, posted.json().id);
      for (let index = 0; index < 3; index += 1)
        assert.equal((await post(alice.token, { text: `reply ${index}` })).statusCode, 201);

      const pages: string[] = [];
      cursor = null;
      do {
        const response: { statusCode: number; body: string; json: () => unknown } = await t.app.inject({
          method: 'GET',
          url: `/api/v1/support/chat/conversation/${mine.id}/messages?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          headers: bearer(alice.token),
        });
        assert.equal(response.statusCode, 200, response.body);
        const page = response.json() as {
          items: { text: string; sender_id: unknown }[];
          next_cursor: string | null;
        };
        pages.push(...page.items.map((item) => item.text));
        if (page.items.some((item) => item.text === 'Which month?'))
          assert.equal(page.items.find((item) => item.text === 'Which month?')!.sender_id, null);
        cursor = page.next_cursor;
      } while (cursor);
      assert.deepEqual(pages, [
        'reply 2',
        'reply 1',
        'reply 0',
        'Which month?',
        'Hello, my card has not arrived',
      ]);

      // Someone else's conversation does not exist for Bob; staff without support:chat are refused.
      for (const [method, path, payload] of [
        ['GET', `/api/v1/support/chat/conversation/${mine.id}/messages`, undefined],
        ['POST', `/api/v1/support/chat/conversation/${mine.id}/message`, { text: 'hi' }],
        ['POST', `/api/v1/support/chat/conversation/${mine.id}/close`, undefined],
      ] as const) {
        const response = await t.app.inject({ method, url: path, headers: bearer(bob.token), payload });
        assert.equal(response.statusCode, 404, `${method} ${path}`);
        assert.equal(response.json().error_code, 'NOT_FOUND');
      }
      const clerk = await t.app.inject({
        method: 'GET',
        url: '/api/v1/support/chat/conversation',
        headers: bearer(clerkToken),
      });
      assert.equal(clerk.statusCode, 403);

      // Closing: the socket hears it, and the conversation takes no more messages.
      const closed = await t.app.inject({
        method: 'POST',
        url: `/api/v1/support/chat/conversation/${mine.id}/close`,
        headers: bearer(alice.token),
      });
      assert.equal(closed.statusCode, 200, closed.body);
      assert.equal(closed.json().status, 'closed');
      assert.ok(closed.json().closed_at);
      const event = await socket.next((frame) => frame.type === 'conversation.closed');
      assert.equal((event.data as { status: string }).status, 'closed');
      assert.equal((await post(alice.token, { text: 'more' })).statusCode, 409);
      const again = await t.app.inject({
        method: 'POST',
        url: `/api/v1/support/chat/conversation/${mine.id}/close`,
        headers: bearer(alice.token),
      });
      assert.equal(again.json().error_code, 'CONVERSATION_CLOSED');
      const unknown = await t.app.inject({
        method: 'GET',
        url: '/api/v1/support/chat/conversation/0190a000-0000-7000-8000-000000000000/messages',
        headers: bearer(agentToken),
      });
      assert.equal(unknown.statusCode, 404);
    });
  });
});
