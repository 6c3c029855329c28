/* Referrals (转诊) shared with the follow-up form: a referral made at a
 * follow-up is written by the same core, in the follow-up's transaction. */
#ifndef JF_RES_REFERRALS_H
#define JF_RES_REFERRALS_H

#include "../record/patient.h"

/* What a referral records. from_kind is "follow_up" or "emergency" and
 * from_id the follow-up's or the emergency record's id; urgency may be NULL
 * (routine). *_field name the body fields that carried hospital and source,
 * for the 400 answer. */
typedef struct jf_referral_in {
    const char *from_kind, *from_id, *reason, *urgency, *referred_on;
    long long hospital_id;
    const char *hospital_field, *from_field;
} jf_referral_in;

/* Write the referral for the loaded patient inside the caller's open
 * transaction, audited; its id into *id (arena). 0, or a negative jf_err
 * (400 naming a field, 409 for the patient's status or a follow-up that
 * referred already). */
int jf_referral_create(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                       const jf_referral_in *in, const char **id);

#endif
