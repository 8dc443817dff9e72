/**
 * The payment engine's PaymentScreen: the AML real-time decision on every payment, before it posts.
 *
 * decide(): reads what the current rules need in parallel (the aggregates in ONE Redis round trip; the customer's
 * tier and age and the risk rating from per-process caches) and evaluates the realtime rules held in memory.
 * - Rules in `test` mode are evaluated and recorded in `fired` with mode `test`; they never act.
 * - The strongest active action wins: block > review > alert. `alert` allows the payment and raises an alert.
 * - Block: an alert (the rule's priority); the engine answers TRANSACTION_BLOCKED (no rule named).
 * - Review: `review_due_at` = now + aml.review_sla_hours, and an alert; the engine holds the payment.
 * - Every decision is recorded in `aml_decisions` with the rules that fired (code, version, mode, action, what they
 *   saw) and `duration_us`. Blocks, reviews and alerts are written at once with their alerts (one transaction);
 *   plain allows are buffered and written in batches (every 200 ms or 500 rows, and on close), so the hot path of
 *   an allowed payment pays no database round trip.
 * - aml.realtime_enabled false: allow without evaluating (nothing recorded). A payment with no customer on either
 *   side (agent float, settlement and house accounts) is allowed unscreened too.
 *
 * Redis unavailable (the aggregates cannot be read): a bank would rather hold than wave through, but holding every
 * payment during a Redis outage would stop the business. The rules that do not need aggregates still decide; rules
 * that need them cannot fire; then a payment the rules would allow is held for review at or above
 * aml.realtime_degraded_review_minor of its currency and allowed below it. The decision records
 * `aggregates_unavailable`, and the payment is still counted when Redis is back only through a rebuild.
 *
 * recorded(): after the payment committed or was held, adds it to the aggregates (fire and forget, never throws).
 * A held payment counts at once and stays counted if it is later rejected: velocity measures attempts. A blocked
 * payment is not counted (the engine does not call recorded for it).
 */

import { type Executor, inTransaction } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { SettingsService } from '../settings/index.ts';
import type { PaymentScreen, ScreenDecision, ScreenInput } from '../transactions/index.ts';
import type { AggregateRead, AggregateStore } from './aml.aggregates.ts';
import { type DecisionInsert, insertDecisions } from './aml.decisions.repository.ts';
import type { AlertSink, RiskReader } from './aml.ports.ts';
import {
  type CustomerFacts,
  type EvaluationInput,
  evaluate,
  needsOf,
  type PaymentFacts,
  type RuleNeeds,
} from './aml.rules.evaluate.ts';
import type { RuleRow } from './aml.rules.repository.ts';
import type { AmlRules } from './aml.rules.service.ts';
import type { RealtimeDefinition } from './aml.rules.ts';
import type { DecisionOutcome, FiredRule, RuleAction } from './aml.tables.ts';

const FLUSH_MS = 200;
const FLUSH_ROWS = 500;
/** Rows kept while the database is unavailable; the oldest are dropped beyond it. */
const BUFFER_CAP = 20_000;
const STRENGTH: Record<RuleAction, number> = { alert: 1, review: 2, block: 3 };

/** Reads a customer's KYC tier and creation date (cached by the caller). */
export type CustomerFactsReader = (customerId: string) => Promise<CustomerFacts | null>;

export interface ScreenOptions {
  db: Executor;
  rules: AmlRules;
  aggregates: AggregateStore;
  settings: SettingsService;
  alerts: AlertSink;
  risk: RiskReader | null;
  customers: CustomerFactsReader;
  /** Epoch milliseconds (tests move it). */
  clock?: () => number;
}

const text = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : null;
const country = (value: unknown): string | null => {
  const code = text(value)?.toUpperCase() ?? null;
  return code && /^[A-Z]{2}$/.test(code) ? code : null;
};

/** The payment as the rules see it (aml.aggregates.rebuild.ts `factToPayment` maps a fact the same way). */
export function paymentFacts(input: ScreenInput, at: number): PaymentFacts {
  const { plan, wallets } = input;
  const source = plan.source.kind === 'wallet' ? plan.source.walletId : null;
  const destination = plan.destination.kind === 'wallet' ? plan.destination.walletId : null;
  const payer = source ? wallets.get(source) : undefined;
  const payee = destination ? wallets.get(destination) : undefined;
  const metadata = plan.metadata ?? {};
  return {
    transactionId: input.transactionId,
    reference: input.reference,
    type: plan.type,
    channel: plan.channel,
    amount: plan.amount,
    currency: plan.currency,
    customerId:
      payer?.customerId ??
      (source ? undefined : payee?.customerId) ??
      (plan.initiator.type === 'customer' ? plan.initiator.id : null),
    walletId: source ?? destination,
    deviceId: text(metadata.device_id),
    agentId: text(metadata.agent_id),
    counterparty: source ? destination : null,
    destinationCountry: country(metadata.destination_country),
    sourceCountry: country(metadata.source_country),
    at,
  };
}

