/** Liveness, readiness (database and Redis) and Prometheus metrics. */

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { register as processMetrics, type Registry } from 'prom-client';
import { Type } from 'typebox';
import type { Dependencies } from './dependencies.ts';
import { commonErrors, platformErrorCatalogue } from './errors.ts';
import type { HealthCheck } from './modules.ts';

const CHECK_TIMEOUT_MS = 2000;

/** `Authorization: Bearer <token>` compared in constant time (on digests, so the length leaks nothing either). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(header ?? '')?.[1];
  if (presented === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

async function check(
  // biome-ignore lint/suspicious/noConfusingVoidType: the probes modules already declare resolve void
  probe: () => Promise<void | 'not_configured'>,
): Promise<'ok' | 'down' | 'not_configured'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return answer === 'not_configured' ? 'not_configured' : 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

const Status = Type.Union([Type.Literal('ok'), Type.Literal('down')]);
const CheckStatus = Type.Union([Status, Type.Literal('not_configured')]);
const Ready = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')], {
    description: '`degraded`: a non-critical check (an external provider the node can serve without) is down',
  }),
  checks: Type.Object(
    { database: Status, redis: CheckStatus },
    {
      additionalProperties: CheckStatus,
      description: 'Database, Redis, and each check a module declares (`health`)',
    },
  ),
  degraded: Type.Optional(
    Type.Array(Type.String(), { description: 'The non-critical checks that are down' }),
  ),
  database: Type.Union([Type.Literal('postgres'), Type.Literal('pglite')]),
});

/** `/health/live`, `/health/ready` (database, Redis, and the modules' own checks) and `/metrics`. */
export function healthRoutes(
  deps: Dependencies,
  metrics: Registry,
  moduleChecks: Readonly<Record<string, HealthCheck>> = {},
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/health/live',
      {
        config: { access: { public: true } },
        logLevel: 'warn',
        schema: {
          operationId: 'healthLive',
          tags: ['health'],
          summary: 'The process is up',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/health/ready',
      {
        config: { access: { public: true } },
        logLevel: 'warn',
        schema: {
          operationId: 'healthReady',
          tags: ['health'],
          summary: 'Database and Redis answer; 503 names the one that does not',
          response: { 200: Ready },
        },
      },
      async () => {
        const database = await check(() => deps.database.ping());
        const redis =
          deps.store.kind === 'redis' ? await check(() => deps.store.ping()) : ('not_configured' as const);
        const checks: Record<string, 'ok' | 'down' | 'not_configured'> = { database, redis };
        const optional = new Set<string>();
        for (const [name, declared] of Object.entries(moduleChecks)) {
          if (typeof declared === 'function') checks[name] = await check(declared);
          else {
            optional.add(name);
            checks[name] = await check(declared.probe);
          }
        }
        const down = Object.entries(checks)
          .filter(([, state]) => state === 'down')
          .map(([name]) => name);
        const critical = down.filter((name) => !optional.has(name));
        if (critical.length > 0) {
          throw platformErrorCatalogue.SERVICE_UNAVAILABLE({
            message: `Not ready: ${critical.join(', ')} down`,
            details: { checks, down },
          });
        }
        return {
          status: down.length > 0 ? ('degraded' as const) : ('ok' as const),
          checks: checks as { database: 'ok'; redis: 'ok' },
          ...(down.length > 0 ? { degraded: down } : {}),
          database: deps.database.kind,
        };
      },
    );

    app.get(
      '/metrics',
      {
        config: { access: { public: true } },
        logLevel: 'warn',
        schema: {
          operationId: 'metrics',
          tags: ['health'],
          summary: 'Prometheus metrics',
          description:
            'Open unless METRICS_TOKEN is set, then only with `Authorization: Bearer <METRICS_TOKEN>`; not served ' +
            'with PRODUCTION=true and no token.',
          response: {
            200: {
              description: 'Prometheus text exposition format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      async (request, reply) => {
        const token = deps.config.METRICS_TOKEN;
        if (token === undefined && deps.config.PRODUCTION) throw commonErrors.notFound('Route');
        if (token !== undefined && !bearerMatches(request.headers.authorization, token))
          throw platformErrorCatalogue.UNAUTHORIZED({
            message: 'The metrics token is missing or wrong',
            headers: { 'www-authenticate': 'Bearer realm="metrics"' },
          });
        // The app's registry, then the process-wide one modules register their own metrics in (the onboarding funnel).
        const own = await processMetrics.metrics();
        const body = own ? `${await metrics.metrics()}\n${own}` : await metrics.metrics();
        return reply.type(metrics.contentType).send(body);
      },
    );
  };
}
