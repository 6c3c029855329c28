/* What each role may see of a patient (个人信息保护法: the minimum
 * necessary). Police see identity, whereabouts, risk and guardian contact,
 * never diagnoses; civil affairs see identity and economic status, never
 * clinical fields; grid workers see their grid's patients without clinical
 * detail. Pure table, tested row by row. */
#ifndef JF_VIEWS_H
#define JF_VIEWS_H

#include <stdbool.h>

#include "../auth/scope.h"

typedef struct jf_patient_view {
    bool clinical;        /* diagnosis, hospital, onset, family history, consent */
    bool economic;        /* employment, economic status, 低保, 特困 */
    bool risk;            /* risk level, colour, key flags, can drive */
    bool id_full;         /* the whole resident ID number (else masked) */
    bool phone_full;      /* whole phone numbers (else masked) */
    bool guardian_detail; /* guardians' addresses and agreement dates (police: only
                             whether an agreement exists) */
} jf_patient_view;

/* The view of role r; an unknown role sees nothing beyond masked identity. [R-VIEW-2] */
jf_patient_view jf_view_for_role(jf_role r);

#endif
