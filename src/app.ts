/**
 * buildApp(deps): platform plugins first, then modules in dependency order. Every route declares its access
 * (checked at registration) and gets the shared error responses and security in the OpenAPI document.
 */
import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import type { DestinationStream } from 'pino';
import { API_ERRORS } from './api-errors.ts';
import { API_EXAMPLES } from './api-examples.ts';
import { apiDocsMode, trustProxyOption } from './config.ts';
import { errorCatalogue } from './errors.ts';
import { defineJobs } from './jobs.ts';
import { type IdentityService, identityModule } from './modules/identity/index.ts';
import { type LedgerService, ledgerModule } from './modules/ledger/index.ts';
import { type NotificationsRuntime, notificationsModule } from './modules/notifications/index.ts';
import { type SettingsService, settingsModule } from './modules/settings/index.ts';
import { type TransactionsService, transactionsModule } from './modules/transactions/index.ts';
import { type WalletsService, walletsModule } from './modules/wallets/index.ts';
import { composeSystem } from './modules.ts';
import { API_VERSION, documentOperation, WEBSOCKET_DESCRIPTION } from './platform/api-contract.ts';
import type { Dependencies } from './platform/dependencies.ts';
import { type ErrorContractRecorder, registerErrorContract } from './platform/error-contract.ts';
import { commonErrors, ErrorBody, frameworkErrors, registerErrorHandling } from './platform/errors.ts';
import { healthRoutes } from './platform/health.ts';
import { registerIdempotency } from './platform/idempotency.ts';
import { loggerOptions } from './platform/logging.ts';
import { registerMetrics } from './platform/metrics.ts';
import type { ModuleSystem } from './platform/modules.ts';
import { rateLimitStore } from './platform/rate-limit.ts';
import { compileValidator, registerJsonParser } from './platform/validation.ts';

export interface BuildOptions {
  /** Tests: every error answer is checked against its route's declared codes (src/api-errors.ts). */
  errorContract?: ErrorContractRecorder;
  /** Where logs go (tests capture them); default stdout. */
  logStream?: DestinationStream;
  logLevel?: string;
  /** The modules the process's jobs were defined with (main.ts); composed here otherwise (and closed with the app). */
  system?: ModuleSystem;
}

export interface Application {
  app: FastifyInstance;
  /** Every module's API. */
  system: ModuleSystem;
  identity: IdentityService;
  settings: SettingsService;
  notifications: NotificationsRuntime;
  ledger: LedgerService;
  wallets: WalletsService;
  transactions: TransactionsService;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const ERROR_STATUSES = [400, 401, 403, 404, 409, 422, 429, 500, 503];

export { API_VERSION };

export function documentRoute(route: RouteOptions): void {
  const access = route.config?.access;
  if (route.url.startsWith('/docs') || (route.method === 'OPTIONS' && route.url === '*')) {
    route.config = { ...route.config, access: { public: true } };
    route.schema = { ...route.schema, hide: true };
    return;
  }
  if (!access)
    throw new Error(`route ${route.method} ${route.url} declares no access (permission or public)`);
  route.schema ??= {};
  const schema = route.schema;
  schema.response ??= {};
  const response = schema.response as Record<string, unknown>;
  // Any method that may carry a body can meet a body too large (413) or of a type no parser takes (415).
  const statuses = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(String(route.method))
    ? [...ERROR_STATUSES, 413, 415]
    : ERROR_STATUSES;
  for (const status of statuses) response[status] ??= { $ref: 'ErrorBody#' };
  // The document shows a completed copy of the schema (headers, multipart body, named responses, examples).
  // The codes it may answer beyond the generic ones: declared on the route (`config.errors`, how modules declare
  // theirs) or, for the older routes, by operationId in src/api-errors.ts. A route declaring neither may answer the
  // generic codes only (the error contract fails a test whose route answers anything else).
  route.config = {
    ...route.config,
    errors: route.config?.errors ?? API_ERRORS[String(schema.operationId)] ?? [],
    swaggerTransform: ({ route: documented, ...document }) => ({
      schema: documentOperation(
        documented,
        { examples: API_EXAMPLES, errors: errorCatalogue() },
        'openapiObject' in document ? document.openapiObject : undefined,
      ),
      url: documented.url,
    }),
  };
  const documented = schema as Record<string, unknown>;
  documented.security = 'public' in access ? [] : [{ bearerAuth: [] }];
  if (!('public' in access)) {
    const requirement =
      'permission' in access
        ? `Requires \`${access.permission}\`${access.allowCustomer ? ' (customers: own resources)' : ''}.`
        : 'Any signed-in principal.';
    // onRoute runs again for the HEAD route Fastify adds beside each GET, on the same schema object.
    if (!String(documented.description ?? '').endsWith(requirement)) {
      documented.description = [documented.description, requirement].filter(Boolean).join('\n\n');
    }
  }
}

/**
 * The access log: one line per request when it completes — method, URL (sensitive query values redacted by the
 * serializer), client address, status, time and request id — instead of fastify's two (arrival and completion):
 * the second line cost a tenth of a balance read's CPU in the benchmark profile. A request that never completes
 * still shows in the metrics and, when it fails, in the error log. The line's fields are all ours (serialized
 * request, status, time), so it skips the redaction pass over secret paths that every other log line gets (another
 * tenth of a balance read); a failed request's line keeps it, since it carries the error.
 */
class AccessLog extends LogController {
  #plain: FastifyBaseLogger | null = null;

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    const entry = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) {
      reply.log.error({ ...entry, err: error }, 'request errored');
      return;
    }
    // The route's own level decides (health probes log at warn only).
    if (!(reply.log as unknown as { isLevelEnabled(level: string): boolean }).isLevelEnabled('info')) return;
    this.#plain ??= request.server.log.child({}, { redact: [] });
    this.#plain.info({ reqId: request.id, ...entry }, 'request completed');
  }
}

