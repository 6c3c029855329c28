/* Old months of the audit trail out to files (migration 0047): each month
 * before a given one is written as CSV in chain order, synced, its SHA-256
 * recorded in audit_archives with the link the chain goes on from, and only
 * then detached and dropped. Run as the owner of the database; the chain is
 * verified before anything leaves, so an archive never hides tampering. */
#include "audit.h"
#include "../core/crypto.h"
#include "../core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char months_sql[] = "SELECT name FROM audit_archivable($1::date)";

/* COPY month `name` to fd, hashing what is written. */
static int copy_out(PGconn *pg, const char *name, int fd, unsigned char sha[JF_SHA256_LEN])
{
    char *ident = PQescapeIdentifier(pg, name, strlen(name)), *sql = NULL, *buf;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    PGresult *res = NULL;
    size_t cap;
    int rc = JF_ERR_DB, n;

    if (ident == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        goto out;
    cap = strlen(ident) + 256;
    if ((sql = malloc(cap)) == NULL)
        goto out;
    snprintf(sql, cap,
             "COPY (SELECT * FROM %s ORDER BY chain_seq NULLS FIRST, id)"
             " TO STDOUT (FORMAT csv, HEADER)",
             ident);
    res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_COPY_OUT)
        goto out;
    while ((n = PQgetCopyData(pg, &buf, 0)) > 0) {
        ssize_t w = write(fd, buf, (size_t)n);

        EVP_DigestUpdate(md, buf, (size_t)n);
        PQfreemem(buf);
        if (w != n) {
            rc = JF_ERR_IO;
            goto out;
        }
    }
    PQclear(res);
    res = PQgetResult(pg);
    if (n != -1 || PQresultStatus(res) != PGRES_COMMAND_OK)
        goto out;
    rc = EVP_DigestFinal_ex(md, sha, NULL) == 1 ? 0 : JF_ERR_CRYPTO;
out:
    PQclear(res);
    /* After an error, drain what the connection still has to say. */
    while (rc != 0 && (res = PQgetResult(pg)) != NULL)
        PQclear(res);
    EVP_MD_CTX_free(md);
    free(sql);
    PQfreemem(ident);
    return rc;
}

/* Write month `name` to dir/name.csv (through a temporary name, synced),
 * then record it and drop it in one transaction. */
static int archive_month(PGconn *pg, const char *name, const char *dir, FILE *out)
{
    unsigned char sha[JF_SHA256_LEN];
    char hex[2 * JF_SHA256_LEN + 1], path[4096], part[4096];
    PGresult *res = NULL;
    int fd = -1, dfd = -1, rc;

    if (snprintf(path, sizeof(path), "%s/%s.csv", dir, name) >= (int)sizeof(path) ||
        snprintf(part, sizeof(part), "%s/.%s.csv.part", dir, name) >= (int)sizeof(part))
        return JF_ERR_TOO_LARGE;
    if ((fd = open(part, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0) {
        fprintf(stderr, "audit-archive: %s: %s\n", part, strerror(errno));
        return JF_ERR_IO;
    }
    if ((rc = copy_out(pg, name, fd, sha)) != 0)
        goto out;
    if (fsync(fd) != 0 || close(fd) != 0 || rename(part, path) != 0) {
        fd = -1;
        rc = JF_ERR_IO;
        goto out;
    }
    fd = -1;
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0 || fsync(dfd) != 0) {
        rc = JF_ERR_IO;
        goto out;
    }
    jf_crypto_hex(sha, sizeof(sha), hex);
    {
        const char *p[] = {name, hex, path};

        PQclear(PQexec(pg, "BEGIN"));
        res =
            PQexecParams(pg, "SELECT audit_archive_record($1, $2, $3)", 3, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            PQclear(PQexec(pg, "ROLLBACK"));
            rc = JF_ERR_DB;
            goto out;
        }
        PQclear(res);
        res = PQexec(pg, "COMMIT");
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            rc = JF_ERR_DB;
            goto out;
        }
    }
    fprintf(out, "archived %s to %s, sha256 %s\n", name, path, hex);
out:
    PQclear(res);
    if (fd >= 0) {
        close(fd);
        unlink(part);
    }
    if (dfd >= 0)
        close(dfd);
    return rc;
}

int jf_audit_archive(PGconn *pg, const unsigned char key[32], const char *before, const char *dir,
                     FILE *out)
{
    const char *p[] = {before};
    PGresult *res = NULL;
    int rc;

    /* What leaves must have been intact. */
    if ((rc = jf_audit_verify(pg, key, out)) != 0)
        return rc;
    res = PQexecParams(pg, months_sql, 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = JF_ERR_DB;
        goto out;
    }
    if (PQntuples(res) == 0)
        fprintf(out, "no audit month before %s to archive\n", before);
    for (int i = 0; rc == 0 && i < PQntuples(res); i++)
        rc = archive_month(pg, PQgetvalue(res, i, 0), dir, out);
out:
    PQclear(res);
    return rc;
}
