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
    try {
      assert.equal((await app.inject({ url: '/' })).statusCode, 200, 'the real script counts');
      // What a mangled connection hands back instead of {count, ttl}.
      for (const reply of [null, 'OK', [1], ['1', 2], [1.5, 100]]) {
        store.client.eval = (async () => reply) as unknown as typeof store.client.eval;
        await assert.rejects(store.hit('k', 1000), DependencyUnavailableError);
        const answer = await app.inject({ url: '/' });
        assert.equal(answer.statusCode, 503, `${JSON.stringify(reply)}: ${answer.body}`);
      }
    } finally {
      await app.close();
      await store.close();
    }
  });
});
