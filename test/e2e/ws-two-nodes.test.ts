/**
 * WebSocket delivery across two API processes (`node src/main.ts`, as deployed) on one database and one Redis
 * prefix: support chat between a customer on node A and staff on node B, both ways; an event published by a third
 * process (as the notification worker does) reaching the same customer's sockets on both nodes; and a node that
 * shuts down telling its clients it is going away (1001).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { CLOSE_CODES } from '../../src/modules/realtime/index.ts';
import { type Frame, TestSocket } from '../../src/modules/realtime/realtime.testing.ts';
import { RealtimeHub } from '../../src/platform/realtime.ts';
import {
  ADMIN_PASSWORD,
  bearer,
  login,
  sharedServices,
  startTestApp,
  type TestContext,
} from '../helpers/app.ts';
import { needsSharedServices } from '../helpers/databases.ts';
import { createCustomer, type TestCustomer } from '../helpers/money.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const STAFF_PASSWORD = 'harbour signal copper 29';
const START_TIMEOUT_MS = 120_000;

interface Node {
  name: string;
  child: ChildProcess;
  http: string;
  ws: string;
  output: string[];
  exited: Promise<number | null>;
}

/** Every child started, tracked from the moment it is spawned (even one that never comes up). */
const children: ChildProcess[] = [];

/** Starts `node src/main.ts` on the shared database and Redis prefix; resolves once it listens. */
function startNode(name: string, t: TestContext): Promise<Node> {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: t.config.DATABASE_URL,
      REDIS_URL: t.config.REDIS_URL,
      REDIS_KEY_PREFIX: t.config.REDIS_KEY_PREFIX,
      // The test process migrated and seeded the database already.
      AUTO_MIGRATE: 'false',
      WORKER_IN_PROCESS: 'false',
      LOCAL_HOST: '127.0.0.1',
      LOCAL_PORT: '0',
      LOG_LEVEL: 'info',
      RATE_LIMIT_MAX: '100000',
      ADMIN_EMAIL: 'admin@bank.test',
      ADMIN_PASSWORD,
      SHUTDOWN_TIMEOUT_MS: '10000',
    },
  });
  children.push(child);
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`node ${name} did not start:\n${output.slice(-20).join('\n')}`)),
      START_TIMEOUT_MS,
    );
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node ${name} exited (${code}) before listening:\n${output.slice(-20).join('\n')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (!line.includes('API listening on')) return;
      const address = (JSON.parse(line) as { address: string }).address;
      clearTimeout(timer);
      resolve({
        name,
        child,
        http: address,
        ws: `${address.replace(/^http/, 'ws')}/api/v1/ws`,
        output,
        exited,
      });
    });
  });
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** SIGTERM (a graceful shutdown), then SIGKILL if it is still running after 15 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const stopped = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000)),
  ]);
  if (!stopped && running(child)) {
    child.kill('SIGKILL');
    await exited;
  }
}

function killAll(): void {
  for (const child of children) if (running(child)) child.kill('SIGKILL');
}

