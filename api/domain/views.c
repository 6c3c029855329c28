/* The per-role patient view table. */
#include "views.h"

static const jf_patient_view views[] = {
    /*         clinical economic risk   id_full phone_full guardian_detail */
    [JF_ROLE_NONE] = {false, false, false, false, false, false},
    [JF_ROLE_ADMIN] = {false, false, true, false, false, true},
    [JF_ROLE_OFFICIAL] = {true, true, true, false, false, true},
    [JF_ROLE_DOCTOR] = {true, true, true, true, true, true},
    [JF_ROLE_POLICE] = {false, false, true, true, true, false},
    [JF_ROLE_CIVIL_AFFAIRS] = {false, true, false, true, true, true},
    [JF_ROLE_GRID_WORKER] = {false, false, true, false, true, true},
    [JF_ROLE_SERVICE] = {false, false, true, true, true, false},
};

jf_patient_view jf_view_for_role(jf_role r)
{
    if ((unsigned)r >= sizeof(views) / sizeof(views[0]))
        r = JF_ROLE_NONE;
    return views[r];
}
