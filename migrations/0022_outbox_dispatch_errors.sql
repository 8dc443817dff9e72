-- Why: the outbox dispatcher (issue 6) retries an event whose handler fails and sets it aside after a limit, with
-- the error kept for an operator, so one poison event cannot block every later one.
ALTER TABLE "outbox_events" ADD COLUMN "dispatch_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox_events" ADD COLUMN "dispatch_error" text;