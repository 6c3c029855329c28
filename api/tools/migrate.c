/* jingfang-migrate DIR [DEFS]: apply the numbered migrations in DIR
 * (NNNN_name.sql) in order, each in its own transaction, recording name and
 * SHA-256. An applied migration whose file changed since is refused, loudly:
 * migrations are never edited after they land; a new one fixes an old one.
 * Then re-apply, on every run and in one transaction, the current
 * definitions in DEFS (default: DIR/../definitions when it exists): the
 * functions, views and triggers as CREATE OR REPLACE, so that each rule's
 * SQL has one place that is read and changed (migrations keep tables and
 * data changes, and the history of definitions as they were).
 * Connection from JF_DB_URL or JF_DB_URL_FILE (libpq conninfo), default
 * "dbname=jingfang".
 * Once the owner role owns the database (migration 0025), every migration
 * runs as it, even when a superuser connects, so that it owns what they
 * create. */
#include "../core/config.h"
#include "../core/crypto.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_MIGRATIONS 1000
#define MAX_FILE (8u * 1024 * 1024)

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && (size_t)n <= MAX_FILE &&
        fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static int ok(PGconn *pg, PGresult *r, const char *what)
{
    ExecStatusType st = PQresultStatus(r);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return 1;
    fprintf(stderr, "jingfang-migrate: %s: %s", what, PQerrorMessage(pg));
    return 0;
}

/* Run one command; 1 when it succeeded. */
static int run(PGconn *pg, const char *sql, const char *what)
{
    PGresult *r = PQexec(pg, sql);
    int good = ok(pg, r, what);

    PQclear(r);
    return good;
}

/* SET ROLE jingfang_owner when it owns the database (0025 made it so), the
 * session may take it and has not yet; 1 unless that failed. */
static int become_owner(PGconn *pg)
{
    PGresult *r = PQexec(pg, "SELECT 1 FROM pg_roles r JOIN pg_database d ON d.datdba = r.oid"
                             " WHERE d.datname = current_database()"
                             " AND r.rolname = 'jingfang_owner' AND r.rolname <> current_user"
                             " AND pg_has_role(r.oid, 'MEMBER')");
    int good = ok(pg, r, "look up the owner role");

    if (good && PQntuples(r) == 1)
        good = run(pg, "SET ROLE jingfang_owner", "set role jingfang_owner");
    PQclear(r);
    return good;
}

static int is_migration(const char *name)
{
    size_t n = strlen(name);

    return n > 9 && strspn(name, "0123456789") == 4 && name[4] == '_' &&
           strcmp(name + n - 4, ".sql") == 0;
}

static int is_definition(const char *name)
{
    size_t n = strlen(name);

    return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".sql") == 0;
}

/* The names in dir that pass keep, sorted, into names (at most max; the
 * caller frees them); -1 when dir cannot be opened. */
static int list_sql(const char *dir, int (*keep)(const char *), char **names, int max)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL && n < max)
        if (keep(de->d_name))
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), cmp);
    return n;
}

/* Every definition file of dir, in name order, in one transaction as the
 * owner: all of today's definitions or none. 1 when applied. */
