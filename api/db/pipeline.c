/* Batched reads over libpq pipeline mode (see pipeline.h). */
#include "pipeline.h"
#include "../core/err.h"
#include "../core/log.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Reads per batch. The batch is written whole before any result is read, so
 * it must fit the socket's buffers: 64 reads are ~15 KiB of Bind/Execute. */
#define BATCH_MAX 64
/* The bytes of one batched lookup's key list ("{k1,k2,…}", keys of at most
 * 19 digits). */
#define KEYS_MAX_BYTES (BATCH_MAX * 20 + 2)
/* Sends of one read over connections that broke under it, before it fails.
 * (A read aborted by an earlier read's error goes again without counting:
 * each batch runs at least up to its first error, so that cannot loop.) */
#define TRIES_MAX 3

typedef struct job {
    const jf_stmt *stmt;
    const char *sql;
    int n;
    const char *const *params;
    PGresult *res;
    int rc;
    int tries;
    int key_param;     /* a lookup: the parameter holding its key; else -1 */
    struct job *group; /* a lookup: the first lookup it is batched with */
    bool sent_prepare; /* this batch, a Parse for stmt went before it */
    bool finished;     /* answered (the dispatcher's own flag) */
    atomic_int done;   /* handed over: the waiter owns the job again */
    struct job *next;
} job;

/* Request threads push onto the inbox without a lock; the dispatcher takes
 * the whole of it at once. A mutex here was contended by every request
 * thread and the dispatcher alike. */
typedef struct lane {
    struct jf_db_pipe *owner;
    _Atomic(job *) inbox; /* newest first */
    atomic_int sleeping;  /* the dispatcher waits on it for work */
    atomic_bool stopping;
    pthread_t thread;
    const char *conninfo;
    PGconn *pg;
    unsigned char prepared[JF_DB_MAX_STMTS];
} lane;

struct jf_db_pipe {
    char *conninfo;
    int nlanes;
    atomic_uint next; /* round robin over lanes */
    lane *lanes;
    atomic_ullong reads, batches;
};

/* Bare futexes: a waiter sleeps on one int that exactly one other thread
 * changes, so a condition variable's mutex would only add contention. */
