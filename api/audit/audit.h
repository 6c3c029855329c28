/* The append-only audit trail (个人信息保护法): one call records who did
 * what to which target, when, from where and in which request. */
#ifndef JF_AUDIT_H
#define JF_AUDIT_H

#include "../db/pool.h"
#include "../http/request.h"

#include <stdio.h>

typedef struct jf_audit_entry {
    const char *action;      /* "auth.login", "user.update", "patient.read" … */
    const char *target_type; /* "user", "patient" …, or NULL */
    const char *target_id;   /* or NULL */
    long long org_unit_id;   /* the target's unit, 0 when none */
    const char *detail_json; /* a JSON object text, or NULL */
    /* The actor. When user_id is 0 and the request is authenticated, the
     * token's bearer is recorded; for a failed login, username alone. */
    long long user_id;
    const char *username;
    const char *role;
} jf_audit_entry;

/* Register the audit statements (once at start). */
int jf_audit_init(void);
/* Insert one audit row on conn (inside the caller's transaction when one is
 * open, so the record and the change commit together). */
int jf_audit_record(jf_db_conn *conn, const jf_req *req, const jf_audit_entry *e);

/* Reads are audited by group commit (audit_batch.c): start the flusher,
 * which writes the rows readers queue on a connection of its own to
 * conninfo; stop writes what is left (call after the HTTP server stopped). */
int jf_audit_batch_start(const char *conninfo, long wait_ms);
void jf_audit_batch_stop(void);
/* Record a read and return once the record is committed: queued for the
 * flusher when it runs, waiting at most its wait_ms (then
 * JF_ERR_UNAVAILABLE: withhold the answer); else (and when the queue is
 * full) inserted at once on conn like jf_audit_record (conn NULL: on a
 * connection borrowed from the request's pool for it). */
int jf_audit_defer(jf_db_conn *conn, const jf_req *req, const jf_audit_entry *e);

/* Audit rows are chained by an HMAC under key (audit_verify.c, migration
 * 0026), computed in the database by the session that adds them: give the
 * key to every connection this process opens from now on (through libpq's
 * PGOPTIONS, never in a statement). Call once at start, before any thread. */
int jf_audit_key_use(const unsigned char key[32]);
/* Walk the chain on pg and write one line to out: intact (with the last
 * link, to keep elsewhere), or the first row edited, deleted or moved.
 * Returns 0 when intact, 1 when broken, a negative jf_err on failure. */
int jf_audit_verify(PGconn *pg, const unsigned char key[32], FILE *out);
/* Archive every month of the trail before the month of `before` (a date;
 * never the current month) into dir: verified first, then one CSV per month
 * (audit_archive.c, migration 0047). pg must be the database owner's.
 * 0, 1 when the chain is broken (nothing archived), or a negative jf_err. */
int jf_audit_archive(PGconn *pg, const unsigned char key[32], const char *before, const char *dir,
                     FILE *out);

#endif
