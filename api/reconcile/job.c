/* Taking and running one queued 三网 analysis (job.h). */
#include "job.h"
#include "load.h"
#include "../core/err.h"
#include "../core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The oldest queued job, locked for this transaction (skipped while
 * another runner holds it), and whether it was asked to stop meanwhile.
 * NO KEY: the progress row's foreign key (written on the second
 * connection) only needs a key share of it. */
static const char sql_claim[] =
    "SELECT j.id, j.run_id, (SELECT coalesce(sum(rows), 0) FROM reconcile_sources s"
    "  WHERE s.run_id = j.run_id), EXISTS (SELECT 1 FROM reconcile_job_progress p"
    "  WHERE p.job_id = j.id AND p.cancel_requested)"
    " FROM reconcile_jobs j WHERE j.state = 'queued'"
    " ORDER BY j.id LIMIT 1 FOR NO KEY UPDATE OF j SKIP LOCKED";
/* $1 job, $2 rows, $3 runner backend. */
static const char sql_start[] =
    "INSERT INTO reconcile_job_progress (job_id, step, step_no, steps, rows, runner_pid,"
    " started_at, updated_at) VALUES ($1, 'starting', 0, $4, $2, $3, now(), now())"
    " ON CONFLICT (job_id) DO UPDATE SET step = 'starting', step_no = 0, rows = $2,"
    " runner_pid = $3, started_at = now(), updated_at = now()";
/* $1 job, $2 step name, $3 step number; answers whether to stop. */
static const char sql_step[] =
    "UPDATE reconcile_job_progress SET step = $2, step_no = $3::int, updated_at = now()"
    " WHERE job_id = $1 RETURNING cancel_requested";
/* $1 job, $2 state, $3 error. */
static const char sql_end[] =
    "UPDATE reconcile_jobs SET state = $2, error = left($3, 500), finished_at = now()"
    " WHERE id = $1 AND state = 'queued'";

struct ctx {
    PGconn *side;
    const char *job;
};

/* The progress of a step, and whether the job was asked to stop. A failure
 * to report does not stop the analysis. */
static int step(void *arg, int no, int steps, const char *name)
{
    struct ctx *c = arg;
    char nos[16], e[128];
    PGresult *r = NULL;
    int stop = 0;

    (void)steps;
    snprintf(nos, sizeof(nos), "%d", no);
    const char *p[] = {c->job, name, nos};
    if (jf_rec_exec(c->side, sql_step, 3, p, &r, e, sizeof(e)) == 0) {
        stop = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
    } else {
        jf_log_warn("reconcile.job", "progress of job %s not written: %s", c->job, e);
    }
    return stop;
}

/* Was job asked to stop? */
static int cancel_requested(PGconn *side, const char *job)
{
    PGresult *r = NULL;
    char e[128];
    const char *p[] = {job};
    int yes = 0;

    if (jf_rec_exec(side, "SELECT cancel_requested FROM reconcile_job_progress WHERE job_id = $1",
                    1, p, &r, e, sizeof(e)) == 0) {
        yes = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
    }
    return yes;
}

int jf_rec_job_next(PGconn *work, PGconn *side, const int *stop, int *ran, char *err, size_t errlen)
{
    char job[24], rows[24], pid[16], steps[8], why[512];
    PGresult *r = NULL;
    int rc;

    *ran = 0;
    if ((rc = jf_rec_exec(work, "BEGIN", 0, NULL, NULL, err, errlen)) != 0)
        return rc;
    if ((rc = jf_rec_exec(work, sql_claim, 0, NULL, &r, err, errlen)) != 0)
        goto rollback;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return jf_rec_exec(work, "COMMIT", 0, NULL, NULL, err, errlen);
    }
    *ran = 1;
    snprintf(job, sizeof(job), "%s", PQgetvalue(r, 0, 0));
    long long run_id = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    snprintf(rows, sizeof(rows), "%s", PQgetvalue(r, 0, 2));
    int stopped = strcmp(PQgetvalue(r, 0, 3), "t") == 0;
    PQclear(r);
    if (stopped) { /* asked to stop while another runner had it in hand */
        const char *pe[] = {job, "cancelled", NULL};
        if ((rc = jf_rec_exec(work, sql_end, 3, pe, NULL, err, errlen)) != 0)
            goto rollback;
        return jf_rec_exec(work, "COMMIT", 0, NULL, NULL, err, errlen);
    }
    snprintf(pid, sizeof(pid), "%d", PQbackendPID(work));
    snprintf(steps, sizeof(steps), "%d", JF_REC_STEPS);
    const char *ps[] = {job, rows, pid, steps};
    if ((rc = jf_rec_exec(side, sql_start, 4, ps, NULL, err, errlen)) != 0)
        goto rollback;
    jf_log_info("reconcile.job", "job %s: analysing run %lld (%s rows)", job, run_id, rows);

    struct ctx c = {side, job};
    jf_rec_progress prog = {step, &c};
    const char *pj[] = {job};
    rc = jf_rec_analyse(work, run_id, &prog, why, sizeof(why));
    if (rc == 0)
        rc = jf_rec_exec(work, "SELECT reconcile_job_finish($1)", 1, pj, NULL, why, sizeof(why));
    if (rc == 0 && (rc = jf_rec_exec(work, "COMMIT", 0, NULL, NULL, why, sizeof(why))) == 0) {
        jf_log_info("reconcile.job", "job %s: done", job);
        return 0;
    }
    jf_rec_exec(work, "ROLLBACK", 0, NULL, NULL, err, errlen);
    /* Lost connection: the job stays queued (its lock went with it). */
    if (PQstatus(work) != CONNECTION_OK) {
        snprintf(err, errlen, "job %s: connection lost: %s", job, why);
        return JF_ERR_DB;
    }
    /* The runner stopping (the API shutting down): queued for the next. */
    if (stop != NULL && __atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
        snprintf(err, errlen, "job %s: left queued, the runner stops", job);
        return 0;
    }
    const char *state =
        rc == JF_ERR_CANCELLED || cancel_requested(side, job) ? "cancelled" : "failed";
    const char *pe[] = {job, state, strcmp(state, "cancelled") == 0 ? NULL : why};
    jf_log_info("reconcile.job", "job %s: %s%s%s", job, state, pe[2] ? ": " : "",
                pe[2] ? pe[2] : "");
    return jf_rec_exec(work, sql_end, 3, pe, NULL, err, errlen);
rollback:
    jf_rec_exec(work, "ROLLBACK", 0, NULL, NULL, why, sizeof(why));
    return rc;
}
