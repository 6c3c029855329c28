/* Webhook delivery from the transactional outbox: each pending row of
 * deliveries is the outbox event (payload, topic, event id) owed to one
 * webhook endpoint, POSTed signed (see webhook.h for the wire contract).
 *
 * Contract — several workers may run at once on one database:
 * - Claim: one statement picks at most JF_DELIVER_BATCH due rows
 *   (state 'pending', next_attempt_at <= now, endpoint active) with
 *   FOR UPDATE OF d SKIP LOCKED and, in the same transaction, moves their
 *   next_attempt_at forward by a lease (jf_webhook_lease_s: at least five
 *   minutes, and longer than the whole batch can take to time out), then
 *   commits. Until the lease runs out no other worker's pick sees the row,
 *   so two workers never send one delivery at the same time, and no row
 *   lock is held while a request is in flight.
 * - Send: the POST happens outside any transaction.
 * - Record: 2xx marks the row delivered; anything else counts an attempt,
 *   keeps the status and error, and sets next_attempt_at to now +
 *   min(2^attempts s, 1 h) — or marks the row dead once attempts reaches
 *   JF_WEBHOOK_MAX_ATTEMPTS. The update only applies while the row still
 *   carries this worker's lease (its next_attempt_at is the claim token);
 *   a result that comes back after the lease ran out is dropped and logged.
 * - A worker killed between claim and record leaves the row pending under
 *   its lease; once the lease has run out the row is picked again. Delivery
 *   is therefore at least once, never at most once: the receiver drops
 *   duplicates by X-Jingfang-Event-Id, which every retry repeats.
 * - Deliveries to an endpoint that was deactivated wait, pending, until it
 *   is active again.
 * - Record events (migration 0045) reach the outbox through
 *   jf_deliver_fan_out, one worker at a time, in the log's (xid, seq)
 *   order; a record event is not claimed while an earlier one of the same
 *   patient to the same endpoint is pending, so each patient's events
 *   arrive in order (a dead one stops holding the rest). */
#ifndef JF_DELIVER_H
#define JF_DELIVER_H

#include "../db/pool.h"

#include <curl/curl.h>

/* Rows claimed by one pick. */
#define JF_DELIVER_BATCH 20

typedef struct jf_deliver_opts {
    const unsigned char *key; /* JF_ID_ENC_KEY: opens the endpoints' secrets (borrowed) */
    long max_attempts;        /* JF_WEBHOOK_MAX_ATTEMPTS */
    long timeout_ms;          /* JF_WEBHOOK_TIMEOUT_MS */
    const char *now;          /* the instant due rows are compared with; NULL: now() */
} jf_deliver_opts;

typedef struct jf_deliver_stats {
    long claimed;   /* rows claimed by the last jf_deliver_batch */
    long delivered; /* totals since the stats were zeroed: */
    long retried;
    long dead;
    long lost; /* results dropped because the lease had run out */
} jf_deliver_stats;

/* Record events fanned out by one call. */
#define JF_FAN_OUT_BATCH 500

/* Register the statements (single-threaded start-up). 0 or JF_ERR_TOO_LARGE. */
int jf_deliver_init(void);
/* Claim one batch and deliver every row of it through curl (a handle the
 * caller owns and may reuse, so connections are kept alive). Sets
 * st->claimed and adds to the totals. A failed POST is a result, not an
 * error: returns 0, or a negative jf_err when the database failed. */
int jf_deliver_batch(jf_db_conn *conn, CURL *curl, const jf_deliver_opts *o, jf_deliver_stats *st);
/* Fan the committed record events after the fan-out mark out to the
 * outbox, with a delivery for each subscribed endpoint whose agency's area
 * holds the patient, the payload cut to the agency's view; at most
 * JF_FAN_OUT_BATCH events, counted in *n. 0, or a negative jf_err (logged). */
int jf_deliver_fan_out(jf_db_conn *conn, int *n);

#endif
