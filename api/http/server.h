/* The HTTP server: civetweb set up as the architecture requires (no
 * document_root, tcp_nodelay, keep-alive, many threads, plain HTTP behind
 * nginx) and one entry point that runs every request through the same
 * steps: request id, routing, query parsing, authentication, capability,
 * handler, metrics, access log. */
#ifndef JF_SERVER_H
#define JF_SERVER_H

#include "request.h"

typedef struct jf_server jf_server;

/* Start listening with app's configuration. 0 or JF_ERR_IO. */
int jf_server_start(jf_app *app, jf_server **out);
/* Stop accepting, let running requests finish, free everything. */
void jf_server_stop(jf_server *srv);

#endif
