-- Why: customer transaction PINs (keyed HMAC) with a durable failed-attempt counter and lock.
CREATE TABLE "customer_credentials" (
	"customer_id" uuid PRIMARY KEY NOT NULL,
	"pin_hash" text NOT NULL,
	"pin_failed_attempts" integer DEFAULT 0 NOT NULL,
	"pin_locked_at" timestamp with time zone,
	"pin_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "customer_credentials" ADD CONSTRAINT "customer_credentials_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;