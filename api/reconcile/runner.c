/* The API's runner thread of 三网 jobs (runner.h). */
#include "runner.h"
#include "job.h"
#include "../core/err.h"
#include "../core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int started, kicked, stop;
    long poll_ms;
    char *url;
    PGcancel *cancel[2]; /* of the two connections, under lock */
} rn = {.lock = PTHREAD_MUTEX_INITIALIZER};

static PGconn *open_conn(const char *url)
{
    PGconn *c = PQconnectdb(url);

    if (PQstatus(c) != CONNECTION_OK) {
        jf_log_warn("reconcile.runner", "cannot connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQclear(PQexec(c, "SET application_name = 'jingfang-api reconcile'"));
    return c;
}

static void close_conns(PGconn **work, PGconn **side)
{
    pthread_mutex_lock(&rn.lock);
    for (int i = 0; i < 2; i++) {
        if (rn.cancel[i] != NULL)
            PQfreeCancel(rn.cancel[i]);
        rn.cancel[i] = NULL;
    }
    pthread_mutex_unlock(&rn.lock);
    PQfinish(*work);
    PQfinish(*side);
    *work = *side = NULL;
}

/* Sleep until kicked, stopped or poll_ms pass; whether to stop. */
static int wait_turn(void)
{
    struct timespec until;
    int stop;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += rn.poll_ms / 1000;
    until.tv_nsec += (rn.poll_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&rn.lock);
    while (!rn.stop && !rn.kicked)
        if (pthread_cond_timedwait(&rn.wake, &rn.lock, &until) == ETIMEDOUT)
            break;
    rn.kicked = 0;
    stop = rn.stop;
    pthread_mutex_unlock(&rn.lock);
    return stop;
}

static void *loop(void *arg)
{
    PGconn *work = NULL, *side = NULL;
    char err[512];

    (void)arg;
    while (!wait_turn()) {
        if (work == NULL || PQstatus(work) != CONNECTION_OK || side == NULL ||
            PQstatus(side) != CONNECTION_OK) {
            close_conns(&work, &side);
            if ((work = open_conn(rn.url)) == NULL || (side = open_conn(rn.url)) == NULL) {
                close_conns(&work, &side);
                continue;
            }
            pthread_mutex_lock(&rn.lock);
            rn.cancel[0] = PQgetCancel(work);
            rn.cancel[1] = PQgetCancel(side);
            pthread_mutex_unlock(&rn.lock);
        }
        int ran = 1;
        while (ran && !__atomic_load_n(&rn.stop, __ATOMIC_ACQUIRE)) {
            if (jf_rec_job_next(work, side, &rn.stop, &ran, err, sizeof(err)) != 0) {
                jf_log_warn("reconcile.runner", "%s", err);
                close_conns(&work, &side);
                break;
            }
        }
    }
    close_conns(&work, &side);
    return NULL;
}

int jf_rec_runner_start(const char *db_url, long poll_ms)
{
    if ((rn.url = strdup(db_url)) == NULL)
        return JF_ERR_NOMEM;
    rn.poll_ms = poll_ms;
    pthread_cond_init(&rn.wake, NULL);
    if (pthread_create(&rn.thread, NULL, loop, NULL) != 0) {
        pthread_cond_destroy(&rn.wake);
        free(rn.url);
        rn.url = NULL;
        return JF_ERR_NOMEM;
    }
    rn.started = 1;
    return 0;
}

void jf_rec_runner_kick(void)
{
    if (!rn.started)
        return;
    pthread_mutex_lock(&rn.lock);
    rn.kicked = 1;
    pthread_cond_signal(&rn.wake);
    pthread_mutex_unlock(&rn.lock);
}

void jf_rec_runner_stop(void)
{
    char e[128];

    if (!rn.started)
        return;
    pthread_mutex_lock(&rn.lock);
    __atomic_store_n(&rn.stop, 1, __ATOMIC_RELEASE);
    pthread_cond_signal(&rn.wake);
    for (int i = 0; i < 2; i++)
        if (rn.cancel[i] != NULL)
            PQcancel(rn.cancel[i], e, sizeof(e));
    pthread_mutex_unlock(&rn.lock);
    pthread_join(rn.thread, NULL);
    pthread_cond_destroy(&rn.wake);
    free(rn.url);
    rn.url = NULL;
    rn.started = 0;
}
