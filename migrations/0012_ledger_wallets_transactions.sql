-- Why: the money path (issue 5): a double-entry ledger (accounts, batches, immutable transfers, journal lines with
-- running balances, deferred deltas for hot house accounts), wallets and their products and usage counters, billers,
-- linked bank accounts, FX rates, merchants with QR codes, transaction records and disputes.
CREATE TABLE "ledger_accounts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"code" text,
	"name" text NOT NULL,
	"currency" text NOT NULL,
	"kind" text NOT NULL,
	"debits_must_not_exceed_credits" boolean DEFAULT false NOT NULL,
	"credits_must_not_exceed_debits" boolean DEFAULT false NOT NULL,
	"deferred" boolean DEFAULT false NOT NULL,
	"debits_posted" bigint DEFAULT 0 NOT NULL,
	"credits_posted" bigint DEFAULT 0 NOT NULL,
	"debits_pending" bigint DEFAULT 0 NOT NULL,
	"credits_pending" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_accounts_totals_nonnegative" CHECK ("ledger_accounts"."debits_posted" >= 0 and "ledger_accounts"."credits_posted" >= 0
      and "ledger_accounts"."debits_pending" >= 0 and "ledger_accounts"."credits_pending" >= 0),
	CONSTRAINT "ledger_accounts_one_guard" CHECK (not ("ledger_accounts"."debits_must_not_exceed_credits" and "ledger_accounts"."credits_must_not_exceed_debits")),
	CONSTRAINT "ledger_accounts_deferred_unguarded_credit_side" CHECK (not ("ledger_accounts"."deferred" and "ledger_accounts"."credits_must_not_exceed_debits"))
);
--> statement-breakpoint
CREATE TABLE "ledger_batches" (
	"id" uuid PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"code" text NOT NULL,
	"reference" text,
	"metadata" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_deferred_deltas" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"debits" bigint NOT NULL,
	"credits" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"transfer_id" uuid NOT NULL,
	"batch_id" uuid NOT NULL,
	"account_id" uuid NOT NULL,
	"direction" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"balance_after" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_transfers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"batch_id" uuid NOT NULL,
	"debit_account_id" uuid NOT NULL,
	"credit_account_id" uuid NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"code" text NOT NULL,
	"kind" text NOT NULL,
	"pending_id" uuid,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_transfers_amount_positive" CHECK ("ledger_transfers"."amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "merchant_qr_codes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"merchant_id" uuid NOT NULL,
	"mode" text NOT NULL,
	"payload" text NOT NULL,
	"amount" bigint,
	"currency" text NOT NULL,
	"reference" text,
	"expires_at" timestamp with time zone,
	"used_at" timestamp with time zone,
	"transaction_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "merchants" (
	"id" uuid PRIMARY KEY NOT NULL,
	"merchant_number" text NOT NULL,
	"name" text NOT NULL,
	"mcc" text NOT NULL,
	"city" text NOT NULL,
	"country" text NOT NULL,
	"currency" text NOT NULL,
	"owner_customer_id" uuid,
	"status" text NOT NULL,
	"fee_bps" integer NOT NULL,
	"wallet_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "disputes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"transaction_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"description" text,
	"status" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"hold_transfer_id" uuid,
	"resolution" text,
	"resolved_by_id" text,
	"refund_transaction_id" uuid,
	"resolved_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transactions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"reference" text NOT NULL,
	"type" text NOT NULL,
	"status" text NOT NULL,
	"channel" text NOT NULL,
	"customer_id" uuid,
	"source_wallet_id" uuid,
	"destination_wallet_id" uuid,
	"counterparty_customer_id" uuid,
	"merchant_id" uuid,
	"biller_id" uuid,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"fee" bigint DEFAULT 0 NOT NULL,
	"tax" bigint DEFAULT 0 NOT NULL,
	"destination_amount" bigint,
	"destination_currency" text,
	"narration" text,
	"ledger_batch_id" uuid,
	"related_transaction_id" uuid,
	"failure_code" text,
	"failure_reason" text,
	"metadata" jsonb,
	"initiated_by_type" text NOT NULL,
	"initiated_by_id" text,
	"history" jsonb NOT NULL,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"category" text NOT NULL,
	"currency" text NOT NULL,
	"adapter" text NOT NULL,
	"reference_pattern" text NOT NULL,
	"min_amount" bigint DEFAULT 1 NOT NULL,
	"max_amount" bigint,
	"settlement_account_id" uuid NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fx_rates" (
	"id" uuid PRIMARY KEY NOT NULL,
	"base_currency" text NOT NULL,
	"quote_currency" text NOT NULL,
	"rate_numerator" bigint NOT NULL,
	"rate_denominator" bigint NOT NULL,
	"spread_bps" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "linked_bank_accounts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"customer_id" uuid NOT NULL,
	"bank_code" text NOT NULL,
	"account_number_sealed" text NOT NULL,
	"account_number_index" text NOT NULL,
	"account_number_last4" text NOT NULL,
	"account_name" text NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"verification_method" text,
	"micro_deposit_hash" text,
	"verification_attempts" integer DEFAULT 0 NOT NULL,
	"external_account_id" text,
	"verified_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "wallet_products" (
	"id" uuid PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"currency" text NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"fees" jsonb NOT NULL,
	"limits" jsonb NOT NULL,
	"allowed_channels" jsonb NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "wallet_usage" (
	"wallet_id" uuid NOT NULL,
	"period" text NOT NULL,
	"direction" text NOT NULL,
	"amount" bigint DEFAULT 0 NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "wallet_usage_wallet_id_period_direction_pk" PRIMARY KEY("wallet_id","period","direction")
);
--> statement-breakpoint
CREATE TABLE "wallets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"wallet_number" text NOT NULL,
	"owner_type" text NOT NULL,
	"customer_id" uuid,
	"merchant_id" uuid,
	"currency" text NOT NULL,
	"product_id" uuid NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"status_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ledger_transfers" ADD CONSTRAINT "ledger_transfers_batch_id_ledger_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."ledger_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_transfers" ADD CONSTRAINT "ledger_transfers_debit_account_id_ledger_accounts_id_fk" FOREIGN KEY ("debit_account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_transfers" ADD CONSTRAINT "ledger_transfers_credit_account_id_ledger_accounts_id_fk" FOREIGN KEY ("credit_account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_accounts_code_key" ON "ledger_accounts" USING btree ("code");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_batches_key_key" ON "ledger_batches" USING btree ("key");--> statement-breakpoint
CREATE INDEX "ledger_deferred_deltas_account_idx" ON "ledger_deferred_deltas" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "ledger_entries_account_idx" ON "ledger_entries" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "ledger_entries_batch_idx" ON "ledger_entries" USING btree ("batch_id");--> statement-breakpoint
CREATE INDEX "ledger_transfers_batch_idx" ON "ledger_transfers" USING btree ("batch_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_transfers_pending_key" ON "ledger_transfers" USING btree ("pending_id");--> statement-breakpoint
CREATE INDEX "ledger_transfers_open_pending_idx" ON "ledger_transfers" USING btree ("expires_at") WHERE "ledger_transfers"."kind" = 'pending';--> statement-breakpoint
CREATE INDEX "merchant_qr_codes_merchant_idx" ON "merchant_qr_codes" USING btree ("merchant_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "merchant_qr_codes_reference_key" ON "merchant_qr_codes" USING btree ("reference") WHERE "merchant_qr_codes"."reference" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "merchants_number_key" ON "merchants" USING btree ("merchant_number");--> statement-breakpoint
CREATE UNIQUE INDEX "disputes_open_per_transaction_key" ON "disputes" USING btree ("transaction_id") WHERE "disputes"."status" in ('open', 'investigating');--> statement-breakpoint
CREATE INDEX "disputes_customer_idx" ON "disputes" USING btree ("customer_id","id");--> statement-breakpoint
CREATE INDEX "disputes_status_idx" ON "disputes" USING btree ("status","id");--> statement-breakpoint
CREATE UNIQUE INDEX "transactions_reference_key" ON "transactions" USING btree ("reference");--> statement-breakpoint
CREATE INDEX "transactions_customer_idx" ON "transactions" USING btree ("customer_id","id");--> statement-breakpoint
CREATE INDEX "transactions_counterparty_idx" ON "transactions" USING btree ("counterparty_customer_id","id");--> statement-breakpoint
CREATE INDEX "transactions_source_wallet_idx" ON "transactions" USING btree ("source_wallet_id","id");--> statement-breakpoint
CREATE INDEX "transactions_destination_wallet_idx" ON "transactions" USING btree ("destination_wallet_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "transactions_one_reversal_key" ON "transactions" USING btree ("related_transaction_id") WHERE "transactions"."type" = 'reversal';--> statement-breakpoint
CREATE UNIQUE INDEX "billers_code_key" ON "billers" USING btree ("code");--> statement-breakpoint
CREATE UNIQUE INDEX "fx_rates_pair_key" ON "fx_rates" USING btree ("base_currency","quote_currency");--> statement-breakpoint
CREATE INDEX "linked_bank_accounts_customer_idx" ON "linked_bank_accounts" USING btree ("customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "linked_bank_accounts_active_key" ON "linked_bank_accounts" USING btree ("customer_id","bank_code","account_number_index") WHERE "linked_bank_accounts"."status" <> 'unlinked';--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_products_code_key" ON "wallet_products" USING btree ("code");--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_products_default_key" ON "wallet_products" USING btree ("currency") WHERE "wallet_products"."is_default";--> statement-breakpoint
CREATE UNIQUE INDEX "wallets_number_key" ON "wallets" USING btree ("wallet_number");--> statement-breakpoint
CREATE UNIQUE INDEX "wallets_customer_currency_key" ON "wallets" USING btree ("customer_id","currency") WHERE "wallets"."owner_type" = 'customer';--> statement-breakpoint
CREATE UNIQUE INDEX "wallets_merchant_currency_key" ON "wallets" USING btree ("merchant_id","currency") WHERE "wallets"."owner_type" = 'merchant';