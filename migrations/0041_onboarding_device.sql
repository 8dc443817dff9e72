-- Why: the PIN step may send the device's Ed25519 public key (and push token) so that activation registers the device
-- for push approvals with the new customer (issue 17: "credentials and the bound device"); kept until activation,
-- the push token and the device name cleared with the rest of the PII on purge.
ALTER TABLE "registrations" ADD COLUMN "device_public_key" text;--> statement-breakpoint
ALTER TABLE "registrations" ADD COLUMN "device_platform" text;--> statement-breakpoint
ALTER TABLE "registrations" ADD COLUMN "device_name" text;--> statement-breakpoint
ALTER TABLE "registrations" ADD COLUMN "device_push_token" text;--> statement-breakpoint
ALTER TABLE "registrations" ADD CONSTRAINT "registrations_device_platform_check" CHECK ("device_platform" IN ('ios', 'android', 'web'));
