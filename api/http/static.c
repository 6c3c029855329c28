/* The clients from memory: fixed tables read once at start, the web
 * client at / and the grid-worker app at /m/. */
#include "static.h"
#include "response.h"
#include "../core/err.h"
#include "../core/log.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Scripts only from our origin and no inline ones; Element Plus sets
 * style attributes at run time, hence 'unsafe-inline' for styles only. */
#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "                    \
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "   \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "no-cache"
#define HEADERS_MAX 2048

/* Read-only once the server runs: loaded before it starts, freed after it
 * stops. */
typedef struct site {
    const char *prefix; /* "/" or "/m/": the site's paths start with it */
    jf_static_file files[JF_STATIC_MAX_FILES];
    size_t n;
    const jf_static_file *index;
} site;

static site sites[] = {{.prefix = "/"}, {.prefix = "/m/"}};

bool jf_static_name_ok(const char *name)
{
    size_t n = strlen(name);
    bool part_start = true;

    if (n == 0 || n > JF_STATIC_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++) {
        if (*p == '/') {
            if (part_start)
                return false; /* leading '/' or "//" */
            part_start = true;
            continue;
        }
        if (part_start && *p == '.')
            return false; /* ".", "..", hidden files */
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
        part_start = false;
    }
    return !part_start; /* no trailing '/' */
}

const char *jf_static_ctype(const char *name)
{
    static const struct {
        const char *ext, *ctype;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".woff", "font/woff"},
        {".ttf", "font/ttf"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');

    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].ctype;
    return "application/octet-stream";
}

static jf_static_file *lookup(site *web, const char *name, size_t len)
{
    for (size_t i = 0; i < web->n; i++)
        if (strlen(web->files[i].name) == len && memcmp(web->files[i].name, name, len) == 0)
            return &web->files[i];
    return NULL;
}

static void site_free(site *web)
{
    for (size_t i = 0; i < web->n; i++) {
        free(web->files[i].name);
        free(web->files[i].data);
        free(web->files[i].gz);
    }
    memset(web->files, 0, sizeof(web->files));
    web->n = 0;
    web->index = NULL;
}

