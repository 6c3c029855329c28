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

#endif
