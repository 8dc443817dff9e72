-- Why: issue 21 — group commit. Concurrent payment commits of one API process are coalesced into one call: the API
-- sends the payments that queued while its earlier calls were in flight, and `payment_commit_batch` commits them in
-- one transaction (one round trip, one commit and one WAL flush for the batch) with an outcome per payment.
--
-- Locks first, in the one global order every locker of wallets follows (wallets by ascending id, then the ledger
-- accounts `ledger_post` would lock, by ascending id), for the whole batch: two batches, or a batch and a single
-- payment, never deadlock. Then each payment runs `payment_commit` (the one-payment commit, unchanged: PIN, re-check of
-- the state it was validated against, posting, usage, record, outbox event, stored answer) in a block of its own: a
-- payment refused by the ledger (insufficient funds, cap), or whose claim was taken over, rolls back alone and the
-- others commit. A payment whose wallet an earlier payment of the batch changed finds its state changed and answers
-- 'stale' (the API retries it alone on the locked path), as it would have one call later.
--
-- p_items: a JSON array of objects with payment_commit's arguments by name (without the p_ prefix), each in the text
-- form the one-payment call binds (arrays as array literals, jsonb as JSON text), so one builder serves both calls.
-- Returns a JSON array in the same order: {"outcome": "committed" | "stale" | "pin"} or
-- {"outcome": "error", "state": SQLSTATE, "message": …, "detail": …}.
CREATE OR REPLACE FUNCTION payment_commit_batch(p_items jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_item jsonb;
  v_outcome text;
  v_outcomes jsonb := '[]'::jsonb;
  v_wallets uuid[];
  v_debits uuid[];
  v_credits uuid[];
  v_state text;
  v_message text;
  v_detail text;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RETURN (SELECT jsonb_agg(jsonb_build_object('outcome', 'stale')) FROM jsonb_array_elements(p_items));
  END IF;
  SELECT array_agg(DISTINCT w) INTO v_wallets
    FROM jsonb_array_elements(p_items) i, unnest((i->>'wallet_ids')::uuid[]) w;
  SELECT array_agg(DISTINCT d) INTO v_debits
    FROM jsonb_array_elements(p_items) i, unnest((i->>'debits')::uuid[]) d;
  SELECT array_agg(DISTINCT c) INTO v_credits
    FROM jsonb_array_elements(p_items) i, unnest((i->>'credits')::uuid[]) c;
  PERFORM 1 FROM wallets WHERE id = ANY (v_wallets) ORDER BY id FOR UPDATE;
  -- The accounts ledger_post locks for a posting that is not pending (payment_commit never posts pending legs).
  PERFORM 1 FROM ledger_accounts a
    WHERE (a.id = ANY (v_debits) AND (NOT a.deferred OR a.debits_must_not_exceed_credits))
       OR (a.id = ANY (v_credits) AND NOT a.deferred)
    ORDER BY a.id
    FOR UPDATE;

  FOR v_item IN SELECT e.value FROM jsonb_array_elements(p_items) WITH ORDINALITY AS e(value, n) ORDER BY e.n LOOP
    BEGIN
      v_outcome := payment_commit(
        (v_item->>'wallet_ids')::uuid[], (v_item->>'expected')::jsonb, v_item->>'day', v_item->>'month',
        (v_item->>'batch_id')::uuid, v_item->>'key', v_item->>'code', v_item->>'reference',
        (v_item->>'metadata')::jsonb, (v_item->>'leg_ids')::uuid[], (v_item->>'debits')::uuid[],
        (v_item->>'credits')::uuid[], (v_item->>'amounts')::bigint[], (v_item->>'codes')::text[],
        (v_item->>'cap_accounts')::uuid[], (v_item->>'caps')::bigint[], (v_item->>'usage_wallets')::uuid[],
        (v_item->>'usage_directions')::text[], (v_item->>'usage_amounts')::bigint[],
        (v_item->>'record')::jsonb, (v_item->>'event')::jsonb,
        (v_item->>'claim_id')::uuid, (v_item->>'claim_locked_until')::timestamptz,
        (v_item->>'response_status')::integer, v_item->>'response_body',
        (v_item->>'pin_customer')::uuid, v_item->>'pin_hash');
      v_outcomes := v_outcomes || jsonb_build_array(jsonb_build_object('outcome', v_outcome));
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL;
      v_outcomes := v_outcomes || jsonb_build_array(jsonb_build_object(
        'outcome', 'error', 'state', v_state, 'message', v_message, 'detail', nullif(v_detail, '')));
    END;
  END LOOP;
  RETURN v_outcomes;
END;
$$;
