-- Why: a customer made by self-registration through the core-banking lookup keeps the bank's (Fineract) client id
-- (issue 17: "link the CBS client id to the new customer"); one bank client is one customer, so the id is unique
-- where set, and a second registration matching a linked client goes to review instead of making a second link.
ALTER TABLE "customers" ADD COLUMN "cbs_client_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "customers_cbs_client_key" ON "customers" USING btree ("cbs_client_id") WHERE "customers"."cbs_client_id" is not null;
