/* The rules of search tasks (查找): roles and closing. */
#include "search.h"

#include <string.h>

const char *const jf_search_decisions[] = {"deceased",     "moved_away", "detained",
                                           "deregistered", "other",      NULL};

bool jf_search_may_read(jf_role r)
{
    return r == JF_ROLE_ADMIN || jf_search_may_note(r);
}

bool jf_search_may_note(jf_role r)
{
    return r == JF_ROLE_OFFICIAL || r == JF_ROLE_POLICE || r == JF_ROLE_DOCTOR ||
           r == JF_ROLE_GRID_WORKER;
}

bool jf_search_may_close(jf_role r)
{
    return r == JF_ROLE_OFFICIAL || r == JF_ROLE_POLICE;
}

const char *jf_search_close_refusal(bool open, const char *outcome, bool seen_in_person,
                                    bool police_confirmed)
{
    if (!open)
        return "the search task is already closed";
    if (outcome != NULL && strcmp(outcome, "found") == 0 && !seen_in_person && !police_confirmed)
        return "found needs the patient seen in person (a face-to-face follow-up that reached "
               "them) or the whereabouts confirmed by the police (POST "
               "/patients/{id}/whereabouts-confirmed); a phone call is not enough";
    return NULL;
}
