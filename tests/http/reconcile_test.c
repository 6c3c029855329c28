/* HTTP suite: 三网 data comparison — a run with three lists (UTF-8 with a
 * BOM, UTF-8, GBK with a 15-digit ID) against patients registered here,
 * exact findings per category, the work-item moves of a finding, the diff
 * of a second run, saved mappings, malformed files refused with nothing
 * loaded, who may do what (roles, another township, a village doctor),
 * and the jingfang-reconcile command. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SUITE_SALT 22 /* keeps this suite's ID numbers apart from the others' */

#define HEADER "身份证号,姓名,性别,出生日期,村(社区),状态,风险等级\n"
#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

static char *doctor, *official, *police, *civil, *grid1, *yl_doctor, *doctor2;
static char *township, *g01, *hancheng, *yl_unit;

/* The people of the scenario: P1-P6 registered here, X1 and X2 not. */
typedef struct person {
    char id[19];
    char name[64];
    char birth[11];
    long long pid;
} person;
static person P[6], X1, X2;
static char bad_id[19];
static long long run1;

/* ---- helpers ---------------------------------------------------------- */

static void birth_of(person *p)
{
    snprintf(p->birth, sizeof(p->birth), "%.4s-%.2s-%.2s", p->id + 6, p->id + 10, p->id + 12);
}

static void make_person(person *p, const char *tag, int registered)
{
    test_new_id(p->id, -1, SUITE_SALT);
    snprintf(p->name, sizeof(p->name), "比对%s%s", test_cn_unique(), tag);
    birth_of(p);
    if (registered)
        p->pid = test_create_patient(doctor, NULL, p->name, p->id, g01, DIAG);
}

/* One CSV line: id, name, birth, village, status, risk (NULL: empty). */
static void line(char *out, size_t cap, const char *id, const person *p, const char *village,
                 const char *status, const char *risk)
{
    size_t n = strlen(out);

    snprintf(out + n, cap - n, "%s,%s,,%s,%s,%s,%s\n", id, p ? p->name : "", p ? p->birth : "",
             village, status ? status : "", risk ? risk : "");
}

static void id15(const char *id18, char out[16])
{
    memcpy(out, id18, 6);
    memcpy(out + 6, id18 + 8, 9);
    out[15] = '\0';
}

static char *police_csv(void)
{
    char *b = calloc(1, 8192);

    snprintf(b, 8192, "%s", "\xEF\xBB\xBF" HEADER); /* Excel's "CSV UTF-8": a BOM */
    line(b, 8192, P[0].id, &P[0], "梅苑社区", "在管", NULL);
    line(b, 8192, P[2].id, &P[2], "梅苑社区", "在管", NULL);
    line(b, 8192, P[3].id, &P[3], "梅苑社区", "在管", NULL);
    line(b, 8192, P[4].id, &P[4], "梅苑社区", "在管", "1");
    line(b, 8192, P[5].id, &P[5], "梅苑社区", "在管", "1");
    line(b, 8192, X1.id, &X1, "梅苑社区", "在管", NULL);
    line(b, 8192, bad_id, NULL, "梅苑社区", NULL, NULL);
    return b;
}

static char *health_csv(void)
{
    char *b = calloc(1, 8192);

    snprintf(b, 8192, "%s", HEADER);
    line(b, 8192, P[0].id, &P[0], "梅苑社区", "在管", NULL);
    line(b, 8192, P[1].id, &P[1], "梅苑社区", "在管", NULL);
    line(b, 8192, P[2].id, &P[2], "梅苑社区", "死亡", NULL);
    line(b, 8192, P[3].id, &P[3], "梅苑社区", "在管", NULL);
    line(b, 8192, P[4].id, &P[4], "梅苑社区", "在管", "2");
    line(b, 8192, P[5].id, &P[5], "梅苑社区", "在管", NULL);
    line(b, 8192, X2.id, &X2, "汉城村", "在管", NULL);
    return b;
}

/* The grid list in UTF-8 (converted to GBK by the caller); dup: P1 twice. */
static char *grid_csv(int dup)
{
    char *b = calloc(1, 8192), short_id[16];

    snprintf(b, 8192, "%s", HEADER);
    id15(P[0].id, short_id);
    line(b, 8192, short_id, &P[0], "梅苑社区", "在管", NULL);
    if (dup)
        line(b, 8192, P[0].id, &P[0], "梅苑社区", "在管", NULL);
    line(b, 8192, P[1].id, &P[1], "梅苑社区", "在管", NULL);
    line(b, 8192, P[2].id, &P[2], "梅苑社区", "在管", NULL);
    line(b, 8192, P[3].id, &P[3], "曹禹社区", "在管", NULL);
    line(b, 8192, P[4].id, &P[4], "梅苑社区", "在管", NULL);
    line(b, 8192, "", &P[5], "梅苑社区", "在管", "2"); /* no ID: name + birth date */
    line(b, 8192, X1.id, &X1, "梅苑社区", "在管", NULL);
    return b;
}

/* UTF-8 → GBK (malloc'd); *len its length. */
static char *to_gbk(const char *utf8, size_t *len)
{
    iconv_t cd = iconv_open("GBK", "UTF-8");
    size_t inleft = strlen(utf8), outleft = inleft * 2 + 16;
    char *out = calloc(1, outleft), *in = (char *)utf8, *o = out;

    assert_true(cd != (iconv_t)-1);
    assert_true(iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1);
    iconv_close(cd);
    *len = (size_t)(o - out);
    return out;
}

static http_res *upload(const char *token, long long run, const char *source, const char *query,
                        const char *body, size_t len)
{
    char *path =
        test_fmt("/api/v1/reconcile/runs/%lld/sources/%s%s", run, source, query ? query : "");
    http_res *r = http_raw("PUT", path, token, "text/csv", body, len, 0);

    free(path);
    return r;
}

