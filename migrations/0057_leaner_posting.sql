-- Why: issue 21 — a leaner posting (ADR 0032). Every index on the tables a transfer writes was checked against the
-- queries of src/ and EXPLAINed on the benchmark database: these three changes remove the entries no query reads.
-- A P2P transfer with fee and duty wrote 51 index entries; it now writes 41 (the rows written are unchanged).

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

-- Kept: ledger_entries_pkey. No query finds a line by id alone, but the journal is the book of record: its lines stay
-- unique by a constraint, not only by their sequence (a restore or a repair script cannot duplicate one), and CDC and
-- maintenance tools expect a key on every table (ADR 0032, "The journal keeps its primary key").

-- Why: only eventsOf (tests and support look-ups of one aggregate, on small tables) filtered by aggregate; the
-- dispatcher, replay and purge go by id, topic and dispatched_at. It cost 1 entry per event (88 bytes) on insert and
-- another when the hand-out's update of dispatched_at (never HOT: the column is in the undispatched index's predicate)
-- writes the row's new version.
DROP INDEX "outbox_events_aggregate_idx";
