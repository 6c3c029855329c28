/* Configuration table: every setting is one row here, nowhere else. */
#include "config.h"
#include "crypto.h"
#include "buf.h"
#include "err.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cfg_type { CFG_STR, CFG_INT, CFG_SECRET, CFG_HEXKEY32, CFG_NETS };

struct cfg_row {
    const char *env;
    enum cfg_type type;
    const char *def; /* NULL: required */
    long min, max;   /* CFG_INT bounds; CFG_STR/CFG_SECRET length bounds */
    size_t off;      /* offset of the field in jf_config */
    size_t size;     /* size of the field (strings) */
    const char *doc;
};

#define F(field) offsetof(jf_config, field), sizeof(((jf_config *)0)->field)

static const struct cfg_row cfg_rows[] = {
    {"JF_LISTEN", CFG_STR, "127.0.0.1:8080", 1, 127, F(listen), "address:port to listen on"},
    {"JF_DB_URL", CFG_STR, "dbname=jingfang", 1, 511, F(db_url), "libpq connection string"},
    {"JF_DB_POOL_SIZE", CFG_INT, "8", 1, 256, F(db_pool_size), "database connections"},
    {"JF_DB_READ_URL", CFG_STR, "", 0, 511, F(db_read_url),
     "a hot standby's libpq connection string: list pages, worklists, statistics, exports and"
     " the change feed read there; empty: everything on JF_DB_URL"},
    {"JF_DB_READ_POOL_SIZE", CFG_INT, "8", 1, 256, F(db_read_pool_size),
     "connections to the standby"},
    {"JF_DB_READ_MAX_LAG_MS", CFG_INT, "1000", 0, 600000, F(db_read_max_lag_ms),
     "a standby further behind (or not streaming) is skipped until it catches up"},
    {"JF_DB_PIPELINES", CFG_INT, "1", 0, 16, F(db_pipelines),
     "connections carrying batched reads in pipeline mode; 0: reads borrow from the pool"},
    {"JF_DB_ACQUIRE_TIMEOUT_MS", CFG_INT, "2000", 10, 60000, F(db_acquire_timeout_ms),
     "wait for a free connection before 503"},
    {"JF_AUDIT_FLUSH_MS", CFG_INT, "2000", 0, 60000, F(audit_flush_ms),
     "reads share group commits of their records and wait this long for theirs (then 503);"
     " 0: each read inserts its own"},
    {"JF_THREADS", CFG_INT, "128", 4, 4096, F(threads), "HTTP worker threads"},
    {"JF_KEEPALIVE_MS", CFG_INT, "10000", 0, 600000, F(keepalive_ms), "keep-alive timeout"},
    {"JF_REQUEST_TIMEOUT_MS", CFG_INT, "5000", 100, 600000, F(request_timeout_ms),
     "a request's headers must arrive within it; also bounds each socket read and write"},
    {"JF_MAX_CONN_PER_IP", CFG_INT, "16", 0, 4096, F(max_conn_per_ip),
     "open connections one client address may hold (trusted proxies excepted); 0: no cap"},
    {"JF_TRUSTED_PROXIES", CFG_NETS, "127.0.0.1, ::1", 0, 255, F(trusted_proxies),
     "proxies (addresses or address/prefix, comma-separated) whose X-Forwarded-For is "
     "believed; none: no proxy"},
    {"JF_BODY_MAX_BYTES", CFG_INT, "1048576", 1024, 64L * 1024 * 1024, F(body_max_bytes),
     "largest request body accepted"},
    {"JF_BATCH_MAX_BYTES", CFG_INT, "4194304", 1024, 64L * 1024 * 1024, F(batch_max_bytes),
     "largest NDJSON batch body accepted (integrations)"},
    {"JF_BATCH_MAX_LINES", CFG_INT, "5000", 1, 100000, F(batch_max_lines),
     "most lines of an NDJSON batch (integrations)"},
    {"JF_UPLOAD_MAX_BYTES", CFG_INT, "268435456", 1024, 4L * 1024 * 1024 * 1024,
     F(upload_max_bytes), "largest 三网 list upload (streamed, never held whole)"},
    {"JF_JWT_SECRET", CFG_SECRET, NULL, 32, 511, F(jwt_secret), "HS256 secret, >= 32 bytes"},
    {"JF_JWT_ISSUER", CFG_STR, "jingfang", 1, 63, F(jwt_issuer), "token issuer (iss)"},
    {"JF_JWT_AUDIENCE", CFG_STR, "jingfang-api", 1, 63, F(jwt_audience), "token audience (aud)"},
    {"JF_ACCESS_TTL_S", CFG_INT, "900", 60, 3600, F(access_ttl_s), "access token lifetime"},
    {"JF_REFRESH_TTL_S", CFG_INT, "1209600", 600, 90L * 86400, F(refresh_ttl_s),
     "refresh token lifetime"},
    {"JF_PBKDF2_ITERATIONS", CFG_INT, "210000", 210000, 10000000, F(pbkdf2_iterations),
     "PBKDF2-HMAC-SHA256 iterations for new password hashes"},
    {"JF_LOGIN_MAX_FAILURES", CFG_INT, "5", 1, 100, F(login_max_failures),
     "login attempts on one account from one address before back-off starts"},
    {"JF_LOGIN_ADDR_MAX_FAILURES", CFG_INT, "30", 1, 100000, F(login_addr_max),
     "login attempts from one address (any account) before back-off starts"},
    {"JF_LOGIN_ACCOUNT_MAX_FAILURES", CFG_INT, "50", 1, 100000, F(login_account_max),
     "login attempts on one account (any address) before back-off starts"},
    {"JF_TEST_CLOCK", CFG_INT, "0", 0, 1, F(test_clock),
     "1: honour X-Test-Date (tests only; never in production)"},
    {"JF_WORKER_INTERVAL_MS", CFG_INT, "2000", 100, 3600000, F(worker_interval_ms),
     "jingfang-worker: pause between passes"},
    {"JF_WEBHOOK_MAX_ATTEMPTS", CFG_INT, "8", 1, 50, F(webhook_max_attempts),
     "webhook attempts before a delivery is dead"},
    {"JF_WEBHOOK_TIMEOUT_MS", CFG_INT, "5000", 100, 60000, F(webhook_timeout_ms),
     "timeout of one webhook POST"},
    {"JF_STATS_REFRESH_S", CFG_INT, "60", 0, 86400, F(stats_refresh_s),
     "seconds between passes over the statistics rollups (0: never)"},
    {"JF_RECONCILE_RUNNER", CFG_INT, "1", 0, 1, F(reconcile_runner),
     "1: the API runs queued 三网 analyses itself too (a thread, two connections)"},
    {"JF_RECONCILE_WAIT_MS", CFG_INT, "3000", 0, 30000, F(reconcile_wait_ms),
     "how long POST …/analyse waits for its job before answering 202"},
    {"JF_WEB_DIR", CFG_STR, "", 0, 255, F(web_dir),
     "built web client served at / (its files.txt lists the files); empty: none"},
    {"JF_MOBILE_DIR", CFG_STR, "", 0, 255, F(mobile_dir),
     "built grid-worker app served at /m/ (its files.txt lists the files); empty: none"},
    {"JF_ID_ENC_KEY", CFG_HEXKEY32, NULL, 0, 0, F(id_enc_key), "AES-256-GCM key, 64 hex digits"},
    {"JF_ID_INDEX_KEY", CFG_HEXKEY32, NULL, 0, 0, F(id_index_key), "HMAC key, 64 hex digits"},
    {"JF_AUDIT_KEY", CFG_HEXKEY32, NULL, 0, 0, F(audit_key),
     "HMAC key chaining the audit rows, 64 hex digits"},
};

