/**
 * How the realtime area plugs into the AML module (index.ts): the rule store, the aggregates, the payment screen set
 * on the payment engine, held payments, their routes, the review SLA job, the "under review" message and the seed.
 */
import { systemContext } from '../../platform/audit.ts';
import { on, type Subscription } from '../../platform/events.ts';
import type { Principal } from '../../platform/http.ts';
import type { ModuleContext, ScheduledTask, SeedContext } from '../../platform/modules.ts';
import { customersModule } from '../customers/index.ts';
import { notificationsModule } from '../notifications/index.ts';
import { settingsModule } from '../settings/index.ts';
import { transactionHeld, transactionsModule } from '../transactions/index.ts';
import { aggregateStoreFor, rebuild } from './aml.aggregates.rebuild.ts';
import type { AggregateStore } from './aml.aggregates.ts';
import { AmlScreen, type CustomerFactsReader } from './aml.decisions.ts';
import type { AlertSink, RiskReader } from './aml.ports.ts';
import { HeldPayments } from './aml.realtime.held.ts';
import { heldRoutes, rulesRoutes } from './aml.realtime.routes.ts';
import type { CustomerFacts } from './aml.rules.evaluate.ts';
import { DEFAULT_REALTIME_RULES } from './aml.rules.seed.ts';
import { AmlRules, seedRules } from './aml.rules.service.ts';

export interface Realtime {
  rules: AmlRules;
  aggregates: AggregateStore;
  screen: AmlScreen;
  held: HeldPayments;
  /** Rebuilds the aggregates from `aml_payment_facts` (all customers, or one). */
  rebuild(customerId?: string): Promise<{ facts: number; customers: number }>;
  close(): Promise<void>;
}

const CUSTOMER_CACHE_MS = 60_000;
const CUSTOMER_CACHE_SIZE = 10_000;

/** The customer's tier and creation date through the customers module, cached per process for a minute. */
function customerFacts(ctx: ModuleContext): CustomerFactsReader {
  const customers = ctx.use(customersModule).customers;
  // An internal reader: no PII is asked for (includePii false), so no permission is needed or audited.
  const reader = {
    type: 'user',
    id: '00000000-0000-0000-0000-000000000000',
    sessionId: '',
    tokenId: '',
    tokenExpiresAt: 0,
    permissions: new Set<string>(),
    roles: [],
    passwordChangeRequired: false,
    mfaEnrollmentRequired: false,
    channel: 'api',
  } satisfies Principal;
  const cache = new Map<string, { at: number; facts: CustomerFacts | null }>();
  return async (customerId) => {
    const hit = cache.get(customerId);
    if (hit && Date.now() - hit.at < CUSTOMER_CACHE_MS) return hit.facts;
    const view = await customers.get(customerId, reader, false, systemContext()).catch(() => null);
    const facts = view ? { tier: view.kyc_tier, createdAt: new Date(view.created_at) } : null;
    if (cache.size >= CUSTOMER_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(customerId, { at: Date.now(), facts });
    return facts;
  };
}

export function buildRealtime(
  ctx: ModuleContext,
  ports: { alerts: AlertSink; risk: RiskReader | null },
): Realtime {
  const db = ctx.deps.database.db;
  const rules = new AmlRules(db, ctx.deps.store);
  const aggregates = aggregateStoreFor(ctx.deps);
  const engine = ctx.use(transactionsModule).service.engine;
  const screen = new AmlScreen({
    db,
    rules,
    aggregates,
    settings: ctx.use(settingsModule),
    alerts: ports.alerts,
    risk: ports.risk,
    customers: customerFacts(ctx),
  });
  engine.setPaymentScreen(screen);
  const held = new HeldPayments({
    db,
    engine,
    alerts: ports.alerts,
    notifications: ctx.use(notificationsModule).service,
  });
  return {
    rules,
    aggregates,
    screen,
    held,
    rebuild: (customerId) => rebuild(db, aggregates, customerId),
    close: async () => {
      await screen.close();
      await rules.close();
    },
  };
}

export function realtimeRoutes(realtime: Realtime) {
  return [rulesRoutes(realtime.rules), heldRoutes(realtime.held)];
}

/** Every 5 minutes: a `review_sla` alert for each held payment past its review SLA (once each). */
export function realtimeJobs(realtime: Realtime): ScheduledTask[] {
  return [{ name: 'aml.review-sla', schedule: '*/5 * * * *', run: () => realtime.held.alertOverdue() }];
}

/** The payer of a held payment is told it is under review (no rule named). */
export function realtimeSubscriptions(realtime: Realtime): Subscription[] {
  return [on(transactionHeld, (tx, event) => realtime.held.notifyHeld(tx, event))];
}

export async function seedRealtime({ deps }: SeedContext): Promise<void> {
  await seedRules(deps.database.db, DEFAULT_REALTIME_RULES);
}
