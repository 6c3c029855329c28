/* HTTP suite: the read-only FHIR R4 view — for the service accounts of a
 * hospital and of a police station only; each resource type for each (the
 * police never get a Condition or a MedicationStatement, nor an encounter's
 * clinical detail); search by identifier through the blind index and by
 * _lastUpdated with paging; bad parameters as a 400 OperationOutcome naming
 * the parameter; another region's patient 404; every read audited. When
 * JF_TEST_FHIR_DIR is set, every resource read is written there for the
 * schema check of tests/fhir. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 23 /* keeps this suite's ID numbers apart from the others' */
#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""
#define ID_SYSTEM "urn:oid:2.16.156.10011.1.3"

static char *tf_admin, *yl_admin, *doctor, *yl_doctor, *police_person;
static char *hosp, *pol; /* service tokens of 泰丰's clinic and police station */
static char *tf_unit, *yl_unit, *g01, *yl_g01;
static long long pid, yl_pid; /* a patient with every kind of record; one of 园林 */
static char id18[19], yl_id18[19];
static int saved;

/* ---- helpers ---------------------------------------------------------- */

/* A client-credentials token of a new service account of the agency named,
 * in unit, made by admin. */
static char *service_token(const char *admin, const char *unit, const char *agency_name)
{
    char *agency = test_agency_id(agency_name),
         *name = test_fmt("fhir%d.%s", saved++, test_unique());
    char *body = test_fmt("{\"username\":\"%s\",\"display_name\":\"接口\",\"password\":"
                          "\"Correct-horse-1\",\"role\":\"service\",\"org_unit_id\":%s,"
                          "\"agency_id\":%s}",
                          name, unit, agency);
    http_res *r = http_do("POST", "/api/v1/users", admin, body, NULL);
    char *token;

    assert_int_equal(r->status, 201);
    free(body);
    body = test_fmt("{\"user_id\":%lld}", test_jint(r->json, "id"));
    http_free(r);
    r = http_do("POST", "/api/v1/service-clients", admin, body, NULL);
    assert_int_equal(r->status, 201);
    free(body);
    body = test_fmt("{\"grant_type\":\"client_credentials\",\"client_id\":\"%s\","
                    "\"client_secret\":\"%s\"}",
                    http_str(r, "client_id"), http_str(r, "client_secret"));
    http_free(r);
    r = http_do("POST", "/api/v1/auth/token", NULL, body, NULL);
    assert_int_equal(r->status, 200);
    token = strdup(http_str(r, "access_token"));
    http_free(r);
    free(body);
    free(agency);
    free(name);
    return token;
}

/* Keep a FHIR answer for the schema check (tests/fhir), as <name>.json. */
static void keep(const http_res *r, const char *name)
{
    const char *dir = getenv("JF_TEST_FHIR_DIR");
    char *path;
    FILE *f;

    if (dir == NULL || *dir == '\0')
        return;
    path = test_fmt("%s/%s.json", dir, name);
    f = fopen(path, "w");
    if (f == NULL)
        fail_msg("cannot write %s", path);
    fputs(r->body, f);
    fclose(f);
    free(path);
}

/* GET path as token; fails unless status, in application/fhir+json. */
static http_res *get(long status, const char *token, const char *path)
{
    http_res *r = http_do("GET", path, token, NULL, NULL);
    const char *ct;

    if (r->status != status)
        fail_msg("GET %s: expected %ld, got %ld %s", path, status, r->status, r->body);
    ct = http_header(r, "Content-Type");
    if (r->status != 401 && (ct == NULL || strcmp(ct, "application/fhir+json") != 0))
        fail_msg("GET %s: Content-Type %s", path, ct ? ct : "(none)");
    assert_non_null(r->json);
    return r;
}

