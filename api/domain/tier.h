/* Key-patient flags (重点患者, seeds 000 and 003) and the colour tier
 * (分色管理), computed from a patient's facts with their reasons, by the
 * rules of docs/domain.md or by a points scheme (积分, seed 001). The thresholds
 * are configuration (stored per org unit, edited by admins), passed in as
 * jf_tier_config. Pure; tested row by row. */
#ifndef JF_TIER_H
#define JF_TIER_H

#include <stdbool.h>
#include <stddef.h>

#include "followup.h"

typedef enum jf_colour { JF_GREEN = 0, JF_YELLOW, JF_ORANGE, JF_RED } jf_colour;

/* Key-patient flags, one bit each; names in jf_flag_name. */
typedef enum jf_flag {
    JF_FLAG_INCIDENT_HISTORY = 0, /* 肇事肇祸史 */
    JF_FLAG_RISK_3_PLUS,          /* risk ≥ 3 now or ever */
    JF_FLAG_WEAK_GUARDIAN,        /* 弱监护/无监护 */
    JF_FLAG_POOR_COMPLIANCE,      /* 不服药/间断, or repeated relapse */
    JF_FLAG_REFUSES_FOLLOW_UP,    /* 拒绝随访 */
    JF_FLAG_EVER_LOST,            /* ever 失访 */
    JF_FLAG_UNSTABLE,             /* last visit unstable */
    JF_FLAG_LIVES_ALONE,
    JF_FLAG_FAMILY_HISTORY,
    JF_FLAG_EXTREME_POVERTY,  /* 特困 */
    JF_FLAG_CAN_DRIVE,        /* 掌握驾驶技能 */
    JF_FLAG_FORCED_ADMISSION, /* 强制送医 */
    JF_FLAG_MIGRANT,          /* 流动人口 */
    JF_FLAG_VAGRANT,          /* 流浪乞讨 */
    JF_FLAG_COUNT
} jf_flag;

/* What the flags and the tier are computed from. */
typedef struct jf_patient_facts {
    int risk_level;            /* current (latest of the highest tier), -1 unknown */
    int max_risk_ever;         /* -1 unknown */
    jf_visit_class last_class; /* of the last reached visit */
    bool lost;                 /* status lost, or whereabouts unknown */
    bool ever_lost;
    int incidents_total;
    int incidents_recent;   /* within cfg->incident_months */
    bool capable_guardian;  /* an active guardian of adequate capacity */
    bool poor_compliance;   /* last visit: 间断 or 不服药 */
    int relapses_recent;    /* admissions within 12 months */
    bool refuses_follow_up; /* the last unreached visit says refused */
    bool lives_alone, family_history, extreme_poverty, can_drive, forced_admission;
    bool migrant, vagrant;
} jf_patient_facts;

/* How the colour is given: by the rules of docs/domain.md, or by points. */
typedef enum jf_scheme { JF_SCHEME_RULES = 0, JF_SCHEME_POINTS } jf_scheme;

/* A points scheme (积分): points per level of current risk and per key flag;
 * a total at or above a colour's threshold gives that colour (the highest
 * reached), below yellow's is green. */
typedef struct jf_points_config {
    int per_risk_level;
    int per_flag[JF_FLAG_COUNT];
    int threshold[4]; /* indexed by jf_colour; [JF_GREEN] unused */
} jf_points_config;

typedef struct jf_tier_config {
    int red_min_risk;       /* default 3 */
    int incident_months;    /* an incident this recent makes red; default 12 */
    int relapse_count;      /* this many admissions in 12 months is "repeated relapse"; 2 */
    int miss_gap_days;      /* unreached attempts closer than this count once (失访); 7 */
    int interval_months[4]; /* longest interval per colour, indexed by jf_colour */
    bool joint[4];          /* visits must be joint, per colour */
    jf_scheme scheme;
    jf_points_config points; /* read when scheme is JF_SCHEME_POINTS */
} jf_tier_config;

#define JF_REASONS_MAX 24

typedef struct jf_tier_result {
    jf_colour colour;
    unsigned flags;                /* bit i = jf_flag i */
    const char *colour_reasons[8]; /* codes of why this colour */
    int ncolour_reasons;
    /* Under the points scheme: the total and what made it, one item
     * ("risk_level" or a flag name) per non-zero term. */
    int points;
    struct {
        const char *item;
        int points;
    } breakdown[JF_FLAG_COUNT + 1];
    int nbreakdown;
} jf_tier_result;

/* The defaults of docs/domain.md: red 1 month joint, orange 1, yellow 3, green 3. [R-TIER-2,
 * R-DUE-2] */
jf_tier_config jf_tier_config_default(void);
/* Flags and colour of a patient. Under the points scheme the points give
 * the colour, except that what the rules make red stays red (safety
 * first: risk at red_min_risk, unstable, a recent incident, lost). [R-TIER-1, R-FLAG-1] */
void jf_tier_compute(const jf_patient_facts *f, const jf_tier_config *cfg, jf_tier_result *out);
const char *jf_flag_name(jf_flag f);
const char *jf_colour_name(jf_colour c);
jf_colour jf_colour_parse(const char *s); /* -1 cast when unknown */
const char *jf_scheme_name(jf_scheme s);

#endif
