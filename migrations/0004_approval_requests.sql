-- Why: maker-checker. Configured actions wait here for a second staff member; status moves once from pending.
CREATE TABLE "approval_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"action" text NOT NULL,
	"summary" text NOT NULL,
	"payload" jsonb NOT NULL,
	"entity_type" text,
	"entity_id" text,
	"maker_id" uuid NOT NULL,
	"status" text NOT NULL,
	"checker_id" uuid,
	"decided_at" timestamp with time zone,
	"reason" text,
	"result" jsonb,
	"error" text,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "approval_requests_status_idx" ON "approval_requests" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "approval_requests_maker_idx" ON "approval_requests" USING btree ("maker_id");