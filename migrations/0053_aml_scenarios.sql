-- Why: the SIM-swap / new-device typology needs the time a customer signed in from a new device (identity publishes
-- auth.new_device_login; no module publishes a SIM swap), kept in AML's own table keyed by the event so a redelivered
-- event adds nothing; and a scenario in test mode only records what it would have raised, so every trip (active or
-- test) is recorded once per dedupe key in aml_scenario_hits, with the alert it raised when active.
CREATE TABLE aml_device_events (
  id uuid PRIMARY KEY,
  customer_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('new_device', 'sim_swap')),
  detail text NOT NULL DEFAULT '',
  source_event_id bigint NOT NULL,
  occurred_at timestamptz NOT NULL
);--> statement-breakpoint
CREATE UNIQUE INDEX aml_device_events_source ON aml_device_events (source_event_id);--> statement-breakpoint
CREATE INDEX aml_device_events_customer ON aml_device_events (customer_id, occurred_at);--> statement-breakpoint
CREATE TABLE aml_scenario_hits (
  id uuid PRIMARY KEY,
  code text NOT NULL,
  rule_version integer NOT NULL,
  mode text NOT NULL CHECK (mode IN ('active', 'test')),
  customer_id uuid,
  agent_id uuid,
  transaction_id uuid NOT NULL,
  dedupe_key text NOT NULL,
  evidence jsonb NOT NULL,
  alert_id uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);--> statement-breakpoint
CREATE UNIQUE INDEX aml_scenario_hits_dedupe ON aml_scenario_hits (dedupe_key);--> statement-breakpoint
CREATE INDEX aml_scenario_hits_code ON aml_scenario_hits (code, created_at);