/**
 * `/docs` and `/openapi.json` as API_DOCS says: public; staff (a staff bearer token: the access guard authenticates,
 * customers are refused); or off (not served at all; `npm run openapi:write` still generates the document).
 */
async function registerApiDocs(app: FastifyInstance, mode: 'public' | 'staff' | 'off'): Promise<void> {
  if (mode === 'off') return;
  const access = mode === 'public' ? ({ public: true } as const) : ({ authenticated: true } as const);
  await app.register(async (docs) => {
    // Runs after documentRoute, which marks every /docs route public: here the mode decides.
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, access };
    });
    if (mode === 'staff') {
      docs.addHook('preHandler', async (request) => {
        if (request.principal?.type !== 'user')
          throw commonErrors.forbidden('The API documentation is for staff');
      });
    }
    await docs.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
    docs.get(
      '/openapi.json',
      {
        config: { access },
        schema: { operationId: 'getOpenApi', tags: ['docs'], summary: 'This OpenAPI document', hide: true },
      },
      async () => app.swagger(),
    );
  });
}

export async function buildApp(deps: Dependencies, options: BuildOptions = {}): Promise<Application> {
  const { config } = deps;
  errorCatalogue(); // a code declared by two catalogues stops start-up here, naming both modules
  const app = Fastify({
    logger: loggerOptions(options.logLevel ?? config.LOG_LEVEL, options.logStream),
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: {} },
    return503OnClosing: true,
    logController: new AccessLog(),
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(({ schema, httpPart }) => compileValidator(schema, httpPart));
  registerJsonParser(app);
  app.addSchema(ErrorBody);
  registerErrorHandling(app);
  app.addHook('onRoute', documentRoute);
  if (options.errorContract) registerErrorContract(app, options.errorContract);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    hsts: config.PRODUCTION ? { maxAge: 31536000, includeSubDomains: true } : false,
  });
  await app.register(cors, {
    origin: config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : false,
    credentials: true,
    exposedHeaders: ['x-request-id', 'retry-after'],
  });
  await app.register(rateLimit, {
    global: true,
    max: config.RATE_LIMIT_MAX,
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    store: rateLimitStore(deps.store, 'rl:'),
    errorResponseBuilder: (_request, context) =>
      commonErrors.tooManyRequests(Math.max(1, Math.ceil(context.ttl / 1000))),
    allowList: (request) => request.url.startsWith('/health/') || request.url === '/metrics',
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'CodeForge Suite API',
        version: API_VERSION,
        description:
          'Digital-banking and mobile-money platform. Errors always use the standard body ' +
          '`{status_code, error_code, message, details, request_id}`. Amounts are integers in minor units.' +
          WEBSOCKET_DESCRIPTION,
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? `def-${index}`),
    },
  });

  const metrics = registerMetrics(app, deps);
  const system = options.system ?? (await composeSystem(deps));
  if (!options.system) {
    app.addHook('onClose', async () => system.close());
    // The API enqueues the modules' jobs (a notification's delivery), so they are defined here too when the process
    // did not define them with this system (tests, the OpenAPI generator); schedules run only where the worker runs.
    await defineJobs(deps, system);
  }
  // Guards see every request: registered on the root instance before any route.
  for (const module of system.ordered) await module.guards?.(system.api(module), app, system.context(module));
  registerIdempotency(app, deps.idempotency);

  const checks = Object.assign(
    {},
    ...system.collect((m, api, ctx) => m.health?.(api, ctx)).map((c) => c.value),
  );
  await app.register(healthRoutes(deps, metrics, checks));
  // Each module's routes, in dependency order, under a named plugin that declares its dependencies (fastify-plugin):
  // a module mounted before what it depends on fails at start-up.
  for (const module of system.ordered) {
    const api = system.api(module);
    const routes = module.routes?.(api, system.context(module)) ?? [];
    const plugins = Array.isArray(routes) ? routes : [routes as FastifyPluginAsync];
    await app.register(
      fp(
        async (instance) => {
          for (const plugin of plugins) await instance.register(plugin);
        },
        { name: module.name, dependencies: [...module.dependsOn] },
      ),
    );
  }

  await registerApiDocs(app, apiDocsMode(config));
  return {
    app,
    system,
    identity: system.api(identityModule),
    settings: system.api(settingsModule),
    ledger: system.api(ledgerModule),
    wallets: system.api(walletsModule),
    transactions: system.api(transactionsModule).service,
    notifications: system.api(notificationsModule),
  };
}
