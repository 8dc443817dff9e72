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
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type RouteOptions,
} from 'fastify';
import type { DestinationStream } from 'pino';
import { API_ERRORS } from './api-errors.ts';
import { API_EXAMPLES } from './api-examples.ts';
import { apiDocsMode, trustProxyOption } from './config.ts';
import { accessModule } from './modules/access/index.ts';
import { approvalsModule, createApprovals } from './modules/approvals/index.ts';
import { createBanking } from './modules/banking/index.ts';
import { BillPayBody, createBills } from './modules/bills/index.ts';
import { coreModule } from './modules/core/index.ts';
import { customersModule } from './modules/customers/index.ts';
import { createDisputes } from './modules/disputes/index.ts';
import { documentsModule } from './modules/documents/index.ts';
import { healthRoutes } from './modules/health/index.ts';
import {
  createIdentity,
  type IdentityService,
  identityPlugin,
  registerAccessGuard,
} from './modules/identity/index.ts';
import { LedgerService } from './modules/ledger/index.ts';
import { createMerchants, MerchantPayment } from './modules/merchants/index.ts';
import {
  createNotificationsRuntime,
  DELIVER_JOB,
  defineNotificationJobs,
  type NotificationsRuntime,
  notificationsModule,
  storedTimeZone,
} from './modules/notifications/index.ts';
import { createPolicy, policyModule, registerPolicyGuard } from './modules/policy/index.ts';
import { realtimeModule } from './modules/realtime/index.ts';
import { createSettings, type SettingsService, settingsModule } from './modules/settings/index.ts';
import {
  createTransactions,
  paymentDispatchRoutes,
  type TransactionsService,
  TransferBody,
} from './modules/transactions/index.ts';
import { ProductsService, WalletsService, walletRoutes } from './modules/wallets/index.ts';
import { documentOperation, WEBSOCKET_DESCRIPTION } from './platform/api-contract.ts';
import type { Dependencies } from './platform/dependencies.ts';
import { type ErrorContractRecorder, registerErrorContract } from './platform/error-contract.ts';
import { commonErrors, ErrorBody, frameworkErrors, registerErrorHandling } from './platform/errors.ts';
import { IdempotencyService, registerIdempotency } from './platform/idempotency.ts';
import { loggerOptions } from './platform/logging.ts';
import { registerMetrics } from './platform/metrics.ts';
import { rateLimitStore } from './platform/rate-limit.ts';
import { RealtimeHub } from './platform/realtime.ts';
import { compileValidator, registerJsonParser } from './platform/validation.ts';

export interface BuildOptions {
  /** Tests: every error answer is checked against its route's declared codes (src/api-errors.ts). */
  errorContract?: ErrorContractRecorder;
  /** Where logs go (tests capture them); default stdout. */
  logStream?: DestinationStream;
  logLevel?: string;
  /** The notifications runtime the process's jobs were defined with (main.ts); built here otherwise. */
  notifications?: NotificationsRuntime;
}

export interface Application {
  app: FastifyInstance;
  identity: IdentityService;
  settings: SettingsService;
  notifications: NotificationsRuntime;
  ledger: LedgerService;
  wallets: WalletsService;
  transactions: TransactionsService;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const ERROR_STATUSES = [400, 401, 403, 404, 409, 422, 429, 500, 503];
export const API_VERSION = '0.1.0';

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
  // The codes it may answer beyond the generic ones: declared by operationId in src/api-errors.ts.
  route.config = {
    ...route.config,
    errors: route.config?.errors ?? API_ERRORS[String(schema.operationId)],
    swaggerTransform: ({ route: documented, ...document }) => ({
      schema: documentOperation(
        documented,
        { examples: API_EXAMPLES },
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
  const settings = await createSettings(deps);
  const identity = await createIdentity(deps);
  identity.passwordSettings = {
    complexity: () => settings.get('auth.password_complexity'),
    expiryDays: () => settings.get('auth.password_expiry_days'),
    staffMfaRequired: () => settings.get('auth.staff_mfa_required'),
    mfaPolicy: () => settings.get('auth.mfa_policy'),
    institutionName: () => settings.get('institution.name'),
    customerPushLogin: () => settings.get('auth.customer_push_login'),
  };
  registerAccessGuard(app, identity);
  const policy = createPolicy(deps);
  registerPolicyGuard(app, policy);
  registerIdempotency(app, new IdempotencyService(deps.database.db, config.IDEMPOTENCY_TTL_HOURS));

  await app.register(healthRoutes(deps, metrics));
  await identityPlugin(app, identity);
  await app.register(policyModule(policy));
  const approvals = createApprovals(deps, settings);
  await app.register(approvalsModule(approvals, settings));
  await app.register(accessModule(deps, identity, approvals));
  await app.register(coreModule(deps));
  await app.register(customersModule(deps, identity, policy, approvals));
  await app.register(documentsModule(deps));
  await app.register(settingsModule(settings, API_VERSION));
  const ledger = new LedgerService(deps.database.db);
  const wallets = new WalletsService(deps, ledger, new ProductsService(deps.database.db));
  // Receipts and statements: the letterhead from settings, times in the customer's own zone (their preferences).
  wallets.documents.configure({
    settings,
    storedTimeZone: (customerId) => storedTimeZone(deps.database.db, { type: 'customer', id: customerId }),
  });
  // Every currency's house accounts exist (and are cached) before the first payment, so postings never look them up.
  for (const product of await wallets.products.list()) await ledger.ensureHouseAccounts(product.currency);
  await app.register(walletRoutes(wallets));
  const transactions = createTransactions({ deps, identity, wallets, ledger, policy, settings, approvals });
  await app.register(transactions.plugin);
  const payments = {
    deps,
    identity,
    wallets,
    ledger,
    policy,
    settings,
    approvals,
    transactions: transactions.service,
  };
  const merchants = createMerchants(payments);
  const bills = createBills(payments);
  for (const module of [merchants, bills, createBanking(payments), createDisputes(payments)])
    await app.register(module.plugin);
  const notifications =
    options.notifications ?? createNotificationsRuntime(deps, { realtime: new RealtimeHub(deps.store) });
  if (!deps.jobs.names.includes(DELIVER_JOB)) defineNotificationJobs(deps, notifications);
  await app.register(notificationsModule(deps, notifications));
  await app.register(realtimeModule(deps, identity, new RealtimeHub(deps.store)));
  // The spec's single "Process Payment" entry point, over the same use cases as the per-type routes.
  await app.register(
    paymentDispatchRoutes([
      {
        type: 'p2p',
        summary: 'a transfer to a wallet number or phone (as `/wallet/transaction/transfer`)',
        body: TransferBody,
        handle: (principal, body, channel, claim, context) =>
          transactions.service.transfer(principal, body, channel, claim, context),
      },
      {
        type: 'merchant',
        summary: 'a merchant payment by id or QR (as `/wallet/transaction/merchant`)',
        body: MerchantPayment,
        handle: (principal, body, channel, claim, context) =>
          merchants.service.pay(principal, body, channel, claim, context),
      },
      {
        type: 'bill',
        summary: 'a bill payment (as `/wallet/transaction/bill`)',
        body: BillPayBody,
        handle: (principal, body, channel, claim, context) =>
          bills.service.pay(principal, body, channel, claim, context),
      },
    ]),
  );

  await registerApiDocs(app, apiDocsMode(config));
  return { app, identity, settings, ledger, wallets, transactions: transactions.service, notifications };
}
