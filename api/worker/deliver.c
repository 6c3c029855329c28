/* Webhook delivery: claim due rows under a lease, POST them signed, record the result. */
#include "deliver.h"
#include "webhook.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/log.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The largest payload sent: the outbox holds small JSON documents, so a
 * bigger one is a bug upstream, reported as a failed attempt. */
#define PAYLOAD_MAX (1024 * 1024)
/* last_error is for people reading the table: keep it short. */
#define ERROR_MAX 256

/* $1 now (NULL: now()), $2 batch size, $3 lease seconds. The claim token
 * is the leased next_attempt_at, returned as text to compare later. A
 * record event waits while an earlier one of its patient to the same
 * endpoint is pending (leased or backing off): a receiver sees each
 * patient's events in order, a dead one no longer holding the rest. */
static jf_stmt claim = {
    "worker_delivery_claim",
    "WITH due AS (SELECT d.id, d.created_at FROM deliveries d"
    "  JOIN webhook_endpoints w ON w.id = d.endpoint_id"
    "  WHERE d.state = 'pending' AND d.next_attempt_at <= coalesce($1::timestamptz, now())"
    "  AND w.active AND (d.patient_id IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries e"
    "   WHERE e.endpoint_id = d.endpoint_id AND e.patient_id = d.patient_id"
    "   AND e.state = 'pending' AND e.id < d.id))"
    "  ORDER BY d.next_attempt_at, d.id LIMIT $2::int"
    "  FOR UPDATE OF d SKIP LOCKED)"
    " UPDATE deliveries d"
    " SET next_attempt_at = coalesce($1::timestamptz, now()) + make_interval(secs => $3::int)"
    " FROM due, outbox o, webhook_endpoints w"
    " WHERE d.id = due.id AND d.created_at = due.created_at AND o.id = d.outbox_id"
    "  AND w.id = d.endpoint_id"
    " RETURNING d.id, d.endpoint_id, d.attempts, d.next_attempt_at::text, o.event_id,"
    "  o.topic, o.payload::text, w.url, encode(w.secret_cipher, 'hex'), d.created_at::text",
    0,
};
/* $1 id, $2 claim token, $3 now, $4 HTTP status, $5 created_at (the
 * delivery's month: one partition's key looked up, migration 0050). */
static jf_stmt done = {
    "worker_delivery_done",
    "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1,"
    " last_status = $4::int, last_error = NULL, delivered_at = coalesce($3::timestamptz, now())"
    " WHERE id = $1 AND created_at = $5::timestamptz AND state = 'pending'"
    " AND next_attempt_at = $2::timestamptz RETURNING attempts",
    0,
};
/* $1 id, $2 claim token, $3 now, $4 HTTP status (NULL: none), $5 error,
 * $6 max attempts, $7 backoff seconds, $8 created_at. */
static jf_stmt failed = {
    "worker_delivery_failed",
    "UPDATE deliveries SET attempts = attempts + 1, last_status = $4::int, last_error = $5,"
    " state = CASE WHEN attempts + 1 >= $6::int THEN 'dead' ELSE 'pending' END,"
    " next_attempt_at = coalesce($3::timestamptz, now()) + make_interval(secs => $7::int)"
    " WHERE id = $1 AND created_at = $8::timestamptz AND state = 'pending'"
    " AND next_attempt_at = $2::timestamptz RETURNING state, attempts, next_attempt_at::text",
    0,
};

/* One claimed row; every string borrowed from the claim's result. */
struct row {
    const char *id, *endpoint_id, *token, *event_id, *topic, *payload, *url, *secret_hex,
        *created_at;
    long attempts; /* before this attempt */
};

/* What one attempt came to. */
struct outcome {
    long status;           /* HTTP status, 0 when none came back */
    char error[ERROR_MAX]; /* empty on success */
};

/* $1 most events fanned out (migration 0045). */
static jf_stmt fan_out = {"worker_events_fan_out", "SELECT record_events_fan_out($1::int)", 0};

int jf_deliver_init(void)
{
    jf_stmt *const s[] = {&claim, &done, &failed, &fan_out};

    return jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0]));
}

/* The response body is not needed: read and dropped, so nothing grows. */
static size_t discard(char *data, size_t size, size_t nmemb, void *ud)
{
    (void)data;
    (void)ud;
    return size * nmemb;
}

static int header_add(struct curl_slist **list, const char *name, const char *value)
{
    char line[512];
    struct curl_slist *next;
    int n = snprintf(line, sizeof(line), "%s: %s", name, value);

    if (n < 0 || (size_t)n >= sizeof(line))
        return JF_ERR_TOO_LARGE;
    next = curl_slist_append(*list, line);
    if (next == NULL)
        return JF_ERR_NOMEM;
    *list = next;
    return 0;
}

