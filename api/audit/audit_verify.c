/* The audit chain (migration 0026): hand the key to the database sessions
 * that add rows, and walk the chain to find the first row edited, deleted
 * or moved. The message of a row is built here from the stored columns,
 * byte for byte as the trigger builds it, so that nothing the database
 * owner can replace (a function, a view) takes part in the check. */
#include "audit.h"
#include "../core/buf.h"
#include "../core/crypto.h"
#include "../core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_ROWS "5000"
#define NFIELDS 13 /* the fields of the message, in the order of the SELECT */

/* The stored columns of a page of chained rows, the message fields first. */
static const char page_sql[] =
    "SELECT chain_seq, id, (extract(epoch FROM at) * 1000000)::bigint, user_id, username, role,"
    " action, target_type, target_id, org_unit_id, client_addr, request_id, detail::text,"
    " encode(chain_mac, 'hex')"
    " FROM audit_log WHERE chain_seq > $1 ORDER BY chain_seq LIMIT " PAGE_ROWS;

/* Where the chain goes on after the archived months (migration 0047): the
 * anchor link and its HMAC, then the HMACs of archived links after it. */
static const char anchor_sql[] = "SELECT anchor_seq, encode(anchor_mac, 'hex') FROM audit_archives"
                                 " ORDER BY anchor_seq DESC, archived_at DESC LIMIT 1";
static const char bridges_sql[] =
    "SELECT b.key::bigint, b.value FROM (SELECT bridges FROM audit_archives"
    " ORDER BY anchor_seq DESC, archived_at DESC LIMIT 1) a, jsonb_each_text(a.bridges) b"
    " ORDER BY 1";

/* Rows without a chain after the first chained one were added with the
 * trigger off (or had their chain removed). */
static const char unchained_sql[] =
    "SELECT id FROM audit_log WHERE chain_seq IS NULL"
    " AND id > (SELECT min(id) FROM audit_log WHERE chain_seq IS NOT NULL) ORDER BY id LIMIT 1";

int jf_audit_key_use(const unsigned char key[32])
{
    char hex[65], opts[1024];
    const char *prev = getenv("PGOPTIONS");

    jf_crypto_hex(key, 32, hex);
    /* jit=off beside the key, for every session of the service: its
     * statements are short, and compiling the plan of one the planner
     * thinks large (the dashboard at a million patients) took 1.3 s of a
     * 0.16 s statement. */
    if (snprintf(opts, sizeof(opts), "%s%s-c jit=off -c jingfang.audit_key=%s", prev ? prev : "",
                 prev && *prev ? " " : "", hex) >= (int)sizeof(opts))
        return JF_ERR_INVALID;
    return setenv("PGOPTIONS", opts, 1) == 0 ? 0 : JF_ERR_NOMEM;
}

/* HMAC(key, prev || message of row i of res) into mac. */
static int row_mac(const unsigned char key[32], const unsigned char *prev, size_t prevlen,
                   PGresult *res, int i, unsigned char mac[JF_SHA256_LEN])
{
    jf_buf m;
    int rc;

    jf_buf_init(&m, 64u * 1024 * 1024);
    rc = jf_buf_append(&m, prev, prevlen);
    for (int f = 0; rc == 0 && f < NFIELDS; f++)
        rc = PQgetisnull(res, i, f)
                 ? jf_buf_puts(&m, "-")
                 : jf_buf_printf(&m, "%d:", PQgetlength(res, i, f)) ||
                       jf_buf_append(&m, PQgetvalue(res, i, f), (size_t)PQgetlength(res, i, f));
    if (rc == 0)
        jf_crypto_hmac_sha256(key, 32, m.data, m.len, mac);
    jf_buf_free(&m);
    return rc ? JF_ERR_NOMEM : 0;
}

/* The archived link `want`, if the newest archive kept it: its HMAC into
 * prev. Bridges are in order, *next the first not yet used. */
