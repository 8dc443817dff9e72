-- Why: an operator-started cash-out is checked against the store's geofence when it is asked for; the check is linked
-- to the cash-out's transaction when the customer approves it, so the request keeps the check's id.
ALTER TABLE agent_cash_out_requests ADD COLUMN location_check_id uuid;--> statement-breakpoint

-- Why: agent performance (volumes and values by type and day, customers served) reads the agents module's own record
-- of each completed cash-in and cash-out, written inside the posting's transaction (the transactions table is the
-- transactions module's).
CREATE TABLE agent_cash_movements (
  transaction_id uuid PRIMARY KEY,
  agent_id uuid NOT NULL,
  store_id uuid NOT NULL,
  operator_id uuid,
  customer_id uuid NOT NULL,
  type text NOT NULL,
  amount_minor bigint NOT NULL,
  currency char(3) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);--> statement-breakpoint
CREATE INDEX agent_cash_movements_agent_idx ON agent_cash_movements (agent_id, created_at);
