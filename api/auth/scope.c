/* Roles, capabilities and the subtree rule. */
#include "scope.h"

#include <string.h>

#define READER (JF_CAP_ORG_READ | JF_CAP_PATIENT_READ)
/* Assistance (docs/domain.md "Subsidies and assistance"): civil affairs work the
 * records; officials and admins read their area's; doctors read their
 * patients'. Police and grid workers see none (their view has no economic
 * fields): only whether a guardian agreement exists, in the guardians. */
#define ASSIST_AREA_READER (JF_CAP_ASSIST_READ | JF_CAP_ASSIST_AREA)

static const struct {
    const char *name;
    unsigned caps;
} roles[] = {
    [JF_ROLE_NONE] = {"", 0},
    [JF_ROLE_ADMIN] = {"admin", READER | JF_CAP_USERS_ADMIN | JF_CAP_AUDIT_READ | JF_CAP_WRITE |
                                    JF_CAP_PATIENT_REGISTER | JF_CAP_PATIENT_REPORT |
                                    JF_CAP_GUARDIAN_WRITE | JF_CAP_CONFIG_WRITE |
                                    ASSIST_AREA_READER},
    /* A village cadre is an official of a village: the 走访 is theirs too. */
    [JF_ROLE_OFFICIAL] = {"official",
                          READER | JF_CAP_CLINICAL_READ | ASSIST_AREA_READER | JF_CAP_HOME_CHECK},
    [JF_ROLE_DOCTOR] = {"doctor", READER | JF_CAP_WRITE | JF_CAP_PATIENT_REGISTER |
                                      JF_CAP_PATIENT_REPORT | JF_CAP_GUARDIAN_WRITE |
                                      JF_CAP_CLINICAL_READ | JF_CAP_FOLLOWUP_WRITE |
                                      JF_CAP_CLINICAL_WRITE | JF_CAP_INCIDENT_WRITE |
                                      JF_CAP_ASSIST_READ | JF_CAP_HOME_CHECK},
    [JF_ROLE_POLICE] = {"police", READER | JF_CAP_WRITE | JF_CAP_PATIENT_REPORT |
                                      JF_CAP_INCIDENT_WRITE | JF_CAP_HOME_CHECK},
    [JF_ROLE_CIVIL_AFFAIRS] = {"civil_affairs", READER | JF_CAP_WRITE | JF_CAP_GUARDIAN_WRITE |
                                                    ASSIST_AREA_READER | JF_CAP_ASSIST_WRITE},
    /* The national follow-up form is the doctor's; grid workers record the
     * 走访 (docs/domain.md "Visit mode"). */
    [JF_ROLE_GRID_WORKER] = {"grid_worker", READER | JF_CAP_WRITE | JF_CAP_PATIENT_REPORT |
                                                JF_CAP_GUARDIAN_WRITE | JF_CAP_CLINICAL_READ |
                                                JF_CAP_HOME_CHECK},
    [JF_ROLE_SERVICE] = {"service", READER | JF_CAP_WRITE},
};

#define NROLES (sizeof(roles) / sizeof(roles[0]))

jf_role jf_role_parse(const char *s)
{
    if (s == NULL || *s == '\0')
        return JF_ROLE_NONE;
    for (unsigned i = 1; i < NROLES; i++)
        if (strcmp(s, roles[i].name) == 0)
            return (jf_role)i;
    return JF_ROLE_NONE;
}

const char *jf_role_name(jf_role r)
{
    return (unsigned)r < NROLES ? roles[r].name : "";
}

bool jf_role_has(jf_role r, jf_cap cap)
{
    return (unsigned)r < NROLES && (roles[r].caps & (unsigned)cap) == (unsigned)cap;
}

static bool path_well_formed(const char *p)
{
    size_t n = p ? strlen(p) : 0;

    return n >= 3 && p[0] == '/' && p[n - 1] == '/';
}

bool jf_scope_contains(const char *ancestor, const char *target)
{
    /* Both paths end in '/', so a prefix match is a whole-segment match. */
    if (!path_well_formed(ancestor) || !path_well_formed(target))
        return false;
    return strncmp(target, ancestor, strlen(ancestor)) == 0;
}

jf_scope_verdict jf_scope_check(const jf_claims *c, const char *target_path, jf_access access)
{
    jf_role r = jf_role_parse(c->role);

    if (r == JF_ROLE_NONE || !jf_scope_contains(c->org_path, target_path))
        return JF_SCOPE_HIDDEN;
    if (access == JF_ACCESS_WRITE && !jf_role_has(r, JF_CAP_WRITE))
        return JF_SCOPE_FORBIDDEN;
    return JF_SCOPE_OK;
}
