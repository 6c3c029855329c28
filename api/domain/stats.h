/* The standard-management rule (规范管理) of docs/domain.md "Statistics and
 * reports", as a pure function: the reference the SQL of migration 0015
 * (stat_patient_facts) mirrors. Pure; dates as jf_date. */
#ifndef JF_STATS_H
#define JF_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "date.h"

/* Longest gap allowed between two reached follow-ups: 3 months. */
#define JF_STATS_MAX_GAP_DAYS 92

/* A hospital stay: in hospital on the days d with admitted < d <= discharged
 * (discharged JF_DATE_NONE: still in). */
typedef struct jf_stats_stay {
    jf_date admitted;
    jf_date discharged;
} jf_stats_stay;

/* Follow-ups a patient needs in [s, e]: ceil(m / 3), m the calendar months
 * that [s, e] touches (a registration in July of a full year: 6 months, 2
 * visits; a whole year: 12 months, 4 visits). 0 when e < s. */
int jf_stats_required_visits(jf_date s, jf_date e);

/* Days of (a, b] outside hospital: the length of a gap between two anchors
 * once the months in hospital are taken out. */
int jf_stats_gap_days(jf_date a, jf_date b, const jf_stats_stay *stays, size_t nstays);

/* Is a patient standardly managed over [s, e] (s: the later of the period's
 * start and registration, e: the earlier of its end and today)? visits are
 * the dates of the reached follow-ups in [s, e], ascending. True when no gap
 * s → first visit → … → last visit → e exceeds JF_STATS_MAX_GAP_DAYS
 * (hospital days not counted) and there are at least
 * jf_stats_required_visits(s, e) visits. [R-STAT-3] */
bool jf_stats_standard(jf_date s, jf_date e, const jf_date *visits, size_t nvisits,
                       const jf_stats_stay *stays, size_t nstays);

#endif
