/* Civil-date arithmetic (days from civil, after H. Hinnant's algorithms). */
#include "date.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Per thread, so a test clock set for one request never leaks into another. */
static _Thread_local jf_date today_override = JF_DATE_NONE;

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && leap(y) ? 29 : days[m - 1];
}

bool jf_date_valid(int y, int m, int d)
{
    return y >= 1900 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 && d <= month_days(y, m);
}

jf_date jf_date_from_ymd(int y, int m, int d)
{
    int era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void jf_date_to_ymd(jf_date t, int *y, int *m, int *d)
{
    int z = t + 719468, era, doe, yoe, doy, mp;

    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

int jf_date_parse(const char *s, jf_date *out)
{
    int y, m, d;

    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (!jf_date_valid(y, m, d))
        return -1;
    *out = jf_date_from_ymd(y, m, d);
    return 0;
}

void jf_date_format(jf_date t, char out[11])
{
    int y, m, d;

    jf_date_to_ymd(t, &y, &m, &d);
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)d % 100u);
}

jf_date jf_date_add_months(jf_date t, int n)
{
    int y, m, d, months;

    jf_date_to_ymd(t, &y, &m, &d);
    months = y * 12 + (m - 1) + n;
    y = months / 12;
    m = months % 12 + 1;
    if (d > month_days(y, m))
        d = month_days(y, m);
    return jf_date_from_ymd(y, m, d);
}

jf_date jf_date_today(void)
{
    if (today_override != JF_DATE_NONE)
        return today_override;
    /* China Standard Time has no daylight saving: UTC+8 always. */
    return (jf_date)((time(NULL) + 8 * 3600) / 86400);
}

void jf_date_set_today(jf_date t)
{
    today_override = t;
}

bool jf_date_overridden(void)
{
    return today_override != JF_DATE_NONE;
}

int jf_date_ymd_int(jf_date t)
{
    int y, m, d;

    jf_date_to_ymd(t, &y, &m, &d);
    return y * 10000 + m * 100 + d;
}
