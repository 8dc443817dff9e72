-- Why: issue 19 — an agent's cash-in joins the group commit. A plan that writes rows of its own with the payment (the
-- agent's usage, movement, commission accruals and geofence check) gives them as one statement built before the call
-- (its `part`), and `payment_commit_batch` runs it right after that payment's `payment_commit`, in the payment's own
-- block: a refusal of the part (the agent's daily limit) rolls back that payment alone; the rest of the batch commits.
-- Before this, such a plan kept a transaction of its own (BEGIN, the call, its rows, COMMIT: four round trips and a
-- commit per payment, with the float's row lock held across them).
--
-- A part is {"fragments": [text …], "params": [text or null …]}: the statement's text split at its $n placeholders
-- (one more fragment than params, in order of appearance) and each parameter in the text form the driver would bind.
-- Each parameter is put back as a quoted literal (quote_nullable: no value can end its quotes), which PostgreSQL
-- types from its context as it types a bound parameter. The text comes from the API's own code, never from a client:
-- the API can run any statement on its connection anyway, so this grants nothing it does not have.
CREATE OR REPLACE FUNCTION payment_part_run(p_part jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_fragments jsonb := p_part->'fragments';
  v_params jsonb := p_part->'params';
  v_sql text := p_part->'fragments'->>0;
BEGIN
  IF jsonb_array_length(v_fragments) <> jsonb_array_length(v_params) + 1 THEN
    RAISE EXCEPTION 'payment part: % fragments for % params', jsonb_array_length(v_fragments), jsonb_array_length(v_params);
  END IF;
  FOR i IN 0 .. jsonb_array_length(v_params) - 1 LOOP
    v_sql := v_sql || quote_nullable(v_params->>i) || (v_fragments->>(i + 1));
  END LOOP;
  EXECUTE v_sql;
END;
$$;
--> statement-breakpoint

-- A part's refusal: raised from inside its statement (`select payment_part_refuse(…) from … where <over the limit>`),
-- SQLSTATE PP001 with the reason as the message and the details as JSON; the plan maps it to its own error.
CREATE OR REPLACE FUNCTION payment_part_refuse(p_reason text, p_detail jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'PP001', MESSAGE = p_reason, DETAIL = p_detail::text;
END;
$$;
--> statement-breakpoint

-- payment_commit_batch as in 0056, with the part run after a committed payment_commit.
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
      -- The plan's own rows (`part`), in the payment's block: a refusal there rolls the payment back with them.
      IF v_outcome = 'committed' AND v_item ? 'part' THEN
        PERFORM payment_part_run(v_item->'part');
      END IF;
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
