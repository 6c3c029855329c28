/* HTTP suite: statistics — the dashboard's indicators checked against a
 * brute-force SQL computation (day by day) over generated patients, live
 * and from the worker's cache; the edge cases of DOMAIN.md (a death
 * mid-year, a transfer in, a patient never visited, follow-ups 92 and 93
 * days apart); what each role sees; bad input; the resident population. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SUITE_SALT 24 /* keeps this suite's ID numbers apart from the others' */

/* The generated township (its own, so the brute force sees only it) and
 * the township of the edge cases, made by this suite. */
#define GEN_TOWNSHIP "429005924"
#define GEN_VILLAGE "429005924001"
#define EDGE_TOWNSHIP "429005925"
#define EDGE_VILLAGE "429005925001"

static char *admin, *official, *doctor, *police, *civil, *grid1, *yl_admin, *county_doctor;
static char *gen_unit, *edge_unit, *edge_village, *tf_unit;
static char *edge_grid[6];

/* ---- brute force ------------------------------------------------------ */

/* The indicators over the subtree at path $1 for the period [$2, $3] seen
 * on $4, computed day by day: every day of [S, E] of every patient on the
 * register, whether it is a hospital day, and the number of non-hospital
 * days since the last reached follow-up (or S). A different route to the
 * rule than the interval arithmetic of migration 0015. One row: registered,
 * managed, standard, face, regular, medicated, at_home, stable_home. */
static const char brute_sql[] =
    "WITH b AS (SELECT $2::date AS p0, least($3::date, $4::date) AS e),"
    " reg AS (SELECT p.id, greatest(b.p0, p.registered_on) AS s, b.e FROM patients p, b"
    "  WHERE p.org_path LIKE $1 || '%' AND p.registered_on IS NOT NULL"
    "  AND p.status NOT IN ('suspected', 'ruled_out') AND p.registered_on <= b.e"
    "  AND NOT (p.status IN ('deceased', 'deregistered') AND NOT EXISTS (SELECT 1"
    "   FROM patient_events x WHERE x.patient_id = p.id"
    "   AND x.to_status IN ('deceased', 'deregistered')))"
    "  AND NOT EXISTS (SELECT 1 FROM patient_events x WHERE x.patient_id = p.id"
    "   AND x.to_status IN ('deceased', 'deregistered') AND x.event_date <= b.e"
    "   AND x.event_date = (SELECT max(y.event_date) FROM patient_events y"
    "    WHERE y.patient_id = p.id AND y.to_status IN ('deceased', 'deregistered')))),"
    " days AS (SELECT r.id, r.s, d::date AS d,"
    "  EXISTS (SELECT 1 FROM hospitalisations h WHERE h.patient_id = r.id"
    "   AND h.admitted_on < d::date AND (h.discharged_on IS NULL OR d::date <= h.discharged_on))"
    "   AS hosp,"
    "  EXISTS (SELECT 1 FROM follow_ups f WHERE f.patient_id = r.id AND f.reached"
    "   AND f.visit_date = d::date) AS visit"
    "  FROM reg r, generate_series(r.s, r.e, interval '1 day') d),"
    " grp AS (SELECT id, s, d, hosp, visit, coalesce(count(*) FILTER (WHERE visit) OVER"
    "  (PARTITION BY id ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS k"
    "  FROM days),"
    " run AS (SELECT id, d, count(*) FILTER (WHERE NOT hosp AND d > s) OVER"
    "  (PARTITION BY id, k ORDER BY d) AS len FROM grp),"
    " gap AS (SELECT id, max(len) AS worst FROM run GROUP BY id),"
    " months AS (SELECT id, count(DISTINCT date_trunc('month', d)) AS m FROM days GROUP BY id),"
    " per AS (SELECT r.id,"
    "  (SELECT count(*) FROM follow_ups f WHERE f.patient_id = r.id AND f.reached"
    "   AND f.visit_date BETWEEN r.s AND r.e) AS n,"
    "  EXISTS (SELECT 1 FROM follow_ups f WHERE f.patient_id = r.id AND f.reached"
    "   AND f.mode <> 'phone' AND f.visit_date BETWEEN r.s AND r.e) AS face,"
    "  (SELECT f.compliance FROM follow_ups f WHERE f.patient_id = r.id AND f.reached"
    "   AND f.visit_date BETWEEN r.s AND r.e ORDER BY f.visit_date DESC, f.id DESC LIMIT 1)"
    "   AS compl,"
    "  (SELECT f.class FROM follow_ups f WHERE f.patient_id = r.id AND f.reached"
    "   AND f.visit_date BETWEEN r.s AND r.e ORDER BY f.visit_date DESC, f.id DESC LIMIT 1)"
    "   AS cls,"
    "  EXISTS (SELECT 1 FROM hospitalisations h WHERE h.patient_id = r.id"
    "   AND r.e >= h.admitted_on AND (h.discharged_on IS NULL OR r.e < h.discharged_on)) AS inh,"
    "  g.worst, m.m FROM reg r JOIN gap g ON g.id = r.id JOIN months m ON m.id = r.id)"
    " SELECT count(*) || ' ' || count(*) FILTER (WHERE n > 0 OR inh)"
    "  || ' ' || count(*) FILTER (WHERE worst <= 92 AND n * 3 >= m)"
    "  || ' ' || count(*) FILTER (WHERE face)"
    "  || ' ' || count(*) FILTER (WHERE compl = 'regular')"
    "  || ' ' || count(*) FILTER (WHERE compl IN ('regular', 'intermittent') OR inh)"
    "  || ' ' || count(*) FILTER (WHERE NOT inh)"
    "  || ' ' || count(*) FILTER (WHERE NOT inh AND cls = 'stable') FROM per";

