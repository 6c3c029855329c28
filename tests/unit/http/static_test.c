/* Unit tests for the in-memory web client (http/static.c): which names a
 * manifest may list, content types, and which file a path answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../../../api/core/err.h"
#include "../../../api/http/static.h"

static void test_name_ok(void **state)
{
    static const struct {
        const char *name;
        bool ok;
    } rows[] = {
        {"index.html", true},
        {"assets/index-3fA_b.js", true},
        {"favicon.svg", true},
        {"a/b/c.css", true},
        {"", false},
        {"/etc/passwd", false},
        {"../secret", false},
        {"assets/../index.html", false},
        {"assets//x.js", false},
        {"assets/", false},
        {".env", false},
        {"assets/.hidden", false},
        {"a b.js", false},
        {"a\\b.js", false},
        {"a%2e.js", false},
        {"x.js\r", false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (jf_static_name_ok(rows[i].name) != rows[i].ok)
            fail_msg("row %zu: %s", i, rows[i].name);
    }
    char longname[JF_STATIC_NAME_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_false(jf_static_name_ok(longname));
}

static void test_ctype(void **state)
{
    static const struct {
        const char *name, *ctype;
    } rows[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"assets/a.js", "text/javascript; charset=utf-8"},
        {"assets/a.css", "text/css; charset=utf-8"},
        {"favicon.svg", "image/svg+xml"},
        {"x.woff2", "font/woff2"},
        {"noext", "application/octet-stream"},
        {"x.js.gz", "application/octet-stream"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_string_equal(jf_static_ctype(rows[i].name), rows[i].ctype);
}

static char dir[64];

static void put(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    char path[128];

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/jf-static-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/assets", dir);
    mkdir(path, 0700);
    put("index.html", "<!doctype html>");
    put("index.html.gz", "GZ");
    put("assets/app-1.js", "js");
    put("secret.txt", "not listed");
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    jf_static_free();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_find(void **state)
{
    static const struct {
        const char *path, *file; /* NULL: not served */
    } rows[] = {
        {"/", "index.html"},
        {"/index.html", "index.html"},
        {"/assets/app-1.js", "assets/app-1.js"},
        {"/patients/12", "index.html"},
        {"/assets/app-0.js", NULL},
        {"/api/v1/nothing", NULL},
        {"/api", NULL},
        {"/secret.txt", "index.html"},
        {"/../secret.txt", "index.html"},
        {"relative", NULL},
    };
    const jf_static_file *f;

    (void)state;
    assert_null(jf_static_find("/"));
    put("files.txt", "index.html\nindex.html.gz\nassets/app-1.js\n");
    assert_int_equal(jf_static_load(JF_STATIC_WEB, dir), 0);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        f = jf_static_find(rows[i].path);
        if (rows[i].file == NULL ? f != NULL : f == NULL || strcmp(f->name, rows[i].file) != 0)
            fail_msg("row %zu: %s", i, rows[i].path);
    }
    f = jf_static_find("/");
    assert_string_equal(f->data, "<!doctype html>");
    assert_int_equal(f->gz_len, 2);
    assert_string_equal(f->cache, "no-cache");
    assert_string_equal(jf_static_find("/assets/app-1.js")->cache,
                        "public, max-age=31536000, immutable");
    assert_null(jf_static_find("/assets/app-1.js")->gz);
    /* The app's paths are its own: nothing of the web client under /m/. */
    assert_null(jf_static_find("/m/"));
    assert_null(jf_static_find("/m"));
    assert_int_equal(jf_static_load(JF_STATIC_MOBILE, dir), 0);
    {
        static const struct {
            const char *path, *file;
        } m[] = {
            {"/m/", "index.html"},          {"/m", "index.html"},
            {"/m/today", "index.html"},     {"/m/assets/app-1.js", "assets/app-1.js"},
            {"/m/assets/app-0.js", NULL},   {"/mx", "index.html"},
        };
        for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
            f = jf_static_find(m[i].path);
            if (m[i].file == NULL ? f != NULL : f == NULL || strcmp(f->name, m[i].file) != 0)
                fail_msg("app row %zu: %s", i, m[i].path);
        }
    }
}

static void test_load_refuses(void **state)
{
    static const char *manifests[] = {
        "index.html\n../etc/passwd\n", /* a name outside the directory */
        "index.html\nmissing.js\n",    /* a listed file that is not there */
        "assets/app-1.js\n",           /* no index.html */
        "index.html\nassets\n",        /* a directory */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(manifests) / sizeof(manifests[0]); i++) {
        put("files.txt", manifests[i]);
        if (jf_static_load(JF_STATIC_WEB, dir) == 0)
            fail_msg("manifest %zu loaded", i);
        assert_null(jf_static_find("/"));
    }
    assert_int_equal(jf_static_load(JF_STATIC_WEB, ""), 0);
    assert_null(jf_static_find("/"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_ok),
        cmocka_unit_test(test_ctype),
        cmocka_unit_test_setup_teardown(test_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
