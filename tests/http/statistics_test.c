/* HTTP suite: statistics — the dashboard's indicators checked against a
 * brute-force SQL computation (day by day) over generated patients, live
 * and from the worker's cache; the edge cases of docs/domain.md (a death
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
#include <sys/wait.h>
#include <time.h>
#include <stdbool.h>
#include <unistd.h>

#define SUITE_SALT 24 /* keeps this suite's ID numbers apart from the others' */

/* The generated township (its own, so the brute force sees only it) and
 * the township of the edge cases, made by this suite. */
#define GEN_TOWNSHIP "429005924"
#define GEN_VILLAGE "429005924001"
#define EDGE_TOWNSHIP "429005925"
#define EDGE_VILLAGE "429005925001"
#define HIST_TOWNSHIP "429005926"
#define HIST_VILLAGE "429005926001"

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
static void check_block(const json_t *block, const char *unit_id, const char *from, const char *to,
                        const char *today, const char *what)
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
        snprintf(name, sizeof(name), "边界村第%s网格",
                 (const char *[]){"一", "二", "三", "四", "五", "六"}[i]);
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

    /* Realistic patients with two years of history (once per database),
     * loaded as the owner (the generator sets foreign keys aside). */
    char *gen = test_fmt("%s", bin_beside("jingfang-gen"));
    char *cmd = test_fmt(
        "JF_DB_URL=\"$JF_TEST_DB_OWNER\" '%s' --patients 150 --township " GEN_TOWNSHIP
        " --seed 24 --if-empty >/dev/null 2>&1 && '%s' recompute " GEN_TOWNSHIP " >/dev/null 2>&1",
        gen, bin_beside("jingfang-api"));
    run(cmd);
    free(cmd);
    free(gen);
    return 0;
}

/* ---- the indicators against the brute force ----------------------------- */

/* [R-STAT-1, R-STAT-2, R-STAT-3, R-STAT-4] */
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

    /* A write after the refresh counts at once: the patients changed since
     * the worker's last pass are put right from the records. */
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
    assert_string_equal(http_str(r, "source"), "cached");
    assert_int_equal(test_jint(json_object_get(r->json, "totals"), "registered"), before - 1);
    check_dashboard(r, gen_unit, from, to, today);
    http_free(r);
    t = db_scalar("SELECT stat_refresh()::text", 0, NULL);
    free(t);
    r = dash(admin, NULL, gen_unit, NULL);
    assert_int_equal(test_jint(json_object_get(r->json, "totals"), "registered"), before - 1);
    check_dashboard(r, gen_unit, from, to, today);
    http_free(r);
    /* jingfang-worker --once refreshes the cache too. */
    char *before_refresh = db_scalar("SELECT refreshed_at::text FROM stat_refresh_log", 0, NULL);
    const char *worker = getenv("JF_TEST_WORKER_BIN");
    assert_non_null(worker);
    char *cmd = test_fmt("'%s' --once >/dev/null 2>&1", worker);
    run(cmd);
    free(cmd);
    char *after_refresh = db_scalar("SELECT refreshed_at::text FROM stat_refresh_log", 0, NULL);
    assert_string_not_equal(before_refresh, after_refresh);
    free(before_refresh);
    free(after_refresh);
    /* live=true answers from the records at once */
    r = dash(admin, NULL, gen_unit, "&live=true");
    assert_string_equal(http_str(r, "source"), "live");
    check_dashboard(r, gen_unit, from, to, today);
    http_free(r);
    free(pid);
    free(path);
}

/* ---- rollups: every kept period, random writes between passes ---------- */

static http_res *post_as(const char *token, const char *date, const char *path, const char *body);

/* Each statement answers how many rows it wrote. */
#define DONE "SELECT count(*)::text FROM w"
#define W_VISITS                                                                                   \
    "WITH p AS (SELECT id FROM patients WHERE starts_with(org_path, '%s')"                         \
    "  AND status IN ('registered', 'in_care') ORDER BY md5(id::text || '%u') LIMIT 8)"            \
    ", w AS (INSERT INTO follow_ups (patient_id, visit_date, mode, reached, compliance, class,"    \
    "  computed_class, user_id) SELECT id, stat_today() - (abs(hashtext(id || '%u')) %% 400),"     \
    "  (ARRAY['clinic', 'home', 'phone'])[1 + abs(hashtext(id || 'm%u')) %% 3], true,"             \
    "  (ARRAY['regular', 'intermittent', 'none'])[1 + abs(hashtext(id || 'c%u')) %% 3],"           \
    "  c, c, (SELECT u.id FROM users u ORDER BY md5(u.id || '.' || p.id) LIMIT 1)"                 \
    "  FROM p, LATERAL (SELECT (ARRAY['stable', 'basically_stable', 'unstable'])"                  \
    "  [1 + abs(hashtext(p.id || 'k%u')) %% 3] AS c) k RETURNING 1) " DONE
/* The 统计报表's facts: the risk level and flags now, an assessment of 3
 * or more on some day, a treatment ended. */
#define W_REPORT                                                                                   \
    "WITH p AS (SELECT id FROM patients WHERE starts_with(org_path, '%s')"                         \
    "  AND status IN ('registered', 'in_care') ORDER BY md5(id::text || 'r%u') LIMIT 3),"          \
    " u AS (UPDATE patients x SET risk_level = abs(hashtext(p.id || '%u')) %% 6,"                  \
    "  migrant = NOT coalesce(migrant, false), dibao = NOT coalesce(dibao, false) FROM p"          \
    "  WHERE x.id = p.id RETURNING x.id),"                                                         \
    " a AS (INSERT INTO risk_assessments (patient_id, assessed_on, level, tier)"                   \
    "  SELECT id, stat_today() - abs(hashtext(id || 'a%u')) %% 500, 3, 'community' FROM u),"       \
    " w AS (UPDATE prescriptions r SET ended_on = greatest(r.started_on, stat_today()"             \
    "  - abs(hashtext(r.id || '%u')) %% 300) FROM (SELECT r.id FROM prescriptions r"               \
    "  JOIN patients q ON q.id = r.patient_id WHERE starts_with(q.org_path, '%s')"                 \
    "  AND r.ended_on IS NULL ORDER BY md5(r.id::text || '%u') LIMIT 2) e"                         \
    "  WHERE r.id = e.id RETURNING 1) " DONE
#define W_STAYS                                                                                    \
    "WITH p AS (SELECT id FROM patients WHERE starts_with(org_path, '%s')"                         \
    "  AND status IN ('registered', 'in_care') AND NOT EXISTS (SELECT 1 FROM hospitalisations h"   \
    "  WHERE h.patient_id = patients.id AND h.discharged_on IS NULL)"                              \
    "  ORDER BY md5(id::text || 'h%u') LIMIT 2)"                                                   \
    ", w AS (INSERT INTO hospitalisations (patient_id, admitted_on, discharged_on, hospital,"      \
    "  involuntary) SELECT id, stat_today() - 60 - abs(hashtext(id || '%u')) %% 200,"              \
    "  CASE WHEN abs(hashtext(id || 'o%u')) %% 2 = 0"                                              \
    "  THEN stat_today() - abs(hashtext(id || 'd%u')) %% 50 END, '市精神卫生中心', false"   \
    "  FROM p RETURNING 1) " DONE
