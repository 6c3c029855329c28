/* The derived clinical state of a patient — current risk level, key flags,
 * colour tier, last reached visit, misses, 失访, next due date, health-check
 * due — recomputed from the records by the pure rules of api/domain after
 * every change that can move it, inside the writer's transaction. */
#ifndef JF_RECORD_RECOMPUTE_H
#define JF_RECORD_RECOMPUTE_H

#include "actor.h"

int jf_record_recompute_init(void);
/* Recompute and store patient_id's derived state as of today (the test
 * clock included). May change the status: three misses make the patient
 * lost (counting from the last reached visit and from the last return to
 * care). Returns 0 or a jf_db_exec error. */
int jf_record_recompute(const jf_actor *who, jf_db_conn *conn, const char *patient_id);

/* Recompute every patient on the register (optionally only those under
 * the org unit with code unit_code): for demo and imported data, and after
 * the tier configuration changed. Prints progress; 0 or a jf_err. */
int jf_record_recompute_all(jf_app *app, const char *unit_code);

/* The version of the rules the derived state is computed with: raised when
 * a change of the rules changes what is stored for existing records. */
#define JF_RECORD_RULES_VERSION 2
/* Recompute every patient once when the stored state was computed with
 * older rules (clinical_rules_applied), then record this version. Run
 * after migrating; a no-op when up to date. 0 or a jf_err. */
int jf_record_recompute_pending(jf_app *app);

#endif