static const char *const metrics[] = {"registered", "managed",   "standard", "face",
                                      "regular",    "medicated", "at_home",  "stable_home"};
#define NMETRICS (sizeof(metrics) / sizeof(metrics[0]))

static char *unit_path(const char *unit_id)
{
    const char *p[] = {unit_id};
    char *path = db_scalar("SELECT path FROM org_units WHERE id = $1", 1, p);

    assert_non_null(path);
    return path;
}

/* Compare a block of the dashboard with the brute force over unit's subtree. */
static void check_block(const json_t *block, const char *unit_id, const char *from,
                        const char *to, const char *today, const char *what)
{
    char *path = unit_path(unit_id);
    const char *p[] = {path, from, to, today};
    char *want = db_scalar(brute_sql, 4, p);
    long long w[NMETRICS];

    assert_non_null(want);
    assert_int_equal(sscanf(want, "%lld %lld %lld %lld %lld %lld %lld %lld", &w[0], &w[1], &w[2],
                            &w[3], &w[4], &w[5], &w[6], &w[7]),
                     8);
    for (size_t i = 0; i < NMETRICS; i++) {
        json_t *v = json_object_get(block, metrics[i]);
        if (!json_is_integer(v) || json_integer_value(v) != w[i])
            fail_msg("%s: %s is %lld, the brute force says %lld (%s..%s on %s)", what, metrics[i],
                     v ? (long long)json_integer_value(v) : -1LL, w[i], from, to, today);
    }
    free(want);
    free(path);
}

/* GET the dashboard of unit (NULL: the caller's) with the query rest, as
 * token on date (NULL: today); fails unless 200. */
static http_res *dash(const char *token, const char *date, const char *unit, const char *rest)
{
    char *path = test_fmt("/api/v1/statistics/dashboard?%s%s%s", unit ? "org_unit_id=" : "",
                          unit ? unit : "", rest ? rest : "");
    http_res *r = test_call(date, "GET", path, token, NULL);

    if (r->status != 200)
        fail_msg("GET %s: %ld %s", path, r->status, r->body);
    free(path);
    return r;
}

/* The totals and every child of a dashboard against the brute force. */
static void check_dashboard(const http_res *r, const char *unit, const char *from, const char *to,
                            const char *today)
{
    json_t *kids = json_object_get(r->json, "children"), *k;
    size_t i;

    check_block(json_object_get(r->json, "totals"), unit, from, to, today, "totals");
    assert_true(json_array_size(kids) > 0);
    json_array_foreach(kids, i, k)
    {
        char id[32];
        snprintf(id, sizeof(id), "%lld", test_jint(json_object_get(k, "org_unit"), "id"));
        check_block(k, id, from, to, today, test_jstr(json_object_get(k, "org_unit"), "name"));
    }
}

