/* Record kinds as tables: the body reader and the INSERT they generate. */
#include "kind.h"
#include "../core/buf.h"
#include "../core/err.h"

#include <stdio.h>
#include <string.h>

void jf_kind_read(jf_req *req, jf_errors *e, const jf_kind *k, const char **vals)
{
    for (size_t i = 0; i < k->n; i++) {
        const jf_kfield *f = &k->fields[i];
        bool required = f->flags & JF_KF_REQUIRED, b;
        long long n;

        if (f->key == NULL || f->type == JF_K_SET || f->type == JF_K_OUT)
            continue;
        vals[i] = NULL;
        switch (f->type) {
        case JF_K_DATE:
            vals[i] = jf_body_date(req, e, f->key, required);
            break;
        case JF_K_CODE:
            vals[i] = jf_body_code(req, e, f->key, required, f->codes);
            break;
        case JF_K_CODES:
            vals[i] = jf_body_codes(req, e, f->key, f->codes, (size_t)f->max);
            break;
        case JF_K_BOOL:
            if (jf_body_bool(req, e, f->key, required, &b) == 1)
                vals[i] = b ? "true" : "false";
            break;
        case JF_K_INT:
            if (jf_body_int(req, e, f->key, required, f->min, f->max, &n) == 1)
                vals[i] = jf_arena_printf(&req->arena, "%lld", n);
            break;
        case JF_K_TEXT:
            vals[i] = jf_body_str(req, e, f->key, required, (size_t)f->min, (size_t)f->max);
            break;
        case JF_K_SET:
        case JF_K_OUT:
            break;
        }
    }
}

int jf_kind_index(const jf_kind *k, const char *column)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->fields[i].column != NULL && strcmp(k->fields[i].column, column) == 0)
            return (int)i;
    return -1;
}

/* Copy b into out (cap bytes) and free it; JF_ERR_TOO_LARGE when it does
 * not fit or rc already failed. */
static int finish(jf_buf *b, int rc, char *out, size_t cap)
{
    if (rc == 0 && b->len < cap)
        memcpy(out, b->data, b->len + 1);
    else
        rc = JF_ERR_TOO_LARGE;
    jf_buf_free(b);
    return rc;
}

int jf_kind_insert_sql(const jf_kind *k, const char *json, char *out, size_t cap)
{
    jf_buf b;
    size_t n = 0;
    int rc;

    jf_buf_init(&b, cap);
    rc = jf_buf_printf(&b, "INSERT INTO %s AS %s (", k->table, k->alias);
    for (size_t i = 0; rc == 0 && i < k->n; i++)
        if (k->fields[i].type != JF_K_OUT)
            rc = jf_buf_printf(&b, "%s%s", n++ ? ", " : "", k->fields[i].column);
    rc = rc ? rc : jf_buf_puts(&b, ") VALUES (");
    n = 0;
    for (size_t i = 0; rc == 0 && i < k->n; i++) {
        const jf_kfield *f = &k->fields[i];
        char p[64];

        if (f->type == JF_K_OUT)
            continue;
        snprintf(p, sizeof(p), "$%zu%s%s", n + 1, f->cast ? "::" : "", f->cast ? f->cast : "");
        rc = f->dflt ? jf_buf_printf(&b, "%scoalesce(%s, %s)", n ? ", " : "", p, f->dflt)
                     : jf_buf_printf(&b, "%s%s", n ? ", " : "", p);
        n++;
    }
    rc = rc ? rc
            : jf_buf_printf(&b, ") RETURNING %s.id%s%s%s", k->alias, json ? ", " : "",
                            json ? json : "", json ? "::text" : "");
    return finish(&b, rc, out, cap);
}

int jf_kind_params(const jf_kind *k, const char *const *vals, const char **params)
{
    int n = 0;

    for (size_t i = 0; i < k->n; i++)
        if (k->fields[i].type != JF_K_OUT)
            params[n++] = vals[i];
    return n;
}

int jf_kind_json_sql(const jf_kind *k, char *out, size_t cap)
{
    jf_buf b;
    size_t n = 0;
    int rc;

    jf_buf_init(&b, cap);
    rc = jf_buf_puts(&b, "json_build_object(");
    for (size_t i = 0; rc == 0 && i < k->n; i++) {
        const jf_kfield *f = &k->fields[i];

        if (f->flags & JF_KF_NO_JSON)
            continue;
        rc = f->json ? jf_buf_printf(&b, "%s'%s', %s", n ? ", " : "", f->key ? f->key : f->column,
                                     f->json)
                     : jf_buf_printf(&b, "%s'%s', %s.%s", n ? ", " : "",
                                     f->key ? f->key : f->column, k->alias, f->column);
        n++;
    }
    rc = rc ? rc : jf_buf_puts(&b, ")");
    return finish(&b, rc, out, cap);
}
