/* Batched audit rows for reads. A read writes nothing else, so giving it an
 * INSERT of its own turns every read into a write transaction (an xid, a
 * commit record, three index insertions, a round trip) and costs more than
 * the read itself. Instead the request thread encodes its row as one line of
 * COPY text into a shared buffer, and one flusher thread sends the buffer
 * with COPY every flush interval or sooner when it fills up.
 *
 * What this trades: a crash of the process loses at most the last interval
 * of read records (SIGTERM flushes them; changes are always audited
 * synchronously in their own transaction). No read goes unaudited for lack
 * of room: when the buffer is full (the database has been away for a
 * while) jf_audit_defer inserts the row synchronously, and a failure there
 * fails the request. */
#include "audit.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BATCH_MAX_BYTES (8u * 1024 * 1024)
#define BATCH_KICK_BYTES (256u * 1024) /* wake the flusher early past this */
#define ROW_MAX_BYTES (64u * 1024)

static const char copy_sql[] =
    "COPY audit_log (at, user_id, username, role, action, target_type, target_id,"
    " org_unit_id, client_addr, request_id, detail) FROM STDIN";

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    jf_db_pool *pool;
    long flush_ms;
    jf_buf pending; /* COPY text lines not yet sent */
    bool running, stopping;
} batch = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* One COPY text field: \N for NULL, else the value with the four bytes
 * that COPY gives meaning to escaped. */
static int put_field(jf_buf *b, const char *s, bool last)
{
    int rc = 0;

    if (s == NULL) {
        rc = jf_buf_puts(b, "\\N");
    } else {
        for (const char *p = s; rc == 0 && *p; p++) {
            switch (*p) {
            case '\\':
                rc = jf_buf_puts(b, "\\\\");
                break;
            case '\t':
                rc = jf_buf_puts(b, "\\t");
                break;
            case '\n':
                rc = jf_buf_puts(b, "\\n");
                break;
            case '\r':
                rc = jf_buf_puts(b, "\\r");
                break;
            default:
                rc = jf_buf_append(b, p, 1);
            }
        }
    }
    return rc ? rc : jf_buf_puts(b, last ? "\n" : "\t");
}

/* The time of the read, not of the flush: the row carries its own. */
static void now_text(char out[64])
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 64, "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

static int encode_row(jf_buf *line, const jf_req *req, const jf_audit_entry *e)
{
    char at[64], uid[24], ou[24];
    const char *username = e->username, *role = e->role;
    long long user_id = e->user_id;

    if (user_id == 0 && req->authenticated) {
        user_id = req->claims.user_id;
        username = req->claims.username;
        role = req->claims.role;
    }
    now_text(at);
    snprintf(uid, sizeof(uid), "%lld", user_id);
    snprintf(ou, sizeof(ou), "%lld", e->org_unit_id);
    const char *f[] = {at,
                       user_id ? uid : NULL,
                       username,
                       role,
                       e->action,
                       e->target_type,
                       e->target_id,
                       e->org_unit_id ? ou : NULL,
                       jf_req_remote(req),
                       req->request_id,
                       e->detail_json};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(f) / sizeof(f[0]); i++)
        rc = put_field(line, f[i], i + 1 == sizeof(f) / sizeof(f[0]));
    return rc;
}