#define W_DEATH                                                                                    \
    "WITH p AS (SELECT id, status FROM patients WHERE starts_with(org_path, '%s')"                 \
    "  AND status IN ('registered', 'in_care') ORDER BY md5(id::text || 'x%u') LIMIT 1),"          \
    " u AS (UPDATE patients x SET status = 'deceased' FROM p WHERE x.id = p.id"                    \
    "  RETURNING x.id, p.status)"                                                                  \
    ", w AS (INSERT INTO patient_events (patient_id, kind, event_date, from_status, to_status,"    \
    "  reason, death_cause) SELECT id, 'status', stat_today() - abs(hashtext(id || '%u'))"         \
    "  %% 300, status, 'deceased', '统计测试', 'illness' FROM u RETURNING 1) " DONE
#define W_MOVES                                                                                    \
    "WITH p AS (SELECT id FROM patients WHERE starts_with(org_path, '%s')"                         \
    "  AND status IN ('registered', 'in_care') ORDER BY md5(id::text || 't%u') LIMIT 2),"          \
    " g AS (SELECT id, path FROM org_units WHERE starts_with(path, '%s')"                          \
    "  AND level = 'grid' ORDER BY md5(id::text || '%u') LIMIT 1)"                                 \
    ", w AS (UPDATE patients x SET org_unit_id = g.id, org_path = g.path FROM p, g"                \
    "  WHERE x.id = p.id AND x.org_unit_id <> g.id RETURNING 1) " DONE

/* Random writes about patients under path (the generated township): reached
 * visits over the last 400 days by some user, hospital stays (some still
 * open), deaths, moves between its grids, risk levels and flags,
 * assessments and treatments ended. Each through SQL, as any writer would: the
 * triggers log the change the rollups follow. */
static void random_writes(const char *path, unsigned seed)
{
    char *q[] = {test_fmt(W_VISITS, path, seed, seed, seed, seed, seed),
                 test_fmt(W_STAYS, path, seed, seed, seed, seed),
                 test_fmt(W_DEATH, path, seed, seed), test_fmt(W_MOVES, path, seed, path, seed),
                 test_fmt(W_REPORT, path, seed, seed, seed, seed, path, seed)};

    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        free(db_scalar(q[i], 0, NULL));
        free(q[i]);
    }
}

/* The period figures of one block (metrics and rates) as text. */
static char *period_figures(const json_t *block)
{
    json_t *o = json_object();
    char *s;

    for (size_t i = 0; i < NMETRICS; i++)
        json_object_set(o, metrics[i], json_object_get(block, metrics[i]));
    json_object_set(o, "rates", json_object_get(block, "rates"));
    s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(o);
    return s;
}

/* The 统计报表's computed fields for $1 path, $2 from, $3 to as of today,
 * brute force from the records: the report's query before the rollups,
 * the reference of both ways that answer it now. */
#define REPORT_BRUTE                                                                               \
    "WITH b AS (SELECT least($3::date, stat_today()) AS e),"                                       \
    " f AS (SELECT * FROM stat_patient_facts($1, $2::date, $3::date, stat_today())),"              \
    " p AS (SELECT p.*, b.e FROM patients p JOIN f ON f.patient_id = p.id, b),"                    \
    " i AS (SELECT x.* FROM incidents x JOIN patients q ON q.id = x.patient_id, b"                 \
    "  WHERE starts_with(q.org_path, $1) AND x.occurred_on BETWEEN $2::date AND b.e),"             \
    " fu AS (SELECT x.* FROM follow_ups x JOIN patients q ON q.id = x.patient_id, b"               \
    "  WHERE starts_with(q.org_path, $1) AND x.visit_date BETWEEN $2::date AND b.e)"               \
    " SELECT jsonb_build_object("                                                                  \
    " 'followup_staff', (SELECT count(DISTINCT user_id) FROM fu),"                                 \
    " 'followup_patients', (SELECT count(DISTINCT patient_id) FROM fu WHERE reached),"             \
    " 'patients_total', (SELECT count(*) FROM f),"                                                 \
    " 'risk_0', (SELECT count(*) FROM p WHERE risk_level = 0),"                                    \
    " 'risk_1_2', (SELECT count(*) FROM p WHERE risk_level BETWEEN 1 AND 2),"                      \
    " 'risk_3_5_new', (SELECT count(*) FROM p WHERE risk_level >= 3 AND NOT EXISTS (SELECT 1"      \
    "  FROM risk_assessments r WHERE r.patient_id = p.id AND r.level >= 3"                         \
    "  AND r.assessed_on < $2::date)),"                                                            \
    " 'risk_3_5_prior', (SELECT count(*) FROM p WHERE risk_level >= 3 AND EXISTS (SELECT 1"        \
    "  FROM risk_assessments r WHERE r.patient_id = p.id AND r.level >= 3"                         \
    "  AND r.assessed_on < $2::date)),"                                                            \
    " 'hospitalised', (SELECT count(*) FROM p WHERE EXISTS (SELECT 1 FROM hospitalisations h"      \
    "  WHERE h.patient_id = p.id AND h.admitted_on <= p.e"                                         \
    "  AND (h.discharged_on IS NULL OR h.discharged_on >= $2::date))),"                            \
    " 'home_treatment', (SELECT count(*) FROM f WHERE at_home),"                                   \
    " 'long_acting', (SELECT count(*) FROM p WHERE EXISTS (SELECT 1 FROM prescriptions r"          \
    "  WHERE r.patient_id = p.id AND r.long_acting AND r.started_on <= p.e"                        \
    "  AND (r.ended_on IS NULL OR r.ended_on > p.e))),"                                            \
    " 'oral', (SELECT count(*) FROM p WHERE EXISTS (SELECT 1 FROM prescriptions r"                 \
    "  WHERE r.patient_id = p.id AND NOT r.long_acting AND r.started_on <= p.e"                    \
    "  AND (r.ended_on IS NULL OR r.ended_on > p.e))),"                                            \
    " 'migrant_patients', (SELECT count(*) FROM p WHERE migrant),"                                 \
    " 'vagrant_patients', (SELECT count(*) FROM p WHERE vagrant),"                                 \
    " 'incident_prone', (SELECT count(*) FROM p WHERE risk_level >= 3"                             \
    "  OR key_flags ? 'incident_history'),"                                                        \
    " 'police_key', (SELECT count(*) FROM p WHERE police_key_person),"                             \
    " 'incident_patients', (SELECT count(DISTINCT patient_id) FROM i),"                            \
    " 'incidents', (SELECT count(*) FROM i),"                                                      \
    " 'incident_injured', (SELECT coalesce(sum(injured), 0) FROM i),"                              \
    " 'incident_dead', (SELECT coalesce(sum(dead), 0) FROM i),"                                    \
    " 'dibao_patients', (SELECT count(*) FROM p WHERE dibao))"

/* The report's fields for the unit at path and [from, to] equal the brute
 * force: from the rollups when kept (they must hold the period), else
 * from the records. */
static void check_report(const char *path, const char *from, const char *to, bool kept)
{
    const char *p[] = {path, from, to};
    char *got = db_scalar(kept ? "SELECT campaign_report_json(c, $1, $2::date, $3::date,"
                                 " stat_today())::text FROM (SELECT stat_rollup_counts($1,"
                                 " $2::date, $3::date, stat_today()) AS c) r WHERE c IS NOT NULL"
                               : "SELECT campaign_report_json(stat_mask_counts($1, $2::date,"
                                 " $3::date, stat_today()), $1, $2::date, $3::date,"
                                 " stat_today())::text",
                          3, p);
    char *want = db_scalar("SELECT (" REPORT_BRUTE ")::text", 3, p);

    if (got == NULL)
        fail_msg("report %s %s..%s: the rollups do not hold the period", path, from, to);
    if (strcmp(got, want) != 0)
        fail_msg("report %s %s..%s (%s): %s, brute force %s", path, from, to,
                 kept ? "rollups" : "records", got, want);
    free(got);
    free(want);
}

