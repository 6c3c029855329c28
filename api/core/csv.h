/* Cells of the CSV files the service writes (exports, reports), safe to
 * open in a spreadsheet. */
#ifndef JF_CSV_H
#define JF_CSV_H

#include "buf.h"

#include <stdbool.h>

/* Append text s (NULL: empty) as one CSV cell. A cell that a spreadsheet
 * would read as a formula (first character = + - @ TAB or CR) gets a
 * leading single quote (OWASP "CSV injection"); a cell holding a comma, a
 * quote, CR or LF, or any cell when quote is set, is quoted with quotes
 * doubled (RFC 4180). Numbers the
 * service computes are not text: write them directly, so that -3 stays a
 * number. 0 or the jf_buf error. */
int jf_csv_text(jf_buf *b, const char *s, bool quote);

#endif
