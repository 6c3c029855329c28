/* Names of jf_err codes for logs. */
#include "err.h"

const char *jf_err_str(int rc)
{
    switch (rc) {
    case JF_OK:
        return "ok";
    case JF_ERR_NOMEM:
        return "out of memory";
    case JF_ERR_INVALID:
        return "invalid";
    case JF_ERR_TOO_LARGE:
        return "too large";
    case JF_ERR_DB:
        return "database error";
    case JF_ERR_NOT_FOUND:
        return "not found";
    case JF_ERR_CONFLICT:
        return "conflict";
    case JF_ERR_UNAVAILABLE:
        return "unavailable";
    case JF_ERR_IO:
        return "i/o error";
    case JF_ERR_AUTH:
        return "not authenticated";
    case JF_ERR_CRYPTO:
        return "crypto error";
    case JF_ERR_CANCELLED:
        return "cancelled";
    }
    return "unknown error";
}
