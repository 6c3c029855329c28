/* .xlsx into memory: libxlsxwriter on a thread with a large stack. */
#include "xlsx.h"
#include "err.h"
#include "log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define XLSX_STACK (2u * 1024u * 1024u)

struct job {
    jf_xlsx_fill fill;
    void *arg;
    const char *path;
    lxw_error err;
};

static void *run(void *arg)
{
    struct job *j = arg;
    lxw_workbook *wb = workbook_new(j->path);

    if (wb == NULL) {
        j->err = LXW_ERROR_CREATING_XLSX_FILE;
        return NULL;
    }
    j->fill(wb, j->arg);
    j->err = workbook_close(wb);
    return NULL;
}

/* Read the file at path (at most max bytes) into *out. */
static int slurp(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY), rc = JF_ERR_IO;
    struct stat st;
    size_t got = 0;

    if (fd < 0)
        return JF_ERR_IO;
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || (size_t)st.st_size > max) {
        rc = JF_ERR_TOO_LARGE;
    } else if ((*out = malloc((size_t)st.st_size)) == NULL) {
        rc = JF_ERR_NOMEM;
    } else {
        while (got < (size_t)st.st_size) {
            ssize_t k = read(fd, *out + got, (size_t)st.st_size - got);
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        *len = got;
        rc = got == (size_t)st.st_size ? 0 : JF_ERR_IO;
    }
    close(fd);
    return rc;
}

int jf_xlsx_build(jf_xlsx_fill fill, void *arg, size_t max_bytes, char **out, size_t *len)
{
    char path[] = "/tmp/jf-xlsx-XXXXXX";
    struct job job = {fill, arg, path, LXW_NO_ERROR};
    pthread_attr_t attr;
    pthread_t t;
    int fd = mkstemp(path), rc = JF_ERR_IO;

    *out = NULL;
    if (fd < 0)
        return JF_ERR_IO;
    close(fd);
    if (pthread_attr_init(&attr) != 0)
        goto out;
    pthread_attr_setstacksize(&attr, XLSX_STACK);
    if (pthread_create(&t, &attr, run, &job) == 0) {
        pthread_join(t, NULL);
        rc = 0;
    }
    pthread_attr_destroy(&attr);
    if (rc != 0 || job.err != LXW_NO_ERROR) {
        jf_log_error("xlsx", "%s", lxw_strerror(job.err));
        rc = JF_ERR_IO;
        goto out;
    }
    rc = slurp(path, max_bytes, out, len);
out:
    unlink(path);
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

struct table {
    const char *sheet, *title;
    size_t ncols, nrows;
    const char *const *head, *const *cells;
};

static void fill_table(lxw_workbook *wb, void *arg)
{
    const struct table *t = arg;
    lxw_worksheet *ws = workbook_add_worksheet(wb, t->sheet);
    lxw_format *title = workbook_add_format(wb), *head = workbook_add_format(wb);

    format_set_bold(title);
    format_set_font_size(title, 14);
    format_set_bold(head);
    format_set_border(head, LXW_BORDER_THIN);
    worksheet_write_string(ws, 0, 0, t->title, title);
    for (size_t c = 0; c < t->ncols; c++) {
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, 16, NULL);
        worksheet_write_string(ws, 1, (lxw_col_t)c, t->head[c], head);
    }
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            if (s != NULL && *s != '\0')
                worksheet_write_string(ws, (lxw_row_t)(r + 2), (lxw_col_t)c, s, NULL);
        }
}

int jf_xlsx_table(const char *sheet, const char *title, size_t ncols, const char *const *head,
                  size_t nrows, const char *const *cells, size_t max_bytes, char **out, size_t *len)
{
    struct table t = {sheet, title, ncols, nrows, head, cells};

    return jf_xlsx_build(fill_table, &t, max_bytes, out, len);
}
