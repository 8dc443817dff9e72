-- Why: security questions as a second factor; answers are normalised and stored as argon2id hashes.
CREATE TABLE "security_answers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"principal_type" text NOT NULL,
	"principal_id" uuid NOT NULL,
	"question_code" text NOT NULL,
	"answer_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "security_answers_principal_question" ON "security_answers" USING btree ("principal_id","question_code");