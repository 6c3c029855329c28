/* jingfang-api: the stateless HTTP service. Subcommands for operators:
 *   jingfang-api                 serve (configuration from JF_* variables)
 *   jingfang-api hash-password   read a password on stdin, print its hash
 *   jingfang-api routes          print every registered "METHOD /path"
 *   jingfang-api recompute [CODE] recompute the derived clinical state of every
 *                                patient on the register (under org unit CODE)
 *   jingfang-api recompute --pending  recompute every patient once when the
 *                                stored state predates the rules (after migrating)
 *   jingfang-api statement NAME  print the SQL of a registered statement
 *   jingfang-api audit-verify    check the audit log's HMAC chain; exit 1
 *                                naming the first row edited, deleted or moved
 *   jingfang-api audit-archive BEFORE DIR  as the database owner: verify, then
 *                                move the trail's months before BEFORE to DIR */
#include "audit/audit.h"
#include "auth/password.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "db/pipeline.h"
#include "db/pool.h"
#include "db/replica.h"
#include "http/router.h"
#include "http/server.h"
#include "http/static.h"
#include "reconcile/runner.h"
#include "record/recompute.h"
#include "resources/resources.h"

#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The runner looks for 三网 jobs queued elsewhere (or left by a runner
 * that died) this often; one this API queues wakes it at once. */
#define RECONCILE_POLL_MS 5000

static int cmd_hash_password(void)
{
    char line[JF_PASSWORD_MAX_LEN + 2], out[JF_PASSWORD_HASH_MAX];
    const char *it = getenv("JF_PBKDF2_ITERATIONS");
    unsigned iterations = it ? (unsigned)strtoul(it, NULL, 10) : 210000;
    size_t n;

    if (iterations < 210000)
        iterations = 210000;
    if (fgets(line, sizeof(line), stdin) == NULL)
        return 2;
    n = strcspn(line, "\r\n");
    line[n] = '\0';
    if (n < JF_PASSWORD_MIN_LEN) {
        fprintf(stderr, "password must be at least %d characters\n", JF_PASSWORD_MIN_LEN);
        return 2;
    }
    if (jf_password_hash(line, iterations, out, sizeof(out)) != 0)
        return 1;
    puts(out);
    return 0;
}

static int cmd_routes(void)
{
    for (size_t i = 0; i < jf_router_count(); i++)
        printf("%s %s\n", jf_router_at(i)->method, jf_router_at(i)->pattern);
    return 0;
}

/* The SQL of a registered statement, for EXPLAIN and for benchmarking the
 * database alone on exactly what a request runs. */
static int cmd_statement(const char *name)
{
    const jf_stmt *s = name ? jf_db_stmt_find(name) : NULL;

    if (s == NULL) {
        fprintf(stderr, "no statement named %s\n", name ? name : "(none)");
        return 1;
    }
    printf("%s\n", s->sql);
    return 0;
}

/* audit-verify (argv NULL) or audit-archive BEFORE DIR. Exit 0 when the
 * chain is intact (and archived), 1 when it is broken, 2 when it could not
 * be checked. */
static int cmd_audit(char **argv)
{
    static jf_config cfg;
    char err[256];
    PGconn *pg;
    int rc;

    if (argv != NULL && (argv[0] == NULL || argv[1] == NULL)) {
        fprintf(stderr, "usage: jingfang-api audit-archive BEFORE-DATE DIR\n");
        return 2;
    }
    if (jf_config_load(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "jingfang-api: %s\n", err);
        return 2;
    }
    pg = PQconnectdb(cfg.db_url);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "jingfang-api: cannot connect: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return 2;
    }
    rc = argv ? jf_audit_archive(pg, cfg.audit_key, argv[0], argv[1], stdout)
              : jf_audit_verify(pg, cfg.audit_key, stdout);
    if (rc < 0)
        fprintf(stderr, "jingfang-api: %s: %s %s", argv ? "audit-archive" : "audit-verify",
                jf_err_str(rc), PQerrorMessage(pg));
    PQfinish(pg);
    return rc < 0 ? 2 : rc;
}

static int cmd_recompute(const char *code)
{
    static jf_app app;
    char err[256];
    int rc;

    if (jf_config_load(&app.cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "jingfang-api: %s\n", err);
        return 1;
    }
    if (jf_audit_key_use(app.cfg.audit_key) != 0)
        return 1;
    if (jf_db_pool_create(&app.pool, app.cfg.db_url, 1, 10000) != 0)
        return 1;
    rc = code != NULL && strcmp(code, "--pending") == 0 ? jf_record_recompute_pending(&app)
                                                        : jf_record_recompute_all(&app, code);
    jf_db_pool_destroy(app.pool);
    return rc == 0 ? 0 : 1;
}

