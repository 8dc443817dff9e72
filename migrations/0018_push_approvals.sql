-- Why: push approval — devices register an Ed25519 public key and a push token per principal; a short-lived
-- challenge goes to them through the outbox and is answered once by a request signed with the device key.
CREATE TABLE "push_challenges" (
	"id" text PRIMARY KEY NOT NULL,
	"principal_type" text NOT NULL,
	"principal_id" uuid NOT NULL,
	"target_device_id" uuid,
	"purpose" text NOT NULL,
	"details" jsonb NOT NULL,
	"nonce" text NOT NULL,
	"status" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"responded_at" timestamp with time zone,
	"responded_device_id" uuid,
	"consumed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registered_devices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"principal_type" text NOT NULL,
	"principal_id" uuid NOT NULL,
	"device_id" text NOT NULL,
	"name" text NOT NULL,
	"platform" text NOT NULL,
	"public_key" text NOT NULL,
	"push_token" text NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "push_challenges_principal_idx" ON "push_challenges" USING btree ("principal_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "registered_devices_principal_device" ON "registered_devices" USING btree ("principal_type","principal_id","device_id");