-- Why: access policies (channels, IP allowlists, time windows per role) and transaction-control limits per KYC tier, channel and period.
CREATE TABLE "access_policies" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role_code" text,
	"allowed_channels" jsonb,
	"ip_allowlist" jsonb,
	"time_window" jsonb,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transaction_limits" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kyc_tier" text NOT NULL,
	"channel" text NOT NULL,
	"transaction_type" text NOT NULL,
	"period" text NOT NULL,
	"currency" text NOT NULL,
	"max_amount_minor" bigint NOT NULL,
	"max_count" integer,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "access_policies_role_idx" ON "access_policies" USING btree ("role_code");--> statement-breakpoint
CREATE INDEX "transaction_limits_lookup_idx" ON "transaction_limits" USING btree ("kyc_tier","currency");