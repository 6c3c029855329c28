/* An in-memory civetweb connection for the fuzz targets (mg_stub.c). */
#ifndef JF_FUZZ_MG_STUB_H
#define JF_FUZZ_MG_STUB_H

#include <civetweb.h>
#include <stddef.h>
#include <strings.h>

#include "../../api/core/buf.h"

struct mg_connection {
    const char *content_type;
    const unsigned char *in; /* the request body */
    size_t in_len, in_off;
    jf_buf out; /* what the server wrote */
};

#endif
