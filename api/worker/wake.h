/* The worker's sleep between passes, cut short by the database: a new
 * delivery (migration 0032's trigger) sends NOTIFY jf_outbox at its commit,
 * and the worker delivers it at once instead of at its next look at the
 * queue. Without the listening connection (the database down) the sleep
 * simply runs its course, as before. */
#ifndef JF_WORKER_WAKE_H
#define JF_WORKER_WAKE_H

#include <libpq-fe.h>
#include <signal.h>

typedef struct jf_wake {
    const char *conninfo;
    PGconn *conn; /* LISTEN jf_outbox, or NULL while down */
    int sigfd;    /* the stop signals, as a descriptor */
    int down;     /* the last attempt to listen failed (logged once) */
} jf_wake;

/* Prepare: stop is the set of (blocked) stop signals. 0, or -1 when the
 * signal descriptor cannot be made. */
int jf_wake_open(jf_wake *w, const char *conninfo, const sigset_t *stop);
/* Sleep up to ms: return the stop signal taken (> 0), or 0 when woken by a
 * notification or at the end of the time. */
int jf_wake_wait(jf_wake *w, long ms);
void jf_wake_close(jf_wake *w);

#endif
