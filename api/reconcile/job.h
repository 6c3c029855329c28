/* The 三网 analysis as a background job (migration 0041): the oldest queued
 * job nobody runs is taken with FOR UPDATE SKIP LOCKED and analysed in that
 * transaction, which ends it (done) with the findings; progress and the
 * cancel request go through a second connection. Run by jingfang-worker
 * and by the API's own runner thread (runner.h) alike. */
#ifndef JF_REC_JOB_H
#define JF_REC_JOB_H

#include <libpq-fe.h>

/* Take and run one job: work holds the job and does the analysis, side
 * (autocommit) reports progress and reads the cancel request. *ran is set
 * when a job was taken (whatever became of it). A job whose analysis fails
 * ends failed (cancelled when that was asked); one whose connection is
 * lost, or that fails while *stop (may be NULL) is set, stays queued for
 * the next runner. 0, or JF_ERR_DB when the claim or the connection failed
 * (err says why). */
int jf_rec_job_next(PGconn *work, PGconn *side, const int *stop, int *ran, char *err,
                    size_t errlen);

#endif
