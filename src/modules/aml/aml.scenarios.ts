/**
 * Runs the post-posting typologies on each completed payment, in the event's dispatch transaction, after its fact
 * is written. Each scenario rule's current version gives its params and mode: `active` raises an alert through the
 * cases area's AlertSink (source `scenario`, pattern = the rule's code, the rule's version and priority); `test`
 * raises nothing and only records the trip in `aml_scenario_hits` (what it would have raised); `disabled` is
 * skipped. Every trip is keyed (`scenario:<code>:<subject>:<anchor>`), so a redelivered event, or the next payment
 * of the same episode, raises nothing twice.
 */
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import type { DomainEvent } from '../../platform/events.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { SettingsService } from '../settings/index.ts';
import type { transactionCompleted } from '../transactions/index.ts';
import type { PaymentFact, PaymentFacts } from './aml.facts.ts';
import type { AlertSink } from './aml.ports.ts';
import type { ScenarioCode, ScenarioRule, ScenarioRules } from './aml.scenarios.rules.ts';
import { type ScenarioEnv, type Trip, TYPOLOGIES } from './aml.scenarios.typologies.ts';
import { amlScenarioHits } from './aml.tables.ts';

export interface ScenarioOutcome {
  code: ScenarioCode;
  mode: 'active' | 'test';
  dedupeKey: string;
  /** The alert raised (active mode, first time); null in test mode or when the alert sink had it already. */
  alertId: string | null;
}

export class ScenarioService {
  readonly #facts: PaymentFacts;
  readonly #rules: ScenarioRules;
  readonly #alerts: AlertSink;
  readonly #settings: Pick<SettingsService, 'get'>;

  constructor(options: {
    facts: PaymentFacts;
    rules: ScenarioRules;
    alerts: AlertSink;
    settings: Pick<SettingsService, 'get'>;
  }) {
    this.#facts = options.facts;
    this.#rules = options.rules;
    this.#alerts = options.alerts;
    this.#settings = options.settings;
  }

  get rules(): ScenarioRules {
    return this.#rules;
  }

  /** The `transaction.completed` handler: the fact, then every scenario on it. */
  async onCompleted(
    tx: Executor,
    event: DomainEvent<typeof transactionCompleted>,
  ): Promise<ScenarioOutcome[]> {
    const { fact } = await this.#facts.record(tx, event);
    return this.run(tx, fact);
  }

  /** Every scenario that is not disabled, on one fact (already written). Returns the new trips. */
  async run(tx: Executor, fact: PaymentFact, only?: ScenarioCode): Promise<ScenarioOutcome[]> {
    const env: ScenarioEnv = { ctrThreshold: await this.#settings.get('aml.ctr_threshold_minor') };
    const outcomes: ScenarioOutcome[] = [];
    for (const rule of await this.#rules.current()) {
      if (rule.mode === 'disabled' || (only && rule.code !== only)) continue;
      const typology = TYPOLOGIES[rule.code] as (
        tx: Executor,
        fact: PaymentFact,
        params: ScenarioRule['params'],
        env: ScenarioEnv,
      ) => Promise<Trip[]>;
      for (const trip of await typology(tx, fact, rule.params, env)) {
        const outcome = await this.#record(tx, rule, fact, trip);
        if (outcome) outcomes.push(outcome);
      }
    }
    return outcomes;
  }

  async #record(
    tx: Executor,
    rule: ScenarioRule,
    fact: PaymentFact,
    trip: Trip,
  ): Promise<ScenarioOutcome | null> {
    const mode = rule.mode === 'active' ? 'active' : 'test';
    const subject = trip.customerId ?? trip.agentId ?? 'none';
    const dedupeKey = `scenario:${rule.code}:${subject}:${trip.anchor}`;
    const evidence = { transaction_ids: trip.transactionIds, fields: trip.fields };
    const [hit] = await tx
      .insert(amlScenarioHits)
      .values({
        id: uuidv7(),
        code: rule.code,
        ruleVersion: rule.version,
        mode,
        customerId: trip.customerId,
        agentId: trip.agentId,
        transactionId: fact.transactionId,
        // A trip recorded in test mode does not keep the same episode from alerting once the rule is active.
        dedupeKey: mode === 'active' ? dedupeKey : `${dedupeKey}:test`,
        evidence,
      })
      .onConflictDoNothing()
      .returning({ id: amlScenarioHits.id });
    if (!hit) return null;
    if (mode === 'test') return { code: rule.code, mode, dedupeKey, alertId: null };
    const raised = await this.#alerts.raise(tx, {
      source: 'scenario',
      pattern: rule.code,
      ruleVersion: rule.version,
      priority: rule.priority,
      customerId: trip.customerId,
      agentId: trip.agentId,
      evidence,
      dedupeKey,
    });
    if (raised)
      await tx.update(amlScenarioHits).set({ alertId: raised.alertId }).where(eq(amlScenarioHits.id, hit.id));
    return { code: rule.code, mode, dedupeKey, alertId: raised?.alertId ?? null };
  }
}
