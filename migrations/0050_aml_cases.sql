-- Why: case references (AML-<year>-<6 digits>) come from one sequence, so two cases opened at once never share one.
CREATE SEQUENCE aml_case_reference_seq;--> statement-breakpoint
-- Why: an alert that names only an agent (agent typologies) groups into the agent's one open case per pattern;
-- aml_cases_open_per_pattern cannot, since a null customer_id never conflicts.
CREATE UNIQUE INDEX aml_cases_open_per_agent_pattern ON aml_cases (agent_id, pattern)
  WHERE state <> 'closed' AND customer_id IS NULL;--> statement-breakpoint
-- Why: the case queue lists by state and assignee, newest first.
CREATE INDEX aml_cases_queue ON aml_cases (state, assignee_id, id);
