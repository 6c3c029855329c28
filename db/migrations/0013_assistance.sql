-- Subsidies and assistance (救治救助, DOMAIN.md "Subsidies and assistance"):
-- the kinds, their standards (configuration, per org unit with a city-wide
-- default), applications with their decisions, payments with amount and
-- month, the monthly 以奖代补 batches with in-person collection
-- (当面领取), and the facts the statistics read.

-- Kinds (seed 000 附件2 "帮扶情况" and DOMAIN.md), as API codes:
--   dibao                  低保
--   medical_assistance     医疗救助
--   outpatient_chronic     门诊慢特病
--   critical_illness       城乡居民大病保险
--   employee_large_medical 职工大额医疗费用补助
--   disability_subsidies   残疾人两项补贴 (困难残疾人生活补贴, 重度残疾人护理补贴)
--   temporary_assistance   临时救助
--   long_acting_injection  长效针剂补助
--   guardian_reward        以奖代补 (监护人奖补)
CREATE FUNCTION assistance_kind_valid(text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT $1 IN ('dibao', 'medical_assistance', 'outpatient_chronic', 'critical_illness',
                  'employee_large_medical', 'disability_subsidies', 'temporary_assistance',
                  'long_acting_injection', 'guardian_reward')
$$;

-- The standard of a kind (补助标准): an amount in fen per period, or no
-- fixed amount (decided per application, as 医疗救助 per case). A row with
-- no org unit is the default everywhere; a row of a unit applies to its
-- subtree, the nearest unit winning. Edited by administrators.
CREATE TABLE assistance_standards (
    id           bigserial PRIMARY KEY,
    org_unit_id  bigint REFERENCES org_units(id),
    kind         text NOT NULL CHECK (assistance_kind_valid(kind)),
    amount_fen   bigint CHECK (amount_fen BETWEEN 0 AND 100000000),
    period       text NOT NULL CHECK (period IN ('month', 'year', 'case')),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   bigint REFERENCES users(id),
    -- 以奖代补 is paid monthly at a fixed standard.
    CHECK (kind <> 'guardian_reward' OR (amount_fen IS NOT NULL AND period <> 'case')),
    UNIQUE NULLS NOT DISTINCT (org_unit_id, kind)
);
-- 以奖代补: not less than 200 元/月 (seed 000); seed 004's 3600 元/年 is a
-- local row. The other kinds' amounts are decided per application until a
-- standard is set.
INSERT INTO assistance_standards (org_unit_id, kind, amount_fen, period) VALUES
    (NULL, 'dibao', NULL, 'month'),
    (NULL, 'medical_assistance', NULL, 'case'),
    (NULL, 'outpatient_chronic', NULL, 'case'),
    (NULL, 'critical_illness', NULL, 'case'),
    (NULL, 'employee_large_medical', NULL, 'case'),
    (NULL, 'disability_subsidies', NULL, 'month'),
    (NULL, 'temporary_assistance', NULL, 'case'),
    (NULL, 'long_acting_injection', NULL, 'case'),
    (NULL, 'guardian_reward', 20000, 'month');

-- Who is in the 以奖代补 target group beyond the national rule (an incident
-- history, or risk ≥ min_risk): seed 000 asks to widen it (扩大奖补对象范围),
-- e.g. to patients with some key-patient flags or on the police key-person
-- list. Per org unit like the standards.
CREATE TABLE assistance_reward_rules (
    id                 bigserial PRIMARY KEY,
    org_unit_id        bigint REFERENCES org_units(id),
    min_risk           smallint NOT NULL DEFAULT 3 CHECK (min_risk BETWEEN 1 AND 5),
    extra_flags        text[] NOT NULL DEFAULT '{}',   -- key-flag codes (api/domain/tier.c)
    police_key_person  boolean NOT NULL DEFAULT false, -- on the police key-person list
    updated_at         timestamptz NOT NULL DEFAULT now(),
    updated_by         bigint REFERENCES users(id),
    UNIQUE NULLS NOT DISTINCT (org_unit_id)
);
INSERT INTO assistance_reward_rules (org_unit_id) VALUES (NULL);

-- The standard of kind in force for a patient at org path p_path.
CREATE FUNCTION assistance_standard(p_path text, p_kind text)
RETURNS TABLE (amount_fen bigint, period text, org_unit_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT s.amount_fen, s.period, s.org_unit_id
      FROM assistance_standards s LEFT JOIN org_units o ON o.id = s.org_unit_id
     WHERE s.kind = p_kind AND (s.org_unit_id IS NULL OR starts_with(p_path, o.path))
     ORDER BY length(o.path) DESC NULLS LAST
     LIMIT 1
$$;

CREATE FUNCTION assistance_reward_rule(p_path text)
RETURNS TABLE (min_risk smallint, extra_flags text[], police_key_person boolean, org_unit_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT r.min_risk, r.extra_flags, r.police_key_person, r.org_unit_id
      FROM assistance_reward_rules r LEFT JOIN org_units o ON o.id = r.org_unit_id
     WHERE r.org_unit_id IS NULL OR starts_with(p_path, o.path)
     ORDER BY length(o.path) DESC NULLS LAST
     LIMIT 1
$$;

-- An application (申请) → approved (with amount, period and months) or
-- rejected (with its reason); an approved one is ended when the support
-- stops. One open (pending or approved) application per patient and kind.
CREATE TABLE assistance_applications (
    id               bigserial PRIMARY KEY,
    patient_id       bigint NOT NULL REFERENCES patients(id),
    kind             text NOT NULL CHECK (assistance_kind_valid(kind)),
    state            text NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'approved', 'rejected', 'ended')),
    applied_on       date NOT NULL,
    guardian_id      bigint REFERENCES guardians(id),  -- the guardian applying / rewarded
    note             text CHECK (length(note) <= 500),
    amount_fen       bigint CHECK (amount_fen BETWEEN 0 AND 100000000),
    period           text CHECK (period IN ('month', 'year', 'case')),
    from_month       date CHECK (extract(day FROM from_month) = 1),
    to_month         date CHECK (extract(day FROM to_month) = 1 AND to_month >= from_month),
    decided_on       date,
    decided_by       bigint REFERENCES users(id),
    decision_reason  text CHECK (length(decision_reason) <= 500),
    ended_on         date,
    end_reason       text CHECK (length(end_reason) <= 500),
    created_by       bigint REFERENCES users(id),
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'guardian_reward' OR guardian_id IS NOT NULL),
    CHECK (state = 'pending' OR decided_on IS NOT NULL),
    CHECK (state <> 'rejected' OR decision_reason IS NOT NULL),
    CHECK (state NOT IN ('approved', 'ended')
           OR (amount_fen IS NOT NULL AND period IS NOT NULL AND from_month IS NOT NULL)),
    CHECK ((state = 'ended') = (ended_on IS NOT NULL AND end_reason IS NOT NULL))
);
CREATE INDEX assistance_applications_patient ON assistance_applications (patient_id, id);
CREATE UNIQUE INDEX assistance_applications_one_open ON assistance_applications (patient_id, kind)
    WHERE state IN ('pending', 'approved');

