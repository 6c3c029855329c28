-- Webhook deliveries by month of their making (China time, as the audit
-- trail's months, 0047). A row per event and endpoint, kept after it is
-- delivered: the table grows with every notification and record event,
-- while the worker only ever looks at the pending few. Partitioned by a
-- new created_at, the pending index stays small and partial on every
-- month, a query naming a period reads only its months, and a month whose
-- deliveries are all done (delivered or dead) can leave the database as a
-- whole: deliveries_detach_before, by an operator, who then dumps or drops
-- the detached table.
--
-- The keys hold the partition key: (id, created_at) and (outbox_id,
-- endpoint_id, created_at). A second delivery of an event to the same
-- endpoint in another month still cannot arise: every writer (notify, the
-- alerts', the record events' fan-out, reconcile's) writes an event's
-- deliveries once, right after its outbox row and in the same transaction,
-- and now() is the transaction's time: they all fall in one month.

ALTER TABLE deliveries RENAME TO deliveries_unpartitioned;
ALTER SEQUENCE deliveries_id_seq OWNED BY NONE;

CREATE TABLE deliveries (LIKE deliveries_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
                         created_at timestamptz NOT NULL DEFAULT now())
    PARTITION BY RANGE (created_at);
ALTER SEQUENCE deliveries_id_seq OWNED BY deliveries.id;

-- The month holding p_day: its partition's name and bounds.
CREATE FUNCTION deliveries_month(p_day date, OUT name text, OUT lo timestamptz, OUT hi timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT 'deliveries_' || to_char(p_day, 'YYYYMM'), a.lo, a.hi FROM audit_month(p_day) a
$$;

-- Make the months from p_from to p_to that are missing. Run by the worker
-- every pass for this month and the three ahead, so a delivery never finds
-- no month; the lock timeout as in audit_partitions_ensure. Returns how
-- many it made.
CREATE FUNCTION deliveries_partitions_ensure(p_from date, p_to date) RETURNS integer
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
CREATE FUNCTION deliveries_detach_before(p_before date) RETURNS SETOF text
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
REVOKE EXECUTE ON FUNCTION deliveries_detach_before(date) FROM PUBLIC;

-- The months of the deliveries there are (their event's time), and three
-- ahead.
SELECT deliveries_partitions_ensure(
    least((SELECT min(o.created_at) AT TIME ZONE 'Asia/Shanghai'
             FROM deliveries_unpartitioned d JOIN outbox o ON o.id = d.outbox_id)::date,
          (now() AT TIME ZONE 'Asia/Shanghai')::date),
    ((now() AT TIME ZONE 'Asia/Shanghai') + interval '3 months')::date);

INSERT INTO deliveries SELECT d.*, o.created_at
                         FROM deliveries_unpartitioned d JOIN outbox o ON o.id = d.outbox_id;
DROP TABLE deliveries_unpartitioned;

ALTER TABLE deliveries ADD PRIMARY KEY (id, created_at);
ALTER TABLE deliveries ADD UNIQUE (outbox_id, endpoint_id, created_at);
ALTER TABLE deliveries ADD FOREIGN KEY (outbox_id) REFERENCES outbox(id);
ALTER TABLE deliveries ADD FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints(id);
ALTER TABLE deliveries ADD FOREIGN KEY (patient_id) REFERENCES patients(id);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_patient_pending ON deliveries (endpoint_id, patient_id, id)
    WHERE state = 'pending' AND patient_id IS NOT NULL;

CREATE TRIGGER deliveries_wake AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_wake();

GRANT SELECT, INSERT, UPDATE ON deliveries TO jingfang_app;
REVOKE EXECUTE ON FUNCTION deliveries_partitions_ensure(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION deliveries_partitions_ensure(date, date) TO jingfang_app;
ANALYZE deliveries;