static void futex_wait(atomic_int *word, int expected)
{
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(atomic_int *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void lane_close(lane *l)
{
    if (l->pg != NULL)
        PQfinish(l->pg);
    l->pg = NULL;
    memset(l->prepared, 0, sizeof(l->prepared));
}

/* An open session in pipeline mode, reopened when it broke. */
static int lane_open(lane *l)
{
    PGresult *r;

    if (l->pg != NULL && PQstatus(l->pg) == CONNECTION_OK)
        return 0;
    lane_close(l);
    /* Named, so that pg_stat_activity tells the lanes from the pool. */
    l->pg = PQconnectdbParams((const char *const[]){"dbname", "application_name", NULL},
                              (const char *const[]){l->conninfo, JF_DB_PIPE_APP_NAME, NULL}, 1);
    if (PQstatus(l->pg) != CONNECTION_OK) {
        jf_db_log_down("connect to", PQerrorMessage(l->pg));
        lane_close(l);
        return JF_ERR_UNAVAILABLE;
    }
    jf_db_log_notices(l->pg);
    /* As the pool's sessions; and since a batch waits behind its slowest
     * read, no read may hold the lane for long. */
    r = PQexec(l->pg, "SET TIME ZONE 'Asia/Shanghai'; SET statement_timeout = '10s'");
    if (PQresultStatus(r) != PGRES_COMMAND_OK || PQenterPipelineMode(l->pg) != 1) {
        jf_log_error("db_connect", "cannot set up the pipeline session: %s", PQerrorMessage(l->pg));
        PQclear(r);
        lane_close(l);
        return JF_ERR_UNAVAILABLE;
    }
    PQclear(r);
    return 0;
}

/* Lookups of one statement with the same other parameters go as one
 * query: the lookup first in the batch leads the group. */
static bool same_lookup(const job *a, const job *b)
{
    if (a->stmt != b->stmt || a->key_param != b->key_param || a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++) {
        const char *x = a->params[i], *y = b->params[i];

        if (i != a->key_param && (x == NULL || y == NULL ? x != y : strcmp(x, y) != 0))
            return false;
    }
    return true;
}

static void group_lookups(job **v, int n)
{
    for (int i = 0; i < n; i++)
        v[i]->group = NULL;
    for (int i = 0; i < n; i++) {
        if (v[i]->key_param < 0 || v[i]->group != NULL)
            continue;
        v[i]->group = v[i];
        for (int k = i + 1; k < n; k++)
            if (v[k]->key_param >= 0 && v[k]->group == NULL && same_lookup(v[i], v[k]))
                v[k]->group = v[i];
    }
}

/* The keys of the group led by v[i], as a bigint[] literal, each once: a
 * statement that answers per listed key (unnest, unlike = ANY) would answer
 * a key asked by two threads twice to each. */
static void group_keys(job **v, int n, int i, char *out)
{
    size_t len = 0;

    out[len++] = '{';
    for (int k = i; k < n; k++) {
        const char *key = v[k]->params[v[k]->key_param];
        bool seen = false;

        if (v[k]->group != v[i])
            continue;
        for (int e = i; e < k && !seen; e++)
            seen = v[e]->group == v[i] && strcmp(v[e]->params[v[e]->key_param], key) == 0;
        if (seen)
            continue;
        size_t kl = strlen(key);
        if (len > 1)
            out[len++] = ',';
        memcpy(out + len, key, kl);
        len += kl;
    }
    out[len++] = '}';
    out[len] = '\0';
}

/* Queue a batch's statements behind one Sync. False when the connection
 * broke while writing. */
static bool send_batch(lane *l, job **v, int n)
{
    char keys[KEYS_MAX_BYTES + 1];

    group_lookups(v, n);
    for (int i = 0; i < n; i++) {
        job *j = v[i];
        const char *const *params = j->params;
        const char *p[JF_DB_PIPE_PARAMS_MAX];
        int ok;

        j->sent_prepare = false;
        if (j->group != NULL && j->group != j)
            continue; /* its group's query carries it */
        if (j->group != NULL) {
            /* libpq copies the parameters as it queues them: one buffer
             * serves every group. */
            group_keys(v, n, i, keys);
            memcpy(p, j->params, sizeof(*p) * (size_t)j->n);
            p[j->key_param] = keys;
            params = p;
        }
        if (j->stmt != NULL && !l->prepared[j->stmt->id]) {
            if (!PQsendPrepare(l->pg, j->stmt->name, j->stmt->sql, 0, NULL))
                return false;
            /* Assume it works; a failure is seen in the results and undone. */
            l->prepared[j->stmt->id] = 1;
            j->sent_prepare = true;
        }
        if (j->stmt != NULL)
            ok = PQsendQueryPrepared(l->pg, j->stmt->name, j->n, params, NULL, NULL, 0);
        else
            ok = PQsendQueryParams(l->pg, j->sql, j->n, NULL, params, NULL, NULL, 0);
        if (!ok)
            return false;
    }
    return PQpipelineSync(l->pg) == 1;
}

/* The next command's result, and the NULL that closes it. */
static PGresult *next_result(PGconn *pg)
{
    PGresult *r = PQgetResult(pg), *extra;

    if (r == NULL)
        return NULL;
    while ((extra = PQgetResult(pg)) != NULL) /* a single statement has one */
        PQclear(extra);
    return r;
}

/* The session is gone: no result, a broken connection, or the server's
 * last word before closing it (57P01 terminated by an administrator, 57P02
 * crash, 57P03 cannot connect now; class 08, connection exceptions), which
 * in pipeline mode arrives while the connection still looks open. */
static bool session_lost(PGconn *pg, const PGresult *r)
{
    const char *st = jf_db_sqlstate(r);

    return r == NULL || PQstatus(pg) != CONNECTION_OK || strncmp(st, "57P", 3) == 0 ||
           strncmp(st, "08", 2) == 0;
}

/* Settle a read: its answer, or (tries permitting) another send. */
static void settle(job *j, int rc, PGresult *r, bool may_retry)
{
    if (may_retry && (rc == JF_ERR_DB || ++j->tries < TRIES_MAX)) {
        PQclear(r);
        return;
    }
    j->rc = rc;
    j->res = r;
    j->finished = true;
}

/* A lookup's own answer out of its group's result: the rows whose first
 * column is its key, in a result of their own (the waiter PQclears it). */
static PGresult *rows_of(const PGresult *r, const char *key)
{
    PGresult *out = PQcopyResult(r, PG_COPYRES_ATTRS);
    int nf = PQnfields(r), row = 0;

    for (int i = 0; out != NULL && i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, 0), key) != 0)
            continue;
        for (int f = 0; f < nf; f++) {
            bool null = PQgetisnull(r, i, f);

            if (!PQsetvalue(out, row, f, null ? NULL : PQgetvalue(r, i, f),
                            null ? -1 : PQgetlength(r, i, f))) {
                PQclear(out);
                return NULL;
            }
        }
        row++;
    }
    return out;
}

