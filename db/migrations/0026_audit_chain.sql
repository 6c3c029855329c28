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
-- (the head stays locked until the inserting transaction ends: transactions
-- that add audit rows commit one at a time). Rows from before this
-- migration carry no chain (chain_seq NULL).
--
-- The key reaches the database as the session setting jingfang.audit_key
-- (libpq options, set by the services at connect: never in a statement, so
-- never in a statement log). A session without it cannot add an audit row.
-- The services' own sessions can read it: the chain guards against those
-- who write the table without being the service, not against the service.

ALTER TABLE audit_log ADD COLUMN chain_seq bigint UNIQUE, ADD COLUMN chain_mac bytea;

CREATE TABLE audit_chain_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint NOT NULL,
    mac  bytea NOT NULL
);
INSERT INTO audit_chain_head (seq, mac) VALUES (0, '');
-- Only the trigger (running as the owner) reads and moves the head.
REVOKE ALL ON audit_chain_head FROM jingfang_app;

-- The link reached so far in this transaction, "xid seq mac-hex", is kept in
-- the transaction-local setting jingfang.audit_link: the head row is read
-- (and locked) once per transaction and written once per statement, not
-- once per row (a batch of read records is one COPY of many rows).
CREATE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    key text := current_setting('jingfang.audit_key', true);
    link text[] := string_to_array(current_setting('jingfang.audit_link', true), ' ');
    seq bigint;
    mac bytea;
    pads bytea; -- HMAC's key XOR ipad, then key XOR opad (RFC 2104), 64 bytes each
    msg text := '';
    f text;
BEGIN
    IF key IS NULL OR key !~ '^[0-9a-fA-F]{64}$' THEN
        RAISE EXCEPTION 'audit rows are chained: connect with jingfang.audit_key set (JF_AUDIT_KEY)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF link[1] IS DISTINCT FROM txid_current()::text THEN
        SELECT h.seq, h.mac INTO seq, mac FROM audit_chain_head h FOR UPDATE;
        pads := decode(key || repeat('00', 32) || key || repeat('00', 32), 'hex');
        FOR i IN 0..63 LOOP
            pads := set_byte(set_byte(pads, i, get_byte(pads, i) # 54), i + 64,
                             get_byte(pads, i + 64) # 92);
        END LOOP;
        PERFORM set_config('jingfang.audit_pads', encode(pads, 'hex'), true);
    ELSE
        seq := link[2]::bigint;
        mac := decode(link[3], 'hex');
        pads := decode(current_setting('jingfang.audit_pads'), 'hex');
    END IF;
    NEW.chain_seq := seq + 1;
    FOREACH f IN ARRAY ARRAY[NEW.chain_seq::text, NEW.id::text,
                             (extract(epoch FROM NEW.at) * 1000000)::bigint::text,
                             NEW.user_id::text, NEW.username, NEW.role, NEW.action,
                             NEW.target_type, NEW.target_id, NEW.org_unit_id::text,
                             NEW.client_addr, NEW.request_id, NEW.detail::text] LOOP
        msg := msg || coalesce(octet_length(f)::text || ':' || f, '-');
    END LOOP;
    -- HMAC-SHA256 with the built-in sha256(): pgcrypto's hmac() costs
    -- eight times as much per call.
    NEW.chain_mac := sha256(substr(pads, 65, 64)
                            || sha256(substr(pads, 1, 64) || mac || convert_to(msg, 'UTF8')));
    PERFORM set_config('jingfang.audit_link',
                       txid_current()::text || ' ' || NEW.chain_seq || ' ' || encode(NEW.chain_mac, 'hex'),
                       true);
    RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION audit_log_chain() FROM PUBLIC;

-- After each statement that added rows: move the head to the last link.
CREATE FUNCTION audit_log_chain_head() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    link text[] := string_to_array(current_setting('jingfang.audit_link', true), ' ');
BEGIN
    IF link[1] = txid_current()::text THEN
        UPDATE audit_chain_head SET seq = link[2]::bigint, mac = decode(link[3], 'hex')
         WHERE seq < link[2]::bigint;
    END IF;
    RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION audit_log_chain_head() FROM PUBLIC;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
CREATE TRIGGER audit_log_chain_head AFTER INSERT ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_chain_head();
