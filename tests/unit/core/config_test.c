/* Unit tests for the configuration table (core/config.c) through a table-backed getter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../api/core/config.h"
#include "../../../api/core/err.h"

#define SECRET32 "0123456789abcdef0123456789abcdef"
#define SECRET31 "0123456789abcdef0123456789abcde"
#define HEX64 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX64_UPPER "FFEEDDCCBBAA99887766554433221100FFEEDDCCBBAA99887766554433221100"
#define HEX63 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1"
#define HEX65 HEX64 "0"
#define NOT_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g"

struct kv {
    const char *name, *value;
};

#define MAX_KV 8

/* The variables the getter answers: the base set, then per-case overrides
 * (a NULL value removes a variable). */
static const struct kv base_env[] = {
    {"JF_JWT_SECRET", SECRET32},
    {"JF_ID_ENC_KEY", HEX64},
    {"JF_ID_INDEX_KEY", HEX64_UPPER},
    {"JF_AUDIT_KEY", HEX64},
};
static const struct kv *overrides;

static const char *table_get(const char *name)
{
    for (size_t i = 0; overrides != NULL && i < MAX_KV && overrides[i].name != NULL; i++)
        if (strcmp(overrides[i].name, name) == 0)
            return overrides[i].value;
    for (size_t i = 0; i < sizeof(base_env) / sizeof(base_env[0]); i++)
        if (strcmp(base_env[i].name, name) == 0)
            return base_env[i].value;
    return NULL;
}

