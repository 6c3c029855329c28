/* Field-by-field validation of a JSON body or query: every bad field is
 * collected, then answered at once as a 400 problem naming each field. */
#ifndef JF_VALIDATE_H
#define JF_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>

#include "request.h"
#include "../domain/date.h"

typedef struct jf_errors {
    json_t *list; /* array of {field, message}, created on first error */
} jf_errors;

void jf_errors_add(jf_errors *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool jf_errors_any(const jf_errors *e);
/* Send 400 with every collected error and free them. Returns a negative jf_err. */
int jf_errors_respond(jf_req *req, jf_errors *e);
void jf_errors_free(jf_errors *e);

/* Refuse any body field not in allowed (a NULL-terminated list). */
void jf_body_only(const jf_req *req, jf_errors *e, const char *const *allowed);
/* Is field present in the body (null included)? */
bool jf_body_has(const jf_req *req, const char *field);
/* Is field present and JSON null? */
bool jf_body_null(const jf_req *req, const char *field);
/* A string field of minc..maxc characters (code points), without control
 * characters. Returns it (borrowed from the body), or NULL when absent
 * (an error if required) or bad (an error). */
const char *jf_body_str(const jf_req *req, jf_errors *e, const char *field, bool required,
                        size_t minc, size_t maxc);
/* An integer field in [min, max]. 1 and *out set; 0 absent and optional;
 * -1 bad, or absent and required (an error was added either way). */
int jf_body_int(const jf_req *req, jf_errors *e, const char *field, bool required, long long min,
                long long max, long long *out);
/* A boolean field: same returns as jf_body_int. */
int jf_body_bool(const jf_req *req, jf_errors *e, const char *field, bool required, bool *out);
/* A string field that must be one of codes (NULL-terminated). Returns it,
 * or NULL when absent (an error if required) or not a code (an error). */
const char *jf_body_code(const jf_req *req, jf_errors *e, const char *field, bool required,
                         const char *const *codes);
/* An array field of at most max codes, each one of codes, as a text[]
 * literal ("{a,b}", arena); NULL when absent or null, or bad (an error
 * naming field). */
const char *jf_body_codes(jf_req *req, jf_errors *e, const char *field, const char *const *codes,
                          size_t max);
/* A date field "YYYY-MM-DD", past or future: the text, *out set; NULL when
 * absent (an error if required) or not a date (an error). */
const char *jf_body_any_date(const jf_req *req, jf_errors *e, const char *field, bool required,
                             jf_date *out);
/* A "YYYY-MM-DD" field: a real date, not after today (jf_date_today, so the
 * test clock applies). Returns it, or NULL when absent or bad (as above). */
const char *jf_body_date(const jf_req *req, jf_errors *e, const char *field, bool required);
/* Is s one of the codes in allowed (NULL-terminated)? */
bool jf_in_set(const char *s, const char *const *allowed);
/* Is s well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) free of control characters (C0, DEL, C1)? */
bool jf_text_ok(const char *s);
/* Number of UTF-8 code points in s. */
size_t jf_utf8_len(const char *s);

/* Query helpers. limit: 1..200 (default 50); count: true/false. */
int jf_query_limit(const jf_req *req, jf_errors *e, int *limit);
bool jf_query_bool(const jf_req *req, jf_errors *e, const char *name);
/* A positive id in the query, 0 when absent, -1 (error added) when bad. */
long long jf_query_id(const jf_req *req, jf_errors *e, const char *name);

#endif
