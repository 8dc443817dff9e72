-- Why: the real-time decision records when it was taken without its aggregates (Redis unavailable: the degraded
-- policy decided), and when the review SLA alert of a held payment was raised (the 5-minute job raises it once).
ALTER TABLE aml_decisions ADD COLUMN aggregates_unavailable boolean NOT NULL DEFAULT false;--> statement-breakpoint
ALTER TABLE aml_decisions ADD COLUMN sla_alerted_at timestamptz;
