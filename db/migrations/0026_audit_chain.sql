-- A tamper-evident audit log: every row is chained to the one before it by
-- an HMAC-SHA256 under a key only the services hold (JF_AUDIT_KEY), so that
-- whoever can write the table without the key (the owner with its triggers
-- off, a superuser, a restored backup) cannot edit, delete or reorder a row
-- without `jingfang-api audit-verify` naming it.
--
--   chain_mac(n) = HMAC(key, chain_mac(n-1) || message(row n)), chain_mac(0) = ''
--
-- message() is each field in the order below, NULL as "-", else its length
-- in bytes, ":" and its text: chain_seq, id, at (microseconds since the
-- epoch), user_id, username, role, action, target_type, target_id,
-- org_unit_id, client_addr, request_id, detail (jsonb text). audit-verify
-- builds the same bytes in C from the stored columns.
--
-- The order is strict: the trigger takes the chain head row FOR UPDATE, so
-- audit rows are chained one transaction after another, in commit order
-- (the head stays locked until the inserting transaction ends). Rows from
-- before this migration carry no chain (chain_seq NULL).
--
-- The key reaches the database as the session setting jingfang.audit_key
-- (libpq options, set by the services at connect: never in a statement, so
-- never in a statement log). A session without it cannot add an audit row.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

ALTER TABLE audit_log ADD COLUMN chain_seq bigint UNIQUE, ADD COLUMN chain_mac bytea;

CREATE TABLE audit_chain_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint NOT NULL,
    mac  bytea NOT NULL
);
INSERT INTO audit_chain_head (seq, mac) VALUES (0, '');
-- Only the trigger (running as the owner) reads and moves the head.
REVOKE ALL ON audit_chain_head FROM jingfang_app;

CREATE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    key text := current_setting('jingfang.audit_key', true);
    head audit_chain_head;
    msg text := '';
    f text;
BEGIN
    IF key IS NULL OR key !~ '^[0-9a-fA-F]{64}$' THEN
        RAISE EXCEPTION 'audit rows are chained: connect with jingfang.audit_key set (JF_AUDIT_KEY)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO head FROM audit_chain_head FOR UPDATE;
    NEW.chain_seq := head.seq + 1;
    FOREACH f IN ARRAY ARRAY[NEW.chain_seq::text, NEW.id::text,
                             (extract(epoch FROM NEW.at) * 1000000)::bigint::text,
                             NEW.user_id::text, NEW.username, NEW.role, NEW.action,
                             NEW.target_type, NEW.target_id, NEW.org_unit_id::text,
                             NEW.client_addr, NEW.request_id, NEW.detail::text] LOOP
        msg := msg || coalesce(octet_length(f)::text || ':' || f, '-');
    END LOOP;
    NEW.chain_mac := public.hmac(head.mac || convert_to(msg, 'UTF8'), decode(key, 'hex'), 'sha256');
    UPDATE audit_chain_head SET seq = NEW.chain_seq, mac = NEW.chain_mac;
    RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION audit_log_chain() FROM PUBLIC;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
