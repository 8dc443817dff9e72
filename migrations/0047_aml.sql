-- Why: the AML module (issue 20). Rules as data with versions and a test mode; one decision per screened payment;
-- AML's own copy of each completed payment's parties (scenarios and aggregate rebuilds read it, not the transactions
-- module's table); sanctions/PEP lists by version with their entries; screenings; customer risk ratings; alerts
-- grouped into cases with an audit trail; goAML STR/CTR reports.
CREATE TABLE aml_rules (
  id uuid PRIMARY KEY,
  code text NOT NULL,
  version integer NOT NULL,
  kind text NOT NULL CHECK (kind IN ('realtime', 'scenario')),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  mode text NOT NULL CHECK (mode IN ('active', 'test', 'disabled')),
  action text NOT NULL CHECK (action IN ('block', 'review', 'alert')),
  priority text NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  definition jsonb NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  superseded_at timestamptz
);--> statement-breakpoint
CREATE UNIQUE INDEX aml_rules_code_version ON aml_rules (code, version);--> statement-breakpoint
CREATE UNIQUE INDEX aml_rules_current ON aml_rules (code) WHERE superseded_at IS NULL;--> statement-breakpoint
CREATE TABLE aml_decisions (
  id uuid PRIMARY KEY,
  transaction_id uuid NOT NULL,
  reference text NOT NULL,
  customer_id uuid,
  type text NOT NULL,
  channel text NOT NULL,
  amount_minor bigint NOT NULL,
  currency char(3) NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('allow', 'review', 'block')),
  fired jsonb NOT NULL DEFAULT '[]',
  resolution text CHECK (resolution IN ('released', 'rejected', 'expired')),
  resolved_by uuid,
  resolved_at timestamptz,
  review_due_at timestamptz,
  duration_us integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);--> statement-breakpoint
CREATE UNIQUE INDEX aml_decisions_transaction ON aml_decisions (transaction_id);--> statement-breakpoint
CREATE INDEX aml_decisions_review ON aml_decisions (review_due_at) WHERE outcome = 'review' AND resolution IS NULL;--> statement-breakpoint
CREATE INDEX aml_decisions_customer ON aml_decisions (customer_id, created_at);--> statement-breakpoint
CREATE TABLE aml_payment_facts (
  transaction_id uuid PRIMARY KEY,
  type text NOT NULL,
  channel text,
  customer_id uuid,
  counterparty_customer_id uuid,
  source_wallet_id uuid,
  destination_wallet_id uuid,
  merchant_id uuid,
  agent_id uuid,
  store_id uuid,
  device_id text,
  amount_minor bigint NOT NULL,
  currency char(3) NOT NULL,
  occurred_at timestamptz NOT NULL
);--> statement-breakpoint
CREATE INDEX aml_payment_facts_customer ON aml_payment_facts (customer_id, occurred_at);--> statement-breakpoint
CREATE INDEX aml_payment_facts_counterparty ON aml_payment_facts (counterparty_customer_id, occurred_at);--> statement-breakpoint
CREATE INDEX aml_payment_facts_agent ON aml_payment_facts (agent_id, occurred_at);--> statement-breakpoint
CREATE TABLE aml_lists (
  id uuid PRIMARY KEY,
  source text NOT NULL CHECK (source IN ('un', 'ofac', 'opensanctions')),
  version integer NOT NULL,
  origin text NOT NULL,
  checksum text NOT NULL,
  entry_count integer NOT NULL,
  added integer NOT NULL DEFAULT 0,
  removed integer NOT NULL DEFAULT 0,
  changed integer NOT NULL DEFAULT 0,
  loaded_at timestamptz NOT NULL DEFAULT now(),
  loaded_by uuid
);--> statement-breakpoint
CREATE UNIQUE INDEX aml_lists_source_version ON aml_lists (source, version);--> statement-breakpoint
CREATE TABLE aml_list_entries (
  id uuid PRIMARY KEY,
  list_id uuid NOT NULL,
  source text NOT NULL,
  external_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('person', 'organization', 'vessel', 'other')),
  name text NOT NULL,
  aliases jsonb NOT NULL DEFAULT '[]',
  birth_dates jsonb NOT NULL DEFAULT '[]',
  nationalities jsonb NOT NULL DEFAULT '[]',
  programs jsonb NOT NULL DEFAULT '[]',
  pep boolean NOT NULL DEFAULT false,
  fingerprint text NOT NULL
);--> statement-breakpoint
CREATE UNIQUE INDEX aml_list_entries_list_external ON aml_list_entries (list_id, external_id);--> statement-breakpoint
CREATE INDEX aml_list_entries_source_external ON aml_list_entries (source, external_id);--> statement-breakpoint
CREATE TABLE aml_screenings (
  id uuid PRIMARY KEY,
  subject_kind text NOT NULL CHECK (subject_kind IN ('onboarding', 'customer', 'beneficiary', 'agent', 'agent_owner')),
  subject_id uuid,
  name text NOT NULL,
  birth_date date,
  nationality text,
  outcome text NOT NULL CHECK (outcome IN ('clear', 'review', 'hit')),
  best_score real NOT NULL DEFAULT 0,
  matches jsonb NOT NULL DEFAULT '[]',
  list_versions jsonb NOT NULL DEFAULT '{}',
  trigger text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);--> statement-breakpoint
