/* The API's own runner of queued 三网 analyses (job.h): one thread with two
 * database connections of its own, woken when this API queues a job and
 * every few seconds for jobs queued elsewhere or left by a runner that
 * died. At a stop a job in hand is interrupted and left queued. */
#ifndef JF_REC_RUNNER_H
#define JF_REC_RUNNER_H

/* Start the thread (poll_ms between looks when nothing wakes it). 0 or a
 * negative jf_err. */
int jf_rec_runner_start(const char *db_url, long poll_ms);
/* A job was queued: look now. Safe when the runner is not started. */
void jf_rec_runner_kick(void);
/* Stop and join the thread, interrupting a job in hand. */
void jf_rec_runner_stop(void);

#endif
