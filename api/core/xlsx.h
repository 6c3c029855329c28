/* .xlsx workbooks the service answers with (reports, ledgers), built by
 * libxlsxwriter into memory. */
#ifndef JF_XLSX_H
#define JF_XLSX_H

#include <stddef.h>
#include <xlsxwriter.h>

/* Fills an open workbook (sheets, formats, cells); closed by the caller. */
typedef void (*jf_xlsx_fill)(lxw_workbook *wb, void *arg);

/* Build a workbook with fill(wb, arg) and return its bytes in *out
 * (malloc'd, *len bytes). libxlsxwriter (zlib, its XML writers) runs on a
 * thread of its own with a 2 MB stack, not on a civetweb worker's 100 KB,
 * through a temporary file removed before returning. A workbook larger
 * than max_bytes is an error. 0 or a jf_err. */
int jf_xlsx_build(jf_xlsx_fill fill, void *arg, size_t max_bytes, char **out, size_t *len);

/* One sheet named sheet: a bold title row, a header row of ncols cells and
 * nrows rows of text cells (cells[row * ncols + col], NULL: blank). */
int jf_xlsx_table(const char *sheet, const char *title, size_t ncols, const char *const *head,
                  size_t nrows, const char *const *cells, size_t max_bytes, char **out,
                  size_t *len);

#endif
