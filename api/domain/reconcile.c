/* 三网 data comparison: CSV records, encodings, normalised row facts and
 * the finding states. */
#include "reconcile.h"
#include "date.h"

#include <string.h>

static const char *const col_keys[JF_REC_NCOLS] = {"id",      "name",   "gender",    "birth_date",
                                                   "village", "status", "risk_level"};
static const char *const col_defaults[JF_REC_NCOLS] = {"身份证号", "姓名", "性别",    "出生日期",
                                                       "村(社区)", "状态", "风险等级"};

const char *const jf_rec_sources[] = {
    "police", "health", "grid", "drug_purchase", "special_outpatient", "reimbursement", NULL};
const char *const jf_rec_categories[] = {"missing_police",    "unregistered",     "not_in_registry",
                                         "deceased_conflict", "village_conflict", "risk_conflict",
                                         "invalid_id",        "duplicate",        NULL};
const char *const jf_rec_states[] = {"open", "verifying", "resolved", NULL};

const char *jf_rec_col_key(jf_rec_col c)
{
    return (unsigned)c < JF_REC_NCOLS ? col_keys[c] : "";
}

const char *jf_rec_col_default(jf_rec_col c)
{
    return (unsigned)c < JF_REC_NCOLS ? col_defaults[c] : "";
}

bool jf_rec_source_valid(const char *s)
{
    for (int i = 0; s != NULL && jf_rec_sources[i] != NULL; i++)
        if (strcmp(s, jf_rec_sources[i]) == 0)
            return true;
    return false;
}

bool jf_rec_csv_complete(const char *rec, size_t len)
{
    bool quoted = false;

    for (size_t i = 0; i < len; i++)
        if (rec[i] == '"')
            quoted = !quoted;
    return !quoted;
}

