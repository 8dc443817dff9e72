/**
 * The post-posting typologies, one small function each. Each runs on one new payment fact and queries
 * `aml_payment_facts` over a bounded window ending at the fact (by the customer, counterparty or agent index), and
 * returns what tripped: the subject, the evidence and an `anchor` (the episode: the window's first payment, the
 * device event, the payment itself) that makes the dedupe key, so a redelivered event or the next payment of the
 * same episode raises nothing twice.
 *
 * The customer a fact belongs to (`actor`) is the payer, or for cash paid in (a teller deposit, an agent cash-in,
 * which have no paying customer) the receiver.
 */
import { type SQL, sql } from 'drizzle-orm';
import { type Executor, rawRows } from '../../platform/db.ts';
import type { PaymentFact } from './aml.facts.ts';
import { amountFor, type ParamsOf, type ScenarioCode } from './aml.scenarios.rules.ts';

export interface Trip {
  customerId: string | null;
  agentId: string | null;
  anchor: string;
  transactionIds: string[];
  fields: Record<string, unknown>;
}

export interface ScenarioEnv {
  /** The CTR threshold per currency (setting aml.ctr_threshold_minor). */
  ctrThreshold: Record<string, string>;
}

type Typology<C extends ScenarioCode> = (
  tx: Executor,
  fact: PaymentFact,
  params: ParamsOf<C>,
  env: ScenarioEnv,
) => Promise<Trip[]>;

const HOUR = 3_600_000;
const CASH_OUT_TYPES = ['cash_out', 'cash_withdrawal'];
const AGENT_CASH = ['cash_in', 'cash_out'];
/** At most this many transaction ids go into an alert's evidence. */
const EVIDENCE_IDS = 50;

export const actorOf = (fact: PaymentFact) => fact.customerId ?? fact.counterpartyCustomerId;

const actorIs = (customerId: string) =>
  sql`(customer_id = ${customerId}::uuid or (customer_id is null and counterparty_customer_id = ${customerId}::uuid))`;

/** The window (`hours` back from the fact, the fact included). */
const within = (fact: PaymentFact, hours: number) =>
  sql`occurred_at > ${new Date(fact.occurredAt.getTime() - hours * HOUR).toISOString()}::timestamptz
      and occurred_at <= ${fact.occurredAt.toISOString()}::timestamptz`;

interface WindowRow extends Record<string, unknown> {
  transaction_id: string;
  amount: string;
}

function windowRows(tx: Executor, where: SQL): Promise<WindowRow[]> {
  return rawRows<WindowRow>(
    tx,
    sql`select transaction_id::text, amount_minor::text as amount from aml_payment_facts
        where ${where} order by occurred_at, transaction_id limit 500`,
  );
}

const ids = (rows: { transaction_id: string }[]) =>
  rows.slice(0, EVIDENCE_IDS).map((row) => row.transaction_id);
const total = (rows: WindowRow[]) => rows.reduce((sum, row) => sum + BigInt(row.amount), 0n);

/** Several payments by one customer, each within `below_percent` % under the CTR threshold. */
export const structuring: Typology<'scenario_structuring'> = async (tx, fact, params, env) => {
  const threshold = env.ctrThreshold[fact.currency] ? BigInt(env.ctrThreshold[fact.currency]!) : null;
  const actor = actorOf(fact);
  if (threshold === null || !actor) return [];
  const floor = (threshold * BigInt(100 - Math.min(params.below_percent, 100))) / 100n;
  if (fact.amountMinor < floor || fact.amountMinor >= threshold) return [];
  const rows = await windowRows(
    tx,
    sql`${actorIs(actor)} and currency = ${fact.currency} and amount_minor >= ${floor.toString()}::bigint
        and amount_minor < ${threshold.toString()}::bigint and ${within(fact, params.window_hours)}`,
  );
  if (rows.length < params.min_count) return [];
  return [
    {
      customerId: actor,
      agentId: null,
      anchor: rows[0]!.transaction_id,
      transactionIds: ids(rows),
      fields: {
        count: rows.length,
        threshold_minor: threshold.toString(),
        floor_minor: floor.toString(),
        total_minor: total(rows).toString(),
        currency: fact.currency,
        window_hours: params.window_hours,
      },
    },
  ];
};

