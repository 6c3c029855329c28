/* One error convention for the whole service: 0 or a negative jf_err. */
#ifndef JF_ERR_H
#define JF_ERR_H

enum jf_err {
    JF_OK = 0,
    JF_ERR_NOMEM = -1,       /* allocation failed */
    JF_ERR_INVALID = -2,     /* input does not satisfy a rule */
    JF_ERR_TOO_LARGE = -3,   /* a size cap was hit */
    JF_ERR_DB = -4,          /* the database refused or failed */
    JF_ERR_NOT_FOUND = -5,   /* no such thing (or not visible to the caller) */
    JF_ERR_CONFLICT = -6,    /* state does not allow it */
    JF_ERR_UNAVAILABLE = -7, /* a dependency is down or busy */
    JF_ERR_IO = -8,          /* socket or file I/O failed */
    JF_ERR_AUTH = -9,        /* credentials or token not acceptable */
    JF_ERR_CRYPTO = -10,     /* OpenSSL failed */
    JF_ERR_CANCELLED = -11,  /* stopped on request */
};

/* A short English name of an error code, for logs. Never NULL. */
const char *jf_err_str(int rc);

#endif
