-- Why: the mobile registration journey (issue 17): one row per registration with its state-machine state, sealed
-- PII and step times (the funnel), each step's stored answer for idempotent replay, versioned terms/privacy
-- documents, and the registration deny list.
CREATE TABLE "registrations" (
  "id" uuid PRIMARY KEY NOT NULL,
  "token_hash" text NOT NULL,
  "phone" text,
  "phone_country" text NOT NULL,
  "device_id" text,
  "app_version" text NOT NULL,
  "language" text NOT NULL,
  "state" text NOT NULL,
  "path" text,
  "declared_sealed" text,
  "national_id_index" text,
  "identity_sealed" text,
  "identity_summary" jsonb,
  "cbs_client_id" text,
  "didit_session_id" text,
  "phone_verified_at" timestamp with time zone,
  "email_sealed" text,
  "email_verified_at" timestamp with time zone,
  "email_skipped" boolean DEFAULT false NOT NULL,
  "terms_version_hash" text,
  "privacy_version_hash" text,
  "consent_at" timestamp with time zone,
  "consent_ip" text,
  "consent_device_id" text,
  "pin_hash" text,
  "pin_customer_id" uuid,
  "device_bound_at" timestamp with time zone,
  "customer_id" uuid,
  "review_reasons" jsonb,
  "outcome_reason" text,
  "reopened_step" text,
  "expires_at" timestamp with time zone NOT NULL,
  "step_times" jsonb DEFAULT '{}'::jsonb NOT NULL,
  "version" integer DEFAULT 1 NOT NULL,
  "completed_at" timestamp with time zone,
  "purged_at" timestamp with time zone,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "registrations_path_check" CHECK ("path" IS NULL OR "path" IN ('cbs', 'didit'))
);--> statement-breakpoint
CREATE UNIQUE INDEX "registrations_token_key" ON "registrations" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "registrations_phone_idx" ON "registrations" USING btree ("phone");--> statement-breakpoint
CREATE INDEX "registrations_state_idx" ON "registrations" USING btree ("state","expires_at");--> statement-breakpoint
CREATE INDEX "registrations_national_id_idx" ON "registrations" USING btree ("national_id_index");--> statement-breakpoint
CREATE INDEX "registrations_created_idx" ON "registrations" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "registrations_didit_session_key" ON "registrations" USING btree ("didit_session_id") WHERE "didit_session_id" is not null;--> statement-breakpoint
CREATE TABLE "registration_steps" (
  "registration_id" uuid NOT NULL REFERENCES "registrations"("id") ON DELETE cascade,
  "step" text NOT NULL,
  "request_hash" text NOT NULL,
  "from_state" text NOT NULL,
  "to_state" text NOT NULL,
  "status_code" integer NOT NULL,
  "answer" jsonb,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "registration_steps_pkey" PRIMARY KEY ("registration_id","step","request_hash")
);--> statement-breakpoint
CREATE TABLE "onboarding_documents" (
  "id" uuid PRIMARY KEY NOT NULL,
  "kind" text NOT NULL,
  "version" text NOT NULL,
  "language" text NOT NULL,
  "title" text NOT NULL,
  "body" text NOT NULL,
  "content_hash" text NOT NULL,
  "published_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "onboarding_documents_kind_check" CHECK ("kind" IN ('terms', 'privacy'))
);--> statement-breakpoint
CREATE UNIQUE INDEX "onboarding_documents_version_key" ON "onboarding_documents" USING btree ("kind","version","language");--> statement-breakpoint
CREATE INDEX "onboarding_documents_current_idx" ON "onboarding_documents" USING btree ("kind","language","published_at");--> statement-breakpoint
CREATE TABLE "onboarding_deny_list" (
  "id" uuid PRIMARY KEY NOT NULL,
  "kind" text NOT NULL,
  "value_index" text NOT NULL,
  "reason" text NOT NULL,
  "created_by" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "onboarding_deny_list_kind_check" CHECK ("kind" IN ('phone', 'device', 'national_id'))
);--> statement-breakpoint
CREATE UNIQUE INDEX "onboarding_deny_list_value_key" ON "onboarding_deny_list" USING btree ("kind","value_index");
