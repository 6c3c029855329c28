-- Follow-up visits by calendar year of visit_date. About 14 visits per
-- patient a year make 13.7 million rows at a million patients, and the
-- table only grows: partitioned, a period's query (the exports, the
-- exchanges, the statistics) reads only its years, and the indexes written
-- are the current year's.
--
-- Yearly, not monthly as the audit trail (0047): most reads are one
-- patient's visits, through follow_ups_patient (patient_id, visit_date
-- DESC, id DESC), and every partition costs such a read one more index
-- probe. By year it is a probe per year kept; by month it would be twelve.
-- A year of a million patients (~14 million rows) still has indexes a
-- server keeps in memory.
--
-- Visits before the first year made here go to follow_ups_before (FROM
-- MINVALUE). The current and the next year are made ahead by the worker
-- (follow_ups_partitions_ensure, every pass). There is no DEFAULT
-- partition: a visit date is never after today in China time (the API
-- refuses it, jf_body_date), so with next year made ahead no visit finds
-- no year; and a DEFAULT partition holding a row of a year would keep
-- that year's partition from ever being made.
--
-- The primary key becomes (id, visit_date): a partitioned table's unique
-- keys hold its partition key. id stays unique, from its sequence. The
-- referrals' foreign key to follow_ups(id) cannot stay (it needs id unique
-- alone); the referral's writer checks that the visit exists and is the
-- patient's (referral_source in api/resources/referrals.c), and visits are
-- never deleted.

ALTER TABLE referrals DROP CONSTRAINT referrals_follow_up_id_fkey;

ALTER TABLE follow_ups RENAME TO follow_ups_unpartitioned;
ALTER SEQUENCE follow_ups_id_seq OWNED BY NONE;

CREATE TABLE follow_ups (LIKE follow_ups_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (visit_date);
ALTER SEQUENCE follow_ups_id_seq OWNED BY follow_ups.id;

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
CREATE FUNCTION follow_ups_partitions_ensure(p_from date, p_to date) RETURNS integer
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

-- Every year there are visits of, and this year and the next.
SELECT follow_ups_partitions_ensure(
    least((SELECT min(visit_date) FROM follow_ups_unpartitioned),
          (now() AT TIME ZONE 'Asia/Shanghai')::date),
    ((now() AT TIME ZONE 'Asia/Shanghai') + interval '1 year')::date);

INSERT INTO follow_ups SELECT * FROM follow_ups_unpartitioned;
DROP TABLE follow_ups_unpartitioned;

ALTER TABLE follow_ups ADD PRIMARY KEY (id, visit_date);
ALTER TABLE follow_ups ADD FOREIGN KEY (patient_id) REFERENCES patients(id);
ALTER TABLE follow_ups ADD FOREIGN KEY (user_id) REFERENCES users(id);
CREATE INDEX follow_ups_patient ON follow_ups (patient_id, visit_date DESC, id DESC);

-- The triggers of 0023 and 0031 (the definitions make the rest), on the
-- parent: they fire for the rows of every year.
CREATE TRIGGER follow_ups_touch_insert AFTER INSERT ON follow_ups
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();
CREATE TRIGGER follow_ups_touch_update AFTER UPDATE ON follow_ups
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();
CREATE TRIGGER follow_ups_changes AFTER INSERT OR UPDATE ON follow_ups
    FOR EACH ROW EXECUTE FUNCTION changes_child('patient');

GRANT SELECT, INSERT, UPDATE ON follow_ups TO jingfang_app;
REVOKE EXECUTE ON FUNCTION follow_ups_partitions_ensure(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION follow_ups_partitions_ensure(date, date) TO jingfang_app;
ANALYZE follow_ups;