/** Money received, then at least `out_percent` % of it paid out within the window. */
export const passThrough: Typology<'scenario_pass_through'> = async (tx, fact, params) => {
  const payer = fact.customerId;
  const minimum = amountFor(params, 'min_in_minor', fact.currency);
  if (!payer || minimum === null) return [];
  const window = within(fact, params.window_hours);
  const incoming = await windowRows(
    tx,
    sql`counterparty_customer_id = ${payer}::uuid and (customer_id is distinct from ${payer}::uuid)
        and currency = ${fact.currency} and ${window}`,
  );
  const received = total(incoming);
  if (incoming.length === 0 || received < minimum) return [];
  const [first] = await rawRows<{ at: string }>(
    tx,
    sql`select occurred_at::text as at from aml_payment_facts where transaction_id = ${incoming[0]!.transaction_id}::uuid`,
  );
  const outgoing = await windowRows(
    tx,
    sql`customer_id = ${payer}::uuid and (counterparty_customer_id is distinct from ${payer}::uuid)
        and currency = ${fact.currency} and ${window} and occurred_at >= ${first!.at}::timestamptz`,
  );
  const paidOut = total(outgoing);
  if (paidOut * 100n < received * BigInt(params.out_percent)) return [];
  return [
    {
      customerId: payer,
      agentId: null,
      anchor: incoming[0]!.transaction_id,
      transactionIds: [...ids(incoming), ...ids(outgoing)],
      fields: {
        in_minor: received.toString(),
        out_minor: paidOut.toString(),
        out_percent: Number((paidOut * 10000n) / received) / 100,
        currency: fact.currency,
        window_hours: params.window_hours,
      },
    },
  ];
};

/** A party with no payment in or out for `dormant_days` days, then one of at least `min_amount_minor`. */
export const dormant: Typology<'scenario_dormant'> = async (tx, fact, params) => {
  const minimum = amountFor(params, 'min_amount_minor', fact.currency);
  if (minimum === null || fact.amountMinor < minimum) return [];
  const parties = [...new Set([fact.customerId, fact.counterpartyCustomerId])].filter(
    (party): party is string => party !== null,
  );
  const trips: Trip[] = [];
  const at = fact.occurredAt.toISOString();
  for (const party of parties) {
    const [row] = await rawRows<{ last: string | null }>(
      tx,
      sql`select greatest(
            (select max(occurred_at) from aml_payment_facts
              where customer_id = ${party}::uuid and occurred_at < ${at}::timestamptz),
            (select max(occurred_at) from aml_payment_facts
              where counterparty_customer_id = ${party}::uuid and occurred_at < ${at}::timestamptz)
          )::text as last`,
    );
    if (!row?.last) continue; // no earlier payment: a new customer, not a dormant one
    const idleDays = (fact.occurredAt.getTime() - new Date(row.last).getTime()) / (24 * HOUR);
    if (idleDays < params.dormant_days) continue;
    trips.push({
      customerId: party,
      agentId: null,
      anchor: fact.transactionId,
      transactionIds: [fact.transactionId],
      fields: {
        last_activity_at: new Date(row.last).toISOString(),
        idle_days: Math.floor(idleDays),
        amount_minor: fact.amountMinor.toString(),
        currency: fact.currency,
      },
    });
  }
  return trips;
};

/** At least `min_payers` distinct customers paying one customer within the window. */
export const fanIn: Typology<'scenario_fan_in'> = async (tx, fact, params) => {
  const receiver = fact.counterpartyCustomerId;
  if (!receiver || !fact.customerId) return [];
  const rows = await rawRows<{ transaction_id: string; payer: string }>(
    tx,
    sql`select transaction_id::text, customer_id::text as payer from aml_payment_facts
        where counterparty_customer_id = ${receiver}::uuid and customer_id is not null
          and customer_id <> ${receiver}::uuid and ${within(fact, params.window_hours)}
        order by occurred_at, transaction_id limit 500`,
  );
  const payers = new Set(rows.map((row) => row.payer));
  if (payers.size < params.min_payers) return [];
  return [
    {
      customerId: receiver,
      agentId: null,
      anchor: rows[0]!.transaction_id,
      transactionIds: ids(rows),
      fields: { distinct_payers: payers.size, payments: rows.length, window_hours: params.window_hours },
    },
  ];
};