/* The same with a printf-made path. */
static http_res *getf(long status, const char *token, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static http_res *getf(long status, const char *token, const char *fmt, ...)
{
    char path[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return get(status, token, path);
}

/* An OperationOutcome of status whose issue names param (NULL: any). */
static void assert_outcome(long status, const char *param, const char *token, const char *path)
{
    http_res *r = get(status, token, path);
    json_t *issue = json_array_get(json_object_get(r->json, "issue"), 0);

    assert_string_equal(test_jstr(r->json, "resourceType"), "OperationOutcome");
    assert_non_null(issue);
    assert_string_equal(test_jstr(issue, "severity"), "error");
    assert_non_null(test_jstr(issue, "diagnostics"));
    if (param != NULL) {
        json_t *expr = json_object_get(issue, "expression");
        if (!test_jhas(expr, param))
            fail_msg("GET %s: the outcome does not name %s: %s", path, param, r->body);
    }
    keep(r, "outcome");
    http_free(r);
}

/* Entries of a searchset Bundle. */
static json_t *entries(const http_res *r)
{
    assert_string_equal(test_jstr(r->json, "resourceType"), "Bundle");
    assert_string_equal(test_jstr(r->json, "type"), "searchset");
    return json_object_get(r->json, "entry");
}

static size_t nentries(const http_res *r)
{
    return json_array_size(entries(r));
}

/* Resource i of the Bundle. */
static json_t *resource(const http_res *r, size_t i)
{
    return json_object_get(json_array_get(entries(r), i), "resource");
}

/* The resource of the Bundle with id, or NULL. */
static json_t *by_id(const http_res *r, const char *id)
{
    for (size_t i = 0; i < nentries(r); i++)
        if (strcmp(test_jstr(resource(r, i), "id"), id) == 0)
            return resource(r, i);
    return NULL;
}

/* The Bundle's link of relation rel, or NULL. */
static const char *link_of(const http_res *r, const char *rel)
{
    json_t *links = json_object_get(r->json, "link"), *l;
    size_t i;

    json_array_foreach(links, i, l)
    {
        if (strcmp(test_jstr(l, "relation"), rel) == 0)
            return test_jstr(l, "url");
    }
    return NULL;
}

static long audits(const char *action, long long target)
{
    char idtxt[32];
    const char *p[] = {action, idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", target);
    return db_count("SELECT count(*) FROM audit_log WHERE action = $1 AND target_id = $2"
                    " AND detail->>'via' = 'fhir'",
                    2, p);
}

static long list_audits(void)
{
    return db_count("SELECT count(*) FROM audit_log WHERE action = 'patient.list'"
                    " AND detail->>'via' = 'fhir'",
                    0, NULL);
}

/* Run sql with the patient's id as $1 (fixtures, as the tables' owner). */
static void fixture(const char *sql, long long id)
{
    char idtxt[32];
    const char *p[] = {idtxt};
    char *v;

    snprintf(idtxt, sizeof(idtxt), "%lld", id);
    v = db_scalar(sql, 1, p);
    free(v);
}

/* ---- setup ---------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    tf_admin = http_login("tf.admin", NULL);
    yl_admin = http_login("yl.admin", NULL);
    doctor = http_login("tf.doctor", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    police_person = http_login("tf.police", NULL);
    tf_unit = test_unit_id("429005003");
    yl_unit = test_unit_id("429005001");
    g01 = test_unit_id("429005003001G01");
    yl_g01 = test_unit_id("429005001001G01");
    hosp = service_token(tf_admin, tf_unit, "泰丰街道社区卫生服务中心");
    pol = service_token(tf_admin, tf_unit, "泰丰派出所");

    test_new_id(id18, -1, SUITE_SALT);
    pid = test_create_patient(doctor, NULL, "标准", id18, g01,
                              DIAG ",\"phone\":\"13812345678\",\"address\":\"梅苑路8号\","
                                   "\"onset_date\":\"2019-06-01\"");
    test_new_id(yl_id18, -1, SUITE_SALT);
    yl_pid = test_create_patient(yl_doctor, NULL, "园林", yl_id18, yl_g01, DIAG);
    test_stable_visit(doctor, pid, "2026-11-02");
    fixture("INSERT INTO guardians (patient_id, kind, name, relation, phone, phone_masked,"
            " address, capacity) VALUES ($1, 'primary', '标准父', 'parent', '13900001111',"
            " '139****1111', '梅苑路8号', 'adequate'),"
            " ($1, 'assistant', '标准邻', 'other', NULL, NULL, NULL, 'weak') RETURNING 1",
            pid);
    fixture("INSERT INTO hospitalisations (patient_id, admitted_on, hospital, involuntary, reason,"
            " discharged_on, discharge_note) VALUES ($1, '2025-03-01', '潜江市精神卫生中心', true,"
            " '伤人风险', '2025-04-10', '病情稳定出院') RETURNING 1",
            pid);
    fixture("INSERT INTO risk_assessments (patient_id, assessed_on, level, tier, basis)"
            " VALUES ($1, '2025-02-27', 3, 'community', '持刀威胁家人') RETURNING 1",
            pid);
    fixture("INSERT INTO prescriptions (patient_id, drug, dose_morning, dose_evening, unit,"
            " started_on) VALUES ($1, '利培酮', 1, 2, 'mg', '2025-04-10') RETURNING 1",
            pid);
    fixture("INSERT INTO prescriptions (patient_id, drug, long_acting, every_weeks, dose_mg,"
            " started_on, ended_on) VALUES ($1, '棕榈酸帕利哌酮', true, 4, 150, '2024-01-01',"
            " '2024-12-31') RETURNING 1",
            pid);
    fixture("UPDATE patients SET risk_level = 3, colour = 'red',"
            " key_flags = '[\"risk_3_plus\", \"forced_admission\"]' WHERE id = $1 RETURNING 1",
            pid);
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&tf_admin, &yl_admin, &doctor,  &yl_doctor, &police_person, &hosp,
                    &pol,      &tf_unit,  &yl_unit, &g01,       &yl_g01};

    (void)state;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* ---- tests ---------------------------------------------------------------- */

static void metadata_is_open(void **state)
{
    http_res *r = get(200, NULL, "/api/v1/fhir/metadata");
    json_t *types =
        json_object_get(json_array_get(json_object_get(r->json, "rest"), 0), "resource");

    (void)state;
    assert_string_equal(test_jstr(r->json, "resourceType"), "CapabilityStatement");
    assert_string_equal(test_jstr(r->json, "fhirVersion"), "4.0.1");
    assert_int_equal(json_array_size(types), 7);
    keep(r, "capability");
    http_free(r);
}

/* People, even of roles that read patients, have the JSON API: 403. */
static void service_accounts_only(void **state)
{
    const char *const people[] = {doctor, police_person, tf_admin};
    char *civil, *path = test_fmt("/api/v1/fhir/Patient/%lld", pid);
    long before = audits("patient.read", pid);

    (void)state;
    for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++)
        assert_outcome(403, NULL, people[i], path);
    /* A service account of an agency that is neither hospital nor police. */
    civil = service_token(tf_admin, tf_unit, "泰丰街道民政办");
    assert_outcome(403, NULL, civil, path);
    free(civil);
    http_free(get(401, NULL, path));
    assert_int_equal(audits("patient.read", pid), before);
    free(path);
}

static void patient_read(void **state)
{
    const char *const tokens[] = {hosp, pol};
    long before = audits("patient.read", pid);

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        http_res *r = getf(200, tokens[i], "/api/v1/fhir/Patient/%lld", pid);
        json_t *ident = json_array_get(json_object_get(r->json, "identifier"), 0);
        json_t *tel = json_array_get(json_object_get(r->json, "telecom"), 0);

        assert_string_equal(test_jstr(r->json, "resourceType"), "Patient");
        assert_string_equal(test_jstr(ident, "system"), ID_SYSTEM);
        /* Both views hold the whole number and phone (as their JSON views). */
        assert_string_equal(test_jstr(ident, "value"), id18);
        assert_string_equal(test_jstr(tel, "value"), "13812345678");
        assert_string_equal(test_jstr(json_array_get(json_object_get(r->json, "name"), 0), "text"),
                            "标准");
        assert_non_null(json_object_get(r->json, "managingOrganization"));
        keep(r, i == 0 ? "patient-hospital" : "patient-police");
        http_free(r);
    }
    assert_int_equal(audits("patient.read", pid), before + 2);
}

static void other_region_is_404(void **state)
{
    long before = audits("patient.read_denied", yl_pid);
    char *path;

    (void)state;
    path = test_fmt("/api/v1/fhir/Patient/%lld", yl_pid);
    assert_outcome(404, NULL, hosp, path);
    free(path);
    path = test_fmt("/api/v1/fhir/Encounter?patient=%lld", yl_pid);
    assert_outcome(404, "patient", pol, path);
    free(path);
    /* Probing shows in the log, as for GET /patients/{id}. */
    assert_int_equal(audits("patient.read_denied", yl_pid), before + 2);
    assert_int_equal(audits("patient.read", yl_pid), 0);
    assert_outcome(404, NULL, hosp, "/api/v1/fhir/Patient/999999999999");
    assert_outcome(404, NULL, hosp, "/api/v1/fhir/Patient/abc");
    assert_outcome(404, "patient", hosp, "/api/v1/fhir/Flag?patient=999999999999");
}

static void identifier_search(void **state)
{
    char other[19];
    long before = list_audits();
    http_res *r;

    (void)state;
    r = getf(200, hosp, "/api/v1/fhir/Patient?identifier=" ID_SYSTEM "%%7C%s", id18);
    assert_int_equal(nentries(r), 1);
    assert_string_equal(test_jstr(resource(r, 0), "resourceType"), "Patient");
    assert_int_equal(json_integer_value(json_object_get(r->json, "total")), 1);
    assert_null(link_of(r, "next"));
    keep(r, "bundle-identifier");
    http_free(r);
    /* Without the system, as the police system sends it. */
    r = getf(200, pol, "/api/v1/fhir/Patient?identifier=%s", id18);
    assert_int_equal(nentries(r), 1);
    http_free(r);
    /* A number on nobody's register, and one registered in another region. */
    test_new_id(other, -1, SUITE_SALT);
    r = getf(200, hosp, "/api/v1/fhir/Patient?identifier=%s", other);
    assert_int_equal(nentries(r), 0);
    assert_null(json_object_get(r->json, "entry"));
    assert_int_equal(json_integer_value(json_object_get(r->json, "total")), 0);
    keep(r, "bundle-empty");
    http_free(r);
    r = getf(200, hosp, "/api/v1/fhir/Patient?identifier=%s", yl_id18);
    assert_int_equal(nentries(r), 0);
    http_free(r);
    /* Each search is audited, a miss too, with the number masked. */
    assert_int_equal(list_audits(), before + 4);
    char *masked = test_fmt("%.6s********%s", other, other + 14);
    const char *p[] = {masked};
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'patient.list'"
                              " AND detail->>'id_number_masked' = $1",
                              1, p),
                     1);
    free(masked);
}