static void test_defaults(void **state)
{
    static const unsigned char index_key[32] = {
        0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55,
        0x44, 0x33, 0x22, 0x11, 0x00, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa,
        0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
    };
    jf_config cfg;
    char err[256] = "";

    overrides = NULL;
    assert_int_equal(jf_config_load_from(&cfg, table_get, err, sizeof(err)), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:8080");
    assert_string_equal(cfg.db_url, "dbname=jingfang");
    assert_int_equal(cfg.db_pool_size, 8);
    assert_int_equal(cfg.db_acquire_timeout_ms, 2000);
    assert_int_equal(cfg.threads, 128);
    assert_int_equal(cfg.request_timeout_ms, 5000);
    assert_int_equal(cfg.max_conn_per_ip, 16);
    assert_int_equal(cfg.trusted_nets.n, 2); /* loopback, IPv4 and IPv6 */
    assert_true(jf_netaddr_list_has(&cfg.trusted_nets, "127.0.0.1"));
    assert_true(jf_netaddr_list_has(&cfg.trusted_nets, "::1"));
    assert_int_equal(cfg.body_max_bytes, 1048576);
    assert_int_equal(cfg.batch_max_bytes, 4194304);
    assert_int_equal(cfg.batch_max_lines, 5000);
    assert_string_equal(cfg.jwt_issuer, "jingfang");
    assert_string_equal(cfg.jwt_audience, "jingfang-api");
    assert_int_equal(cfg.access_ttl_s, 900);
    assert_int_equal(cfg.refresh_ttl_s, 1209600);
    assert_int_equal(cfg.pbkdf2_iterations, 210000);
    assert_int_equal(cfg.login_max_failures, 5);
    assert_string_equal(cfg.jwt_secret, SECRET32);
    assert_int_equal(cfg.jwt_secret_len, 32);
    for (int i = 0; i < 32; i++)
        assert_int_equal(cfg.id_enc_key[i], i);
    assert_memory_equal(cfg.id_index_key, index_key, 32);
}

static void test_overrides(void **state)
{
    static const struct kv env[MAX_KV] = {
        {"JF_LISTEN", "0.0.0.0:9000"},
        {"JF_DB_POOL_SIZE", "256"},
        {"JF_PBKDF2_ITERATIONS", "600000"},
        {"JF_JWT_ISSUER", "精防"},
        {"JF_DB_URL", ""}, /* empty means unset: the default applies */
        {"JF_TRUSTED_PROXIES", "none"},
    };
    jf_config cfg;
    char err[256] = "";

    overrides = env;
    assert_int_equal(jf_config_load_from(&cfg, table_get, err, sizeof(err)), 0);
    assert_string_equal(cfg.listen, "0.0.0.0:9000");
    assert_int_equal(cfg.db_pool_size, 256);
    assert_int_equal(cfg.pbkdf2_iterations, 600000);
    assert_string_equal(cfg.jwt_issuer, "精防");
    assert_string_equal(cfg.db_url, "dbname=jingfang");
    assert_int_equal(cfg.trusted_nets.n, 0);
}

/* One variable set (or removed) per row: accepted, or refused with an error
 * that names the variable. */
static void test_rows(void **state)
{
    static char s511[512], s512[513], l127[128], l128[129];
    static const struct {
        const char *name;
        const char *value; /* NULL: unset */
        int ok;
    } rows[] = {
        {"JF_JWT_SECRET", NULL, 0},
        {"JF_JWT_SECRET", "", 0},
        {"JF_JWT_SECRET", SECRET31, 0},
        {"JF_JWT_SECRET", SECRET32, 1},
        {"JF_JWT_SECRET", s511, 1},
        {"JF_JWT_SECRET", s512, 0},
        {"JF_ID_ENC_KEY", NULL, 0},
        {"JF_ID_ENC_KEY", HEX63, 0},
        {"JF_ID_ENC_KEY", HEX65, 0},
        {"JF_ID_ENC_KEY", NOT_HEX, 0},
        {"JF_ID_ENC_KEY", " " HEX63, 0},
        {"JF_ID_ENC_KEY", HEX64_UPPER, 1},
        {"JF_ID_INDEX_KEY", NULL, 0},
        {"JF_ID_INDEX_KEY", "xyz", 0},
        {"JF_AUDIT_KEY", NULL, 0},
        {"JF_AUDIT_KEY", "", 0},
        {"JF_AUDIT_KEY", HEX63, 0},
        {"JF_AUDIT_KEY", HEX64_UPPER, 1},
        {"JF_DB_POOL_SIZE", "0", 0},
        {"JF_DB_POOL_SIZE", "abc", 0},
        {"JF_DB_POOL_SIZE", "9999999999999", 0},
        {"JF_DB_POOL_SIZE", "99999999999999999999999", 0},
        {"JF_DB_POOL_SIZE", "-1", 0},
        {"JF_DB_POOL_SIZE", "8x", 0},
        {"JF_DB_POOL_SIZE", "257", 0},
        {"JF_DB_POOL_SIZE", "1", 1},
        {"JF_PBKDF2_ITERATIONS", "1000", 0},
        {"JF_PBKDF2_ITERATIONS", "209999", 0},
        {"JF_PBKDF2_ITERATIONS", "210000", 1},
        {"JF_PBKDF2_ITERATIONS", "10000001", 0},
        {"JF_BODY_MAX_BYTES", "1023", 0},
        {"JF_BODY_MAX_BYTES", "67108865", 0},
        {"JF_BATCH_MAX_BYTES", "1023", 0},
        {"JF_BATCH_MAX_BYTES", "67108864", 1},
        {"JF_BATCH_MAX_BYTES", "67108865", 0},
        {"JF_BATCH_MAX_LINES", "0", 0},
        {"JF_BATCH_MAX_LINES", "1", 1},
        {"JF_BATCH_MAX_LINES", "100001", 0},
        {"JF_ACCESS_TTL_S", "59", 0},
        {"JF_ACCESS_TTL_S", "3601", 0},
        {"JF_LISTEN", l127, 1},
        {"JF_LISTEN", l128, 0},
        {"JF_MAX_CONN_PER_IP", "0", 1},
        {"JF_MAX_CONN_PER_IP", "-1", 0},
        {"JF_MAX_CONN_PER_IP", "4097", 0},
        {"JF_TRUSTED_PROXIES", "none", 1},
        {"JF_TRUSTED_PROXIES", "10.0.0.0/8, ::1", 1},
        {"JF_TRUSTED_PROXIES", "10.0.0.0/33", 0},
        {"JF_TRUSTED_PROXIES", "nginx", 0},
        {"JF_TRUSTED_PROXIES", "127.0.0.1,", 0},
    };

    memset(s511, 's', 511);
    memset(s512, 's', 512);
    memset(l127, 'l', 127);
    memset(l128, 'l', 128);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct kv env[MAX_KV] = {{rows[i].name, rows[i].value}};
        jf_config cfg;
        char err[256] = "";
        int rc;

        overrides = env;
        rc = jf_config_load_from(&cfg, table_get, err, sizeof(err));
        if (rows[i].ok && rc != 0)
            fail_msg("row %zu (%s): refused: %s", i, rows[i].name, err);
        if (!rows[i].ok && (rc != JF_ERR_INVALID || strstr(err, rows[i].name) == NULL))
            fail_msg("row %zu (%s): got %d \"%s\"", i, rows[i].name, rc, err);
    }
    overrides = NULL;
}

