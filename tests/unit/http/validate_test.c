/* Unit tests for body and query validation (http/validate.c) and the errors collected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../../api/http/validate.h"

/* The request and errors under test; teardown frees them, so a failed
 * assertion leaks nothing. */
static jf_req req;
static jf_errors e;

static int teardown(void **state)
{
    jf_errors_free(&e);
    json_decref(req.body);
    memset(&req, 0, sizeof(req));
    return 0;
}

/* Start over with a request whose body is json (loaded with flags). */
static void load_body(const char *json, size_t flags)
{
    json_error_t jerr;

    teardown(NULL);
    req.body = json_loads(json, flags, &jerr);
    if (req.body == NULL)
        fail_msg("test body does not parse: %s: %s", json, jerr.text);
}

/* errs holds exactly one error, for field, whose message contains msg. */
static void assert_one_error(const jf_errors *errs, const char *field, const char *msg)
{
    json_t *item;

    assert_true(jf_errors_any(errs));
    assert_int_equal(json_array_size(errs->list), 1);
    item = json_array_get(errs->list, 0);
    assert_string_equal(json_string_value(json_object_get(item, "field")), field);
    if (strstr(json_string_value(json_object_get(item, "message")), msg) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", json_string_value(json_object_get(item, "message")),
                 msg);
}