/* The database's clock now, as FHIR writes an instant (free it). */
static char *db_now(void)
{
    return db_scalar("SELECT fhir_instant(clock_timestamp())", 0, NULL);
}

static void last_updated_and_paging(void **state)
{
    char *t0 = db_now(), *t1 = NULL, *today = db_scalar("SELECT current_date::text", 0, NULL);
    long long ids[3];
    http_res *r;
    char *next;

    (void)state;
    /* Three patients changed after t0 (the suite runs alone): ids[0]
     * before t1, the others after. */
    for (int i = 0; i < 3; i++) {
        char id[19], *name = test_fmt("新%s", i == 0 ? "甲" : i == 1 ? "乙" : "丙");
        test_new_id(id, -1, SUITE_SALT);
        ids[i] = test_create_patient(doctor, NULL, name, id, g01, DIAG);
        free(name);
        if (i == 0)
            t1 = db_now();
    }
    r = getf(200, hosp, "/api/v1/fhir/Patient?_lastUpdated=gt%s&_count=2", t0);
    assert_int_equal(nentries(r), 2);
    assert_null(json_object_get(r->json, "total"));
    assert_string_equal(test_jstr(resource(r, 0), "id"), test_fmt("%lld", ids[0]));
    assert_string_equal(test_jstr(resource(r, 1), "id"), test_fmt("%lld", ids[1]));
    next = strdup(link_of(r, "next"));
    assert_non_null(strstr(link_of(r, "self"), "_count=2"));
    keep(r, "bundle-page1");
    http_free(r);
    r = get(200, hosp, next);
    assert_int_equal(nentries(r), 1);
    assert_string_equal(test_jstr(resource(r, 0), "id"), test_fmt("%lld", ids[2]));
    assert_null(link_of(r, "next"));
    http_free(r);
    free(next);
    /* A window of two instants, and one bound alone. */
    r = getf(200, pol, "/api/v1/fhir/Patient?_lastUpdated=gt%s&_lastUpdated=le%s", t0, t1);
    assert_int_equal(nentries(r), 1);
    assert_string_equal(test_jstr(resource(r, 0), "id"), test_fmt("%lld", ids[0]));
    http_free(r);
    r = getf(200, pol, "/api/v1/fhir/Patient?_lastUpdated=ge%s", t1);
    assert_int_equal(nentries(r), 2);
    http_free(r);
    /* Dates are whole days (China Standard Time): today holds all three,
     * before today none. */
    r = getf(200, pol, "/api/v1/fhir/Patient?_lastUpdated=%s&_lastUpdated=gt%s", today, t0);
    assert_int_equal(nentries(r), 3);
    http_free(r);
    r = getf(200, pol, "/api/v1/fhir/Patient?_lastUpdated=lt%s&_lastUpdated=gt%s", today, t0);
    assert_int_equal(nentries(r), 0);
    http_free(r);
    /* Never the other region's, whatever the window. */
    r = get(200, hosp, "/api/v1/fhir/Patient?_count=100");
    for (size_t i = 0; i < nentries(r); i++)
        assert_true(strcmp(test_jstr(resource(r, i), "id"), test_fmt("%lld", yl_pid)) != 0);
    http_free(r);
    free(t0);
    free(t1);
    free(today);
}

