-- Why: KYC tiers (requirements, balance caps, features per channel, validity) and KYC applications moving customers between tiers.
CREATE TABLE "kyc_applications" (
	"id" uuid PRIMARY KEY NOT NULL,
	"customer_id" uuid NOT NULL,
	"from_tier" text NOT NULL,
	"target_tier" text NOT NULL,
	"status" text NOT NULL,
	"initiated_by_type" text NOT NULL,
	"initiated_by_id" text,
	"decided_by_id" text,
	"decided_at" timestamp with time zone,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kyc_tiers" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"rank" integer NOT NULL,
	"required_documents" jsonb NOT NULL,
	"required_verifications" jsonb NOT NULL,
	"max_balance" jsonb NOT NULL,
	"features" jsonb NOT NULL,
	"validity_days" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "kyc_applications" ADD CONSTRAINT "kyc_applications_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kyc_applications" ADD CONSTRAINT "kyc_applications_target_tier_kyc_tiers_code_fk" FOREIGN KEY ("target_tier") REFERENCES "public"."kyc_tiers"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "kyc_applications_customer_idx" ON "kyc_applications" USING btree ("customer_id","status");