-- Why: issue 21 — a leaner posting (ADR 0032). Every index on the tables a transfer writes was checked against the
-- queries of src/ and EXPLAINed on the benchmark database: these four changes remove the entries no query reads.
-- A P2P transfer with fee and duty wrote 51 index entries; it now writes 35 (the rows written are unchanged).

-- Why: every posted leg has pending_id NULL and a plain btree keeps an entry for each NULL: 3 of 3 entries per
-- transfer indexed nothing a query looks up. Every reader asks `pending_id = …` or `pending_id IN (…)` (pendingStates,
-- voidExpired, ledger-verify, ledger_resolve), which implies NOT NULL, so the partial index serves all of them, and it
-- is still UNIQUE: a pending transfer is resolved at most once. Same name: ledgerErrorOf matches it in the error.
DROP INDEX "ledger_transfers_pending_key";--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_transfers_pending_key" ON "ledger_transfers" USING btree ("pending_id") WHERE "ledger_transfers"."pending_id" is not null;--> statement-breakpoint

-- Why: no query of the application reads journal lines by batch (the statement joins the batch by its primary key from
-- the line; reversals, disputes and replays read a batch's legs through ledger_transfers_batch_idx). It cost 6 entries
-- per transfer (26 bytes each, 2.9 MB of 14 MB on the benchmark database).
DROP INDEX "ledger_entries_batch_idx";--> statement-breakpoint

-- Why: no query looks a journal line up by its id alone: statement pages and opening balances go by (account_id, id)
-- (ledger_entries_account_idx) or (account_id, created_at, id), ledger-verify reads the whole table, nothing references
-- a line, and the table is append-only (trigger) with ids from its sequence. The key cost 6 entries per transfer, and
-- the planner took it for the statement of a busy account (an id-ordered walk filtering on the account: 1,897 buffers
-- for a page of the fee account against 661 through ledger_entries_account_idx). The column stays NOT NULL.
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_pkey";--> statement-breakpoint

-- Why: only eventsOf (tests and support look-ups of one aggregate, on small tables) filtered by aggregate; the
-- dispatcher, replay and purge go by id, topic and dispatched_at. It cost 1 entry per event (88 bytes) on insert and
-- another when the hand-out's update of dispatched_at (never HOT: the column is in the undispatched index's predicate)
-- writes the row's new version.
DROP INDEX "outbox_events_aggregate_idx";
