-- Referrals (转诊, 2018 规范; DOMAIN.md "Incidents, hospitalisation,
-- emergencies") as records: a doctor refers a patient from a follow-up
-- (随访) or from an emergency (应急处置记录单) to a hospital — an agency
-- whose system is a hospital's (service_system(kind) = 'hospital') — with a
-- reason and an urgency. The last day it may stay open (due_on) is
-- referred_on plus the days the patient's unit allows for the urgency
-- (referral_<urgency>_days in its clinical settings; 7, 1 and 0 by
-- default). The hospital accepts it, then admits the patient (the
-- admission it made is linked) or sends it back with its reason; an open
-- or accepted referral past due_on is overdue, on the doctor's worklist
-- and in the dashboard's figures.
CREATE TABLE referrals (
    id                   bigserial PRIMARY KEY,
    patient_id           bigint NOT NULL REFERENCES patients(id),
    from_kind            text NOT NULL CHECK (from_kind IN ('follow_up', 'emergency')),
    follow_up_id         bigint REFERENCES follow_ups(id),
    emergency_record_id  bigint REFERENCES emergency_records(id),
    hospital_id          bigint NOT NULL REFERENCES agencies(id),
    reason               text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    urgency              text NOT NULL CHECK (urgency IN ('routine', 'urgent', 'emergency')),
    referred_on          date NOT NULL,
    due_on               date NOT NULL CHECK (due_on >= referred_on),
    status               text NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'accepted', 'admitted', 'returned')),
    accepted_at          timestamptz,
    admission_id         bigint REFERENCES hospitalisations(id),
    return_reason        text CHECK (length(return_reason) BETWEEN 1 AND 500),
    closed_on            date,
    created_by           bigint NOT NULL REFERENCES users(id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_by           bigint REFERENCES users(id),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((from_kind = 'follow_up') = (follow_up_id IS NOT NULL)),
    CHECK ((from_kind = 'emergency') = (emergency_record_id IS NOT NULL)),
    CHECK ((status = 'admitted') = (admission_id IS NOT NULL)),
    CHECK ((status = 'returned') = (return_reason IS NOT NULL)),
    CHECK ((status IN ('admitted', 'returned')) = (closed_on IS NOT NULL))
);
CREATE INDEX referrals_patient ON referrals (patient_id, id DESC);
CREATE INDEX referrals_hospital ON referrals (hospital_id, id DESC);
-- The open ones are few: the worklist and the dashboard read only them.
CREATE INDEX referrals_open ON referrals (patient_id, due_on) WHERE status IN ('open', 'accepted');
-- A follow-up refers once.
CREATE UNIQUE INDEX referrals_follow_up ON referrals (follow_up_id) WHERE follow_up_id IS NOT NULL;

UPDATE clinical_configs SET settings = '{
    "referral_routine_days": 7, "referral_urgent_days": 1,
    "referral_emergency_days": 0}'::jsonb || settings;

-- The dashboard's referral figure: the referrals still open (not admitted
-- or returned) of the patients of the area under p_path, and how many of
-- them are past their last day as of p_today. Computed live, as the
-- search tasks are (0039): open referrals are few.
CREATE FUNCTION stat_referrals_json(p_path text, p_today date) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('open', count(*), 'overdue', count(*) FILTER (WHERE r.due_on < p_today))
      FROM referrals r
     WHERE r.status IN ('open', 'accepted')
       AND starts_with((SELECT p.org_path FROM patients p WHERE p.id = r.patient_id), p_path)
$$;
