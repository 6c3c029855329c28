/* Assistance kinds, the application workflow and 以奖代补 eligibility. */
#include "assistance.h"

#include <string.h>

const char *const jf_assist_kinds[] = {
    "dibao",                  /* 低保 */
    "medical_assistance",     /* 医疗救助 */
    "outpatient_chronic",     /* 门诊慢特病 */
    "critical_illness",       /* 大病保险 */
    "employee_large_medical", /* 职工大额医疗费用补助 */
    "disability_subsidies",   /* 残疾人两项补贴 */
    "temporary_assistance",   /* 临时救助 */
    "long_acting_injection",  /* 长效针剂补助 */
    "guardian_reward",        /* 以奖代补 */
    NULL,
};

const char *const jf_assist_periods[] = {"month", "year", "case", NULL};

static const struct {
    const char *from, *action, *to;
} transitions[] = {
    {"pending", "approve", "approved"},
    {"pending", "reject", "rejected"},
    {"approved", "end", "ended"},
};

const char *jf_assist_next_state(const char *state, const char *action)
{
    if (state == NULL || action == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++)
        if (strcmp(state, transitions[i].from) == 0 && strcmp(action, transitions[i].action) == 0)
            return transitions[i].to;
    return NULL;
}

int jf_assist_month_parse(const char *s, jf_date *first_day)
{
    int y, m;

    if (s == NULL || strlen(s) != 7 || s[4] != '-')
        return -1;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9'))
            return -1;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    if (!jf_date_valid(y, m, 1))
        return -1;
    *first_day = jf_date_from_ymd(y, m, 1);
    return 0;
}

jf_date jf_assist_month_of(jf_date t)
{
    int y, m, d;

    jf_date_to_ymd(t, &y, &m, &d);
    return jf_date_from_ymd(y, m, 1);
}

jf_date jf_assist_month_end(jf_date first_day)
{
    return jf_date_add_months(jf_assist_month_of(first_day), 1) - 1;
}

long long jf_assist_monthly_fen(long long amount_fen, const char *period)
{
    if (amount_fen < 0 || period == NULL)
        return -1;
    if (strcmp(period, "month") == 0)
        return amount_fen;
    if (strcmp(period, "year") == 0)
        return amount_fen / 12;
    return -1;
}

static const char *const cond_names[JF_RC_COUNT] = {
    [JF_RC_ON_REGISTER] = "on_register",
    [JF_RC_TARGET_GROUP] = "target_group",
    [JF_RC_AGREEMENT] = "agreement_signed",
    [JF_RC_NO_INCIDENT] = "no_incident_in_month",
};

const char *jf_reward_cond_name(jf_reward_cond c)
{
    return (unsigned)c < JF_RC_COUNT ? cond_names[c] : "";
}

unsigned jf_reward_flag_bit(const char *name)
{
    for (int i = 0; name != NULL && i < JF_FLAG_COUNT; i++)
        if (strcmp(name, jf_flag_name((jf_flag)i)) == 0)
            return 1u << i;
    return 0;
}

static void basis_add(jf_reward_result *r, const char *code)
{
    for (int i = 0; i < r->nbasis; i++)
        if (strcmp(r->basis[i], code) == 0)
            return;
    if (r->nbasis < JF_REWARD_BASIS_MAX)
        r->basis[r->nbasis++] = code;
}

void jf_reward_eligibility(const jf_reward_facts *f, const jf_reward_rule *rule,
                           jf_reward_result *out)
{
    memset(out, 0, sizeof(*out));
    /* The national rule (seed 004: 有肇事肇祸行为及危险性评估三级以上). */
    if (f->incidents_to_date > 0)
        basis_add(out, "incident_history");
    if (f->max_risk >= 0 && f->max_risk >= rule->min_risk)
        basis_add(out, "risk_level");
    /* The local widening (seed 000: 扩大奖补对象范围). */
    if (rule->police_key_person && f->police_key_person)
        basis_add(out, "police_key_person");
    for (int i = 0; i < JF_FLAG_COUNT; i++)
        if ((rule->extra_flags & f->flags & (1u << i)) != 0)
            basis_add(out, jf_flag_name((jf_flag)i));

    out->met[JF_RC_ON_REGISTER] = f->on_register;
    out->met[JF_RC_TARGET_GROUP] = out->nbasis > 0;
    out->met[JF_RC_AGREEMENT] = f->agreement_signed;
    out->met[JF_RC_NO_INCIDENT] = f->incidents_in_month == 0;
    out->eligible = true;
    for (int c = 0; c < JF_RC_COUNT; c++)
        out->eligible = out->eligible && out->met[c];
}
