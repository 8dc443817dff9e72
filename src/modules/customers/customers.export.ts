/**
 * The data-protection export: everything held about one customer, section by section. Each table that refers to a
 * customer (a `customer_id`-like column, a foreign key to customers, or a polymorphic `<x>_type`/`<x>_id` pair) is
 * either read here or named in NOT_EXPORTED with the reason; customers.export.test.ts reads the database catalogue and
 * fails when a table appears that is in neither, so a new module cannot forget its customers' data.
 *
 * It is a read model across modules, one statement: each row as JSON (`to_jsonb`, column names as stored), minus
 * the columns that are secrets or keys (PIN and token hashes, sealed values, wrapped data keys), which are never
 * exported. Amounts come out as integers in minor units.
 */
import { type SQL, sql } from 'drizzle-orm';
import { type Static, type TSchema, Type } from 'typebox';
import type { Executor } from '../../platform/db.ts';
import { CustomerExport } from './customers.schemas.ts';

interface Section {
  /** The table read (one section may read two: a conversation holds its messages). */
  tables: string[];
  /** One object (or null) instead of a list. */
  single?: true;
  query: (customerId: string) => SQL;
}

/** Rows of `table` as JSON without the `omit` columns, oldest first. */
function rows(table: string, where: SQL, omit: string[] = [], extra?: SQL): SQL {
  const value = sql.raw(`to_jsonb(t)${omit.map((column) => ` - '${column}'`).join('')}`);
  const withExtra = extra ? sql`${value} || ${extra}` : value;
  return sql`(select coalesce(jsonb_agg(${withExtra} order by t.created_at, t.id), '[]'::jsonb) from ${sql.raw(table)} t where ${where})`;
}

function one(table: string, where: SQL, omit: string[] = []): SQL {
  const value = sql.raw(`to_jsonb(t)${omit.map((column) => ` - '${column}'`).join('')}`);
  return sql`(select ${value} from ${sql.raw(table)} t where ${where} limit 1)`;
}

const asCustomer = (id: string, kind: string) =>
  sql.raw(`t.${kind}_type = 'customer' and t.${kind}_id::text = `).append(sql`${id}`);

/**
 * Section → what it reads. The customer's own row, phones, emails, addresses and audit trail are exported by
 * CustomersService.export itself (the tables listed in EXPORTED_BY_SERVICE).
 */
