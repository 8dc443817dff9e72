-- Why: wallet statements filter by period (and read the opening balance before it) and disputes are looked up by
-- transaction; both were scans of a growing table (review of the money path).
CREATE INDEX "ledger_entries_account_time_idx" ON "ledger_entries" USING btree ("account_id","created_at","id");--> statement-breakpoint
CREATE INDEX "disputes_transaction_idx" ON "disputes" USING btree ("transaction_id");