-- Why: notifications (issue 6): versioned templates, one row per message with its delivery state, provider
-- delivery reports once per provider event, preferences; a device push token may now be cleared (FCM UNREGISTERED).
CREATE TABLE "notification_delivery_reports" (
	"id" uuid PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"event_key" text NOT NULL,
	"provider_message_id" text NOT NULL,
	"provider_status" text NOT NULL,
	"notification_id" uuid,
	"error_code" text,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notification_preferences" (
	"principal_type" text NOT NULL,
	"principal_id" uuid NOT NULL,
	"language" text DEFAULT 'en' NOT NULL,
	"time_zone" text DEFAULT 'Africa/Nairobi' NOT NULL,
	"quiet_start_minute" integer,
	"quiet_end_minute" integer,
	"marketing_channels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notification_preferences_principal_type_principal_id_pk" PRIMARY KEY("principal_type","principal_id")
);
--> statement-breakpoint
CREATE TABLE "notification_templates" (
	"id" uuid PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"channel" text NOT NULL,
	"language" text NOT NULL,
	"version" integer NOT NULL,
	"category" text NOT NULL,
	"subject" text,
	"body" text NOT NULL,
	"html_body" text,
	"variables" jsonb NOT NULL,
	"secret_variables" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" uuid PRIMARY KEY NOT NULL,
	"recipient_type" text NOT NULL,
	"recipient_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"category" text NOT NULL,
	"template_code" text NOT NULL,
	"template_id" uuid NOT NULL,
	"language" text NOT NULL,
	"address" text,
	"subject" text,
	"body" text NOT NULL,
	"variables" jsonb NOT NULL,
	"secrets_sealed" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text NOT NULL,
	"provider" text,
	"provider_message_id" text,
	"provider_status" text,
	"segments" integer,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp with time zone,
	"next_attempt_at" timestamp with time zone,
	"error_code" text,
	"error" text,
	"dedupe_key" text NOT NULL,
	"source_event_id" bigint,
	"created_by_type" text,
	"created_by_id" uuid,
	"sent_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"read_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "registered_devices" ALTER COLUMN "push_token" DROP NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "notification_delivery_reports_event_key" ON "notification_delivery_reports" USING btree ("provider","event_key");--> statement-breakpoint
CREATE UNIQUE INDEX "notification_templates_version_key" ON "notification_templates" USING btree ("code","channel","language","version");--> statement-breakpoint
CREATE UNIQUE INDEX "notification_templates_active_key" ON "notification_templates" USING btree ("code","channel","language") WHERE "notification_templates"."active";--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_dedupe_key" ON "notifications" USING btree ("dedupe_key");--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_provider_message_key" ON "notifications" USING btree ("provider","provider_message_id") WHERE "notifications"."provider_message_id" is not null;--> statement-breakpoint
CREATE INDEX "notifications_recipient_idx" ON "notifications" USING btree ("recipient_type","recipient_id","channel","id");--> statement-breakpoint
CREATE INDEX "notifications_status_idx" ON "notifications" USING btree ("status","id");