int jf_rec_csv_split(char *rec, size_t len, char **fields, int max)
{
    size_t i = 0;
    int n = 0;

    for (;;) {
        char *out = rec + i;
        size_t o = 0;

        if (n == max)
            return -2;
        fields[n++] = out;
        if (i < len && rec[i] == '"') {
            i++;
            for (;;) {
                if (i >= len)
                    return -1; /* never closed */
                if (rec[i] == '"') {
                    if (i + 1 < len && rec[i + 1] == '"') {
                        out[o++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                out[o++] = rec[i++];
            }
            if (i < len && rec[i] != ',')
                return -1; /* text after the closing quote */
        } else {
            while (i < len && rec[i] != ',') {
                if (rec[i] == '"')
                    return -1;
                out[o++] = rec[i++];
            }
        }
        if (i >= len) {
            out[o] = '\0';
            return n;
        }
        out[o] = '\0'; /* overwrites the comma or a consumed byte */
        i++;
    }
}

static bool is_ideo_space(const char *p)
{
    return (unsigned char)p[0] == 0xE3 && (unsigned char)p[1] == 0x80 &&
           (unsigned char)p[2] == 0x80;
}

char *jf_rec_trim(char *s)
{
    size_t n = strlen(s), b = 0;

    for (;;) {
        if (n > b && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            n--;
        else if (n >= b + 3 && is_ideo_space(s + n - 3))
            n -= 3;
        else
            break;
    }
    for (;;) {
        if (b < n && (s[b] == ' ' || s[b] == '\t'))
            b++;
        else if (b + 3 <= n && is_ideo_space(s + b))
            b += 3;
        else
            break;
    }
    memmove(s, s + b, n - b);
    s[n - b] = '\0';
    return s;
}

size_t jf_rec_utf8_prefix(const unsigned char *buf, size_t n, bool *bad)
{
    size_t i = 0;

    *bad = false;
    while (i < n) {
        unsigned c = buf[i];
        size_t k;
        unsigned min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            min = 0x10000;
        } else {
            *bad = true;
            return i;
        }
        if (i + k >= n) {
            /* truncated at the end: check what is there */
            for (size_t j = i + 1; j < n; j++)
                if ((buf[j] & 0xC0) != 0x80) {
                    *bad = true;
                    return i;
                }
            return i;
        }
        unsigned cp = c & (0x3F >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((buf[i + j] & 0xC0) != 0x80) {
                *bad = true;
                return i;
            }
            cp = cp << 6 | (buf[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            *bad = true;
            return i;
        }
        i += k + 1;
    }
    return i;
}

const char *jf_rec_status_norm(const char *s)
{
    static const char *const dead[] = {"死亡", "已死亡",   "已故", "死亡销户", "死亡销案",
                                       "去世", "deceased", "dead", NULL};

    if (s == NULL || s[0] == '\0')
        return "";
    for (int i = 0; dead[i] != NULL; i++)
        if (strcmp(s, dead[i]) == 0)
            return "deceased";
    return "active";
}

const char *jf_rec_gender_norm(const char *s)
{
    if (s == NULL)
        return NULL;
    if (strcmp(s, "男") == 0 || strcmp(s, "male") == 0 || strcmp(s, "M") == 0 ||
        strcmp(s, "m") == 0 || strcmp(s, "1") == 0)
        return "male";
    if (strcmp(s, "女") == 0 || strcmp(s, "female") == 0 || strcmp(s, "F") == 0 ||
        strcmp(s, "f") == 0 || strcmp(s, "2") == 0)
        return "female";
    return NULL;
}

int jf_rec_risk_parse(const char *s)
{
    static const char *const cn[] = {"零", "一", "二", "三", "四", "五"};
    int v = -1;
    const char *rest = NULL;

    if (s == NULL || s[0] == '\0')
        return -1;
    if (s[0] >= '0' && s[0] <= '5') {
        v = s[0] - '0';
        rest = s + 1;
    } else {
        for (int i = 0; i <= 5; i++)
            if (strncmp(s, cn[i], strlen(cn[i])) == 0) {
                v = i;
                rest = s + strlen(cn[i]);
                break;
            }
    }
    if (v < 0)
        return -1;
    if (rest[0] == '\0' || strcmp(rest, "级") == 0)
        return v;
    return -1;
}

/* Read 1-4 digits at *p into *v; advances *p. */
static bool read_num(const char **p, int maxd, int *v)
{
    int d = 0;

    *v = 0;
    while (d < maxd && **p >= '0' && **p <= '9') {
        *v = *v * 10 + (**p - '0');
        (*p)++;
        d++;
    }
    return d > 0;
}

/* Skip one separator: '-', '/', '.', or the UTF-8 of 年 or 月. */
static bool skip_sep(const char **p)
{
    if (**p == '-' || **p == '/' || **p == '.') {
        (*p)++;
        return true;
    }
    if (strncmp(*p, "年", 3) == 0 || strncmp(*p, "月", 3) == 0) {
        *p += 3;
        return true;
    }
    return false;
}

int jf_rec_date_parse(const char *s, char out[11])
{
    int y, m, d;
    const char *p = s;

    if (s == NULL)
        return -1;
    if (strlen(s) == 8 && strspn(s, "0123456789") == 8) {
        y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        m = (s[4] - '0') * 10 + (s[5] - '0');
        d = (s[6] - '0') * 10 + (s[7] - '0');
    } else {
        if (!read_num(&p, 4, &y) || p - s != 4 || !skip_sep(&p) || !read_num(&p, 2, &m) ||
            !skip_sep(&p) || !read_num(&p, 2, &d))
            return -1;
        if (strncmp(p, "日", 3) == 0)
            p += 3;
        if (*p != '\0')
            return -1;
    }
    if (y < 1900 || y > 2100 || !jf_date_valid(y, m, d))
        return -1;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
    return 0;
}

bool jf_rec_transition_ok(const char *from, const char *to)
{
    static const char *const moves[][2] = {{"open", "verifying"},
                                           {"verifying", "resolved"},
                                           {"verifying", "open"},
                                           {"resolved", "open"}};

    if (from == NULL || to == NULL)
        return false;
    for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++)
        if (strcmp(from, moves[i][0]) == 0 && strcmp(to, moves[i][1]) == 0)
            return true;
    return false;
}
