-- Why: agent-assisted registration (issue 19): an agent's operator registers a customer through onboarding's rules, so a registration may come from the `agent` channel and records which agent and which operator registered the customer (the registrar; no foreign key: the agents module owns those tables).
ALTER TABLE "registrations" DROP CONSTRAINT "registrations_channel_check";--> statement-breakpoint
ALTER TABLE "registrations" ADD CONSTRAINT "registrations_channel_check" CHECK ("channel" IN ('app', 'ussd', 'agent'));--> statement-breakpoint
ALTER TABLE "registrations" ADD COLUMN "registrar_agent_id" uuid;--> statement-breakpoint
ALTER TABLE "registrations" ADD COLUMN "registrar_operator_id" uuid;--> statement-breakpoint
CREATE INDEX "registrations_registrar_agent_idx" ON "registrations" USING btree ("registrar_agent_id") WHERE "registrar_agent_id" IS NOT NULL;
