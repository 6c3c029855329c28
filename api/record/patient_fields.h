/* The patient's editable fields as one table: each row names the JSON field
 * (= column), its type and its bounds. Create, update and suspected reports
 * validate through it, and the INSERT/UPDATE statements are generated from
 * it at start (from this table only: never from request data). */
#ifndef JF_PATIENT_FIELDS_H
#define JF_PATIENT_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "../domain/date.h"
#include "../http/request.h"
#include "../http/validate.h"

enum jf_pf_type { JF_PF_TEXT, JF_PF_DATE, JF_PF_BOOL, JF_PF_ENUM, JF_PF_PHONE, JF_PF_AREA9 };

typedef struct jf_pfield {
    const char *name;
    enum jf_pf_type type;
    size_t maxc;              /* JF_PF_TEXT: most characters */
    const char *const *codes; /* JF_PF_ENUM: allowed codes */
    const char *def;          /* value on create when absent (NOT NULL columns) */
} jf_pfield;

extern const jf_pfield jf_pfields[];
extern const size_t jf_npfields;

/* Values read from a body, as text for SQL (NULL = SQL NULL). */
typedef struct jf_pvalues {
    const char **val; /* jf_npfields entries */
    bool *present;    /* the field was in the body (null included) */
    jf_date *date;    /* parsed dates (JF_DATE_NONE when absent) */
} jf_pvalues;

/* Give every absent field that has a default its default (on create). */
void jf_pf_defaults(jf_pvalues *v);
/* Index of a field by name, or -1. */
int jf_pf_index(const char *name);
/* Read every field of the table from the body into v (arena memory);
 * each bad one adds an error. Dates must not lie in the future. */
int jf_pf_read(jf_req *req, jf_errors *e, jf_pvalues *v);
/* The value of field name (NULL when absent or null). */
const char *jf_pf_get(const jf_pvalues *v, const char *name);
/* Cross-field rules: onset ≤ diagnosis ≤ today, birth ≤ onset, a consent
 * date only with a consent decision. */
void jf_pf_check_dates(const jf_pvalues *v, jf_date birth, jf_errors *e);

#endif
