-- Assistance (migration 0013) in the statistics (migration 0015): the
-- dashboard's totals by kind, and the fields of the campaign report (统计报表,
-- seed 000 附件2, sections 五 and 六) that the assistance records now give.

-- Assistance per org unit for the months of [p_from, p_to], in the shared
-- count shape:
--   assistance_paid_fen  key kind: fen paid for those months (where paid)
--   assistance_paid      key kind: payments made
--   assistance_withheld  key kind: payments withheld (以奖代补 after an incident)
--   assistance_enrolled  key kind: patients (of the unit now) with an approved
--                        application covering one of the months
CREATE FUNCTION stat_assistance_counts(p_path text, p_from date, p_to date)
RETURNS TABLE (org_unit_id bigint, metric text, key text, n bigint)
LANGUAGE sql STABLE AS $$
    WITH f AS (SELECT o.id AS org_unit_id, f.kind, f.status, f.amount_fen
                 FROM assistance_payment_facts f JOIN org_units o ON o.path = f.org_path
                WHERE starts_with(f.org_path, p_path)
                  AND f.period_month BETWEEN date_trunc('month', p_from)::date AND p_to
                  AND f.status IN ('paid', 'withheld'))
    SELECT org_unit_id, 'assistance_paid_fen', kind, sum(amount_fen)::bigint FROM f
     WHERE status = 'paid' GROUP BY 1, 3
    UNION ALL
    SELECT org_unit_id, 'assistance_' || status, kind, count(*) FROM f GROUP BY 1, 2, 3
    UNION ALL
    SELECT p.org_unit_id, 'assistance_enrolled', a.kind, count(DISTINCT a.patient_id)
      FROM assistance_applications a JOIN patients p ON p.id = a.patient_id
     WHERE starts_with(p.org_path, p_path) AND a.state IN ('approved', 'ended')
       AND a.from_month <= p_to AND (a.to_month IS NULL OR a.to_month >= date_trunc('month', p_from))
     GROUP BY 1, 3
$$;

-- The period counts gain the assistance rows: the cache (stat_unit_counts)
-- and the live path both read this one function.
CREATE OR REPLACE FUNCTION stat_period_counts(p_path text, p_from date, p_to date, p_today date)
RETURNS TABLE (org_unit_id bigint, metric text, key text, n bigint)
LANGUAGE sql STABLE AS $$
    SELECT f.org_unit_id, m.metric, '', count(*) FILTER (WHERE m.hit)
      FROM stat_patient_facts(p_path, p_from, p_to, p_today) f
     CROSS JOIN LATERAL (VALUES ('registered', true), ('managed', f.managed),
                                ('standard', f.standard), ('face', f.face),
                                ('regular', f.regular), ('medicated', f.medicated),
                                ('at_home', f.at_home), ('stable_home', f.stable_home))
                        AS m(metric, hit)
     GROUP BY f.org_unit_id, m.metric
    UNION ALL
    SELECT * FROM stat_assistance_counts(p_path, p_from, least(p_to, p_today))
$$;

-- One block gains "assistance" ({paid_fen, paid, withheld, enrolled}, each
-- by kind) for the roles that see economic figures: 'full' and
-- 'civil_affairs'; never the police.
CREATE OR REPLACE FUNCTION stat_block_json(p_unit bigint, c stat_count[], p_detail text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH x AS (SELECT (u).metric, (u).key, sum((u).n)::bigint AS n FROM unnest(c) u GROUP BY 1, 2),
    v AS (SELECT coalesce((SELECT n FROM x WHERE metric = 'registered'), 0) AS registered,
                 coalesce((SELECT n FROM x WHERE metric = 'on_register'), 0) AS on_register,
                 stat_population(p_unit) AS population),
    m AS (SELECT jsonb_object_agg(metric, n) AS o FROM x WHERE key = ''),
    grp AS (SELECT jsonb_object_agg(metric, o) AS o
              FROM (SELECT metric, jsonb_object_agg(key, n) AS o FROM x WHERE key <> ''
                     GROUP BY metric) g)
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'on_register', v.on_register,
        'population', v.population,
        'registered', v.registered,
        'managed', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'managed')::bigint, 0) END,
        'standard', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'standard')::bigint, 0) END,
        'face', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'face')::bigint, 0) END,
        'regular', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'regular')::bigint, 0) END,
        'medicated', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'medicated')::bigint, 0) END,
        'at_home', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'at_home')::bigint, 0) END,
        'stable_home', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'stable_home')::bigint, 0) END,
        'rates', CASE WHEN p_detail = 'full' THEN jsonb_build_object(
            'standard_management', stat_pct(m.o->>'standard', v.registered),
            'face_to_face', stat_pct(m.o->>'face', v.registered),
            'regular_medication', stat_pct(m.o->>'regular', v.registered),
            'medication', stat_pct(m.o->>'medicated', v.registered),
            'in_care', stat_pct(m.o->>'managed', v.registered),
            'home_stable', stat_pct(m.o->>'stable_home', (m.o->>'at_home')::bigint))
          END,
        'reported_prevalence_permille', CASE WHEN v.population > 0
            THEN round(1000.0 * v.registered / v.population, 2) END,
        'risk', CASE WHEN p_detail <> 'civil_affairs' THEN coalesce(grp.o->'risk', '{}') END,
        'colour', CASE WHEN p_detail <> 'civil_affairs' THEN coalesce(grp.o->'colour', '{}') END,
        'key_categories', coalesce(grp.o->'key_category', '{}'),
        'overdue_followups', CASE WHEN p_detail = 'full'
            THEN coalesce((m.o->>'overdue_followups')::bigint, 0) END,
        'notifications_open', CASE WHEN p_detail <> 'civil_affairs'
            THEN coalesce((m.o->>'notifications_open')::bigint, 0) END,
        'notifications_overdue', CASE WHEN p_detail <> 'civil_affairs'
            THEN coalesce((m.o->>'notifications_overdue')::bigint, 0) END,
        'assistance', CASE WHEN p_detail IN ('full', 'civil_affairs') THEN jsonb_build_object(
            'paid_fen', coalesce(grp.o->'assistance_paid_fen', '{}'),
            'paid', coalesce(grp.o->'assistance_paid', '{}'),
            'withheld', coalesce(grp.o->'assistance_withheld', '{}'),
            'enrolled', coalesce(grp.o->'assistance_enrolled', '{}')) END))
      FROM v, m, grp