-- A monthly 以奖代补 batch of one org unit: one payment per eligible
-- patient, and the ineligible with the conditions they failed.
CREATE TABLE assistance_batches (
    id           bigserial PRIMARY KEY,
    org_unit_id  bigint NOT NULL REFERENCES org_units(id),
    month        date NOT NULL CHECK (extract(day FROM month) = 1),
    ineligible   jsonb NOT NULL DEFAULT '[]',
    created_by   bigint REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_unit_id, month)
);

-- A payment for one month (the month paid for; for a kind paid per year or
-- per case, the first month it covers). pending → paid (当面领取: who, when,
-- receipt) or withheld (with the reason: an incident in the month, or a
-- decision). org_path is the patient's at the time of payment, so totals
-- stay with the unit that paid.
CREATE TABLE assistance_payments (
    id                    bigserial PRIMARY KEY,
    application_id        bigint NOT NULL REFERENCES assistance_applications(id),
    patient_id            bigint NOT NULL REFERENCES patients(id),
    kind                  text NOT NULL CHECK (assistance_kind_valid(kind)),
    org_path              text COLLATE "C" NOT NULL,
    batch_id              bigint REFERENCES assistance_batches(id),
    period_month          date NOT NULL CHECK (extract(day FROM period_month) = 1),
    amount_fen            bigint NOT NULL CHECK (amount_fen BETWEEN 0 AND 100000000),
    status                text NOT NULL CHECK (status IN ('pending', 'paid', 'withheld')),
    paid_on               date,
    paid_at               timestamptz,
    collected_by_guardian bigint REFERENCES guardians(id),
    receipt_no            text CHECK (receipt_no ~ '^[A-Za-z0-9-]{1,32}$'),
    withheld_cause        text CHECK (withheld_cause IN ('incident', 'decision')),
    withheld_reason       text CHECK (length(withheld_reason) <= 500),
    withheld_incident_id  bigint REFERENCES incidents(id),
    withheld_at           timestamptz,
    recorded_by           bigint REFERENCES users(id),
    version               integer NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (application_id, period_month),
    CHECK ((status = 'paid') = (paid_on IS NOT NULL AND paid_at IS NOT NULL)),
    CHECK ((status = 'withheld') = (withheld_cause IS NOT NULL AND withheld_reason IS NOT NULL)),
    -- 以奖代补 is collected in person by a guardian, against a receipt.
    CHECK (status <> 'paid' OR kind <> 'guardian_reward'
           OR (collected_by_guardian IS NOT NULL AND receipt_no IS NOT NULL))
);
CREATE INDEX assistance_payments_patient ON assistance_payments (patient_id, period_month);
CREATE INDEX assistance_payments_batch ON assistance_payments (batch_id);
CREATE INDEX assistance_payments_area ON assistance_payments (org_path, period_month);

