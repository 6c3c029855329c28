/* The standard-management rule (规范管理): gaps between reached follow-ups
 * with hospital days taken out, and the prorated number of visits. */
#include "stats.h"

int jf_stats_required_visits(jf_date s, jf_date e)
{
    int sy, sm, sd, ey, em, ed;

    if (e < s)
        return 0;
    jf_date_to_ymd(s, &sy, &sm, &sd);
    jf_date_to_ymd(e, &ey, &em, &ed);
    return ((ey * 12 + em) - (sy * 12 + sm) + 1 + 2) / 3;
}

int jf_stats_gap_days(jf_date a, jf_date b, const jf_stats_stay *stays, size_t nstays)
{
    int gap = b - a;

    for (size_t i = 0; i < nstays; i++) {
        jf_date lo = stays[i].admitted > a ? stays[i].admitted : a;
        jf_date out = stays[i].discharged == JF_DATE_NONE ? b : stays[i].discharged;
        jf_date hi = out < b ? out : b;
        if (hi > lo)
            gap -= hi - lo;
    }
    return gap;
}

bool jf_stats_standard(jf_date s, jf_date e, const jf_date *visits, size_t nvisits,
                       const jf_stats_stay *stays, size_t nstays)
{
    jf_date prev = s;

    if ((int)nvisits < jf_stats_required_visits(s, e))
        return false;
    for (size_t i = 0; i <= nvisits; i++) {
        jf_date next = i < nvisits ? visits[i] : e;
        if (jf_stats_gap_days(prev, next, stays, nstays) > JF_STATS_MAX_GAP_DAYS)
            return false;
        prev = next;
    }
    return true;
}