/* The cached answer equals the live one, block for block. */
static void check_against_live(const char *unit, const char *from, const char *to, int brute)
{
    char *q = test_fmt("&from=%s&to=%s", from, to), *ql = test_fmt("%s&live=true", q);
    http_res *c = dash(admin, NULL, unit, q), *l = dash(admin, NULL, unit, ql);
    json_t *ck = json_object_get(c->json, "children"), *lk = json_object_get(l->json, "children");

    assert_string_equal(http_str(c, "source"), "cached");
    assert_string_equal(http_str(l, "source"), "live");
    assert_int_equal(json_array_size(ck), json_array_size(lk));
    for (size_t i = 0; i <= json_array_size(ck); i++) {
        const json_t *a = i == 0 ? json_object_get(c->json, "totals") : json_array_get(ck, i - 1);
        const json_t *b = i == 0 ? json_object_get(l->json, "totals") : json_array_get(lk, i - 1);
        char *x = period_figures(a), *y = period_figures(b);
        if (strcmp(x, y) != 0)
            fail_msg("unit %s, %s..%s, block %zu: rollups %s, live %s", unit, from, to, i, x, y);
        free(x);
        free(y);
    }
    if (brute)
        check_block(json_object_get(c->json, "totals"), unit, from, to, today_iso(), "totals");
    http_free(c);
    http_free(l);
    free(q);
    free(ql);
}

/* Random kept periods and units of the township (itself, its villages,
 * its grids) after random writes, before and after the worker's passes,
 * and across a new day: the rollups always answer what the records say. */
