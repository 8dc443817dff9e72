-- Why: a key whose first request died answered 409 IDEMPOTENCY_IN_PROGRESS until its 60 s lease lapsed (issue 14).
-- A claim now names its holder: the advisory-lock id of the live database session of the process running it (on
-- PGlite, the process's id). A claim whose holder's session has ended is taken over at once (ADR 0006). Claims
-- written before this migration have no holder: their lease alone decides, as before.
ALTER TABLE "idempotency_keys" ADD COLUMN "holder" integer;
