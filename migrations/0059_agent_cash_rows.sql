-- Why: issue 19 — an agent's cash movement writes its own rows with its payment (the engine's part, migration 0058).
-- As one dynamic statement (five CTEs) run by payment_part_run, PostgreSQL parsed and planned it for every cash-in;
-- as this function, the part is `select agent_cash_rows(…)` and the statements below keep their plans per session.
--
-- The day's usage is counted first and the cash movement is refused beyond the agent's daily limit
-- (payment_part_refuse: SQLSTATE PP001, which rolls back the payment with these rows); then the movement, the
-- commission accruals, and the geofence check: written (a clean check evaluated without the lock, p_checks holds
-- its row) or linked (p_link: a check written before, in its own transaction).
CREATE OR REPLACE FUNCTION agent_cash_rows(
  p_agent uuid, p_period text, p_amount bigint, p_transaction uuid, p_store uuid, p_operator uuid, p_customer uuid,
  p_type text, p_currency text, p_accruals jsonb, p_checks jsonb, p_link uuid, p_reason text, p_daily bigint
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_total bigint;
BEGIN
  INSERT INTO agent_usage (agent_id, period, amount_minor, count) VALUES (p_agent, p_period, p_amount, 1)
  ON CONFLICT (agent_id, period) DO UPDATE
    SET amount_minor = agent_usage.amount_minor + excluded.amount_minor, count = agent_usage.count + 1
  RETURNING amount_minor INTO v_total;
  IF p_daily IS NOT NULL AND v_total > p_daily THEN
    PERFORM payment_part_refuse(p_reason, jsonb_build_object('total', v_total::text));
  END IF;
  INSERT INTO agent_cash_movements (transaction_id, agent_id, store_id, operator_id, customer_id, type, amount_minor,
    currency)
  VALUES (p_transaction, p_agent, p_store, p_operator, p_customer, p_type, p_amount, p_currency);
  IF jsonb_array_length(p_accruals) > 0 THEN
    INSERT INTO agent_commissions (id, transaction_id, agent_id, source_agent_id, transaction_type, amount_minor,
      currency)
    SELECT a.id, p_transaction, a.agent_id, a.source_agent_id, p_type, a.amount_minor, p_currency
      FROM jsonb_to_recordset(p_accruals) AS a(id uuid, agent_id uuid, source_agent_id uuid, amount_minor bigint)
    ON CONFLICT DO NOTHING;
  END IF;
  IF p_link IS NOT NULL THEN
    UPDATE agent_location_checks SET transaction_id = p_transaction WHERE id = p_link AND transaction_id IS NULL;
  ELSIF jsonb_array_length(p_checks) > 0 THEN
    INSERT INTO agent_location_checks (id, operator_id, agent_id, store_id, action, latitude, longitude, accuracy_m,
      fix_at, distance_m, outcome, decision, signals, transaction_id, checked_at)
    SELECT c.id, c.operator_id, c.agent_id, c.store_id, c.action, c.latitude, c.longitude, c.accuracy_m, c.fix_at,
      c.distance_m, c.outcome, c.decision, c.signals, p_transaction, c.checked_at
      FROM jsonb_to_recordset(p_checks) AS c(id uuid, operator_id uuid, agent_id uuid, store_id uuid, action text,
        latitude float8, longitude float8, accuracy_m float8, fix_at timestamptz, distance_m float8, outcome text,
        decision text, signals jsonb, checked_at timestamptz);
  END IF;
END;
$$;
