/* Stream one 三网 list into the staging table: decode, parse, normalise,
 * COPY. Fixed buffers only; one record at a time. */
#include "load.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../domain/idcard.h"
#include "../domain/mask.h"

#include <errno.h>
#include <iconv.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAW_CAP 65536        /* bytes read at a time */
#define U8_CAP (RAW_CAP * 2) /* GBK → UTF-8 grows by at most 3/2 */
#define OUT_CAP (512 * 1024) /* COPY data sent in chunks of about this size */
#define OUT_FLUSH (OUT_CAP - 2 * JF_REC_RECORD_MAX)

/* HMAC-SHA256 with the key's inner and outer states computed once: one
 * HMAC() call per row costs 7x more (it sets the key up each time). */
typedef struct rec_hmac {
    EVP_MD_CTX *in, *out, *tmp;
} rec_hmac;

typedef struct rec_state {
    const jf_rec_load_opts *o;
    PGconn *pg;
    jf_rec_load_result *res;
    rec_hmac mac;
    iconv_t cd;
    bool gbk, header_done;
    int map[JF_REC_NCOLS]; /* field index per column, -1 when unmapped */
    int nfields;           /* of the header */
    long line;             /* physical line the current record starts on */
    long next_line;        /* line of the next byte */
    char *rec;             /* the record being assembled */
    size_t rec_len;
    bool quoted;
    char *out;
    size_t out_len;
    jf_buf unknown; /* JSON array of the header's columns no mapping names */
    char *fields[JF_REC_FIELDS_MAX];
} rec_state;

