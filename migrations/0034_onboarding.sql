-- Why: the onboarding module's first table (its sample entity; replace it with the module's own).
CREATE TABLE "onboarding_items" (
  "id" uuid PRIMARY KEY NOT NULL,
  "customer_id" uuid NOT NULL,
  "reference" text NOT NULL,
  "amount_minor" bigint NOT NULL,
  "currency" char(3) NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "onboarding_items_amount_positive" CHECK ("amount_minor" > 0)
);--> statement-breakpoint
CREATE UNIQUE INDEX "onboarding_items_customer_reference" ON "onboarding_items" USING btree ("customer_id","reference");
