/**
 * How the scenarios area plugs into the AML module (index.ts): AML's payment facts, the post-posting typologies,
 * their subscriptions (`transaction.completed`, `auth.new_device_login`) and the seed of their default rules.
 *
 * The module has one event consumer (`aml`), and a consumer holds one handler per topic, while several areas
 * handle `transaction.completed` (the facts and scenarios here, the CTR in reports): index.ts passes the areas'
 * subscriptions through `oneHandlerPerTopic`, which runs them one after the other in the event's transaction.
 * Another area may also listen on the facts (`api.scenarios.facts.listen(...)`, called with each fact).
 */
import { type EventHandler, on, type Subscription, type Topic } from '../../platform/events.ts';
import type { ModuleContext, SeedContext } from '../../platform/modules.ts';
import { newDeviceLogin } from '../identity/index.ts';
import { settingsModule } from '../settings/index.ts';
import { transactionCompleted } from '../transactions/index.ts';
import { PaymentFacts } from './aml.facts.ts';
import type { AlertSink } from './aml.ports.ts';
import { ScenarioRules, seedScenarioRules } from './aml.scenarios.rules.ts';
import { ScenarioService } from './aml.scenarios.ts';
import { amlDeviceEvents, amlScenarioHits } from './aml.tables.ts';

export interface ScenariosArea {
  /** AML's record of each completed payment (and of customers' new-device sign-ins). */
  facts: PaymentFacts;
  scenarios: ScenarioService;
}

export function buildScenarios(ctx: ModuleContext, ports: { alerts: AlertSink }): ScenariosArea {
  const facts = new PaymentFacts();
  const scenarios = new ScenarioService({
    facts,
    rules: new ScenarioRules(ctx.deps.database.db),
    alerts: ports.alerts,
    settings: ctx.use(settingsModule),
  });
  return { facts, scenarios };
}

export function scenariosSubscriptions(area: ScenariosArea): Subscription[] {
  return [
    on(transactionCompleted, async (tx, event) => {
      await area.scenarios.onCompleted(tx, event);
    }),
    on(newDeviceLogin, (tx, event) => area.facts.recordNewDevice(tx, event)),
  ];
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
