-- The partitions of the growing history besides the audit trail's
-- (audit.sql): follow-up visits by year (migration 0049), webhook
-- deliveries by month in China time (0050).
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- Make the years of p_from to p_to that are missing; a year before the
-- first one made is in follow_ups_before, unless that is still empty (a
-- new database, then loaded with history by jingfang-gen): it then starts
-- at p_from's year instead. Run by the worker every pass for this year
-- and the next, so a visit never finds no year. The lock timeout keeps a
-- long reader of the visits from queueing the service's writes behind the
-- new partition's lock, and the worker from waiting out a jingfang-gen
-- load (which holds the advisory lock to its end); the next pass tries
-- again. Set on the function, it ends with the call, not with a caller's
-- transaction. Returns how many it made.
CREATE OR REPLACE FUNCTION follow_ups_partitions_ensure(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    lo integer := extract(year FROM p_from);
    first integer;
    empty boolean;
    made integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('follow_ups_partitions_ensure'));
    SELECT min(substr(c.relname, 12)::int) INTO first
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'follow_ups'::regclass AND c.relname ~ '^follow_ups_[0-9]{4}$';
    first := coalesce(first, lo);
    IF lo < first AND to_regclass('follow_ups_before') IS NOT NULL THEN
        EXECUTE 'SELECT NOT EXISTS (SELECT FROM follow_ups_before)' INTO empty;
        IF empty THEN
            DROP TABLE follow_ups_before;
        END IF;
    END IF;
    IF to_regclass('follow_ups_before') IS NULL THEN
        first := least(first, lo);
        EXECUTE format('CREATE TABLE follow_ups_before PARTITION OF follow_ups'
                       ' FOR VALUES FROM (MINVALUE) TO (%L)', make_date(first, 1, 1));
        -- Through the parent only: a partition named directly would
        -- escape the grants below.
        REVOKE ALL ON follow_ups_before FROM jingfang_app;
    END IF;
    FOR y IN greatest(lo, first) .. extract(year FROM p_to)::int LOOP
        CONTINUE WHEN to_regclass('follow_ups_' || y) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I PARTITION OF follow_ups FOR VALUES FROM (%L) TO (%L)',
                       'follow_ups_' || y, make_date(y, 1, 1), make_date(y + 1, 1, 1));
        EXECUTE format('REVOKE ALL ON %I FROM jingfang_app', 'follow_ups_' || y);
        made := made + 1;
    END LOOP;
    RETURN made;
END $$;

-- The month holding p_day: its partition's name and bounds.
CREATE OR REPLACE FUNCTION deliveries_month(p_day date, OUT name text, OUT lo timestamptz, OUT hi timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT 'deliveries_' || to_char(p_day, 'YYYYMM'), a.lo, a.hi FROM audit_month(p_day) a
$$;

-- Make the months from p_from to p_to that are missing. Run by the worker
-- every pass for this month and the three ahead, so a delivery never finds
-- no month; the lock timeout as in audit_partitions_ensure. Returns how
-- many it made.
CREATE OR REPLACE FUNCTION deliveries_partitions_ensure(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    d date;
    m record;
    made integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('deliveries_partitions_ensure'));
    FOR d IN SELECT generate_series(date_trunc('month', p_from), date_trunc('month', p_to),
                                    interval '1 month')::date LOOP
        m := deliveries_month(d);
        CONTINUE WHEN to_regclass(m.name) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I PARTITION OF deliveries FOR VALUES FROM (%L) TO (%L)',
                       m.name, m.lo, m.hi);
        -- Through the parent only.
        EXECUTE format('REVOKE ALL ON %I FROM jingfang_app', m.name);
        made := made + 1;
    END LOOP;
    RETURN made;
END $$;

-- Detach every month wholly before the month of p_before (and before the
-- current month), oldest first, and return the detached tables' names: the
-- operator dumps or drops them. A month with a delivery still pending is
-- refused, and with it the whole call: its deliveries are still owed.
CREATE OR REPLACE FUNCTION deliveries_detach_before(p_before date) RETURNS SETOF text
LANGUAGE plpgsql SET lock_timeout = '5s' AS $$
DECLARE
    m record;
    pending boolean;
BEGIN
    FOR m IN SELECT c.relname, a.lo
               FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
                    LATERAL deliveries_month(to_date(substr(c.relname, 12), 'YYYYMM')) a
              WHERE i.inhparent = 'deliveries'::regclass AND c.relname ~ '^deliveries_[0-9]{6}$'
                AND a.hi <= (SELECT lo FROM deliveries_month(
                                 least(p_before, (now() AT TIME ZONE 'Asia/Shanghai')::date)))
              ORDER BY a.lo LOOP
        EXECUTE format('SELECT EXISTS (SELECT FROM %I WHERE state = ''pending'')', m.relname)
           INTO pending;
        IF pending THEN
            RAISE EXCEPTION 'deliveries month % still has pending deliveries', m.relname
                USING ERRCODE = 'object_in_use';
        END IF;
        EXECUTE format('ALTER TABLE deliveries DETACH PARTITION %I', m.relname);
        RETURN NEXT m.relname;
    END LOOP;
END $$;
