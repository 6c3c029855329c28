-- The partitions of the growing history besides the audit trail's
-- (audit.sql): follow-up visits by year (migration 0049).
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- Make the years of p_from to p_to that are missing; a year before the
-- first one made is in follow_ups_before, unless that is still empty (a
-- new database, then loaded with history by jingfang-gen): it then starts
-- at p_from's year instead. Run by the worker every pass for this year
-- and the next, so a visit never finds no year. The lock timeout keeps a
-- long reader of the visits from queueing the service's writes behind the
-- new partition's lock; the next pass tries again. Returns how many it
-- made.
CREATE OR REPLACE FUNCTION follow_ups_partitions_ensure(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    lo integer := extract(year FROM p_from);
    first integer;
    empty boolean;
    made integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('follow_ups_partitions_ensure'));
    SET LOCAL lock_timeout = '2s';
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