static void bad_search_params(void **state)
{
    static const struct {
        const char *path, *param;
    } rows[] = {
        {"/api/v1/fhir/Patient?identifier=http://example.org/mrn%7C42", "identifier"},
        {"/api/v1/fhir/Patient?_lastUpdated=ge2026-13-01", "_lastUpdated"},
        {"/api/v1/fhir/Patient?_lastUpdated=ne2026-01-01", "_lastUpdated"},
        {"/api/v1/fhir/Patient?_lastUpdated=ge2026-01-01T08:00:00", "_lastUpdated"},
        {"/api/v1/fhir/Patient?_lastUpdated=ge2026-01-01&_lastUpdated=lt2026-02-01"
         "&_lastUpdated=lt2026-03-01",
         "_lastUpdated"},
        {"/api/v1/fhir/Patient?_count=0", "_count"},
        {"/api/v1/fhir/Patient?_count=101", "_count"},
        {"/api/v1/fhir/Patient?_count=2x", "_count"},
        {"/api/v1/fhir/Patient?_count=-1", "_count"},
        {"/api/v1/fhir/Patient?cursor=bm90LW91cnM", "cursor"},
        {"/api/v1/fhir/Patient?name=%E6%A0%87", "name"},
        {"/api/v1/fhir/Encounter", "patient"},
        {"/api/v1/fhir/Encounter?patient=abc", "patient"},
        {"/api/v1/fhir/Encounter?patient=Patient/0", "patient"},
        {"/api/v1/fhir/Encounter?patient=12&date=ge2026-01-01", "date"},
        {"/api/v1/fhir/Flag?subject=12", "subject"},
    };
    long before = list_audits(), reads = audits("patient.read", pid);
    char bad[19], *path;

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_outcome(400, rows[i].param, hosp, rows[i].path);
    /* The patient's number with a wrong check character. */
    memcpy(bad, id18, sizeof(bad));
    bad[17] = bad[17] == '0' ? '1' : '0';
    path = test_fmt("/api/v1/fhir/Patient?identifier=%s", bad);
    assert_outcome(400, "identifier", hosp, path);
    free(path);
    /* The rest of the API's problem+json, for a client that asks for it. */
    {
        http_res *r = http_do("GET", "/api/v1/fhir/Patient?_count=0", hosp, NULL,
                              "Accept: application/problem+json");
        http_assert_problem(r, 400, "_count");
        http_free(r);
    }
    /* Nothing was read, so nothing was audited. */
    assert_int_equal(list_audits(), before);
    assert_int_equal(audits("patient.read", pid), reads);
}

