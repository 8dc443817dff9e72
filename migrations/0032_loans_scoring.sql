-- Why: loan scoring (issue 16). Every scoring of an application is kept, append-only: the internal scorecard's
-- factors with their points and reason codes, what the credit bureau said (or why it said nothing), the decision,
-- the recommended limit and the reasons, so a decision can be explained later to staff, an auditor or the customer.
CREATE TABLE "loan_scoring_results" (
  "id" uuid PRIMARY KEY NOT NULL,
  "application_id" uuid NOT NULL,
  "customer_id" uuid NOT NULL,
  "internal_score" integer NOT NULL,
  "internal_max_score" integer NOT NULL,
  "factors" jsonb NOT NULL,
  "bureau_status" text NOT NULL,
  "bureau_score" integer,
  "bureau_delinquency_code" text,
  "bureau_delinquency_summary" text,
  "bureau_error" text,
  "final_score" integer NOT NULL,
  "decision" text NOT NULL,
  "recommended_limit_minor" bigint NOT NULL,
  "currency" text NOT NULL,
  "reasons" jsonb NOT NULL,
  "scored_by_type" text NOT NULL,
  "scored_by_id" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "loan_scoring_results_decision_check" CHECK ("decision" in ('approve', 'refer', 'decline')),
  CONSTRAINT "loan_scoring_results_bureau_status_check" CHECK (
    "bureau_status" in ('not_configured', 'no_identity', 'ok', 'error', 'timeout', 'unavailable')),
  CONSTRAINT "loan_scoring_results_limit_nonnegative" CHECK ("recommended_limit_minor" >= 0)
);--> statement-breakpoint
CREATE INDEX "loan_scoring_results_application_idx" ON "loan_scoring_results" USING btree ("application_id","created_at");
