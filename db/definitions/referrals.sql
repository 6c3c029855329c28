-- Referrals [R-REF-1]: what the hospital's system hears of one.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- A referral reaches the hospital's system at once, as the agency's
-- notifications do: an outbox event 'referral.created' (the referral, its
-- reason and urgency, the last day, and the patient as the record events
-- carry them) delivered to every active webhook endpoint of the hospital.
-- The hospital then accepts, admits or sends it back through
-- /integrations/hospital/referrals. Returns the deliveries made.
CREATE OR REPLACE FUNCTION referral_push(p_referral bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r referrals;
    oid bigint;
    made integer;
BEGIN
    SELECT * INTO r FROM referrals WHERE id = p_referral;
    INSERT INTO outbox (topic, payload)
    SELECT 'referral.created',
           jsonb_build_object('referral_id', r.id, 'hospital_id', r.hospital_id,
                              'from_kind', r.from_kind, 'reason', r.reason,
                              'urgency', r.urgency, 'referred_on', r.referred_on,
                              'due_on', r.due_on, 'patient', record_event_snapshot(p),
                              'created_at', r.created_at)
      FROM patients p WHERE p.id = r.patient_id
    RETURNING id INTO oid;
    INSERT INTO deliveries (outbox_id, endpoint_id, patient_id)
    SELECT oid, w.id, r.patient_id FROM webhook_endpoints w
     WHERE w.agency_id = r.hospital_id AND w.active
     ORDER BY w.id;
    GET DIAGNOSTICS made = ROW_COUNT;
    RETURN made;
END $$;
