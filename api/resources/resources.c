/* Start-up registration of every resource, in one place. */
#include "resources.h"
#include "../audit/audit.h"

int jf_resources_init(void)
{
    int (*const inits[])(void) = {jf_audit_init,
                                  jf_res_ops_init,
                                  jf_res_auth_init,
                                  jf_res_users_init,
                                  jf_res_org_units_init,
                                  jf_res_patients_init,
                                  jf_res_patient_flow_init,
                                  jf_res_guardians_init,
                                  jf_res_followups_init,
                                  jf_res_worklists_init,
                                  jf_res_notifications_init,
                                  jf_res_webhooks_init,
                                  jf_res_transfers_init,
                                  jf_res_exports_init,
                                  jf_res_episodes_init,
                                  jf_res_field_init,
                                  jf_res_alerts_init,
                                  jf_res_exchanges_init,
                                  jf_res_medication_init,
                                  jf_res_settings_init,
                                  jf_res_service_auth_init,
                                  jf_res_integrations_init,
                                  jf_res_care_teams_init,
                                  jf_res_assistance_init,
                                  jf_res_statistics_init,
                                  jf_res_stat_periods_init,
                                  jf_res_campaigns_init,
                                  jf_res_campaign_report_init,
                                  jf_res_reconcile_init,
                                  jf_res_changes_init,
                                  jf_res_search_tasks_init,
                                  jf_res_referrals_init,
                                  jf_res_ledgers_init,
                                  jf_res_fhir_init};

    for (size_t i = 0; i < sizeof(inits) / sizeof(inits[0]); i++) {
        int rc = inits[i]();
        if (rc != 0)
            return rc;
    }
    return 0;
}