#undef F

static int cfg_apply(jf_config *cfg, const struct cfg_row *r, const char *v, char *err,
                     size_t errlen)
{
    char *field = (char *)cfg + r->off;
    size_t len = strlen(v);

    switch (r->type) {
    case CFG_STR:
    case CFG_SECRET:
    case CFG_NETS:
        if ((long)len < r->min || (long)len > r->max || len >= r->size) {
            snprintf(err, errlen, "%s must be %ld to %ld bytes long", r->env, r->min, r->max);
            return JF_ERR_INVALID;
        }
        memcpy(field, v, len + 1);
        if (r->type == CFG_SECRET)
            cfg->jwt_secret_len = len;
        /* An empty variable means the default, so "none" spells no proxy. */
        if (r->type == CFG_NETS && strcmp(v, "none") != 0 &&
            jf_netaddr_list_parse(v, &cfg->trusted_nets) != 0) {
            snprintf(err, errlen,
                     "%s must be a comma-separated list of at most %d IP addresses or "
                     "address/prefix networks",
                     r->env, JF_NETADDR_MAX_NETS);
            return JF_ERR_INVALID;
        }
        return 0;
    case CFG_INT: {
        char *end = NULL;
        long n;
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || n < r->min || n > r->max) {
            snprintf(err, errlen, "%s must be a whole number from %ld to %ld", r->env, r->min,
                     r->max);
            return JF_ERR_INVALID;
        }
        *(long *)(void *)field = n;
        return 0;
    }
    case CFG_HEXKEY32: {
        if (len == 64 && jf_crypto_unhex(v, (unsigned char *)field, 32) == 0)
            return 0;
        snprintf(err, errlen, "%s must be 64 hex digits (32 bytes)", r->env);
        return JF_ERR_INVALID;
    }
    }
    return JF_ERR_INVALID;
}

