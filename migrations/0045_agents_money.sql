-- Why: an operator-started cash-out is checked against the store's geofence when it is asked for; the check is linked
-- to the cash-out's transaction when the customer approves it, so the request keeps the check's id.
ALTER TABLE agent_cash_out_requests ADD COLUMN location_check_id uuid;