$$;

-- The report fields of sections 五 and 六 that the assistance records give,
-- for the patients of the subtree at p_path and the months of [p_from,
-- least(p_to, p_today)]:
--   纳入…患者人数   patients with an approved application of the kind
--                   covering one of the months (医疗救助, 门诊慢特病, 职工大额,
--                   大病保险, 残疾人两项补贴)
--   救助金额(民政)   paid 低保, 临时救助 and 残疾人两项补贴, in 万元
--   奖补监护人数/金额 patients whose guardian reward (以奖代补) was paid for
--                   one of the months, and the amount in 万元, by the
--                   patient's risk level now (0–2, 3–5)
CREATE FUNCTION campaign_report_assistance(p_path text, p_from date, p_to date, p_today date)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH c AS (SELECT * FROM stat_assistance_counts(p_path, p_from, least(p_to, p_today))),
    k AS (SELECT metric, key, sum(n) AS n FROM c GROUP BY 1, 2),
    r AS (SELECT coalesce(p.risk_level, 0) >= 3 AS high, count(DISTINCT f.patient_id) AS guardians,
                 sum(f.amount_fen) AS fen
            FROM assistance_payment_facts f JOIN patients p ON p.id = f.patient_id
           WHERE starts_with(f.org_path, p_path) AND f.kind = 'guardian_reward'
             AND f.status = 'paid'
             AND f.period_month BETWEEN date_trunc('month', p_from)::date AND least(p_to, p_today)
           GROUP BY 1)
    SELECT jsonb_build_object(
        'medical_assistance', coalesce((SELECT n FROM k WHERE metric = 'assistance_enrolled'
                                          AND key = 'medical_assistance'), 0),
        'chronic_outpatient', coalesce((SELECT n FROM k WHERE metric = 'assistance_enrolled'
                                          AND key = 'outpatient_chronic'), 0),
        'employee_large_medical', coalesce((SELECT n FROM k WHERE metric = 'assistance_enrolled'
                                              AND key = 'employee_large_medical'), 0),
        'critical_illness', coalesce((SELECT n FROM k WHERE metric = 'assistance_enrolled'
                                        AND key = 'critical_illness'), 0),
        'disability_subsidy', coalesce((SELECT n FROM k WHERE metric = 'assistance_enrolled'
                                          AND key = 'disability_subsidies'), 0),
        'relief_amount', round(coalesce((SELECT sum(n) FROM k WHERE metric = 'assistance_paid_fen'
            AND key IN ('dibao', 'temporary_assistance', 'disability_subsidies')), 0) / 1000000.0, 2),
        'reward_guardians_0_2', coalesce((SELECT guardians FROM r WHERE NOT high), 0),
        'reward_guardians_3_5', coalesce((SELECT guardians FROM r WHERE high), 0),
        'reward_amount_0_2', round(coalesce((SELECT fen FROM r WHERE NOT high), 0) / 1000000.0, 2),
        'reward_amount_3_5', round(coalesce((SELECT fen FROM r WHERE high), 0) / 1000000.0, 2))
$$;