static const char *today_iso(void)
{
    static char s[11];
    char *t = db_scalar("SELECT to_char(stat_today(), 'YYYY-MM-DD')", 0, NULL);

    snprintf(s, sizeof(s), "%s", t);
    free(t);
    return s;
}

/* ---- set-up: two townships of this suite ------------------------------ */

static void make_unit(const char *parent_code, const char *level, const char *code,
                      const char *name, int population)
{
    char *sql = test_fmt("INSERT INTO org_units (parent_id, level, code, name, population)"
                         " SELECT id, '%s', '%s', '%s', %d FROM org_units WHERE code = '%s'"
                         " ON CONFLICT (code) DO NOTHING",
                         level, code, name, population, parent_code);

    assert_true(db_try(sql));
    free(sql);
}

static const char *bin_beside(const char *name)
{
    static char path[PATH_MAX];
    const char *api = getenv("JF_TEST_API_BIN");

    assert_non_null(api);
    snprintf(path, sizeof(path), "%s", api);
    snprintf(strrchr(path, '/') + 1, sizeof(path) - (size_t)(strrchr(path, '/') + 1 - path), "%s",
             name);
    return path;
}

static void run(const char *cmd)
{
    int st = system(cmd);

    if (st != 0)
        fail_msg("%s: exit status %d", cmd, st);
}

static int setup(void **state)
{
    (void)state;
    admin = http_login("admin", NULL);
    official = http_login("tf.official", NULL);
    doctor = http_login("tf.doctor", NULL);
    police = http_login("tf.police", NULL);
    civil = http_login("tf.civil", NULL);
    grid1 = http_login("tf.grid1", NULL);
    yl_admin = http_login("yl.admin", NULL);
    tf_unit = test_unit_id("429005003");

    make_unit("429005", "township", GEN_TOWNSHIP, "统计测试街道", 30000);
    make_unit(GEN_TOWNSHIP, "village", GEN_VILLAGE, "统计一村", 0);
    make_unit(GEN_TOWNSHIP, "village", "429005924002", "统计二村", 12000);
    make_unit(GEN_VILLAGE, "grid", GEN_VILLAGE "G01", "统计一村第一网格", 9000);
    make_unit(GEN_VILLAGE, "grid", GEN_VILLAGE "G02", "统计一村第二网格", 9000);
    make_unit("429005924002", "grid", "429005924002G01", "统计二村第一网格", 12000);
    make_unit("429005", "township", EDGE_TOWNSHIP, "边界测试街道", 1000);
    make_unit(EDGE_TOWNSHIP, "village", EDGE_VILLAGE, "边界村", 1000);
    for (int i = 0; i < 6; i++) {
        char code[32], name[64];
        snprintf(code, sizeof(code), EDGE_VILLAGE "G%02d", i + 1);
        snprintf(name, sizeof(name), "边界村第%s网格", (const char *[]){"一", "二", "三", "四",
                                                                     "五", "六"}[i]);
        make_unit(EDGE_VILLAGE, "grid", code, name, 100);
        edge_grid[i] = test_unit_id(code);
    }
    /* A doctor of the county, who may visit patients in both townships. */
    assert_true(db_try("INSERT INTO users (username, display_name, role, org_unit_id,"
                       " password_hash) SELECT 'stat24.doctor', '统计医生', 'doctor', o.id,"
                       " u.password_hash FROM org_units o, users u WHERE o.code = '429005'"
                       " AND u.username = 'tf.doctor' ON CONFLICT (username) DO NOTHING"));
    county_doctor = http_login("stat24.doctor", NULL);
    gen_unit = test_unit_id(GEN_TOWNSHIP);
    edge_unit = test_unit_id(EDGE_TOWNSHIP);
    edge_village = test_unit_id(EDGE_VILLAGE);

    /* Realistic patients with two years of history (once per database). */
    char *gen = test_fmt("%s", bin_beside("jingfang-gen"));
    char *cmd = test_fmt("'%s' --patients 150 --township " GEN_TOWNSHIP
                         " --seed 24 --if-empty >/dev/null 2>&1 && '%s' recompute " GEN_TOWNSHIP
                         " >/dev/null 2>&1",
                         gen, bin_beside("jingfang-api"));
    run(cmd);
    free(cmd);
    free(gen);
    return 0;
}

