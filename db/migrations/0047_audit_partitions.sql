-- The audit trail by month. A row per read makes it by far the largest
-- table, and one ever-growing table's indexes outgrow memory: every read
-- the service answers then pays for the index pages it adds. Partitioned
-- by month (China time, as the offices count), the indexes written are the
-- current month's, a query naming a period reads only its months, and an
-- old month leaves as a whole for the archive (`jingfang-api
-- audit-archive`), its HMAC chain carried on by a record here.
--
-- Indexes kept small. On every month: the primary key (id, at), the chain
-- order and BRIN on time, all three written at their right-hand end. A
-- patient history's (target_type, target_id, at) is written at random, a
-- page per read: on a month of 4 million rows it tripled the WAL of a read
-- (tests/bench/audit_bench.sh). So it is built on a month once the month
-- is over (audit_partitions_index, by the worker), where the history is
-- looked up; the current month is scanned (the history's other arm, the
-- list pages naming the patient, is a scan anyway). The per-user btree
-- went, as nothing reads the trail by user.

ALTER TABLE audit_log RENAME TO audit_log_unpartitioned;
ALTER SEQUENCE audit_log_id_seq OWNED BY NONE;

CREATE TABLE audit_log (
    id           bigint NOT NULL DEFAULT nextval('audit_log_id_seq'),
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      bigint,
    username     text,
    role         text,
    action       text NOT NULL,
    target_type  text,
    target_id    text,
    org_unit_id  bigint,
    client_addr  text,
    request_id   text,
    detail       jsonb,
    chain_seq    bigint,
    chain_mac    bytea
) PARTITION BY RANGE (at);
ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;

-- The month holding p_day: its partition's name and bounds.
CREATE FUNCTION audit_month(p_day date, OUT name text, OUT lo timestamptz, OUT hi timestamptz)
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
CREATE FUNCTION audit_partitions_ensure(p_from date, p_to date) RETURNS integer
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
CREATE FUNCTION audit_partitions_index(p_day date) RETURNS integer
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

-- Each archived month: where it went, what it held, and how the chain goes
-- on without it. anchor_seq is the last link of the chain's prefix that is
-- wholly archived (the link before the oldest row still here), anchor_mac
-- its HMAC: audit-verify starts from there. A transaction open across the
-- month's end can chain a row of the next month before one of this month;
-- bridges holds the HMAC of every archived link after the anchor, so the
-- walk steps over them.
CREATE TABLE audit_archives (
    partition    text PRIMARY KEY,
    period_from  timestamptz NOT NULL,
    period_to    timestamptz NOT NULL,
    rows         bigint NOT NULL,
    first_seq    bigint,
    last_seq     bigint,
    anchor_seq   bigint NOT NULL,
    anchor_mac   bytea NOT NULL,
    bridges      jsonb NOT NULL DEFAULT '{}',
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    file         text NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE INSERT, UPDATE ON audit_archives FROM jingfang_app;

-- The months wholly before the month of p_before (and before the current
-- month), oldest first: what an archive run may take.
CREATE FUNCTION audit_archivable(p_before date)
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
CREATE FUNCTION audit_archive_record(p_name text, p_sha256 text, p_file text) RETURNS void
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
REVOKE EXECUTE ON FUNCTION audit_archive_record(text, text, text) FROM PUBLIC;

-- The months of the rows there are, and three ahead.
SELECT audit_partitions_ensure(coalesce((SELECT min(at) AT TIME ZONE 'Asia/Shanghai'
                                           FROM audit_log_unpartitioned)::date,
                                        (now() AT TIME ZONE 'Asia/Shanghai')::date),
                               ((now() AT TIME ZONE 'Asia/Shanghai') + interval '3 months')::date);

INSERT INTO audit_log SELECT id, at, user_id, username, role, action, target_type, target_id,
                             org_unit_id, client_addr, request_id, detail, chain_seq, chain_mac
                        FROM audit_log_unpartitioned;
DROP TABLE audit_log_unpartitioned;

ALTER TABLE audit_log ADD PRIMARY KEY (id, at);
CREATE INDEX audit_log_chain_seq ON audit_log (chain_seq);
CREATE INDEX audit_log_at ON audit_log USING brin (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
CREATE TRIGGER audit_log_chain_head AFTER INSERT ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_chain_head();

-- Append-only: add and read, nothing else (the partitions: nothing at all).
REVOKE ALL ON audit_log FROM jingfang_app;
GRANT SELECT, INSERT ON audit_log TO jingfang_app;
REVOKE EXECUTE ON FUNCTION audit_partitions_ensure(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_partitions_ensure(date, date) TO jingfang_app;
REVOKE EXECUTE ON FUNCTION audit_partitions_index(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_partitions_index(date) TO jingfang_app;
SELECT audit_partitions_index((now() AT TIME ZONE 'Asia/Shanghai')::date);
