-- Why: the USSD channel per customer (on or off, and the language of its menus); sessions live in the ephemeral store.
CREATE TABLE "ussd_profiles" (
  "customer_id" uuid PRIMARY KEY NOT NULL,
  "enabled" boolean DEFAULT true NOT NULL,
  "language" text,
  "changed_by_type" text,
  "changed_by_id" uuid,
  "reason" text,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "ussd_profiles_language" CHECK ("language" IS NULL OR "language" IN ('en', 'fr', 'sw')),
  CONSTRAINT "ussd_profiles_changed_by_type" CHECK ("changed_by_type" IS NULL OR "changed_by_type" IN ('customer', 'user'))
);
