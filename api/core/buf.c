/* Capped growable buffer. */
#include "buf.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jf_buf_init(jf_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

static int buf_reserve(jf_buf *b, size_t extra)
{
    size_t need, na;
    char *p;

    if (extra > b->cap || b->len > b->cap - extra)
        return JF_ERR_TOO_LARGE;
    need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    na = b->alloc ? b->alloc : 256;
    while (na < need)
        na *= 2;
    if (na > b->cap + 1)
        na = b->cap + 1;
    p = realloc(b->data, na);
    if (p == NULL)
        return JF_ERR_NOMEM;
    b->data = p;
    b->alloc = na;
    return 0;
}

int jf_buf_append(jf_buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);

    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int jf_buf_puts(jf_buf *b, const char *s)
{
    return jf_buf_append(b, s, strlen(s));
}

int jf_buf_printf(jf_buf *b, const char *fmt, ...)
{
    size_t room = b->alloc > b->len ? b->alloc - b->len : 0;
    va_list ap;
    int n, rc;

    /* Format straight into the room already there; only when it does not
     * fit, grow and format again. */
    va_start(ap, fmt);
    n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return JF_ERR_INVALID;
    if ((size_t)n >= room) {
        if (b->data != NULL)
            b->data[b->len] = '\0'; /* undo a partial write */
        rc = buf_reserve(b, (size_t)n);
        if (rc != 0)
            return rc;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    } /* else it fitted, and the allocation never passes the cap */
    b->len += (size_t)n;
    return 0;
}

int jf_buf_json_str(jf_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p, *run;
    int rc;

    if (s == NULL)
        return jf_buf_append(b, "null", 4);
    rc = jf_buf_append(b, "\"", 1);
    for (p = run = (const unsigned char *)s; rc == 0; p++) {
        char esc[6] = {'\\', 'u', '0', '0', 0, 0};
        const char *rep = esc;
        size_t rlen = 2;

        if (*p >= 0x20 && *p != '"' && *p != '\\')
            continue; /* part of a run copied whole */
        if (p > run)
            rc = jf_buf_append(b, run, (size_t)(p - run));
        if (rc != 0 || *p == '\0')
            break;
        run = p + 1;
        switch (*p) {
        case '"':
            rep = "\\\"";
            break;
        case '\\':
            rep = "\\\\";
            break;
        case '\n':
            rep = "\\n";
            break;
        case '\r':
            rep = "\\r";
            break;
        case '\t':
            rep = "\\t";
            break;
        default:
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            rlen = 6;
        }
        rc = jf_buf_append(b, rep, rlen);
    }
    if (rc == 0)
        rc = jf_buf_append(b, "\"", 1);
    return rc;
}

void jf_buf_reset(jf_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void jf_buf_free(jf_buf *b)
{
    free(b->data);
    jf_buf_init(b, b->cap);
}
