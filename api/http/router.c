/* Segment-by-segment route matching over a small static table. */
#include "router.h"
#include "../core/err.h"

#include <string.h>

#define PARAM_MAX 128

static const jf_route *routes[JF_MAX_ROUTES];
static size_t nroutes;

int jf_router_add(const jf_route *r, size_t n)
{
    if (n > JF_MAX_ROUTES - nroutes)
        return JF_ERR_TOO_LARGE;
    for (size_t i = 0; i < n; i++)
        routes[nroutes++] = &r[i];
    return 0;
}

size_t jf_router_count(void)
{
    return nroutes;
}

const jf_route *jf_router_at(size_t i)
{
    return i < nroutes ? routes[i] : NULL;
}

size_t jf_router_index(const jf_route *r)
{
    for (size_t i = 0; i < nroutes; i++)
        if (routes[i] == r)
            return i;
    return nroutes;
}

/* Does path match pattern? Parameters go to req (when non-NULL). */
static bool match(const char *pat, const char *path, jf_req *req)
{
    int np = 0;

    while (*pat && *path) {
        if (*pat == '{') {
            const char *pend = strchr(pat, '}');
            const char *seg_end = strchr(path, '/');
            size_t n = seg_end ? (size_t)(seg_end - path) : strlen(path);

            if (pend == NULL || n == 0 || n > PARAM_MAX || np == JF_MAX_PATH_PARAMS)
                return false;
            if (req != NULL) {
                req->path_params[np] = jf_arena_strndup(&req->arena, path, n);
                if (req->path_params[np] == NULL)
                    return false;
            }
            np++;
            pat = pend + 1;
            path += n;
            continue;
        }
        if (*pat != *path)
            return false;
        pat++;
        path++;
    }
    if (*pat != '\0' || *path != '\0')
        return false;
    if (req != NULL)
        req->npath_params = np;
    return true;
}

const jf_route *jf_router_match(const char *method, const char *path, jf_req *req, bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < nroutes; i++) {
        if (strcmp(routes[i]->method, method) != 0) {
            if (!*path_known && match(routes[i]->pattern, path, NULL))
                *path_known = true;
            continue;
        }
        if (match(routes[i]->pattern, path, req))
            return routes[i];
    }
    return NULL;
}