/* ---- the indicators against the brute force ----------------------------- */

static void live_matches_brute_force(void **state)
{
    static const struct {
        const char *today, *query, *from, *to;
    } rows[] = {
        {"2026-02-01", "year=2025", "2025-01-01", "2025-12-31"},
        {"2025-08-15", "year=2025", "2025-01-01", "2025-12-31"},
        {"2026-08-01", "from=2026-01-01&to=2026-06-30", "2026-01-01", "2026-06-30"},
        {"2026-05-10", "from=2025-10-01&to=2026-03-31", "2025-10-01", "2026-03-31"},
        {"2025-12-31", "from=2025-12-01&to=2025-12-31", "2025-12-01", "2025-12-31"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *q = test_fmt("&%s&live=true", rows[i].query);
        http_res *r = dash(admin, rows[i].today, gen_unit, q);
        assert_string_equal(http_str(r, "source"), "live");
        check_dashboard(r, gen_unit, rows[i].from, rows[i].to, rows[i].today);
        /* One level down: the village, broken down by grid. */
        http_free(r);
        char *village = test_unit_id(GEN_VILLAGE);
        r = dash(admin, rows[i].today, village, q);
        check_dashboard(r, village, rows[i].from, rows[i].to, rows[i].today);
        http_free(r);
        free(village);
        free(q);
    }
}

static void cache_matches_brute_force(void **state)
{
    const char *today = today_iso();
    char year[5], from[24], to[24], prev_from[24], prev_to[24];
    http_res *r;

    (void)state;
    memcpy(year, today, 4);
    year[4] = '\0';
    snprintf(from, sizeof(from), "%s-01-01", year);
    snprintf(to, sizeof(to), "%s-12-31", year);
    snprintf(prev_from, sizeof(prev_from), "%d-01-01", (int)strtol(year, NULL, 10) - 1);
    snprintf(prev_to, sizeof(prev_to), "%d-12-31", (int)strtol(year, NULL, 10) - 1);
    char *t = db_scalar("SELECT stat_refresh()::text", 0, NULL);
    assert_string_equal(t, "true");
    free(t);

    r = dash(admin, NULL, gen_unit, NULL);
    assert_string_equal(http_str(r, "source"), "cached");
    check_dashboard(r, gen_unit, from, to, today);
    http_free(r);
    char *q = test_fmt("&year=%d", (int)strtol(year, NULL, 10) - 1);
    r = dash(admin, NULL, gen_unit, q);
    assert_string_equal(http_str(r, "source"), "cached");
    check_dashboard(r, gen_unit, prev_from, prev_to, today);
    http_free(r);
    free(q);

    /* A write after the refresh shows only after the next one. */
    char *path = unit_path(gen_unit);
    const char *p[] = {path};
    char *pid = db_scalar("SELECT min(id)::text FROM patients WHERE org_path LIKE $1 || '%'"
                          " AND status = 'in_care'",
                          1, p);
    assert_non_null(pid);
    r = dash(admin, NULL, gen_unit, NULL);
    long long before = test_jint(json_object_get(r->json, "totals"), "registered");
    http_free(r);
    char *sql = test_fmt("UPDATE patients SET status = 'deregistered' WHERE id = %s", pid);
    assert_true(db_try(sql));
    free(sql);
    sql = test_fmt("INSERT INTO patient_events (patient_id, kind, event_date, from_status,"
                   " to_status, reason) VALUES (%s, 'status', stat_today(), 'in_care',"
                   " 'deregistered', '统计测试')",
                   pid);
    assert_true(db_try(sql));
    free(sql);
    r = dash(admin, NULL, gen_unit, NULL);
    assert_int_equal(test_jint(json_object_get(r->json, "totals"), "registered"), before);
    http_free(r);
    t = db_scalar("SELECT stat_refresh()::text", 0, NULL);
    free(t);
    r = dash(admin, NULL, gen_unit, NULL);
    assert_int_equal(test_jint(json_object_get(r->json, "totals"), "registered"), before - 1);
    check_dashboard(r, gen_unit, from, to, today);
    http_free(r);
    /* live=true answers from the records at once */
    r = dash(admin, NULL, gen_unit, "&live=true");
    assert_string_equal(http_str(r, "source"), "live");
    check_dashboard(r, gen_unit, from, to, today);
    http_free(r);
    free(pid);
    free(path);
}

/* Current-state counts: risk levels, colours, overdue follow-ups. */
static void state_counts_match(void **state)
{
    char *path = unit_path(gen_unit);
    const char *p[] = {path};
    http_res *r = dash(admin, NULL, gen_unit, "&live=true");
    json_t *tot = json_object_get(r->json, "totals");
    long on = db_count("SELECT count(*) FROM patients WHERE org_path LIKE $1 || '%'"
                       " AND status IN ('registered', 'in_care', 'hospitalised', 'lost',"
                       " 'moved_out')",
                       1, p);
    long red = db_count("SELECT count(*) FROM patients WHERE org_path LIKE $1 || '%'"
                        " AND status IN ('registered', 'in_care', 'hospitalised', 'lost',"
                        " 'moved_out') AND colour = 'red'",
                        1, p);
    long overdue = db_count("SELECT count(*) FROM patients WHERE org_path LIKE $1 || '%'"
                            " AND status IN ('registered', 'in_care', 'hospitalised', 'lost',"
                            " 'moved_out') AND next_due < stat_today()",
                            1, p);
    long risk_sum = 0;
    const char *k;
    json_t *v;

    (void)state;
    assert_int_equal(test_jint(tot, "on_register"), on);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(tot, "colour"), "red")),
                     red);
    assert_int_equal(test_jint(tot, "overdue_followups"), overdue);
    json_object_foreach(json_object_get(tot, "risk"), k, v) risk_sum += json_integer_value(v);
    assert_int_equal(risk_sum, on);
    assert_true(json_is_object(json_object_get(tot, "key_categories")));
    assert_true(json_is_integer(json_object_get(tot, "notifications_open")));
    /* 报告患病率: registered per thousand of the township's population. */
    assert_int_equal(test_jint(tot, "population"), 30000);
    assert_true(json_is_number(json_object_get(tot, "reported_prevalence_permille")));
    /* A unit without its own figure sums its children's: 统计一村 has 0. */
    json_t *kids = json_object_get(r->json, "children");
    assert_int_equal(json_array_size(kids), 2);
    assert_int_equal(test_jint(json_array_get(kids, 0), "population"), 0);
    http_free(r);
    free(path);
}

