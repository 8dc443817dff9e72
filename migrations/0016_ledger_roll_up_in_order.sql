-- Why: the roll-up updated house-account rows in no set order while postings lock accounts in id order, so the two
-- could deadlock (retried, but wasted). It now applies the summed deltas account by account in id order.
CREATE OR REPLACE FUNCTION ledger_roll_up(p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  v_moved int := 0;
  v_row record;
BEGIN
  FOR v_row IN
    WITH picked AS (
      SELECT id FROM ledger_deferred_deltas ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED
    ), moved AS (
      DELETE FROM ledger_deferred_deltas d USING picked WHERE d.id = picked.id
      RETURNING d.account_id, d.debits, d.credits
    )
    SELECT account_id, sum(debits)::bigint AS debits, sum(credits)::bigint AS credits, count(*)::int AS moved
    FROM moved GROUP BY account_id ORDER BY account_id
  LOOP
    UPDATE ledger_accounts
      SET debits_posted = debits_posted + v_row.debits, credits_posted = credits_posted + v_row.credits
      WHERE id = v_row.account_id;
    v_moved := v_moved + v_row.moved;
  END LOOP;
  RETURN v_moved;
END;
$$;
