/* A growable byte buffer with a hard cap, in the manner of curl's dynbuf:
 * growing past the cap is an error (JF_ERR_TOO_LARGE), never a realloc storm. */
#ifndef JF_BUF_H
#define JF_BUF_H

#include <stddef.h>

typedef struct jf_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t alloc;
    size_t cap; /* the most bytes (excluding the NUL) it may ever hold */
} jf_buf;

/* Prepare an empty buffer that may hold at most cap bytes. Allocates nothing. */
void jf_buf_init(jf_buf *b, size_t cap);
/* Append n bytes. Returns 0, JF_ERR_TOO_LARGE past the cap, or JF_ERR_NOMEM. */
int jf_buf_append(jf_buf *b, const void *p, size_t n);
/* Append a NUL-terminated string. */
int jf_buf_puts(jf_buf *b, const char *s);
/* Append printf-formatted text. */
int jf_buf_printf(jf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included. s may be NULL (→ null). */
int jf_buf_json_str(jf_buf *b, const char *s);
/* Forget the content but keep the memory. */
void jf_buf_reset(jf_buf *b);
/* Free the memory; the buffer may be reused after jf_buf_init. */
void jf_buf_free(jf_buf *b);

#endif
