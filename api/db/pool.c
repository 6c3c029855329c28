/* Bounded libpq pool with lazy per-connection prepared statements. */
#include "pool.h"
#include "../core/err.h"
#include "../core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct jf_db_conn {
    jf_db_pool *pool; /* the pool it belongs to: released there, whatever the caller names */
    PGconn *pg;
    bool in_use;
    bool in_tx;
    bool lost;            /* the server ended the session: open a new one on next acquire */
    char last_state[6];   /* the SQLSTATE of the last JF_ERR_DB, for the log */
    char last_error[200]; /* and the start of its message */
    unsigned char prepared[JF_DB_MAX_STMTS];
};

/* A thread waiting for a connection. Waiters queue in arrival order and a
 * released connection is handed straight to the oldest, so no request
 * starves behind luckier ones (a plain condition variable let p99 latency
 * run to hundreds of milliseconds under load). */
struct waiter {
    pthread_cond_t wake;
    jf_db_conn *conn; /* set by the releasing thread */
    struct waiter *next;
};

struct jf_db_pool {
    pthread_mutex_t lock;
    char *conninfo;
    int size;
    int in_use;
    int timeout_ms;
    bool replica; /* a hot standby's: reads only */
    jf_db_conn *conns;
    struct waiter *head, *tail; /* FIFO of waiting threads */
};

static jf_stmt *stmts[JF_DB_MAX_STMTS];
static int nstmts;

int jf_db_stmt_register(jf_stmt *stmt)
{
    for (int i = 0; i < nstmts; i++)
        if (stmts[i] == stmt)
            return 0;
    if (nstmts == JF_DB_MAX_STMTS)
        return JF_ERR_TOO_LARGE;
    stmt->id = nstmts;
    stmts[nstmts++] = stmt;
    return 0;
}

const jf_stmt *jf_db_stmt_find(const char *name)
{
    for (int i = 0; i < nstmts; i++)
        if (strcmp(stmts[i]->name, name) == 0)
            return stmts[i];
    return NULL;
}

int jf_db_stmt_register_all(jf_stmt *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (jf_db_stmt_register(list[i]) != 0)
            return JF_ERR_TOO_LARGE;
    return 0;
}

int jf_db_pool_create(jf_db_pool **out, const char *conninfo, int size, int acquire_timeout_ms)
{
    jf_db_pool *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return JF_ERR_NOMEM;
    p->conns = calloc((size_t)size, sizeof(*p->conns));
    p->conninfo = strdup(conninfo);
    if (p->conns == NULL || p->conninfo == NULL) {
        free(p->conns);
        free(p->conninfo);
        free(p);
        return JF_ERR_NOMEM;
    }
    for (int i = 0; i < size; i++)
        p->conns[i].pool = p;
    pthread_mutex_init(&p->lock, NULL);
    p->size = size;
    p->timeout_ms = acquire_timeout_ms;
    *out = p;
    return 0;
}

void jf_db_pool_destroy(jf_db_pool *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->size; i++)
        if (p->conns[i].pg)
            PQfinish(p->conns[i].pg);
    pthread_mutex_destroy(&p->lock);
    free(p->conns);
    free(p->conninfo);
    free(p);
}

static void on_notice(void *arg, const char *message)
{
    (void)arg;
    /* libpq's text ends with a newline; the JSON line needs none. */
    jf_log_warn("db_notice", "%.*s", (int)strcspn(message, "\n"), message);
}

void jf_db_log_notices(PGconn *pg)
{
    if (pg != NULL)
        PQsetNoticeProcessor(pg, on_notice, NULL);
}

/* Did this failure lose the session (SQLSTATE class 08, 57P01..57P03 —
 * the server shut down or restarted — or a broken connection)? */
static bool conn_lost(PGconn *pg, const PGresult *res)
{
    const char *st = jf_db_sqlstate(res);

    return PQstatus(pg) == CONNECTION_BAD || strncmp(st, "08", 2) == 0 ||
           strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 || strcmp(st, "57P03") == 0;
}

static struct {
    pthread_mutex_t lock;
    time_t first;        /* 0: the database is not known to be down */
    unsigned long count; /* failures since the last line */
} down = {.lock = PTHREAD_MUTEX_INITIALIZER};

void jf_db_log_down(const char *what, const char *why)
{
    time_t now = time(NULL);
    unsigned long n = 0;
    bool first;

    pthread_mutex_lock(&down.lock);
    first = down.first == 0;
    down.count++;
    if (first || now - down.first >= JF_DB_DOWN_LOG_S) {
        n = down.count;
        down.first = now;
        down.count = 0;
    }
    pthread_mutex_unlock(&down.lock);
    if (first)
        jf_log_error("db_connect", "cannot %s PostgreSQL: %.*s", what, (int)strcspn(why, "\n"),
                     why);
    else if (n > 0)
        jf_log_error("db_connect", "cannot %s PostgreSQL: %lu failures in the last %d s: %.*s",
                     what, n, JF_DB_DOWN_LOG_S, (int)strcspn(why, "\n"), why);
}

