-- Why: close of business and collections for loans (issue 16). A run per business date (unique) records progress so
-- a rerun or a resumed crash is visible; reminders are recorded per (loan, instalment, kind) so a rerun never sends
-- one twice; overdue loans get a collection case (one open at a time) with notes and promises to pay.
CREATE TABLE "loan_cob_runs" (
  "id" uuid PRIMARY KEY NOT NULL,
  "business_date" date NOT NULL,
  "status" text NOT NULL,
  "loans_processed" integer DEFAULT 0 NOT NULL,
  "loans_failed" integer DEFAULT 0 NOT NULL,
  "batches" integer DEFAULT 0 NOT NULL,
  "failures" jsonb DEFAULT '[]'::jsonb NOT NULL,
  "error" text,
  "triggered_by_type" text NOT NULL,
  "triggered_by_id" text,
  "started_at" timestamp with time zone DEFAULT now() NOT NULL,
  "finished_at" timestamp with time zone,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_cob_runs_status_check" CHECK ("status" in ('running', 'completed', 'failed'))
);--> statement-breakpoint
CREATE UNIQUE INDEX "loan_cob_runs_business_date_key" ON "loan_cob_runs" USING btree ("business_date");--> statement-breakpoint
CREATE TABLE "loan_reminders_sent" (
  "loan_id" uuid NOT NULL,
  "seq" integer NOT NULL,
  "kind" text NOT NULL,
  "date" date NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_reminders_sent_pkey" PRIMARY KEY ("loan_id", "seq", "kind"),
  CONSTRAINT "loan_reminders_sent_kind_check" CHECK ("kind" in ('before_3', 'due', 'after_1', 'after_7'))
);--> statement-breakpoint
CREATE TABLE "loan_collection_cases" (
  "id" uuid PRIMARY KEY NOT NULL,
  "number" text NOT NULL,
  "loan_id" uuid NOT NULL,
  "customer_id" uuid NOT NULL,
  "status" text NOT NULL,
  "assignee_id" text,
  "opened_on" date NOT NULL,
  "days_past_due" integer DEFAULT 0 NOT NULL,
  "arrears_bucket" text DEFAULT 'current' NOT NULL,
  "closed_on" date,
  "close_reason" text,
  "closed_by_id" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_collection_cases_status_check" CHECK ("status" in ('open', 'closed'))
);--> statement-breakpoint
CREATE UNIQUE INDEX "loan_collection_cases_number_key" ON "loan_collection_cases" USING btree ("number");--> statement-breakpoint
CREATE UNIQUE INDEX "loan_collection_cases_open_key" ON "loan_collection_cases" USING btree ("loan_id") WHERE "status" = 'open';--> statement-breakpoint
CREATE INDEX "loan_collection_cases_status_idx" ON "loan_collection_cases" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "loan_collection_cases_assignee_idx" ON "loan_collection_cases" USING btree ("assignee_id","id");--> statement-breakpoint
CREATE TABLE "loan_collection_notes" (
  "id" uuid PRIMARY KEY NOT NULL,
  "case_id" uuid NOT NULL,
  "text" text NOT NULL,
  "author_id" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
CREATE INDEX "loan_collection_notes_case_idx" ON "loan_collection_notes" USING btree ("case_id","id");--> statement-breakpoint
CREATE TABLE "loan_promises_to_pay" (
  "id" uuid PRIMARY KEY NOT NULL,
  "case_id" uuid NOT NULL,
  "loan_id" uuid NOT NULL,
  "promised_on" date NOT NULL,
  "amount_minor" bigint NOT NULL,
  "currency" text NOT NULL,
  "made_on" date NOT NULL,
  "status" text NOT NULL,
  "paid_minor" bigint DEFAULT 0 NOT NULL,
  "settled_on" date,
  "reminded_on" date,
  "created_by_id" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_promises_to_pay_amount_positive" CHECK ("amount_minor" > 0),
  CONSTRAINT "loan_promises_to_pay_status_check" CHECK ("status" in ('pending', 'kept', 'broken', 'cancelled'))
);--> statement-breakpoint
CREATE INDEX "loan_promises_to_pay_case_idx" ON "loan_promises_to_pay" USING btree ("case_id","id");--> statement-breakpoint
CREATE INDEX "loan_promises_to_pay_pending_idx" ON "loan_promises_to_pay" USING btree ("loan_id") WHERE "status" = 'pending';
--> statement-breakpoint
-- Daily-interest products: the interest each instalment has earned day by day (close of business adds to it). An
-- instalment's interest_accrued is max(earned, paid): a repayment that pays interest before it is earned recognises
-- it at once, and the days that earn it later must not recognise it again.
CREATE TABLE "loan_interest_earned" (
  "loan_id" uuid NOT NULL,
  "seq" integer NOT NULL,
  "earned_minor" bigint DEFAULT 0 NOT NULL,
  CONSTRAINT "loan_interest_earned_pkey" PRIMARY KEY ("loan_id", "seq"),
  CONSTRAINT "loan_interest_earned_nonnegative" CHECK ("earned_minor" >= 0)
);
