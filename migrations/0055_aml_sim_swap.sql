-- Why: AML learns of SIM swaps from the operator's CAMARA SIM Swap API (a job asks after a payment or a new-device
-- sign-in), not from an event of ours: such a row has no source event, and the same swap reported by several jobs
-- must be recorded once, so one swap per customer and time.
ALTER TABLE aml_device_events ALTER COLUMN source_event_id DROP NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX aml_device_events_sim_swap ON aml_device_events (customer_id, occurred_at) WHERE kind = 'sim_swap';
