/* CSV cells safe against formula injection (see csv.h). */
#include "csv.h"

#include <string.h>

int jf_csv_text(jf_buf *b, const char *s, bool quote)
{
    bool formula;
    int rc = 0;

    if (s == NULL)
        s = "";
    formula = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
    quote = quote || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        rc = jf_buf_puts(b, "\"");
    if (rc == 0 && formula)
        rc = jf_buf_puts(b, "'");
    for (const char *p = s; rc == 0 && *p; p++)
        rc = *p == '"' ? jf_buf_puts(b, "\"\"") : jf_buf_append(b, p, 1);
    if (rc == 0 && quote)
        rc = jf_buf_puts(b, "\"");
    return rc;
}
