/* Subsidies and assistance (救治救助, docs/domain.md "Subsidies and assistance"):
 * the kinds, the workflow of an application, months, the monthly amount of
 * a standard, and the eligibility of a guardian for 以奖代补 explained
 * condition by condition. Pure; tested row by row. */
#ifndef JF_ASSISTANCE_H
#define JF_ASSISTANCE_H

#include <stdbool.h>

#include "date.h"
#include "tier.h"

/* The kinds' API codes, NULL-terminated (低保 … 以奖代补). */
extern const char *const jf_assist_kinds[];
/* Periods of a standard or an approval: month, year, case. */
extern const char *const jf_assist_periods[];

/* Workflow of an application: pending → approved | rejected; approved →
 * ended. The state after action ("approve", "reject", "end") from state,
 * or NULL when the transition is refused (409). [R-AID-1] */
const char *jf_assist_next_state(const char *state, const char *action);

/* Parse exactly "YYYY-MM" (year 1900..2199) into its first day. 0 or -1. */
int jf_assist_month_parse(const char *s, jf_date *first_day);
/* The first day of the month of t. */
jf_date jf_assist_month_of(jf_date t);
/* The last day of the month starting at first_day. */
jf_date jf_assist_month_end(jf_date first_day);

/* The amount for one month of a standard of amount_fen per period
 * ("month" or "year"; a year's is divided by 12, rounded down to the fen).
 * -1 for "case" or an unknown period. */
long long jf_assist_monthly_fen(long long amount_fen, const char *period);

/* The local 以奖代补 target rule (assistance_reward_rules). */
typedef struct jf_reward_rule {
    int min_risk;           /* national rule: 3 */
    unsigned extra_flags;   /* key flags (bit = jf_flag) that also qualify */
    bool police_key_person; /* being on the police key-person list qualifies */
} jf_reward_rule;

/* What a guardian's 以奖代补 for one month is decided from. */
typedef struct jf_reward_facts {
    bool on_register;       /* registered, in care, in hospital, lost or moving */
    int incidents_to_date;  /* incidents up to the month's end (肇事肇祸史) */
    int incidents_in_month; /* incidents in the month paid for */
    int max_risk;           /* highest assessed risk up to the month's end; -1 none */
    unsigned flags;         /* the patient's key flags (bit = jf_flag) */
    bool police_key_person; /* on the police key-person list */
    bool agreement_signed;  /* the guardian signed the agreement by the month's end */
} jf_reward_facts;

/* The conditions, in the order they are explained. */
typedef enum jf_reward_cond {
    JF_RC_ON_REGISTER = 0, /* the patient is on the register */
    JF_RC_TARGET_GROUP,    /* incident history, risk ≥ min, or the local rule */
    JF_RC_AGREEMENT,       /* the guardian signed the agreement (监护责任书) */
    JF_RC_NO_INCIDENT,     /* no incident in the month */
    JF_RC_COUNT
} jf_reward_cond;

#define JF_REWARD_BASIS_MAX (JF_FLAG_COUNT + 3)

typedef struct jf_reward_result {
    bool eligible;         /* every condition met */
    bool met[JF_RC_COUNT]; /* per condition */
    /* Why the target group is met: "incident_history", "risk_level",
     * "police_key_person", or the code of a key flag of the local rule
     * (jf_flag_name). Static strings, each listed once. */
    const char *basis[JF_REWARD_BASIS_MAX];
    int nbasis;
} jf_reward_result;

/* Decide and explain. [R-AID-2] */
void jf_reward_eligibility(const jf_reward_facts *f, const jf_reward_rule *rule,
                           jf_reward_result *out);
/* The code of a condition ("on_register", "target_group", "agreement_signed",
 * "no_incident_in_month"). */
const char *jf_reward_cond_name(jf_reward_cond c);
/* The bit of a key-flag code (jf_flag_name), 0 when unknown. */
unsigned jf_reward_flag_bit(const char *name);

#endif