CREATE INDEX aml_screenings_subject ON aml_screenings (subject_kind, subject_id, created_at);--> statement-breakpoint
CREATE TABLE aml_risk_ratings (
  customer_id uuid PRIMARY KEY,
  score real NOT NULL,
  band text NOT NULL CHECK (band IN ('low', 'medium', 'high')),
  factors jsonb NOT NULL,
  pep boolean NOT NULL DEFAULT false,
  trigger text NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now()
);--> statement-breakpoint
CREATE TABLE aml_risk_history (
  id uuid PRIMARY KEY,
  customer_id uuid NOT NULL,
  score real NOT NULL,
  band text NOT NULL CHECK (band IN ('low', 'medium', 'high')),
  factors jsonb NOT NULL,
  trigger text NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now()
);--> statement-breakpoint
CREATE INDEX aml_risk_history_customer ON aml_risk_history (customer_id, computed_at);--> statement-breakpoint
CREATE TABLE aml_alerts (
  id uuid PRIMARY KEY,
  customer_id uuid,
  agent_id uuid,
  source text NOT NULL CHECK (source IN ('rule', 'scenario', 'screening', 'risk', 'ctr')),
  pattern text NOT NULL,
  rule_version integer,
  priority text NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  evidence jsonb NOT NULL,
  case_id uuid,
  dedupe_key text,
  created_at timestamptz NOT NULL DEFAULT now()
);--> statement-breakpoint
CREATE INDEX aml_alerts_case ON aml_alerts (case_id);--> statement-breakpoint
CREATE INDEX aml_alerts_customer ON aml_alerts (customer_id, created_at);--> statement-breakpoint
CREATE UNIQUE INDEX aml_alerts_dedupe ON aml_alerts (dedupe_key);--> statement-breakpoint
CREATE TABLE aml_cases (
  id uuid PRIMARY KEY,
  reference text NOT NULL,
  customer_id uuid,
  agent_id uuid,
  pattern text NOT NULL,
  priority text NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  state text NOT NULL CHECK (state IN ('open', 'assigned', 'investigating', 'escalated', 'closed')),
  assignee_id uuid,
  snoozed_until timestamptz,
  decision text CHECK (decision IN ('false_positive', 'monitor', 'restrict', 'file_str')),
  risk_band text CHECK (risk_band IN ('low', 'medium', 'high')),
  due_at timestamptz NOT NULL,
  breached_at timestamptz,
  pending_close_by uuid,
  closed_by uuid,
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);--> statement-breakpoint
CREATE UNIQUE INDEX aml_cases_reference ON aml_cases (reference);--> statement-breakpoint
CREATE UNIQUE INDEX aml_cases_open_per_pattern ON aml_cases (customer_id, pattern) WHERE state <> 'closed';--> statement-breakpoint
CREATE INDEX aml_cases_due ON aml_cases (due_at) WHERE state <> 'closed' AND breached_at IS NULL;--> statement-breakpoint
CREATE TABLE aml_case_events (
  id uuid PRIMARY KEY,
  case_id uuid NOT NULL,
  actor_id uuid,
  action text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  at timestamptz NOT NULL DEFAULT now()
);--> statement-breakpoint
CREATE INDEX aml_case_events_case ON aml_case_events (case_id, at);--> statement-breakpoint
CREATE TABLE aml_reports (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('STR', 'CTR')),
  case_id uuid,
  customer_id uuid,
  transaction_ids jsonb NOT NULL,
  xml text NOT NULL,
  dedupe_key text,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);--> statement-breakpoint
CREATE INDEX aml_reports_case ON aml_reports (case_id);--> statement-breakpoint
CREATE UNIQUE INDEX aml_reports_dedupe ON aml_reports (dedupe_key);