export const EXPORT_SECTIONS = {
  credentials: {
    tables: ['customer_credentials'],
    single: true,
    query: (id) => one('customer_credentials', sql`t.customer_id = ${id}`, ['pin_hash']),
  },
  consents: {
    // Marketing consent per channel, language, time zone and quiet hours.
    tables: ['notification_preferences'],
    single: true,
    query: (id) => one('notification_preferences', asCustomer(id, 'principal')),
  },
  wallets: { tables: ['wallets'], query: (id) => rows('wallets', sql`t.customer_id = ${id}`) },
  transactions: {
    tables: ['transactions'],
    // Their own payments, and those they received; not a payer's refused attempts towards them (those are the
    // payer's: they would tell the payee the payer's balance was short).
    query: (id) =>
      rows(
        'transactions',
        sql`t.customer_id = ${id} or (t.counterparty_customer_id = ${id} and t.status <> 'failed')`,
        [],
        sql`jsonb_build_object('role', case when t.customer_id = ${id} then 'payer' else 'payee' end)`,
      ),
  },
  disputes: { tables: ['disputes'], query: (id) => rows('disputes', sql`t.customer_id = ${id}`) },
  documents: {
    // Metadata only: the file stays encrypted at rest and is fetched through the documents API.
    tables: ['documents'],
    query: (id) => rows('documents', sql`t.customer_id = ${id}`, ['wrapped_key']),
  },
  kyc_applications: {
    tables: ['kyc_applications'],
    query: (id) => rows('kyc_applications', sql`t.customer_id = ${id}`),
  },
  linked_bank_accounts: {
    tables: ['linked_bank_accounts'],
    query: (id) =>
      rows('linked_bank_accounts', sql`t.customer_id = ${id}`, [
        'account_number_sealed',
        'account_number_index',
        'micro_deposit_hash',
      ]),
  },
  merchants: { tables: ['merchants'], query: (id) => rows('merchants', sql`t.owner_customer_id = ${id}`) },
  notifications: {
    tables: ['notifications'],
    // The stored copy, with codes and links masked; the sealed secrets are dropped once sent.
    query: (id) => rows('notifications', asCustomer(id, 'recipient'), ['secrets_sealed']),
  },
  support_conversations: {
    tables: ['support_conversations', 'support_chat_messages'],
    query: (id) =>
      rows(
        'support_conversations',
        sql`t.customer_id = ${id}`,
        [],
        sql`jsonb_build_object('messages', (select coalesce(jsonb_agg(to_jsonb(m) order by m.created_at, m.id), '[]'::jsonb) from support_chat_messages m where m.conversation_id = t.id))`,
      ),
  },
  devices: {
    tables: ['registered_devices'],
    query: (id) => rows('registered_devices', asCustomer(id, 'principal'), ['push_token']),
  },
  sessions: {
    tables: ['refresh_tokens'],
    query: (id) => rows('refresh_tokens', asCustomer(id, 'principal'), ['token_hash']),
  },
  mfa_factors: {
    tables: ['mfa_factors'],
    query: (id) => rows('mfa_factors', asCustomer(id, 'principal'), ['secret_sealed', 'last_used_step']),
  },
  security_questions: {
    tables: ['security_answers'],
    query: (id) => rows('security_answers', asCustomer(id, 'principal'), ['answer_hash']),
  },
  recovery_codes: {
    tables: ['recovery_codes'],
    query: (id) => rows('recovery_codes', asCustomer(id, 'principal'), ['code_hash']),
  },
  push_challenges: {
    tables: ['push_challenges'],
    query: (id) => rows('push_challenges', asCustomer(id, 'principal'), ['nonce']),
  },
  approval_requests: {
    // Four-eyes requests about this customer (KYC decisions, status changes, …).
    tables: ['approval_requests'],
    query: (id) => rows('approval_requests', asCustomer(id, 'entity')),
  },
  loan_applications: {
    // Their applications with the decision and the reasons given; not the internal fraud score (see NOT_EXPORTED).
    tables: ['loan_applications'],
    query: (id) => rows('loan_applications', sql`t.customer_id = ${id}`, ['fraud_score']),
  },
  loans: {
    // Each loan with its schedule and its money movements.
    tables: ['loans', 'loan_instalments', 'loan_transactions'],
    query: (id) =>
      rows(
        'loans',
        sql`t.customer_id = ${id}`,
        [],
        sql`jsonb_build_object(
          'instalments', (select coalesce(jsonb_agg(to_jsonb(i) order by i.seq), '[]'::jsonb) from loan_instalments i where i.loan_id = t.id),
          'transactions', (select coalesce(jsonb_agg(to_jsonb(x) order by x.created_at, x.id), '[]'::jsonb) from loan_transactions x where x.loan_id = t.id))`,
      ),
  },
  loan_scoring_results: {
    // Credit decisions about them: the scorecard's factors and reasons, and what the bureau answered.
    tables: ['loan_scoring_results'],
    query: (id) => rows('loan_scoring_results', sql`t.customer_id = ${id}`),
  },
  loan_collection_cases: {
    tables: ['loan_collection_cases'],
    query: (id) => rows('loan_collection_cases', sql`t.customer_id = ${id}`),
  },
  registrations: {
    // The mobile registration that made them a customer; the token, PIN hash and sealed copies are never exported.
    tables: ['registrations'],
    query: (id) =>
      rows('registrations', sql`t.customer_id = ${id}`, [
        'token_hash',
        'declared_sealed',
        'national_id_index',
        'identity_sealed',
        'email_sealed',
        'pin_hash',
        // A device identifier, as registered_devices omits its push token.
        'device_push_token',
      ]),
  },
  ussd_profiles: {
    // Whether their USSD channel is on, its language, and who last switched it and why.
    tables: ['ussd_profiles'],
    query: (id) =>
      sql`(select coalesce(jsonb_agg(to_jsonb(t)), '[]'::jsonb) from ussd_profiles t where t.customer_id = ${id})`,
  },
  agents_owned: {
    // The agent businesses they own (the agent network): business details, status, limits.
    tables: ['agents'],
    query: (id) => rows('agents', sql`t.owner_customer_id = ${id}`),
  },
  agent_withdrawal_codes: {
    // Their one-time withdrawal codes at agents: agent, amount, status, expiry; never the code's hash.
    tables: ['agent_withdrawal_codes'],
    query: (id) => rows('agent_withdrawal_codes', sql`t.customer_id = ${id}`, ['code_hash']),
  },
  agent_cash_out_requests: {
    // Cash-outs an agent's teller asked them to approve, and what became of each.
    tables: ['agent_cash_out_requests'],
    query: (id) => rows('agent_cash_out_requests', sql`t.customer_id = ${id}`),
  },
} satisfies Record<string, Section>;

/** Tables CustomersService.export reads itself (the customer's row, contacts, audit trail). */
export const EXPORTED_BY_SERVICE = [
  'customers',
  'customer_phones',
  'customer_emails',
  'customer_addresses',
  'audit_log',
] as const;

