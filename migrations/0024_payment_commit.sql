-- Why: a transfer's commit took nine round trips (BEGIN, lock, facts, ledger_post, usage, record, outbox, stored
-- response, COMMIT) and both the API and PostgreSQL spent most of their CPU on the trips, not the work (bench/README.md,
-- "Findings"). The commit is now one call: the API validates the payment against the wallets' state read without
-- locks (`payment_wallet_state`), builds every row it will write, and `payment_commit` locks the wallets, reads the
-- same state again under the lock and writes only when it is unchanged; otherwise it writes nothing and answers
-- 'stale' and the API takes the locked path (ARCHITECTURE "Ledger": the commit as one PL/pgSQL call; ADR 0016).

-- What a payment's checks read of each wallet: the wallet's own fields, its owner's KYC tier (code, balance caps,
-- features) and the day and month usage in both directions. One definition for the API's read and the re-check.
CREATE OR REPLACE FUNCTION payment_wallet_state(p_ids uuid[], p_day text, p_month text)
RETURNS TABLE (wallet_id uuid, state jsonb)
LANGUAGE sql STABLE AS $$
  SELECT w.id,
         jsonb_build_object(
           'status', w.status, 'currency', w.currency, 'product_id', w.product_id, 'owner_type', w.owner_type,
           'customer_id', w.customer_id, 'merchant_id', w.merchant_id,
           'tier', t.code, 'max_balance', t.max_balance, 'features', t.features,
           'usage', coalesce((SELECT jsonb_agg(jsonb_build_object('period', u.period, 'direction', u.direction,
                                                                  'amount', u.amount::text, 'count', u.count)
                                               ORDER BY u.period, u.direction)
                              FROM wallet_usage u
                              WHERE u.wallet_id = w.id AND u.period IN (p_day, p_month)), '[]'::jsonb))
  FROM wallets w
  LEFT JOIN customers c ON c.id = w.customer_id AND w.owner_type = 'customer'
  LEFT JOIN kyc_tiers t ON t.code = c.kyc_tier
  WHERE w.id = ANY (p_ids)
$$;
--> statement-breakpoint

-- The whole commit of a payment the API has validated: lock, re-check, post, count usage, record, outbox event, stored
-- idempotent response. Returns 'committed'; 'pin' (nothing written) when the customer's PIN attempt `p_pin_hash` is not
-- a right PIN with nothing to reset (the API then runs its counting PIN check); or 'stale' (nothing written) when the
-- state under the lock differs from `p_expected` (an object: wallet id -> payment_wallet_state). Ledger refusals raise LD1xx as ledger_post does; a claim
-- taken over by a retry raises PC001 (nothing is written: the statement is one transaction).
CREATE OR REPLACE FUNCTION payment_commit(
  p_wallet_ids uuid[], p_expected jsonb, p_day text, p_month text,
  p_batch_id uuid, p_key text, p_code text, p_reference text, p_metadata jsonb,
  p_leg_ids uuid[], p_debits uuid[], p_credits uuid[], p_amounts bigint[], p_codes text[],
  p_cap_accounts uuid[], p_caps bigint[],
  p_usage_wallets uuid[], p_usage_directions text[], p_usage_amounts bigint[],
  p_record jsonb, p_event jsonb,
  p_claim_id uuid, p_claim_locked_until timestamptz, p_response_status integer, p_response_body text,
  p_pin_customer uuid, p_pin_hash text
) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  v_actual jsonb;
  v_claimed integer;
BEGIN
  -- The re-read below sees what committed before the lock only under READ COMMITTED (the default, and what the
  -- stepwise path sets). Under another default_transaction_isolation, leave the payment to the stepwise path.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RETURN 'stale';
  END IF;
  -- A right PIN with no failures to reset writes nothing (ADR 0013); anything else is the API's counting check.
  IF p_pin_customer IS NOT NULL THEN
    PERFORM 1 FROM customer_credentials
    WHERE customer_id = p_pin_customer AND pin_hash = p_pin_hash AND pin_failed_attempts = 0
      AND pin_locked_at IS NULL;
    IF NOT FOUND THEN
      RETURN 'pin';
    END IF;
  END IF;
  -- The same order as every other locker of wallets (ascending id), so two payments never deadlock.
  PERFORM 1 FROM wallets WHERE id = ANY (p_wallet_ids) ORDER BY id FOR UPDATE;
  -- A statement of its own after the lock: under READ COMMITTED it sees every payment committed before the lock.
  SELECT coalesce(jsonb_object_agg(s.wallet_id::text, s.state), '{}'::jsonb) INTO v_actual
  FROM payment_wallet_state(p_wallet_ids, p_day, p_month) s;
  IF v_actual IS DISTINCT FROM p_expected THEN
    RETURN 'stale';
  END IF;

  PERFORM 1 FROM ledger_post(p_batch_id, p_key, p_code, p_reference, p_metadata,
                             p_leg_ids, p_debits, p_credits, p_amounts, p_codes,
                             NULL::timestamptz, p_cap_accounts, p_caps);

  IF cardinality(p_usage_wallets) > 0 THEN
    INSERT INTO wallet_usage (wallet_id, period, direction, amount, count)
    SELECT u.wallet_id, p.period, u.direction, u.amount, 1
    FROM unnest(p_usage_wallets, p_usage_directions, p_usage_amounts) AS u(wallet_id, direction, amount)
    CROSS JOIN (VALUES (p_day), (p_month)) AS p(period)
    ON CONFLICT (wallet_id, period, direction)
    DO UPDATE SET amount = wallet_usage.amount + excluded.amount, count = wallet_usage.count + 1;
  END IF;

  -- Columns named, so a column added later takes its default while an older API sends records without it.
  INSERT INTO transactions (id, reference, type, status, channel, customer_id, source_wallet_id, destination_wallet_id,
                            counterparty_customer_id, merchant_id, biller_id, amount, currency, fee, tax,
                            destination_amount, destination_currency, narration, ledger_batch_id,
                            related_transaction_id, failure_code, failure_reason, metadata, initiated_by_type,
                            initiated_by_id, history, completed_at, created_at, updated_at)
  SELECT id, reference, type, status, channel, customer_id, source_wallet_id, destination_wallet_id,
         counterparty_customer_id, merchant_id, biller_id, amount, currency, fee, tax,
         destination_amount, destination_currency, narration, ledger_batch_id,
         related_transaction_id, failure_code, failure_reason, metadata, initiated_by_type,
         initiated_by_id, history, completed_at, created_at, updated_at
  FROM jsonb_populate_record(NULL::transactions, p_record);

  INSERT INTO outbox_events (topic, aggregate_type, aggregate_id, payload)
  VALUES (p_event->>'topic', p_event->>'aggregate_type', p_event->>'aggregate_id', p_event->'payload');

  IF p_claim_id IS NOT NULL THEN
    UPDATE idempotency_keys
    SET state = 'completed', response_status = p_response_status, response_body = p_response_body,
        updated_at = now()
    WHERE id = p_claim_id AND locked_until = p_claim_locked_until;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 0 THEN
      RAISE EXCEPTION 'idempotency claim taken over' USING ERRCODE = 'PC001';
    END IF;
  END IF;
  RETURN 'committed';
END;
$$;
