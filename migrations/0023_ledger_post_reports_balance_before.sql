-- Why: an INSUFFICIENT_BALANCE refusal told the customer the wrong "available": `ledger_post` checks a batch's legs
-- one at a time (amount, then fee, then duty), and when a later leg did not fit it reported the balance left after
-- the earlier legs and that leg's amount alone (balance 11,706, transfer 11,681 + fee: "available 25"). It now reports
-- the account's balance before the batch and what the whole batch asks of it. Found by the reliability harness
-- (test/reliability, the model's refusal check). Only the error detail changes; what is posted or refused does not.
CREATE OR REPLACE FUNCTION ledger_post(
  p_batch_id uuid, p_key text, p_code text, p_reference text, p_metadata jsonb,
  p_ids uuid[], p_debits uuid[], p_credits uuid[], p_amounts bigint[], p_codes text[],
  p_pending_until timestamptz, p_cap_accounts uuid[], p_caps bigint[]
) RETURNS TABLE (batch_id uuid, replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_count int := coalesce(array_length(p_ids, 1), 0);
  v_pending boolean := p_pending_until IS NOT NULL;
  v_leg int;
  v_amount bigint;
  v_debit ledger_accounts%ROWTYPE;
  v_credit ledger_accounts%ROWTYPE;
  v_existing uuid;
  v_debit_after bigint;
  v_credit_after bigint;
  v_balance bigint;
  v_required bigint;
BEGIN
  IF v_count = 0 OR coalesce(array_length(p_debits, 1), 0) <> v_count
     OR coalesce(array_length(p_credits, 1), 0) <> v_count
     OR coalesce(array_length(p_amounts, 1), 0) <> v_count
     OR coalesce(array_length(p_codes, 1), 0) <> v_count
     OR coalesce(array_length(p_cap_accounts, 1), 0) <> coalesce(array_length(p_caps, 1), 0) THEN
    RAISE EXCEPTION 'ledger_post: every leg needs an id, a debit, a credit, an amount and a code'
      USING ERRCODE = 'LD000';
  END IF;
  INSERT INTO ledger_batches (id, key, code, reference, metadata)
    VALUES (p_batch_id, p_key, p_code, p_reference, p_metadata)
    ON CONFLICT (key) DO NOTHING;
  IF NOT FOUND THEN
    SELECT b.id INTO v_existing FROM ledger_batches b WHERE b.key = p_key;
    RETURN QUERY SELECT v_existing, true;
    RETURN;
  END IF;

  PERFORM 1 FROM ledger_accounts a
    WHERE (a.id = ANY (p_debits) AND (v_pending OR NOT a.deferred OR a.debits_must_not_exceed_credits))
       OR (a.id = ANY (p_credits) AND (v_pending OR NOT a.deferred))
    ORDER BY a.id
    FOR UPDATE;

  FOR v_leg IN 1 .. v_count LOOP
    v_amount := p_amounts[v_leg];
    IF v_amount IS NULL OR v_amount <= 0 OR p_debits[v_leg] = p_credits[v_leg] THEN
      RAISE EXCEPTION 'ledger_post: leg % must move a positive amount between two accounts', v_leg
        USING ERRCODE = 'LD000';
    END IF;
    SELECT * INTO v_debit FROM ledger_accounts WHERE id = p_debits[v_leg];
    IF NOT FOUND THEN
      RAISE EXCEPTION 'unknown ledger account' USING ERRCODE = 'LD001',
        DETAIL = json_build_object('account_id', p_debits[v_leg])::text;
    END IF;
    SELECT * INTO v_credit FROM ledger_accounts WHERE id = p_credits[v_leg];
    IF NOT FOUND THEN
      RAISE EXCEPTION 'unknown ledger account' USING ERRCODE = 'LD001',
        DETAIL = json_build_object('account_id', p_credits[v_leg])::text;
    END IF;
    IF v_debit.currency <> v_credit.currency THEN
      RAISE EXCEPTION 'accounts of a leg differ in currency' USING ERRCODE = 'LD003',
        DETAIL = json_build_object('debit', v_debit.currency, 'credit', v_credit.currency)::text;
    END IF;

    v_debit_after := NULL;
    IF v_pending THEN
      UPDATE ledger_accounts SET debits_pending = debits_pending + v_amount
        WHERE id = v_debit.id
          AND (NOT debits_must_not_exceed_credits OR debits_posted + debits_pending + v_amount <= credits_posted);
    ELSIF v_debit.deferred AND NOT v_debit.debits_must_not_exceed_credits THEN
      INSERT INTO ledger_deferred_deltas (account_id, debits, credits) VALUES (v_debit.id, v_amount, 0);
    ELSE
      UPDATE ledger_accounts SET debits_posted = debits_posted + v_amount
        WHERE id = v_debit.id
          AND (NOT debits_must_not_exceed_credits OR debits_posted + debits_pending + v_amount <= credits_posted)
        RETURNING ledger_normal_balance(kind, debits_posted, credits_posted) INTO v_debit_after;
    END IF;
    IF NOT FOUND THEN
      SELECT credits_posted - debits_posted - debits_pending INTO v_balance FROM ledger_accounts WHERE id = v_debit.id;
      -- What the account had before this batch and what the whole batch asks of it (amount, fee, duty …), not
      -- the balance left after the earlier legs and this leg alone.
      SELECT v_balance + coalesce(sum(CASE WHEN p_debits[i] = v_debit.id THEN p_amounts[i] ELSE 0 END), 0)
                       - coalesce(sum(CASE WHEN p_credits[i] = v_debit.id THEN p_amounts[i] ELSE 0 END), 0)
        INTO v_balance FROM generate_series(1, v_leg - 1) AS i;
      SELECT coalesce(sum(p_amounts[i]), 0) INTO v_required
        FROM generate_series(1, v_count) AS i WHERE p_debits[i] = v_debit.id;
      RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'LD101',
        DETAIL = json_build_object('account_id', v_debit.id, 'available', v_balance::text,
                                   'required', v_required::text)::text;
    END IF;

    v_credit_after := NULL;
    IF v_pending THEN
      UPDATE ledger_accounts SET credits_pending = credits_pending + v_amount
        WHERE id = v_credit.id
          AND (NOT credits_must_not_exceed_debits OR credits_posted + credits_pending + v_amount <= debits_posted);
    ELSIF v_credit.deferred THEN
      INSERT INTO ledger_deferred_deltas (account_id, debits, credits) VALUES (v_credit.id, 0, v_amount);
    ELSE
      UPDATE ledger_accounts SET credits_posted = credits_posted + v_amount
        WHERE id = v_credit.id
          AND (NOT credits_must_not_exceed_debits OR credits_posted + credits_pending + v_amount <= debits_posted)
        RETURNING ledger_normal_balance(kind, debits_posted, credits_posted) INTO v_credit_after;
    END IF;
    IF NOT FOUND THEN
      SELECT debits_posted - credits_posted - credits_pending INTO v_balance FROM ledger_accounts WHERE id = v_credit.id;
      SELECT v_balance + coalesce(sum(CASE WHEN p_credits[i] = v_credit.id THEN p_amounts[i] ELSE 0 END), 0)
                       - coalesce(sum(CASE WHEN p_debits[i] = v_credit.id THEN p_amounts[i] ELSE 0 END), 0)
        INTO v_balance FROM generate_series(1, v_leg - 1) AS i;
      SELECT coalesce(sum(p_amounts[i]), 0) INTO v_required
        FROM generate_series(1, v_count) AS i WHERE p_credits[i] = v_credit.id;
      RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'LD101',
        DETAIL = json_build_object('account_id', v_credit.id, 'available', v_balance::text,
                                   'required', v_required::text)::text;
    END IF;

    INSERT INTO ledger_transfers (id, batch_id, debit_account_id, credit_account_id, amount, currency, code, kind, expires_at)
      VALUES (p_ids[v_leg], p_batch_id, v_debit.id, v_credit.id, v_amount, v_debit.currency, p_codes[v_leg],
              CASE WHEN v_pending THEN 'pending' ELSE 'posted' END, p_pending_until);
    IF NOT v_pending THEN
      INSERT INTO ledger_entries (transfer_id, batch_id, account_id, direction, amount, currency, balance_after)
        VALUES (p_ids[v_leg], p_batch_id, v_debit.id, 'debit', v_amount, v_debit.currency, v_debit_after),
               (p_ids[v_leg], p_batch_id, v_credit.id, 'credit', v_amount, v_credit.currency, v_credit_after);
    END IF;
  END LOOP;

  FOR v_leg IN 1 .. coalesce(array_length(p_cap_accounts, 1), 0) LOOP
    SELECT ledger_normal_balance(kind, debits_posted, credits_posted + credits_pending) INTO v_balance
      FROM ledger_accounts WHERE id = p_cap_accounts[v_leg];
    IF v_balance > p_caps[v_leg] THEN
      RAISE EXCEPTION 'balance cap exceeded' USING ERRCODE = 'LD102',
        DETAIL = json_build_object('account_id', p_cap_accounts[v_leg], 'cap', p_caps[v_leg]::text,
                                   'balance', v_balance::text)::text;
    END IF;
  END LOOP;
  RETURN QUERY SELECT p_batch_id, false;
END;
$$;