/* Settle the read v[i], or every lookup of the group it leads, with one
 * command's outcome. A group's rows are shared out; its error goes to the
 * leader (the others fail with no result of their own to log). */
static void settle_command(job **v, int n, int i, int rc, PGresult *r, bool may_retry)
{
    job *lead = v[i];

    if (lead->group == NULL) {
        settle(lead, rc, r, may_retry);
        return;
    }
    for (int k = n - 1; k >= i; k--) {
        job *j = v[k];

        if (j->group != lead)
            continue;
        if (rc == 0) {
            PGresult *mine = rows_of(r, j->params[j->key_param]);
            settle(j, mine ? 0 : JF_ERR_NOMEM, mine, false);
        } else {
            settle(j, rc, j == lead ? r : NULL, may_retry);
        }
    }
    if (rc == 0)
        PQclear(r);
}

/* Read the batch's results in order and settle each read. */
static void read_batch(lane *l, job **v, int n, bool sent)
{
    bool broken = !sent;

    for (int i = 0; i < n; i++) {
        job *j = v[i];
        PGresult *prep = NULL, *r = NULL;
        ExecStatusType st;

        if (j->group != NULL && j->group != j)
            continue; /* settled with its group */
        if (!broken && j->sent_prepare) {
            prep = next_result(l->pg);
            if (PQresultStatus(prep) != PGRES_COMMAND_OK)
                l->prepared[j->stmt->id] = 0;
        }
        if (!broken)
            r = next_result(l->pg);
        broken = broken || session_lost(l->pg, r);
        st = PQresultStatus(r);
        if (broken) {
            PQclear(prep);
            settle_command(v, n, i, JF_ERR_UNAVAILABLE, r, true);
        } else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            PQclear(prep);
            settle_command(v, n, i, 0, r, false);
        } else if (st == PGRES_PIPELINE_ABORTED && prep != NULL &&
                   PQresultStatus(prep) == PGRES_FATAL_ERROR) {
            PQclear(r); /* its own statement did not prepare: that is its answer */
            settle_command(v, n, i, JF_ERR_DB, prep, false);
        } else {
            PQclear(prep);
            /* Aborted by an earlier read's error, this one is innocent. */
            settle_command(v, n, i, JF_ERR_DB, r, st == PGRES_PIPELINE_ABORTED);
        }
    }
    if (!broken) {
        PGresult *sync = PQgetResult(l->pg);

        broken = PQresultStatus(sync) != PGRES_PIPELINE_SYNC;
        PQclear(sync);
    }
    if (broken) {
        jf_log_warn("db_reconnect", "pipeline connection lost; reconnecting");
        lane_close(l); /* reopened, clean, for the next batch */
    }
}

/* Hand finished reads to their threads; the others stay for the next
 * batch. Returns how many stay. */
static int deliver(job **v, int n)
{
    int kept = 0;

    for (int i = 0; i < n; i++) {
        atomic_int *done = &v[i]->done;

        if (!v[i]->finished) {
            v[kept++] = v[i];
            continue;
        }
        /* Past this store the job is its waiter's, who may return at once:
         * only the word's address is used after it (a wake on a word that
         * has since been reused is spurious, which futex waiters allow). */
        atomic_store_explicit(done, 1, memory_order_release);
        futex_wake(done);
    }
    return kept;
}

/* Fill v (holding n reads carried over) from the backlog, taking the inbox
 * into the backlog, in arrival order, when it runs dry. */
static int take(lane *l, job **v, int n, job **backlog)
{
    if (*backlog == NULL) {
        job *in = atomic_exchange(&l->inbox, NULL), *fifo = NULL;

        while (in != NULL) { /* newest first: reverse */
            job *next = in->next;

            in->next = fifo;
            fifo = in;
            in = next;
        }
        *backlog = fifo;
    }
    while (*backlog != NULL && n < BATCH_MAX) {
        v[n++] = *backlog;
        *backlog = (*backlog)->next;
    }
    return n;
}