/* Read a whole regular file under cap. 0, or a jf_err. */
static int read_file(const char *path, size_t cap, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *data = NULL;
    int rc = JF_ERR_IO;

    if (f == NULL)
        goto out;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        goto out;
    rc = JF_ERR_TOO_LARGE;
    if ((unsigned long long)st.st_size > cap)
        goto out;
    rc = JF_ERR_NOMEM;
    if ((data = malloc((size_t)st.st_size + 1)) == NULL)
        goto out;
    rc = JF_ERR_IO;
    if (fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        goto out;
    data[st.st_size] = '\0';
    *out = data;
    *len = (size_t)st.st_size;
    data = NULL;
    rc = 0;
out:
    free(data);
    if (f != NULL)
        fclose(f);
    return rc;
}

/* The rules of the build: Vite puts content-hashed names under assets/. */
static const char *cache_of(const char *name)
{
    return strncmp(name, "assets/", 7) == 0 ? CACHE_IMMUTABLE : CACHE_REVALIDATE;
}

int jf_static_load(jf_static_site which, const char *dir)
{
    site *web = &sites[which];
    char path[512], *list = NULL, *line, *save = NULL;
    size_t list_len = 0, total = 0;
    int rc;

    if (dir == NULL || *dir == '\0')
        return 0;
    snprintf(path, sizeof(path), "%s/files.txt", dir);
    rc = read_file(path, 64 * 1024, &list, &list_len);
    if (rc != 0) {
        jf_log_error("web", "cannot read %s: %s", path, jf_err_str(rc));
        goto out;
    }
    for (line = strtok_r(list, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        jf_static_file *f;
        char *data = NULL;
        size_t len = 0, n = strlen(line);
        bool gz = n > 3 && strcmp(line + n - 3, ".gz") == 0;

        rc = JF_ERR_INVALID;
        if (!jf_static_name_ok(line) || web->n == JF_STATIC_MAX_FILES) {
            jf_log_error("web", "files.txt: refused entry %.64s (or more than %d files)", line,
                         JF_STATIC_MAX_FILES);
            goto out;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, line);
        rc = read_file(path, JF_STATIC_FILE_MAX, &data, &len);
        if (rc == 0 && (total += len) > JF_STATIC_TOTAL_MAX)
            rc = JF_ERR_TOO_LARGE;
        if (rc != 0) {
            free(data);
            jf_log_error("web", "cannot load %s: %s", path, jf_err_str(rc));
            goto out;
        }
        /* "x.gz" is the compressed twin of "x", listed after it. */
        if (gz && (f = lookup(web, line, n - 3)) != NULL && f->gz == NULL) {
            f->gz = data;
            f->gz_len = len;
            continue;
        }
        f = &web->files[web->n];
        if ((f->name = strdup(line)) == NULL) {
            free(data);
            rc = JF_ERR_NOMEM;
            goto out;
        }
        web->n++;
        f->data = data;
        f->len = len;
        f->ctype = jf_static_ctype(line);
        f->cache = cache_of(line);
    }
    web->index = lookup(web, "index.html", 10);
    rc = 0;
    if (web->index == NULL) {
        jf_log_error("web", "%s/files.txt lists no index.html", dir);
        rc = JF_ERR_INVALID;
    }
out:
    free(list);
    if (rc != 0)
        site_free(web);
    else
        jf_log_info("web", "serving %s from memory: %zu files, %zu bytes", web->prefix, web->n,
                    total);
    return rc;
}

void jf_static_free(void)
{
    for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++)
        site_free(&sites[i]);
}

const jf_static_file *jf_static_find(const char *path)
{
    site *web = &sites[JF_STATIC_WEB];
    const jf_static_file *f;
    const char *name;

    if (path[0] != '/' || strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0)
        return NULL;
    /* /m and everything under /m/ belong to the app, loaded or not. */
    if (strncmp(path, "/m/", 3) == 0 || strcmp(path, "/m") == 0)
        web = &sites[JF_STATIC_MOBILE];
    if (web->index == NULL)
        return NULL;
    name = path + (strlen(path) < strlen(web->prefix) ? strlen(path) : strlen(web->prefix));
    if ((f = lookup(web, name, strlen(name))) != NULL)
        return f;
    /* A stale hashed asset must fail loudly, not parse index.html as JS. */
    if (strncmp(name, "assets/", 7) == 0)
        return NULL;
    return web->index;
}

/* Whether Accept-Encoding names gzip (without q=0: browsers never send it). */
static bool accepts_gzip(const jf_req *req)
{
    const char *ae = jf_req_header(req, "Accept-Encoding");

    return ae != NULL && strstr(ae, "gzip") != NULL && strstr(ae, "gzip;q=0") == NULL;
}

bool jf_static_serve(jf_req *req)
{
    const jf_static_file *f;
    bool head = strcmp(req->method, "HEAD") == 0, gz;
    const char *body;
    char hdr[HEADERS_MAX];
    size_t len;
    int n;

    if ((!head && strcmp(req->method, "GET") != 0) || (f = jf_static_find(req->path)) == NULL)
        return false;
    gz = f->gz != NULL && accepts_gzip(req);
    body = gz ? f->gz : f->data;
    len = gz ? f->gz_len : f->len;
    n = snprintf(hdr, sizeof(hdr),
                 "HTTP/1.1 200 OK\r\nX-Request-Id: %s\r\nContent-Type: %s\r\n"
                 "Content-Length: %zu\r\nCache-Control: %s\r\n%s%s"
                 "Content-Security-Policy: " CSP "\r\n"
                 "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n\r\n",
                 req->request_id, f->ctype, len, f->cache, f->gz ? "Vary: Accept-Encoding\r\n" : "",
                 gz ? "Content-Encoding: gzip\r\n" : "");
    req->status = 200;
    req->resp_bytes = head ? 0 : len;
    if (n > 0 && (size_t)n < sizeof(hdr) && mg_write(req->conn, hdr, (size_t)n) > 0 && !head)
        (void)mg_write(req->conn, body, len);
    return true;
}
