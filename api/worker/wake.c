/* The worker's sleep, woken by NOTIFY jf_outbox or a stop signal. */
#include "wake.h"
#include "../core/log.h"

#include <poll.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

int jf_wake_open(jf_wake *w, const char *conninfo, const sigset_t *stop)
{
    memset(w, 0, sizeof(*w));
    w->conninfo = conninfo;
    w->sigfd = signalfd(-1, stop, SFD_CLOEXEC);
    return w->sigfd < 0 ? -1 : 0;
}

static void drop(jf_wake *w)
{
    if (w->conn != NULL)
        PQfinish(w->conn);
    w->conn = NULL;
}

/* (Re)open the listening connection; 0 when listening. */
static int listen_now(jf_wake *w)
{
    PGresult *res;

    if (w->conn != NULL)
        return 0;
    w->conn = PQconnectdb(w->conninfo);
    if (PQstatus(w->conn) == CONNECTION_OK) {
        res = PQexec(w->conn, "LISTEN jf_outbox");
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            if (w->down)
                jf_log_info("wake", "listening for new deliveries again");
            w->down = 0;
            return 0;
        }
        PQclear(res);
    }
    if (!w->down)
        jf_log_warn("wake", "cannot listen for new deliveries (%s): looking every interval",
                    PQerrorMessage(w->conn));
    w->down = 1;
    drop(w);
    return -1;
}

int jf_wake_wait(jf_wake *w, long ms)
{
    struct pollfd fds[2] = {{.fd = w->sigfd, .events = POLLIN}, {.fd = -1, .events = POLLIN}};
    struct signalfd_siginfo si;
    PGnotify *n;

    /* Newly listening: what was committed before the LISTEN raised no
     * notification we can hear, so the caller looks at the queue first. */
    if (w->conn == NULL && listen_now(w) == 0)
        return 0;
    if (w->conn != NULL)
        fds[1].fd = PQsocket(w->conn);
    if (poll(fds, w->conn != NULL ? 2 : 1, (int)ms) <= 0)
        return 0;
    if ((fds[0].revents & POLLIN) && read(w->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        return (int)si.ssi_signo;
    if (fds[1].revents != 0) {
        if (PQconsumeInput(w->conn) != 1) {
            jf_log_warn("wake", "the listening connection was lost");
            w->down = 1;
            drop(w);
            return 0;
        }
        while ((n = PQnotifies(w->conn)) != NULL)
            PQfreemem(n);
    }
    return 0;
}

void jf_wake_close(jf_wake *w)
{
    drop(w);
    if (w->sigfd >= 0)
        close(w->sigfd);
    w->sigfd = -1;
}