static int apply_definitions(PGconn *pg, const char *dir)
{
    char *names[MAX_MIGRATIONS], path[4096];
    int n = list_sql(dir, is_definition, names, MAX_MIGRATIONS), good;

    if (n < 0) {
        fprintf(stderr, "jingfang-migrate: cannot open %s\n", dir);
        return 0;
    }
    good = become_owner(pg) && run(pg, "BEGIN", "begin");
    for (int i = 0; i < n && good; i++) {
        size_t len = 0;
        char *sql;

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        sql = slurp(path, &len);
        if (sql == NULL)
            fprintf(stderr, "jingfang-migrate: cannot read %s\n", path);
        good = sql != NULL && run(pg, sql, names[i]);
        free(sql);
    }
    good = good && run(pg, "COMMIT", "commit");
    if (!good)
        PQclear(PQexec(pg, "ROLLBACK"));
    else
        printf("definitions: %d files applied\n", n);
    for (int i = 0; i < n; i++)
        free(names[i]);
    return good;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "db/migrations";
    char url[512], err[256], defs[4096];
    struct stat st;
    char *names[MAX_MIGRATIONS];
    int n = 0, rc = 1, applied = 0;
    PGconn *pg;

    if (jf_config_env("JF_DB_URL", url, sizeof(url), err, sizeof(err)) != 0) {
        fprintf(stderr, "jingfang-migrate: %s\n", err);
        return 1;
    }
    pg = PQconnectdb(*url ? url : "dbname=jingfang");
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "jingfang-migrate: cannot connect: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return 1;
    }
    n = list_sql(dir, is_migration, names, MAX_MIGRATIONS);
    if (n < 0) {
        fprintf(stderr, "jingfang-migrate: cannot open %s\n", dir);
        PQfinish(pg);
        return 1;
    }
    if (argc > 2)
        snprintf(defs, sizeof(defs), "%s", argv[2]);
    else if (snprintf(defs, sizeof(defs), "%s/../definitions", dir) >= (int)sizeof(defs) ||
             stat(defs, &st) != 0 || !S_ISDIR(st.st_mode))
        defs[0] = '\0';

    PQclear(PQexec(pg, "SET client_min_messages = warning"));
    /* One migrator at a time, even with several replicas starting at once. */
    if (!run(pg, "SELECT pg_advisory_lock(7263)", "lock") || !become_owner(pg) ||
        !run(pg,
             "CREATE TABLE IF NOT EXISTS schema_migrations ("
             " version text PRIMARY KEY, sha256 text NOT NULL,"
             " applied_at timestamptz NOT NULL DEFAULT now())",
             "create schema_migrations"))
        goto out;

    for (int i = 0; i < n; i++) {
        unsigned char h[JF_SHA256_LEN];
        char hex[2 * JF_SHA256_LEN + 1], path[4096];
        size_t len = 0;
        char *sql;
        PGresult *r;

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        sql = slurp(path, &len);
        if (sql == NULL) {
            fprintf(stderr, "jingfang-migrate: cannot read %s\n", path);
            goto out;
        }
        jf_crypto_sha256(sql, len, h);
        jf_crypto_hex(h, sizeof(h), hex);
        const char *p[] = {names[i]};
        r = PQexecParams(pg, "SELECT sha256 FROM schema_migrations WHERE version = $1", 1, NULL, p,
                         NULL, NULL, 0);
        if (!ok(pg, r, "read schema_migrations")) {
            PQclear(r);
            free(sql);
            goto out;
        }
        if (PQntuples(r) == 1) {
            int same = strcmp(PQgetvalue(r, 0, 0), hex) == 0;
            PQclear(r);
            free(sql);
            if (!same) {
                fprintf(stderr,
                        "jingfang-migrate: %s was edited after it was applied (checksum "
                        "differs). Applied migrations must never change: restore the file "
                        "and add a new migration instead.\n",
                        names[i]);
                goto out;
            }
            continue;
        }
        PQclear(r);
        /* The whole file and its record commit together or not at all. */
        int good = become_owner(pg) && run(pg, "BEGIN", "begin") && run(pg, sql, names[i]);
        if (good) {
            const char *ip[] = {names[i], hex};
            r = PQexecParams(pg, "INSERT INTO schema_migrations (version, sha256) VALUES ($1, $2)",
                             2, NULL, ip, NULL, NULL, 0);
            good = ok(pg, r, "record migration");
            PQclear(r);
        }
        free(sql);
        if (!good) {
            PQclear(PQexec(pg, "ROLLBACK"));
            goto out;
        }
        if (!run(pg, "COMMIT", "commit"))
            goto out;
        printf("applied %s\n", names[i]);
        applied++;
    }
    printf("migrations: %d applied, %d already in place\n", applied, n - applied);
    if (defs[0] != '\0' && !apply_definitions(pg, defs))
        goto out;
    rc = 0;
out:
    for (int i = 0; i < n; i++)
        free(names[i]);
    PQfinish(pg);
    return rc;
}
