/* The civetweb calls the request and response code makes, over an
 * in-memory connection, so that fuzz_body drives the server's own
 * request.c / response.c / validate.c with bytes instead of a socket. */
#include "mg_stub.h"

#include <stdio.h>
#include <string.h>

const char *mg_get_header(const struct mg_connection *conn, const char *name)
{
    return strcasecmp(name, "Content-Type") == 0 ? conn->content_type : NULL;
}

int mg_read(struct mg_connection *conn, void *buf, size_t len)
{
    size_t n = conn->in_len - conn->in_off;

    /* Short reads of varying size, as a socket gives. */
    if (n > len)
        n = len;
    if (n > 1 + conn->in_off % 997)
        n = 1 + conn->in_off % 997;
    memcpy(buf, conn->in + conn->in_off, n);
    conn->in_off += n;
    return (int)n;
}

int mg_write(struct mg_connection *conn, const void *buf, size_t len)
{
    return jf_buf_append(&conn->out, buf, len) == 0 ? (int)len : -1;
}

int mg_send_chunk(struct mg_connection *conn, const char *chunk, unsigned int chunk_len)
{
    char head[16];
    int n = snprintf(head, sizeof(head), "%x\r\n", chunk_len);

    if (mg_write(conn, head, (size_t)n) < 0 || mg_write(conn, chunk, chunk_len) < 0 ||
        mg_write(conn, "\r\n", 2) < 0)
        return -1;
    return (int)chunk_len;
}
