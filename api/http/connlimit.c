/* Per-address connection cap: a census of the open client sockets. */
#include "connlimit.h"
#include "../core/err.h"
#include "../core/log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 4
#define MAX_SOCKS 65536 /* a census stops counting past this */
#define LOG_EVERY_S 10  /* a flood is one warning per interval, not one per connection */

/* One client socket: its descriptor and its peer. */
struct sock {
    int fd;
    int family;
    unsigned char ip[16];
    unsigned short port;
    bool fresh;   /* not in the previous census */
    bool refused; /* shut down by us, not yet closed by civetweb */
};

struct jf_connlimit {
    pthread_mutex_t lock;
    _Atomic long open; /* connections admitted and not yet closed */
    long cap;
    const jf_netaddr_list *exempt;
    int ports[MAX_PORTS];
    int nports;
    struct sock *known; /* the previous census, sorted by fd */
    size_t nknown;
    unsigned long unlogged;         /* refused since the last warning */
    time_t logged;                  /* when that was */
    char last[JF_NETADDR_TEXT_MAX]; /* the address last refused */
    char resp[512];                 /* the 503 a refused connection gets */
    int resp_len;
};

int jf_connlimit_create(jf_connlimit **out, long cap, const jf_netaddr_list *exempt)
{
    /* problem+json like every answer, though no request was read. */
    static const char body[] =
        "{\"type\":\"https://jingfang.example/problems/too-many-connections\","
        "\"title\":\"Service unavailable\",\"status\":503,\"detail\":\"this address holds "
        "too many open connections; retry when one of them is closed\",\"errors\":[]}";
    jf_connlimit *cl = calloc(1, sizeof(*cl));

    if (cl == NULL)
        return JF_ERR_NOMEM;
    pthread_mutex_init(&cl->lock, NULL);
    cl->cap = cap;
    cl->exempt = exempt;
    cl->resp_len = snprintf(cl->resp, sizeof(cl->resp),
                            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n"
                            "Content-Type: application/problem+json\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n%s",
                            sizeof(body) - 1, body);
    *out = cl;
    return 0;
}

void jf_connlimit_listen(jf_connlimit *cl, const int *ports, int n)
{
    pthread_mutex_lock(&cl->lock);
    cl->nports = 0;
    for (int i = 0; i < n && i < MAX_PORTS; i++)
        cl->ports[cl->nports++] = ports[i];
    pthread_mutex_unlock(&cl->lock);
}

void jf_connlimit_release(jf_connlimit *cl)
{
    if (cl != NULL && cl->cap > 0)
        atomic_fetch_sub(&cl->open, 1);
}

void jf_connlimit_destroy(jf_connlimit *cl)
{
    if (cl == NULL)
        return;
    pthread_mutex_destroy(&cl->lock);
    free(cl->known);
    free(cl);
}

/* Is fd a connection accepted on one of our ports? Its peer into s. */
static bool client_socket(const jf_connlimit *cl, int fd, struct sock *s)
{
    struct sockaddr_storage local, peer;
    socklen_t llen = sizeof(local), plen = sizeof(peer);
    int lport;
    bool ours = false;

    if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0 ||
        (local.ss_family != AF_INET && local.ss_family != AF_INET6))
        return false;
    lport = ntohs(local.ss_family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port
                                             : ((struct sockaddr_in6 *)&local)->sin6_port);
    for (int i = 0; i < cl->nports; i++)
        ours = ours || cl->ports[i] == lport;
    if (!ours || getpeername(fd, (struct sockaddr *)&peer, &plen) != 0)
        return false; /* the listening socket has no peer */
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    if (peer.ss_family == AF_INET) {
        s->family = 4;
        memcpy(s->ip, &((struct sockaddr_in *)&peer)->sin_addr, 4);
        s->port = ntohs(((struct sockaddr_in *)&peer)->sin_port);
    } else {
        s->family = 6;
        memcpy(s->ip, &((struct sockaddr_in6 *)&peer)->sin6_addr, 16);
        s->port = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
    }
    return true;
}

