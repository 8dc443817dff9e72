-- Why: second factors (TOTP, sealed secrets with replay protection) and single-use recovery codes for MFA at login.
CREATE TABLE "mfa_factors" (
	"id" uuid PRIMARY KEY NOT NULL,
	"principal_type" text NOT NULL,
	"principal_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"secret_sealed" text NOT NULL,
	"status" text NOT NULL,
	"last_used_step" bigint DEFAULT 0 NOT NULL,
	"confirmed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "recovery_codes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"principal_type" text NOT NULL,
	"principal_id" uuid NOT NULL,
	"code_hash" text NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "mfa_factors_principal_kind" ON "mfa_factors" USING btree ("principal_type","principal_id","kind");--> statement-breakpoint
CREATE UNIQUE INDEX "recovery_codes_principal_hash" ON "recovery_codes" USING btree ("principal_id","code_hash");