/* POST the row's payload, signed with secret, and say how it went. */
static void post(CURL *c, const jf_deliver_opts *o, const struct row *r,
                 const unsigned char *secret, size_t slen, struct outcome *res)
{
    char ts[24], sig[JF_WEBHOOK_SIG_LEN], curl_err[CURL_ERROR_SIZE] = "";
    struct curl_slist *h = NULL;
    size_t blen = strlen(r->payload);
    CURLcode cc;
    int rc;

    res->status = 0;
    res->error[0] = '\0';
    if (blen > PAYLOAD_MAX) {
        snprintf(res->error, sizeof(res->error), "payload of %zu bytes is too large", blen);
        goto out;
    }
    if (!jf_webhook_header_safe(r->event_id) || !jf_webhook_header_safe(r->topic)) {
        snprintf(res->error, sizeof(res->error), "event id or topic unfit for a header");
        goto out;
    }
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    rc = jf_webhook_sign(secret, slen, ts, r->payload, blen, sig);
    if (rc == 0)
        rc = header_add(&h, "Content-Type", "application/json");
    if (rc == 0)
        rc = header_add(&h, "X-Jingfang-Event-Id", r->event_id);
    if (rc == 0)
        rc = header_add(&h, "X-Jingfang-Topic", r->topic);
    if (rc == 0)
        rc = header_add(&h, "X-Jingfang-Timestamp", ts);
    if (rc == 0)
        rc = header_add(&h, "X-Jingfang-Signature", sig);
    /* No "Expect: 100-continue" round trip before bodies over 1 KiB. */
    if (rc == 0)
        rc = header_add(&h, "Expect", "");
    if (rc != 0) {
        snprintf(res->error, sizeof(res->error), "cannot build the request: %s", jf_err_str(rc));
        goto out;
    }

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    /* Only plain web requests, and never where a redirect points: an
     * endpoint is trusted with this agency's events, not whoever it names. */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "jingfang-worker");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->payload);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        snprintf(res->error, sizeof(res->error), "%s",
                 curl_err[0] ? curl_err : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    if (res->status < 200 || res->status > 299)
        snprintf(res->error, sizeof(res->error), "HTTP %ld", res->status);
out:
    /* The handle keeps pointers to these until the next reset. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(h);
}

/* One JSON log line per attempt. */
static void log_attempt(const struct row *r, const struct outcome *res, long attempt,
                        const char *result, const char *next)
{
    int warn = strcmp(result, "delivered") != 0;
    char ts[40];
    jf_buf b;
    int rc;

    jf_log_timestamp(ts, sizeof(ts));
    jf_buf_init(&b, 4096);
    rc = jf_buf_printf(&b,
                       "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"delivery\",\"delivery_id\":%s,"
                       "\"endpoint_id\":%s,\"event_id\":",
                       ts, warn ? "warn" : "info", r->id, r->endpoint_id);
    if (rc == 0)
        rc = jf_buf_json_str(&b, r->event_id);
    if (rc == 0)
        rc = jf_buf_puts(&b, ",\"topic\":");
    if (rc == 0)
        rc = jf_buf_json_str(&b, r->topic);
    if (rc == 0)
        rc = jf_buf_printf(&b, ",\"attempt\":%ld,\"status\":", attempt);
    if (rc == 0)
        rc = res->status ? jf_buf_printf(&b, "%ld", res->status) : jf_buf_puts(&b, "null");
    if (rc == 0)
        rc = jf_buf_printf(&b, ",\"result\":\"%s\",\"error\":", result);
    if (rc == 0)
        rc = jf_buf_json_str(&b, res->error[0] ? res->error : NULL);
    if (rc == 0)
        rc = jf_buf_puts(&b, ",\"next_attempt_at\":");
    if (rc == 0)
        rc = jf_buf_json_str(&b, next);
    if (rc == 0)
        rc = jf_buf_puts(&b, "}");
    if (rc == 0)
        jf_log_line(b.data, b.len);
    jf_buf_free(&b);
}

/* Write the outcome of one attempt back, under the claim token. */
static int record(jf_db_conn *conn, const jf_deliver_opts *o, const struct row *r,
                  const struct outcome *res, jf_deliver_stats *st)
{
    char status[16], max[16], backoff[16];
    long attempt = r->attempts + 1;
    PGresult *pr = NULL;
    const char *result = "lost", *next = NULL;
    int rc;

    snprintf(status, sizeof(status), "%ld", res->status);
    snprintf(max, sizeof(max), "%ld", o->max_attempts);
    snprintf(backoff, sizeof(backoff), "%ld", jf_webhook_backoff_s(attempt));
    if (res->error[0] == '\0') {
        const char *p[] = {r->id, r->token, o->now, status, r->created_at};
        rc = jf_db_exec(conn, &done, 5, p, &pr);
        if (rc != 0)
            goto out;
        if (PQntuples(pr) == 1) {
            result = "delivered";
            st->delivered++;
        }
    } else {
        const char *p[] = {r->id,      r->token, o->now,  res->status ? status : NULL,
                           res->error, max,      backoff, r->created_at};
        rc = jf_db_exec(conn, &failed, 8, p, &pr);
        if (rc != 0)
            goto out;
        if (PQntuples(pr) == 1) {
            int dead = strcmp(PQgetvalue(pr, 0, 0), "dead") == 0;
            result = dead ? "dead" : "retry";
            next = dead ? NULL : PQgetvalue(pr, 0, 2);
            if (dead)
                st->dead++;
            else
                st->retried++;
        }
    }
    if (strcmp(result, "lost") == 0)
        st->lost++;
    log_attempt(r, res, attempt, result, next);
out:
    if (rc != 0)
        jf_log_error("delivery", "cannot record delivery %s: %s %s", r->id, jf_err_str(rc),
                     pr ? PQresultErrorMessage(pr) : "");
    PQclear(pr);
    return rc;
}

/* Open the endpoint's secret, POST, record. */
static int deliver_one(jf_db_conn *conn, CURL *c, const jf_deliver_opts *o, const struct row *r,
                       jf_deliver_stats *st)
{
    unsigned char secret[JF_WEBHOOK_SECRET_MAX];
    size_t slen = 0;
    struct outcome res;
    int rc;

    if (jf_webhook_secret_open(o->key, r->secret_hex, secret, &slen) != 0) {
        /* Sealed under another key, or damaged: no request can be signed.
         * Counted as a failed attempt so that it shows and ends dead. */
        res.status = 0;
        snprintf(res.error, sizeof(res.error), "the endpoint's secret does not open");
    } else {
        post(c, o, r, secret, slen, &res);
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    rc = record(conn, o, r, &res, st);
    return rc;
}

int jf_deliver_batch(jf_db_conn *conn, CURL *curl, const jf_deliver_opts *o, jf_deliver_stats *st)
{
    char limit[16], lease[16];
    PGresult *res = NULL;
    int rc, n;

    snprintf(limit, sizeof(limit), "%d", JF_DELIVER_BATCH);
    snprintf(lease, sizeof(lease), "%ld", jf_webhook_lease_s(JF_DELIVER_BATCH, o->timeout_ms));
    st->claimed = 0;
    {
        const char *p[] = {o->now, limit, lease};
        rc = jf_db_exec(conn, &claim, 3, p, &res);
    }
    if (rc != 0) {
        jf_log_error("delivery", "cannot claim deliveries: %s %s", jf_err_str(rc),
                     res ? PQresultErrorMessage(res) : "");
        goto out;
    }
    n = PQntuples(res);
    st->claimed = n;
    /* The claim committed with the statement: the rows are leased to this
     * worker now, and every request below runs outside a transaction. */
    for (int i = 0; i < n && rc == 0; i++) {
        struct row r = {
            .id = PQgetvalue(res, i, 0),
            .endpoint_id = PQgetvalue(res, i, 1),
            .attempts = strtol(PQgetvalue(res, i, 2), NULL, 10),
            .token = PQgetvalue(res, i, 3),
            .event_id = PQgetvalue(res, i, 4),
            .topic = PQgetvalue(res, i, 5),
            .payload = PQgetvalue(res, i, 6),
            .url = PQgetvalue(res, i, 7),
            .secret_hex = PQgetvalue(res, i, 8),
            .created_at = PQgetvalue(res, i, 9),
        };
        rc = deliver_one(conn, curl, o, &r, st);
    }
out:
    PQclear(res);
    return rc;
}

int jf_deliver_fan_out(jf_db_conn *conn, int *n)
{
    char limit[16];
    PGresult *res = NULL;
    int rc;

    snprintf(limit, sizeof(limit), "%d", JF_FAN_OUT_BATCH);
    const char *p[] = {limit};
    rc = jf_db_exec(conn, &fan_out, 1, p, &res);
    *n = rc == 0 ? (int)strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    if (rc != 0)
        jf_log_error("events", "cannot fan record events out: %s %s", jf_err_str(rc),
                     res ? PQresultErrorMessage(res) : "");
    PQclear(res);
    return rc;
}