interface Compiled {
  rules: readonly RuleRow[];
  definitions: RealtimeDefinition[];
  /** What all the rules read (the aggregates are read at once for all). */
  needs: RuleNeeds;
  /** What each rule reads (the customer and the rating are read only for a rule still undecided without them). */
  perRule: RuleNeeds[];
}

export class AmlScreen implements PaymentScreen {
  readonly #options: ScreenOptions;
  readonly #clock: () => number;
  #compiled: Compiled | null = null;
  #buffer: DecisionInsert[] = [];
  #flushing: Promise<void> | null = null;
  readonly #adding = new Set<Promise<void>>();
  readonly #timer: NodeJS.Timeout;

  constructor(options: ScreenOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  #compile(rules: readonly RuleRow[]): Compiled {
    if (this.#compiled?.rules !== rules) {
      const definitions = rules.map((rule) => rule.definition as unknown as RealtimeDefinition);
      this.#compiled = {
        rules,
        definitions,
        needs: needsOf(definitions),
        perRule: definitions.map((definition) => needsOf([definition])),
      };
    }
    return this.#compiled;
  }

  async decide(input: ScreenInput): Promise<ScreenDecision> {
    const started = process.hrtime.bigint();
    const { settings } = this.#options;
    if (!(await settings.get('aml.realtime_enabled'))) return { outcome: 'allow' };
    const now = this.#clock();
    const payment = paymentFacts(input, now);
    // The real-time rules screen customers' payments: a movement with no customer on either side (an agent's float,
    // a settlement or house account) is allowed unscreened; the post-posting scenarios watch agents.
    if (payment.customerId === null) return { outcome: 'allow' };
    const { rules, definitions, needs, perRule } = this.#compile(
      await this.#options.rules.current('realtime'),
    );
    const customerId = payment.customerId;
    const aggregates =
      needs.windows.length > 0 || needs.counterpartyNew
        ? await this.#options.aggregates
            .read(payment, { windows: needs.windows, counterpartyNew: needs.counterpartyNew })
            .catch((): AggregateRead | null => null)
        : ({ values: new Map(), counterpartyNew: null } satisfies AggregateRead);
    const evaluation: EvaluationInput = {
      payment,
      customer: null,
      risk: null,
      aggregates: aggregates?.values ?? null,
      counterpartyNew: aggregates?.counterpartyNew ?? null,
      now,
    };
    // The customer's profile and risk rating are read only for a rule that nothing else already ruled out (a small
    // payment never waits for them when the only rule reading the rating also needs a large amount).
    let results = definitions.map((definition) => evaluate(definition, evaluation));
    const waiting = rules.map(
      (_, index) => results[index]!.unknown && (perRule[index]!.customer || perRule[index]!.risk),
    );
    if (customerId && waiting.some(Boolean)) {
      const wantCustomer = perRule.some((needs, index) => waiting[index] && needs.customer);
      const wantRisk = perRule.some((needs, index) => waiting[index] && needs.risk);
      const [customer, rating] = await Promise.all([
        wantCustomer ? this.#options.customers(customerId).catch(() => null) : null,
        wantRisk && this.#options.risk ? this.#options.risk.ratingOf(customerId).catch(() => null) : null,
      ]);
      evaluation.customer = customer;
      evaluation.risk = rating
        ? { band: rating.band, pep: rating.pep }
        : wantRisk
          ? { band: 'low', pep: false }
          : null;
      results = results.map((result, index) =>
        waiting[index] ? evaluate(definitions[index]!, evaluation) : result,
      );
    }
    const fired: FiredRule[] = [];
    let strongest: RuleAction | null = null;
    rules.forEach((rule, index) => {
      const result = results[index]!;
      if (!result.fired) return;
      fired.push({
        code: rule.code,
        version: rule.version,
        mode: rule.mode,
        action: rule.action,
        detail: result.detail,
      });
      if (rule.mode === 'active' && (strongest === null || STRENGTH[rule.action] > STRENGTH[strongest]))
        strongest = rule.action;
    });
    let outcome: DecisionOutcome =
      strongest === 'block' ? 'block' : strongest === 'review' ? 'review' : 'allow';
    const unavailable = aggregates === null;
    if (unavailable && outcome === 'allow') {
      const threshold = (await settings.get('aml.realtime_degraded_review_minor'))[payment.currency];
      if (threshold !== undefined && payment.amount >= BigInt(threshold)) outcome = 'review';
    }
    const durationUs = Number((process.hrtime.bigint() - started) / 1000n);
    const reviewDueAt =
      outcome === 'review' ? new Date(now + (await settings.get('aml.review_sla_hours')) * 3_600_000) : null;
    const row: DecisionInsert = {
      id: uuidv7(now),
      transactionId: payment.transactionId,
      reference: payment.reference,
      customerId,
      type: payment.type,
      channel: payment.channel,
      amountMinor: payment.amount,
      currency: payment.currency,
      outcome,
      fired,
      reviewDueAt,
      durationUs: Math.min(durationUs, 2_147_483_647),
      aggregatesUnavailable: unavailable,
      createdAt: new Date(now),
    };
    const acting = fired.filter((rule) => rule.mode === 'active');
    if (outcome === 'allow' && acting.length === 0) this.#enqueue(row);
    else await this.#recordWithAlerts(row, acting, payment);
    return { outcome };
  }

  /** A decision that acts (or the degraded policy's review): recorded at once with one alert per active rule. */
  async #recordWithAlerts(row: DecisionInsert, acting: FiredRule[], payment: PaymentFacts): Promise<void> {
    const priorities = (rule: FiredRule) => this.#compiled?.rules.find((r) => r.code === rule.code)?.priority;
    // An alert belongs to a customer or an agent: a payment between house accounts is recorded without one.
    const alertable = payment.customerId !== null || payment.agentId !== null;
    await inTransaction(this.#options.db, async (tx) => {
      await insertDecisions(tx, [row]);
      if (!alertable) return;
      const evidence = (fields: Record<string, unknown>) => ({
        transaction_ids: [payment.transactionId],
        fields: {
          ...fields,
          amount_minor: payment.amount.toString(),
          currency: payment.currency,
          type: payment.type,
          channel: payment.channel,
          outcome: row.outcome,
        },
      });
      for (const rule of acting)
        await this.#options.alerts.raise(tx, {
          source: 'rule',
          pattern: rule.code,
          ruleVersion: rule.version,
          priority: priorities(rule) ?? 'medium',
          customerId: payment.customerId,
          agentId: payment.agentId,
          evidence: evidence(rule.detail ?? {}),
          dedupeKey: `realtime:${payment.transactionId}:${rule.code}`,
        });
      if (acting.length === 0 && row.aggregatesUnavailable)
        await this.#options.alerts.raise(tx, {
          source: 'rule',
          pattern: 'aggregates_unavailable',
          priority: 'medium',
          customerId: payment.customerId,
          agentId: payment.agentId,
          evidence: evidence({ aggregates_unavailable: true }),
          dedupeKey: `realtime:${payment.transactionId}:aggregates_unavailable`,
        });
    });
  }

  #enqueue(row: DecisionInsert): void {
    this.#buffer.push(row);
    if (this.#buffer.length > BUFFER_CAP) this.#buffer.splice(0, this.#buffer.length - BUFFER_CAP);
    if (this.#buffer.length >= FLUSH_ROWS) void this.flush();
  }

  /** Writes the buffered allows (one statement per 500 rows); kept for the next try when the database fails. */
  async flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    if (this.#buffer.length === 0) return;
    this.#flushing = (async () => {
      while (this.#buffer.length > 0) {
        const batch = this.#buffer.slice(0, FLUSH_ROWS);
        try {
          await insertDecisions(this.#options.db, batch);
        } catch {
          return;
        }
        this.#buffer.splice(0, batch.length);
      }
    })().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  recorded(input: ScreenInput, _outcome: 'completed' | 'held'): void {
    const adding = this.#options.aggregates.add(paymentFacts(input, this.#clock())).catch(() => {});
    this.#adding.add(adding);
    void adding.finally(() => this.#adding.delete(adding));
  }

  /** Resolves when every payment recorded so far is in the aggregates and every buffered decision is written. */
  async idle(): Promise<void> {
    await Promise.all([...this.#adding]);
    await this.flush();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.idle();
  }
}