static void rollups_match_live(void **state)
{
    char *path = unit_path(gen_unit);
    const char *pp[] = {path};
    const char *env = getenv("JF_TEST_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    int checked = 0;

    (void)state;
    print_message("rollups: seed %u (JF_TEST_SEED repeats it)\n", seed);
    srand(seed);
    /* A campaign running since 100 days ago: its period is kept too. */
    char *cfrom = db_scalar("SELECT (stat_today() - 100)::text", 0, NULL);
    char *cto = db_scalar("SELECT (stat_today() + 30)::text", 0, NULL);
    char *cbody = test_fmt("{\"name\":\"泰丰专项\",\"org_unit_id\":%s,\"starts_on\":\"%s\","
                           "\"ends_on\":\"%s\"}",
                           gen_unit, cfrom, cto);
    http_res *c = post_as(admin, NULL, "/api/v1/campaigns", cbody);
    assert_int_equal(c->status, 201);
    char *report = test_fmt("/api/v1/campaigns/%lld/report", test_jint(c->json, "id"));
    http_free(c);
    c = test_call(NULL, "GET", report, admin, NULL);
    assert_int_equal(c->status, 200);
    assert_string_equal(http_str(c, "source"), "live");
    http_free(c);
    char *t = db_scalar("SELECT stat_refresh()::text", 0, NULL);
    assert_string_equal(t, "true");
    free(t);
    const char *cp[] = {cfrom, cto};
    assert_int_equal(db_count("SELECT count(*) FROM stat_rollup_periods WHERE kind = 'campaign'"
                              " AND period_from = $1::date AND period_to = $2::date",
                              2, cp),
                     1);
    c = test_call(NULL, "GET", report, admin, NULL);
    assert_int_equal(c->status, 200);
    assert_string_equal(http_str(c, "source"), "cached");
    assert_non_null(http_str(c, "as_of"));
    http_free(c);
    check_report(path, cfrom, cto, true);
    free(cfrom);
    free(cto);
    free(cbody);
    free(report);
    long units = db_count("SELECT count(*) FROM org_units WHERE starts_with(path, $1)", 1, pp);
    long periods = db_count("SELECT count(*) FROM stat_rollup_periods", 0, NULL);
    assert_true(units >= 3 && periods >= 13);
    for (int round = 0; round < 6; round++) {
        random_writes(path, seed + (unsigned)round);
        if (round % 2 == 1) {
            t = db_scalar("SELECT stat_refresh()::text", 0, NULL);
            free(t);
        }
        if (round == 1) {
            t = db_scalar("SELECT pass FROM stat_refresh_log", 0, NULL);
            assert_string_equal(t, "changes");
            free(t);
        }
        if (round == 4) {
            /* A bulk change: every patient of the township moved to one
             * grid at once. With the floor lowered to one, it is more
             * than a fiftieth of the rollups: everyone is computed again. */
            assert_true(db_try("UPDATE stat_refresh_log SET bulk_min = 1"));
            char *move = test_fmt("WITH g AS (SELECT id, path FROM org_units WHERE"
                                  " starts_with(path, '%s') AND level = 'grid' ORDER BY"
                                  " md5(id::text || '%u') LIMIT 1) UPDATE patients x SET"
                                  " org_unit_id = g.id, org_path = g.path FROM g WHERE"
                                  " starts_with(x.org_path, '%s') AND x.org_unit_id <> g.id",
                                  path, seed, path);
            assert_true(db_try(move));
            free(move);
            t = db_scalar("SELECT stat_refresh()::text", 0, NULL);
            assert_string_equal(t, "true");
            free(t);
            t = db_scalar("SELECT pass || ' ' || (changed_patients >= 60)::text"
                          " FROM stat_refresh_log",
                          0, NULL);
            assert_string_equal(t, "bulk true");
            free(t);
            assert_true(db_try("UPDATE stat_refresh_log SET bulk_min = DEFAULT"));
        }
        if (round == 3) {
            /* A new day: the last pass was yesterday and its running
             * periods are wrong; until the next pass they are answered
             * live, then from rollups computed again. */
            assert_true(db_try("UPDATE stat_patient_rollups SET bits = ARRAY(SELECT CASE WHEN"
                               " r.period_to >= stat_today() THEN 0 ELSE b END FROM"
                               " unnest(bits) WITH ORDINALITY u(b, i) JOIN stat_rollup_periods r"
                               " ON r.idx = u.i ORDER BY i)"));
            assert_true(db_try("UPDATE stat_refresh_log SET as_of = stat_today() - 1"));
            char *y = test_fmt("&year=%.4s", today_iso());
            http_res *r = dash(admin, NULL, gen_unit, y);
            assert_string_equal(http_str(r, "source"), "live");
            http_free(r);
            free(y);
            t = db_scalar("SELECT stat_refresh()::text", 0, NULL);
            free(t);
        }
        for (int k = 0; k < 12; k++) {
            char off[2][16];
            snprintf(off[0], sizeof(off[0]), "%ld", (long)(rand() % units));
            snprintf(off[1], sizeof(off[1]), "%ld", (long)(rand() % periods) + 1);
            const char *up[] = {path, off[0]}, *pr[] = {off[1]};
            char *unit = db_scalar("SELECT id::text FROM org_units WHERE starts_with(path, $1)"
                                   " ORDER BY path OFFSET $2::int LIMIT 1",
                                   2, up);
            char *from = db_scalar("SELECT period_from::text FROM stat_rollup_periods"
                                   " WHERE idx = $1::int",
                                   1, pr);
            char *to = db_scalar("SELECT period_to::text FROM stat_rollup_periods"
                                 " WHERE idx = $1::int",
                                 1, pr);
            check_against_live(unit, from, to, k == 0);
            char *upath = unit_path(unit);
            check_report(upath, from, to, true);
            if (k % 4 == 0) {
                /* and any from–to period, from the records */
                char *f2 = test_fmt("%s", from), *days = test_fmt("%d", rand() % 200);
                f2[8] = (char)('0' + rand() % 2), f2[9] = (char)('1' + rand() % 9);
                const char *fd[] = {f2, days};
                char *t2 = db_scalar("SELECT ($1::date + $2::int)::text", 2, fd);
                check_report(upath, f2, t2, false);
                free(f2);
                free(days);
                free(t2);
            }
            free(upath);
            checked++;
            free(unit);
            free(from);
            free(to);
        }
    }
    /* The staff counts the triggers (and the generator) kept equal a recount. */
    assert_int_equal(db_count("SELECT count(*) FROM ((SELECT p.org_unit_id, f.visit_date,"
                              " f.user_id, count(*) FROM follow_ups f JOIN patients p"
                              " ON p.id = f.patient_id WHERE f.user_id IS NOT NULL"
                              " GROUP BY 1, 2, 3) EXCEPT ALL (SELECT org_unit_id, day, user_id,"
                              " n FROM stat_unit_staff WHERE n <> 0)) d",
                              0, NULL),
                     0);
    assert_int_equal(db_count("SELECT count(*) FROM ((SELECT org_unit_id, day, user_id, n"
                              " FROM stat_unit_staff WHERE n <> 0) EXCEPT ALL (SELECT"
                              " p.org_unit_id, f.visit_date, f.user_id, count(*) FROM follow_ups"
                              " f JOIN patients p ON p.id = f.patient_id WHERE f.user_id IS NOT"
                              " NULL GROUP BY 1, 2, 3)) d",
                              0, NULL),
                     0);
    print_message("rollups: %d random periods and units checked\n", checked);
    free(path);
}

/* Saved periods (常用统计时段): a unit saves a from–to period; from the
 * worker's next pass its dashboard comes from the rollups, equal to the
 * live figures. Seen by the unit's subtree, removed by the unit only. */
static void saved_periods(void **state)
{
    const char *url = "/api/v1/statistics/periods";
    char *from = db_scalar("SELECT (stat_today() - 75)::text", 0, NULL);
    char *to = db_scalar("SELECT (stat_today() - 9)::text", 0, NULL);
    char *body = test_fmt("{\"name\":\"迎检期间\",\"from\":\"%s\",\"to\":\"%s\"}", from, to);
    http_res *r;

    (void)state;
    r = http_do("POST", url, official, body, NULL);
    if (r->status != 201)
        fail_msg("save: %ld %s", r->status, r->body);
    long long id = test_jint(r->json, "id");
    assert_false(json_is_true(json_object_get(r->json, "kept")));
    assert_string_equal(test_jstr(r->json, "from"), from);
    char *one = test_fmt("%s/%lld", url, id);
    assert_string_equal(http_header(r, "Location"), one);
    http_free(r);

    /* Bad bodies: 400 naming the field; a second save of it, 409. */
    char *late = db_scalar("SELECT (stat_today() + 1)::text", 0, NULL);
    char *far = db_scalar("SELECT (stat_today() - 4000)::text", 0, NULL);
    char *bads[][2] = {
        {test_fmt("{\"from\":\"%s\",\"to\":\"%s\"}", from, to), "name"},
        {test_fmt("{\"name\":\"\",\"from\":\"%s\",\"to\":\"%s\"}", from, to), "name"},
        {test_fmt("{\"name\":\"x\",\"from\":\"2026-02-30\",\"to\":\"%s\"}", to), "from"},
        {test_fmt("{\"name\":\"x\",\"from\":\"%s\",\"to\":\"%s\"}", to, from), "to"},
        {test_fmt("{\"name\":\"x\",\"from\":\"%s\",\"to\":\"%s\"}", late, late), "from"},
        {test_fmt("{\"name\":\"x\",\"from\":\"%s\",\"to\":\"%s\"}", far, to), "to"},
        {test_fmt("{\"name\":\"x\",\"from\":\"%s\",\"to\":\"%s\",\"nope\":1}", from, to), "nope"},
    };
    long before = db_count("SELECT count(*) FROM stat_saved_periods", 0, NULL);
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        r = http_do("POST", url, official, bads[i][0], NULL);
        http_assert_problem(r, 400, bads[i][1]);
        http_free(r);
        free(bads[i][0]);
    }
    r = http_do("POST", url, official, body, NULL);
    http_assert_problem(r, 409, "from");
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM stat_saved_periods", 0, NULL), before);
    /* At most 8 a unit. */
    for (int k = 1; k <= 8; k++) {
        char *kk = test_fmt("%d", k);
        const char *kp[] = {kk};
        char *end = db_scalar("SELECT (stat_today() - 4000 + $1::int)::text", 1, kp);
        char *b = test_fmt("{\"name\":\"上限%d\",\"from\":\"%s\",\"to\":\"%s\"}", k, far, end);
        free(kk);
        free(end);
        r = http_do("POST", url, official, b, NULL);
        if (k < 8)
            assert_int_equal(r->status, 201);
        else
            http_assert_problem(r, 409, NULL);
        http_free(r);
        free(b);
    }
    assert_true(db_try("DELETE FROM stat_saved_periods WHERE name LIKE '上限%'"));

    /* Who sees and saves: not grid workers; the county's period serves the
     * township, not the other way round; only the saving unit removes. */
    r = http_do("GET", url, grid1, NULL, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("POST", url, grid1, body, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    /* (a period may run past today, as a campaign's does) */
    char *cbody = test_fmt("{\"name\":\"县考核期\",\"from\":\"%s\",\"to\":\"%s\"}", from, late);
    r = http_do("POST", url, admin, cbody, NULL);
    if (r->status != 201)
        fail_msg("save as admin: %ld %s", r->status, r->body);
    char *county_one = test_fmt("%s/%lld", url, test_jint(r->json, "id"));
    http_free(r);
    r = http_do("GET", url, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 2);
    http_free(r);
    r = http_do("GET", url, admin, NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    http_free(r);
    free(cbody);
    r = http_do("DELETE", county_one, official, NULL, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("DELETE", one, yl_admin, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);

    /* The worker's pass keeps it: the dashboard comes from the rollups and
     * equals the live figures. */
    char *t = db_scalar("SELECT stat_refresh()::text", 0, NULL);
    assert_string_equal(t, "true");
    free(t);
    r = http_do("GET", url, official, NULL, NULL);
    json_t *items = json_object_get(r->json, "items"), *it;
    size_t i;
    int kept = 0;
    json_array_foreach(items, i, it) kept += json_is_true(json_object_get(it, "kept"));
    assert_int_equal(kept, 2);
    http_free(r);
    char *q = test_fmt("&from=%s&to=%s", from, to), *ql = test_fmt("%s&live=true", q);
    http_res *c = dash(official, NULL, NULL, q), *l = dash(official, NULL, NULL, ql);
    assert_string_equal(http_str(c, "source"), "cached");
    char *x = period_figures(json_object_get(c->json, "totals"));
    char *y = period_figures(json_object_get(l->json, "totals"));
    assert_string_equal(x, y);
    free(x);
    free(y);
    http_free(c);
    http_free(l);
    free(q);
    free(ql);

    /* Removed by its unit; gone from the list. */
    r = http_do("DELETE", one, official, NULL, NULL);
    assert_int_equal(r->status, 204);
    http_free(r);
    r = http_do("DELETE", county_one, admin, NULL, NULL);
    assert_int_equal(r->status, 204);
    http_free(r);
    r = http_do("GET", url, official, NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 0);
    http_free(r);
    free(one);
    free(county_one);
    free(body);
    free(from);
    free(to);
    free(late);
    free(far);
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
    return test_create_patient(
        county_doctor, created, name, id, unit,
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

/* [R-STAT-3] */
static void edge_cases(void **state)
{
    static const char *const q92[] = {"2025-01-01", "2025-04-03", "2025-07-04", "2025-10-04", NULL};
    static const char *const q93[] = {"2025-01-01", "2025-04-04", "2025-07-05", "2025-10-04", NULL};
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

    /* 2025 is a year the rollups keep: they answer, with the patients
     * written since the worker's last pass put right from the records. */
    r = dash(admin, "2026-02-01", edge_village, "&year=2025");
    assert_string_equal(http_str(r, "source"), "cached");
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
    assert_true(json_number_value(
                    json_object_get(json_object_get(tot, "rates"), "standard_management")) == 60.0);
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

/* ---- the patients behind each figure ----------------------------------- */

/* How many patients GET /patients?indicator=metric lists for unit over the
 * period query, as token on date, walking every page (and checking the
 * first page's total agrees). */
static long long listed(const char *token, const char *date, const char *unit, const char *metric,
                        const char *query)
{
    char *cursor = NULL;
    long long n = 0, total = -1;

    do {
        char *path =
            test_fmt("/api/v1/patients?indicator=%s&org_unit_id=%s&%s&limit=37%s%s", metric, unit,
                     query, cursor ? "&cursor=" : "&count=true", cursor ? cursor : "");
        http_res *r = test_call(date, "GET", path, token, NULL);
        if (r->status != 200)
            fail_msg("GET %s: %ld %s", path, r->status, r->body);
        if (cursor == NULL)
            total = test_jint(r->json, "total");
        n += (long long)json_array_size(json_object_get(r->json, "items"));
        free(cursor);
        const char *next = http_str(r, "next_cursor");
        cursor = next ? strdup(next) : NULL;
        http_free(r);
        free(path);
    } while (cursor != NULL);
    assert_int_equal(n, total);
    return n;
}

/* Every figure of a block (the unit or a child) equals the count of the
 * patients the list shows for it. */
static void check_listed(const json_t *block, const char *token, const char *date, const char *unit,
                         const char *query)
{
    for (size_t i = 0; i < NMETRICS; i++) {
        long long want = test_jint(block, metrics[i]),
                  got = listed(token, date, unit, metrics[i], query);
        if (got != want)
            fail_msg("unit %s, %s (%s on %s): the figure is %lld, the list holds %lld", unit,
                     metrics[i], query, date ? date : "today", want, got);
    }
}

static void patients_behind_figures(void **state)
{
    static const struct {
        const char *today, *query;
    } rows[] = {
        {"2026-02-01", "year=2025"},
        {"2026-05-10", "from=2025-10-01&to=2026-03-31"},
        {"2025-12-31", "from=2025-12-01&to=2025-12-31"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *q = test_fmt("&%s&live=true", rows[i].query);
        http_res *r = dash(admin, rows[i].today, gen_unit, q);
        json_t *kids = json_object_get(r->json, "children"), *k;
        size_t j;
        check_listed(json_object_get(r->json, "totals"), admin, rows[i].today, gen_unit,
                     rows[i].query);
        json_array_foreach(kids, j, k)
        {
            char id[32];
            snprintf(id, sizeof(id), "%lld", test_jint(json_object_get(k, "org_unit"), "id"));
            check_listed(k, admin, rows[i].today, id, rows[i].query);
        }
        http_free(r);
        free(q);
    }
    /* The edge cases (a death mid-year, hospital stays, gaps of 92 and 93 days). */
    http_res *r = dash(admin, "2025-03-31", edge_village, "&year=2025&live=true");
    check_listed(json_object_get(r->json, "totals"), admin, "2025-03-31", edge_village,
                 "year=2025");
    http_free(r);

    /* The cached figures (the default) link with their period's end. */
    char *t = db_scalar("SELECT stat_refresh()::text", 0, NULL);
    free(t);
    r = dash(admin, NULL, gen_unit, NULL);
    assert_string_equal(http_str(r, "source"), "cached");
    json_t *period = json_object_get(r->json, "period");
    char *q = test_fmt("from=%s&to=%s", test_jstr(period, "from"), test_jstr(period, "end"));
    check_listed(json_object_get(r->json, "totals"), admin, NULL, gen_unit, q);
    free(q);
    http_free(r);

    /* A doctor sees them too; the police and civil affairs the register
     * only (their dashboard shows no clinical figure). A past year, which
     * other suites' new patients do not change. */
    r = dash(county_doctor, "2026-02-01", gen_unit, "&year=2025&live=true");
    check_listed(json_object_get(r->json, "totals"), county_doctor, "2026-02-01", gen_unit,
                 "year=2025");
    http_free(r);
    const char *counts_only[] = {police, civil};
    for (size_t i = 0; i < 2; i++) {
        r = dash(counts_only[i], "2026-02-01", tf_unit, "&year=2025&live=true");
        assert_int_equal(listed(counts_only[i], "2026-02-01", tf_unit, "registered", "year=2025"),
                         test_jint(json_object_get(r->json, "totals"), "registered"));
        http_free(r);
    }
}

static void patients_behind_figures_bad(void **state)
{
    static const struct {
        const char *query, *field;
    } rows[] = {
        {"indicator=happiness", "indicator"},
        {"indicator=", "indicator"},
        {"indicator=managed&year=abc", "year"},
        {"indicator=managed&year=2025&from=2025-01-01&to=2025-02-01", "year"},
        {"indicator=managed&from=2025-01-01", "to"},
        {"indicator=managed&from=2025-03-01&to=2025-02-01", "to"},
        {"indicator=managed&from=2099-01-01&to=2099-02-01", "from"},
        {"year=2025", "year"},
        {"from=2025-01-01&to=2025-02-01", "from"},
        {"status=registered&to=2025-02-01", "to"},
    };

    (void)state;
    test_audit_settle();
    long audits = db_count("SELECT count(*) FROM audit_log WHERE action = 'patient.list'", 0, NULL);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *path = test_fmt("/api/v1/patients?%s", rows[i].query);
        http_res *r = test_call("2026-02-01", "GET", path, official, NULL);
        http_assert_problem(r, 400, rows[i].field);
        http_free(r);
        free(path);
    }
    /* A figure the role's dashboard does not show; a role with no statistics. */
    const struct {
        const char *token, *query;
    } roles[] = {
        {police, "indicator=managed"},
        {civil, "indicator=stable_home"},
        {grid1, "indicator=registered"},
    };
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        char *path = test_fmt("/api/v1/patients?%s", roles[i].query);
        http_res *r = http_do("GET", path, roles[i].token, NULL, NULL);
        http_assert_problem(r, 400, "indicator");
        http_free(r);
        free(path);
    }
    /* Another township's figures: not in the caller's area. */
    const char *others[] = {official, doctor, yl_admin};
    char *path = test_fmt("/api/v1/patients?indicator=registered&org_unit_id=%s", gen_unit);
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        http_res *r = http_do("GET", path, others[i], NULL, NULL);
        http_assert_problem(r, 400, "org_unit_id");
        assert_null(strstr(r->body, "统计"));
        http_free(r);
    }
    free(path);
    /* Nothing was read, so nothing was audited. */
    test_audit_settle();
    assert_int_equal(
        db_count("SELECT count(*) FROM audit_log WHERE action = 'patient.list'", 0, NULL), audits);
}

/* ---- resident population ------------------------------------------------ */

/* [R-STAT-4] */
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
    r = http_do("PUT", "/api/v1/org-units/999999999/population", admin, "{\"population\":1}", NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    const char *tp[] = {tf_unit};
    assert_int_equal(db_count("SELECT population FROM org_units WHERE id = $1", 1, tp), 45270);
    free(tf_path);
    free(path);
}

/* ---- campaigns and tasks (专项行动, 任务分解表) ----------------------- */

static http_res *post_as(const char *token, const char *date, const char *path, const char *body)
{
    return test_call(date, "POST", path, token, body);
}

static const json_t *task_month(const http_res *r, long long seq, const char *month)
{
    json_t *tasks = json_object_get(r->json, "tasks"), *t, *m;
    size_t i, j;

    json_array_foreach(tasks, i, t)
    {
        if (test_jint(t, "seq") != seq)
            continue;
        json_array_foreach(json_object_get(t, "months"), j, m)
        {
            if (strcmp(test_jstr(m, "month"), month) == 0)
                return m;
        }
    }
    fail_msg("no month %s of task %lld", month, seq);
    return NULL;
}

static void campaigns(void **state)
{
    char *tf_admin = http_login("tf.admin", NULL);
    char *clinic = test_agency_id("泰丰街道社区卫生服务中心");
    char *health = test_agency_id("泰丰街道卫健办");
    char *station = test_agency_id("泰丰派出所");
    char *yl_clinic = test_agency_id("园林街道社区卫生服务中心");
    http_res *r;
    long long cid, tid;
    char *path, *tasks, *progress, *body;

    (void)state;
    r = post_as(tf_admin, "2025-11-20", "/api/v1/campaigns",
                "{\"name\":\"重精患者管理救助专项行动\",\"starts_on\":\"2025-11-01\","
                "\"ends_on\":\"2026-12-31\",\"report_day\":25,\"first_report_month\":\"2025-12\"}");
    if (r->status != 201)
        fail_msg("create campaign: %ld %s", r->status, r->body);
    cid = test_jint(r->json, "id");
    assert_non_null(http_header(r, "Location"));
    assert_int_equal(test_jint(r->json, "report_day"), 25);
    http_free(r);
    path = test_fmt("/api/v1/campaigns/%lld", cid);
    tasks = test_fmt("/api/v1/campaigns/%lld/tasks", cid);

    /* Only admins set campaigns up. */
    r = post_as(official, NULL, "/api/v1/campaigns",
                "{\"name\":\"x\",\"starts_on\":\"2025-11-01\",\"ends_on\":\"2026-12-31\"}");
    http_assert_problem(r, 403, NULL);
    http_free(r);
    /* Bad campaigns: 400 naming the field, nothing written. */
    static const struct {
        const char *body, *field;
    } bad_c[] = {
        {"{\"starts_on\":\"2025-11-01\",\"ends_on\":\"2026-12-31\"}", "name"},
        {"{\"name\":\"x\",\"starts_on\":\"2025-11-31\",\"ends_on\":\"2026-12-31\"}", "starts_on"},
        {"{\"name\":\"x\",\"starts_on\":\"2025-11-01\",\"ends_on\":\"2025-10-31\"}", "ends_on"},
        {"{\"name\":\"x\",\"starts_on\":\"2025-11-01\",\"ends_on\":\"2026-12-31\","
         "\"report_day\":31}",
         "report_day"},
        {"{\"name\":\"x\",\"starts_on\":\"2025-11-01\",\"ends_on\":\"2026-12-31\","
         "\"first_report_month\":\"2027-01\"}",
         "first_report_month"},
        {"{\"name\":\"x\",\"starts_on\":\"2025-11-01\",\"ends_on\":\"2026-12-31\","
         "\"first_report_month\":\"2026-13\"}",
         "first_report_month"},
        {"{\"name\":\"x\",\"starts_on\":\"2025-11-01\",\"ends_on\":\"2026-12-31\",\"x\":1}", "x"},
    };
    long before = db_count("SELECT count(*) FROM campaigns", 0, NULL);
    for (size_t i = 0; i < sizeof(bad_c) / sizeof(bad_c[0]); i++) {
        r = post_as(tf_admin, NULL, "/api/v1/campaigns", bad_c[i].body);
        http_assert_problem(r, 400, bad_c[i].field);
        http_free(r);
    }
    r = post_as(yl_admin, NULL, "/api/v1/campaigns",
                test_fmt("{\"name\":\"x\",\"starts_on\":\"2025-11-01\",\"ends_on\":"
                         "\"2026-12-31\",\"org_unit_id\":%s}",
                         tf_unit));
    http_assert_problem(r, 400, "org_unit_id");
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM campaigns", 0, NULL), before);

    /* Task 1: led by the clinic, with the health office and the police station. */
    body = test_fmt("{\"seq\":1,\"action\":\"集中摸排起底行动\",\"description\":"
                    "\"开展三网数据核查比对，全面摸清底数\",\"upstream_lead\":\"市卫健局\","
                    "\"lead_agency_id\":%s,\"responsible_agency_ids\":[%s,%s,%s]}",
                    clinic, health, station, health);
    r = post_as(tf_admin, "2025-11-20", tasks, body);
    if (r->status != 201)
        fail_msg("add task: %ld %s", r->status, r->body);
    tid = test_jint(json_array_get(json_object_get(r->json, "tasks"), 0), "id");
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(json_object_get(r->json, "tasks"), 0),
                                        "responsible_agencies")),
        2);
    http_free(r);
    /* The same number again: 409; bad tasks: 400. */
    r = post_as(tf_admin, NULL, tasks, body);
    assert_int_equal(r->status, 409);
    http_free(r);
    free(body);
    const char *bad_t[][2] = {
        {"\"seq\":2,\"description\":\"d\"", "action"},
        {"\"seq\":0,\"action\":\"a\",\"description\":\"d\"", "seq"},
        {"\"seq\":2,\"action\":\"a\",\"description\":\"d\",\"responsible_agency_ids\":\"all\"",
         "responsible_agency_ids"},
        {"\"seq\":2,\"action\":\"a\",\"description\":\"d\",\"responsible_agency_ids\":[999999]",
         "responsible_agency_ids"},
    };
    long ntasks = db_count("SELECT count(*) FROM campaign_tasks", 0, NULL);
    for (size_t i = 0; i < sizeof(bad_t) / sizeof(bad_t[0]); i++) {
        body = test_fmt("{\"lead_agency_id\":%s,%s}", clinic, bad_t[i][0]);
        r = post_as(tf_admin, NULL, tasks, body);
        http_assert_problem(r, 400, bad_t[i][1]);
        http_free(r);
        free(body);
    }
    /* A lead agency of another township does not serve this campaign. */
    body = test_fmt("{\"seq\":2,\"action\":\"a\",\"description\":\"d\",\"lead_agency_id\":%s}",
                    yl_clinic);
    r = post_as(tf_admin, NULL, tasks, body);
    http_assert_problem(r, 400, "lead_agency_id");
    http_free(r);
    free(body);
    assert_int_equal(db_count("SELECT count(*) FROM campaign_tasks", 0, NULL), ntasks);

    /* Progress, due by the 25th of each month from December 2025. */
    progress = test_fmt("/api/v1/campaigns/%lld/tasks/%lld/progress", cid, tid);
    r = post_as(official, "2025-12-20", progress,
                "{\"month\":\"2025-12\",\"content\":\"完成三网比对，新发现疑似患者2人\"}");
    if (r->status != 201)
        fail_msg("progress: %ld %s", r->status, r->body);
    http_free(r);
    r = post_as(doctor, "2026-01-27", progress,
                "{\"month\":\"2026-01\",\"content\":\"全员评估完成\"}");
    assert_int_equal(r->status, 201);
    http_free(r);
    /* Not the task's agency: 403; another township: 404; bad bodies: 400. */
    long entries = db_count("SELECT count(*) FROM campaign_progress", 0, NULL);
    r = post_as(civil, "2026-02-10", progress, "{\"month\":\"2026-02\",\"content\":\"x\"}");
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = post_as(grid1, "2026-02-10", progress, "{\"month\":\"2026-02\",\"content\":\"x\"}");
    http_assert_problem(r, 403, NULL);
    http_free(r);
    char *yl_doctor = http_login("yl.doctor", NULL);
    r = post_as(yl_doctor, "2026-02-10", progress, "{\"month\":\"2026-02\",\"content\":\"x\"}");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    static const struct {
        const char *body, *field;
    } bad_p[] = {
        {"{\"month\":\"2026-02\"}", "content"},
        {"{\"month\":\"2026-02\",\"content\":\"\"}", "content"},
        {"{\"month\":\"2026-3\",\"content\":\"x\"}", "month"},
        {"{\"month\":\"2026-04\",\"content\":\"x\"}", "month"}, /* after this month */
        {"{\"month\":\"2025-11\",\"content\":\"x\"}", "month"}, /* before the first */
        {"{\"month\":\"2027-01\",\"content\":\"x\"}", "month"}, /* after the end */
        {"{\"month\":\"2026-02\",\"content\":\"x\",\"by\":1}", "by"},
    };
    for (size_t i = 0; i < sizeof(bad_p) / sizeof(bad_p[0]); i++) {
        r = post_as(police, "2026-03-10", progress, bad_p[i].body);
        http_assert_problem(r, 400, bad_p[i].field);
        http_free(r);
    }
    assert_int_equal(db_count("SELECT count(*) FROM campaign_progress", 0, NULL), entries);

    /* On 10 March: December on time, January late, February overdue,
     * March not due yet. */
    r = test_call("2026-03-10", "GET", path, grid1, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(task_month(r, 1, "2025-12"), "state"), "submitted");
    assert_string_equal(test_jstr(task_month(r, 1, "2026-01"), "state"), "late");
    assert_string_equal(test_jstr(task_month(r, 1, "2026-02"), "state"), "overdue");
    assert_string_equal(test_jstr(task_month(r, 1, "2026-03"), "state"), "pending");
    assert_string_equal(test_jstr(task_month(r, 1, "2026-02"), "due_on"), "2026-02-25");
    assert_int_equal(test_jint(r->json, "overdue"), 1);
    http_free(r);
    /* The police station reports February late; on 26 March March is overdue. */
    r = post_as(police, "2026-03-10", progress, "{\"month\":\"2026-02\",\"content\":\"补报\"}");
    assert_int_equal(r->status, 201);
    http_free(r);
    r = test_call("2026-03-26", "GET", path, official, NULL);
    assert_string_equal(test_jstr(task_month(r, 1, "2026-02"), "state"), "late");
    assert_string_equal(test_jstr(task_month(r, 1, "2026-03"), "state"), "overdue");
    assert_int_equal(test_jint(r->json, "overdue"), 1);
    http_free(r);
    /* Entries, newest month first. */
    r = test_call(NULL, "GET", progress, official, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 3);
    assert_string_equal(test_jstr(json_array_get(json_object_get(r->json, "items"), 0), "month"),
                        "2026-02");
    http_free(r);
    /* Lists and reads: in the area or above it; another township 404. */
    r = test_call(NULL, "GET", "/api/v1/campaigns", official, NULL);
    assert_int_equal(r->status, 200);
    assert_true(json_array_size(json_object_get(r->json, "items")) >= 1);
    http_free(r);
    r = test_call(NULL, "GET", path, yl_admin, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = test_call(NULL, "GET", "/api/v1/campaigns/999999999", official, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    /* Its report: not for grid workers. */
    char *report = test_fmt("/api/v1/campaigns/%lld/report", cid);
    r = test_call(NULL, "GET", report, grid1, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = test_call(NULL, "GET", report, police, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    free(report);
    char *other = test_fmt("/api/v1/campaigns/%lld/tasks/999999999/progress", cid);
    r = test_call(NULL, "GET", other, official, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    free(other);
    free(yl_doctor);
    free(progress);
    free(tasks);
    free(path);
    free(clinic);
    free(health);
    free(station);
    free(yl_clinic);
    free(tf_admin);
}

/* ---- the campaign report (统计报表, seed 000 附件2) ---------------------- */

/* Run cmd and return its standard output (malloc'd, at most 1 MiB). */
static char *capture(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    size_t cap = 1u << 20, n = 0;
    char *out = malloc(cap + 1);

    assert_non_null(f);
    assert_non_null(out);
    n = fread(out, 1, cap, f);
    out[n] = '\0';
    assert_int_equal(pclose(f), 0);
    return out;
}

/* The <c> element of cell ref in a worksheet's XML holds <v>value</v>. */
static void assert_cell(const char *sheet, const char *ref, const char *value)
{
    char *open = test_fmt("<c r=\"%s\"", ref), *want = test_fmt("<v>%s</v>", value);
    const char *c = strstr(sheet, open), *end;

    if (c == NULL)
        fail_msg("no cell %s", ref);
    end = strstr(c, "</c>");
    if (end == NULL || strstr(c, want) == NULL || strstr(c, want) > end)
        fail_msg("cell %s does not hold %s", ref, value);
    free(open);
    free(want);
}

/* [R-STAT-5] */
static void campaign_report(void **state)
{
    http_res *r;
    char *body, *path, *fields, *url;
    long long cid;

    (void)state;
    body =
        test_fmt("{\"name\":\"边界街道专项行动\",\"org_unit_id\":%s,\"starts_on\":\"2025-01-01\","
                 "\"ends_on\":\"2025-12-31\"}",
                 edge_unit);
    r = test_call("2026-02-01", "POST", "/api/v1/campaigns", admin, body);
    assert_int_equal(r->status, 201);
    cid = test_jint(r->json, "id");
    http_free(r);
    free(body);
    path = test_fmt("/api/v1/campaigns/%lld/report", cid);
    fields = test_fmt("/api/v1/campaigns/%lld/report-fields", cid);

    /* The fields entered by hand. */
    r = http_do("PUT", fields, admin, "{\"screening_staff\":12,\"annual_budget\":3.5}", NULL);
    if (r->status != 200)
        fail_msg("report fields: %ld %s", r->status, r->body);
    http_free(r);
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"patients_total\":3}", "patients_total"},
        {"{\"nope\":1}", "nope"},
        {"{\"screening_staff\":-1}", "screening_staff"},
        {"{\"screening_staff\":\"many\"}", "screening_staff"},
        {"{}", "body"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = http_do("PUT", fields, admin, bad[i].body, NULL);
        http_assert_problem(r, 400, bad[i].field);
        http_free(r);
    }
    r = http_do("PUT", fields, county_doctor, "{\"screening_staff\":1}", NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("PUT", fields, official, "{\"screening_staff\":1}", NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    char *id = test_fmt("%lld", cid);
    const char *p[] = {id};
    char *saved =
        db_scalar("SELECT report_fields->>'screening_staff' FROM campaigns WHERE id = $1", 1, p);
    assert_string_equal(saved, "12");
    free(saved);

    /* JSON: computed fields from the edge cases of 2025, hand-entered ones as stored. */
    r = test_call("2026-02-01", "GET", path, admin, NULL);
    assert_int_equal(r->status, 200);
    json_t *fl = json_object_get(r->json, "fields"), *f;
    size_t i;
    int seen = 0;
    json_array_foreach(fl, i, f)
    {
        const char *k = test_jstr(f, "key");
        json_t *v = json_object_get(f, "value");
        if (strcmp(k, "patients_total") == 0) {
            assert_int_equal(json_integer_value(v), 5);
            assert_string_equal(test_jstr(f, "source"), "derived");
            seen++;
        } else if (strcmp(k, "followup_patients") == 0) {
            assert_int_equal(json_integer_value(v), 5);
            seen++;
        } else if (strcmp(k, "followup_staff") == 0) {
            assert_int_equal(json_integer_value(v), 1);
            seen++;
        } else if (strcmp(k, "incidents") == 0) {
            assert_int_equal(json_integer_value(v), 0);
            seen++;
        } else if (strcmp(k, "screening_staff") == 0) {
            assert_int_equal(json_integer_value(v), 12);
            assert_string_equal(test_jstr(f, "source"), "manual");
            seen++;
        } else if (strcmp(k, "annual_budget") == 0) {
            assert_true(json_number_value(v) == 3.5);
            seen++;
        } else if (strcmp(k, "special_team") == 0) {
            assert_true(json_is_null(v));
            seen++;
        }
    }
    assert_int_equal(seen, 7);
    http_free(r);

    /* CSV. */
    url = test_fmt("%s?format=csv", path);
    r = test_call("2026-02-01", "GET", url, admin, NULL);
    assert_int_equal(r->status, 200);
    assert_memory_equal(r->body, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(r->body, "\"患者总数(≤系统中在册患者总数)\",\"\",5,系统生成"));
    assert_non_null(strstr(r->body, "\"参加筛查工作人员数\",\"\",12,手工填报"));
    assert_non_null(strstr(r->body, "\"全年计划投入工作经费数(万元)\",\"\",3.5,手工填报"));
    http_free(r);
    free(url);

    /* xlsx: open what was written and read the cells. */
    url = test_fmt("%s?format=xlsx", path);
    r = test_call("2026-02-01", "GET", url, admin, NULL);
    assert_int_equal(r->status, 200);
    const char *cl = http_header(r, "Content-Length");
    assert_non_null(cl);
    size_t len = (size_t)strtoul(cl, NULL, 10);
    assert_true(len > 1000);
    char file[] = "/tmp/jf-stat-report-XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, r->body, len), (ssize_t)len);
    close(fd);
    http_free(r);
    char *cmd = test_fmt("unzip -p '%s' xl/sharedStrings.xml", file);
    char *strings = capture(cmd);
    free(cmd);
    cmd = test_fmt("unzip -p '%s' xl/worksheets/sheet1.xml", file);
    char *sheet = capture(cmd);
    free(cmd);
    unlink(file);
    assert_non_null(strstr(strings, "患者总数(≤系统中在册患者总数)"));
    assert_non_null(strstr(strings, "一、筛查情况(政法)"));
    assert_non_null(strstr(strings, "九、工作经费情况(卫生健康)"));
    assert_non_null(strstr(strings, "报表填报单位：边界测试街道"));
    /* Left block from row 4: 参加筛查工作人员数 in D4, 患者总数 in D10;
     * right block: 全年计划投入工作经费数 in H30. */
    assert_cell(sheet, "D4", "12");
    assert_cell(sheet, "D10", "5");
    assert_cell(sheet, "H30", "3.5");
    assert_non_null(strstr(sheet, "<mergeCell ref=\"A4:A7\"/>"));
    free(strings);
    free(sheet);
    free(url);

    /* Bad format; grid workers do not see it; another township 404. */
    url = test_fmt("%s?format=pdf", path);
    r = test_call(NULL, "GET", url, admin, NULL);
    http_assert_problem(r, 400, "format");
    http_free(r);
    free(url);
    url = test_fmt("%s?from=2025-13-01", path);
    r = test_call(NULL, "GET", url, admin, NULL);
    http_assert_problem(r, 400, "from");
    http_free(r);
    free(url);
    r = test_call(NULL, "GET", path, official, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    free(id);
    free(fields);
    free(path);
}

#define VISITS_OF                                                                                  \
    " FROM follow_ups f JOIN patients p ON p.id = f.patient_id"                                    \
    " WHERE starts_with(p.org_path, (SELECT path FROM org_units WHERE code = '%s'))"

/* The generator's --history-days (for registers too large for two years on
 * one disk): a window under a year is refused with nothing written, and
 * every visit of a shorter history lies in its window, where the default
 * two years reach further back. */
static void generator_history_window(void **state)
{
    char *gen = test_fmt("JF_DB_URL=\"$JF_TEST_DB_OWNER\" '%s' --township " HIST_TOWNSHIP
                         " --patients 60 --seed 5 --if-empty",
                         bin_beside("jingfang-gen"));
    char *sql = test_fmt("SELECT count(*)::text FROM patients WHERE starts_with(org_path,"
                         " (SELECT path FROM org_units WHERE code = '" HIST_TOWNSHIP "'))");
    char *cmd, *before, *after, *q, *v;

    (void)state;
    make_unit("429005", "township", HIST_TOWNSHIP, "统计生成街道", 9000);
    make_unit(HIST_TOWNSHIP, "village", HIST_VILLAGE, "统计生成社区", 9000);
    make_unit(HIST_VILLAGE, "grid", HIST_VILLAGE "G01", "统计生成社区第一网格", 9000);
    before = db_scalar(sql, 0, NULL);
    cmd = test_fmt("%s --history-days 364 >/dev/null 2>&1", gen);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 2);
    after = db_scalar(sql, 0, NULL);
    assert_string_equal(before, after);
    free(cmd);

    cmd = test_fmt("%s --history-days 400 >/dev/null 2>&1", gen);
    run(cmd);
    /* Its visits within the 400 days; the default two years reach past them. */
    q = test_fmt("SELECT coalesce((SELECT count(*) > 0 AND min(f.visit_date) >= d" VISITS_OF
                 ") AND (SELECT min(f.visit_date) < d" VISITS_OF "), false)::text"
                 " FROM (SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date - 400 AS d) w",
                 HIST_TOWNSHIP, GEN_TOWNSHIP);
    v = db_scalar(q, 0, NULL);
    assert_string_equal(v, "true");
    free(v);
    free(q);
    free(cmd);
    free(before);
    free(after);
    free(sql);
    free(gen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(live_matches_brute_force),
        cmocka_unit_test(cache_matches_brute_force),
        cmocka_unit_test(rollups_match_live),
        cmocka_unit_test(saved_periods),
        cmocka_unit_test(state_counts_match),
        cmocka_unit_test(edge_cases),
        cmocka_unit_test(roles_and_scope),
        cmocka_unit_test(bad_queries),
        cmocka_unit_test(patients_behind_figures),
        cmocka_unit_test(patients_behind_figures_bad),
        cmocka_unit_test(population),
        cmocka_unit_test(campaigns),
        cmocka_unit_test(campaign_report),
        cmocka_unit_test(generator_history_window),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