/* ---- edge cases --------------------------------------------------------- */

static long long edge_patient(const char *name, const char *unit, const char *created)
{
    char id[19];

    test_new_id(id, -1, SUITE_SALT);
    return test_create_patient(county_doctor, created, name, id, unit,
                               ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2024-11-20\"");
}

static void visits(long long pid, const char *const *dates)
{
    for (; *dates; dates++)
        test_stable_visit(county_doctor, pid, *dates);
}

static long long child_metric(const http_res *r, const char *unit, const char *metric)
{
    json_t *kids = json_object_get(r->json, "children"), *k;
    size_t i;

    json_array_foreach(kids, i, k)
    {
        char id[32];
        snprintf(id, sizeof(id), "%lld", test_jint(json_object_get(k, "org_unit"), "id"));
        if (strcmp(id, unit) == 0)
            return test_jint(k, metric);
    }
    fail_msg("no child %s", unit);
    return -1;
}

static void edge_cases(void **state)
{
    static const char *const q92[] = {"2025-01-01", "2025-04-03", "2025-07-04", "2025-10-04",
                                      NULL};
    static const char *const q93[] = {"2025-01-01", "2025-04-04", "2025-07-05", "2025-10-04",
                                      NULL};
    static const char *const died_visits[] = {"2025-01-02", "2025-04-01", NULL};
    static const char *const moved_visits[] = {"2025-01-05", "2025-04-01", "2025-06-20",
                                               "2025-09-15", "2025-12-10", NULL};
    char cn[64];
    http_res *r;
    long long pid;

    (void)state;
    /* Only once per database: the expected counts are exact. */
    if (db_count("SELECT count(*) FROM patients p JOIN org_units o ON o.id = p.org_unit_id"
                 " WHERE o.code LIKE '" EDGE_VILLAGE "%'",
                 0, NULL) == 0) {
        snprintf(cn, sizeof(cn), "规范%s", test_cn_unique());
        visits(edge_patient(cn, edge_grid[0], "2025-01-01"), q92);
        snprintf(cn, sizeof(cn), "超期%s", test_cn_unique());
        visits(edge_patient(cn, edge_grid[1], "2025-01-01"), q93);
        snprintf(cn, sizeof(cn), "未访%s", test_cn_unique());
        edge_patient(cn, edge_grid[2], "2025-01-01");
        /* Died on 15 June 2025. */
        snprintf(cn, sizeof(cn), "死亡%s", test_cn_unique());
        pid = edge_patient(cn, edge_grid[3], "2025-01-01");
        visits(pid, died_visits);
        char *path = test_fmt("/api/v1/patients/%lld/status", pid);
        r = test_call("2025-06-20", "POST", path, county_doctor,
                      "{\"status\":\"deceased\",\"date\":\"2025-06-15\","
                      "\"death_cause\":\"illness\"}");
        if (r->status != 200)
            fail_msg("death: %ld %s", r->status, r->body);
        http_free(r);
        free(path);
        /* Registered in 泰丰 in January, moved here in July: counted here,
         * with the visits made there. */
        snprintf(cn, sizeof(cn), "迁入%s", test_cn_unique());
        char *from_grid = test_unit_id("429005003005G02");
        pid = edge_patient(cn, from_grid, "2025-01-01");
        free(from_grid);
        visits(pid, (const char *const[]){"2025-01-05", "2025-04-01", NULL});
        path = test_fmt("/api/v1/patients/%lld/transfers", pid);
        char *body = test_fmt("{\"to_org_unit_id\":%s,\"moved_on\":\"2025-06-10\","
                              "\"reason\":\"随子女迁居\"}",
                              edge_grid[4]);
        r = test_call("2025-06-10", "POST", path, county_doctor, body);
        if (r->status != 201)
            fail_msg("transfer: %ld %s", r->status, r->body);
        free(path);
        free(body);
        path = test_fmt("/api/v1/transfers/%lld/accept", test_jint(r->json, "id"));
        http_free(r);
        r = test_call("2025-06-12", "POST", path, county_doctor, "{}");
        if (r->status != 200)
            fail_msg("accept: %ld %s", r->status, r->body);
        http_free(r);
        free(path);
        visits(pid, moved_visits + 2);
        /* Registered on 1 July 2025: two visits make the prorated rule. */
        snprintf(cn, sizeof(cn), "新登%s", test_cn_unique());
        visits(edge_patient(cn, edge_grid[5], "2025-07-01"),
               (const char *const[]){"2025-08-01", "2025-10-30", NULL});
    }

    r = dash(admin, "2026-02-01", edge_village, "&year=2025");
    assert_string_equal(http_str(r, "source"), "live");
    /* 92 days apart: standard; 93: not. */
    assert_int_equal(child_metric(r, edge_grid[0], "registered"), 1);
    assert_int_equal(child_metric(r, edge_grid[0], "standard"), 1);
    assert_int_equal(child_metric(r, edge_grid[1], "registered"), 1);
    assert_int_equal(child_metric(r, edge_grid[1], "managed"), 1);
    assert_int_equal(child_metric(r, edge_grid[1], "standard"), 0);
    /* Never visited: on the register, not in care, not seen. */
    assert_int_equal(child_metric(r, edge_grid[2], "registered"), 1);
    assert_int_equal(child_metric(r, edge_grid[2], "managed"), 0);
    assert_int_equal(child_metric(r, edge_grid[2], "face"), 0);
    assert_int_equal(child_metric(r, edge_grid[2], "standard"), 0);
    /* Died in June: not on the register at the end of the year. */
    assert_int_equal(child_metric(r, edge_grid[3], "registered"), 0);
    /* Transferred in: counted where the patient lives now, with the whole year. */
    assert_int_equal(child_metric(r, edge_grid[4], "registered"), 1);
    assert_int_equal(child_metric(r, edge_grid[4], "standard"), 1);
    assert_int_equal(child_metric(r, edge_grid[4], "regular"), 1);
    /* Registered in July: prorated. */
    assert_int_equal(child_metric(r, edge_grid[5], "registered"), 1);
    assert_int_equal(child_metric(r, edge_grid[5], "standard"), 1);
    json_t *tot = json_object_get(r->json, "totals");
    assert_int_equal(test_jint(tot, "registered"), 5);
    assert_int_equal(test_jint(tot, "standard"), 3);
    assert_true(json_number_value(json_object_get(json_object_get(tot, "rates"),
                                                  "standard_management")) == 60.0);
    check_dashboard(r, edge_village, "2025-01-01", "2025-12-31", "2026-02-01");
    http_free(r);

    /* Before the death: on the register, two visits in five months suffice. */
    r = dash(admin, "2026-02-01", edge_village, "&from=2025-01-01&to=2025-05-31");
    assert_int_equal(child_metric(r, edge_grid[3], "registered"), 1);
    assert_int_equal(child_metric(r, edge_grid[3], "standard"), 1);
    /* The July registration is not on the register yet. */
    assert_int_equal(child_metric(r, edge_grid[5], "registered"), 0);
    check_dashboard(r, edge_village, "2025-01-01", "2025-05-31", "2026-02-01");
    http_free(r);

    /* Seen in the middle of the year: the 93-day gap is not there yet, and
     * the tail counts to today. */
    r = dash(admin, "2025-03-31", edge_village, "&year=2025");
    assert_int_equal(child_metric(r, edge_grid[0], "standard"), 1); /* Jan 1 + tail 89 */
    assert_int_equal(child_metric(r, edge_grid[2], "standard"), 0);
    check_dashboard(r, edge_village, "2025-01-01", "2025-12-31", "2025-03-31");
    http_free(r);
}

