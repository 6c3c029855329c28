-- The audit trail: append-only, chained by HMAC, partitioned by month in
-- China time, archived month by month.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- The link reached so far in this transaction, "xid seq mac-hex", is kept in
-- the transaction-local setting jingfang.audit_link: the head row is read
-- (and locked) once per transaction and written once per statement, not
-- once per row (a batch of read records is one COPY of many rows).
CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger
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

-- After each statement that added rows: move the head to the last link.
CREATE OR REPLACE FUNCTION audit_log_chain_head() RETURNS trigger
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

CREATE OR REPLACE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

CREATE OR REPLACE TRIGGER audit_log_chain_head AFTER INSERT ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_chain_head();

-- The month holding p_day: its partition's name and bounds.
CREATE OR REPLACE FUNCTION audit_month(p_day date, OUT name text, OUT lo timestamptz, OUT hi timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT 'audit_log_' || to_char(p_day, 'YYYYMM'),
           make_timestamptz(extract(year FROM p_day)::int, extract(month FROM p_day)::int, 1,
                            0, 0, 0, 'Asia/Shanghai'),
           make_timestamptz(extract(year FROM p_day + interval '1 month')::int,
                            extract(month FROM p_day + interval '1 month')::int, 1,
                            0, 0, 0, 'Asia/Shanghai')
$$;

-- Make the months from p_from to p_to that are missing (never one archived:
-- audit_archives keeps those). Run by the worker every pass for the months
-- ahead, so an insert never finds no partition. The lock timeout keeps a
-- long reader of the trail from queueing the service's inserts behind the
-- new partition's lock; the next pass tries again. Returns how many it made.
CREATE OR REPLACE FUNCTION audit_partitions_ensure(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    d date;
    m record;
    made integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('audit_partitions_ensure'));
    SET LOCAL lock_timeout = '2s';
    FOR d IN SELECT generate_series(date_trunc('month', p_from), date_trunc('month', p_to),
                                    interval '1 month')::date LOOP
        m := audit_month(d);
        CONTINUE WHEN to_regclass(m.name) IS NOT NULL
                   OR EXISTS (SELECT 1 FROM audit_archives a WHERE a.partition = m.name);
        EXECUTE format('CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)',
                       m.name, m.lo, m.hi);
        -- Through the parent only: a partition named directly would escape
        -- the grants below.
        EXECUTE format('REVOKE ALL ON %I FROM jingfang_app', m.name);
        made := made + 1;
    END LOOP;
    RETURN made;
END $$;

-- The patient-history index on every month wholly before the month of
-- p_day that lacks it. Returns how many it built.
CREATE OR REPLACE FUNCTION audit_partitions_index(p_day date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    m record;
    built integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('audit_partitions_ensure'));
    SET LOCAL lock_timeout = '2s';
    FOR m IN SELECT c.relname
               FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
                    LATERAL audit_month(to_date(substr(c.relname, 11), 'YYYYMM')) a
              WHERE i.inhparent = 'audit_log'::regclass AND c.relname ~ '^audit_log_[0-9]{6}$'
                AND a.hi <= (SELECT lo FROM audit_month(p_day))
                AND to_regclass(c.relname || '_target') IS NULL LOOP
        EXECUTE format('CREATE INDEX %I ON %I (target_type, target_id, at)',
                       m.relname || '_target', m.relname);
        built := built + 1;
    END LOOP;
    RETURN built;
END $$;

-- The months wholly before the month of p_before (and before the current
-- month), oldest first: what an archive run may take.
CREATE OR REPLACE FUNCTION audit_archivable(p_before date)
RETURNS TABLE (name text, lo timestamptz, hi timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT m.name, m.lo, m.hi
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
           LATERAL audit_month(to_date(substr(c.relname, 11), 'YYYYMM')) m
     WHERE i.inhparent = 'audit_log'::regclass AND c.relname ~ '^audit_log_[0-9]{6}$'
       AND m.hi <= (SELECT a.lo FROM audit_month(least(p_before,
                                                       (now() AT TIME ZONE 'Asia/Shanghai')::date)) a)
     ORDER BY m.lo
$$;

-- Record month p_name as archived in p_file (its rows' SHA-256 p_sha256),
-- then detach and drop it, in the caller's transaction. The owner's work
-- (`jingfang-api audit-archive`, which has written and synced the file
-- first); oldest month first, so the anchor only moves forward.
CREATE OR REPLACE FUNCTION audit_archive_record(p_name text, p_sha256 text, p_file text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    m record;
    prev audit_archives;
    a audit_archives;
BEGIN
    SELECT * INTO m FROM audit_archivable('infinity') x WHERE x.name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit month % is not there or not yet over', p_name;
    END IF;
    IF EXISTS (SELECT 1 FROM audit_archivable('infinity') x WHERE x.lo < m.lo) THEN
        RAISE EXCEPTION 'archive the older audit months before %', p_name;
    END IF;
    SET LOCAL lock_timeout = '5s';
    SELECT * INTO prev FROM audit_archives ORDER BY anchor_seq DESC, archived_at DESC LIMIT 1;
    EXECUTE format('SELECT count(*), min(chain_seq), max(chain_seq) FROM %I', p_name)
       INTO a.rows, a.first_seq, a.last_seq;
    -- The link before the oldest row that stays.
    EXECUTE format('SELECT coalesce(min(chain_seq) - 1, (SELECT seq FROM audit_chain_head))'
                   ' FROM audit_log WHERE tableoid <> %L::regclass', p_name)
       INTO a.anchor_seq;
    EXECUTE format('SELECT coalesce(jsonb_object_agg(chain_seq, encode(chain_mac, ''hex'')), ''{}'')'
                   ' FROM %I WHERE chain_seq >= $1', p_name)
       INTO a.bridges USING a.anchor_seq;
    a.bridges := a.bridges || coalesce((SELECT jsonb_object_agg(b.key, b.value)
                                          FROM jsonb_each(prev.bridges) b
                                         WHERE b.key::bigint >= a.anchor_seq), '{}');
    a.anchor_mac := CASE WHEN a.anchor_seq = 0 THEN ''::bytea
                         WHEN a.anchor_seq = prev.anchor_seq THEN prev.anchor_mac
                         ELSE decode(a.bridges ->> a.anchor_seq::text, 'hex') END;
    IF a.anchor_mac IS NULL THEN
        RAISE EXCEPTION 'audit chain link % is neither archived nor here', a.anchor_seq;
    END IF;
    a.bridges := a.bridges - a.anchor_seq::text;
    INSERT INTO audit_archives (partition, period_from, period_to, rows, first_seq, last_seq,
                                anchor_seq, anchor_mac, bridges, sha256, file)
    VALUES (p_name, m.lo, m.hi, a.rows, a.first_seq, a.last_seq, a.anchor_seq, a.anchor_mac,
            a.bridges, p_sha256, p_file);
    EXECUTE format('ALTER TABLE audit_log DETACH PARTITION %I', p_name);
    EXECUTE format('DROP TABLE %I', p_name);
END $$;
