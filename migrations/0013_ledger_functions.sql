-- Why: one database round trip per posting (ARCHITECTURE "Money and the ledger"). `ledger_post` inserts the batch
-- key first (a retried posting finds it and applies nothing), locks the rows it will update in id order (no
-- deadlocks between postings), applies guarded updates (a wallet never goes below zero, a cash account never below
-- zero) and writes the immutable transfers and journal lines with running balances. Hot house accounts are
-- `deferred`: their side of a posting appends a delta instead of locking the row, and `ledger_roll_up` moves deltas
-- into the totals. `ledger_resolve` posts (fully or partly) or voids pending transfers exactly once.
-- Errors carry SQLSTATEs of class LD so the service maps them: LD000 malformed, LD001 unknown account,
-- LD003 currency mismatch, LD101 insufficient funds, LD102 balance cap, LD104 no such pending transfer,
-- LD105 already resolved, LD106 expired. DETAIL is JSON.
CREATE OR REPLACE FUNCTION ledger_normal_balance(p_kind text, p_debits bigint, p_credits bigint) RETURNS bigint
  LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_kind IN ('asset', 'expense') THEN p_debits - p_credits ELSE p_credits - p_debits END
$$;
--> statement-breakpoint
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
      RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'LD101',
        DETAIL = json_build_object('account_id', v_debit.id, 'available', v_balance::text,
                                   'required', v_amount::text)::text;
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
      RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'LD101',
        DETAIL = json_build_object('account_id', v_credit.id, 'available', v_balance::text,
                                   'required', v_amount::text)::text;
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
--> statement-breakpoint
CREATE OR REPLACE FUNCTION ledger_resolve(
  p_batch_id uuid, p_key text, p_code text, p_reference text, p_metadata jsonb,
  p_pending_ids uuid[], p_ids uuid[], p_amounts bigint[], p_void boolean
) RETURNS TABLE (batch_id uuid, replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_count int := coalesce(array_length(p_pending_ids, 1), 0);
  v_leg int;
  v_pending ledger_transfers%ROWTYPE;
  v_amount bigint;
  v_existing uuid;
  v_debit_after bigint;
  v_credit_after bigint;
BEGIN
  IF v_count = 0 OR coalesce(array_length(p_ids, 1), 0) <> v_count
     OR coalesce(array_length(p_amounts, 1), 0) <> v_count THEN
    RAISE EXCEPTION 'ledger_resolve: every pending transfer needs a new id and an amount' USING ERRCODE = 'LD000';
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
    WHERE a.id IN (SELECT t.debit_account_id FROM ledger_transfers t WHERE t.id = ANY (p_pending_ids)
                   UNION SELECT t.credit_account_id FROM ledger_transfers t WHERE t.id = ANY (p_pending_ids))
    ORDER BY a.id
    FOR UPDATE;

  FOR v_leg IN 1 .. v_count LOOP
    SELECT * INTO v_pending FROM ledger_transfers WHERE id = p_pending_ids[v_leg] AND kind = 'pending';
    IF NOT FOUND THEN
      RAISE EXCEPTION 'no such pending transfer' USING ERRCODE = 'LD104',
        DETAIL = json_build_object('transfer_id', p_pending_ids[v_leg])::text;
    END IF;
    IF EXISTS (SELECT 1 FROM ledger_transfers WHERE pending_id = v_pending.id) THEN
      RAISE EXCEPTION 'pending transfer already resolved' USING ERRCODE = 'LD105',
        DETAIL = json_build_object('transfer_id', v_pending.id)::text;
    END IF;
    v_amount := CASE WHEN p_void THEN 0 ELSE coalesce(p_amounts[v_leg], v_pending.amount) END;
    IF v_amount < 0 OR v_amount > v_pending.amount THEN
      RAISE EXCEPTION 'posted amount must be between 0 and the pending amount' USING ERRCODE = 'LD000';
    END IF;
    IF NOT p_void AND v_pending.expires_at IS NOT NULL AND v_pending.expires_at <= clock_timestamp() THEN
      RAISE EXCEPTION 'pending transfer expired' USING ERRCODE = 'LD106',
        DETAIL = json_build_object('transfer_id', v_pending.id)::text;
    END IF;
    UPDATE ledger_accounts
      SET debits_pending = debits_pending - v_pending.amount, debits_posted = debits_posted + v_amount
      WHERE id = v_pending.debit_account_id
      RETURNING ledger_normal_balance(kind, debits_posted, credits_posted) INTO v_debit_after;
    UPDATE ledger_accounts
      SET credits_pending = credits_pending - v_pending.amount, credits_posted = credits_posted + v_amount
      WHERE id = v_pending.credit_account_id
      RETURNING ledger_normal_balance(kind, debits_posted, credits_posted) INTO v_credit_after;
    INSERT INTO ledger_transfers (id, batch_id, debit_account_id, credit_account_id, amount, currency, code, kind, pending_id)
      VALUES (p_ids[v_leg], p_batch_id, v_pending.debit_account_id, v_pending.credit_account_id, v_amount,
              v_pending.currency, v_pending.code, CASE WHEN p_void THEN 'void_pending' ELSE 'post_pending' END,
              v_pending.id);
    IF v_amount > 0 THEN
      INSERT INTO ledger_entries (transfer_id, batch_id, account_id, direction, amount, currency, balance_after)
        VALUES (p_ids[v_leg], p_batch_id, v_pending.debit_account_id, 'debit', v_amount, v_pending.currency, v_debit_after),
               (p_ids[v_leg], p_batch_id, v_pending.credit_account_id, 'credit', v_amount, v_pending.currency, v_credit_after);
    END IF;
  END LOOP;
  RETURN QUERY SELECT p_batch_id, false;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION ledger_roll_up(p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  v_moved int;
BEGIN
  WITH picked AS (
    SELECT id FROM ledger_deferred_deltas ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED
  ), moved AS (
    DELETE FROM ledger_deferred_deltas d USING picked WHERE d.id = picked.id
    RETURNING d.account_id, d.debits, d.credits
  ), sums AS (
    SELECT account_id, sum(debits)::bigint AS debits, sum(credits)::bigint AS credits, count(*)::int AS moved
    FROM moved GROUP BY account_id
  ), applied AS (
    UPDATE ledger_accounts a
      SET debits_posted = a.debits_posted + s.debits, credits_posted = a.credits_posted + s.credits
      FROM sums s WHERE a.id = s.account_id
      RETURNING s.moved
  )
  SELECT coalesce(sum(applied.moved), 0)::int INTO v_moved FROM applied;
  RETURN v_moved;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
--> statement-breakpoint
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
