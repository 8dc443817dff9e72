-- Why: Africa's Talking end-of-session notifications kept for USSD analytics, once per gateway session (the session's input is never stored: it holds the PIN).
CREATE TABLE "ussd_session_reports" (
  "id" uuid PRIMARY KEY NOT NULL,
  "gateway" text NOT NULL,
  "session_id" text NOT NULL,
  "service_code" text,
  "network_code" text,
  "phone_number" text,
  "status" text NOT NULL,
  "cost_text" text,
  "cost_currency" text,
  "cost_minor" bigint,
  "duration_ms" bigint,
  "hops_count" integer,
  "error_message" text,
  "occurred_at" timestamp with time zone NOT NULL,
  "received_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "ussd_session_reports_gateway" CHECK ("gateway" IN ('at', 'hubtel', 'arkesel', 'nalo')),
  CONSTRAINT "ussd_session_reports_cost" CHECK (("cost_minor" IS NULL) = ("cost_currency" IS NULL)),
  CONSTRAINT "ussd_session_reports_duration" CHECK ("duration_ms" IS NULL OR "duration_ms" >= 0),
  CONSTRAINT "ussd_session_reports_hops" CHECK ("hops_count" IS NULL OR "hops_count" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX "ussd_session_reports_session" ON "ussd_session_reports" ("gateway", "session_id");
--> statement-breakpoint
CREATE INDEX "ussd_session_reports_occurred" ON "ussd_session_reports" ("occurred_at", "id");
--> statement-breakpoint
CREATE INDEX "ussd_session_reports_phone" ON "ussd_session_reports" ("phone_number");