static void upload_ok(long long run, const char *source, const char *body, size_t len)
{
    http_res *r = upload(doctor, run, source, NULL, body, len);

    if (r->status != 200)
        fail_msg("PUT %s: %ld %s", source, r->status, r->body);
    http_free(r);
}

static long long new_run(const char *token, const char *unit, long expect)
{
    char *body = test_fmt("{\"org_unit_id\":%s,\"note\":\"集中摸排\"}", unit);
    http_res *r = http_do("POST", "/api/v1/reconcile/runs", token, body, NULL);
    long long id = 0;

    if (r->status != expect)
        fail_msg("POST run: %ld %s", r->status, r->body);
    if (expect == 201) {
        id = test_jint(r->json, "id");
        assert_non_null(http_header(r, "Location"));
    }
    http_free(r);
    free(body);
    return id;
}

/* method on prefix<id>suffix as token, with extra header lines. */
static http_res *on_id(const char *method, const char *prefix, long long id, const char *suffix,
                       const char *token, const char *headers)
{
    char *path = test_fmt("%s%lld%s", prefix, id, suffix);
    http_res *r = http_do(method, path, token, NULL, headers);

    free(path);
    return r;
}

static http_res *analyse(const char *token, long long run)
{
    return on_id("POST", "/api/v1/reconcile/runs/", run, "/analyse", token, NULL);
}

static long rows_of(long long run)
{
    char *id = test_fmt("%lld", run);
    const char *p[] = {id};
    long n = db_count("SELECT count(*) FROM reconcile_rows WHERE run_id = $1", 1, p) +
             db_count("SELECT count(*) FROM reconcile_sources WHERE run_id = $1", 1, p);

    free(id);
    return n;
}

static long long summary_of(const json_t *run, const char *category)
{
    return json_integer_value(json_object_get(json_object_get(run, "summary"), category));
}

/* The unknown_columns of source in the run document run, as compact JSON
 * (malloc'd); fails the test when the source is not there. */
static char *unknown_of(const json_t *run, const char *source)
{
    json_t *s;
    size_t i;

    json_array_foreach(json_object_get(run, "sources"), i, s)
    {
        if (strcmp(test_jstr(s, "source"), source) == 0)
            return json_dumps(json_object_get(s, "unknown_columns"), JSON_COMPACT);
    }
    fail_msg("no source %s in the run", source);
    return NULL;
}

/* The id of run's finding of category about person (by masked name). */
static long long finding_of(long long run, const char *category, const char *name)
{
    char *r = test_fmt("%lld", run);
    const char *p[] = {r, category, name};
    char *v = db_scalar("SELECT min(id) FROM reconcile_findings WHERE run_id = $1"
                        " AND category = $2 AND ($3 = '' OR name = $3)",
                        3, p);
    long long id = v ? strtoll(v, NULL, 10) : 0;

    free(v);
    free(r);
    return id;
}

static http_res *move(const char *token, long long fid, const char *body)
{
    char *path = test_fmt("/api/v1/reconcile/findings/%lld/transitions", fid);
    http_res *r = http_do("POST", path, token, body, NULL);

    free(path);
    return r;
}