async function call(node: Node, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${node.http}${path}`, {
    method,
    headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const chatText = (text: string) => (frame: Frame) =>
  frame.type === 'chat.message' && (frame.data as { text?: string }).text === text;

// Defined where PostgreSQL and Redis are configured (always in CI): two processes share nothing else.
if (sharedServices)
  describe('WebSocket delivery across two API processes', () => {
    let t: TestContext;
    let nodeA: Node | undefined;
    let nodeB: Node | undefined;
    let customer: TestCustomer;
    let other: TestCustomer;
    let agentToken: string;
    const sockets: TestSocket[] = [];

    async function connect(node: Node, token: string, via: 'header' | 'message' = 'header') {
      const socket = await TestSocket.ready(node.ws, token, via);
      sockets.push(socket);
      return socket;
    }

    before(async () => {
      // Never leave a child behind, even if this process dies mid-test.
      process.once('exit', killAll);
      t = await startTestApp();
      [nodeA, nodeB] = await Promise.all([startNode('A', t), startNode('B', t)]);
      customer = await createCustomer(t, 'Wanjiru', '+254755000001');
      other = await createCustomer(t, 'Otieno', '+254755000002');
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/user/user/add',
        headers: bearer(t.adminToken),
        payload: {
          username: 'ws.agent',
          email: 'ws.agent@bank.test',
          full_name: 'WS Agent',
          password: STAFF_PASSWORD,
          roles: ['support_agent'],
          must_change_password: false,
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      agentToken = (await login(t.app, 'ws.agent', STAFF_PASSWORD)).access_token;
    });

    after(async () => {
      for (const socket of sockets) socket.close();
      await Promise.all(children.map(stopChild));
      killAll();
      process.removeListener('exit', killAll);
      await t?.close();
    });

    test('the nodes are separate processes on the same database and Redis prefix', async () => {
      assert.notEqual(nodeA!.child.pid, nodeB!.child.pid);
      assert.notEqual(nodeA!.http, nodeB!.http);
      assert.equal(t.deps.store.kind, 'redis');
      // A conversation opened on A is visible on B: one database.
      const opened = await call(nodeA!, 'POST', '/api/v1/support/chat/conversation/add', customer.token, {
        subject: 'Shared',
        text: 'Opened on A',
      });
      assert.equal(opened.status, 201, JSON.stringify(opened.body));
      const onB = await call(
        nodeB!,
        'GET',
        `/api/v1/support/chat/conversation/${opened.body.id}/messages`,
        agentToken,
      );
      assert.equal(onB.status, 200, JSON.stringify(onB.body));
    });

    test('a customer on node A and staff on node B chat both ways', async () => {
      const opened = await call(nodeA!, 'POST', '/api/v1/support/chat/conversation/add', customer.token, {
        subject: 'Transfer pending',
        text: 'My transfer is pending',
      });
      assert.equal(opened.status, 201, JSON.stringify(opened.body));
      const channel = `support:${opened.body.id}`;
      const onA = await connect(nodeA!, customer.token, 'header');
      const onB = await connect(nodeB!, agentToken, 'message');
      assert.equal((await onA.request({ type: 'subscribe', channel })).type, 'subscribed');
      assert.equal((await onB.request({ type: 'subscribe', channel })).type, 'subscribed');

      const fromCustomer = await onA.request({
        type: 'chat.send',
        conversation_id: opened.body.id,
        text: 'Hello from node A',
        client_id: 'a-1',
      });
      assert.equal(fromCustomer.type, 'chat.sent', JSON.stringify(fromCustomer));
      const atAgent = await onB.next(chatText('Hello from node A'));
      assert.equal(atAgent.channel, channel);
      assert.equal((atAgent.data as { sender_id: string }).sender_id, customer.id);
      assert.equal((atAgent.data as { id: string }).id, (fromCustomer.data as { id: string }).id);

      const fromAgent = await onB.request({
        type: 'chat.send',
        conversation_id: opened.body.id,
        text: 'Hello from node B',
      });
      assert.equal(fromAgent.type, 'chat.sent', JSON.stringify(fromAgent));
      const atCustomer = await onA.next(chatText('Hello from node B'));
      assert.equal((atCustomer.data as { sender_type: string }).sender_type, 'user');

      // The REST route fans out across nodes too.
      const posted = await call(
        nodeB!,
        'POST',
        `/api/v1/support/chat/conversation/${opened.body.id}/message`,
        agentToken,
        {
          text: 'Posted over REST on B',
        },
      );
      assert.equal(posted.status, 201, JSON.stringify(posted.body));
      await onA.next(chatText('Posted over REST on B'));
    });

    test('a hub in another process (as the worker) reaches the customer on both nodes, and only them', async () => {
      const onA = await connect(nodeA!, customer.token);
      const onB = await connect(nodeB!, customer.token, 'message');
      const otherOnB = await connect(nodeB!, other.token);
      for (const socket of [onA, onB, otherOnB])
        assert.equal(
          (await socket.request({ type: 'subscribe', channel: 'notifications' })).type,
          'subscribed',
        );

      const worker = new RealtimeHub(t.deps.store);
      const notification = {
        channel: 'notifications',
        type: 'notification',
        data: { id: 'n-42', title: 'You received KES 500' },
      };
      await worker.publishToPrincipal('customer', customer.id, notification);
      assert.deepEqual(await onA.next((frame) => frame.type === 'notification'), notification);
      assert.deepEqual(await onB.next((frame) => frame.type === 'notification'), notification);
      // The other customer hears their own next event, not the first one.
      await worker.publishToPrincipal('customer', other.id, { ...notification, data: { id: 'n-43' } });
      const theirs = await otherOnB.next((frame) => frame.type === 'notification');
      assert.equal((theirs.data as { id: string }).id, 'n-43');
    });

    test('a node shutting down closes its sockets with 1001; the other node carries on', async () => {
      const onA = await connect(nodeA!, customer.token);
      const onB = await connect(nodeB!, customer.token);
      nodeA!.child.kill('SIGTERM');
      assert.equal((await onA.closedWithin(10_000)).code, CLOSE_CODES.goingAway);
      assert.equal(await nodeA!.exited, 0, nodeA!.output.slice(-10).join('\n'));
      assert.equal((await onB.request({ type: 'ping' })).type, 'pong');
    });
  });
else test('WebSocket delivery across two API processes', { skip: needsSharedServices }, () => {});
