/* IP addresses and networks as text: the trusted-proxy list and the
 * client's address taken from X-Forwarded-For behind a trusted proxy. */
#ifndef JF_NETADDR_H
#define JF_NETADDR_H

#include <stdbool.h>
#include <stddef.h>

#define JF_NETADDR_MAX_NETS 16
/* Room for any IPv6 literal (INET6_ADDRSTRLEN) and its NUL. */
#define JF_NETADDR_TEXT_MAX 46

/* One network: an address and a prefix length (32 or 128: one host). */
typedef struct jf_netaddr_net {
    int family; /* 4 or 6 */
    unsigned char bytes[16];
    int prefix;
} jf_netaddr_net;

typedef struct jf_netaddr_list {
    int n;
    jf_netaddr_net nets[JF_NETADDR_MAX_NETS];
} jf_netaddr_list;

/* Parse "a, b/len, …" (IPv4 or IPv6 literals, optional prefix length;
 * empty: no network). 0, or JF_ERR_INVALID on a bad entry or more than
 * JF_NETADDR_MAX_NETS entries. */
int jf_netaddr_list_parse(const char *s, jf_netaddr_list *out);
/* Is the IP literal ip (an IPv4-mapped IPv6 address counts as its IPv4
 * address) inside one of the networks? false for anything not an IP literal. */
bool jf_netaddr_list_has(const jf_netaddr_list *l, const char *ip);
/* The client's address: peer itself, unless peer is a trusted proxy and
 * xff (the X-Forwarded-For list, NULL when absent) names who it forwards
 * for; then the right-most entry that is not itself trusted (the proxies
 * append, so entries left of it are the client's own claims). An entry
 * that is not an IP literal ends the walk at the last good hop. The
 * result, in canonical form, goes to out (JF_NETADDR_TEXT_MAX bytes). */
void jf_netaddr_client(const jf_netaddr_list *trusted, const char *peer, const char *xff,
                       char out[JF_NETADDR_TEXT_MAX]);

#endif
