-- Why: the outbox had one `dispatched_at`, so it served one consumer (issue 15, ADR 0025). Each consumer (notifications
-- today; AML, webhooks, campaigns and reports next) now has its own queue: the event bus hands each event to every
-- consumer subscribed to its topic as one `outbox_deliveries` row, then sets `dispatched_at` (now "handed out"); a
-- consumer deletes its row once handled, or sets it aside after its attempts (its dead letters). Events carry the
-- version of their topic's payload schema. The emitting transaction still writes one row (payment_commit unchanged).
CREATE TABLE "outbox_consumers" (
	"name" text PRIMARY KEY NOT NULL,
	"topics" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox_deliveries" (
	"consumer" text NOT NULL,
	"event_id" bigint NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"failed_at" timestamp with time zone,
	CONSTRAINT "outbox_deliveries_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
ALTER TABLE "outbox_events" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox_deliveries" ADD CONSTRAINT "outbox_deliveries_consumer_outbox_consumers_name_fk" FOREIGN KEY ("consumer") REFERENCES "public"."outbox_consumers"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- The one consumer so far, with the topics it handled; the bus rewrites the list from the code at start.
INSERT INTO "outbox_consumers" ("name", "topics") VALUES ('notifications', ARRAY[
	'auth.new_device_login@1', 'dispute.investigating@1', 'dispute.opened@1', 'dispute.resolved@1', 'kyc.decided@1',
	'otp.requested@1', 'password.reset_requested@1', 'push.challenge@1', 'support.reply@1',
	'transaction.completed@1', 'transaction.reversed@1']);--> statement-breakpoint
-- Events the single dispatcher set aside with their error become the notifications consumer's dead letters.
INSERT INTO "outbox_deliveries" ("consumer", "event_id", "attempts", "last_error", "failed_at")
SELECT 'notifications', "id", "dispatch_attempts", "dispatch_error", coalesce("dispatched_at", now())
FROM "outbox_events" WHERE "dispatch_error" IS NOT NULL AND "dispatched_at" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox_events" DROP COLUMN "dispatch_attempts";--> statement-breakpoint
ALTER TABLE "outbox_events" DROP COLUMN "dispatch_error";