/** One customer paying at least `min_payees` distinct customers within the window. */
export const fanOut: Typology<'scenario_fan_out'> = async (tx, fact, params) => {
  const payer = fact.customerId;
  if (!payer || !fact.counterpartyCustomerId) return [];
  const rows = await rawRows<{ transaction_id: string; payee: string }>(
    tx,
    sql`select transaction_id::text, counterparty_customer_id::text as payee from aml_payment_facts
        where customer_id = ${payer}::uuid and counterparty_customer_id is not null
          and counterparty_customer_id <> ${payer}::uuid and ${within(fact, params.window_hours)}
        order by occurred_at, transaction_id limit 500`,
  );
  const payees = new Set(rows.map((row) => row.payee));
  if (payees.size < params.min_payees) return [];
  return [
    {
      customerId: payer,
      agentId: null,
      anchor: rows[0]!.transaction_id,
      transactionIds: ids(rows),
      fields: { distinct_payees: payees.size, payments: rows.length, window_hours: params.window_hours },
    },
  ];
};

/** At least `min_count` payments by one customer, each a multiple of `unit_minor` and at least `min_amount_minor`. */
export const roundAmounts: Typology<'scenario_round_amounts'> = async (tx, fact, params) => {
  const unit = amountFor(params, 'unit_minor', fact.currency);
  const minimum = amountFor(params, 'min_amount_minor', fact.currency);
  const actor = actorOf(fact);
  if (!actor || unit === null || unit <= 0n || minimum === null) return [];
  if (fact.amountMinor < minimum || fact.amountMinor % unit !== 0n) return [];
  const rows = await windowRows(
    tx,
    sql`${actorIs(actor)} and currency = ${fact.currency} and amount_minor >= ${minimum.toString()}::bigint
        and amount_minor % ${unit.toString()}::bigint = 0 and ${within(fact, params.window_hours)}`,
  );
  if (rows.length < params.min_count) return [];
  return [
    {
      customerId: actor,
      agentId: null,
      anchor: rows[0]!.transaction_id,
      transactionIds: ids(rows),
      fields: {
        count: rows.length,
        unit_minor: unit.toString(),
        total_minor: total(rows).toString(),
        currency: fact.currency,
        window_hours: params.window_hours,
      },
    },
  ];
};

/** The payment is one the new-device typology looks at: a cash-out or a transfer at or above its amounts. */
export function newDeviceCashOutApplies(
  fact: Pick<PaymentFact, 'customerId' | 'type' | 'amountMinor' | 'currency'>,
  params: ParamsOf<'scenario_new_device_cash_out'>,
): boolean {
  if (!fact.customerId) return false;
  const cashOut = amountFor(params, 'min_cash_out_minor', fact.currency);
  const large = amountFor(params, 'large_transfer_minor', fact.currency);
  const isCashOut = CASH_OUT_TYPES.includes(fact.type) && cashOut !== null && fact.amountMinor >= cashOut;
  const isLarge = large !== null && fact.amountMinor >= large;
  return isCashOut || isLarge;
}

/**
 * A cash-out or a large transfer within the window after a new-device sign-in or a SIM swap. A SIM swap in the
 * window outranks a new device (it is the stronger signal, and often learnt later, from the operator): the alert is
 * anchored on it, so a swap learnt after a new-device alert still raises its own. `signals` lists every kind seen.
 */
export const newDeviceCashOut: Typology<'scenario_new_device_cash_out'> = async (tx, fact, params) => {
  const payer = fact.customerId;
  if (!payer || !newDeviceCashOutApplies(fact, params)) return [];
  const events = await rawRows<{ id: string; kind: string; detail: string; at: string }>(
    tx,
    sql`select id::text, kind, detail, occurred_at::text as at from aml_device_events
        where customer_id = ${payer}::uuid and ${within(fact, params.window_hours)}
        order by (kind = 'sim_swap') desc, occurred_at desc limit 50`,
  );
  const device = events[0];
  if (!device) return [];
  return [
    {
      customerId: payer,
      agentId: fact.agentId,
      anchor: device.id,
      transactionIds: [fact.transactionId],
      fields: {
        device_event: device.kind,
        signals: [...new Set(events.map((event) => event.kind))].sort(),
        device: device.detail,
        device_event_at: new Date(device.at).toISOString(),
        payment_type: fact.type,
        amount_minor: fact.amountMinor.toString(),
        currency: fact.currency,
        window_hours: params.window_hours,
      },
    },
  ];
};

