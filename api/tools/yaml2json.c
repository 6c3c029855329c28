/* yaml2json: build-time converter from one YAML document to compact JSON or to a C source file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

/* Deeper nesting than this is refused rather than risking the stack. */
#define MAX_DEPTH 512
/* Characters of string content per line of generated C source. */
#define C_LINE_CHARS 72

struct conv {
    yaml_parser_t parser;
    const char *path;
    int real_digits; /* significant digits the most demanding real needs */
};

static void report(const struct conv *c, yaml_mark_t mark, const char *msg, const char *detail)
{
    fprintf(stderr, "yaml2json: %s:%lu:%lu: %s%s%s\n", c->path, (unsigned long)mark.line + 1,
            (unsigned long)mark.column + 1, msg, detail ? ": " : "", detail ? detail : "");
}

static void report_parser_error(const struct conv *c)
{
    const yaml_parser_t *p = &c->parser;
    const char *problem = p->problem ? p->problem : "unknown error";

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        fprintf(stderr, "yaml2json: %s: out of memory\n", c->path);
        break;
    case YAML_READER_ERROR:
        fprintf(stderr, "yaml2json: %s: byte %lu: %s\n", c->path, (unsigned long)p->problem_offset,
                problem);
        break;
    default:
        if (p->context) {
            fprintf(
                stderr, "yaml2json: %s:%lu:%lu: %s (%s, which started at line %lu column %lu)\n",
                c->path, (unsigned long)p->problem_mark.line + 1,
                (unsigned long)p->problem_mark.column + 1, problem, p->context,
                (unsigned long)p->context_mark.line + 1, (unsigned long)p->context_mark.column + 1);
        } else {
            report(c, p->problem_mark, problem, NULL);
        }
        break;
    }
}

static int next_event(struct conv *c, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&c->parser, ev)) {
        report_parser_error(c);
        return -1;
    }
    return 0;
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* ^-?(0|[1-9][0-9]*) and returns the index just past it, or 0 when absent. */
static size_t scan_int_part(const char *s, size_t n)
{
    size_t i = 0;

    if (i < n && s[i] == '-')
        i++;
    if (i == n || !is_digit(s[i]))
        return 0;
    if (s[i] == '0')
        return i + 1;
    while (i < n && is_digit(s[i]))
        i++;
    return i;
}

static int is_integer(const char *s, size_t n)
{
    size_t i = scan_int_part(s, n);

    return i > 0 && i == n;
}

/* ^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$ */
static int is_float(const char *s, size_t n)
{
    size_t i = scan_int_part(s, n);
    size_t start;

    if (i == 0)
        return 0;
    if (i < n && s[i] == '.') {
        start = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == start)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        start = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == start)
            return 0;
    }
    return i == n;
}

static int is_word(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* Fewest significant digits that print back to the same double. */
static int shortest_digits(double d)
{
    char buf[64];
    int p;

    for (p = 1; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, d);
        if (strtod(buf, NULL) == d)
            return p;
    }
    return 17;
}

static json_t *make_string(const struct conv *c, const yaml_event_t *ev)
{
    json_t *s = json_stringn((const char *)ev->data.scalar.value, ev->data.scalar.length);

    if (!s)
        report(c, ev->start_mark, "string is not valid UTF-8", NULL);
    return s;
}