/** Tables that refer to customers but are not exported, each with the reason. */
export const NOT_EXPORTED: Record<string, string> = {
  // A delivery queue, not a record: each event is purged OUTBOX_RETENTION_DAYS after dispatch, and what it carried
  // is exported as the transaction, notification or KYC application it produced.
  outbox_events: 'transient delivery queue; its effects are exported where they landed',
  // Fraud-prevention records: disclosing the rules that tripped and the evidence would defeat them. The
  // application's decision and its reasons are exported (loan_applications).
  loan_fraud_checks:
    'fraud-prevention check of an application; withheld under the fraud-prevention exemption',
  loan_fraud_notes: 'investigators’ notes on a fraud case; withheld under the fraud-prevention exemption',
  // Its actor is staff or the system, never a customer.
  loan_cob_runs: 'a close-of-business run, triggered by staff or the system; holds no customer data',
  // The agent network's own records about money that is exported under transactions.
  agent_cash_movements:
    'a copy of the customer’s agent cash-ins and cash-outs for agent performance; the transactions are exported',
  agent_commissions:
    'an agent’s commission on a transaction (its transaction_type/transaction_id pair names no customer)',
  agent_float_deposits: 'an agent’s float deposit, asked by staff or an agent admin, never by a customer',
  // Anti-money-laundering records: telling the subject what is monitored, suspected or reported is tipping-off,
  // which AML law forbids (the access-request exemption for crime prevention); the payments themselves are exported.
  aml_decisions: 'AML real-time decision on a payment; withheld (tipping-off: AML law forbids disclosing it)',
  aml_payment_facts: 'AML’s copy of the customer’s payments; the transactions themselves are exported',
  aml_risk_ratings: 'AML customer risk rating; withheld (tipping-off: AML law forbids disclosing it)',
  aml_risk_history: 'AML customer risk rating history; withheld (tipping-off: AML law forbids disclosing it)',
  aml_alerts: 'AML alert; withheld (tipping-off: AML law forbids disclosing it)',
  aml_cases: 'AML investigation case; withheld (tipping-off: AML law forbids disclosing it)',
  aml_reports: 'suspicious or currency transaction report to the FIU; disclosing it is a tipping-off offence',
  aml_device_events: 'AML record of new-device sign-ins (the devices are exported under identity)',
  aml_scenario_hits: 'AML typology trips in test mode; withheld (tipping-off: AML law forbids disclosing it)',
};

/** Every section, in one statement. */
export async function customerHeldData(db: Executor, customerId: string): Promise<HeldData> {
  const columns = (Object.entries(EXPORT_SECTIONS) as [string, Section][]).map(
    ([name, section]) => sql`${section.query(customerId)} as ${sql.identifier(name)}`,
  );
  const result = (await db.execute(sql`select ${sql.join(columns, sql`, `)}`)) as unknown as {
    rows: Record<string, unknown>[];
  };
  const row = result.rows[0] ?? {};
  const held: Record<string, unknown> = {};
  for (const [name, section] of Object.entries(EXPORT_SECTIONS) as [string, Section][]) {
    const value = row[name];
    // node-postgres parses jsonb; PGlite may hand back the text.
    const parsed = typeof value === 'string' ? JSON.parse(value) : value;
    held[name] = parsed ?? (section.single ? null : []);
  }
  return held as HeldData;
}

const Rows = Type.Array(Type.Object({}, { additionalProperties: true }));
const MaybeRow = Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]);

/** The sections added to the export's body (columns as stored, snake_case; secrets never included). */
export const HeldDataSections = {
  credentials: MaybeRow,
  consents: MaybeRow,
  wallets: Rows,
  transactions: Rows,
  disputes: Rows,
  documents: Rows,
  kyc_applications: Rows,
  linked_bank_accounts: Rows,
  merchants: Rows,
  notifications: Rows,
  support_conversations: Rows,
  devices: Rows,
  sessions: Rows,
  mfa_factors: Rows,
  security_questions: Rows,
  recovery_codes: Rows,
  push_challenges: Rows,
  approval_requests: Rows,
  loan_applications: Rows,
  loans: Rows,
  loan_scoring_results: Rows,
  loan_collection_cases: Rows,
  registrations: Rows,
  ussd_profiles: Rows,
  agents_owned: Rows,
  agent_withdrawal_codes: Rows,
  agent_cash_out_requests: Rows,
} satisfies Record<keyof typeof EXPORT_SECTIONS, TSchema>;

type HeldData = Static<ReturnType<typeof Type.Object<typeof HeldDataSections>>>;

/** The export's body: the customer and contacts (customers.schemas.ts) plus every section above. */
export const CustomerDataExport = Type.Object({ ...CustomerExport.properties, ...HeldDataSections });