/* Larger than any value of the table: a longer file is refused, not cut. */
#define CFG_FILE_MAX 1024

/* The value of NAME, or else the contents of the file NAME_FILE names
 * (without one trailing newline), into out; "" when neither is set. */
static int cfg_value(const char *(*get)(const char *name), const char *name, char *out, size_t size,
                     char *err, size_t errlen)
{
    char fname[96];
    const char *v = get(name), *path;
    FILE *f;
    size_t n;

    snprintf(fname, sizeof(fname), "%s_FILE", name);
    path = get(fname);
    if (v != NULL && *v != '\0' && path != NULL && *path != '\0') {
        snprintf(err, errlen, "set %s or %s, not both", name, fname);
        return JF_ERR_INVALID;
    }
    if (path == NULL || *path == '\0') {
        snprintf(out, size, "%s", v ? v : "");
        if (strlen(v ? v : "") >= size) {
            snprintf(err, errlen, "%s is too long", name);
            return JF_ERR_INVALID;
        }
        return 0;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot read %s: %s", fname, path, strerror(errno));
        return JF_ERR_INVALID;
    }
    n = fread(out, 1, size, f);
    fclose(f);
    if (n == size) {
        snprintf(err, errlen, "%s: %s is too long", fname, path);
        return JF_ERR_INVALID;
    }
    out[n] = '\0';
    if (n > 0 && out[n - 1] == '\n')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '\r')
        out[--n] = '\0';
    if (strlen(out) != n) {
        snprintf(err, errlen, "%s: %s holds a NUL byte", fname, path);
        return JF_ERR_INVALID;
    }
    return 0;
}

int jf_config_load_from(jf_config *cfg, const char *(*get)(const char *name), char *err,
                        size_t errlen)
{
    char *v = malloc(CFG_FILE_MAX);
    int rc = v ? 0 : JF_ERR_NOMEM;

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; rc == 0 && i < sizeof(cfg_rows) / sizeof(cfg_rows[0]); i++) {
        const struct cfg_row *r = &cfg_rows[i];

        rc = cfg_value(get, r->env, v, CFG_FILE_MAX, err, errlen);
        if (rc != 0)
            break;
        if (*v == '\0' && r->def == NULL) {
            snprintf(err, errlen, "%s is required (%s)", r->env, r->doc);
            rc = JF_ERR_INVALID;
            break;
        }
        rc = cfg_apply(cfg, r, *v ? v : r->def, err, errlen);
    }
    if (v != NULL)
        explicit_bzero(v, CFG_FILE_MAX); /* it may have held a secret */
    free(v);
    return rc;
}

static const char *env_get(const char *name)
{
    return getenv(name);
}

int jf_config_load(jf_config *cfg, char *err, size_t errlen)
{
    return jf_config_load_from(cfg, env_get, err, errlen);
}

int jf_config_env(const char *name, char *out, size_t size, char *err, size_t errlen)
{
    return cfg_value(env_get, name, out, size, err, errlen);
}

void jf_config_log(const jf_config *cfg)
{
    jf_buf b;
    char ts[40];
    int rc;

    jf_log_timestamp(ts, sizeof(ts));
    jf_buf_init(&b, 8192);
    rc = jf_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"info\",\"event\":\"config\",\"values\":{",
                       ts);
    for (size_t i = 0; rc == 0 && i < sizeof(cfg_rows) / sizeof(cfg_rows[0]); i++) {
        const struct cfg_row *r = &cfg_rows[i];
        const char *field = (const char *)cfg + r->off;

        rc = jf_buf_printf(&b, "%s\"%s\":", i ? "," : "", r->env);
        if (rc != 0)
            break;
        switch (r->type) {
        case CFG_NETS:
        case CFG_STR:
            /* A libpq URL may carry a password: log only what precedes it. */
            if (strcmp(r->env, "JF_DB_URL") == 0 &&
                (strstr(field, "password") != NULL || strchr(field, '@') != NULL))
                rc = jf_buf_puts(&b, "\"(redacted: contains a password)\"");
            else
                rc = jf_buf_json_str(&b, field);
            break;
        case CFG_INT:
            rc = jf_buf_printf(&b, "%ld", *(const long *)(const void *)field);
            break;
        case CFG_SECRET:
        case CFG_HEXKEY32:
            rc = jf_buf_puts(&b, "\"(redacted)\"");
            break;
        }
    }
    if (rc == 0 && jf_buf_puts(&b, "}}") == 0)
        jf_log_line(b.data, b.len);
    jf_buf_free(&b);
}