/* Quoted, literal, folded and !!str-tagged scalars are strings; plain ones resolve. */
static json_t *convert_scalar(struct conv *c, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    json_t *v = NULL;

    if (tag && strcmp(tag, "!") != 0 && strcmp(tag, YAML_STR_TAG) != 0) {
        report(c, ev->start_mark, "unsupported tag", tag);
        return NULL;
    }
    if (tag || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return make_string(c, ev);

    if (n == 0 || is_word(s, n, "null") || is_word(s, n, "~"))
        return json_null();
    if (is_word(s, n, "true"))
        return json_true();
    if (is_word(s, n, "false"))
        return json_false();
    if (is_integer(s, n)) {
        long long i;

        errno = 0;
        i = strtoll(s, NULL, 10);
        if (errno == ERANGE) {
            report(c, ev->start_mark, "integer out of range", s);
            return NULL;
        }
        v = json_integer((json_int_t)i);
    } else if (is_float(s, n)) {
        double d = strtod(s, NULL);
        int digits;

        if (!isfinite(d)) {
            report(c, ev->start_mark, "number out of range", s);
            return NULL;
        }
        digits = shortest_digits(d);
        if (digits > c->real_digits)
            c->real_digits = digits;
        v = json_real(d);
    } else {
        return make_string(c, ev);
    }
    if (!v)
        report(c, ev->start_mark, "out of memory", NULL);
    return v;
}

static json_t *convert_node(struct conv *c, yaml_event_t *ev, int depth);

static json_t *convert_sequence(struct conv *c, int depth)
{
    json_t *arr = json_array(), *item, *result = NULL;
    yaml_event_t ev;

    if (!arr)
        goto out;
    for (;;) {
        if (next_event(c, &ev) < 0)
            goto out;
        if (ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        item = convert_node(c, &ev, depth + 1);
        if (!item || json_array_append_new(arr, item) < 0)
            goto out;
    }
    yaml_event_delete(&ev);
    result = arr;
    arr = NULL;
out:
    json_decref(arr);
    return result;
}

/* Copies the key that *ev holds, or reports why it cannot be one. */
static char *mapping_key(const struct conv *c, const yaml_event_t *ev)
{
    char *key;

    if (ev->type == YAML_ALIAS_EVENT) {
        report(c, ev->start_mark, "aliases are not supported", (const char *)ev->data.alias.anchor);
        return NULL;
    }
    if (ev->type != YAML_SCALAR_EVENT) {
        report(c, ev->start_mark, "mapping keys must be scalars", NULL);
        return NULL;
    }
    if (ev->data.scalar.anchor) {
        report(c, ev->start_mark, "anchors are not supported",
               (const char *)ev->data.scalar.anchor);
        return NULL;
    }
    if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
        report(c, ev->start_mark, "mapping key contains a NUL character", NULL);
        return NULL;
    }
    key = malloc(ev->data.scalar.length + 1);
    if (!key) {
        report(c, ev->start_mark, "out of memory", NULL);
        return NULL;
    }
    memcpy(key, ev->data.scalar.value, ev->data.scalar.length + 1);
    return key;
}

static json_t *convert_mapping(struct conv *c, int depth)
{
    json_t *obj = json_object(), *value, *result = NULL;
    char *key = NULL;
    yaml_event_t ev;
    yaml_mark_t key_mark;

    if (!obj)
        goto out;
    for (;;) {
        if (next_event(c, &ev) < 0)
            goto out;
        if (ev.type == YAML_MAPPING_END_EVENT)
            break;
        key_mark = ev.start_mark;
        key = mapping_key(c, &ev);
        yaml_event_delete(&ev);
        if (!key)
            goto out;
        if (json_object_get(obj, key)) {
            report(c, key_mark, "duplicate mapping key", key);
            goto out;
        }
        if (next_event(c, &ev) < 0)
            goto out;
        value = convert_node(c, &ev, depth + 1);
        if (!value)
            goto out;
        if (json_object_set_new(obj, key, value) < 0) {
            report(c, key_mark, "mapping key is not valid UTF-8", key);
            goto out;
        }
        free(key);
        key = NULL;
    }
    yaml_event_delete(&ev);
    result = obj;
    obj = NULL;
out:
    free(key);
    json_decref(obj);
    return result;
}

/* Converts the node that starts with *ev, consuming the event and the node's children. */
static json_t *convert_node(struct conv *c, yaml_event_t *ev, int depth)
{
    const yaml_char_t *anchor = NULL;
    json_t *result = NULL;

    if (depth > MAX_DEPTH) {
        report(c, ev->start_mark, "nesting too deep", NULL);
        goto out;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        break;
    case YAML_ALIAS_EVENT:
        report(c, ev->start_mark, "aliases are not supported", (const char *)ev->data.alias.anchor);
        goto out;
    default:
        report(c, ev->start_mark, "unexpected YAML event", NULL);
        goto out;
    }
    if (anchor) {
        report(c, ev->start_mark, "anchors are not supported", (const char *)anchor);
        goto out;
    }

    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        result = convert_scalar(c, ev);
        break;
    case YAML_SEQUENCE_START_EVENT:
        result = convert_sequence(c, depth);
        break;
    default:
        result = convert_mapping(c, depth);
        break;
    }
out:
    yaml_event_delete(ev);
    return result;
}

/* Reads exactly one document from the parser's input. */
static json_t *convert_stream(struct conv *c)
{
    json_t *root = NULL, *result = NULL;
    yaml_event_t ev;
    int have_event = 0;

    if (next_event(c, &ev) < 0) /* stream start */
        goto out;
    yaml_event_delete(&ev);

    if (next_event(c, &ev) < 0)
        goto out;
    have_event = 1;
    if (ev.type != YAML_DOCUMENT_START_EVENT) {
        report(c, ev.start_mark, "input holds no YAML document", NULL);
        goto out;
    }
    yaml_event_delete(&ev);
    have_event = 0;

    if (next_event(c, &ev) < 0)
        goto out;
    root = convert_node(c, &ev, 0);
    if (!root)
        goto out;

    if (next_event(c, &ev) < 0) /* document end */
        goto out;
    yaml_event_delete(&ev);

    if (next_event(c, &ev) < 0)
        goto out;
    have_event = 1;
    if (ev.type != YAML_STREAM_END_EVENT) {
        report(c, ev.start_mark, "multiple documents are not supported", NULL);
        goto out;
    }
    result = root;
    root = NULL;
out:
    if (have_event)
        yaml_event_delete(&ev);
    json_decref(root);
    return result;
}

