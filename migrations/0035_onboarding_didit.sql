-- Why: the Didit identity path (issue 17): each Didit session a registration opened, with its last status and the
-- polling schedule used when no webhook comes, and one receipt per verified webhook keyed by (session, status) so
-- a delivery repeated or replayed has one effect. No decision, PII or presigned media URL is kept here.
CREATE TABLE "onboarding_didit_sessions" (
  "session_id" text PRIMARY KEY NOT NULL,
  "registration_id" uuid NOT NULL REFERENCES "registrations"("id") ON DELETE cascade,
  "status" text NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "last_event_at" timestamp with time zone,
  "next_poll_at" timestamp with time zone,
  "poll_attempts" integer DEFAULT 0 NOT NULL,
  "finished_at" timestamp with time zone
);--> statement-breakpoint
CREATE INDEX "onboarding_didit_sessions_registration_idx" ON "onboarding_didit_sessions" USING btree ("registration_id");--> statement-breakpoint
CREATE INDEX "onboarding_didit_sessions_poll_idx" ON "onboarding_didit_sessions" USING btree ("next_poll_at") WHERE "next_poll_at" IS NOT NULL;--> statement-breakpoint
CREATE TABLE "onboarding_didit_webhooks" (
  "session_id" text NOT NULL,
  "status" text NOT NULL,
  "webhook_type" text NOT NULL,
  "scheme" text NOT NULL,
  "effect" text NOT NULL,
  "received_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "onboarding_didit_webhooks_pkey" PRIMARY KEY ("session_id","status")
);
