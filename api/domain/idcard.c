/* Resident ID numbers (GB 11643-1999): parse, normalise, validate. */
#include "idcard.h"

#include <string.h>

/* Longest raw input we look at; full-width characters take 3 bytes each, so
 * 64 leaves room for an 18-character ID typed in full width plus spacing. */
#define IDCARD_MAX_INPUT 64

static const int idcard_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};

/* Province prefixes (first two digits of the area code) in use. */
static const unsigned char idcard_provinces[] = {
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43,
    44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 91,
};

static bool idcard_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

char jf_idcard_check_char(const char *first17)
{
    static const char map[] = "10X98765432";
    int s = 0;

    if (first17 == NULL)
        return '\0';
    for (int i = 0; i < 17; i++) {
        if (!idcard_is_digit(first17[i]))
            return '\0';
        s += (first17[i] - '0') * idcard_weights[i];
    }
    return map[s % 11];
}

/* Copy input to out without spaces and hyphens, folding full-width digits and
 * X to ASCII. Returns the cleaned length; other bytes are kept so the
 * character check can reject them. out holds IDCARD_MAX_INPUT + 1 bytes. */
static size_t idcard_clean(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = in[i];

        if (c == ' ' || c == '-')
            continue;
        if (c == 0xEF && i + 2 < n) {
            if (in[i + 1] == 0xBC && in[i + 2] >= 0x90 && in[i + 2] <= 0x99) {
                out[o++] = (char)('0' + (in[i + 2] - 0x90));
                i += 2;
                continue;
            }
            if ((in[i + 1] == 0xBC && in[i + 2] == 0xB8) ||
                (in[i + 1] == 0xBD && in[i + 2] == 0x98)) {
                out[o++] = 'X';
                i += 2;
                continue;
            }
        }
        out[o++] = c == 'x' ? 'X' : (char)c;
    }
    out[o] = '\0';
    return o;
}

static bool idcard_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int idcard_days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (m == 2 && idcard_leap(y))
        return 29;
    return days[m - 1];
}

static int idcard_num(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool idcard_area_ok(const char *s)
{
    int p;

    if (s[0] == '0')
        return false;
    p = idcard_num(s, 2);
    for (size_t i = 0; i < sizeof(idcard_provinces); i++)
        if (idcard_provinces[i] == p)
            return true;
    return false;
}

jf_idcard_result jf_idcard_parse(const char *input, int today_ymd, jf_idcard *out)
{
    char clean[IDCARD_MAX_INPUT + 1];
    char num[JF_IDCARD_LEN + 1];
    size_t raw, n;
    int y, m, d;
    char check;

    if (input == NULL)
        return JF_IDCARD_BAD_LENGTH;
    raw = strnlen(input, IDCARD_MAX_INPUT + 1);
    if (raw > IDCARD_MAX_INPUT)
        return JF_IDCARD_BAD_LENGTH;
    n = idcard_clean((const unsigned char *)input, raw, clean);
    if (n != 15 && n != 18)
        return JF_IDCARD_BAD_LENGTH;

    for (size_t i = 0; i < n; i++) {
        bool last_x = n == 18 && i == 17 && clean[i] == 'X';

        if (!idcard_is_digit(clean[i]) && !last_x)
            return JF_IDCARD_BAD_CHARS;
    }

    if (n == 15) {
        memcpy(num, clean, 6);
        num[6] = '1';
        num[7] = '9';
        memcpy(num + 8, clean + 6, 9);
        num[17] = '\0';
    } else {
        memcpy(num, clean, 18);
    }
    num[18] = '\0';

    if (!idcard_area_ok(num))
        return JF_IDCARD_BAD_AREA;

    y = idcard_num(num + 6, 4);
    m = idcard_num(num + 10, 2);
    d = idcard_num(num + 12, 2);
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > idcard_days_in_month(y, m))
        return JF_IDCARD_BAD_DATE;
    if (y * 10000 + m * 100 + d > today_ymd)
        return JF_IDCARD_FUTURE_DATE;

    check = jf_idcard_check_char(num);
    if (n == 15)
        num[17] = check;
    else if (num[17] != check)
        return JF_IDCARD_BAD_CHECK;

    memcpy(out->number, num, sizeof(out->number));
    out->year = y;
    out->month = m;
    out->day = d;
    out->male = (num[16] - '0') % 2 == 1;
    return JF_IDCARD_OK;
}

const char *jf_idcard_result_str(jf_idcard_result r)
{
    switch (r) {
    case JF_IDCARD_OK:
        return "ok";
    case JF_IDCARD_BAD_LENGTH:
        return "ID number must have 15 or 18 characters";
    case JF_IDCARD_BAD_CHARS:
        return "ID number may contain only digits and a final X";
    case JF_IDCARD_BAD_AREA:
        return "area code does not name a province";
    case JF_IDCARD_BAD_DATE:
        return "birth date is not a valid date";
    case JF_IDCARD_FUTURE_DATE:
        return "birth date is in the future";
    case JF_IDCARD_BAD_CHECK:
        return "check character does not match";
    }
    return "invalid ID number";
}

/* Write v as exactly w decimal digits (v is clamped to fit). */
static void idcard_put_digits(char *p, int v, int w)
{
    if (v < 0)
        v = 0;
    for (int i = w - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void jf_idcard_birth_iso(const jf_idcard *id, char out[11])
{
    idcard_put_digits(out, id->year, 4);
    out[4] = '-';
    idcard_put_digits(out + 5, id->month, 2);
    out[7] = '-';
    idcard_put_digits(out + 8, id->day, 2);
    out[10] = '\0';
}
