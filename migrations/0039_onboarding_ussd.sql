-- Why: a registration started over USSD (issue 18) walks the app's journey and rules, so it is recorded with the
-- channel it came from; the phone's registrations are found by channel for the USSD's answer to a gateway retry.
ALTER TABLE "registrations" ADD COLUMN "channel" text DEFAULT 'app' NOT NULL;--> statement-breakpoint
ALTER TABLE "registrations" ADD CONSTRAINT "registrations_channel_check" CHECK ("channel" IN ('app', 'ussd'));--> statement-breakpoint
CREATE INDEX "registrations_channel_phone_idx" ON "registrations" USING btree ("channel","phone");