static void *dispatch(void *arg)
{
    lane *l = arg;
    job *v[BATCH_MAX], *backlog = NULL;
    int n = 0; /* at first, the reads carried over to go again */

    for (;;) {
        n = take(l, v, n, &backlog);
        if (n == 0) {
            if (atomic_load(&l->stopping))
                break;
            /* Announce the sleep, then look once more: a thread that pushed
             * before seeing the announcement is found here, one after it
             * wakes us (both sides sequentially consistent). */
            atomic_store(&l->sleeping, 1);
            if (atomic_load(&l->inbox) == NULL && !atomic_load(&l->stopping))
                futex_wait(&l->sleeping, 1);
            atomic_store(&l->sleeping, 0);
            continue;
        }
        if (atomic_load(&l->stopping)) {
            for (int i = 0; i < n; i++)
                settle(v[i], JF_ERR_UNAVAILABLE, NULL, false);
        } else if (lane_open(l) != 0) {
            for (int i = 0; i < n; i++)
                settle(v[i], JF_ERR_UNAVAILABLE, NULL, false);
        } else {
            read_batch(l, v, n, send_batch(l, v, n));
            atomic_fetch_add_explicit(&l->owner->batches, 1, memory_order_relaxed);
        }
        /* Counted before the readers wake, so that what a reader does next
         * (scrape /metrics, total the reads) sees its own read counted. */
        unsigned finished = 0;
        for (int i = 0; i < n; i++)
            finished += v[i]->finished;
        atomic_fetch_add_explicit(&l->owner->reads, finished, memory_order_relaxed);
        n = deliver(v, n);
    }
    lane_close(l);
    return NULL;
}

static int submit(jf_db_pipe *p, job *j, PGresult **res)
{
    lane *l = &p->lanes[atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed) %
                        (unsigned)p->nlanes];
    job *head;

    *res = NULL;
    if (j->n > JF_DB_PIPE_PARAMS_MAX)
        return JF_ERR_TOO_LARGE;
    if (atomic_load(&l->stopping))
        return JF_ERR_UNAVAILABLE;
    head = atomic_load(&l->inbox);
    do
        j->next = head;
    while (!atomic_compare_exchange_weak(&l->inbox, &head, j));
    if (atomic_load(&l->sleeping) && atomic_exchange(&l->sleeping, 0))
        futex_wake(&l->sleeping);
    while (atomic_load_explicit(&j->done, memory_order_acquire) == 0)
        futex_wait(&j->done, 0);
    *res = j->res;
    return j->rc;
}

int jf_db_pipe_exec(jf_db_pipe *p, const jf_stmt *stmt, const char *sql, int nparams,
                    const char *const *params, PGresult **res)
{
    job j = {.stmt = stmt, .sql = sql, .n = nparams, .params = params, .key_param = -1};

    return submit(p, &j, res);
}

bool jf_db_key_ok(const char *key)
{
    size_t n = strspn(key, "0123456789");

    /* One key out of range would fail its whole group's query. */
    return n >= 1 && key[n] == '\0' && key[0] != '0' &&
           (n < 19 || (n == 19 && strcmp(key, "9223372036854775807") <= 0));
}

int jf_db_pipe_lookup(jf_db_pipe *p, const jf_stmt *stmt, int key_param, int nparams,
                      const char *const *params, PGresult **res)
{
    job j = {.stmt = stmt, .n = nparams, .params = params, .key_param = key_param};

    *res = NULL;
    if (stmt == NULL || key_param < 0 || key_param >= nparams || !jf_db_key_ok(params[key_param]))
        return JF_ERR_INVALID;
    return submit(p, &j, res);
}

void jf_db_pipe_stats(jf_db_pipe *p, unsigned long long *reads, unsigned long long *batches)
{
    *reads = atomic_load_explicit(&p->reads, memory_order_relaxed);
    *batches = atomic_load_explicit(&p->batches, memory_order_relaxed);
}

int jf_db_pipe_create(jf_db_pipe **out, const char *conninfo, int lanes)
{
    jf_db_pipe *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return JF_ERR_NOMEM;
    p->lanes = calloc((size_t)lanes, sizeof(*p->lanes));
    p->conninfo = strdup(conninfo);
    if (p->lanes == NULL || p->conninfo == NULL) {
        free(p->lanes);
        free(p->conninfo);
        free(p);
        return JF_ERR_NOMEM;
    }
    for (int i = 0; i < lanes; i++) {
        lane *l = &p->lanes[i];

        l->owner = p;
        l->conninfo = p->conninfo;
        if (pthread_create(&l->thread, NULL, dispatch, l) != 0) {
            jf_db_pipe_destroy(p);
            return JF_ERR_UNAVAILABLE;
        }
        p->nlanes = i + 1;
    }
    *out = p;
    return 0;
}

void jf_db_pipe_destroy(jf_db_pipe *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->nlanes; i++) {
        lane *l = &p->lanes[i];

        atomic_store(&l->stopping, true);
        atomic_store(&l->sleeping, 0);
        futex_wake(&l->sleeping);
        pthread_join(l->thread, NULL);
    }
    free(p->lanes);
    free(p->conninfo);
    free(p);
}