static void types_for_the_hospital(void **state)
{
    long before = audits("patient.read", pid);
    json_t *o;
    http_res *r;

    (void)state;
    r = getf(200, hosp, "/api/v1/fhir/RelatedPerson?patient=%lld", pid);
    assert_int_equal(nentries(r), 2);
    o = resource(r, 0);
    assert_string_equal(test_jstr(o, "resourceType"), "RelatedPerson");
    assert_non_null(json_object_get(o, "address")); /* guardian detail: the doctor's view */
    keep(r, "bundle-related-hospital");
    http_free(r);

    r = getf(200, hosp, "/api/v1/fhir/Encounter?patient=Patient/%lld", pid);
    assert_int_equal(nentries(r), 2);
    o = resource(r, 0); /* the visit of 2026-11-02, newest first */
    assert_string_equal(test_jstr(json_object_get(o, "class"), "code"), "HH");
    o = resource(r, 1);
    assert_string_equal(test_jstr(json_object_get(o, "class"), "code"), "IMP");
    assert_string_equal(test_jstr(json_object_get(o, "serviceProvider"), "display"),
                        "潜江市精神卫生中心");
    assert_non_null(json_object_get(o, "reasonCode"));
    keep(r, "bundle-encounter-hospital");
    http_free(r);

    r = getf(200, hosp, "/api/v1/fhir/Condition?patient=%lld", pid);
    assert_int_equal(nentries(r), 1);
    o = json_array_get(json_object_get(json_object_get(resource(r, 0), "code"), "coding"), 0);
    assert_string_equal(test_jstr(o, "system"), "http://hl7.org/fhir/sid/icd-10");
    assert_string_equal(test_jstr(o, "code"), "F20");
    keep(r, "bundle-condition");
    http_free(r);

    r = getf(200, hosp, "/api/v1/fhir/RiskAssessment?patient=%lld", pid);
    o = NULL;
    for (size_t i = 0; i < nentries(r); i++)
        if (json_object_get(resource(r, i), "note") != NULL)
            o = resource(r, i); /* the basis: clinical, the hospital's to read */
    assert_non_null(o);
    o = json_object_get(json_array_get(json_object_get(o, "prediction"), 0), "qualitativeRisk");
    assert_string_equal(test_jstr(json_array_get(json_object_get(o, "coding"), 0), "code"), "3");
    keep(r, "bundle-risk-hospital");
    http_free(r);

    r = getf(200, hosp, "/api/v1/fhir/Flag?patient=%lld", pid);
    assert_non_null(by_id(r, test_fmt("colour-%lld", pid)));
    assert_non_null(by_id(r, test_fmt("risk-%lld", pid)));
    assert_non_null(by_id(r, test_fmt("kf-%lld-forced-admission", pid)));
    keep(r, "bundle-flag");
    http_free(r);

    r = getf(200, hosp, "/api/v1/fhir/MedicationStatement?patient=%lld", pid);
    assert_int_equal(nentries(r), 2);
    assert_string_equal(test_jstr(resource(r, 0), "status"), "active");
    assert_string_equal(test_jstr(resource(r, 1), "status"), "completed");
    keep(r, "bundle-medication");
    http_free(r);
    assert_int_equal(audits("patient.read", pid), before + 6);
}