/* The database answers again: the next outage is logged from its start. */
static void db_up(void)
{
    pthread_mutex_lock(&down.lock);
    if (down.first != 0)
        jf_log_info("db_connect", "PostgreSQL is reachable again");
    down.first = 0;
    down.count = 0;
    pthread_mutex_unlock(&down.lock);
}

/* (Re)open the connection; prepared flags are forgotten with the session. */
static int conn_open(jf_db_pool *p, jf_db_conn *c)
{
    if (c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK && !c->lost)
        return 0;
    if (c->pg != NULL)
        PQfinish(c->pg);
    memset(c->prepared, 0, sizeof(c->prepared));
    c->in_tx = false;
    c->lost = false;
    c->pg = PQconnectdb(p->conninfo);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        /* A standby that is away is a metric (replica.c), not an outage. */
        if (!p->replica)
            jf_db_log_down("connect to", PQerrorMessage(c->pg));
        PQfinish(c->pg);
        c->pg = NULL;
        return JF_ERR_UNAVAILABLE;
    }
    if (!p->replica)
        db_up();
    jf_db_log_notices(c->pg);
    /* Times are shown and computed in China Standard Time. */
    PQclear(PQexec(c->pg, "SET TIME ZONE 'Asia/Shanghai'"));
    return 0;
}

/* A free connection, preferring one already open. Caller holds the lock. */
static jf_db_conn *take_free(jf_db_pool *p)
{
    jf_db_conn *c = NULL;

    for (int i = 0; i < p->size; i++) {
        if (!p->conns[i].in_use && (c == NULL || (c->pg == NULL && p->conns[i].pg != NULL)))
            c = &p->conns[i];
    }
    if (c != NULL) {
        c->in_use = true;
        p->in_use++;
    }
    return c;
}

static void unlink_waiter(jf_db_pool *p, struct waiter *w)
{
    struct waiter **pp = &p->head, *prev = NULL;

    while (*pp != NULL && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp == w) {
        *pp = w->next;
        if (p->tail == w)
            p->tail = prev;
    }
}

