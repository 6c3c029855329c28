/* The libpq calls of the 三网 loader (api/reconcile/load.c), answered in
 * memory so that fuzz_csv_load drives the loader's decoding, CSV parsing
 * and normalising without a database. Every COPY chunk the loader sends is
 * checked: whole lines of twelve tab-separated columns in COPY's text
 * format, with every backslash an escape COPY knows (a raw tab, newline or
 * stray backslash from a cell would shift or break the row). */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#define COLUMNS 12

struct pg_result {
    ExecStatusType status;
};

static struct pg_result ok = {PGRES_COMMAND_OK}, copy_in = {PGRES_COPY_IN};
static int results_left; /* PQgetResult answers after PQputCopyEnd */

PGresult *PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                       const char *const *paramValues, const int *paramLengths,
                       const int *paramFormats, int resultFormat)
{
    (void)conn, (void)command, (void)nParams, (void)paramTypes, (void)paramValues;
    (void)paramLengths, (void)paramFormats, (void)resultFormat;
    return &ok;
}

PGresult *PQexec(PGconn *conn, const char *query)
{
    (void)conn;
    return strncmp(query, "COPY ", 5) == 0 ? &copy_in : &ok;
}

ExecStatusType PQresultStatus(const PGresult *res)
{
    return res ? res->status : PGRES_FATAL_ERROR;
}

void PQclear(PGresult *res)
{
    (void)res;
}

int PQputCopyData(PGconn *conn, const char *buffer, int nbytes)
{
    int tabs = 0;

    (void)conn;
    if (nbytes <= 0 || buffer[nbytes - 1] != '\n')
        abort();
    for (int i = 0; i < nbytes; i++) {
        char c = buffer[i];

        if (c == '\0' || c == '\r')
            abort();
        if (c == '\\') {
            if (++i >= nbytes || strchr("\\tnrN", buffer[i]) == NULL || buffer[i] == '\0')
                abort();
        } else if (c == '\t') {
            tabs++;
        } else if (c == '\n') {
            if (tabs != COLUMNS - 1)
                abort();
            tabs = 0;
        }
    }
    return 1;
}

int PQputCopyEnd(PGconn *conn, const char *errormsg)
{
    (void)conn, (void)errormsg;
    results_left = 1;
    return 1;
}

PGresult *PQgetResult(PGconn *conn)
{
    (void)conn;
    return results_left-- > 0 ? &ok : NULL;
}

char *PQresultErrorMessage(const PGresult *res)
{
    (void)res;
    return (char *)"";
}

char *PQerrorMessage(const PGconn *conn)
{
    (void)conn;
    return (char *)"";
}
