-- Why: filing the same maker-checker action twice (a double click, a retry without an Idempotency-Key, a second
-- reversal of one transaction) created two pending requests, and approving both did the thing twice (issue 14).
-- Each action declares what makes two requests the same; the hash of that key is stored per request, and at most one
-- open request (pending or executing) may hold it. Requests filed before this migration get their own id as the key.
ALTER TABLE "approval_requests" ADD COLUMN "dedupe_key" text;--> statement-breakpoint
UPDATE "approval_requests" SET "dedupe_key" = "id"::text WHERE "dedupe_key" IS NULL;--> statement-breakpoint
ALTER TABLE "approval_requests" ALTER COLUMN "dedupe_key" SET NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "approval_requests_open_dedupe_key" ON "approval_requests" USING btree ("action","dedupe_key") WHERE "approval_requests"."status" in ('pending', 'executing');