static int bridge(PGresult *b, int *next, long long want, unsigned char *prev, size_t *prevlen)
{
    if (b == NULL || *next >= PQntuples(b) || strtoll(PQgetvalue(b, *next, 0), NULL, 10) != want)
        return 0;
    if (jf_crypto_unhex(PQgetvalue(b, *next, 1), prev, JF_SHA256_LEN) != 0)
        return 0;
    *prevlen = JF_SHA256_LEN;
    (*next)++;
    return 1;
}

int jf_audit_verify(PGconn *pg, const unsigned char key[32], FILE *out)
{
    unsigned char prev[JF_SHA256_LEN], mac[JF_SHA256_LEN];
    char hex[2 * JF_SHA256_LEN + 1] = "-", after[24] = "0";
    size_t prevlen = 0; /* the chain starts from the empty string */
    long long want = 1, n = 0, archived = 0;
    PGresult *res = NULL, *bridges = NULL;
    int rc = 0, broken = 0, next = 0;

    /* After an archive, from its anchor. */
    res = PQexec(pg, anchor_sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = JF_ERR_DB;
        goto out;
    }
    if (PQntuples(res) == 1) {
        archived = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        if (archived > 0 && jf_crypto_unhex(PQgetvalue(res, 0, 1), prev, sizeof(prev)) != 0) {
            rc = JF_ERR_DB;
            goto out;
        }
        prevlen = archived > 0 ? sizeof(prev) : 0;
        want = archived + 1;
        snprintf(after, sizeof(after), "%lld", archived);
        bridges = PQexec(pg, bridges_sql);
        if (PQresultStatus(bridges) != PGRES_TUPLES_OK) {
            rc = JF_ERR_DB;
            goto out;
        }
    }
    PQclear(res);
    for (;;) {
        const char *p[] = {after};
        res = PQexecParams(pg, page_sql, 1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            rc = JF_ERR_DB;
            goto out;
        }
        if (PQntuples(res) == 0)
            break;
        for (int i = 0; i < PQntuples(res); i++, want++, n++) {
            long long seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
            const char *id = PQgetvalue(res, i, 1);

            while (seq != want && bridge(bridges, &next, want, prev, &prevlen))
                want++;
            if (seq != want) {
                fprintf(out,
                        "audit chain broken: row %lld is missing (deleted), before audit row id %s"
                        " (chain_seq %lld)\n",
                        want, id, seq);
                broken = 1;
                goto out;
            }
            rc = row_mac(key, prev, prevlen, res, i, mac);
            if (rc != 0)
                goto out;
            jf_crypto_hex(mac, sizeof(mac), hex);
            if (strcmp(hex, PQgetvalue(res, i, NFIELDS)) != 0) {
                fprintf(out,
                        "audit chain broken: audit row id %s (chain_seq %lld) was edited,"
                        " moved, or a row before it was\n",
                        id, seq);
                broken = 1;
                goto out;
            }
            memcpy(prev, mac, sizeof(mac));
            prevlen = sizeof(mac);
        }
        snprintf(after, sizeof(after), "%lld", want - 1);
        PQclear(res);
    }
    /* Archived links at the very end of the chain. */
    while (bridge(bridges, &next, want, prev, &prevlen)) {
        jf_crypto_hex(prev, sizeof(prev), hex);
        want++;
    }
    PQclear(res);
    res = PQexec(pg, unchained_sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = JF_ERR_DB;
        goto out;
    }
    if (PQntuples(res) > 0) {
        fprintf(out, "audit chain broken: audit row id %s was added outside the chain\n",
                PQgetvalue(res, 0, 0));
        broken = 1;
        goto out;
    }
    /* The last link: kept outside the database, it also shows rows cut
     * from the end. */
    fprintf(out, "audit chain intact: %lld rows", n);
    if (archived > 0)
        fprintf(out, " after %lld archived", archived);
    fprintf(out, ", last chain_seq %lld, mac %s\n", want - 1, hex);
out:
    PQclear(res);
    PQclear(bridges);
    return rc ? rc : broken;
}
