/* A small HTTP client for the integration suites: real requests (libcurl)
 * to the running server at $JF_TEST_URL and direct SQL (libpq) to
 * $JF_TEST_DB to check what was, or was not, written. */
#ifndef JF_TEST_CLIENT_H
#define JF_TEST_CLIENT_H

#include <jansson.h>
#include <libpq-fe.h>

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
/* Run sql and return 1 if it succeeded, 0 if the database refused it. */
int db_try(const char *sql);

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

#endif