/* ---- who sees what ------------------------------------------------------ */

static void roles_and_scope(void **state)
{
    http_res *r;
    json_t *tot;

    (void)state;
    /* Officials and doctors: everything, for their own township by default. */
    r = dash(official, NULL, NULL, NULL);
    assert_int_equal(test_jint(json_object_get(r->json, "org_unit"), "id"),
                     strtoll(tf_unit, NULL, 10));
    tot = json_object_get(r->json, "totals");
    assert_non_null(json_object_get(tot, "rates"));
    assert_non_null(json_object_get(tot, "standard"));
    http_free(r);
    http_free(dash(doctor, NULL, tf_unit, NULL));
    /* Police: counts of risk, colour, categories and notifications; no clinical rates. */
    r = dash(police, NULL, tf_unit, NULL);
    tot = json_object_get(r->json, "totals");
    assert_null(json_object_get(tot, "rates"));
    assert_null(json_object_get(tot, "standard"));
    assert_null(json_object_get(tot, "regular"));
    assert_non_null(json_object_get(tot, "risk"));
    assert_non_null(json_object_get(tot, "notifications_open"));
    http_free(r);
    /* Civil affairs: the register and key categories only. */
    r = dash(civil, NULL, tf_unit, NULL);
    tot = json_object_get(r->json, "totals");
    assert_null(json_object_get(tot, "rates"));
    assert_null(json_object_get(tot, "risk"));
    assert_null(json_object_get(tot, "colour"));
    assert_non_null(json_object_get(tot, "key_categories"));
    assert_non_null(json_object_get(tot, "registered"));
    http_free(r);
    /* Grid workers: 403 in their area. */
    char *grid = test_unit_id("429005003001G01");
    char *path = test_fmt("/api/v1/statistics/dashboard?org_unit_id=%s", grid);
    free(grid);
    r = http_do("GET", path, grid1, NULL, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("GET", "/api/v1/statistics/dashboard", grid1, NULL, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    /* Another township: 404, for every role. */
    char *other = test_fmt("/api/v1/statistics/dashboard?org_unit_id=%s", gen_unit);
    const char *tokens[] = {official, doctor, police, civil, grid1, yl_admin};
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        r = http_do("GET", other, tokens[i], NULL, NULL);
        http_assert_problem(r, 404, NULL);
        http_free(r);
    }
    r = http_do("GET", "/api/v1/statistics/dashboard?org_unit_id=999999999", official, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", path, NULL, NULL, NULL);
    assert_int_equal(r->status, 401);
    http_free(r);
    free(other);
    free(path);
}

static void bad_queries(void **state)
{
    static const struct {
        const char *query, *field;
    } rows[] = {
        {"year=abc", "year"},
        {"year=1800", "year"},
        {"year=2999", "year"},
        {"year=2025&from=2025-01-01&to=2025-02-01", "year"},
        {"from=2025-01-01", "to"},
        {"to=2025-01-01", "from"},
        {"from=2025-02-30&to=2025-03-01", "from"},
        {"from=2025-03-01&to=2025-02-01", "to"},
        {"from=2000-01-01&to=2025-02-01", "to"},
        {"from=2099-01-01&to=2099-02-01", "from"},
        {"org_unit_id=abc", "org_unit_id"},
        {"live=maybe", "live"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *path = test_fmt("/api/v1/statistics/dashboard?%s", rows[i].query);
        http_res *r = test_call("2026-02-01", "GET", path, official, NULL);
        http_assert_problem(r, 400, rows[i].field);
        http_free(r);
        free(path);
    }
}

/* ---- resident population ------------------------------------------------ */

static void population(void **state)
{
    char *path = test_fmt("/api/v1/org-units/%s/population", edge_village);
    const char *p[] = {edge_village};
    long audits = db_count("SELECT count(*) FROM audit_log WHERE action = 'org_unit.population'"
                           " AND target_id = $1",
                           1, p);
    http_res *r;

    (void)state;
    r = http_do("PUT", path, admin, "{\"population\":4321}", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(test_jint(r->json, "population"), 4321);
    http_free(r);
    assert_int_equal(db_count("SELECT population FROM org_units WHERE id = $1", 1, p), 4321);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                              " 'org_unit.population' AND target_id = $1",
                              1, p),
                     audits + 1);
    /* The dashboard divides by it: 5 registered in 2025 of 4321 → 1.16‰. */
    r = dash(admin, "2026-02-01", edge_village, "&year=2025");
    assert_int_equal(test_jint(json_object_get(r->json, "totals"), "population"), 4321);
    assert_true(json_number_value(json_object_get(json_object_get(r->json, "totals"),
                                                  "reported_prevalence_permille")) == 1.16);
    http_free(r);

    /* Bad bodies: 400 naming the field, nothing written. */
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"population\":-1}", "population"},
        {"{\"population\":\"many\"}", "population"},
        {"{}", "population"},
        {"{\"population\":5,\"name\":\"x\"}", "name"},
        {"{\"population\":3000000000}", "population"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = http_do("PUT", path, admin, bad[i].body, NULL);
        http_assert_problem(r, 400, bad[i].field);
        http_free(r);
    }
    assert_int_equal(db_count("SELECT population FROM org_units WHERE id = $1", 1, p), 4321);

    /* Only admins (403), and only in their area (404). */
    const char *no[] = {official, doctor, police, civil};
    char *tf_path = test_fmt("/api/v1/org-units/%s/population", tf_unit);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        r = http_do("PUT", tf_path, no[i], "{\"population\":1}", NULL);
        http_assert_problem(r, 403, NULL);
        http_free(r);
    }
    r = http_do("PUT", tf_path, yl_admin, "{\"population\":1}", NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("PUT", "/api/v1/org-units/999999999/population", admin, "{\"population\":1}",
                NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    const char *tp[] = {tf_unit};
    assert_int_equal(db_count("SELECT population FROM org_units WHERE id = $1", 1, tp), 45270);
    free(tf_path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(live_matches_brute_force),
        cmocka_unit_test(cache_matches_brute_force),
        cmocka_unit_test(state_counts_match),
        cmocka_unit_test(edge_cases),
        cmocka_unit_test(roles_and_scope),
        cmocka_unit_test(bad_queries),
        cmocka_unit_test(population),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
