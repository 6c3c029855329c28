/* Trusted-proxy networks and the client's address behind them. */
#include "netaddr.h"
#include "err.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Parse an IP literal of at most len bytes; an IPv4-mapped IPv6 address
 * becomes IPv4, so "::ffff:10.0.0.1" matches 10.0.0.0/8. */
static bool parse_ip(const char *s, size_t len, jf_netaddr_net *out)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char tmp[JF_NETADDR_TEXT_MAX];

    if (len == 0 || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, tmp, out->bytes) == 1) {
        out->family = 4;
        out->prefix = 32;
        return true;
    }
    if (inet_pton(AF_INET6, tmp, out->bytes) != 1)
        return false;
    if (memcmp(out->bytes, mapped, sizeof(mapped)) == 0) {
        memmove(out->bytes, out->bytes + 12, 4);
        memset(out->bytes + 4, 0, 12);
        out->family = 4;
        out->prefix = 32;
        return true;
    }
    out->family = 6;
    out->prefix = 128;
    return true;
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* [p, end) without surrounding blanks. */
static void trim(const char **p, const char **end)
{
    *p = skip_space(*p, *end);
    while (*end > *p && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

int jf_netaddr_list_parse(const char *s, jf_netaddr_list *out)
{
    const char *p = s;

    out->n = 0;
    if (*skip_space(p, p + strlen(p)) == '\0')
        return 0; /* blank: no network */
    for (;;) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *slash;
        jf_netaddr_net *net;

        trim(&p, &end);
        if (p == end)
            return JF_ERR_INVALID;
        if (out->n == JF_NETADDR_MAX_NETS)
            return JF_ERR_INVALID;
        net = &out->nets[out->n];
        slash = memchr(p, '/', (size_t)(end - p));
        if (!parse_ip(p, (size_t)((slash ? slash : end) - p), net))
            return JF_ERR_INVALID;
        if (slash != NULL) {
            int max = net->family == 4 ? 32 : 128, len = 0;
            const char *d = slash + 1;
            if (d == end || end - d > 3)
                return JF_ERR_INVALID;
            for (; d < end; d++) {
                if (*d < '0' || *d > '9')
                    return JF_ERR_INVALID;
                len = len * 10 + (*d - '0');
            }
            if (len > max)
                return JF_ERR_INVALID;
            net->prefix = len;
        }
        out->n++;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

static bool net_has(const jf_netaddr_net *net, const jf_netaddr_net *a)
{
    int full = net->prefix / 8, rest = net->prefix % 8;

    if (net->family != a->family || memcmp(net->bytes, a->bytes, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (net->bytes[full] & mask) == (a->bytes[full] & mask);
}

static bool list_has(const jf_netaddr_list *l, const jf_netaddr_net *a)
{
    for (int i = 0; i < l->n; i++)
        if (net_has(&l->nets[i], a))
            return true;
    return false;
}

bool jf_netaddr_list_has(const jf_netaddr_list *l, const char *ip)
{
    jf_netaddr_net a;

    return ip != NULL && parse_ip(ip, strlen(ip), &a) && list_has(l, &a);
}

static void to_text(const jf_netaddr_net *a, char out[JF_NETADDR_TEXT_MAX])
{
    if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, out, JF_NETADDR_TEXT_MAX) == NULL)
        snprintf(out, JF_NETADDR_TEXT_MAX, "unknown");
}

void jf_netaddr_client(const jf_netaddr_list *trusted, const char *peer, const char *xff,
                       char out[JF_NETADDR_TEXT_MAX])
{
    jf_netaddr_net cur;
    const char *end;

    if (!parse_ip(peer, strlen(peer), &cur)) {
        snprintf(out, JF_NETADDR_TEXT_MAX, "%s", peer);
        return;
    }
    end = xff ? xff + strlen(xff) : NULL;
    /* Right to left: each hop was added by the one after it. */
    while (end != NULL && list_has(trusted, &cur)) {
        const char *seg = end, *start, *e = end;
        jf_netaddr_net hop;

        while (seg > xff && seg[-1] != ',')
            seg--;
        start = seg;
        trim(&start, &e);
        if (!parse_ip(start, (size_t)(e - start), &hop))
            break;
        cur = hop;
        end = seg > xff ? seg - 1 : NULL;
    }
    to_text(&cur, out);
}