static int serve(void)
{
    static jf_app app;
    jf_server *srv = NULL;
    char err[256];
    sigset_t set;
    int sig = 0, rc;

    rc = jf_config_load(&app.cfg, err, sizeof(err));
    if (rc != 0) {
        jf_log_error("config", "refusing to start: %s", err);
        return 1;
    }
    jf_config_log(&app.cfg);
    if (app.cfg.test_clock)
        jf_log_warn("config", "JF_TEST_CLOCK=1: clients may set the date; tests only");
    if (jf_audit_key_use(app.cfg.audit_key) != 0) {
        jf_log_error("config", "refusing to start: PGOPTIONS too long to carry the audit key");
        return 1;
    }
    rc = jf_db_pool_create(&app.pool, app.cfg.db_url, (int)app.cfg.db_pool_size,
                           (int)app.cfg.db_acquire_timeout_ms);
    if (rc != 0)
        return 1;
    if (app.cfg.db_pipelines > 0 &&
        jf_db_pipe_create(&app.pipe, app.cfg.db_url, (int)app.cfg.db_pipelines) != 0) {
        jf_db_pool_destroy(app.pool);
        return 1;
    }
    if (app.cfg.db_read_url[0] != '\0' &&
        jf_db_replica_create(&app.replica, app.cfg.db_read_url, (int)app.cfg.db_read_pool_size,
                             (int)app.cfg.db_acquire_timeout_ms, app.cfg.db_read_max_lag_ms) != 0) {
        jf_db_replica_destroy(app.replica);
        jf_db_pipe_destroy(app.pipe);
        jf_db_pool_destroy(app.pool);
        return 1;
    }

    /* Block the stop signals before civetweb starts its threads, so they
     * inherit the mask and only this thread receives them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (app.cfg.audit_flush_ms > 0 &&
        jf_audit_batch_start(app.cfg.db_url, app.cfg.audit_flush_ms) != 0) {
        jf_db_replica_destroy(app.replica);
        jf_db_pipe_destroy(app.pipe);
        jf_db_pool_destroy(app.pool);
        return 1;
    }
    mg_init_library(0);
    rc = app.cfg.reconcile_runner ? jf_rec_runner_start(app.cfg.db_url, RECONCILE_POLL_MS) : 0;
    if (rc == 0)
        rc = jf_static_load(JF_STATIC_WEB, app.cfg.web_dir);
    if (rc == 0)
        rc = jf_static_load(JF_STATIC_MOBILE, app.cfg.mobile_dir);
    if (rc == 0 && (rc = jf_server_start(&app, &srv)) != 0)
        jf_log_error("listen", "cannot listen on %s", app.cfg.listen);
    if (rc != 0) {
        jf_static_free();
        jf_rec_runner_stop();
        jf_audit_batch_stop();
        jf_db_replica_destroy(app.replica);
        jf_db_pipe_destroy(app.pipe);
        jf_db_pool_destroy(app.pool);
        mg_exit_library();
        return 1;
    }
    jf_log_info("started", "listening on %s with %ld threads and %ld database connections",
                app.cfg.listen, app.cfg.threads, app.cfg.db_pool_size);
    sigwait(&set, &sig);
    jf_log_info("stopping", "signal %d: finishing requests in flight", sig);
    jf_server_stop(srv);
    jf_rec_runner_stop();
    jf_static_free();
    jf_audit_batch_stop();
    jf_db_replica_destroy(app.replica);
    jf_db_pipe_destroy(app.pipe);
    jf_db_pool_destroy(app.pool);
    mg_exit_library();
    jf_log_info("stopped", "bye");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "hash-password") == 0)
        return cmd_hash_password();
    if (jf_resources_init() != 0) {
        fprintf(stderr, "route or statement table overflow\n");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "routes") == 0)
        return cmd_routes();
    if (argc > 1 && strcmp(argv[1], "recompute") == 0)
        return cmd_recompute(argc > 2 ? argv[2] : NULL);
    if (argc > 1 && strcmp(argv[1], "statement") == 0)
        return cmd_statement(argc > 2 ? argv[2] : NULL);
    if (argc > 1 && strcmp(argv[1], "audit-verify") == 0)
        return cmd_audit(NULL);
    if (argc > 1 && strcmp(argv[1], "audit-archive") == 0)
        return cmd_audit(argv + 2);
    if (argc > 1) {
        fprintf(stderr,
                "usage: %s [hash-password | routes | recompute [CODE] | statement NAME |"
                " audit-verify | audit-archive BEFORE-DATE DIR]\n",
                argv[0]);
        return 2;
    }
    return serve();
}
