-- Why: dynamic QR references were unique across all merchants, so one merchant could take or probe another's
-- references; payments look codes up per merchant, so the reference is unique per merchant.
DROP INDEX "merchant_qr_codes_reference_key";--> statement-breakpoint
CREATE UNIQUE INDEX "merchant_qr_codes_reference_key" ON "merchant_qr_codes" USING btree ("merchant_id","reference") WHERE "merchant_qr_codes"."reference" is not null;