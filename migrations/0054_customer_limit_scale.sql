-- Why: issue 20 — a customer rated high risk gets lower limits by setting (enhanced due diligence), and staff may
-- restrict a customer the same way. One scale per customer, owned by the customers module: every KYC-tier and product
-- amount limit of the customer's wallets counts at `limit_percent` percent (100: as set), `limit_reason` says who set
-- it (a code: `aml_high_risk`, `staff`), so AML clears only its own. The scale is part of `payment_wallet_state`, so the
-- one-call commit's re-check under the wallet lock sees a scale changed after the checks and answers 'stale'.
ALTER TABLE customers
  ADD COLUMN limit_percent smallint NOT NULL DEFAULT 100,
  ADD COLUMN limit_reason text,
  ADD CONSTRAINT customers_limit_percent_range CHECK (limit_percent BETWEEN 1 AND 100),
  ADD CONSTRAINT customers_limit_reason_code CHECK (limit_reason ~ '^[a-z][a-z0-9_]{0,39}$'),
  ADD CONSTRAINT customers_limit_reason_when_scaled CHECK ((limit_percent = 100) = (limit_reason IS NULL));
--> statement-breakpoint

-- As in 0024, plus the owner's limit scale ('limit_percent': null for a wallet no customer owns).
CREATE OR REPLACE FUNCTION payment_wallet_state(p_ids uuid[], p_day text, p_month text)
RETURNS TABLE (wallet_id uuid, state jsonb)
LANGUAGE sql STABLE AS $$
  SELECT w.id,
         jsonb_build_object(
           'status', w.status, 'currency', w.currency, 'product_id', w.product_id, 'owner_type', w.owner_type,
           'customer_id', w.customer_id, 'merchant_id', w.merchant_id,
           'tier', t.code, 'max_balance', t.max_balance, 'features', t.features,
           'limit_percent', c.limit_percent,
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
