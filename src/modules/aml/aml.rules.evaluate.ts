/**
 * Evaluates real-time rules (the language of aml.rules.ts) against what is known of one payment: pure functions, no
 * I/O. A condition is true, false or unknown (its data is unavailable); a rule fires only when all are true.
 */
import {
  type AggregateSubject,
  type AggregateWindow,
  type Condition,
  compare,
  type RealtimeDefinition,
} from './aml.rules.ts';
import type { RiskBand } from './aml.tables.ts';

/** The payment as the rules see it (built from the engine's ScreenInput). */
export interface PaymentFacts {
  transactionId: string;
  reference: string;
  type: string;
  channel: string;
  amount: bigint;
  currency: string;
  /** The payer's customer (or the payee's when the money comes from a house account). */
  customerId: string | null;
  /** The source wallet (the payee's wallet when the source is a house account). */
  walletId: string | null;
  deviceId: string | null;
  agentId: string | null;
  /** The other side: `w:<wallet id>` or `a:<ledger account id>`. */
  counterparty: string | null;
  destinationCountry: string | null;
  sourceCountry: string | null;
  /** Epoch milliseconds (the clock the aggregates bucket by). */
  at: number;
}

export interface CustomerFacts {
  tier: string;
  createdAt: Date;
}

/** Count, sum (in the payment's currency) and distinct counterparties of one subject over one window. */
export interface WindowValues {
  count: number;
  sum: bigint;
  distinct: number;
}

export interface EvaluationInput {
  payment: PaymentFacts;
  /** Null: not read (yet), or not found: its conditions are unknown. */
  customer: CustomerFacts | null;
  /** Null: not read (yet); a customer never rated is `low`, not PEP. */
  risk: { band: RiskBand; pep: boolean } | null;
  /** Keyed `subject:window`; null when the aggregates are unavailable. */
  aggregates: ReadonlyMap<string, WindowValues> | null;
  /** Null: unknown (aggregates unavailable or no customer/counterparty). */
  counterpartyNew: boolean | null;
  now: number;
}

type Truth = boolean | null;

export const aggregateKey = (subject: AggregateSubject, window: AggregateWindow) => `${subject}:${window}`;

/** The subject's id in a payment (null: the payment has none, e.g. no device). */
export function subjectId(payment: PaymentFacts, subject: AggregateSubject): string | null {
  switch (subject) {
    case 'customer':
      return payment.customerId;
    case 'wallet':
      return payment.walletId;
    case 'device':
      return payment.deviceId;
    case 'agent':
      return payment.agentId;
    case 'counterparty':
      return payment.counterparty;
  }
}

const DAY_MS = 86_400_000;

function condition(rule: Condition, input: EvaluationInput, detail: Record<string, unknown>): Truth {
  const { payment } = input;
  switch (rule.field) {
    case 'amount': {
      const threshold = rule.values[payment.currency];
      detail.amount_minor = payment.amount.toString();
      return threshold === undefined ? false : compare(payment.amount, rule.op, BigInt(threshold));
    }
    case 'type':
      return rule.in.includes(payment.type);
    case 'channel':
      return rule.in.includes(payment.channel);
    case 'counterparty_new':
      detail.counterparty_new = input.counterpartyNew;
      return input.counterpartyNew === null ? null : input.counterpartyNew === rule.value;
    case 'destination_country':
    case 'source_country': {
      const country =
        rule.field === 'destination_country' ? payment.destinationCountry : payment.sourceCountry;
      if (country === null) return null;
      detail[rule.field] = country;
      return rule.in.includes(country);
    }
    case 'kyc_tier':
      if (!input.customer) return null;
      detail.kyc_tier = input.customer.tier;
      return rule.in.includes(input.customer.tier);
    case 'risk_band':
      if (!input.risk) return null;
      detail.risk_band = input.risk.band;
      return rule.in.includes(input.risk.band);
    case 'account_age_days': {
      if (!input.customer) return null;
      const days = Math.floor((input.now - input.customer.createdAt.getTime()) / DAY_MS);
      detail.account_age_days = days;
      return compare(days, rule.op, rule.value);
    }
    case 'pep':
      if (!input.risk) return null;
      detail.pep = input.risk.pep;
      return input.risk.pep === rule.value;
    case 'aggregate': {
      if (subjectId(payment, rule.subject) === null) return false;
      if (!input.aggregates) return null;
      const values = input.aggregates.get(aggregateKey(rule.subject, rule.window));
      if (!values) return null;
      const name = `${rule.subject}_${rule.measure}_${rule.window}`;
      if (rule.measure === 'sum') {
        const threshold = rule.values[payment.currency];
        detail[name] = values.sum.toString();
        return threshold === undefined ? false : compare(values.sum, rule.op, BigInt(threshold));
      }
      const value = rule.measure === 'count' ? values.count : values.distinct;
      detail[name] = value;
      return compare(value, rule.op, rule.value);
    }
  }
}

export interface Evaluation {
  fired: boolean;
  /** Some condition could not be decided (its data was unavailable). */
  unknown: boolean;
  /** What the conditions saw: the evidence. */
  detail: Record<string, unknown>;
}

export function evaluate(definition: RealtimeDefinition, input: EvaluationInput): Evaluation {
  const detail: Record<string, unknown> = {};
  let unknown = false;
  for (const rule of definition.conditions) {
    const truth = condition(rule, input, detail);
    if (truth === false) return { fired: false, unknown: false, detail };
    if (truth === null) unknown = true;
  }
  return { fired: !unknown, unknown, detail };
}

/** What a set of rules needs read before they can be evaluated (so a payment reads only that). */
export interface RuleNeeds {
  windows: { subject: AggregateSubject; window: AggregateWindow; distinct: boolean }[];
  counterpartyNew: boolean;
  customer: boolean;
  risk: boolean;
}

export function needsOf(definitions: readonly RealtimeDefinition[]): RuleNeeds {
  const windows = new Map<
    string,
    { subject: AggregateSubject; window: AggregateWindow; distinct: boolean }
  >();
  const needs: RuleNeeds = { windows: [], counterpartyNew: false, customer: false, risk: false };
  for (const definition of definitions) {
    for (const rule of definition.conditions) {
      if (rule.field === 'aggregate') {
        const key = aggregateKey(rule.subject, rule.window);
        const distinct = rule.measure === 'distinct_counterparties' || (windows.get(key)?.distinct ?? false);
        windows.set(key, { subject: rule.subject, window: rule.window, distinct });
      } else if (rule.field === 'counterparty_new') needs.counterpartyNew = true;
      else if (rule.field === 'kyc_tier' || rule.field === 'account_age_days') needs.customer = true;
      else if (rule.field === 'risk_band' || rule.field === 'pep') needs.risk = true;
    }
  }
  needs.windows = [...windows.values()];
  return needs;
}
