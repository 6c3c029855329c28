/* Referrals (转诊, docs/domain.md "Incidents, hospitalisation, emergencies"; the
 * 2018 规范's 转诊 duty): by when a hospital must take up a referral of each
 * urgency, and the states a referral passes through — open, accepted by the
 * hospital, then admitted or sent back (returned). Pure functions, no I/O. */
#ifndef JF_REFERRAL_H
#define JF_REFERRAL_H

#include <stdbool.h>

#include "date.h"

typedef enum jf_ref_urgency {
    JF_REF_ROUTINE = 0, /* 普通 */
    JF_REF_URGENT,      /* 紧急 */
    JF_REF_EMERGENCY,   /* 急诊: the same day */
    JF_REF_NURGENCIES
} jf_ref_urgency;

typedef enum jf_ref_state {
    JF_REF_NONE = -1, /* no such state; a refused transition */
    JF_REF_OPEN = 0,
    JF_REF_ACCEPTED,
    JF_REF_ADMITTED,
    JF_REF_RETURNED,
} jf_ref_state;

typedef enum jf_ref_action { JF_REF_ACCEPT, JF_REF_ADMIT, JF_REF_RETURN } jf_ref_action;

/* The urgency codes, NULL-terminated, in jf_ref_urgency order. */
extern const char *const jf_referral_urgencies[];
/* Days a hospital has by default to admit or send back a referral of each
 * urgency (the settings referral_<urgency>_days override them per unit). */
extern const int jf_referral_default_days[JF_REF_NURGENCIES];

/* "routine", "urgent", "emergency" → urgency; -1 otherwise. */
int jf_referral_urgency_parse(const char *s);
/* "open", "accepted", "admitted", "returned" → state; JF_REF_NONE otherwise. */
jf_ref_state jf_referral_state_parse(const char *s);
const char *jf_referral_state_name(jf_ref_state s);
/* The last day a referral made on `on` with urgency u may stay open: on +
 * days, or the default of u when days < 0. [R-REF-1] */
jf_date jf_referral_due(jf_date on, jf_ref_urgency u, int days);
/* Open (not yet admitted or returned)? */
bool jf_referral_is_open(jf_ref_state s);
/* Open and past its last day as of today. [R-REF-1] */
bool jf_referral_overdue(jf_ref_state s, jf_date due, jf_date today);
/* The state after action a on a referral in state s, or JF_REF_NONE when
 * the action is refused: accept only an open referral; admit or send back
 * one that is open or accepted; nothing after admitted or returned. */
jf_ref_state jf_referral_next(jf_ref_state s, jf_ref_action a);

#endif