static int is_c_identifier(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++) {
        char ch = s[i];
        int alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';

        if (!alpha && !(i > 0 && is_digit(ch)))
            return 0;
    }
    return i > 0;
}

/*
 * Writes text as a C string literal split over lines. Printable ASCII goes
 * through as is, except '"', '\\' and '?' (trigraphs); every other byte is a
 * three-digit octal escape, which cannot run into the next character.
 */
static int write_c_source(FILE *out, const char *symbol, const char *source, const char *text,
                          size_t len)
{
    const char *base = strrchr(source, '/');
    size_t i;
    int col = 0;

    base = base ? base + 1 : source;
    if (strstr(base, "*/"))
        base = "YAML";
    fprintf(out, "/* Generated by yaml2json from %s; do not edit. */\n\n", base);
    fprintf(out, "extern const char %s[];\nextern const unsigned long %s_len;\n\n", symbol, symbol);
    fprintf(out, "const char %s[] =\n    \"", symbol);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];

        if (col >= C_LINE_CHARS) {
            fputs("\"\n    \"", out);
            col = 0;
        }
        if (ch == '"' || ch == '\\' || ch == '?') {
            fputc('\\', out);
            fputc(ch, out);
            col += 2;
        } else if (ch >= 0x20 && ch < 0x7f) {
            fputc(ch, out);
            col++;
        } else {
            fprintf(out, "\\%03o", ch);
            col += 4;
        }
    }
    fprintf(out, "\";\n\nconst unsigned long %s_len = %luUL;\n", symbol, (unsigned long)len);
    return ferror(out) ? -1 : 0;
}

static void usage(void)
{
    fputs("usage: yaml2json IN.yaml OUT.json\n"
          "       yaml2json --c-source SYMBOL IN.yaml OUT.c\n"
          "Converts one YAML document to compact JSON (\"-\" is stdin or stdout).\n"
          "With --c-source, writes a C file defining const char SYMBOL[] (the JSON text)\n"
          "and const unsigned long SYMBOL_len (its length in bytes).\n",
          stderr);
}

int main(int argc, char **argv)
{
    struct conv c;
    const char *symbol = NULL, *in_path, *out_path;
    FILE *src = NULL, *dst = NULL;
    json_t *root = NULL;
    char *text = NULL;
    size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    int parser_ready = 0, created = 0, status = 1, written;

    if (argc == 5 && strcmp(argv[1], "--c-source") == 0) {
        symbol = argv[2];
        in_path = argv[3];
        out_path = argv[4];
        if (!is_c_identifier(symbol)) {
            fprintf(stderr, "yaml2json: not a C identifier: %s\n", symbol);
            return 2;
        }
    } else if (argc == 3 && (argv[1][0] != '-' || strcmp(argv[1], "-") == 0)) {
        in_path = argv[1];
        out_path = argv[2];
    } else {
        usage();
        return 2;
    }

    memset(&c, 0, sizeof c);
    c.path = strcmp(in_path, "-") == 0 ? "<stdin>" : in_path;
    src = strcmp(in_path, "-") == 0 ? stdin : fopen(in_path, "rb");
    if (!src) {
        fprintf(stderr, "yaml2json: %s: %s\n", in_path, strerror(errno));
        goto out;
    }
    if (!yaml_parser_initialize(&c.parser)) {
        fputs("yaml2json: cannot initialise the YAML parser\n", stderr);
        goto out;
    }
    parser_ready = 1;
    yaml_parser_set_input_file(&c.parser, src);

    root = convert_stream(&c);
    if (!root)
        goto out;
    if (c.real_digits > 0)
        flags |= JSON_REAL_PRECISION(c.real_digits);
    text = json_dumps(root, flags);
    if (!text) {
        fputs("yaml2json: cannot encode JSON\n", stderr);
        goto out;
    }

    if (strcmp(out_path, "-") == 0) {
        dst = stdout;
    } else {
        /* Only a file this run creates may be removed again after a failed write. */
        FILE *probe = fopen(out_path, "rb");

        created = !probe && errno == ENOENT;
        if (probe)
            fclose(probe);
        dst = fopen(out_path, "wb");
    }
    if (!dst) {
        fprintf(stderr, "yaml2json: %s: %s\n", out_path, strerror(errno));
        goto out;
    }
    if (symbol) {
        written = write_c_source(dst, symbol, c.path, text, strlen(text)) == 0;
    } else {
        written = fputs(text, dst) >= 0 && fputc('\n', dst) != EOF;
    }
    if (dst != stdout) {
        written = fclose(dst) == 0 && written;
    } else {
        written = fflush(dst) == 0 && written;
    }
    if (!written) {
        fprintf(stderr, "yaml2json: %s: write failed\n", out_path);
        if (created)
            remove(out_path);
        goto out;
    }
    status = 0;
out:
    free(text);
    json_decref(root);
    if (parser_ready)
        yaml_parser_delete(&c.parser);
    if (src && src != stdin)
        fclose(src);
    return status;
}