static bool same_peer(const struct sock *a, const struct sock *b)
{
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

static int by_fd(const void *a, const void *b)
{
    return ((const struct sock *)a)->fd - ((const struct sock *)b)->fd;
}

/* By address, and within one address the connections to keep first. */
static int by_peer(const void *pa, const void *pb)
{
    const struct sock *a = pa, *b = pb;
    int c = a->family - b->family;

    if (c == 0)
        c = memcmp(a->ip, b->ip, 16);
    if (c == 0)
        c = (int)a->fresh - (int)b->fresh;
    return c != 0 ? c : a->fd - b->fd;
}

/* Every client socket now open, each marked fresh or as it was. */
static struct sock *census(const jf_connlimit *cl, size_t *n)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    struct sock *all = NULL, s;
    size_t cap = 0;

    *n = 0;
    if (d == NULL)
        return NULL;
    while ((e = readdir(d)) != NULL && *n < MAX_SOCKS) {
        int fd = (int)strtol(e->d_name, NULL, 10);
        const struct sock *was;
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d) ||
            !client_socket(cl, fd, &s))
            continue;
        was = cl->known ? bsearch(&s, cl->known, cl->nknown, sizeof(s), by_fd) : NULL;
        s.fresh = was == NULL || !same_peer(was, &s);
        s.refused = !s.fresh && was->refused;
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            struct sock *grown = realloc(all, ncap * sizeof(*all));
            if (grown == NULL)
                break;
            all = grown;
            cap = ncap;
        }
        all[(*n)++] = s;
    }
    closedir(d);
    return all;
}

/* Answer 503 and shut the socket: civetweb's worker then reads end of
 * stream and closes it. Checked again just before, so a descriptor closed
 * and reused since the census is left alone. */
static void refuse(struct sock *s, const jf_connlimit *cl)
{
    struct sock now;

    if (!client_socket(cl, s->fd, &now) || !same_peer(&now, s))
        return;
    (void)send(s->fd, cl->resp, (size_t)cl->resp_len, MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(s->fd, SHUT_RDWR);
    s->refused = true;
}

void jf_connlimit_admit(jf_connlimit *cl)
{
    struct sock *all;
    size_t n, refused = 0;
    char ip[JF_NETADDR_TEXT_MAX];

    if (cl == NULL || cl->cap <= 0)
        return;
    /* No address can be over the cap while all together are within it:
     * then the census (≈ 1 µs an open socket) is not worth taking. */
    if (atomic_fetch_add(&cl->open, 1) + 1 <= cl->cap)
        return;
    pthread_mutex_lock(&cl->lock);
    if (cl->nports == 0)
        goto out;
    all = census(cl, &n);
    if (all == NULL)
        n = 0; /* no client socket (or no census): forget the last one */
    else
        qsort(all, n, sizeof(*all), by_peer);
    for (size_t i = 0, j; i < n; i = j) {
        long open = 0;
        for (j = i;
             j < n && all[j].family == all[i].family && memcmp(all[j].ip, all[i].ip, 16) == 0; j++)
            open += !all[j].refused;
        if (open <= cl->cap)
            continue;
        inet_ntop(all[i].family == 4 ? AF_INET : AF_INET6, all[i].ip, ip, sizeof(ip));
        if (jf_netaddr_list_has(cl->exempt, ip))
            continue;
        /* The newest go: an address's established connections stay. */
        for (size_t k = j; k-- > i && open > cl->cap;) {
            if (all[k].refused || !all[k].fresh)
                continue;
            refuse(&all[k], cl);
            if (all[k].refused) {
                open--;
                refused++;
                memcpy(cl->last, ip, sizeof(ip));
            }
        }
    }
    if (all != NULL)
        qsort(all, n, sizeof(*all), by_fd);
    free(cl->known);
    cl->known = all;
    cl->nknown = n;
    cl->unlogged += refused;
    if (cl->unlogged > 0 && time(NULL) - cl->logged >= LOG_EVERY_S) {
        jf_log_warn("connection_refused",
                    "%lu connection(s) over the cap of %ld an address refused (the last of %s)",
                    cl->unlogged, cl->cap, cl->last);
        cl->unlogged = 0;
        cl->logged = time(NULL);
    }
out:
    pthread_mutex_unlock(&cl->lock);
}
