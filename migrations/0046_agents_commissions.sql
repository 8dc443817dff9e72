-- Why: a commission plan says where its payouts go (the agent's float, or the owner's customer wallet: issue 19 "pays commissions out to float, or to a settlement wallet"); existing plans keep the module's default, float.
ALTER TABLE "agent_commission_plans" ADD COLUMN "payout_destination" text DEFAULT 'float' NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_commission_plans" ADD CONSTRAINT "agent_commission_plans_payout_destination" CHECK ("payout_destination" IN ('float', 'wallet'));