/* Send data (whole lines) with one COPY on a pooled connection. */
static int copy_out(const jf_buf *data)
{
    jf_db_conn *conn;
    PGresult *res;
    int rc;

    if (jf_db_pool_acquire(batch.pool, &conn) != 0)
        return JF_ERR_DB;
    /* Through the pool first: a connection broken by a database restart is
     * mended there (and its prepared statements forgotten), never here. */
    rc = jf_db_exec_sql(conn, "SELECT 1", 0, NULL, &res);
    PQclear(res);
    if (rc != 0) {
        jf_db_pool_release(batch.pool, conn);
        return rc;
    }
    PGconn *pg = jf_db_pg(conn);
    res = PQexec(pg, copy_sql);
    rc = PQresultStatus(res) == PGRES_COPY_IN ? 0 : JF_ERR_DB;
    PQclear(res);
    if (rc == 0 &&
        (PQputCopyData(pg, data->data, (int)data->len) != 1 || PQputCopyEnd(pg, NULL) != 1))
        rc = JF_ERR_DB;
    while ((res = PQgetResult(pg)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = JF_ERR_DB;
        PQclear(res);
    }
    if (rc != 0)
        jf_log_error("audit", "batch of read records not written: %s", PQerrorMessage(pg));
    jf_db_pool_release(batch.pool, conn);
    return rc;
}

/* Take what is pending and send it. What arrives meanwhile may only fill
 * the room the batch in flight leaves under the cap, so that a failed
 * batch always fits back in front of it: nothing is lost while the
 * database is away, memory stays under the cap, and once it is full
 * readers record their reads synchronously (or fail with it). */
static void flush_once(void)
{
    jf_buf out;
    int rc = 0;

    pthread_mutex_lock(&batch.lock);
    out = batch.pending;
    jf_buf_init(&batch.pending, BATCH_MAX_BYTES - out.len);
    pthread_mutex_unlock(&batch.lock);
    if (out.len == 0) {
        jf_buf_free(&out);
        return;
    }
    if (copy_out(&out) != 0) {
        pthread_mutex_lock(&batch.lock);
        out.cap = BATCH_MAX_BYTES;
        rc = jf_buf_append(&out, batch.pending.data, batch.pending.len);
        if (rc == 0) {
            jf_buf_free(&batch.pending);
            batch.pending = out;
            out.data = NULL;
        }
        pthread_mutex_unlock(&batch.lock);
        if (rc != 0)
            jf_log_error("audit", "%zu bytes of read records lost: out of memory", out.len);
    }
    jf_buf_free(&out);
}

static void *flusher(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&batch.lock);
    while (!batch.stopping) {
        if (batch.pending.len < BATCH_KICK_BYTES) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += (batch.flush_ms % 1000) * 1000000L;
            until.tv_sec += batch.flush_ms / 1000 + until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            while (!batch.stopping && batch.pending.len < BATCH_KICK_BYTES &&
                   pthread_cond_timedwait(&batch.wake, &batch.lock, &until) != ETIMEDOUT)
                ;
        }
        pthread_mutex_unlock(&batch.lock);
        flush_once();
        pthread_mutex_lock(&batch.lock);
    }
    pthread_mutex_unlock(&batch.lock);
    return NULL;
}

int jf_audit_batch_start(jf_db_pool *pool, long flush_ms)
{
    batch.pool = pool;
    batch.flush_ms = flush_ms;
    batch.stopping = false;
    jf_buf_init(&batch.pending, BATCH_MAX_BYTES);
    if (pthread_create(&batch.thread, NULL, flusher, NULL) != 0)
        return JF_ERR_NOMEM;
    batch.running = true;
    return 0;
}

void jf_audit_batch_stop(void)
{
    if (!batch.running)
        return;
    pthread_mutex_lock(&batch.lock);
    batch.stopping = true;
    pthread_cond_signal(&batch.wake);
    pthread_mutex_unlock(&batch.lock);
    pthread_join(batch.thread, NULL);
    batch.running = false;
    flush_once(); /* what arrived while the thread stopped */
    if (batch.pending.len > 0)
        jf_log_error("audit", "%zu bytes of read records could not be written at shutdown",
                     batch.pending.len);
    jf_buf_free(&batch.pending);
}

/* Insert the record now, on conn or else on a connection borrowed for it. */
static int record_now(jf_db_conn *conn, const jf_req *req, const jf_audit_entry *e)
{
    int rc;

    if (conn != NULL)
        return jf_audit_record(conn, req, e);
    if ((rc = jf_db_pool_acquire(req->app->pool, &conn)) != 0)
        return rc;
    rc = jf_audit_record(conn, req, e);
    jf_db_pool_release(req->app->pool, conn);
    return rc;
}

int jf_audit_defer(jf_db_conn *conn, const jf_req *req, const jf_audit_entry *e)
{
    jf_buf line;
    int rc;

    if (!batch.running)
        return record_now(conn, req, e);
    jf_buf_init(&line, ROW_MAX_BYTES);
    rc = encode_row(&line, req, e);
    if (rc == 0) {
        pthread_mutex_lock(&batch.lock);
        rc = jf_buf_append(&batch.pending, line.data, line.len);
        if (rc == 0 && batch.pending.len >= BATCH_KICK_BYTES)
            pthread_cond_signal(&batch.wake);
        pthread_mutex_unlock(&batch.lock);
    }
    jf_buf_free(&line);
    /* No room (or a row too large for a line): audit it the slow way. */
    return rc == 0 ? 0 : record_now(conn, req, e);
}
