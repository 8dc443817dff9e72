-- Why: the loans module (issue 16). Products are versioned (a loan keeps the terms it was approved with); each
-- loan has its own ledger accounts; instalments carry what is due and paid per part so allocation is exact; every
-- money movement is a loan transaction keyed by a dedupe key so replays and reruns have one effect.
CREATE TABLE "loan_products" (
  "id" uuid PRIMARY KEY NOT NULL,
  "code" text NOT NULL,
  "name" text NOT NULL,
  "currency" text NOT NULL,
  "status" text NOT NULL,
  "current_version" integer NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_products_status_check" CHECK ("status" in ('active', 'retired'))
);--> statement-breakpoint
CREATE UNIQUE INDEX "loan_products_code_key" ON "loan_products" USING btree ("code");--> statement-breakpoint
CREATE TABLE "loan_product_versions" (
  "product_id" uuid NOT NULL,
  "version" integer NOT NULL,
  "terms" jsonb NOT NULL,
  "created_by_id" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_product_versions_pkey" PRIMARY KEY ("product_id", "version")
);--> statement-breakpoint
CREATE TABLE "loan_applications" (
  "id" uuid PRIMARY KEY NOT NULL,
  "number" text NOT NULL,
  "customer_id" uuid NOT NULL,
  "product_id" uuid NOT NULL,
  "product_version" integer NOT NULL,
  "amount_minor" bigint NOT NULL,
  "currency" text NOT NULL,
  "term" integer NOT NULL,
  "purpose" text NOT NULL,
  "declared_monthly_income_minor" bigint NOT NULL,
  "status" text NOT NULL,
  "channel" text NOT NULL,
  "device_id" text,
  "document_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
  "fraud_score" integer,
  "scoring_result_id" uuid,
  "decision" text,
  "recommended_limit_minor" bigint,
  "decline_reasons" jsonb,
  "submitted_by_type" text NOT NULL,
  "submitted_by_id" text NOT NULL,
  "decided_by_id" text,
  "decided_at" timestamp with time zone,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_applications_amount_positive" CHECK ("amount_minor" > 0),
  CONSTRAINT "loan_applications_term_positive" CHECK ("term" > 0),
  CONSTRAINT "loan_applications_income_nonnegative" CHECK ("declared_monthly_income_minor" >= 0),
  CONSTRAINT "loan_applications_status_check" CHECK ("status" in ('submitted', 'flagged', 'referred', 'approved', 'declined', 'withdrawn')),
  CONSTRAINT "loan_applications_decision_check" CHECK ("decision" is null or "decision" in ('approve', 'refer', 'decline'))
);--> statement-breakpoint
CREATE UNIQUE INDEX "loan_applications_number_key" ON "loan_applications" USING btree ("number");--> statement-breakpoint
CREATE INDEX "loan_applications_customer_idx" ON "loan_applications" USING btree ("customer_id","id");--> statement-breakpoint
CREATE INDEX "loan_applications_status_idx" ON "loan_applications" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "loan_applications_device_idx" ON "loan_applications" USING btree ("device_id","created_at");--> statement-breakpoint
CREATE TABLE "loans" (
  "id" uuid PRIMARY KEY NOT NULL,
  "number" text NOT NULL,
  "application_id" uuid NOT NULL,
  "customer_id" uuid NOT NULL,
  "product_id" uuid NOT NULL,
  "product_version" integer NOT NULL,
  "terms" jsonb NOT NULL,
  "currency" text NOT NULL,
  "principal_minor" bigint NOT NULL,
  "term" integer NOT NULL,
  "status" text NOT NULL,
  "arrears_bucket" text DEFAULT 'current' NOT NULL,
  "days_past_due" integer DEFAULT 0 NOT NULL,
  "wallet_id" uuid NOT NULL,
  "principal_account_id" uuid,
  "interest_account_id" uuid,
  "fee_account_id" uuid,
  "penalty_account_id" uuid,
  "prepaid_minor" bigint DEFAULT 0 NOT NULL,
  "approved_by_id" text,
  "approved_at" timestamp with time zone,
  "disbursed_at" timestamp with time zone,
  "disbursed_on" date,
  "last_cob_date" date,
  "accrued_through" date,
  "closed_at" timestamp with time zone,
  "written_off_at" timestamp with time zone,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loans_principal_positive" CHECK ("principal_minor" > 0),
  CONSTRAINT "loans_prepaid_nonnegative" CHECK ("prepaid_minor" >= 0),
  CONSTRAINT "loans_status_check" CHECK ("status" in ('approved', 'active', 'closed', 'written_off', 'cancelled')),
  CONSTRAINT "loans_bucket_check" CHECK ("arrears_bucket" in ('current', '1-30', '31-60', '61-90', '90+'))
);--> statement-breakpoint
CREATE UNIQUE INDEX "loans_number_key" ON "loans" USING btree ("number");--> statement-breakpoint
CREATE UNIQUE INDEX "loans_application_key" ON "loans" USING btree ("application_id");--> statement-breakpoint
CREATE INDEX "loans_customer_idx" ON "loans" USING btree ("customer_id","id");--> statement-breakpoint
CREATE INDEX "loans_status_idx" ON "loans" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "loans_cob_idx" ON "loans" USING btree ("last_cob_date","id") WHERE "status" = 'active';--> statement-breakpoint
CREATE TABLE "loan_instalments" (
  "loan_id" uuid NOT NULL,
  "seq" integer NOT NULL,
  "due_date" date NOT NULL,
  "principal_due" bigint NOT NULL,
  "interest_due" bigint NOT NULL,
  "fee_due" bigint DEFAULT 0 NOT NULL,
  "penalty_due" bigint DEFAULT 0 NOT NULL,
  "principal_paid" bigint DEFAULT 0 NOT NULL,
  "interest_paid" bigint DEFAULT 0 NOT NULL,
  "fee_paid" bigint DEFAULT 0 NOT NULL,
  "penalty_paid" bigint DEFAULT 0 NOT NULL,
  "interest_accrued" bigint DEFAULT 0 NOT NULL,
  "status" text NOT NULL,
  "penalty_applied_on" date,
  "paid_at" timestamp with time zone,
  CONSTRAINT "loan_instalments_pkey" PRIMARY KEY ("loan_id", "seq"),
  CONSTRAINT "loan_instalments_status_check" CHECK ("status" in ('pending', 'partially_paid', 'paid', 'overdue')),
  -- Never more paid than due, per part: two concurrent repayments cannot over-allocate.
  CONSTRAINT "loan_instalments_paid_within_due" CHECK (
    "principal_paid" between 0 and "principal_due" and "interest_paid" between 0 and "interest_due"
    and "fee_paid" between 0 and "fee_due" and "penalty_paid" between 0 and "penalty_due"),
  CONSTRAINT "loan_instalments_due_nonnegative" CHECK (
    "principal_due" >= 0 and "interest_due" >= 0 and "fee_due" >= 0 and "penalty_due" >= 0)
);--> statement-breakpoint
CREATE INDEX "loan_instalments_due_idx" ON "loan_instalments" USING btree ("due_date") WHERE "status" <> 'paid';--> statement-breakpoint
CREATE TABLE "loan_transactions" (
  "id" uuid PRIMARY KEY NOT NULL,
  "loan_id" uuid NOT NULL,
  "type" text NOT NULL,
  "amount_minor" bigint NOT NULL,
  "currency" text NOT NULL,
  "allocation" jsonb,
  "source" text,
  "external_reference" text,
  "ledger_batch_id" uuid,
  "dedupe_key" text NOT NULL,
  "business_date" date NOT NULL,
  "actor_type" text NOT NULL,
  "actor_id" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_transactions_amount_nonnegative" CHECK ("amount_minor" >= 0),
  CONSTRAINT "loan_transactions_type_check" CHECK ("type" in ('disbursement', 'repayment', 'auto_collection', 'interest_accrual', 'penalty', 'fee', 'write_off', 'recovery', 'overpayment_refund'))
);--> statement-breakpoint
CREATE UNIQUE INDEX "loan_transactions_dedupe_key" ON "loan_transactions" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "loan_transactions_loan_idx" ON "loan_transactions" USING btree ("loan_id","created_at");
--> statement-breakpoint
CREATE TABLE "loan_holidays" (
  "date" date PRIMARY KEY NOT NULL,
  "name" text NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- Loan officers approve up to their role's limit per currency; a role without a row may not approve in it.
CREATE TABLE "loan_approval_limits" (
  "role_code" text NOT NULL,
  "currency" text NOT NULL,
  "max_amount_minor" bigint NOT NULL,
  "updated_by_id" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_approval_limits_pkey" PRIMARY KEY ("role_code", "currency"),
  CONSTRAINT "loan_approval_limits_amount_positive" CHECK ("max_amount_minor" > 0)
);
