/**
 * The AML scenario tests' harness: an app, the scenario service with the seeded default rules (read without a cache)
 * and a small real AlertSink writing one `aml_alerts` row per dedupe key (the cases area's grouping is not under test
 * there), facts written straight into `aml_payment_facts`, and the alerts of a pattern and subject.
 */
import { and, eq, isNull } from 'drizzle-orm';
import { type PaymentFact, PaymentFacts } from '../../src/modules/aml/aml.facts.ts';
import type { AlertSink } from '../../src/modules/aml/aml.ports.ts';
import {
  type ScenarioCode,
  ScenarioRules,
  seedScenarioRules,
} from '../../src/modules/aml/aml.scenarios.rules.ts';
import { ScenarioService } from '../../src/modules/aml/aml.scenarios.ts';
import { amlAlerts, amlPaymentFacts } from '../../src/modules/aml/aml.tables.ts';
import { settingsModule } from '../../src/modules/settings/index.ts';
import { type Executor, inTransaction } from '../../src/platform/db.ts';
import { uuidv7 } from '../../src/platform/ids.ts';
import { startTestApp, type TestContext } from './app.ts';

export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

/** A minimal real sink: one aml_alerts row per dedupe key (no case grouping). */
export const alertRowsSink: AlertSink = {
  async raise(tx, alert) {
    const [row] = await tx
      .insert(amlAlerts)
      .values({
        id: uuidv7(),
        customerId: alert.customerId ?? null,
        agentId: alert.agentId ?? null,
        source: alert.source,
        pattern: alert.pattern,
        ruleVersion: alert.ruleVersion ?? null,
        priority: alert.priority,
        evidence: alert.evidence,
        dedupeKey: alert.dedupeKey ?? null,
      })
      .onConflictDoNothing()
      .returning({ id: amlAlerts.id });
    return row ? { alertId: row.id, caseId: row.id } : null;
  },
};

export interface ScenarioHarness {
  t: TestContext;
  db: Executor;
  service: ScenarioService;
  rules: ScenarioRules;
  /** `minutesAgo` before the harness was made. */
  at(minutesAgo: number): Date;
  fact(values: Partial<PaymentFact> & { amountMinor: bigint }): Promise<PaymentFact>;
  run(row: PaymentFact, code: ScenarioCode): ReturnType<ScenarioService['run']>;
  alertsOf(
    pattern: string,
    subject: { customerId?: string; agentId?: string },
  ): Promise<(typeof amlAlerts.$inferSelect)[]>;
}

export async function scenarioHarness(): Promise<ScenarioHarness> {
  const t = await startTestApp();
  const db = t.deps.database.db;
  await seedScenarioRules(db);
  const rules = new ScenarioRules(db, 0);
  const service = new ScenarioService({
    facts: new PaymentFacts(),
    rules,
    alerts: alertRowsSink,
    settings: t.application.system.api(settingsModule),
  });
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * MINUTE);
  return {
    t,
    db,
    service,
    rules,
    at,
    async fact(values) {
      const [row] = await db
        .insert(amlPaymentFacts)
        .values({
          transactionId: uuidv7(),
          type: 'p2p',
          channel: 'app',
          currency: 'KES',
          occurredAt: at(0),
          ...values,
        })
        .returning();
      return row!;
    },
    run: (row, code) => inTransaction(db, (tx) => service.run(tx, row, code)),
    alertsOf: (pattern, subject) =>
      db
        .select()
        .from(amlAlerts)
        .where(
          and(
            eq(amlAlerts.pattern, pattern),
            subject.customerId ? eq(amlAlerts.customerId, subject.customerId) : isNull(amlAlerts.customerId),
            subject.agentId ? eq(amlAlerts.agentId, subject.agentId) : undefined,
          ),
        ),
  };
}
