/** `/api/v1/ws` (authentication, subscriptions, chat, limits) and the support chat routes, end to end. */
import assert from 'node:assert/strict';
import { type AddressInfo, connect as connectTcp } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import Fastify, { type FastifyInstance } from 'fastify';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, type TestCustomer } from '../../../test/helpers/money.ts';
import { ErrorBody, registerErrorHandling } from '../../platform/errors.ts';
import { RealtimeHub } from '../../platform/realtime.ts';
import { registerAccessGuard } from '../identity/index.ts';
import { CLOSE_CODES, realtimePlugin } from './index.ts';
import { type Frame, TestSocket } from './realtime.testing.ts';
import { supportChatMessages } from './support-chat.tables.ts';

const PASSWORD = 'quartz meadow lantern 58';

function wsUrl(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  return `ws://127.0.0.1:${address.port}/api/v1/ws`;
}

describe('realtime WebSocket and support chat', () => {
  let t: TestContext;
  let url: string;
  /** A second app on the same dependencies with short timers (auth deadline, token re-check). */
  let quick: FastifyInstance;
  let quickUrl: string;
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

  async function connect(token: string, via: 'header' | 'message' = 'header', target = url) {
    const socket = await TestSocket.ready(target, token, via);
    sockets.push(socket);
    return socket;
  }

  async function open(target: string, headers: Record<string, string> = {}) {
    const socket = await TestSocket.open(target, headers);
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
    quick = Fastify({ logger: false });
    quick.addSchema(ErrorBody);
    registerErrorHandling(quick);
    registerAccessGuard(quick, t.application.identity);
    await quick.register(
      realtimePlugin(t.deps, t.application.identity, new RealtimeHub(t.deps.store), {
        authTimeoutMs: 300,
        recheckIntervalMs: 200,
        heartbeatIntervalMs: 100,
      }),
    );
    await quick.listen({ host: '127.0.0.1', port: 0 });
    quickUrl = wsUrl(quick);
    alice = await createCustomer(t, 'Alice', '+254744000001');
    bob = await createCustomer(t, 'Bob', '+254744000002');
    const agent = await staff('chat.agent', ['support_agent']);
    agentToken = agent.token;
    agentId = agent.id;
    clerkToken = (await staff('field.clerk', ['field_agent'])).token;
  });

  after(async () => {
    for (const socket of sockets) socket.close();
    await quick?.close();
    await t?.close();
  });

  describe('authentication', () => {
    test('with the Authorization header: ready names the principal', async () => {
      const socket = await open(url, bearer(alice.token));
      const ready = await socket.next();
      assert.deepEqual(ready, { type: 'ready', principal: { type: 'customer', id: alice.id } });
    });

    test('with a first auth message (browsers)', async () => {
      const socket = await open(url);
      socket.send({ type: 'auth', token: agentToken });
      assert.deepEqual(await socket.next(), { type: 'ready', principal: { type: 'user', id: agentId } });
    });

    test('a bad token closes with 4401 and no data, by header or by message', async () => {
      const byHeader = await open(url, { authorization: 'Bearer not.a.token' });
      assert.equal((await byHeader.closedWithin()).code, CLOSE_CODES.unauthorized);
      assert.deepEqual(byHeader.received, []);
      const byMessage = await open(url);
      byMessage.send({ type: 'auth', token: `${alice.token}x` });
      assert.equal((await byMessage.closedWithin()).code, 4401);
      assert.deepEqual(byMessage.received, []);
    });

    test('anything but auth first closes with 4401', async () => {
      for (const first of [{ type: 'ping' }, { type: 'subscribe', channel: 'notifications' }, 'not json']) {
        const socket = await open(url);
        socket.send(first);
        assert.equal((await socket.closedWithin()).code, 4401, JSON.stringify(first));
        assert.deepEqual(socket.received, []);
      }
    });

    test('a token in the query string is refused at once (4401), never used', async () => {
      const started = Date.now();
      const socket = await open(`${url}?access_token=${encodeURIComponent(alice.token)}`);
      assert.equal((await socket.closedWithin(3000)).code, 4401);
      assert.ok(Date.now() - started < 3000, 'closed by the query rule, not the 10 s auth deadline');
      assert.deepEqual(socket.received, []);
      // Nor does it leak into the logs.
      assert.doesNotMatch(t.logs.text, new RegExp(alice.token.slice(-20).replace(/[-_]/g, '.')));
    });

    test('no auth within the time limit closes with 4401', async () => {
      const started = Date.now();
      const socket = await open(quickUrl);
      const closed = await socket.closedWithin(3000);
      assert.equal(closed.code, 4401);
      assert.ok(Date.now() - started >= 250, 'not before the deadline');
      assert.deepEqual(socket.received, []);
    });

    test('a revoked token (logout) is refused, and an open socket is closed at the next re-check', async () => {
      const customer = await createCustomer(t, 'Revoked', '+254744000009');
      const socket = await connect(customer.token, 'message', quickUrl);
      const logout = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(customer.token),
      });
      assert.equal(logout.statusCode, 204, logout.body);
      assert.equal((await socket.closedWithin(3000)).code, 4401);
      const again = await open(url, bearer(customer.token));
      assert.equal((await again.closedWithin()).code, 4401);
      assert.deepEqual(again.received, []);
    });

    test('an upgrade request to any other path is answered and its socket closed, not left open', async () => {
      const { port } = t.app.server.address() as AddressInfo;
      for (const path of ['/health/live', '/api/v1/nowhere']) {
        const socket = connectTcp(port, '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk) => {
          answer += chunk;
        });
        const closed = new Promise((resolve) => socket.on('close', resolve));
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
        const outcome = await Promise.race([
          closed.then(() => 'closed'),
          new Promise((resolve) => setTimeout(() => resolve('still open'), 3000)),
        ]);
        socket.destroy();
        assert.equal(outcome, 'closed', path);
        assert.doesNotMatch(answer.split('\r\n')[0]!, / 101 /, path);
      }
    });

    test('a plain GET (no upgrade) answers 426 with the standard error body', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/api/v1/ws' });
      assert.equal(response.statusCode, 426);
      assert.equal(response.json().error_code, 'UPGRADE_REQUIRED');
    });
  });

  describe('messages', () => {
    test('invalid JSON and unknown types answer an error frame; the socket stays open', async () => {
      const socket = await connect(alice.token);
      socket.send('{not json');
      assert.equal((await socket.next()).code, 'INVALID_JSON');
      socket.send({ type: 'dance' });
      const unknown = await socket.next();
      assert.equal(unknown.type, 'error');
      assert.equal(unknown.code, 'UNKNOWN_TYPE');
      socket.send([1, 2]);
      assert.equal((await socket.next()).code, 'BAD_MESSAGE');
      assert.equal((await socket.request({ type: 'subscribe', channel: 'weather' })).code, 'UNKNOWN_CHANNEL');
      assert.equal((await socket.request({ type: 'ping' })).type, 'pong');
      assert.equal(socket.ws.readyState, socket.ws.OPEN);
    });

    test('heartbeat: a client that stops answering pings is dropped, a live one stays', async () => {
      const dead = await TestSocket.open(quickUrl, bearer(alice.token), { autoPong: false });
      sockets.push(dead);
      await dead.next((frame) => frame.type === 'ready');
      const live = await connect(alice.token, 'header', quickUrl);
      // Terminated without a close frame (the client sees 1006), after the ping it left unanswered.
      assert.equal((await dead.closedWithin(3000)).code, 1006);
      assert.equal(dead.received.length, 1);
      assert.equal((await live.request({ type: 'ping' })).type, 'pong');
      assert.equal(live.ws.readyState, live.ws.OPEN);
    });

    test('more than 20 messages in a second closes with 4429', async () => {
      const socket = await connect(alice.token);
      for (let index = 0; index < 30; index += 1) socket.send({ type: 'ping' });
      assert.equal((await socket.closedWithin()).code, CLOSE_CODES.rateLimited);
    });

    test('20 messages in a second are fine', async () => {
      const socket = await connect(alice.token);
      for (let index = 0; index < 19; index += 1) socket.send({ type: 'ping' });
      assert.equal((await socket.request({ type: 'ping' })).type, 'pong');
      assert.equal(socket.ws.readyState, socket.ws.OPEN);
    });

    test('notifications: the principal’s own stream, from a hub anywhere (as the worker publishes)', async () => {
      const mine = await connect(alice.token);
      const other = await connect(bob.token);
      const subscribed = await mine.request({ type: 'subscribe', channel: 'notifications' });
      assert.equal(subscribed.type, 'subscribed');
      assert.equal(subscribed.channel, 'notifications');
      await other.request({ type: 'subscribe', channel: 'notifications' });
      const worker = new RealtimeHub(t.deps.store);
      await worker.publishToPrincipal('customer', alice.id, {
        channel: 'notifications',
        type: 'notification',
        data: { id: 'n-1', title: 'Money received' },
      });
      await worker.publishToPrincipal('customer', bob.id, {
        channel: 'notifications',
        type: 'notification',
        data: { id: 'n-2', title: 'For Bob' },
      });
      assert.deepEqual(await mine.next((frame) => frame.channel === 'notifications'), {
        channel: 'notifications',
        type: 'notification',
        data: { id: 'n-1', title: 'Money received' },
      });
      // Bob gets his own and only his own.
      const bobs = await other.next((frame) => frame.channel === 'notifications');
      assert.equal((bobs.data as { id: string }).id, 'n-2');
      // After unsubscribing nothing more arrives on that socket, while Alice's other socket still hears it.
      const witness = await connect(alice.token);
      await witness.request({ type: 'subscribe', channel: 'notifications' });
      assert.equal(
        (await mine.request({ type: 'unsubscribe', channel: 'notifications' })).type,
        'unsubscribed',
      );
      await worker.publishToPrincipal('customer', alice.id, {
        channel: 'notifications',
        type: 'later',
        data: null,
      });
      await witness.next((frame) => frame.type === 'later');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(
        mine.received.filter((frame) => frame.channel === 'notifications').map((frame) => frame.type),
        ['subscribed', 'notification', 'unsubscribed'],
      );
    });
  });

  describe('support chat over the socket', () => {
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

  describe('support chat routes', () => {
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

  test('closing the app closes its sockets with 1001', async () => {
    const socket = await connect(alice.token, 'header', quickUrl);
    await socket.request({ type: 'subscribe', channel: 'notifications' });
    const closing = quick.close();
    assert.equal((await socket.closedWithin()).code, CLOSE_CODES.goingAway);
    await closing;
  });
});
