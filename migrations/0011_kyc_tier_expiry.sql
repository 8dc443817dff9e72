-- Why: a granted KYC tier can lapse; re-KYC is due at this time and the customer falls back to basic if not renewed.
ALTER TABLE "customers" ADD COLUMN "kyc_tier_expires_at" timestamp with time zone;