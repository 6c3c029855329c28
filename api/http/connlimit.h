/* A cap on the connections one client address may hold open, so that a
 * few hosts cannot take every worker thread (civetweb gives each open
 * connection a thread, idle or slow ones included).
 *
 * Contract: jf_connlimit_admit runs when civetweb hands a new connection to
 * a worker (its init_connection callback), before a byte is read. It takes
 * a census of the server's open client sockets and refuses, with a 503 and
 * a shutdown of the socket, the newest connections of any address over the
 * cap, so their workers are free again at once rather than when the
 * request timeout expires. Trusted proxies are not capped (they carry many
 * clients; the proxy is where those are limited). civetweb 1.15 tells the
 * callback neither the socket nor the peer, hence the census of the
 * process's sockets on the listening ports. */
#ifndef JF_CONNLIMIT_H
#define JF_CONNLIMIT_H

#include "../core/netaddr.h"

typedef struct jf_connlimit jf_connlimit;

/* cap: connections per address (0: no cap). exempt is borrowed and must
 * outlive the limiter. 0 or JF_ERR_NOMEM. */
int jf_connlimit_create(jf_connlimit **out, long cap, const jf_netaddr_list *exempt);
/* The TCP ports the server listens on (up to 4), once it listens; until
 * then nothing is refused. */
void jf_connlimit_listen(jf_connlimit *cl, const int *ports, int n);
/* Called for each new connection; see the contract above. */
void jf_connlimit_admit(jf_connlimit *cl);
/* Called when civetweb closes a connection (its connection_close callback);
 * while no more connections are open than the cap, admitting takes no
 * census. */
void jf_connlimit_release(jf_connlimit *cl);
void jf_connlimit_destroy(jf_connlimit *cl);

#endif
