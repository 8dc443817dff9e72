-- Why: the manual review queue of self-registration (issue 17): who claimed a registration in review and the
-- last decision (approve, reject with a reason, request information reopening a step).
CREATE TABLE "registration_reviews" (
  "registration_id" uuid PRIMARY KEY NOT NULL REFERENCES "registrations"("id") ON DELETE cascade,
  "status" text NOT NULL,
  "claimed_by" uuid,
  "claimed_at" timestamp with time zone,
  "decided_by" uuid,
  "decided_at" timestamp with time zone,
  "decision_reason" text,
  "requested_step" text,
  "rounds" integer DEFAULT 1 NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "registration_reviews_status_check" CHECK ("status" IN ('claimed', 'approved', 'rejected', 'info_requested'))
);--> statement-breakpoint
CREATE INDEX "registration_reviews_claimed_idx" ON "registration_reviews" USING btree ("claimed_by","status");
