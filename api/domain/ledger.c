/* The ledgers and who reads them. */
#include "ledger.h"
#include "search.h"
#include "views.h"

#include <string.h>

const char *const jf_ledger_names[] = {"lost",    "non_adherent", "guardianship",
                                       "migrant", "key",          NULL};
const char *const jf_non_adherence_reasons[] = {
    "poverty", "distance", "side_effects", "refuses", "no_insight", "no_guardian", "other", NULL};

jf_ledger jf_ledger_parse(const char *s)
{
    for (int i = 0; s != NULL && jf_ledger_names[i] != NULL; i++)
        if (strcmp(s, jf_ledger_names[i]) == 0)
            return (jf_ledger)(i + 1);
    return JF_LEDGER_NONE;
}

bool jf_ledger_may_read(jf_role r, jf_ledger l)
{
    switch (l) {
    case JF_LEDGER_LOST:
        return jf_search_may_read(r);
    case JF_LEDGER_NON_ADHERENT:
        return jf_role_has(r, JF_CAP_CLINICAL_READ);
    case JF_LEDGER_KEY:
        return jf_role_has(r, JF_CAP_PATIENT_READ) && jf_view_for_role(r).risk;
    case JF_LEDGER_GUARDIANSHIP:
    case JF_LEDGER_MIGRANT:
        return jf_role_has(r, JF_CAP_PATIENT_READ);
    default:
        return false;
    }
}

bool jf_ledger_may_note(jf_role r, jf_ledger l)
{
    return r != JF_ROLE_ADMIN && r != JF_ROLE_SERVICE && jf_ledger_may_read(r, l);
}
