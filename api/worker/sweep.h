/* The worker's scheduled rules over dates and deadlines, each an idempotent
 * SQL pass that any number of workers may run at the same time:
 * - escalation: a notification past its deadline that some recipient has
 *   not acknowledged is escalated, once, to the township containing the
 *   patient's unit (docs/domain.md, "Inter-agency notifications");
 * - follow-ups overdue past a tolerance raise 'followup_overdue', and
 *   medication pick-ups overdue raise 'pickup_overdue' — once per case:
 *   the dedup key names the patient and the date that was missed, so a
 *   case raises again only when a new due date is missed;
 * - the inter-agency exchanges (信息交换) owed for every period that ended;
 * - the audit trail's months ahead. */
#ifndef JF_SWEEP_H
#define JF_SWEEP_H

#include "../db/pool.h"

/* Days a follow-up may be overdue before it is notified. There is no
 * clinical setting for it yet; the overdue worklist shows every overdue
 * patient from the first day, and a notification to other agencies is for
 * the cases that a week of the ordinary routine has not resolved. */
#define JF_SWEEP_FOLLOWUP_TOLERANCE_DAYS 7

typedef struct jf_sweep_counts {
    long escalated;
    long followup_overdue;
    long pickup_overdue;
    long exchanges;          /* exchange rows made for periods that ended */
    long audit_months;       /* audit trail partitions made ahead, or indexed once over */
    long history_partitions; /* follow-up years and delivery months made ahead */
} jf_sweep_counts;

/* Register the statements (single-threaded start-up). 0 or JF_ERR_TOO_LARGE. */
int jf_sweep_init(void);
/* Run every sweep as of now (text timestamptz; NULL: the database's now()),
 * each in its own short statements, and log the counts. 0 or a negative
 * jf_err; counts holds what was done up to a failure. */
int jf_sweep_run(jf_db_conn *conn, const char *now, jf_sweep_counts *counts);
/* A pass over the statistics rollups and the state counts (migration
 * 0040, stat_refresh(): the patients changed since the last pass, a new
 * day's running periods; readers and writers are never blocked; skipped
 * when another worker is at it). Logs its duration. 0 or a negative
 * jf_err. */
int jf_sweep_stats(jf_db_conn *conn);

#endif
