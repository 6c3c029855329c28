/* Service configuration: one table of rows (name, type, default, bounds,
 * environment variable, field), read and validated once at start. */
#ifndef JF_CONFIG_H
#define JF_CONFIG_H

#include <stddef.h>

#include "netaddr.h"

typedef struct jf_config {
    char listen[128];             /* JF_LISTEN: host:port civetweb binds */
    char db_url[512];             /* JF_DB_URL: libpq conninfo */
    long db_pool_size;            /* JF_DB_POOL_SIZE */
    char db_read_url[512];        /* JF_DB_READ_URL: a hot standby's conninfo, or "" */
    long db_read_pool_size;       /* JF_DB_READ_POOL_SIZE */
    long db_read_max_lag_ms;      /* JF_DB_READ_MAX_LAG_MS: a standby further behind is skipped */
    long db_pipelines;            /* JF_DB_PIPELINES: lanes of batched reads */
    long audit_flush_ms;          /* JF_AUDIT_FLUSH_MS */
    long db_acquire_timeout_ms;   /* JF_DB_ACQUIRE_TIMEOUT_MS: then 503 */
    long threads;                 /* JF_THREADS: civetweb worker threads */
    long keepalive_ms;            /* JF_KEEPALIVE_MS */
    long request_timeout_ms;      /* JF_REQUEST_TIMEOUT_MS: headers must arrive within it */
    long max_conn_per_ip;         /* JF_MAX_CONN_PER_IP: 0 = no cap */
    char trusted_proxies[256];    /* JF_TRUSTED_PROXIES: as written */
    jf_netaddr_list trusted_nets; /* ... parsed */
    long body_max_bytes;          /* JF_BODY_MAX_BYTES: 413 past it */
    long batch_max_bytes;         /* JF_BATCH_MAX_BYTES: an NDJSON batch; 413 past it */
    long batch_max_lines;         /* JF_BATCH_MAX_LINES: lines of a batch; 413 past it */
    long upload_max_bytes; /* JF_UPLOAD_MAX_BYTES: a 三网 list upload, streamed; 413 past it */
    char jwt_secret[512];  /* JF_JWT_SECRET: HS256 key, ≥ 32 bytes */
    size_t jwt_secret_len;
    char jwt_issuer[64];       /* JF_JWT_ISSUER */
    char jwt_audience[64];     /* JF_JWT_AUDIENCE */
    long access_ttl_s;         /* JF_ACCESS_TTL_S */
    long refresh_ttl_s;        /* JF_REFRESH_TTL_S */
    long pbkdf2_iterations;    /* JF_PBKDF2_ITERATIONS */
    long login_max_failures;   /* JF_LOGIN_MAX_FAILURES: one account from one address */
    long login_addr_max;       /* JF_LOGIN_ADDR_MAX_FAILURES: every account from one address */
    long login_account_max;    /* JF_LOGIN_ACCOUNT_MAX_FAILURES: one account from anywhere */
    long test_clock;           /* JF_TEST_CLOCK: 1 lets X-Test-Date set "today" (tests only) */
    long worker_interval_ms;   /* JF_WORKER_INTERVAL_MS: jingfang-worker's pause between passes */
    long webhook_max_attempts; /* JF_WEBHOOK_MAX_ATTEMPTS: then a delivery is dead */
    long webhook_timeout_ms;   /* JF_WEBHOOK_TIMEOUT_MS: one webhook POST, all included */
    long stats_refresh_s;      /* JF_STATS_REFRESH_S: jingfang-worker's pass over the rollups */
    long reconcile_runner;     /* JF_RECONCILE_RUNNER: the API runs 三网 jobs too */
    long reconcile_wait_ms;    /* JF_RECONCILE_WAIT_MS: POST …/analyse waits this long */
    char web_dir[256];         /* JF_WEB_DIR: the built web client (files.txt lists its files) */
    char mobile_dir[256];      /* JF_MOBILE_DIR: the built grid-worker app, served at /m/ */
    unsigned char id_enc_key[32];   /* JF_ID_ENC_KEY: AES-256-GCM, 64 hex */
    unsigned char id_index_key[32]; /* JF_ID_INDEX_KEY: HMAC blind index, 64 hex */
    unsigned char audit_key[32];    /* JF_AUDIT_KEY: HMAC chain of the audit log, 64 hex */
} jf_config;

/* Fill cfg from the environment (getenv) and validate every row. Every
 * variable NAME may instead be given as NAME_FILE, the path of a file that
 * holds the value (a container secret; one trailing newline is dropped).
 * On error writes a one-line reason into err and returns JF_ERR_INVALID. */
int jf_config_load(jf_config *cfg, char *err, size_t errlen);
/* Same, but looking values up through get(name) — for tests. */
int jf_config_load_from(jf_config *cfg, const char *(*get)(const char *name), char *err,
                        size_t errlen);
/* One variable outside the table (tools): NAME or the file NAME_FILE, as
 * jf_config_load reads them, into out ("" when neither is set). */
int jf_config_env(const char *name, char *out, size_t size, char *err, size_t errlen);
/* Log the effective values once, secrets redacted. */
void jf_config_log(const jf_config *cfg);

#endif