static void types_for_the_police(void **state)
{
    long before = audits("patient.read", pid);
    char *path;
    json_t *o;
    http_res *r;

    (void)state;
    r = getf(200, pol, "/api/v1/fhir/RelatedPerson?patient=%lld", pid);
    assert_int_equal(nentries(r), 2);
    for (size_t i = 0; i < 2; i++)
        assert_null(json_object_get(resource(r, i), "address"));
    keep(r, "bundle-related-police");
    http_free(r);

    r = getf(200, pol, "/api/v1/fhir/Encounter?patient=%lld", pid);
    assert_int_equal(nentries(r), 2);
    o = resource(r, 1);
    assert_string_equal(test_jstr(json_object_get(o, "class"), "code"), "IMP");
    assert_null(json_object_get(o, "serviceProvider"));
    assert_null(json_object_get(o, "reasonCode"));
    assert_null(json_object_get(o, "hospitalization"));
    keep(r, "bundle-encounter-police");
    http_free(r);

    r = getf(200, pol, "/api/v1/fhir/RiskAssessment?patient=%lld", pid);
    for (size_t i = 0; i < nentries(r); i++)
        assert_null(json_object_get(resource(r, i), "note"));
    keep(r, "bundle-risk-police");
    http_free(r);

    r = getf(200, pol, "/api/v1/fhir/Flag?patient=%lld", pid);
    assert_non_null(by_id(r, test_fmt("colour-%lld", pid)));
    http_free(r);

    /* Never a diagnosis or a medicine: 403, and nothing read. */
    path = test_fmt("/api/v1/fhir/Condition?patient=%lld", pid);
    assert_outcome(403, NULL, pol, path);
    free(path);
    path = test_fmt("/api/v1/fhir/MedicationStatement?patient=%lld", pid);
    assert_outcome(403, NULL, pol, path);
    free(path);
    assert_int_equal(audits("patient.read", pid), before + 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metadata_is_open),     cmocka_unit_test(service_accounts_only),
        cmocka_unit_test(patient_read),         cmocka_unit_test(other_region_is_404),
        cmocka_unit_test(identifier_search),    cmocka_unit_test(last_updated_and_paging),
        cmocka_unit_test(bad_search_params),    cmocka_unit_test(types_for_the_hospital),
        cmocka_unit_test(types_for_the_police),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