static void test_body_str(void **state)
{
    static const struct {
        const char *body;
        bool required;
        size_t minc, maxc;
        const char *want; /* returned value, or NULL */
        const char *err;  /* message fragment of the one error, or NULL */
    } rows[] = {
        {"{\"name\":\"王秀兰\"}", true, 1, 3, "王秀兰", NULL}, /* 3 chars, 9 bytes */
        {"{\"name\":\"王秀兰\"}", true, 3, 3, "王秀兰", NULL},
        {"{\"name\":\"王秀兰\"}", true, 1, 2, NULL, "1 to 2 characters"},
        {"{\"name\":\"王秀兰\"}", true, 4, 9, NULL, "4 to 9 characters"},
        {"{\"name\":\"Wang\"}", false, 1, 4, "Wang", NULL},
        {"{\"name\":\"Wang \\u00e9\"}", false, 6, 6, "Wang é", NULL},
        {"{\"name\":\"😀\"}", false, 1, 1, "😀", NULL},
        {"{\"name\":\"\"}", false, 0, 10, "", NULL},
        {"{\"name\":\"\"}", true, 1, 10, NULL, "1 to 10 characters"},
        {"{}", true, 1, 10, NULL, "is required"},
        {"{}", false, 1, 10, NULL, NULL},
        {"{\"name\":null}", true, 1, 10, NULL, "is required"},
        {"{\"name\":null}", false, 1, 10, NULL, NULL},
        {"{\"name\":42}", false, 1, 10, NULL, "must be a string"},
        {"{\"name\":true}", true, 1, 10, NULL, "must be a string"},
        {"{\"name\":[\"a\"]}", true, 1, 10, NULL, "must be a string"},
        {"{\"name\":{\"a\":1}}", true, 1, 10, NULL, "must be a string"},
        {"{\"name\":\"a\\tb\"}", true, 1, 10, NULL, "control characters"},
        {"{\"name\":\"a\\nb\"}", true, 1, 10, NULL, "control characters"},
        {"{\"name\":\"\\u0001\"}", true, 1, 10, NULL, "control characters"},
        {"{\"name\":\"\\u001f\"}", true, 1, 10, NULL, "control characters"},
        /* DEL and the C1 range (NEL U+0085 here) are control characters too. */
        {"{\"name\":\"a\\u007fb\"}", true, 1, 10, NULL, "control characters"},
        {"{\"name\":\"a\\u0085b\"}", true, 1, 10, NULL, "control characters"},
        {"{\"name\":\"a\\u0000b\"}", true, 1, 10, NULL, "NUL"},
        {"{\"other\":\"x\"}", true, 1, 10, NULL, "is required"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got;

        load_body(rows[i].body, JSON_ALLOW_NUL);
        got = jf_body_str(&req, &e, "name", rows[i].required, rows[i].minc, rows[i].maxc);
        if (rows[i].want == NULL ? got != NULL : got == NULL || strcmp(got, rows[i].want) != 0)
            fail_msg("row %zu (%s): got \"%s\"", i, rows[i].body, got ? got : "NULL");
        if (rows[i].err)
            assert_one_error(&e, "name", rows[i].err);
        else if (jf_errors_any(&e))
            fail_msg("row %zu (%s): unexpected error", i, rows[i].body);
    }
}

static void test_body_int(void **state)
{
    static const struct {
        const char *body;
        bool required;
        long long min, max;
        int want;      /* 1 set, 0 absent, -1 bad */
        long long out; /* when want is 1 */
        bool err;
    } rows[] = {
        {"{\"n\":5}", true, 1, 10, 1, 5, false},
        {"{\"n\":1}", true, 1, 10, 1, 1, false},
        {"{\"n\":10}", true, 1, 10, 1, 10, false},
        {"{\"n\":0}", true, 1, 10, -1, 0, true},
        {"{\"n\":11}", true, 1, 10, -1, 0, true},
        {"{\"n\":-5}", false, -10, -1, 1, -5, false},
        {"{\"n\":9223372036854775807}", true, 1, INT64_MAX, 1, INT64_MAX, false},
        {"{\"n\":-9223372036854775808}", true, INT64_MIN, 0, 1, INT64_MIN, false},
        {"{\"n\":1.5}", true, 1, 10, -1, 0, true},
        {"{\"n\":2.0}", true, 1, 10, -1, 0, true},
        {"{\"n\":1e3}", true, 1, 10000, -1, 0, true},
        {"{\"n\":\"3\"}", true, 1, 10, -1, 0, true},
        {"{\"n\":true}", true, 0, 10, -1, 0, true},
        {"{\"n\":[3]}", true, 0, 10, -1, 0, true},
        {"{\"n\":null}", false, 1, 10, 0, 0, false},
        {"{}", false, 1, 10, 0, 0, false},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        long long out = 777;
        int got;

        load_body(rows[i].body, 0);
        got = jf_body_int(&req, &e, "n", rows[i].required, rows[i].min, rows[i].max, &out);
        if (got != rows[i].want)
            fail_msg("row %zu (%s): got %d, want %d", i, rows[i].body, got, rows[i].want);
        assert_int_equal(out, rows[i].want == 1 ? rows[i].out : 777);
        if (rows[i].err)
            assert_one_error(&e, "n", "must be a whole number");
        else
            assert_false(jf_errors_any(&e));
    }
}

/* Absent but required: an error, and no value. */
static void test_body_required_absent(void **state)
{
    long long n = 777;
    bool b = true;

    load_body("{\"x\":1}", 0);
    assert_int_not_equal(jf_body_int(&req, &e, "n", true, 1, 10, &n), 1);
    assert_int_equal(n, 777);
    assert_one_error(&e, "n", "is required");
    jf_errors_free(&e);
    assert_int_not_equal(jf_body_bool(&req, &e, "b", true, &b), 1);
    assert_true(b);
    assert_one_error(&e, "b", "is required");
}

static void test_body_bool(void **state)
{
    static const struct {
        const char *body;
        int want;
        bool out;
        bool err;
    } rows[] = {
        {"{\"b\":true}", 1, true, false},      {"{\"b\":false}", 1, false, false},
        {"{\"b\":1}", -1, false, true},        {"{\"b\":0}", -1, false, true},
        {"{\"b\":\"true\"}", -1, false, true}, {"{\"b\":[]}", -1, false, true},
        {"{\"b\":null}", 0, false, false},     {"{}", 0, false, false},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bool out = !rows[i].out;
        int got;

        load_body(rows[i].body, 0);
        got = jf_body_bool(&req, &e, "b", false, &out);
        if (got != rows[i].want)
            fail_msg("row %zu (%s): got %d, want %d", i, rows[i].body, got, rows[i].want);
        if (got == 1)
            assert_int_equal(out, rows[i].out);
        if (rows[i].err)
            assert_one_error(&e, "b", "true or false");
        else
            assert_false(jf_errors_any(&e));
    }
}

static void test_body_only(void **state)
{
    static const char *const allowed[] = {"name", "phone", NULL};
    static const struct {
        const char *body;
        const char *unknown[3]; /* fields named in errors, in order */
    } rows[] = {
        {"{}", {NULL}},
        {"{\"name\":\"a\"}", {NULL}},
        {"{\"name\":\"a\",\"phone\":null}", {NULL}},
        {"{\"name\":\"a\",\"role\":\"admin\"}", {"role", NULL}},
        {"{\"Name\":\"a\"}", {"Name", NULL}},
        {"{\"role\":1,\"name\":2,\"org_unit_id\":3}", {"role", "org_unit_id", NULL}},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t n = 0;

        load_body(rows[i].body, JSON_PRESERVE_ORDER);
        jf_body_only(&req, &e, allowed);
        while (n < 3 && rows[i].unknown[n] != NULL)
            n++;
        assert_int_equal(json_array_size(e.list), n);
        for (size_t k = 0; k < n; k++) {
            json_t *item = json_array_get(e.list, k);

            assert_string_equal(json_string_value(json_object_get(item, "field")),
                                rows[i].unknown[k]);
            assert_string_equal(json_string_value(json_object_get(item, "message")),
                                "is not a known field");
        }
    }
}

/* Errors accumulate across helpers; free clears them. */
static void test_errors_collect(void **state)
{
    long long n;

    assert_false(jf_errors_any(&e));
    load_body("{\"name\":5,\"age\":\"x\"}", 0);
    jf_body_str(&req, &e, "name", true, 1, 10);
    jf_body_int(&req, &e, "age", true, 0, 150, &n);
    jf_body_str(&req, &e, "phone", true, 1, 20);
    assert_int_equal(json_array_size(e.list), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(e.list, 2), "field")),
                        "phone");
    jf_errors_free(&e);
    assert_null(e.list);
    assert_false(jf_errors_any(&e));
    jf_errors_free(&e);

    /* A long message is cut, not overflowed. */
    {
        char longfield[400];

        memset(longfield, 'f', sizeof(longfield) - 1);
        longfield[sizeof(longfield) - 1] = '\0';
        jf_errors_add(&e, longfield, "%s", longfield);
        assert_int_equal(json_array_size(e.list), 1);
        assert_true(
            strlen(json_string_value(json_object_get(json_array_get(e.list, 0), "message"))) < 256);
        jf_errors_free(&e);
    }
}

