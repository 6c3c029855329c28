/* What the statistics share with the patient list that shows the patients
 * behind a figure: the period of a request and what a role may see. */
#ifndef JF_RES_STATISTICS_H
#define JF_RES_STATISTICS_H

#include "../domain/date.h"
#include "../http/request.h"
#include "../http/validate.h"

/* The detail of the figures a role sees: "full" (officials, doctors,
 * admins), "police", "civil_affairs", or NULL when it sees no statistics. */
const char *jf_stat_detail(const jf_req *req);
/* The period of the request as of today: year=YYYY (default: this year) or
 * from and to; errors name the field. *year is the calendar year asked for,
 * 0 for from/to. */
void jf_stat_period(const jf_req *req, jf_errors *e, jf_date today, jf_date *from, jf_date *to,
                    int *year);

#endif