static void test_secret_len(void **state)
{
    static const struct kv env[MAX_KV] = {{"JF_JWT_SECRET", SECRET32 "tail"}};
    jf_config cfg;
    char err[256] = "";

    overrides = env;
    assert_int_equal(jf_config_load_from(&cfg, table_get, err, sizeof(err)), 0);
    assert_int_equal(cfg.jwt_secret_len, 36);
    assert_string_equal(cfg.jwt_secret, SECRET32 "tail");
    overrides = NULL;
}

/* A short err buffer is still NUL-terminated. */
static void test_short_err(void **state)
{
    static const struct kv env[MAX_KV] = {{"JF_JWT_SECRET", NULL}};
    jf_config cfg;
    char err[8];

    memset(err, 'X', sizeof(err));
    overrides = env;
    assert_int_equal(jf_config_load_from(&cfg, table_get, err, sizeof(err)), JF_ERR_INVALID);
    assert_string_equal(err, "JF_JWT_");
    overrides = NULL;
}

/* NAME_FILE: the value read from a file (a container secret), one trailing
 * newline dropped; refused, naming the variable, when the file is missing,
 * too long or holds a NUL, and when NAME is set as well. */
static void test_files(void **state)
{
    static const struct {
        const char *name;    /* the variable given as a file */
        const char *content; /* NULL: no file at that path */
        size_t len;          /* 0: strlen(content) */
        const char *also;  /* set NAME itself as well, or NULL */
        const char *error; /* NULL: accepted; else a part of the error */
    } rows[] = {
        {"JF_JWT_SECRET", SECRET32 "\n", 0, NULL, NULL},
        {"JF_JWT_SECRET", SECRET32 "\r\n", 0, NULL, NULL},
        {"JF_JWT_SECRET", SECRET32, 0, NULL, NULL},
        {"JF_JWT_SECRET", SECRET32 "\n", 0, SECRET32, "JF_JWT_SECRET_FILE"},
        {"JF_JWT_SECRET", NULL, 0, NULL, "JF_JWT_SECRET_FILE"},
        {"JF_JWT_SECRET", "", 0, NULL, "JF_JWT_SECRET is required"},
        {"JF_JWT_SECRET", "\n", 0, NULL, "JF_JWT_SECRET is required"},
        {"JF_JWT_SECRET", SECRET31 "\n", 0, NULL, "JF_JWT_SECRET must be"},
        {"JF_JWT_SECRET", SECRET32 "\0x", 34, NULL, "NUL"},
        {"JF_JWT_SECRET", NULL, 2000, NULL, "too long"},
        {"JF_AUDIT_KEY", HEX64 "\n", 0, NULL, NULL},
        {"JF_DB_URL", "host=db user=jingfang_app password=s3cret\n", 0, NULL, NULL},
    };
    static char big[2000];

    memset(big, 'b', sizeof(big));
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char path[] = "/tmp/jf-config-test-XXXXXX", fname[64], err[256] = "";
        int fd = mkstemp(path);
        jf_config cfg;
        int rc;

        assert_true(fd >= 0);
        if (rows[i].content != NULL || rows[i].len > 0) {
            const char *c = rows[i].content ? rows[i].content : big;
            size_t n = rows[i].len ? rows[i].len : strlen(c);
            assert_int_equal(write(fd, c, n), (ssize_t)n);
        } else {
            unlink(path);
        }
        close(fd);
        snprintf(fname, sizeof(fname), "%s_FILE", rows[i].name);
        struct kv env[MAX_KV] = {{fname, path}, {rows[i].name, rows[i].also}};
        overrides = env;
        rc = jf_config_load_from(&cfg, table_get, err, sizeof(err));
        unlink(path);
        if (rows[i].error == NULL && rc != 0)
            fail_msg("row %zu (%s): refused: %s", i, fname, err);
        if (rows[i].error != NULL && (rc != JF_ERR_INVALID || strstr(err, rows[i].error) == NULL))
            fail_msg("row %zu (%s): got %d \"%s\"", i, fname, rc, err);
        if (rows[i].error == NULL && strcmp(rows[i].name, "JF_JWT_SECRET") == 0) {
            assert_string_equal(cfg.jwt_secret, SECRET32);
            assert_int_equal(cfg.jwt_secret_len, 32);
        }
        if (rows[i].error == NULL && strcmp(rows[i].name, "JF_AUDIT_KEY") == 0)
            for (int k = 0; k < 32; k++)
                assert_int_equal(cfg.audit_key[k], k);
        if (rows[i].error == NULL && strcmp(rows[i].name, "JF_DB_URL") == 0)
            assert_string_equal(cfg.db_url, "host=db user=jingfang_app password=s3cret");
    }
    overrides = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),  cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_rows),      cmocka_unit_test(test_secret_len),
        cmocka_unit_test(test_short_err), cmocka_unit_test(test_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
