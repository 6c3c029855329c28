/* A record kind as one table of fields (as redis generates its command
 * table): each row names the body key, the column, how the value is read
 * and checked, how it is stored and how it is shown. The reader validates
 * a body through it; the INSERT and the record's JSON are generated from
 * it at start (from the table only, never from request data). Fields a
 * handler fills itself (the patient, the user, what the rules compute,
 * values read from an object) are rows of type JF_K_SET: stored and shown
 * like the others, read by nobody; what is only shown (the id, a value
 * computed on reading) is JF_K_OUT. */
#ifndef JF_RECORD_KIND_H
#define JF_RECORD_KIND_H

#include <stdbool.h>
#include <stddef.h>

#include "../http/request.h"
#include "../http/validate.h"

typedef enum jf_ktype {
    JF_K_DATE,  /* "YYYY-MM-DD", a real date not after today */
    JF_K_CODE,  /* one of codes */
    JF_K_CODES, /* an array of at most max codes, stored as text[] */
    JF_K_BOOL,
    JF_K_INT,  /* in [min, max] */
    JF_K_TEXT, /* min..max characters */
    JF_K_SET,  /* filled by the handler */
    JF_K_OUT,  /* shown only: json is its expression */
} jf_ktype;

#define JF_KF_REQUIRED 1u /* the body must hold it */
#define JF_KF_NO_JSON 2u  /* stored, not shown as a member of its own */

typedef struct jf_kfield {
    const char *key;    /* the body's field (NULL: none) */
    const char *column; /* its column */
    jf_ktype type;
    const char *const *codes; /* JF_K_CODE, JF_K_CODES */
    long long min, max;       /* JF_K_INT bounds, JF_K_TEXT characters, JF_K_CODES items */
    const char *cast;         /* the placeholder's SQL type (NULL: text) */
    const char *dflt;         /* stored for NULL (NULL: NULL) */
    unsigned flags;
    const char *json; /* how it is shown (NULL: <alias>.<column>) */
} jf_kfield;

typedef struct jf_kind {
    const char *table, *alias; /* the alias the JSON reads the row as */
    const jf_kfield *fields;
    size_t n;
} jf_kind;

/* Read every field of k that has a key and is not JF_K_SET from the body:
 * vals[i] the value as SQL text (borrowed or arena; NULL when absent,
 * null or bad), an error added for each bad or missing required one.
 * vals has k->n entries; JF_K_SET entries are left as they are. */
void jf_kind_read(jf_req *req, jf_errors *e, const jf_kind *k, const char **vals);
/* The index of column in k, or -1. */
int jf_kind_index(const jf_kind *k, const char *column);
/* "INSERT INTO <table> AS <alias> (<columns>) VALUES ($1::<cast>,
 * coalesce($2, <default>), …) RETURNING <alias>.id[, <json>::text]" into
 * out (size cap): the stored fields (all but JF_K_OUT) in the table's
 * order; json (NULL: none) is the record as the caller shows it. 0, or
 * JF_ERR_TOO_LARGE. Start-up only. */
int jf_kind_insert_sql(const jf_kind *k, const char *json, char *out, size_t cap);
/* The INSERT's parameters from vals (k->n entries): the stored fields'
 * values in order into params; returns how many. */
int jf_kind_params(const jf_kind *k, const char *const *vals, const char **params);
/* "json_build_object('<key or column>', <json or alias.column>, …)" of the
 * shown fields, into out (size cap). 0, or JF_ERR_TOO_LARGE. Start-up only. */
int jf_kind_json_sql(const jf_kind *k, char *out, size_t cap);

#endif
