/**
 * The reference for the `read` scenario: a bare Fastify 5 JSON route (no plugins, no logger, no database), the
 * "Fastify 5 bare JSON route" line of PERFORMANCE.md. Started as a child process by `bench/run.ts`; sends
 * `{type:'ready'}` over IPC when it listens.   LOCAL_PORT=8124 node bench/bare-fastify.ts
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));

process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});

await app.listen({ host: '127.0.0.1', port: Number(process.env.LOCAL_PORT ?? 8124) });
if (process.send) process.send({ type: 'ready', pids: [process.pid] });
else process.stdout.write(`listening on ${process.env.LOCAL_PORT ?? 8124}\n`);
