/* Group commit of the audit rows of reads. A read writes nothing else, so
 * giving it an INSERT of its own turns every read into a write transaction
 * (an xid, a commit record, index insertions, a round trip) and costs more
 * than the read itself. Instead the request thread encodes its row as one
 * line of COPY text into a shared buffer and waits; one flusher thread
 * sends whatever has gathered with one COPY, and when that commits wakes
 * every reader whose row it carried. While one batch is in flight the next
 * gathers, so under load many reads share one commit.
 *
 * No read is answered before its record is durable: a reader whose batch
 * has not committed within the wait limit (the database is away) fails
 * with 503, and its row stays queued for the next attempt. A crash loses
 * only rows of reads that were never answered. The buffer is capped: when
 * it is full a reader inserts its row itself, and a failure there fails the
 * request. Changes are audited synchronously in their own transaction. */
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
#define ROW_MAX_BYTES (64u * 1024)

static const char copy_sql[] =
    "COPY audit_log (at, user_id, username, role, action, target_type, target_id,"
    " org_unit_id, client_addr, request_id, detail) FROM STDIN";

#define RETRY_MS 200 /* pause after a failed batch before the next attempt */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;      /* the flusher: rows are pending, or stop */
    pthread_cond_t committed; /* readers: a batch committed */
    pthread_t thread;
    jf_db_pool *pool; /* the flusher's own connection: readers waiting on
                       * it may hold every connection of the service's pool */
    long wait_ms;
    jf_buf pending;          /* COPY text lines not yet sent */
    unsigned long long next; /* the batch that rows appended now will be in */
    unsigned long long done; /* every batch up to this one has committed… */
    unsigned long long lost; /* …but this one and those before it (out of memory) */
    bool running, stopping;
    bool mend; /* the last batch failed: check the connection first (flusher only) */
} batch = {.lock = PTHREAD_MUTEX_INITIALIZER,
           .wake = PTHREAD_COND_INITIALIZER,
           .committed = PTHREAD_COND_INITIALIZER};

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
    /* After a failure, through the pool first: a connection broken by a
     * database restart is mended there, never here. (Not before every
     * batch: a round trip more in each read's wait.) */
    if (batch.mend) {
        rc = jf_db_exec_sql(conn, "SELECT 1", 0, NULL, &res);
        PQclear(res);
        if (rc != 0) {
            jf_db_pool_release(batch.pool, conn);
            return rc;
        }
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
    batch.mend = rc != 0;
    jf_db_pool_release(batch.pool, conn);
    return rc;
}

/* Take what is pending and send it; wake its readers once it committed.
 * What arrives meanwhile may only fill the room the batch in flight leaves
 * under the cap, so that a failed batch always fits back in front of it
 * (its rows then go with the next batch, whose commit wakes their readers
 * too): nothing is lost while the database is away, memory stays under the
 * cap, and once it is full readers record their reads synchronously (or
 * fail with it). Returns 0, or the failure of the COPY. */
static int flush_once(void)
{
    unsigned long long n;
    jf_buf out;
    int rc = 0;

    pthread_mutex_lock(&batch.lock);
    out = batch.pending;
    n = batch.next++;
    jf_buf_init(&batch.pending, BATCH_MAX_BYTES - out.len);
    pthread_mutex_unlock(&batch.lock);
    if (out.len > 0)
        rc = copy_out(&out);
    pthread_mutex_lock(&batch.lock);
    if (rc == 0) {
        batch.done = n;
        pthread_cond_broadcast(&batch.committed);
    } else {
        out.cap = BATCH_MAX_BYTES;
        if (jf_buf_append(&out, batch.pending.data, batch.pending.len) == 0) {
            jf_buf_free(&batch.pending);
            batch.pending = out;
            out.data = NULL;
        } else {
            batch.lost = n;
            jf_log_error("audit", "%zu bytes of read records lost: out of memory", out.len);
        }
    }
    pthread_mutex_unlock(&batch.lock);
    jf_buf_free(&out);
    return rc;
}

/* The time ms from now, for pthread_cond_timedwait. */
static struct timespec after_ms(long ms)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += (ms % 1000) * 1000000L;
    t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

static void *flusher(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&batch.lock);
    while (!batch.stopping) {
        while (!batch.stopping && batch.pending.len == 0)
            pthread_cond_wait(&batch.wake, &batch.lock);
        if (batch.stopping)
            break;
        pthread_mutex_unlock(&batch.lock);
        int rc = flush_once();
        pthread_mutex_lock(&batch.lock);
        if (rc != 0) { /* the database is away: do not spin on it */
            struct timespec until = after_ms(RETRY_MS);
            while (!batch.stopping &&
                   pthread_cond_timedwait(&batch.wake, &batch.lock, &until) != ETIMEDOUT)
                ;
        }
    }
    pthread_mutex_unlock(&batch.lock);
    return NULL;
}

int jf_audit_batch_start(const char *conninfo, long wait_ms)
{
    if (jf_db_pool_create(&batch.pool, conninfo, 1, 10000) != 0)
        return JF_ERR_NOMEM;
    batch.wait_ms = wait_ms;
    batch.stopping = false;
    batch.next = 1;
    batch.done = batch.lost = 0;
    jf_buf_init(&batch.pending, BATCH_MAX_BYTES);
    if (pthread_create(&batch.thread, NULL, flusher, NULL) != 0) {
        jf_db_pool_destroy(batch.pool);
        return JF_ERR_NOMEM;
    }
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
    jf_db_pool_destroy(batch.pool);
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
    struct timespec until;
    bool durable = false;
    jf_buf line;
    int rc;

    if (!batch.running)
        return record_now(conn, req, e);
    jf_buf_init(&line, ROW_MAX_BYTES);
    rc = encode_row(&line, req, e);
    until = after_ms(batch.wait_ms);
    if (rc == 0) {
        pthread_mutex_lock(&batch.lock);
        rc = jf_buf_append(&batch.pending, line.data, line.len);
        if (rc == 0) {
            unsigned long long mine = batch.next;
            pthread_cond_signal(&batch.wake);
            while (batch.done < mine &&
                   pthread_cond_timedwait(&batch.committed, &batch.lock, &until) != ETIMEDOUT)
                ;
            durable = batch.done >= mine && mine > batch.lost;
        }
        pthread_mutex_unlock(&batch.lock);
    }
    jf_buf_free(&line);
    /* No room (or a row too large for a line): audit it the slow way. */
    if (rc != 0)
        return record_now(conn, req, e);
    if (durable)
        return 0;
    /* Withhold the answer; the row stays queued for the next attempt. */
    jf_log_error("audit", "a read's record was not committed within %ld ms", batch.wait_ms);
    return JF_ERR_UNAVAILABLE;
}
