-- Why: money inside jsonb is a decimal string of minor units, never a JSON number, and a money-valued key names its
-- unit (issue 15, "Money as a type"). Rewritten in place, leaving rows already in the new shape as they are:
-- wallet products' fee rules (`fixed`, `min`, `max` become `fixed_minor`, `min_minor`, `max_minor`) and limits
-- (`single`, `daily`, `monthly`, `max_balance` become `*_minor`); the per-currency threshold settings
-- (`payments.otp_threshold`, `payments.cash_withdrawal_approval_threshold`, `payments.staff_transfer_approval_threshold`
-- become `*_minor`); the amounts in transaction metadata (`merchant_fee`, a number, and the decimal strings
-- `from_hold`, `from_recipient`, `refunded_fee`, `refunded_tax` become `*_minor` strings); and the amounts of
-- maker-checker payloads and results, written as JSON numbers until now. The audit log is append-only and keeps the
-- shapes it recorded.
UPDATE "wallet_products" SET "fees" = (
  SELECT coalesce(jsonb_object_agg(
    "rule"."key",
    CASE WHEN "rule"."value" ? 'fixed_minor' THEN "rule"."value" ELSE jsonb_build_object(
      'fixed_minor', "rule"."value" ->> 'fixed',
      'percent_bps', "rule"."value" -> 'percent_bps',
      'min_minor', "rule"."value" ->> 'min',
      'max_minor', "rule"."value" ->> 'max',
      'tax_bps', "rule"."value" -> 'tax_bps'
    ) END
  ), '{}'::jsonb)
  FROM jsonb_each("wallet_products"."fees") AS "rule"
);--> statement-breakpoint
UPDATE "wallet_products" SET "limits" = (
  SELECT coalesce(jsonb_object_agg(
    CASE WHEN "limit"."key" LIKE '%\_minor' THEN "limit"."key" ELSE "limit"."key" || '_minor' END,
    to_jsonb("limit"."value" #>> '{}')
  ), '{}'::jsonb)
  FROM jsonb_each("wallet_products"."limits") AS "limit"
  WHERE jsonb_typeof("limit"."value") <> 'null'
);--> statement-breakpoint
UPDATE "app_settings" SET "key" = "key" || '_minor', "value" = (
  SELECT coalesce(jsonb_object_agg("threshold"."key", to_jsonb("threshold"."value" #>> '{}')), '{}'::jsonb)
  FROM jsonb_each("app_settings"."value") AS "threshold"
)
WHERE "key" IN (
  'payments.otp_threshold',
  'payments.cash_withdrawal_approval_threshold',
  'payments.staff_transfer_approval_threshold'
);--> statement-breakpoint
UPDATE "transactions"
SET "metadata" = ("metadata" - 'merchant_fee') || jsonb_build_object('merchant_fee_minor', "metadata" ->> 'merchant_fee')
WHERE "metadata" ? 'merchant_fee';--> statement-breakpoint
UPDATE "transactions"
SET "metadata" = ("metadata" - 'from_hold' - 'from_recipient')
  || jsonb_build_object('from_hold_minor', "metadata" ->> 'from_hold', 'from_recipient_minor', "metadata" ->> 'from_recipient')
WHERE "metadata" ? 'from_hold';--> statement-breakpoint
UPDATE "transactions"
SET "metadata" = ("metadata" - 'refunded_fee' - 'refunded_tax')
  || jsonb_build_object('refunded_fee_minor', "metadata" ->> 'refunded_fee', 'refunded_tax_minor', "metadata" ->> 'refunded_tax')
WHERE "metadata" ? 'refunded_fee';
--> statement-breakpoint
UPDATE "approval_requests" SET "payload" = jsonb_set("payload", '{amount}', to_jsonb("payload" ->> 'amount'))
WHERE jsonb_typeof("payload" -> 'amount') = 'number';--> statement-breakpoint
UPDATE "approval_requests" SET "result" = (
  SELECT jsonb_object_agg(
    "field"."key",
    CASE
      WHEN "field"."key" IN ('amount', 'fee', 'tax', 'total', 'destination_amount')
        AND jsonb_typeof("field"."value") = 'number'
      THEN to_jsonb("field"."value" #>> '{}')
      ELSE "field"."value"
    END
  )
  FROM jsonb_each("approval_requests"."result") AS "field"
)
WHERE jsonb_typeof("result") = 'object' AND "result" <> '{}'::jsonb;