/** One customer's agent cash spread over at least `min_locations` agents or stores, in total `min_total_minor`. */
export const agentStructuring: Typology<'scenario_agent_structuring'> = async (tx, fact, params) => {
  const actor = actorOf(fact);
  const minimum = amountFor(params, 'min_total_minor', fact.currency);
  if (!fact.agentId || !AGENT_CASH.includes(fact.type) || !actor || minimum === null) return [];
  const rows = await rawRows<WindowRow & { agent: string; store: string | null }>(
    tx,
    sql`select transaction_id::text, amount_minor::text as amount, agent_id::text as agent, store_id::text as store
        from aml_payment_facts
        where ${actorIs(actor)} and agent_id is not null and type in ('cash_in', 'cash_out')
          and currency = ${fact.currency} and ${within(fact, params.window_hours)}
        order by occurred_at, transaction_id limit 500`,
  );
  const agents = new Set(rows.map((row) => row.agent));
  const stores = new Set(rows.map((row) => row.store ?? row.agent));
  const sum = total(rows);
  if (Math.max(agents.size, stores.size) < params.min_locations || sum < minimum) return [];
  return [
    {
      customerId: actor,
      agentId: null,
      anchor: rows[0]!.transaction_id,
      transactionIds: ids(rows),
      fields: {
        agents: [...agents],
        stores: [...stores],
        total_minor: sum.toString(),
        currency: fact.currency,
        window_hours: params.window_hours,
      },
    },
  ];
};

/** At one agent, customers cashing in and out repeatedly: at least `min_pairs` in/out pairs in the window. */
export const floatCycling: Typology<'scenario_agent_float_cycling'> = async (tx, fact, params) => {
  const agent = fact.agentId;
  if (!agent || !AGENT_CASH.includes(fact.type)) return [];
  const rows = await rawRows<{ transaction_id: string; customer: string; type: string }>(
    tx,
    sql`select transaction_id::text, coalesce(customer_id, counterparty_customer_id)::text as customer, type
        from aml_payment_facts
        where agent_id = ${agent}::uuid and type in ('cash_in', 'cash_out') and ${within(fact, params.window_hours)}
        order by occurred_at, transaction_id limit 1000`,
  );
  const perCustomer = new Map<string, { ins: number; outs: number }>();
  for (const row of rows) {
    if (!row.customer) continue;
    const counts = perCustomer.get(row.customer) ?? { ins: 0, outs: 0 };
    if (row.type === 'cash_in') counts.ins += 1;
    else counts.outs += 1;
    perCustomer.set(row.customer, counts);
  }
  const cycling = [...perCustomer.entries()].filter(([, counts]) => counts.ins > 0 && counts.outs > 0);
  const pairs = cycling.reduce((sum, [, counts]) => sum + Math.min(counts.ins, counts.outs), 0);
  if (pairs < params.min_pairs) return [];
  const customers = new Set(cycling.map(([customer]) => customer));
  const evidence = rows.filter((row) => customers.has(row.customer));
  return [
    {
      customerId: null,
      agentId: agent,
      anchor: evidence[0]!.transaction_id,
      transactionIds: ids(evidence),
      fields: {
        pairs,
        customers: cycling.map(([customer, counts]) => ({ customer_id: customer, ...counts })),
        window_hours: params.window_hours,
      },
    },
  ];
};

/** Each scenario code's function. */
export const TYPOLOGIES: { [C in ScenarioCode]: Typology<C> } = {
  scenario_structuring: structuring,
  scenario_pass_through: passThrough,
  scenario_dormant: dormant,
  scenario_fan_in: fanIn,
  scenario_fan_out: fanOut,
  scenario_round_amounts: roundAmounts,
  scenario_new_device_cash_out: newDeviceCashOut,
  scenario_agent_structuring: agentStructuring,
  scenario_agent_float_cycling: floatCycling,
};