static int mac_init(rec_hmac *m, const unsigned char key[32])
{
    unsigned char pad[64];

    m->in = EVP_MD_CTX_new();
    m->out = EVP_MD_CTX_new();
    m->tmp = EVP_MD_CTX_new();
    if (m->in == NULL || m->out == NULL || m->tmp == NULL)
        return JF_ERR_NOMEM;
    memset(pad, 0x36, sizeof(pad));
    for (int i = 0; i < 32; i++)
        pad[i] ^= key[i];
    if (EVP_DigestInit_ex(m->in, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(m->in, pad, sizeof(pad)) != 1)
        return JF_ERR_CRYPTO;
    memset(pad, 0x5c, sizeof(pad));
    for (int i = 0; i < 32; i++)
        pad[i] ^= key[i];
    if (EVP_DigestInit_ex(m->out, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(m->out, pad, sizeof(pad)) != 1)
        return JF_ERR_CRYPTO;
    return 0;
}

static void mac_free(rec_hmac *m)
{
    EVP_MD_CTX_free(m->in);
    EVP_MD_CTX_free(m->out);
    EVP_MD_CTX_free(m->tmp);
}

static int mac_sum(rec_hmac *m, const char *data, size_t n, unsigned char out[32])
{
    unsigned char h[32];
    unsigned len;

    if (EVP_MD_CTX_copy_ex(m->tmp, m->in) != 1 || EVP_DigestUpdate(m->tmp, data, n) != 1 ||
        EVP_DigestFinal_ex(m->tmp, h, &len) != 1 || EVP_MD_CTX_copy_ex(m->tmp, m->out) != 1 ||
        EVP_DigestUpdate(m->tmp, h, sizeof(h)) != 1 || EVP_DigestFinal_ex(m->tmp, out, &len) != 1)
        return JF_ERR_CRYPTO;
    return 0;
}

static int refuse(rec_state *s, int status, long line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int refuse(rec_state *s, int status, long line, const char *field, const char *fmt, ...)
{
    va_list ap;
    int off = 0;

    s->res->status = status;
    s->res->line = line;
    s->res->field = field;
    if (line > 0)
        off = snprintf(s->res->message, sizeof(s->res->message), "line %ld: ", line);
    va_start(ap, fmt);
    vsnprintf(s->res->message + off, sizeof(s->res->message) - (size_t)off, fmt, ap);
    va_end(ap);
    return status == 413 ? JF_ERR_TOO_LARGE : JF_ERR_INVALID;
}

static int flush(rec_state *s)
{
    if (s->out_len == 0)
        return 0;
    if (PQputCopyData(s->pg, s->out, (int)s->out_len) != 1)
        return JF_ERR_DB;
    s->out_len = 0;
    return 0;
}

/* Append text to the COPY line, escaped for the text format. */
static void put_text(rec_state *s, const char *t)
{
    char *o = s->out + s->out_len;

    for (; *t; t++) {
        switch (*t) {
        case '\\':
            *o++ = '\\';
            *o++ = '\\';
            break;
        case '\t':
            *o++ = '\\';
            *o++ = 't';
            break;
        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            break;
        case '\r':
            *o++ = '\\';
            *o++ = 'r';
            break;
        default:
            *o++ = *t;
        }
    }
    s->out_len = (size_t)(o - s->out);
}

static void put_raw(rec_state *s, const char *t, size_t n)
{
    memcpy(s->out + s->out_len, t, n);
    s->out_len += n;
}

/* A column (tab first), \N when NULL or empty. */
static void put_col(rec_state *s, const char *t)
{
    put_raw(s, "\t", 1);
    if (t == NULL || t[0] == '\0')
        put_raw(s, "\\N", 2);
    else
        put_text(s, t);
}

static const char *field(rec_state *s, jf_rec_col c)
{
    return s->map[c] >= 0 ? s->fields[s->map[c]] : NULL;
}

/* The header's columns that no mapped column names, as a JSON array in
 * s->unknown: the load leaves them out and the run lists them, never
 * silently (an empty header cell is named by its position, "#3"). */
static int header_unknown(rec_state *s, int n)
{
    int rc = jf_buf_puts(&s->unknown, "[");

    for (int i = 0; rc == 0 && i < n; i++) {
        bool known = false;

        for (int c = 0; !known && c < JF_REC_NCOLS; c++)
            known = s->o->columns[c] != NULL && strcmp(s->fields[i], s->o->columns[c]) == 0;
        if (known)
            continue;
        if (s->res->unknown_columns++ > 0)
            rc = jf_buf_puts(&s->unknown, ",");
        if (rc == 0)
            rc = s->fields[i][0] ? jf_buf_json_str(&s->unknown, s->fields[i])
                                 : jf_buf_printf(&s->unknown, "\"#%d\"", i + 1);
    }
    return rc ? rc : jf_buf_puts(&s->unknown, "]");
}

static int header(rec_state *s, int n)
{
    int rc;

    s->nfields = n;
    for (int i = 0; i < n; i++)
        jf_rec_trim(s->fields[i]);
    if ((rc = header_unknown(s, n)) != 0)
        return rc;
    for (int c = 0; c < JF_REC_NCOLS; c++) {
        const char *want = s->o->columns[c];

        s->map[c] = -1;
        if (want == NULL)
            continue;
        for (int i = 0; i < n; i++)
            if (strcmp(s->fields[i], want) == 0) {
                s->map[c] = i;
                break;
            }
        if (s->map[c] < 0 && (s->o->optional & (1u << c)) == 0)
            return refuse(s, 422, s->line, jf_rec_col_key((jf_rec_col)c),
                          "the header has no column \"%s\" (mapped as %s)", want,
                          jf_rec_col_key((jf_rec_col)c));
    }
    s->header_done = true;
    return 0;
}

/* One data record, split into n fields: normalise and append a COPY line. */
static int data_row(rec_state *s, int n)
{
    char idx_hex[3 + 64 + 1] = "", masked[24] = "", birth[11] = "", num[24];
    unsigned char mac[32];
    const char *state = "m", *idraw, *name, *v;
    jf_idcard id;
    int risk;

    if (n != s->nfields)
        return refuse(s, 422, s->line, "body", "%d fields where the header has %d", n, s->nfields);
    for (int i = 0; i < n; i++)
        jf_rec_trim(s->fields[i]);
    idraw = field(s, JF_REC_ID);
    if (idraw != NULL && idraw[0] != '\0') {
        const char *hashed = idraw;

        if (jf_idcard_parse(idraw, s->o->today_ymd, &id) == JF_IDCARD_OK) {
            state = "v";
            hashed = id.number;
            jf_mask_idcard(id.number, masked, sizeof(masked));
            jf_idcard_birth_iso(&id, birth);
        } else {
            state = "i";
            jf_mask_idcard(idraw, masked, sizeof(masked));
        }
        if (mac_sum(&s->mac, hashed, strlen(hashed), mac) != 0)
            return JF_ERR_CRYPTO;
        idx_hex[0] = '\\';
        idx_hex[1] = '\\';
        idx_hex[2] = 'x';
        for (int i = 0; i < 32; i++) {
            static const char hx[] = "0123456789abcdef";
            idx_hex[3 + 2 * i] = hx[mac[i] >> 4];
            idx_hex[4 + 2 * i] = hx[mac[i] & 15];
        }
        idx_hex[3 + 64] = '\0';
    }
    if (birth[0] == '\0' && (v = field(s, JF_REC_BIRTH)) != NULL)
        (void)jf_rec_date_parse(v, birth);
    name = field(s, JF_REC_NAME);
    snprintf(num, sizeof(num), "%lld", s->o->run_id);
    put_raw(s, num, strlen(num));
    put_col(s, s->o->source);
    snprintf(num, sizeof(num), "%ld", s->line);
    put_col(s, num);
    put_col(s, state);
    if (idx_hex[0]) {
        put_raw(s, "\t", 1);
        put_raw(s, idx_hex, strlen(idx_hex));
    } else {
        put_raw(s, "\t\\N", 3);
    }
    put_col(s, masked);
    put_col(s, name);
    put_col(s, jf_rec_gender_norm(field(s, JF_REC_GENDER)));
    put_col(s, birth);
    put_col(s, field(s, JF_REC_VILLAGE));
    put_col(s, jf_rec_status_norm(field(s, JF_REC_STATUS)));
    risk = jf_rec_risk_parse(field(s, JF_REC_RISK));
    if (risk >= 0) {
        num[0] = (char)('0' + risk);
        num[1] = '\0';
    }
    put_col(s, risk >= 0 ? num : NULL);
    put_raw(s, "\n", 1);
    s->res->rows++;
    if (s->out_len > OUT_FLUSH)
        return flush(s);
    return 0;
}

/* A complete record (without its line terminator) is in s->rec. */
static int record(rec_state *s)
{
    int n;

    if (s->rec_len > 0 && s->rec[s->rec_len - 1] == '\r')
        s->rec_len--;
    if (s->rec_len == 0 && s->header_done)
        return 0; /* blank line (Excel leaves some at the end) */
    if (s->rec_len == 0)
        return refuse(s, 422, s->line, "body", "the header line is empty");
    s->rec[s->rec_len] = '\0';
    n = jf_rec_csv_split(s->rec, s->rec_len, s->fields, JF_REC_FIELDS_MAX);
    if (n == -1)
        return refuse(s, 422, s->line, "body", "a quote is misplaced or never closed");
    if (n < 0)
        return refuse(s, 422, s->line, "body", "more than %d fields", JF_REC_FIELDS_MAX);
    return s->header_done ? data_row(s, n) : header(s, n);
}

/* Feed UTF-8 text: assemble records at unquoted newlines. */
static int feed(rec_state *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];

        if (c == '\0')
            return refuse(s, 422, s->next_line, "body", "the file contains a NUL byte");
        if (c == '\n') {
            s->next_line++;
            if (!s->quoted) {
                int rc = record(s);
                if (rc != 0)
                    return rc;
                s->rec_len = 0;
                s->line = s->next_line;
                continue;
            }
        }
        if (c == '"')
            s->quoted = !s->quoted;
        if (s->rec_len >= JF_REC_RECORD_MAX - 1)
            return refuse(s, 422, s->line, "body", "a record is longer than %d bytes",
                          JF_REC_RECORD_MAX);
        s->rec[s->rec_len++] = c;
    }
    return 0;
}

int jf_rec_load(PGconn *pg, const jf_rec_load_opts *o, jf_rec_read_fn rd, void *ctx,
                jf_rec_load_result *out)
{
    rec_state *s = calloc(1, sizeof(*s));
    char *raw = malloc(RAW_CAP), *u8 = malloc(U8_CAP);
    size_t raw_len = 0; /* undecoded bytes carried over */
    bool first = true, copying = false, eof = false;
    PGresult *r = NULL;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->encoding = "utf-8";
    if (s == NULL || raw == NULL || u8 == NULL) {
        rc = JF_ERR_NOMEM;
        goto out;
    }
    s->o = o;
    s->pg = pg;
    s->res = out;
    s->cd = (iconv_t)-1;
    s->line = s->next_line = 1;
    s->rec = malloc(JF_REC_RECORD_MAX);
    s->out = malloc(OUT_CAP);
    /* Each header byte escapes to at most 6 (\u00XX), a column adds 3. */
    jf_buf_init(&s->unknown, 6 * JF_REC_RECORD_MAX + 3 * JF_REC_FIELDS_MAX + 2);
    if (s->rec == NULL || s->out == NULL) {
        rc = JF_ERR_NOMEM;
        goto out;
    }
    if ((rc = mac_init(&s->mac, o->index_key)) != 0)
        goto out;
    {
        char runid[24];
        const char *p[] = {runid, o->source};

        snprintf(runid, sizeof(runid), "%lld", o->run_id);
        r = PQexecParams(pg, "DELETE FROM reconcile_rows WHERE run_id = $1 AND source = $2", 2,
                         NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = JF_ERR_DB;
            goto out;
        }
        PQclear(r);
        r = PQexec(pg, "COPY reconcile_rows (run_id, source, line, id_state, id_index, id_masked,"
                       " name, gender, birth_date, village, status, risk) FROM STDIN");
        if (PQresultStatus(r) != PGRES_COPY_IN) {
            rc = JF_ERR_DB;
            goto out;
        }
        PQclear(r);
        r = NULL;
        copying = true;
    }

    while (!eof) {
        long got = rd(ctx, raw + raw_len, RAW_CAP - raw_len);
        char *src = raw;
        size_t avail;

        if (got < 0) {
            rc = got == JF_ERR_TOO_LARGE
                     ? refuse(s, 413, 0, "body", "the file is larger than the server accepts")
                     : JF_ERR_IO;
            goto out;
        }
        eof = got == 0;
        avail = raw_len + (size_t)got;
        if (first && (avail >= 3 || eof)) {
            first = false;
            if (avail >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0) {
                src += 3;
                avail -= 3;
                if (o->encoding == JF_REC_ENC_GBK) {
                    rc = refuse(s, 422, 1, "encoding",
                                "the file has a UTF-8 BOM but gbk was declared");
                    goto out;
                }
                s->gbk = false;
            } else if (avail >= 2 &&
                       (memcmp(raw, "\xFF\xFE", 2) == 0 || memcmp(raw, "\xFE\xFF", 2) == 0)) {
                rc = refuse(s, 422, 1, "encoding",
                            "UTF-16 is not supported: save the list as CSV (UTF-8 or GBK)");
                goto out;
            } else if (o->encoding == JF_REC_ENC_AUTO) {
                bool bad;
                (void)jf_rec_utf8_prefix((unsigned char *)src, avail, &bad);
                s->gbk = bad;
            } else {
                s->gbk = o->encoding == JF_REC_ENC_GBK;
            }
            out->encoding = s->gbk ? "gbk" : "utf-8";
            if (s->gbk) {
                s->cd = iconv_open("UTF-8", "GB18030");
                if (s->cd == (iconv_t)-1) {
                    rc = JF_ERR_NOMEM;
                    goto out;
                }
            }
        } else if (first) {
            raw_len = avail;
            continue;
        }
        if (s->gbk) {
            char *in = src, *o8 = u8;
            size_t inleft = avail, outleft = U8_CAP;

            if (iconv(s->cd, &in, &inleft, &o8, &outleft) == (size_t)-1 && errno != EINVAL) {
                /* errno EILSEQ: find the line of the bad byte */
                rc = feed(s, u8, (size_t)(o8 - u8));
                if (rc == 0)
                    rc = refuse(s, 422, s->next_line, "encoding", "the text is not valid GBK");
                goto out;
            }
            if (eof && inleft > 0) {
                rc = feed(s, u8, (size_t)(o8 - u8));
                if (rc == 0)
                    rc = refuse(s, 422, s->next_line, "encoding",
                                "the file ends inside a GBK character");
                goto out;
            }
            if ((rc = feed(s, u8, (size_t)(o8 - u8))) != 0)
                goto out;
            memmove(raw, in, inleft);
            raw_len = inleft;
        } else {
            bool bad;
            size_t ok = jf_rec_utf8_prefix((unsigned char *)src, avail, &bad);

            if ((rc = feed(s, src, ok)) != 0)
                goto out;
            if (bad || (eof && ok < avail)) {
                rc = refuse(s, 422, s->next_line, "encoding",
                            "the text is not valid UTF-8 (declare encoding=gbk for a GBK file)");
                goto out;
            }
            memmove(raw, src + ok, avail - ok);
            raw_len = avail - ok;
        }
    }
    if (s->rec_len > 0 || s->quoted) {
        if (s->quoted) {
            rc = refuse(s, 422, s->line, "body", "a quote is never closed");
            goto out;
        }
        if ((rc = record(s)) != 0)
            goto out;
    }
    if (!s->header_done) {
        rc = refuse(s, 422, 0, "body", "the file is empty");
        goto out;
    }
    if (out->rows == 0) {
        rc = refuse(s, 422, 1, "body", "the file has a header and no data rows");
        goto out;
    }
    if ((rc = flush(s)) != 0)
        goto out;
    copying = false;
    if (PQputCopyEnd(pg, NULL) != 1) {
        rc = JF_ERR_DB;
        goto out;
    }
    r = PQgetResult(pg);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = JF_ERR_DB;
        goto out;
    }
    PQclear(r);
    while ((r = PQgetResult(pg)) != NULL)
        PQclear(r);
    {
        char runid[24], rows[24], uid[24];
        const char *p[] = {
            runid, o->source, rows, out->encoding, o->user_id > 0 ? uid : NULL, s->unknown.data};

        snprintf(runid, sizeof(runid), "%lld", o->run_id);
        snprintf(rows, sizeof(rows), "%ld", out->rows);
        snprintf(uid, sizeof(uid), "%lld", o->user_id);
        r = PQexecParams(pg,
                         "INSERT INTO reconcile_sources (run_id, source, rows, encoding, loaded_by,"
                         " unknown_columns) SELECT $1, $2, $3, $4, $5,"
                         " ARRAY(SELECT jsonb_array_elements_text($6::jsonb))"
                         " ON CONFLICT (run_id, source) DO UPDATE"
                         " SET rows = EXCLUDED.rows, encoding = EXCLUDED.encoding,"
                         " loaded_by = EXCLUDED.loaded_by, loaded_at = now(),"
                         " unknown_columns = EXCLUDED.unknown_columns",
                         6, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = JF_ERR_DB;
    }
out:
    if (copying) {
        PQputCopyEnd(pg, "load refused");
        PGresult *x;
        while ((x = PQgetResult(pg)) != NULL)
            PQclear(x);
    }
    if (rc == JF_ERR_DB && out->message[0] == '\0')
        snprintf(out->message, sizeof(out->message), "%s",
                 r ? PQresultErrorMessage(r) : PQerrorMessage(pg));
    PQclear(r);
    if (s != NULL) {
        if (s->cd != (iconv_t)-1)
            iconv_close(s->cd);
        mac_free(&s->mac);
        free(s->rec);
        free(s->out);
        jf_buf_free(&s->unknown);
    }
    free(s);
    free(raw);
    free(u8);
    return rc;
}
