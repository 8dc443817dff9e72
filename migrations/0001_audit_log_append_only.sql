-- Why: the audit trail is append-only (ARCHITECTURE "Audit"). The hash chain detects tampering after the fact;
-- this trigger refuses UPDATE, DELETE and TRUNCATE through the application role so tampering needs a deliberate
-- ALTER TABLE … DISABLE TRIGGER by the table owner (itself visible in PostgreSQL's logs).
CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
