/* A small bounded pool of libpq connections shared by the HTTP worker
 * threads (which far outnumber useful backends).
 *
 * Contract:
 * - jf_db_pool_acquire blocks up to the configured timeout for a free
 *   connection, then fails with JF_ERR_UNAVAILABLE (the caller answers 503).
 * - A connection is used by exactly one thread between acquire and release.
 * - Statements are declared once (jf_db_stmt) and registered before the pool
 *   serves requests; each connection prepares a statement the first time it
 *   runs it, by name.
 * - A broken connection (PostgreSQL restarted, network cut) is reset and the
 *   statement retried once, unless a transaction is open on it: so the pool
 *   recovers by itself with no restart of the service. */
#ifndef JF_DB_POOL_H
#define JF_DB_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#define JF_DB_MAX_STMTS 512

/* A prepared statement. Declare as a static const-initialised object and pass
 * to jf_db_stmt_register once at start; id is assigned there. */
typedef struct jf_stmt {
    const char *name;
    const char *sql;
    int id;
} jf_stmt;

typedef struct jf_db_conn jf_db_conn;
typedef struct jf_db_pool jf_db_pool;

/* Register a statement (single-threaded start-up only). 0 or JF_ERR_TOO_LARGE. */
int jf_db_stmt_register(jf_stmt *stmt);
/* Register n statements. */
int jf_db_stmt_register_all(jf_stmt *const *list, size_t n);
/* A registered statement by name, or NULL. */
const jf_stmt *jf_db_stmt_find(const char *name);

/* Create a pool of size connections to conninfo. Connections open lazily, so
 * the service starts (and reports not-ready) while the database is down. */
int jf_db_pool_create(jf_db_pool **out, const char *conninfo, int size, int acquire_timeout_ms);
/* Close every connection and free the pool. Call after all users stopped. */
void jf_db_pool_destroy(jf_db_pool *pool);
/* Borrow a live connection. 0, or JF_ERR_UNAVAILABLE (timeout, or cannot connect). */
int jf_db_pool_acquire(jf_db_pool *pool, jf_db_conn **out);
/* Give it back (to the pool it came from, which may be a standby's: see
 * replica.h). A connection left inside a transaction is rolled back first. */
void jf_db_pool_release(jf_db_pool *pool, jf_db_conn *conn);
/* The pool is a hot standby's (replica.c): its connections only read. */
void jf_db_pool_mark_replica(jf_db_pool *pool);
bool jf_db_conn_is_replica(const jf_db_conn *conn);
/* Connections currently borrowed, and the pool's size (for /metrics). */
int jf_db_pool_in_use(jf_db_pool *pool);
int jf_db_pool_size(jf_db_pool *pool);

/* Run a registered statement with text parameters (NULL = SQL NULL).
 * On 0, *res holds the result (caller PQclear()s it). On JF_ERR_DB, *res
 * holds the error result when there is one (for jf_db_sqlstate), else NULL.
 * JF_ERR_UNAVAILABLE when the connection is broken and could not be mended. */
int jf_db_exec(jf_db_conn *conn, const jf_stmt *stmt, int nparams, const char *const *params,
               PGresult **res);
/* Same for one-off SQL that is not worth preparing (still parameterised). */
int jf_db_exec_sql(jf_db_conn *conn, const char *sql, int nparams, const char *const *params,
                   PGresult **res);

/* Transactions on one connection: no automatic retry while one is open. */
int jf_db_begin(jf_db_conn *conn);
int jf_db_commit(jf_db_conn *conn);
void jf_db_rollback(jf_db_conn *conn);

/* Inside a transaction (begun, not yet committed or rolled back)? */
bool jf_db_in_tx(const jf_db_conn *conn);
/* The SQLSTATE ("" when none) of the last statement that failed on conn
 * with JF_ERR_DB, and its message in *message (for the log). */
const char *jf_db_last_error(const jf_db_conn *conn, const char **message);

/* The SQLSTATE of an error result ("23505"), or "" when none. */
const char *jf_db_sqlstate(const PGresult *res);
/* The underlying libpq handle (for COPY and the like). */
PGconn *jf_db_pg(jf_db_conn *conn);
/* Log the server's notices and warnings on pg as JSON lines (libpq would
 * print them as plain text on stderr). Call on every new connection. */
void jf_db_log_notices(PGconn *pg);
/* Log "cannot connect" once, then a count of repeats at most every
 * JF_DB_DOWN_LOG_S seconds while the database stays down, so an outage
 * is not one error line per request. */
void jf_db_log_down(const char *what, const char *why);
#define JF_DB_DOWN_LOG_S 10

/* Is the server reachable? Runs SELECT 1 on a borrowed connection. */
bool jf_db_ping(jf_db_pool *pool);

#endif