int jf_db_pool_acquire(jf_db_pool *p, jf_db_conn **out)
{
    struct timespec deadline;
    struct waiter w = {.conn = NULL, .next = NULL};
    jf_db_conn *c;
    int rc;

    pthread_mutex_lock(&p->lock);
    c = p->head == NULL ? take_free(p) : NULL;
    if (c == NULL) {
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += p->timeout_ms / 1000;
        deadline.tv_nsec += (long)(p->timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        pthread_cond_init(&w.wake, NULL);
        if (p->tail != NULL)
            p->tail->next = &w;
        else
            p->head = &w;
        p->tail = &w;
        while (w.conn == NULL) {
            if (pthread_cond_timedwait(&w.wake, &p->lock, &deadline) == ETIMEDOUT &&
                w.conn == NULL) {
                unlink_waiter(p, &w);
                break;
            }
        }
        pthread_cond_destroy(&w.wake);
        c = w.conn;
    }
    pthread_mutex_unlock(&p->lock);
    if (c == NULL)
        return JF_ERR_UNAVAILABLE;

    rc = conn_open(p, c);
    if (rc != 0) {
        jf_db_pool_release(p, c);
        return rc;
    }
    *out = c;
    return 0;
}

void jf_db_pool_release(jf_db_pool *p, jf_db_conn *c)
{
    struct waiter *w;

    p = c->pool;
    if (c->in_tx)
        jf_db_rollback(c);
    pthread_mutex_lock(&p->lock);
    w = p->head;
    if (w != NULL) {
        /* Hand over directly: it stays in use, now by the oldest waiter. */
        p->head = w->next;
        if (p->head == NULL)
            p->tail = NULL;
        w->conn = c;
        pthread_cond_signal(&w->wake);
    } else {
        c->in_use = false;
        p->in_use--;
    }
    pthread_mutex_unlock(&p->lock);
}

void jf_db_pool_mark_replica(jf_db_pool *p)
{
    p->replica = true;
}

bool jf_db_conn_is_replica(const jf_db_conn *c)
{
    return c->pool->replica;
}

int jf_db_pool_in_use(jf_db_pool *p)
{
    int n;

    pthread_mutex_lock(&p->lock);
    n = p->in_use;
    pthread_mutex_unlock(&p->lock);
    return n;
}

int jf_db_pool_size(jf_db_pool *p)
{
    return p->size;
}

/* Reset a broken session in place: its prepared statements are gone too. */
static bool conn_reset(jf_db_conn *c)
{
    jf_log_warn("db_reconnect", "connection lost; reconnecting");
    PQreset(c->pg); /* keeps the notice processor */
    memset(c->prepared, 0, sizeof(c->prepared));
    c->in_tx = false;
    c->lost = false;
    if (PQstatus(c->pg) != CONNECTION_OK) {
        jf_db_log_down("reconnect to", PQerrorMessage(c->pg));
        return false;
    }
    db_up();
    PQclear(PQexec(c->pg, "SET TIME ZONE 'Asia/Shanghai'"));
    return true;
}

static bool result_ok(const PGresult *r)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

static void remember_error(jf_db_conn *c, const PGresult *r)
{
    snprintf(c->last_state, sizeof(c->last_state), "%s", jf_db_sqlstate(r));
    snprintf(c->last_error, sizeof(c->last_error), "%s", r ? PQresultErrorMessage(r) : "no result");
}

/* One attempt: prepare if needed, then execute. */
static PGresult *exec_once(jf_db_conn *c, const jf_stmt *s, const char *sql, int n,
                           const char *const *params)
{
    if (s == NULL)
        return PQexecParams(c->pg, sql, n, NULL, params, NULL, NULL, 0);
    if (!c->prepared[s->id]) {
        PGresult *r = PQprepare(c->pg, s->name, s->sql, 0, NULL);
        if (!result_ok(r))
            return r;
        PQclear(r);
        c->prepared[s->id] = 1;
    }
    return PQexecPrepared(c->pg, s->name, n, params, NULL, NULL, 0);
}

static int exec_common(jf_db_conn *c, const jf_stmt *s, const char *sql, int n,
                       const char *const *params, PGresult **res)
{
    PGresult *r = exec_once(c, s, sql, n, params);

    if (!result_ok(r) && conn_lost(c->pg, r) && !c->in_tx) {
        /* The server went away between requests: reconnect and try once
         * more. Not inside a transaction, whose earlier work is lost. */
        PQclear(r);
        r = conn_reset(c) ? exec_once(c, s, sql, n, params) : NULL;
    }
    if (result_ok(r)) {
        /* A later failure that is not a statement's (no row where one was
         * due) must not be logged with this connection's old SQLSTATE. */
        c->last_state[0] = c->last_error[0] = '\0';
        *res = r;
        return 0;
    }
    if (r == NULL || conn_lost(c->pg, r)) {
        /* A restart's "terminating connection" (57P01) can come while
         * libpq still counts the session as open: it is not, so the next
         * acquire opens a new one, and this request answers 503. */
        c->lost = true;
        PQclear(r);
        *res = NULL;
        return JF_ERR_UNAVAILABLE;
    }
    remember_error(c, r);
    *res = r;
    return JF_ERR_DB;
}

int jf_db_exec(jf_db_conn *c, const jf_stmt *s, int n, const char *const *params, PGresult **res)
{
    return exec_common(c, s, NULL, n, params, res);
}

int jf_db_exec_sql(jf_db_conn *c, const char *sql, int n, const char *const *params, PGresult **res)
{
    return exec_common(c, NULL, sql, n, params, res);
}

static int simple(jf_db_conn *c, const char *sql)
{
    PGresult *r = PQexec(c->pg, sql);
    int rc = result_ok(r) ? 0 : conn_lost(c->pg, r) ? JF_ERR_UNAVAILABLE : JF_ERR_DB;

    c->lost = c->lost || rc == JF_ERR_UNAVAILABLE;
    if (rc == JF_ERR_DB)
        remember_error(c, r);
    PQclear(r);
    return rc;
}

int jf_db_begin(jf_db_conn *c)
{
    int rc = simple(c, "BEGIN");

    if (rc == JF_ERR_UNAVAILABLE && conn_reset(c))
        rc = simple(c, "BEGIN");
    c->in_tx = rc == 0;
    return rc;
}

int jf_db_commit(jf_db_conn *c)
{
    int rc = simple(c, "COMMIT");

    c->in_tx = false;
    return rc;
}

void jf_db_rollback(jf_db_conn *c)
{
    if (c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK && !c->lost)
        simple(c, "ROLLBACK");
    c->in_tx = false;
}

bool jf_db_in_tx(const jf_db_conn *c)
{
    return c->in_tx;
}

const char *jf_db_last_error(const jf_db_conn *c, const char **message)
{
    *message = c->last_error;
    return c->last_state;
}

const char *jf_db_sqlstate(const PGresult *r)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

    return s ? s : "";
}

PGconn *jf_db_pg(jf_db_conn *c)
{
    return c->pg;
}

bool jf_db_ping(jf_db_pool *p)
{
    jf_db_conn *c;
    PGresult *r = NULL;
    bool ok;

    if (jf_db_pool_acquire(p, &c) != 0)
        return false;
    ok = jf_db_exec_sql(c, "SELECT 1", 0, NULL, &r) == 0;
    PQclear(r);
    jf_db_pool_release(p, c);
    return ok;
}
