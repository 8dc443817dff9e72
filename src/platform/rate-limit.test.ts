/** The rate-limit counter store: counts through the ephemeral store, and a broken reply is a 503, not a crash. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import rateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import { needsRedis } from '../../test/helpers/databases.ts';
import { type EphemeralStore, MemoryStore, RedisStore } from './cache.ts';
import { DependencyUnavailableError } from './errors.ts';
import { rateLimitStore } from './rate-limit.ts';

async function appWith(store: EphemeralStore, max: number) {
  const app = Fastify();
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status = error instanceof DependencyUnavailableError ? 503 : (error.statusCode ?? 500);
    return reply.status(status).send({ status_code: status, message: error.message });
  });
  await app.register(rateLimit, {
    global: true,
    max,
    timeWindow: 60_000,
    store: rateLimitStore(store, 'rl:'),
  });
  app.get('/', async () => ({ ok: true }));
  app.get('/own', { config: { rateLimit: { max: 1, timeWindow: 60_000 } } }, async () => ({ ok: true }));
  await app.ready();
  return app;
}

describe('rate-limit store', () => {
  test('counts per client in the ephemeral store and answers 429 past the limit, with the window left', async () => {
    const store = new MemoryStore();
    const app = await appWith(store, 2);
    try {
      const statuses = [];
      for (let index = 0; index < 3; index += 1) statuses.push((await app.inject({ url: '/' })).statusCode);
      assert.deepEqual(statuses, [200, 200, 429]);
      const limited = await app.inject({ url: '/' });
      assert.ok(Number(limited.headers['retry-after']) > 0, 'says when to come back');
      // A route with a limit of its own counts apart from the global counter.
      assert.equal((await app.inject({ url: '/own' })).statusCode, 200);
      assert.equal((await app.inject({ url: '/own' })).statusCode, 429);
    } finally {
      await app.close();
      await store.close();
    }
  });

  test('a store that fails or answers nonsense gives the request a 503 and the process lives on', async () => {
    const store = new MemoryStore();
    const broken = Object.assign(Object.create(store) as EphemeralStore, {
      hit: async () => {
        throw new DependencyUnavailableError('redis', new Error('unexpected reply to a rate-limit hit'));
      },
    });
    const app = await appWith(broken, 100);
    try {
      const answer = await app.inject({ url: '/' });
      assert.equal(answer.statusCode, 503, answer.body);
    } finally {
      await app.close();
      await store.close();
    }
  });

  test('Redis answering something other than two integers is a 503 for the request, not a crash', {
    skip: needsRedis,
  }, async () => {
    const store = new RedisStore(process.env.REDIS_URL!, `cft:rl:${process.pid}:`);
    const app = await appWith(store, 100);
    const send = store.client.sendCommand;
    try {
      assert.equal((await app.inject({ url: '/' })).statusCode, 200, 'the real script counts');
      // What a mangled connection hands back instead of {count, ttl}.
      for (const reply of [null, 'OK', [1], ['1', 2], [1.5, 100]]) {
        // Whatever command the store sends (EVALSHA of the defined script), this reply comes back.
        store.client.sendCommand = ((command: {
          resolve: (value: unknown) => void;
          promise: Promise<unknown>;
        }) => {
          command.resolve(reply);
          return command.promise;
        }) as unknown as typeof store.client.sendCommand;
        await assert.rejects(store.hit('k', 1000), DependencyUnavailableError);
        const answer = await app.inject({ url: '/' });
        assert.equal(answer.statusCode, 503, `${JSON.stringify(reply)}: ${answer.body}`);
      }
    } finally {
      store.client.sendCommand = send;
      await app.close();
      await store.close();
    }
  });

  test('a request costs one Redis command: EVALSHA of the script, its body sent once per connection', {
    skip: needsRedis,
  }, async () => {
    const store = new RedisStore(process.env.REDIS_URL!, `cft:rl1:${process.pid}:`);
    const app = await appWith(store, 100);
    await store.ping(); // connected: the handshake's commands are not the requests'
    const sent: { name: string; first: string }[] = [];
    const send = store.client.sendCommand.bind(store.client);
    store.client.sendCommand = ((command: { name: string; args: unknown[] }, ...rest: unknown[]) => {
      sent.push({ name: command.name, first: String(command.args[0]) });
      return (send as (...args: unknown[]) => unknown)(command, ...rest);
    }) as unknown as typeof store.client.sendCommand;
    try {
      const statuses = [];
      for (let index = 0; index < 6; index += 1) statuses.push((await app.inject({ url: '/' })).statusCode);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
      assert.equal(sent.length, 6, `one command per request: ${JSON.stringify(sent)}`);
      // The script's body may travel on the connection's first use only; every later request names it by SHA.
      assert.ok(
        sent.slice(1).every((command) => command.name === 'evalsha' && /^[0-9a-f]{40}$/.test(command.first)),
        JSON.stringify(sent),
      );
    } finally {
      store.client.sendCommand = send;
      await app.close();
      await store.close();
    }
  });
});
