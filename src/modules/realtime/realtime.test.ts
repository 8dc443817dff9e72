/**
 * `/api/v1/ws` end to end: authentication, the message protocol, limits, the principal's own stream, and how a
 * module's extension gets its channels and messages (support chat itself is tested in the support module).
 */
import assert from 'node:assert/strict';
import { type AddressInfo, connect as connectTcp } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, type TestCustomer } from '../../../test/helpers/money.ts';
import { commonErrors, ErrorBody, registerErrorHandling } from '../../platform/errors.ts';
import { RealtimeHub } from '../../platform/realtime.ts';
import { registerAccessGuard } from '../identity/index.ts';
import { CLOSE_CODES, realtimePlugin, type SocketExtension, SocketExtensions } from './index.ts';
import { TestSocket } from './realtime.testing.ts';

const PASSWORD = 'quartz meadow lantern 58';

function wsUrl(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  return `ws://127.0.0.1:${address.port}/api/v1/ws`;
}

describe('realtime WebSocket', () => {
  let t: TestContext;
  let url: string;
  /** A second app on the same dependencies with short timers (auth deadline, token re-check). */
  let quick: FastifyInstance;
  let quickUrl: string;
  let alice: TestCustomer;
  let bob: TestCustomer;
  let agentToken: string;
  let agentId: string;
  const sockets: TestSocket[] = [];
  /** What the `echo` extension saw, in order. */
  const seen: string[] = [];

  /**
   * A module's extension as realtime sees it (support's chat is one): `echo:<word>` channels, `echo:secret` refused,
   * and an `echo.say` message. Registered on the quick app only.
   */
  const echo: SocketExtension = {
    name: 'echo',
    ownsChannel: (channel) => channel.startsWith('echo:'),
    messageTypes: ['echo.say'],
    open: (connection) => {
      const followed = new Set<string>();
      return {
        get size() {
          return followed.size;
        },
        has: (channel) => followed.has(channel),
        follow: async (principal, channel) => {
          if (channel === 'echo:secret') throw commonErrors.notFound('Channel');
          followed.add(channel);
          seen.push(`follow ${channel} ${principal.id}`);
          connection.send({ channel, type: 'echo.hello', data: { viewer: connection.viewer()?.id } });
        },
        leave: async (channel) => {
          if (followed.delete(channel)) seen.push(`leave ${channel}`);
        },
        leaveAll: () => {
          seen.push(`leave all ${[...followed].join(',')}`);
          followed.clear();
        },
        reauthenticated: (principal) => {
          seen.push(`again ${principal.id}`);
        },
        handle: async (principal, message) => ({
          type: 'echo.said',
          text: String(message.text),
          by: principal.id,
        }),
      };
    },
  };
  const extensions = new SocketExtensions();
  extensions.register(echo);

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

  before(async () => {
    t = await startTestApp();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    url = wsUrl(t.app);
    quick = Fastify({ logger: false });
    quick.addSchema(ErrorBody);
    registerErrorHandling(quick);
    registerAccessGuard(quick, t.application.identity);
    await quick.register(
      realtimePlugin(t.application.identity, new RealtimeHub(t.deps.store), extensions, {
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

  describe('extensions (a module’s channels and messages)', () => {
    test('an extension answers its channels and message types; the protocol’s stay realtime’s', async () => {
      seen.length = 0;
      const socket = await connect(alice.token, 'header', quickUrl);
      const subscribed = await socket.request({ type: 'subscribe', channel: 'echo:a' });
      assert.equal(subscribed.type, 'subscribed');
      assert.equal(subscribed.channel, 'echo:a');
      assert.deepEqual(await socket.next((frame) => frame.type === 'echo.hello'), {
        channel: 'echo:a',
        type: 'echo.hello',
        data: { viewer: alice.id },
      });
      // Subscribing again is answered by realtime without asking the extension.
      assert.equal((await socket.request({ type: 'subscribe', channel: 'echo:a' })).type, 'subscribed');
      const refused = await socket.request({ type: 'subscribe', channel: 'echo:secret' });
      assert.equal(refused.type, 'error');
      assert.equal(refused.code, 'NOT_FOUND');
      const said = await socket.request({ type: 'echo.say', text: 'hello' });
      assert.equal(said.type, 'echo.said');
      assert.equal(said.text, 'hello');
      assert.equal(said.by, alice.id);
      assert.equal((await socket.request({ type: 'chat.send', text: 'x' })).code, 'UNKNOWN_TYPE');
      assert.equal((await socket.request({ type: 'subscribe', channel: 'weather' })).code, 'UNKNOWN_CHANNEL');
      assert.equal((await socket.request({ type: 'unsubscribe', channel: 'echo:a' })).type, 'unsubscribed');
      await socket.request({ type: 'subscribe', channel: 'echo:b' });
      // The periodic token check tells the extension (support drops staff who lost `support:chat`).
      await new Promise((resolve) => setTimeout(resolve, 500));
      socket.close();
      await socket.closedWithin();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(
        seen.filter((entry) => !entry.startsWith('again')),
        [`follow echo:a ${alice.id}`, 'leave echo:a', `follow echo:b ${alice.id}`, 'leave all echo:b'],
      );
      assert.ok(seen.filter((entry) => entry === `again ${alice.id}`).length >= 2, seen.join('; '));
    });

    test('an extension cannot take the protocol’s message types or another’s', () => {
      const registry = new SocketExtensions();
      registry.register(echo);
      assert.throws(
        () => registry.register({ ...echo, name: 'other', messageTypes: ['subscribe'] }),
        /protocol/,
      );
      assert.throws(() => registry.register({ ...echo, name: 'other' }), /"echo\.say" is claimed by both/);
      assert.equal(registry.all.length, 1);
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
