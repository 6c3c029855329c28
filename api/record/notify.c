/* Raising notifications inside the writer's transaction. */
#include "notify.h"
#include "../domain/date.h"

#include <stdio.h>

static jf_stmt notify_stmt = {
    "notify",
    "SELECT notify($1, $2, NULL, coalesce($3::jsonb, '{}'), $4, $5, $6, $7::timestamptz, $8)", 0};

int jf_record_notify_init(void)
{
    return jf_db_stmt_register(&notify_stmt);
}

int jf_record_notify(const jf_actor *who, jf_db_conn *conn, const char *kind,
                     const char *patient_id, const char *detail_json, const char *dedup_key)
{
    return jf_record_notify_at(who, conn, kind, patient_id, detail_json, dedup_key, NULL);
}

int jf_record_notify_at(const jf_actor *who, jf_db_conn *conn, const char *kind,
                        const char *patient_id, const char *detail_json, const char *dedup_key,
                        const char *org_path)
{
    char now[32];
    PGresult *res = NULL;
    int rc;

    /* Under a test clock the notification is raised at noon of that day,
     * so deadlines and escalation can be tested through time. */
    if (jf_date_overridden()) {
        char day[11];
        jf_date_format(jf_date_today(), day);
        snprintf(now, sizeof(now), "%s 12:00:00+08", day);
    }
    const char *p[] = {kind,
                       patient_id,
                       detail_json,
                       jf_actor_id(who, who->agency_id),
                       jf_actor_id(who, who->user_id),
                       dedup_key,
                       jf_date_overridden() ? now : NULL,
                       org_path};
    rc = jf_db_exec(conn, &notify_stmt, 8, p, &res);
    PQclear(res);
    return rc;
}
