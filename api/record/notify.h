/* Raising an inter-agency notification (通报) from a write path: in the
 * same transaction as the change, so the change and its notification
 * commit together or not at all. Recipients, deadline and the outbox row
 * for external systems are decided by the notify() SQL function
 * (db/definitions/notifications.sql) [R-NOTE-1 … R-NOTE-5]. */
#ifndef JF_RECORD_NOTIFY_H
#define JF_RECORD_NOTIFY_H

#include "actor.h"

int jf_record_notify_init(void);
/* Raise kind for patient_id with a JSON detail (may be NULL) and an
 * optional dedup key; the actor's agency and user are the sender. 0 or the
 * jf_db_exec error. */
int jf_record_notify(const jf_actor *who, jf_db_conn *conn, const char *kind,
                     const char *patient_id, const char *detail_json, const char *dedup_key);

/* The same, with the recipients found in the area at org_path (the
 * receiving side of a transfer) instead of the patient's. */
int jf_record_notify_at(const jf_actor *who, jf_db_conn *conn, const char *kind,
                        const char *patient_id, const char *detail_json, const char *dedup_key,
                        const char *org_path);

#endif
