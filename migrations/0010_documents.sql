-- Why: customer documents (KYC): metadata and review state; the bytes live encrypted in document storage.
CREATE TABLE "documents" (
	"id" uuid PRIMARY KEY NOT NULL,
	"customer_id" uuid NOT NULL,
	"document_type" text NOT NULL,
	"status" text NOT NULL,
	"mime_type" text NOT NULL,
	"size_bytes" integer NOT NULL,
	"sha256" text NOT NULL,
	"wrapped_key" text NOT NULL,
	"uploaded_by_type" text NOT NULL,
	"uploaded_by_id" text,
	"reviewed_by_id" text,
	"reviewed_at" timestamp with time zone,
	"review_reason" text,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "documents_customer_idx" ON "documents" USING btree ("customer_id","document_type","status");