static void test_body_has_null(void **state)
{

    load_body("{\"a\":null,\"b\":0}", 0);
    assert_true(jf_body_has(&req, "a"));
    assert_true(jf_body_null(&req, "a"));
    assert_true(jf_body_has(&req, "b"));
    assert_false(jf_body_null(&req, "b"));
    assert_false(jf_body_has(&req, "c"));
    assert_false(jf_body_null(&req, "c"));
}

static void test_utf8_len(void **state)
{
    static const struct {
        const char *s;
        size_t n;
    } rows[] = {
        {"", 0}, {"abc", 3}, {"王秀兰", 3}, {"a王b", 3}, {"é", 1}, {"😀", 1}, {"精防 2024", 7},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (jf_utf8_len(rows[i].s) != rows[i].n)
            fail_msg("\"%s\": got %zu, want %zu", rows[i].s, jf_utf8_len(rows[i].s), rows[i].n);
}

static void test_text_ok(void **state)
{
    static const struct {
        const char *s;
        bool ok;
    } rows[] = {
        {"", true},
        {"abc 123-_.", true},
        {"精防", true},
        {"\xc2\xa0", true},         /* U+00A0, just past C1 */
        {"\xf0\x9f\x98\x80", true}, /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", true}, /* U+10FFFF */
        {"\xef\xbf\xbd", true},     /* U+FFFD */
        {"a\tb", false},
        {"a\nb", false},
        {"\x01", false},
        {"\x7f", false},
        {"\xc2\x80", false}, /* C1 */
        {"\xc2\x9f", false},
        {"\xff", false},
        {"\xfe\xff", false},
        {"\x80", false},     /* lone continuation */
        {"\xc0\xaf", false}, /* overlong '/' */
        {"\xc1\xbf", false},
        {"\xe0\x80\xaf", false},     /* overlong */
        {"\xf0\x80\x80\xaf", false}, /* overlong */
        {"\xed\xa0\x80", false},     /* surrogate */
        {"\xf4\x90\x80\x80", false}, /* past U+10FFFF */
        {"\xf5\x80\x80\x80", false},
        {"\xe7\xb2", false}, /* truncated */
        {"\xe7", false},
        {"a\xe7\xb2"
         "b",
         false},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (jf_text_ok(rows[i].s) != rows[i].ok)
            fail_msg("row %zu: want %d", i, rows[i].ok);
}

static void test_in_set(void **state)
{
    static const char *const roles[] = {"doctor", "police", "", NULL};
    static const char *const none[] = {NULL};

    assert_true(jf_in_set("doctor", roles));
    assert_true(jf_in_set("police", roles));
    assert_true(jf_in_set("", roles));
    assert_false(jf_in_set("Doctor", roles));
    assert_false(jf_in_set("doc", roles));
    assert_false(jf_in_set("doctors", roles));
    assert_false(jf_in_set(NULL, roles));
    assert_false(jf_in_set("doctor", none));
}

/* Start over with a request holding the query pairs kv (NULL-terminated). */
static void load_query(const char *const *kv)
{
    teardown(NULL);
    for (int i = 0; kv[2 * i] != NULL; i++) {
        req.qkeys[i] = kv[2 * i];
        req.qvals[i] = kv[2 * i + 1];
        req.nquery = i + 1;
    }
}

static void test_query_limit(void **state)
{
    static const struct {
        const char *value; /* NULL: absent */
        int rc, limit;
    } rows[] = {
        {NULL, 0, 50},
        {"1", 0, 1},
        {"200", 0, 200},
        {"50", 0, 50},
        {"0", -1, 50},
        {"201", -1, 50},
        {"abc", -1, 50},
        {"-1", -1, 50},
        {"", -1, 50},
        {"+5", -1, 50},
        {"5 ", -1, 50},
        {"1e2", -1, 50},
        {"99999999999999999999", -1, 50},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *kv[] = {"q", "x", rows[i].value ? "limit" : NULL, rows[i].value, NULL};
        int limit = -7, rc;

        load_query(kv);
        rc = jf_query_limit(&req, &e, &limit);
        if (rc != rows[i].rc || limit != rows[i].limit)
            fail_msg("limit=%s: got rc %d limit %d", rows[i].value ? rows[i].value : "(absent)", rc,
                     limit);
        if (rc != 0)
            assert_one_error(&e, "limit", "1 to 200");
        else
            assert_false(jf_errors_any(&e));
        jf_errors_free(&e);
    }
}

static void test_query_bool(void **state)
{
    static const struct {
        const char *value;
        bool want, err;
    } rows[] = {
        {NULL, false, false},  {"true", true, false}, {"false", false, false}, {"1", false, true},
        {"TRUE", false, true}, {"", false, true},     {"yes", false, true},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *kv[] = {rows[i].value ? "count" : NULL, rows[i].value, NULL};

        load_query(kv);
        assert_int_equal(jf_query_bool(&req, &e, "count"), rows[i].want);
        if (rows[i].err)
            assert_one_error(&e, "count", "true or false");
        else
            assert_false(jf_errors_any(&e));
        jf_errors_free(&e);
    }
}

static void test_query_id(void **state)
{
    static const struct {
        const char *value;
        long long want;
    } rows[] = {
        {NULL, 0},
        {"42", 42},
        {"1", 1},
        {"123456789012345678", 123456789012345678LL},
        {"0", -1},
        {"-3", -1},
        {"abc", -1},
        {"", -1},
        {"4 2", -1},
        {"42x", -1},
        {"1234567890123456789", -1},
        {"99999999999999999999", -1},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *kv[] = {rows[i].value ? "org_unit_id" : NULL, rows[i].value, NULL};
        long long got;

        load_query(kv);
        got = jf_query_id(&req, &e, "org_unit_id");
        if (got != rows[i].want)
            fail_msg("org_unit_id=%s: got %lld", rows[i].value ? rows[i].value : "(absent)", got);
        if (rows[i].want < 0)
            assert_one_error(&e, "org_unit_id", "positive id");
        else
            assert_false(jf_errors_any(&e));
        jf_errors_free(&e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_body_str, teardown),
        cmocka_unit_test_teardown(test_body_int, teardown),
        cmocka_unit_test_teardown(test_body_required_absent, teardown),
        cmocka_unit_test_teardown(test_body_bool, teardown),
        cmocka_unit_test_teardown(test_body_only, teardown),
        cmocka_unit_test_teardown(test_errors_collect, teardown),
        cmocka_unit_test_teardown(test_body_has_null, teardown),
        cmocka_unit_test_teardown(test_utf8_len, teardown),
        cmocka_unit_test_teardown(test_text_ok, teardown),
        cmocka_unit_test_teardown(test_in_set, teardown),
        cmocka_unit_test_teardown(test_query_limit, teardown),
        cmocka_unit_test_teardown(test_query_bool, teardown),
        cmocka_unit_test_teardown(test_query_id, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