-- An incident (肇事肇祸) withholds the 以奖代补 payments of its month that
-- are not yet collected, whoever records it (a doctor, the police system)
-- and however late (after the batch, before collection). The audit row is
-- written here, in the same transaction.
CREATE FUNCTION assistance_withhold_on_incident() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    pay record;
BEGIN
    FOR pay IN
        UPDATE assistance_payments
           SET status = 'withheld', withheld_cause = 'incident', withheld_incident_id = NEW.id,
               withheld_reason = format('肇事肇祸 %s（事件 %s）', NEW.occurred_on, NEW.id),
               withheld_at = now(), version = version + 1, updated_at = now()
         WHERE patient_id = NEW.patient_id AND kind = 'guardian_reward' AND status = 'pending'
           AND period_month = date_trunc('month', NEW.occurred_on)::date
        RETURNING id, application_id
    LOOP
        INSERT INTO audit_log (user_id, action, target_type, target_id, org_unit_id, detail)
        SELECT NEW.user_id, 'assistance.payment_withhold', 'assistance_payment', pay.id::text,
               p.org_unit_id, jsonb_build_object('cause', 'incident', 'incident_id', NEW.id,
                                                 'application_id', pay.application_id)
          FROM patients p WHERE p.id = NEW.patient_id;
    END LOOP;
    RETURN NEW;
END $$;

CREATE TRIGGER incidents_withhold_assistance AFTER INSERT ON incidents
    FOR EACH ROW EXECUTE FUNCTION assistance_withhold_on_incident();

-- Indicator: assistance paid (救助金额, 奖补监护人数 of seed 000 附件2) by
-- kind, month and area. One row per payment; the statistics group it.
-- period_month is the first day of the month paid for.
CREATE VIEW assistance_payment_facts AS
SELECT x.id::bigint AS payment_id,
       x.patient_id::bigint AS patient_id,
       x.org_path::text AS org_path,
       x.kind::text AS kind,
       x.period_month AS period_month,
       x.amount_fen::bigint AS amount_fen,
       x.status::text AS status,
       x.paid_at AS paid_at
  FROM assistance_payments x;
