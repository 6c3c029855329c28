/* A small HTTP client for the integration suites: real requests (libcurl)
 * to the running server at $JF_TEST_URL and direct SQL (libpq), as the
 * tables' owner ($JF_TEST_DB_OWNER, else $JF_TEST_DB), to set fixtures up
 * and check what was, or was not, written. */
#ifndef JF_TEST_CLIENT_H
#define JF_TEST_CLIENT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <sys/types.h>

typedef struct http_res {
    long status;
    char *body;    /* NUL-terminated */
    char *headers; /* raw header block */
    json_t *json;  /* parsed body, NULL when not JSON */
} http_res;

/* method path [token] [body JSON text] [extra header lines "A: b\r\nC: d"].
 * Aborts the test on transport failure. Free with http_free. */
http_res *http_do(const char *method, const char *path, const char *token, const char *body,
                  const char *headers);
/* Raw body with a chosen Content-Type (NULL: none) and optional chunked. */
http_res *http_raw(const char *method, const char *path, const char *token, const char *ctype,
                   const char *body, size_t len, int chunked);
void http_free(http_res *r);
/* Send this thread's further requests from addr, a loopback address such as
 * "127.0.5.9", so that the server sees another client (NULL: the default). */
void http_source(const char *addr);
/* Value of response header name (case-insensitive) in a static buffer, or NULL. */
const char *http_header(const http_res *r, const char *name);
/* Log in as username with the demo password (or password); return the
 * access token (malloc'd). Aborts the test on failure. */
char *http_login(const char *username, const char *password);
/* The string field of the response JSON, or NULL. */
const char *http_str(const http_res *r, const char *field);
/* Assert the response is problem+json with status, and (when field is not
 * NULL) that errors[] names field. */
void http_assert_problem(const http_res *r, long status, const char *field);

/* The demo password (JF_DEMO_PASSWORD). */
const char *test_demo_password(void);
/* A process-unique suffix for names, so suites can run again on one DB. */
const char *test_unique(void);

/* SQL helpers: one scalar as text (malloc'd, NULL for SQL NULL) and a
 * command that must succeed. */
char *db_scalar(const char *sql, int n, const char *const *params);
long db_count(const char *sql, int n, const char *const *params);
/* A read is answered only once its audit record is committed, so its
 * record is there when the answer is; test_audit_settle (a short pause)
 * dates from when records were written up to 200 ms later, and is now only
 * a margin. db_count_until polls a count until it equals want or 5 s pass,
 * returning the last count. */
void test_audit_settle(void);
long db_count_until(const char *sql, int n, const char *const *params, long want);
/* Run sql and return 1 if it succeeded, 0 if the database refused it. */
int db_try(const char *sql);

/* Every route the server registers ("METHOD /pattern", from
 * `$JF_TEST_API_BIN routes`), up to max into out; returns how many (the
 * test fails unless there are at least 15). */
typedef struct test_route {
    char method[16];
    char path[256];
} test_route;
size_t test_routes(test_route *out, size_t max);
/* Another server ($JF_TEST_API_BIN) on 127.0.0.1:port, with this
 * environment plus env ("NAME=value" strings, NULL-terminated) and its
 * stdout discarded; returns once it accepts connections (the test fails
 * if it does not within 20 s). test_server_stop sends SIGTERM and fails
 * the test unless it exits cleanly. */
pid_t test_server_start(int port, const char *const *env);
void test_server_stop(pid_t pid);

/* Fixtures shared by the suites. */
/* printf into a fresh string (free it); aborts the test on failure. */
char *test_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
/* GB 11643 check character of the first 17 digits. */
char test_check_char(const char *d17);
/* A valid 18-digit ID number of 潜江市 (429005), unique per run and per
 * suite (salt 0..30 keeps suites apart), not yet on the register.
 * male: 1 odd sequence, 0 even, -1 either. */
void test_new_id(char out[19], int male, int salt);
/* Is this ID number on the register? (Its blind index, when
 * JF_ID_INDEX_KEY is known to the test; else 0.) */
int test_id_registered(const char *id18);
/* The id (text, malloc'd) of the org unit with code / the agency named. */
char *test_unit_id(const char *code);
char *test_agency_id(const char *name);
/* Integer and string members of a JSON object. */
long long test_jint(const json_t *o, const char *k);
const char *test_jstr(const json_t *o, const char *k);
/* Does the JSON array a hold the string s? */
int test_jhas(const json_t *a, const char *s);
/* test_unique() spelt in Chinese numerals (a static buffer), for names,
 * which take no ASCII digits. */
const char *test_cn_unique(void);
/* method path as token with "today" set to date (NULL: the real today)
 * through X-Test-Date, and optional further header lines more (NULL: none).
 * Free with http_free. */
http_res *test_call_h(const char *date, const char *method, const char *path, const char *token,
                      const char *body, const char *more);
/* POST body to /api/v1/patients/{pid}/{what} as token with an
 * Idempotency-Key, as a phone retrying after a lost answer; date as in
 * test_call_h. */
http_res *test_post_keyed(const char *token, long long pid, const char *what, const char *key,
                          const char *body, const char *date);
/* test_call, failing the test unless the answer has status; frees path
 * (made with test_fmt). */
http_res *test_expect(long status, const char *date, const char *method, const char *token,
                      char *path, const char *body);
/* test_call, asserting a problem with status naming field (NULL: any);
 * frees path. */
void test_refused(long status, const char *field, const char *date, const char *method,
                  const char *token, char *path, const char *body);
/* db_count of sql with the id as $1. */
long db_count_id(const char *sql, long long id);
/* test_call_h without further headers. */
http_res *test_call(const char *date, const char *method, const char *path, const char *token,
                    const char *body);
/* Register a patient as token on date (NULL: the real today):
 * {"name","id_number","org_unit_id":unit} followed by extra JSON members
 * (",\"k\":v…", must hold the diagnosis; NULL: none). Fails the test unless
 * 201; returns the new id. */
long long test_create_patient(const char *token, const char *date, const char *name,
                              const char *id18, const char *unit, const char *extra);
/* The demo cast's patient, shared by the suites: named prefix, the run's
 * unique suffix (test_cn_unique) and tag, with a new ID number of salt
 * (copied into id18 unless NULL), registered by token on date (NULL: today)
 * in unit with extra members (the suite's diagnosis and any more). Fails
 * the test unless 201; returns the id. */
long long test_patient(const char *token, const char *date, const char *prefix, const char *tag,
                       const char *unit, int salt, const char *extra, char id18[19]);
/* Body of a visit on date that reached a stable patient (printf format
 * with one %s, the visit date). */
#define TEST_STABLE_VISIT                                                                          \
    "{\"visit_date\":\"%s\",\"mode\":\"home\",\"reached\":true,\"risk_level\":0,"                  \
    "\"insight\":\"complete\",\"compliance\":\"regular\",\"social_function\":{"                    \
    "\"personal_care\":\"good\",\"housework\":\"good\",\"work\":\"good\",\"learning\":"            \
    "\"good\",\"social_contact\":\"good\"}}"
/* POST that stable reached visit on date to patient pid as token, with
 * "today" being date; fails the test unless 201. */
void test_stable_visit(const char *token, long long pid, const char *date);

#endif
