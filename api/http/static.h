/* The built clients, served from memory: the web client at /, the
 * grid-worker app at /m/. At start the files that the
 * build's files.txt lists are read once; a request is answered from that
 * table by exact path, never from the file system (civetweb's own file
 * serving, document_root, is not used: it carries CVEs). Paths outside
 * /api/ that name no file answer index.html, for the client's history
 * router; missing hashed assets (/assets/...) answer 404. */
#ifndef JF_STATIC_H
#define JF_STATIC_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

#define JF_STATIC_MAX_FILES 512
#define JF_STATIC_NAME_MAX 200
#define JF_STATIC_FILE_MAX (16u * 1024 * 1024)
#define JF_STATIC_TOTAL_MAX (64u * 1024 * 1024)

typedef struct jf_static_file {
    char *name; /* relative to the client's directory: "assets/index-3f2a.js" */
    char *data;
    size_t len;
    char *gz; /* the gzip twin the build made ("name.gz"), or NULL */
    size_t gz_len;
    const char *ctype;
    const char *cache; /* Cache-Control */
} jf_static_file;

typedef enum jf_static_site {
    JF_STATIC_WEB = 0, /* the township dashboard, at / */
    JF_STATIC_MOBILE,  /* the grid-worker app, at /m/ */
} jf_static_site;

/* Load the files dir/files.txt lists (one relative path a line) as site
 * which. 0, or a jf_err with the reason logged; an empty dir loads nothing
 * and is 0. */
int jf_static_load(jf_static_site which, const char *dir);
/* Free what jf_static_load read. */
void jf_static_free(void);

/* Whether a line of files.txt is a name we serve: letters, digits, '.',
 * '_', '-' and '/' between non-empty parts, no part starting with '.'. */
bool jf_static_name_ok(const char *name);
/* The Content-Type of a file by its extension. */
const char *jf_static_ctype(const char *name);
/* The file a request path answers: the exact file, index.html for other
 * paths of the client (paths under /m/ are the app's, the rest the web
 * client's), NULL for /api/, missing assets and when that client is not
 * loaded. */
const jf_static_file *jf_static_find(const char *path);

/* Answer a GET or HEAD that no route matched from the loaded client.
 * true when a response was sent. */
bool jf_static_serve(jf_req *req);

#endif