static int setup(void **state)
{
    (void)state;
    doctor = http_login("tf.doctor", NULL);
    official = http_login("tf.official", NULL);
    police = http_login("tf.police", NULL);
    civil = http_login("tf.civil", NULL);
    grid1 = http_login("tf.grid1", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    doctor2 = http_login("tf.doctor2", NULL);
    township = test_unit_id("429005003");
    g01 = test_unit_id("429005003001G01");
    hancheng = test_unit_id("429005003005");
    yl_unit = test_unit_id("429005001");
    static const char *const tags[] = {"甲", "乙", "丙", "丁", "戊", "己"};
    for (int i = 0; i < 6; i++)
        make_person(&P[i], tags[i], 1);
    make_person(&X1, "庚", 0);
    make_person(&X2, "辛", 0);
    /* P2: risk 3 on our register. */
    char *sql = test_fmt("UPDATE patients SET risk_level = 3 WHERE id = %lld", P[1].pid);
    assert_true(db_try(sql));
    free(sql);
    /* An ID with a wrong check character. */
    test_new_id(bad_id, -1, SUITE_SALT);
    bad_id[17] = bad_id[17] == '1' ? '2' : '1';
    return 0;
}

/* ---- the scenario ----------------------------------------------------- */

/* [R-3NET-1, R-3NET-2] */
static void three_lists_exact_findings(void **state)
{
    char *pol = police_csv(), *hea = health_csv(), *gri = grid_csv(1), *gbk;
    size_t gbk_len;
    http_res *r;

    (void)state;
    run1 = new_run(doctor, township, 201);
    upload_ok(run1, "police", pol, strlen(pol));
    upload_ok(run1, "health", hea, strlen(hea));
    gbk = to_gbk(gri, &gbk_len);
    r = upload(doctor, run1, "grid", NULL, gbk, gbk_len);
    assert_int_equal(r->status, 200);
    {
        json_t *s;
        size_t i;
        int seen = 0;
        json_array_foreach(json_object_get(r->json, "sources"), i, s)
        {
            if (strcmp(test_jstr(s, "source"), "grid") == 0) {
                assert_string_equal(test_jstr(s, "encoding"), "gbk");
                assert_int_equal(test_jint(s, "rows"), 8);
                seen = 1;
            }
        }
        assert_true(seen);
    }
    http_free(r);
    /* No plain ID number is stored in staging. */
    {
        const char *p[] = {P[0].id};
        assert_int_equal(db_count("SELECT count(*) FROM reconcile_rows WHERE"
                                  " id_masked = $1 OR name = $1",
                                  1, p),
                         0);
    }

    r = analyse(doctor, run1);
    if (r->status != 200)
        fail_msg("analyse: %ld %s", r->status, r->body);
    assert_string_equal(test_jstr(r->json, "status"), "done");
    assert_int_equal(summary_of(r->json, "missing_police"), 1);
    assert_int_equal(summary_of(r->json, "unregistered"), 1);
    assert_int_equal(summary_of(r->json, "not_in_registry"), 1);
    assert_int_equal(summary_of(r->json, "deceased_conflict"), 1);
    assert_int_equal(summary_of(r->json, "village_conflict"), 1);
    assert_int_equal(summary_of(r->json, "risk_conflict"), 2);
    assert_int_equal(summary_of(r->json, "invalid_id"), 1);
    assert_int_equal(summary_of(r->json, "duplicate"), 1);
    assert_int_equal(test_jint(json_object_get(r->json, "diff"), "new"), 9);
    assert_int_equal(test_jint(json_object_get(r->json, "diff"), "persisting"), 0);
    http_free(r);

    /* The right persons, units and facts. */
    assert_true(finding_of(run1, "missing_police", P[1].name) > 0);
    assert_true(finding_of(run1, "deceased_conflict", P[2].name) > 0);
    assert_true(finding_of(run1, "village_conflict", P[3].name) > 0);
    assert_true(finding_of(run1, "risk_conflict", P[4].name) > 0);
    assert_true(finding_of(run1, "unregistered", X1.name) > 0);
    assert_true(finding_of(run1, "not_in_registry", X2.name) > 0);
    assert_true(finding_of(run1, "duplicate", P[0].name) > 0);
    {
        char *run = test_fmt("%lld", run1);
        const char *p[] = {run, P[5].name, g01};
        /* P6 matched weakly (no ID in the grid list) to the registered patient. */
        assert_int_equal(db_count("SELECT count(*) FROM reconcile_findings WHERE run_id = $1"
                                  " AND category = 'risk_conflict' AND name = $2 AND weak"
                                  " AND patient_id IS NOT NULL AND org_unit_id = $3",
                                  3, p),
                         1);
        /* X2 goes to the village its row names. */
        const char *q[] = {run, X2.name, hancheng};
        assert_int_equal(db_count("SELECT count(*) FROM reconcile_findings WHERE run_id = $1"
                                  " AND name = $2 AND org_unit_id = $3",
                                  3, q),
                         1);
        /* The duplicate names both lines of the grid list. */
        const char *d[] = {run};
        assert_int_equal(db_count("SELECT count(*) FROM reconcile_findings WHERE run_id = $1"
                                  " AND category = 'duplicate' AND sources = '{grid}'"
                                  " AND jsonb_array_length(facts -> 'grid' -> 'lines') = 2",
                                  1, d),
                         1);
        free(run);
    }
    /* Uploading to an analysed run, analysing twice: 409. */
    r = upload(doctor, run1, "police", NULL, pol, strlen(pol));
    http_assert_problem(r, 409, NULL);
    http_free(r);
    r = analyse(doctor, run1);
    http_assert_problem(r, 409, NULL);
    http_free(r);
    free(pol);
    free(hea);
    free(gri);
    free(gbk);
}

/* [R-3NET-2] */
static void findings_list_read_and_move(void **state)
{
    long long fid = finding_of(run1, "deceased_conflict", P[2].name);
    char *path;
    http_res *r;

    (void)state;
    path = test_fmt("/api/v1/reconcile/findings?run_id=%lld&limit=4", run1);
    r = http_do("GET", path, official, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 4);
    assert_non_null(test_jstr(r->json, "next_cursor"));
    {
        char *next = test_fmt("%s&cursor=%s", path, test_jstr(r->json, "next_cursor"));
        http_res *r2 = http_do("GET", next, official, NULL, NULL);
        assert_int_equal(r2->status, 200);
        assert_int_equal(json_array_size(json_object_get(r2->json, "items")), 4);
        http_free(r2);
        free(next);
    }
    http_free(r);
    free(path);
    path =
        test_fmt("/api/v1/reconcile/findings?run_id=%lld&category=risk_conflict&status=open", run1);
    r = http_do("GET", path, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 2);
    http_free(r);
    free(path);

    /* One finding, its trail; the ID number only masked. */
    path = test_fmt("/api/v1/reconcile/findings/%lld", fid);
    r = http_do("GET", path, police, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "status"), "open");
    assert_int_equal(json_array_size(json_object_get(r->json, "events")), 1);
    assert_null(strstr(r->body, P[2].id));
    assert_non_null(strstr(r->body, "deceased"));
    http_free(r);

    /* Moves: open → resolved is not allowed; open → verifying → resolved is. */
    r = move(doctor, fid, "{\"to\":\"resolved\",\"note\":\"已核实\"}");
    http_assert_problem(r, 409, "to");
    http_free(r);
    r = move(doctor, fid, "{\"to\":\"open\",\"note\":\"原地不动\"}");
    http_assert_problem(r, 409, "to");
    http_free(r);
    r = move(police, fid, "{\"to\":\"verifying\",\"note\":\"派出所入户核实\"}");
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "status"), "verifying");
    http_free(r);
    r = move(doctor, fid, "{\"to\":\"resolved\",\"note\":\"监测系统已更正\"}");
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "status"), "resolved");
    assert_int_equal(json_array_size(json_object_get(r->json, "events")), 3);
    http_free(r);
    {
        char *id = test_fmt("%lld", fid);
        const char *p[] = {id};
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE target_type ="
                                  " 'reconcile_finding' AND target_id = $1 AND action ="
                                  " 'reconcile.finding_move'",
                                  1, p),
                         2);
        assert_true(db_count("SELECT count(*) FROM audit_log WHERE target_type ="
                             " 'reconcile_finding' AND target_id = $1 AND action ="
                             " 'reconcile.finding_read'",
                             1, p) >= 1);
        free(id);
    }
    /* A finding put under verification keeps its state in the next run. */
    long long vid = finding_of(run1, "village_conflict", P[3].name);
    r = move(doctor, vid, "{\"to\":\"verifying\",\"note\":\"网格员核实\"}");
    assert_int_equal(r->status, 200);
    http_free(r);

    /* Bad bodies: 400 naming the field, nothing changed. */
    const char *bad[][2] = {
        {"{\"to\":\"closed\",\"note\":\"x\"}", "to"},
        {"{\"to\":\"verifying\"}", "note"},
        {"{\"to\":\"verifying\",\"note\":\"\"}", "note"},
        {"{\"to\":\"verifying\",\"note\":\"x\",\"by\":1}", "by"},
    };
    long long oid = finding_of(run1, "missing_police", P[1].name);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = move(doctor, oid, bad[i][0]);
        http_assert_problem(r, 400, bad[i][1]);
        http_free(r);
    }
    r = move(doctor, 999999999, "{\"to\":\"verifying\",\"note\":\"x\"}");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", "/api/v1/reconcile/findings?category=nope", doctor, NULL, NULL);
    http_assert_problem(r, 400, "category");
    http_free(r);
    r = http_do("GET", "/api/v1/reconcile/findings?status=closed", doctor, NULL, NULL);
    http_assert_problem(r, 400, "status");
    http_free(r);
    r = http_do("GET", "/api/v1/reconcile/findings?run_id=x", doctor, NULL, NULL);
    http_assert_problem(r, 400, "run_id");
    http_free(r);
    {
        char *id = test_fmt("%lld", oid);
        const char *p[] = {id};
        char *st = db_scalar("SELECT status FROM reconcile_findings WHERE id = $1", 1, p);
        assert_string_equal(st, "open");
        free(st);
        free(id);
    }
}

