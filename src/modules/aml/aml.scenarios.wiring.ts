/**
 * How the scenarios area plugs into the AML module (index.ts): AML's payment facts, the post-posting typologies,
 * their subscriptions (`transaction.completed`, `auth.new_device_login`) and the seed of their default rules.
 *
 * The module has one event consumer (`aml`), and a consumer holds one handler per topic: this area owns the
 * `transaction.completed` handler. Another area that needs every completed payment listens on the facts
 * (`api.facts.listen(...)`, called with each fact in the same transaction) instead of subscribing again.
 */
import { on, type Subscription } from '../../platform/events.ts';
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
