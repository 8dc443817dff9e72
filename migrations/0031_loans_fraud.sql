-- Why: application-fraud checks for loans (issue 16). Each rule is configurable (on/off, weight, parameters); every
-- check is stored with the applicant's identifiers at that moment and each rule's evidence, so an investigation sees
-- why an application was flagged. A flag at or above the product's threshold waits for an investigation case
-- (assignee, notes, decision); a confirmed case declines the application and may deny-list its identifiers.
CREATE TABLE "loan_fraud_rules" (
  "code" text PRIMARY KEY NOT NULL,
  "description" text NOT NULL,
  "enabled" boolean DEFAULT true NOT NULL,
  "weight" integer NOT NULL,
  "params" jsonb DEFAULT '{}'::jsonb NOT NULL,
  "updated_by_id" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_fraud_rules_weight_range" CHECK ("weight" between 0 and 1000)
);--> statement-breakpoint
CREATE TABLE "loan_fraud_checks" (
  "id" uuid PRIMARY KEY NOT NULL,
  "application_id" uuid NOT NULL,
  "customer_id" uuid NOT NULL,
  "score" integer NOT NULL,
  "threshold" integer NOT NULL,
  "flagged" boolean NOT NULL,
  "flag_id" uuid,
  -- The applicant's identifiers when checked: later checks find duplicates and shared identifiers through them.
  "national_id_index" text,
  "phone" text,
  "device_id" text,
  "actor_type" text NOT NULL,
  "actor_id" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
CREATE INDEX "loan_fraud_checks_application_idx" ON "loan_fraud_checks" USING btree ("application_id","created_at");--> statement-breakpoint
CREATE INDEX "loan_fraud_checks_national_id_idx" ON "loan_fraud_checks" USING btree ("national_id_index") WHERE "national_id_index" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "loan_fraud_checks_phone_idx" ON "loan_fraud_checks" USING btree ("phone","created_at") WHERE "phone" IS NOT NULL;--> statement-breakpoint
CREATE TABLE "loan_fraud_results" (
  "check_id" uuid NOT NULL,
  "rule_code" text NOT NULL,
  "tripped" boolean NOT NULL,
  "weight" integer NOT NULL,
  "score" integer NOT NULL,
  "evidence" jsonb NOT NULL,
  CONSTRAINT "loan_fraud_results_pkey" PRIMARY KEY ("check_id", "rule_code")
);--> statement-breakpoint
CREATE TABLE "loan_fraud_flags" (
  "id" uuid PRIMARY KEY NOT NULL,
  "application_id" uuid NOT NULL,
  "check_id" uuid NOT NULL,
  "score" integer NOT NULL,
  "threshold" integer NOT NULL,
  "status" text NOT NULL,
  "decision_reason" text,
  "decided_by_id" text,
  "decided_at" timestamp with time zone,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_fraud_flags_status_check" CHECK ("status" in ('open', 'investigating', 'cleared', 'confirmed'))
);--> statement-breakpoint
-- One undecided flag per application: a re-check while one is open adds no second flag.
CREATE UNIQUE INDEX "loan_fraud_flags_open_key" ON "loan_fraud_flags" USING btree ("application_id") WHERE "status" in ('open', 'investigating');--> statement-breakpoint
CREATE INDEX "loan_fraud_flags_status_idx" ON "loan_fraud_flags" USING btree ("status","id");--> statement-breakpoint
CREATE TABLE "loan_fraud_cases" (
  "id" uuid PRIMARY KEY NOT NULL,
  "flag_id" uuid NOT NULL,
  "assignee_id" text NOT NULL,
  "opened_by_id" text NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
CREATE UNIQUE INDEX "loan_fraud_cases_flag_key" ON "loan_fraud_cases" USING btree ("flag_id");--> statement-breakpoint
CREATE TABLE "loan_fraud_notes" (
  "id" uuid PRIMARY KEY NOT NULL,
  "flag_id" uuid NOT NULL,
  "author_type" text NOT NULL,
  "author_id" text,
  "note" text NOT NULL,
  "evidence" jsonb,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
CREATE INDEX "loan_fraud_notes_flag_idx" ON "loan_fraud_notes" USING btree ("flag_id","created_at");--> statement-breakpoint
CREATE TABLE "loan_deny_list" (
  "id" uuid PRIMARY KEY NOT NULL,
  "kind" text NOT NULL,
  "value" text NOT NULL,
  "reason" text NOT NULL,
  "case_id" uuid,
  "added_by_id" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_deny_list_kind_check" CHECK ("kind" in ('national_id_index', 'phone', 'device'))
);--> statement-breakpoint
CREATE UNIQUE INDEX "loan_deny_list_value_key" ON "loan_deny_list" USING btree ("kind","value");