static void second_run_diff(void **state)
{
    char *pol = police_csv(), *hea = health_csv(), *gri = grid_csv(0), *gbk;
    size_t gbk_len;
    long long run2;
    http_res *r;

    (void)state;
    run2 = new_run(doctor, township, 201);
    upload_ok(run2, "police", pol, strlen(pol));
    upload_ok(run2, "health", hea, strlen(hea));
    gbk = to_gbk(gri, &gbk_len);
    upload_ok(run2, "grid", gbk, gbk_len);
    r = analyse(doctor, run2);
    assert_int_equal(r->status, 200);
    {
        json_t *d = json_object_get(r->json, "diff");
        assert_int_equal(test_jint(d, "previous_run_id"), run1);
        assert_int_equal(test_jint(d, "new"), 0);
        assert_int_equal(test_jint(d, "persisting"), 8);
        assert_int_equal(test_jint(d, "resolved"), 1);
    }
    assert_int_equal(summary_of(r->json, "duplicate"), 0);
    http_free(r);
    {
        char *a = test_fmt("%lld", run2), *b = test_fmt("%lld", run1);
        const char *p[] = {a, P[3].name};
        char *st = db_scalar("SELECT status FROM reconcile_findings WHERE run_id = $1"
                             " AND category = 'village_conflict' AND name = $2",
                             2, p);
        assert_string_equal(st, "verifying");
        free(st);
        /* The previous run's duplicate, not seen again, was resolved. */
        const char *q[] = {b};
        assert_int_equal(db_count("SELECT count(*) FROM reconcile_findings WHERE run_id = $1"
                                  " AND category = 'duplicate' AND status = 'resolved'",
                                  1, q),
                         1);
        /* The staging rows of the earlier run are gone. */
        assert_int_equal(db_count("SELECT count(*) FROM reconcile_rows WHERE run_id = $1", 1, q),
                         0);
        free(a);
        free(b);
    }
    free(pol);
    free(hea);
    free(gri);
    free(gbk);
}

/* ---- malformed files and bad requests ---------------------------------- */

static void malformed_files_leave_nothing(void **state)
{
    long long run = new_run(doctor, township, 201);
    char gbk_hdr[512], *gbk;
    size_t gbk_len;
    http_res *r;
    struct {
        const char *body, *query, *field, *text;
    } cases[] = {
        {HEADER "429005199001011234,张三,男,1990-01-01,梅苑社区,在管,1\n"
                "429005199001011234,张三,男\n",
         NULL, "body", "line 3"},
        {"", NULL, "body", "empty"},
        {"\xEF\xBB\xBF", NULL, "body", "empty"},
        {HEADER, NULL, "body", "no data"},
        {"姓名,性别\n张三,男\n", NULL, "id", "身份证号"},
        {HEADER "\"429005199001011234,张三,男,1990-01-01,梅苑社区,在管,1\n", NULL, "body", "quote"},
        {NULL, "?encoding=utf-8", "encoding", "UTF-8"},
        {"\xFF\xFE"
         "a\0b\0",
         NULL, "encoding", "UTF-16"},
    };

    (void)state;
    snprintf(gbk_hdr, sizeof(gbk_hdr), HEADER "%s,张三,男,,梅苑社区,在管,1\n", P[0].id);
    gbk = to_gbk(gbk_hdr, &gbk_len);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *body = cases[i].body ? cases[i].body : gbk;
        size_t len = cases[i].body ? strlen(cases[i].body) : gbk_len;
        if (i == 7)
            len = 6;
        r = upload(doctor, run, "health", cases[i].query, body, len);
        if (r->status != 422)
            fail_msg("case %zu: %ld %s", i, r->status, r->body);
        http_assert_problem(r, 422, cases[i].field);
        if (strstr(r->body, cases[i].text) == NULL)
            fail_msg("case %zu: %s lacks %s", i, r->body, cases[i].text);
        http_free(r);
    }
    assert_int_equal(rows_of(run), 0);
    /* Bad requests. */
    r = http_raw("PUT", test_fmt("/api/v1/reconcile/runs/%lld/sources/health", run), doctor,
                 "application/json", "{}", 2, 0);
    http_assert_problem(r, 415, NULL);
    http_free(r);
    r = upload(doctor, run, "health", "?encoding=latin1", HEADER, strlen(HEADER));
    http_assert_problem(r, 400, "encoding");
    http_free(r);
    r = upload(doctor, run, "health", "?mapping_id=999999999", HEADER, strlen(HEADER));
    http_assert_problem(r, 400, "mapping_id");
    http_free(r);
    r = upload(doctor, run, "hospital", NULL, HEADER, strlen(HEADER));
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = upload(doctor, 999999999, "health", NULL, HEADER, strlen(HEADER));
    http_assert_problem(r, 404, NULL);
    http_free(r);
    /* Nothing loaded: nothing to analyse. */
    r = analyse(doctor, run);
    http_assert_problem(r, 409, NULL);
    http_free(r);
    assert_int_equal(rows_of(run), 0);

    /* A good file after the bad ones loads (the connection is still fine). */
    {
        char *hea = health_csv();
        upload_ok(run, "health", hea, strlen(hea));
        free(hea);
        assert_true(rows_of(run) > 0);
    }
    /* Runs: bad bodies. */
    const char *bodies[][2] = {
        {"{}", "org_unit_id"},
        {"{\"org_unit_id\":\"x\"}", "org_unit_id"},
        {"{\"org_unit_id\":999999999}", "org_unit_id"},
        {"{\"org_unit_id\":1,\"colour\":1}", "colour"},
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        r = http_do("POST", "/api/v1/reconcile/runs", doctor, bodies[i][0], NULL);
        http_assert_problem(r, 400, bodies[i][1]);
        http_free(r);
    }
    free(gbk);
}

