/* Calendar dates as days since 1970-01-01 (proleptic Gregorian), with the
 * arithmetic the follow-up rules need. Pure; "today" is China Standard Time
 * and injectable for tests through jf_date_set_today. */
#ifndef JF_DATE_H
#define JF_DATE_H

#include <stdbool.h>

typedef int jf_date; /* days since 1970-01-01 */

#define JF_DATE_NONE (-2147483647 - 1)

/* Is y-m-d a real date (year 1900..2199)? */
bool jf_date_valid(int y, int m, int d);
/* Days since the epoch of a valid y-m-d. */
jf_date jf_date_from_ymd(int y, int m, int d);
void jf_date_to_ymd(jf_date t, int *y, int *m, int *d);
/* Parse exactly "YYYY-MM-DD". 0 or -1. */
int jf_date_parse(const char *s, jf_date *out);
/* "YYYY-MM-DD" into out (11 bytes). */
void jf_date_format(jf_date t, char out[11]);
/* The same day n months later (or earlier), clamped to the month's end:
 * 2026-01-31 + 1 month = 2026-02-28. */
jf_date jf_date_add_months(jf_date t, int n);
/* Today in China Standard Time (UTC+8), unless overridden. */
jf_date jf_date_today(void);
/* Override today on this thread, for tests (JF_DATE_NONE: back to the clock). */
void jf_date_set_today(jf_date t);
/* Is today overridden on this thread (a test clock)? */
bool jf_date_overridden(void);
/* yyyymmdd of a date (for jf_idcard_parse). */
int jf_date_ymd_int(jf_date t);

#endif
