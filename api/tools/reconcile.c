/* jingfang-reconcile: one 三网 comparison run from the command line. Each
 * SOURCE=FILE is streamed into the run (the same loader as the upload
 * endpoint), then the run is analysed; the whole run is one transaction,
 * so a refused file leaves nothing behind. Prints the run as JSON. */
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../domain/reconcile.h"
#include "../reconcile/load.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FILES 6

static void usage(void)
{
    fprintf(stderr,
            "usage: jingfang-reconcile --unit CODE [--note TEXT] [--encoding auto|utf-8|gbk]\n"
            "                          [--mapping SOURCE=ID]... SOURCE=FILE...\n"
            "  SOURCE: police health grid drug_purchase special_outpatient reimbursement\n"
            "  environment: JF_DB_URL (libpq), JF_ID_INDEX_KEY and JF_AUDIT_KEY (64 hex digits "
            "each)\n");
}

static long file_read(void *ctx, char *buf, size_t cap)
{
    FILE *f = ctx;
    size_t n = fread(buf, 1, cap, f);

    if (n == 0 && ferror(f))
        return JF_ERR_IO;
    return (long)n;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int hexkey(const char *s, unsigned char out[32])
{
    if (s == NULL || strlen(s) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

static int fail(PGconn *pg, const char *what, const char *msg)
{
    fprintf(stderr, "jingfang-reconcile: %s: %s\n", what, msg);
    PQclear(PQexec(pg, "ROLLBACK"));
    PQfinish(pg);
    return 1;
}

/* The columns of saved mapping id for source into o. */
static int load_mapping(PGconn *pg, const char *id, const char *source, jf_rec_load_opts *o,
                        json_t **keep)
{
    const char *p[] = {id, source};
    PGresult *r = PQexecParams(pg,
                               "SELECT columns::text FROM reconcile_mappings WHERE id = $1::bigint"
                               " AND source = $2",
                               2, NULL, p, NULL, NULL, 0);
    json_t *j;

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    j = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    if (j == NULL)
        return -1;
    for (int c = 0; c < JF_REC_NCOLS; c++)
        o->columns[c] = json_string_value(json_object_get(j, jf_rec_col_key((jf_rec_col)c)));
    o->optional = 0;
    *keep = j;
    return 0;
}

int main(int argc, char **argv)
{
    const char *unit = NULL, *note = NULL, *files[MAX_FILES], *sources[MAX_FILES];
    const char *mappings[MAX_FILES] = {0};
    jf_rec_encoding enc = JF_REC_ENC_AUTO;
    unsigned char key[32], audit_key[32];
    int nfiles = 0;
    char err[512], run[24];
    PGconn *pg;
    PGresult *r;
    double t0 = now_s(), t;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL, *eq;

        if (strcmp(a, "--unit") == 0 && v) {
            unit = v;
            i++;
        } else if (strcmp(a, "--note") == 0 && v) {
            note = v;
            i++;
        } else if (strcmp(a, "--encoding") == 0 && v) {
            if (strcmp(v, "auto") == 0)
                enc = JF_REC_ENC_AUTO;
            else if (strcmp(v, "utf-8") == 0)
                enc = JF_REC_ENC_UTF8;
            else if (strcmp(v, "gbk") == 0)
                enc = JF_REC_ENC_GBK;
            else {
                usage();
                return 2;
            }
            i++;
        } else if (strcmp(a, "--mapping") == 0 && v && (eq = strchr(v, '=')) != NULL) {
            int k;
            for (k = 0; jf_rec_sources[k] != NULL; k++)
                if (strncmp(v, jf_rec_sources[k], (size_t)(eq - v)) == 0 &&
                    strlen(jf_rec_sources[k]) == (size_t)(eq - v))
                    break;
            if (jf_rec_sources[k] == NULL) {
                usage();
                return 2;
            }
            mappings[k] = eq + 1;
            i++;
        } else if (a[0] != '-' && (eq = strchr(a, '=')) != NULL && nfiles < MAX_FILES) {
            static char names[MAX_FILES][32];
            size_t n = (size_t)(eq - a);
            if (n >= sizeof(names[0])) {
                usage();
                return 2;
            }
            memcpy(names[nfiles], a, n);
            names[nfiles][n] = '\0';
            if (!jf_rec_source_valid(names[nfiles])) {
                fprintf(stderr, "jingfang-reconcile: %s is not a source\n", names[nfiles]);
                usage();
                return 2;
            }
            for (int k = 0; k < nfiles; k++)
                if (strcmp(sources[k], names[nfiles]) == 0) {
                    fprintf(stderr, "jingfang-reconcile: %s given twice\n", names[nfiles]);
                    return 2;
                }
            sources[nfiles] = names[nfiles];
            files[nfiles++] = eq + 1;
        } else {
            usage();
            return 2;
        }
    }
    if (unit == NULL || nfiles == 0) {
        usage();
        return 2;
    }
    if (hexkey(getenv("JF_ID_INDEX_KEY"), key) != 0) {
        fprintf(stderr, "jingfang-reconcile: JF_ID_INDEX_KEY must be 64 hex digits\n");
        return 2;
    }
    /* The run is audited, and audit rows are chained under this key. */
    if (hexkey(getenv("JF_AUDIT_KEY"), audit_key) != 0 || jf_audit_key_use(audit_key) != 0) {
        fprintf(stderr, "jingfang-reconcile: JF_AUDIT_KEY must be 64 hex digits\n");
        return 2;
    }
    pg = PQconnectdb(getenv("JF_DB_URL") ? getenv("JF_DB_URL") : "dbname=jingfang");
    if (PQstatus(pg) != CONNECTION_OK)
        return fail(pg, "database", PQerrorMessage(pg));
    PQclear(PQexec(pg, "BEGIN"));
    /* Staging only: a crash loses the run, which is simply loaded again. */
    PQclear(PQexec(pg, "SET LOCAL synchronous_commit = off"));
    {
        const char *p[] = {unit, note};
        r = PQexecParams(pg,
                         "INSERT INTO reconcile_runs (org_unit_id, org_path, note)"
                         " SELECT id, path, $2 FROM org_units WHERE code = $1 RETURNING id",
                         2, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
            PQclear(r);
            return fail(pg, unit, "no such org unit");
        }
        snprintf(run, sizeof(run), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    for (int i = 0; i < nfiles; i++) {
        jf_rec_load_opts o = {.run_id = strtoll(run, NULL, 10),
                              .source = sources[i],
                              .encoding = enc,
                              .today_ymd = jf_date_ymd_int(jf_date_today()),
                              .index_key = key};
        jf_rec_load_result res;
        json_t *mapj = NULL;
        FILE *f;
        int k, rc;

        for (k = 0; strcmp(jf_rec_sources[k], sources[i]) != 0; k++)
            ;
        if (mappings[k] != NULL) {
            if (load_mapping(pg, mappings[k], sources[i], &o, &mapj) != 0)
                return fail(pg, mappings[k], "no such mapping for this source");
        } else {
            for (int c = 0; c < JF_REC_NCOLS; c++)
                o.columns[c] = jf_rec_col_default((jf_rec_col)c);
            o.optional = ~((1u << JF_REC_ID) | (1u << JF_REC_NAME));
        }
        t = now_s();
        f = fopen(files[i], "rb");
        if (f == NULL) {
            json_decref(mapj);
            return fail(pg, files[i], "cannot be opened");
        }
        rc = jf_rec_load(pg, &o, file_read, f, &res);
        fclose(f);
        json_decref(mapj);
        if (rc != 0)
            return fail(pg, files[i], res.message[0] ? res.message : "could not be read");
        fprintf(stderr, "jingfang-reconcile: %s: %ld rows (%s) in %.2f s\n", files[i], res.rows,
                res.encoding, now_s() - t);
        if (res.unknown_columns > 0)
            fprintf(stderr,
                    "jingfang-reconcile: %s: warning: %d column(s) of the header are not mapped"
                    " and were left out (the run's sources list them)\n",
                    files[i], res.unknown_columns);
    }
    t = now_s();
    if (jf_rec_analyse(pg, strtoll(run, NULL, 10), NULL, err, sizeof(err)) != 0)
        return fail(pg, "analysis", err);
    fprintf(stderr, "jingfang-reconcile: analysis in %.2f s\n", now_s() - t);
    {
        const char *p[] = {run};
        r = PQexecParams(pg,
                         "INSERT INTO audit_log (username, action, target_type, target_id,"
                         " org_unit_id, detail) SELECT 'jingfang-reconcile', 'reconcile.run',"
                         " 'reconcile_run', id::text, org_unit_id, summary FROM reconcile_runs"
                         " WHERE id = $1",
                         1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            PQclear(r);
            return fail(pg, "audit", PQerrorMessage(pg));
        }
        PQclear(r);
        r = PQexecParams(pg,
                         "SELECT json_build_object('run_id', id, 'org_unit_id', org_unit_id,"
                         " 'sources', (SELECT json_object_agg(source, rows) FROM reconcile_sources"
                         " WHERE run_id = r.id), 'summary', summary, 'diff', diff)::text"
                         " FROM reconcile_runs r WHERE id = $1",
                         1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            PQclear(r);
            return fail(pg, "summary", PQerrorMessage(pg));
        }
        printf("%s\n", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    r = PQexec(pg, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        PQclear(r);
        return fail(pg, "commit", PQerrorMessage(pg));
    }
    PQclear(r);
    PQfinish(pg);
    fprintf(stderr, "jingfang-reconcile: run %s committed, %.2f s in all\n", run, now_s() - t0);
    return 0;
}