static void saved_mappings(void **state)
{
    char *body, *csv;
    long long mid, run;
    http_res *r;

    (void)state;
    body = test_fmt("{\"org_unit_id\":%s,\"source\":\"police\",\"name\":\"公安导出%s\","
                    "\"columns\":{\"id\":\"证件号码\",\"name\":\"人员姓名\",\"risk_level\":"
                    "\"风险\"}}",
                    township, test_unique());
    r = http_do("POST", "/api/v1/reconcile/mappings", doctor, body, NULL);
    assert_int_equal(r->status, 201);
    mid = test_jint(r->json, "id");
    assert_non_null(http_header(r, "Location"));
    http_free(r);
    r = http_do("POST", "/api/v1/reconcile/mappings", doctor, body, NULL);
    http_assert_problem(r, 409, "name");
    http_free(r);
    free(body);
    {
        char *path = test_fmt("/api/v1/reconcile/mappings/%lld", mid);
        r = http_do("GET", path, official, NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_string_equal(test_jstr(json_object_get(r->json, "columns"), "id"), "证件号码");
        http_free(r);
        r = http_do("GET", path, yl_doctor, NULL, NULL);
        http_assert_problem(r, 404, NULL);
        http_free(r);
        free(path);
    }
    r = http_do("GET", "/api/v1/reconcile/mappings?source=police", doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_true(json_array_size(json_object_get(r->json, "items")) >= 1);
    http_free(r);
    r = http_do("GET", "/api/v1/reconcile/mappings?source=bank", doctor, NULL, NULL);
    http_assert_problem(r, 400, "source");
    http_free(r);

    /* Uploading with it: its headers are read; a file without them is refused. */
    run = new_run(police, township, 201);
    csv = test_fmt("序号,人员姓名,证件号码,风险\n1,%s,%s,3\n", X1.name, X1.id);
    {
        char *q = test_fmt("?mapping_id=%lld", mid);
        r = upload(police, run, "police", q, csv, strlen(csv));
        assert_int_equal(r->status, 200);
        {
            char *u = unknown_of(r->json, "police");
            assert_string_equal(u, "[\"序号\"]"); /* not mapped: listed */
            free(u);
        }
        http_free(r);
        r = upload(police, run, "police", q, HEADER "1,2,3,4,5,6,7\n", strlen(HEADER) + 14);
        http_assert_problem(r, 422, "id");
        assert_non_null(strstr(r->body, "证件号码"));
        http_free(r);
        /* A mapping of another source does not serve this one. */
        r = upload(police, run, "health", q, csv, strlen(csv));
        http_assert_problem(r, 400, "mapping_id");
        http_free(r);
        free(q);
    }
    free(csv);

    /* Bad mappings. */
    const char *bad[][2] = {
        {"\"source\":\"police\",\"name\":\"a\",\"columns\":{\"name\":\"姓名\"}}", "columns.id"},
        {"\"source\":\"police\",\"name\":\"a\",\"columns\":{\"id\":\"x\","
         "\"name\":\"y\",\"phone\":\"z\"}}",
         "columns.phone"},
        {"\"source\":\"bank\",\"name\":\"a\",\"columns\":{\"id\":\"x\","
         "\"name\":\"y\"}}",
         "source"},
        {"\"source\":\"police\",\"name\":\"a\",\"columns\":[]}", "columns"},
        {"\"source\":\"police\",\"name\":\"\",\"columns\":{\"id\":\"x\","
         "\"name\":\"y\"}}",
         "name"},
    };
    long before = db_count("SELECT count(*) FROM reconcile_mappings", 0, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *b = test_fmt("{\"org_unit_id\":%s,%s", township, bad[i][0]);
        r = http_do("POST", "/api/v1/reconcile/mappings", doctor, b, NULL);
        http_assert_problem(r, 400, bad[i][1]);
        http_free(r);
        free(b);
    }
    {
        char *b = test_fmt("{\"org_unit_id\":%s,\"source\":\"police\",\"name\":\"a\","
                           "\"columns\":{\"id\":\"x\",\"name\":\"y\"}}",
                           yl_unit);
        r = http_do("POST", "/api/v1/reconcile/mappings", doctor, b, NULL);
        http_assert_problem(r, 400, "org_unit_id");
        http_free(r);
        r = http_do("POST", "/api/v1/reconcile/mappings", official, b, NULL);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        free(b);
    }
    assert_int_equal(db_count("SELECT count(*) FROM reconcile_mappings", 0, NULL), before);
}

/* ---- columns no mapping names ------------------------------------------ */

/* Upload body as source of run; 200, and the run (as answered and as read
 * again) lists exactly the unknown columns want (compact JSON). */
static void upload_lists(long long run, const char *source, const char *body, size_t len,
                         const char *want)
{
    char *path = test_fmt("/api/v1/reconcile/runs/%lld", run), *got;
    http_res *r = upload(doctor, run, source, NULL, body, len);

    if (r->status != 200)
        fail_msg("PUT %s: %ld %s", source, r->status, r->body);
    got = unknown_of(r->json, source);
    if (strcmp(got, want) != 0)
        fail_msg("PUT %s: unknown_columns %s, want %s", source, got, want);
    free(got);
    http_free(r);
    r = http_do("GET", path, official, NULL, NULL);
    assert_int_equal(r->status, 200);
    got = unknown_of(r->json, source);
    assert_string_equal(got, want);
    free(got);
    http_free(r);
    free(path);
}

/* The police rows of run that carry a risk level. */
static long police_risks(long long run)
{
    char *id = test_fmt("%lld", run);
    const char *p[] = {id};
    long n = db_count("SELECT count(*) FROM reconcile_rows WHERE run_id = $1"
                      " AND source = 'police' AND risk IS NOT NULL",
                      1, p);

    free(id);
    return n;
}

/* A list may carry columns that no mapped column names: it is loaded
 * without them, and the run lists them (UTF-8 and GBK alike), so that a
 * misspelt 风险等级 is seen rather than dropped silently. A new upload of
 * the source replaces the list. */
static void unknown_columns_are_listed(void **state)
{
    long long run = new_run(doctor, township, 201);
    char *utf8, *plain, *gbk;
    size_t gbk_len;

    (void)state;
    utf8 = test_fmt("身份证号,姓名,民族,性别,出生日期,村(社区),状态,危险性等级,\n"
                    "%s,%s,汉,男,%s,梅苑社区,在管,3,\n",
                    X1.id, X1.name, X1.birth);
    upload_lists(run, "police", utf8, strlen(utf8), "[\"民族\",\"危险性等级\",\"#9\"]");
    /* The misspelt risk column was not read; under its name it is. */
    assert_int_equal(police_risks(run), 0);
    plain = test_fmt(HEADER "%s,%s,男,%s,梅苑社区,在管,3\n", X1.id, X1.name, X1.birth);
    upload_lists(run, "police", plain, strlen(plain), "[]");
    assert_int_equal(police_risks(run), 1);

    {
        char *b = test_fmt("身份证号,姓名,性别,出生日期,村(社区),状态,风险等级,备注\n"
                           "%s,%s,男,%s,梅苑社区,在管,1,外出务工\n",
                           X1.id, X1.name, X1.birth);
        gbk = to_gbk(b, &gbk_len);
        free(b);
    }
    upload_lists(run, "grid", gbk, gbk_len, "[\"备注\"]");
    free(utf8);
    free(plain);
    free(gbk);
}

/* ---- who may ---------------------------------------------------------- */

static void who_may(void **state)
{
    long long fid = finding_of(run1, "risk_conflict", P[4].name);
    long long xid = finding_of(run1, "not_in_registry", X2.name);
    char *run_path = test_fmt("/api/v1/reconcile/runs/%lld", run1);
    char *f_path = test_fmt("/api/v1/reconcile/findings/%lld", fid);
    char *x_path = test_fmt("/api/v1/reconcile/findings/%lld", xid);
    char *list = test_fmt("/api/v1/reconcile/findings?run_id=%lld", run1);
    const char *body = "{\"to\":\"verifying\",\"note\":\"核实\"}";
    http_res *r;
    long runs_before = db_count("SELECT count(*) FROM reconcile_runs", 0, NULL);

    (void)state;
    /* Officials read, never write. */
    r = http_do("GET", run_path, official, NULL, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    new_run(official, township, 403);
    r = move(official, fid, body);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = analyse(official, run1);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = upload(official, run1, "health", NULL, HEADER, strlen(HEADER));
    http_assert_problem(r, 403, NULL);
    http_free(r);
    /* Civil affairs and grid workers take no part. */
    const char *outsiders[] = {civil, grid1};
    for (int i = 0; i < 2; i++) {
        r = http_do("GET", run_path, outsiders[i], NULL, NULL);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        r = http_do("GET", list, outsiders[i], NULL, NULL);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        r = http_do("GET", "/api/v1/reconcile/runs", outsiders[i], NULL, NULL);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        new_run(outsiders[i], township, 403);
        r = move(outsiders[i], fid, body);
        http_assert_problem(r, 403, NULL);
        http_free(r);
    }
    /* Another township: nothing exists. */
    r = http_do("GET", run_path, yl_doctor, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", f_path, yl_doctor, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = move(yl_doctor, fid, body);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = analyse(yl_doctor, run1);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = upload(yl_doctor, run1, "health", NULL, HEADER, strlen(HEADER));
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", list, yl_doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 0);
    http_free(r);
    new_run(yl_doctor, township, 400);
    /* A village doctor sees the findings of the village, not the township's run. */
    r = http_do("GET", run_path, doctor2, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", f_path, doctor2, NULL, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    r = http_do("GET", x_path, doctor2, NULL, NULL); /* assigned to 汉城村 */
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", list, doctor2, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 8);
    http_free(r);
    {
        char *path = test_fmt("/api/v1/reconcile/findings?org_unit_id=%s", yl_unit);
        r = http_do("GET", path, doctor, NULL, NULL);
        http_assert_problem(r, 400, "org_unit_id");
        http_free(r);
        free(path);
    }
    /* Runs listed in one's subtree only. */
    r = http_do("GET", "/api/v1/reconcile/runs?limit=200", yl_doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    {
        json_t *it;
        size_t i;
        json_array_foreach(json_object_get(r->json, "items"), i, it)
        {
            assert_int_not_equal(test_jint(it, "id"), run1);
        }
    }
    http_free(r);
    r = http_do("GET", "/api/v1/reconcile/runs?limit=1", doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM reconcile_runs", 0, NULL), runs_before);
    free(run_path);
    free(f_path);
    free(x_path);
    free(list);
}

/* ---- the command -------------------------------------------------------- */

static char *tool_path(void)
{
    const char *api = getenv("JF_TEST_API_BIN");
    const char *slash;

    assert_non_null(api);
    slash = strrchr(api, '/');
    return test_fmt("%.*s/jingfang-reconcile", (int)(slash - api), api);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static int run_tool(const char *args, char **out)
{
    char *tool = tool_path(), *cmd = test_fmt("%s %s 2>/dev/null", tool, args), buf[4096];
    FILE *p = popen(cmd, "r");
    size_t n;
    int st;

    assert_non_null(p);
    n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = '\0';
    st = pclose(p);
    if (out)
        *out = strdup(buf);
    free(cmd);
    free(tool);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void command_line_tool(void **state)
{
    char dir[] = "/tmp/jf-reconcile-XXXXXX", *pol = police_csv(), *hea = health_csv();
    char *gri = grid_csv(1), *gbk, *args, *out = NULL;
    size_t gbk_len;
    long runs_before;
    json_t *j;

    (void)state;
    if (getenv("JF_DB_URL") == NULL || getenv("JF_ID_INDEX_KEY") == NULL)
        fail_msg("JF_DB_URL and JF_ID_INDEX_KEY must be set for the command");
    assert_non_null(mkdtemp(dir));
    gbk = to_gbk(gri, &gbk_len);
    char *fp = test_fmt("%s/p.csv", dir), *fh = test_fmt("%s/h.csv", dir),
         *fg = test_fmt("%s/g.csv", dir), *fb = test_fmt("%s/bad.csv", dir);
    write_file(fp, pol, strlen(pol));
    write_file(fh, hea, strlen(hea));
    write_file(fg, gbk, gbk_len);
    write_file(fb, HEADER "1,2\n", strlen(HEADER) + 4);

    /* 汉城村 (a unit of its own, so the township's runs are not its history). */
    args = test_fmt("--unit 429005003005 police=%s health=%s grid=%s", fp, fh, fg);
    assert_int_equal(run_tool(args, &out), 0);
    j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(summary_of(j, "risk_conflict"), 2);
    assert_int_equal(summary_of(j, "duplicate"), 1);
    assert_int_equal(summary_of(j, "invalid_id"), 1);
    assert_int_equal(summary_of(j, "missing_police"), 1);
    assert_int_equal(test_jint(json_object_get(j, "sources"), "grid"), 8);
    json_decref(j);
    free(out);
    free(args);

    /* A refused file: exit 1 and no run at all. */
    runs_before = db_count("SELECT count(*) FROM reconcile_runs", 0, NULL);
    args = test_fmt("--unit 429005003005 police=%s health=%s", fp, fb);
    assert_int_equal(run_tool(args, NULL), 1);
    free(args);
    assert_int_equal(run_tool("--unit 429005003005 bank=/dev/null", NULL), 2);
    assert_int_equal(run_tool("police=/dev/null", NULL), 2);
    args = test_fmt("--unit NOSUCHUNIT police=%s", fp);
    assert_int_equal(run_tool(args, NULL), 1);
    free(args);
    assert_int_equal(db_count("SELECT count(*) FROM reconcile_runs", 0, NULL), runs_before);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'reconcile.run'"
                              " AND username = 'jingfang-reconcile'",
                              0, NULL) > 0,
                     1);

    unlink(fp);
    unlink(fh);
    unlink(fg);
    unlink(fb);
    rmdir(dir);
    free(fp);
    free(fh);
    free(fg);
    free(fb);
    free(pol);
    free(hea);
    free(gri);
    free(gbk);
}

/* ---- the analysis as a background job ------------------------------ */

#define ASYNC "Prefer: respond-async"

static http_res *analyse_async(const char *token, long long run)
{
    return on_id("POST", "/api/v1/reconcile/runs/", run, "/analyse", token, ASYNC);
}

static http_res *get_job(const char *token, long long job)
{
    return on_id("GET", "/api/v1/reconcile/jobs/", job, "", token, NULL);
}

static http_res *cancel(const char *token, long long job)
{
    return on_id("POST", "/api/v1/reconcile/jobs/", job, "/cancel", token, NULL);
}

/* Poll job until its state is want (20 s at most); the last document. */
static http_res *job_until(long long job, const char *want)
{
    for (int i = 0; i < 400; i++) {
        http_res *r = get_job(doctor, job);
        assert_int_equal(r->status, 200);
        if (strcmp(test_jstr(r->json, "state"), want) == 0)
            return r;
        if (i == 399)
            fail_msg("job %lld: %s after 20 s, not %s: %s", job, test_jstr(r->json, "state"), want,
                     r->body);
        http_free(r);
        usleep(50 * 1000);
    }
    return NULL;
}

/* A run of the township with the health list loaded. */
static long long loaded_run(void)
{
    long long run = new_run(doctor, township, 201);
    char *hea = health_csv();

    upload_ok(run, "health", hea, strlen(hea));
    free(hea);
    return run;
}

/* The backend of job's runner ends, as when its process dies. */
static void terminate_runner(long long job)
{
    const char *admin_url = getenv("JF_TEST_DB_ADMIN");
    assert_non_null(admin_url);
    char *cmd = test_fmt("psql \"%s\" -qAtc \"SELECT pg_terminate_backend(runner_pid)"
                         " FROM reconcile_job_progress WHERE job_id = %lld\" >/dev/null",
                         admin_url, job);

    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* The status of run. */
static void assert_run_status(long long run, const char *want)
{
    http_res *r = on_id("GET", "/api/v1/reconcile/runs/", run, "", doctor, NULL);

    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "status"), want);
    http_free(r);
}

/* Hold run's row (as an upload in progress would): the analysis waits. */
static void hold_run(long long run)
{
    char *sql = test_fmt("SELECT id::text FROM reconcile_runs WHERE id = %lld FOR SHARE", run);

    assert_true(db_try("BEGIN"));
    free(db_scalar(sql, 0, NULL));
    free(sql);
}

/* POST …/analyse answers 202 with a job when asked to (Prefer:
 * respond-async); the job reports its steps, ends done with the run
 * analysed and an event per unit with new findings; asked again while
 * queued, the same job answers; a running job is cancelled; one whose
 * runner dies mid-way is run again; who may see and cancel. */
static void analysis_as_a_job(void **state)
{
    (void)state;
    long long run = loaded_run();
    http_res *r = analyse_async(doctor, run);
    if (r->status != 202)
        fail_msg("analyse async: %ld %s", r->status, r->body);
    long long job = test_jint(r->json, "id");
    char *loc = test_fmt("/api/v1/reconcile/jobs/%lld", job);
    assert_string_equal(http_header(r, "Location"), loc);
    free(loc);
    assert_int_equal(test_jint(r->json, "run_id"), run);
    http_free(r);
    r = job_until(job, "done");
    json_t *pr = json_object_get(r->json, "progress");
    assert_int_equal(test_jint(pr, "percent"), 100);
    assert_int_equal(test_jint(pr, "steps"), 7);
    assert_string_equal(test_jstr(pr, "step"), "closing");
    assert_true(test_jint(pr, "rows") > 0);
    /* One event per unit with new findings (this township's are old by now). */
    json_t *fresh = json_object_get(r->json, "new_findings");
    assert_true(json_is_object(fresh));
    size_t units = json_object_size(fresh);
    http_free(r);
    assert_run_status(run, "done");
    char *j = test_fmt("%lld", job), *r1 = test_fmt("%lld", run1);
    const char *pj[] = {j}, *prun[] = {r1};
    assert_int_equal(db_count("SELECT count(*) FROM outbox WHERE topic = 'reconcile.findings'"
                              " AND payload->>'job_id' = $1",
                              1, pj),
                     units);
    /* The first run of the township had new findings: their events went out. */
    assert_true(db_count("SELECT count(*) FROM outbox WHERE topic = 'reconcile.findings'"
                         " AND payload->>'run_id' = $1 AND (payload->>'new')::int > 0",
                         1, prun) > 0);
    free(j);
    free(r1);
    /* Ended: no second analysis, no cancel. */
    r = analyse(doctor, run);
    http_assert_problem(r, 409, NULL);
    http_free(r);
    r = cancel(doctor, job);
    http_assert_problem(r, 409, NULL);
    http_free(r);

    /* While the job waits, asking again answers the same job; a running job
     * is cancelled (its statement interrupted) and the run stays to load. */
    run = loaded_run();
    hold_run(run);
    r = analyse_async(doctor, run);
    assert_int_equal(r->status, 202);
    job = test_jint(r->json, "id");
    http_free(r);
    r = analyse_async(police, run);
    assert_int_equal(r->status, 202);
    assert_int_equal(test_jint(r->json, "id"), job);
    http_free(r);
    http_free(job_until(job, "running"));
    r = get_job(civil, job);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = get_job(yl_doctor, job);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = cancel(official, job);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = cancel(doctor, job);
    assert_int_equal(r->status, 202);
    assert_true(json_is_true(json_object_get(r->json, "cancel_requested")));
    http_free(r);
    http_free(job_until(job, "cancelled"));
    assert_true(db_try("COMMIT"));
    assert_run_status(run, "loading");

    /* The runner's connection dies mid-way (as when the API stops): the
     * job is taken again and ends done. */
    hold_run(run);
    r = analyse_async(doctor, run);
    assert_int_equal(r->status, 202);
    assert_true(test_jint(r->json, "id") != job);
    job = test_jint(r->json, "id");
    http_free(r);
    http_free(job_until(job, "running"));
    terminate_runner(job);
    assert_true(db_try("COMMIT"));
    r = job_until(job, "done");
    assert_null(json_object_get(r->json, "error"));
    http_free(r);
    /* Cancelled while no runner holds it (its runner gone, the next not
     * there yet): it ends at once. */
    run = loaded_run();
    hold_run(run);
    r = analyse_async(doctor, run);
    job = test_jint(r->json, "id");
    http_free(r);
    http_free(job_until(job, "running"));
    terminate_runner(job);
    http_free(job_until(job, "queued"));
    /* 200: ended at once. On a loaded machine the next runner may have
     * taken it meanwhile (it looks every 5 s): then 202, and it ends as
     * a running job does. */
    r = cancel(doctor, job);
    assert_true(r->status == 200 || r->status == 202);
    if (r->status == 200)
        assert_string_equal(test_jstr(r->json, "state"), "cancelled");
    http_free(r);
    http_free(job_until(job, "cancelled"));
    assert_true(db_try("COMMIT"));
    r = get_job(doctor, 999999999);
    http_assert_problem(r, 404, NULL);
    http_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_lists_exact_findings),
        cmocka_unit_test(findings_list_read_and_move),
        cmocka_unit_test(second_run_diff),
        cmocka_unit_test(malformed_files_leave_nothing),
        cmocka_unit_test(saved_mappings),
        cmocka_unit_test(unknown_columns_are_listed),
        cmocka_unit_test(who_may),
        cmocka_unit_test(command_line_tool),
        cmocka_unit_test(analysis_as_a_job),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
