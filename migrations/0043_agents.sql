-- Why: the agent network (issue 19): super-agents and agents with their stores and operators, geofence checks and
-- shifts, alerts, withdrawal codes and operator-started cash-outs, daily agent usage, float deposits, commission plans,
-- accruals and payouts. Money itself is on the ledger (float and commission accounts); these are the agents module's own.
CREATE TABLE "agents" (
  "id" uuid PRIMARY KEY NOT NULL,
  "agent_number" text NOT NULL,
  "kind" text NOT NULL,
  "parent_id" uuid,
  "business_name" text NOT NULL,
  "registration_number" text NOT NULL,
  "business_tier" text NOT NULL,
  "owner_customer_id" uuid NOT NULL,
  "phone" text NOT NULL,
  "email" text,
  "currency" char(3) NOT NULL,
  "status" text DEFAULT 'pending' NOT NULL,
  "status_reason" text,
  "geofence_policy" text DEFAULT 'refuse' NOT NULL,
  "limits" jsonb DEFAULT '{}'::jsonb NOT NULL,
  "float_account_id" uuid NOT NULL,
  "commission_account_id" uuid NOT NULL,
  "commission_plan_id" uuid,
  "created_by" uuid,
  "approved_by" uuid,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "agents_kind" CHECK ("kind" IN ('super_agent', 'agent')),
  CONSTRAINT "agents_status" CHECK ("status" IN ('pending', 'active', 'suspended', 'closed')),
  CONSTRAINT "agents_geofence_policy" CHECK ("geofence_policy" IN ('refuse', 'flag')),
  CONSTRAINT "agents_parent_not_self" CHECK ("parent_id" IS NULL OR "parent_id" <> "id")
);--> statement-breakpoint
CREATE UNIQUE INDEX "agents_number_key" ON "agents" USING btree ("agent_number");--> statement-breakpoint
CREATE UNIQUE INDEX "agents_registration_key" ON "agents" USING btree ("registration_number");--> statement-breakpoint
CREATE INDEX "agents_parent_idx" ON "agents" USING btree ("parent_id");--> statement-breakpoint
CREATE INDEX "agents_owner_idx" ON "agents" USING btree ("owner_customer_id");--> statement-breakpoint
CREATE TABLE "agent_stores" (
  "id" uuid PRIMARY KEY NOT NULL,
  "agent_id" uuid NOT NULL REFERENCES "agents"("id"),
  "store_number" text NOT NULL,
  "name" text NOT NULL,
  "address" text NOT NULL,
  "opening_hours" jsonb DEFAULT '{}'::jsonb NOT NULL,
  "latitude" double precision NOT NULL,
  "longitude" double precision NOT NULL,
  "geofence" jsonb NOT NULL,
  "status" text DEFAULT 'active' NOT NULL,
  "status_reason" text,
  "float_account_id" uuid NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "agent_stores_status" CHECK ("status" IN ('active', 'suspended', 'closed')),
  CONSTRAINT "agent_stores_latitude" CHECK ("latitude" BETWEEN -90 AND 90),
  CONSTRAINT "agent_stores_longitude" CHECK ("longitude" BETWEEN -180 AND 180)
);--> statement-breakpoint
CREATE UNIQUE INDEX "agent_stores_number_key" ON "agent_stores" USING btree ("store_number");--> statement-breakpoint
CREATE INDEX "agent_stores_agent_idx" ON "agent_stores" USING btree ("agent_id");--> statement-breakpoint
CREATE TABLE "agent_operators" (
  "id" uuid PRIMARY KEY NOT NULL,
  "agent_id" uuid NOT NULL REFERENCES "agents"("id"),
  "store_id" uuid REFERENCES "agent_stores"("id"),
  "role" text NOT NULL,
  "full_name" text NOT NULL,
  "phone" text NOT NULL,
  "pin_hash" text,
  "password_hash" text,
  "status" text DEFAULT 'active' NOT NULL,
  "last_login_at" timestamp with time zone,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "agent_operators_role" CHECK ("role" IN ('teller', 'agent_admin')),
  CONSTRAINT "agent_operators_status" CHECK ("status" IN ('active', 'suspended', 'closed')),
  CONSTRAINT "agent_operators_teller_store" CHECK ("role" <> 'teller' OR "store_id" IS NOT NULL)
);--> statement-breakpoint
CREATE UNIQUE INDEX "agent_operators_phone_key" ON "agent_operators" USING btree ("phone");--> statement-breakpoint
CREATE INDEX "agent_operators_agent_idx" ON "agent_operators" USING btree ("agent_id");--> statement-breakpoint
CREATE INDEX "agent_operators_store_idx" ON "agent_operators" USING btree ("store_id");--> statement-breakpoint
CREATE TABLE "agent_operator_devices" (
  "id" uuid PRIMARY KEY NOT NULL,
  "operator_id" uuid NOT NULL REFERENCES "agent_operators"("id"),
  "device_id" text NOT NULL,
  "public_key" text NOT NULL,
  "bound_by" uuid,
  "bound_at" timestamp with time zone DEFAULT now() NOT NULL,
  "revoked_at" timestamp with time zone
);--> statement-breakpoint
CREATE UNIQUE INDEX "agent_operator_devices_active_key" ON "agent_operator_devices" USING btree ("operator_id","device_id") WHERE "revoked_at" is null;--> statement-breakpoint
CREATE TABLE "agent_location_checks" (
  "id" uuid PRIMARY KEY NOT NULL,
  "operator_id" uuid NOT NULL,
  "agent_id" uuid NOT NULL,
  "store_id" uuid NOT NULL,
  "action" text NOT NULL,
  "latitude" double precision NOT NULL,
  "longitude" double precision NOT NULL,
  "accuracy_m" double precision NOT NULL,
  "fix_at" timestamp with time zone NOT NULL,
  "distance_m" double precision NOT NULL,
  "outcome" text NOT NULL,
  "decision" text NOT NULL,
  "signals" jsonb DEFAULT '[]'::jsonb NOT NULL,
  "transaction_id" uuid,
  "checked_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "agent_location_checks_outcome" CHECK ("outcome" IN ('inside', 'outside', 'stale')),
  CONSTRAINT "agent_location_checks_decision" CHECK ("decision" IN ('allowed', 'flagged', 'refused'))
);--> statement-breakpoint
CREATE INDEX "agent_location_checks_operator_idx" ON "agent_location_checks" USING btree ("operator_id","checked_at");--> statement-breakpoint
CREATE INDEX "agent_location_checks_agent_idx" ON "agent_location_checks" USING btree ("agent_id","checked_at");--> statement-breakpoint
CREATE TABLE "agent_shifts" (
  "id" uuid PRIMARY KEY NOT NULL,
  "operator_id" uuid NOT NULL,
  "store_id" uuid NOT NULL,
  "check_in_at" timestamp with time zone NOT NULL,
  "check_in_check_id" uuid NOT NULL,
  "check_out_at" timestamp with time zone,
  "check_out_check_id" uuid
);--> statement-breakpoint
CREATE INDEX "agent_shifts_operator_idx" ON "agent_shifts" USING btree ("operator_id","check_in_at");--> statement-breakpoint
CREATE UNIQUE INDEX "agent_shifts_open_key" ON "agent_shifts" USING btree ("operator_id") WHERE "check_out_at" is null;--> statement-breakpoint
CREATE TABLE "agent_alerts" (
  "id" uuid PRIMARY KEY NOT NULL,
  "agent_id" uuid NOT NULL,
  "store_id" uuid,
  "operator_id" uuid,
  "kind" text NOT NULL,
  "details" jsonb NOT NULL,
  "status" text DEFAULT 'open' NOT NULL,
  "acknowledged_by" uuid,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "agent_alerts_kind" CHECK ("kind" IN ('geofence_repeated', 'spoofing')),
  CONSTRAINT "agent_alerts_status" CHECK ("status" IN ('open', 'acknowledged'))
);--> statement-breakpoint
CREATE INDEX "agent_alerts_agent_idx" ON "agent_alerts" USING btree ("agent_id","created_at");--> statement-breakpoint
CREATE TABLE "agent_withdrawal_codes" (
  "id" uuid PRIMARY KEY NOT NULL,
  "customer_id" uuid NOT NULL,
  "wallet_id" uuid NOT NULL,
  "agent_id" uuid NOT NULL,
  "amount_minor" bigint NOT NULL,
  "currency" char(3) NOT NULL,
  "code_hash" text NOT NULL,
  "status" text DEFAULT 'pending' NOT NULL,
  "failed_attempts" integer DEFAULT 0 NOT NULL,
  "expires_at" timestamp with time zone NOT NULL,
  "used_transaction_id" uuid,
  "channel" text NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "agent_withdrawal_codes_status" CHECK ("status" IN ('pending', 'used', 'cancelled', 'expired')),
  CONSTRAINT "agent_withdrawal_codes_amount_positive" CHECK ("amount_minor" > 0)
);--> statement-breakpoint
CREATE UNIQUE INDEX "agent_withdrawal_codes_hash_key" ON "agent_withdrawal_codes" USING btree ("agent_id","code_hash") WHERE "status" = 'pending';--> statement-breakpoint
CREATE INDEX "agent_withdrawal_codes_customer_idx" ON "agent_withdrawal_codes" USING btree ("customer_id","created_at");--> statement-breakpoint
CREATE TABLE "agent_cash_out_requests" (
  "id" uuid PRIMARY KEY NOT NULL,
  "operator_id" uuid NOT NULL,
  "agent_id" uuid NOT NULL,
  "store_id" uuid NOT NULL,
  "customer_id" uuid NOT NULL,
  "wallet_id" uuid NOT NULL,
  "amount_minor" bigint NOT NULL,
  "currency" char(3) NOT NULL,
  "status" text DEFAULT 'pending' NOT NULL,
  "challenge_id" text,
  "transaction_id" uuid,
  "failure_code" text,
  "expires_at" timestamp with time zone NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "agent_cash_out_requests_status" CHECK ("status" IN ('pending', 'approved', 'rejected', 'expired', 'completed', 'failed')),
  CONSTRAINT "agent_cash_out_requests_amount_positive" CHECK ("amount_minor" > 0)
);--> statement-breakpoint
CREATE INDEX "agent_cash_out_requests_customer_idx" ON "agent_cash_out_requests" USING btree ("customer_id","status");--> statement-breakpoint
CREATE TABLE "agent_usage" (
  "agent_id" uuid NOT NULL,
  "period" text NOT NULL,
  "amount_minor" bigint DEFAULT 0 NOT NULL,
  "count" integer DEFAULT 0 NOT NULL,
  CONSTRAINT "agent_usage_pkey" PRIMARY KEY ("agent_id","period")
);--> statement-breakpoint
CREATE TABLE "agent_float_deposits" (
  "id" uuid PRIMARY KEY NOT NULL,
  "agent_id" uuid NOT NULL,
  "store_id" uuid,
  "amount_minor" bigint NOT NULL,
  "currency" char(3) NOT NULL,
  "bank_reference" text NOT NULL,
  "status" text DEFAULT 'pending' NOT NULL,
  "requested_by_type" text NOT NULL,
  "requested_by_id" uuid,
  "decided_by" uuid,
  "decision_reason" text,
  "transaction_id" uuid,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "decided_at" timestamp with time zone,
  CONSTRAINT "agent_float_deposits_status" CHECK ("status" IN ('pending', 'confirmed', 'rejected')),
  CONSTRAINT "agent_float_deposits_amount_positive" CHECK ("amount_minor" > 0)
);--> statement-breakpoint
CREATE UNIQUE INDEX "agent_float_deposits_reference_key" ON "agent_float_deposits" USING btree ("bank_reference");--> statement-breakpoint
CREATE TABLE "agent_commission_plans" (
  "id" uuid PRIMARY KEY NOT NULL,
  "code" text NOT NULL,
  "name" text NOT NULL,
  "currency" char(3) NOT NULL,
  "rules" jsonb NOT NULL,
  "super_agent_share_bps" integer DEFAULT 0 NOT NULL,
  "is_default" boolean DEFAULT false NOT NULL,
  "active" boolean DEFAULT true NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "agent_commission_plans_share" CHECK ("super_agent_share_bps" BETWEEN 0 AND 10000)
);--> statement-breakpoint
CREATE UNIQUE INDEX "agent_commission_plans_code_key" ON "agent_commission_plans" USING btree ("code");--> statement-breakpoint
CREATE UNIQUE INDEX "agent_commission_plans_default_key" ON "agent_commission_plans" USING btree ("currency") WHERE "is_default";--> statement-breakpoint
CREATE TABLE "agent_commissions" (
  "id" uuid PRIMARY KEY NOT NULL,
  "transaction_id" uuid NOT NULL,
  "agent_id" uuid NOT NULL,
  "source_agent_id" uuid NOT NULL,
  "transaction_type" text NOT NULL,
  "amount_minor" bigint NOT NULL,
  "currency" char(3) NOT NULL,
  "status" text DEFAULT 'accrued' NOT NULL,
  "payout_id" uuid,
  "clawback_transaction_id" uuid,
  "accrued_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "agent_commissions_status" CHECK ("status" IN ('accrued', 'paid', 'clawed_back')),
  CONSTRAINT "agent_commissions_amount_positive" CHECK ("amount_minor" > 0)
);--> statement-breakpoint
CREATE UNIQUE INDEX "agent_commissions_transaction_agent_key" ON "agent_commissions" USING btree ("transaction_id","agent_id");--> statement-breakpoint
CREATE INDEX "agent_commissions_agent_idx" ON "agent_commissions" USING btree ("agent_id","status","accrued_at");--> statement-breakpoint
CREATE TABLE "agent_commission_payouts" (
  "id" uuid PRIMARY KEY NOT NULL,
  "agent_id" uuid NOT NULL,
  "period_start" timestamp with time zone NOT NULL,
  "period_end" timestamp with time zone NOT NULL,
  "amount_minor" bigint NOT NULL,
  "currency" char(3) NOT NULL,
  "destination" text NOT NULL,
  "transaction_id" uuid,
  "commission_count" integer NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "agent_commission_payouts_destination" CHECK ("destination" IN ('float', 'wallet'))
);--> statement-breakpoint
CREATE UNIQUE INDEX "agent_commission_payouts_period_key" ON "agent_commission_payouts" USING btree ("agent_id","period_start","period_end");
