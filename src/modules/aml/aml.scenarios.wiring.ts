/**
 * How the scenarios area plugs into the AML module (index.ts): AML's payment facts, the post-posting typologies,
 * their subscriptions (`transaction.completed`, `auth.new_device_login`) and the seed of their default rules.
 *
 * The module has one event consumer (`aml`), and a consumer holds one handler per topic, while several areas
 * handle `transaction.completed` (the facts and scenarios here, the CTR in reports): index.ts passes the areas'
 * subscriptions through `oneHandlerPerTopic`, which runs them one after the other in the event's transaction.
 * Another area may also listen on the facts (`api.scenarios.facts.listen(...)`, called with each fact).
 * The SIM-swap source (aml.simswap.ts) rides on the same two subscriptions: it queues its job after them.
 */
import { type EventHandler, on, type Subscription, type Topic } from '../../platform/events.ts';
import type { HealthCheck, ModuleContext, ModuleJob, SeedContext } from '../../platform/modules.ts';
import { newDeviceLogin } from '../identity/index.ts';
import { settingsModule } from '../settings/index.ts';
import { transactionCompleted } from '../transactions/index.ts';
import { PaymentFacts } from './aml.facts.ts';
import type { AlertSink } from './aml.ports.ts';
import { ScenarioRules, seedScenarioRules } from './aml.scenarios.rules.ts';
import { ScenarioService } from './aml.scenarios.ts';
import {
  type SimSwapConfigValues,
  SimSwapWatch,
  simSwapHealth,
  simSwapJobs,
  simSwapSourceFrom,
} from './aml.simswap.ts';
import { amlDeviceEvents, amlScenarioHits } from './aml.tables.ts';

export interface ScenariosArea {
  /** AML's record of each completed payment (and of customers' new-device sign-ins). */
  facts: PaymentFacts;
  scenarios: ScenarioService;
  /** The SIM-swap source (CAMARA SIM Swap API), when SIM_SWAP_API_ROOT is set. */
  simSwap: SimSwapWatch;
}

export function buildScenarios(ctx: ModuleContext, ports: { alerts: AlertSink }): ScenariosArea {
  const facts = new PaymentFacts();
  const rules = new ScenarioRules(ctx.deps.database.db);
  const settings = ctx.use(settingsModule);
  const scenarios = new ScenarioService({ facts, rules, alerts: ports.alerts, settings });
  const simSwap = new SimSwapWatch({
    db: ctx.deps.database.db,
    jobs: ctx.deps.jobs,
    source: simSwapSourceFrom(ctx.config as unknown as SimSwapConfigValues),
    settings,
    facts,
    rules,
    scenarios,
  });
  return { facts, scenarios, simSwap };
}

export function scenariosSubscriptions(area: ScenariosArea): Subscription[] {
  return [
    on(transactionCompleted, async (tx, event) => {
      await area.scenarios.onCompleted(tx, event);
      await area.simSwap.afterPayment(tx, event.payload.transaction_id);
    }),
    on(newDeviceLogin, async (tx, event) => {
      await area.facts.recordNewDevice(tx, event);
      await area.simSwap.afterNewDevice(tx, event);
    }),
  ];
}

/** The SIM-swap job (defined whether or not a source is configured: nothing queues it without one). */
export function scenariosJobs(area: ScenariosArea): ModuleJob[] {
  return simSwapJobs(area.simSwap);
}

/** `aml.sim_swap`: not critical (payments never wait for it); `not_configured` without a source. */
export function scenariosHealth(area: ScenariosArea): Record<string, HealthCheck> {
  return simSwapHealth(area.simSwap);
}

/** The default scenario rules, version 1 of each code that has none. */
export function seedScenarios(ctx: SeedContext): Promise<void> {
  return seedScenarioRules(ctx.deps.database.db);
}

/** The area's own tables (index.ts `tables`). */
export const scenariosTables = { amlDeviceEvents, amlScenarioHits };

/**
 * The areas' subscriptions with one handler per topic (the event bus refuses a consumer subscribing to a topic
 * twice): handlers of the same topic run in the order given, in the event's transaction; each is idempotent, so a
 * failure in one retries the event for all of them harmlessly.
 */
export function oneHandlerPerTopic(subscriptions: readonly Subscription[]): Subscription[] {
  const byTopic = new Map<Topic, EventHandler[]>();
  for (const subscription of subscriptions) {
    const handlers = byTopic.get(subscription.topic) ?? [];
    handlers.push(subscription.handler);
    byTopic.set(subscription.topic, handlers);
  }
  return [...byTopic].map(([topic, handlers]) => ({
    topic,
    handler:
      handlers.length === 1
        ? handlers[0]!
        : async (tx, event) => {
            for (const handler of handlers) await handler(tx, event);
          },
  }));
}
