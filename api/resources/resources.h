/* Every resource module registers its routes and statements once at start. */
#ifndef JF_RESOURCES_H
#define JF_RESOURCES_H

int jf_res_ops_init(void);
int jf_res_auth_init(void);
int jf_res_users_init(void);
int jf_res_org_units_init(void);
int jf_res_patients_init(void);
int jf_res_patient_flow_init(void);
int jf_res_guardians_init(void);
int jf_res_followups_init(void);
int jf_res_worklists_init(void);
int jf_res_notifications_init(void);
int jf_res_webhooks_init(void);
int jf_res_transfers_init(void);
int jf_res_exports_init(void);
int jf_res_episodes_init(void);
int jf_res_field_init(void);
int jf_res_alerts_init(void);
int jf_res_exchanges_init(void);
int jf_res_medication_init(void);
int jf_res_settings_init(void);
int jf_res_service_auth_init(void);
int jf_res_integrations_init(void);
int jf_res_care_teams_init(void);
int jf_res_assistance_init(void);
int jf_res_statistics_init(void);
int jf_res_stat_periods_init(void);
int jf_res_campaigns_init(void);
int jf_res_campaign_report_init(void);
/* 三网 data comparison: runs, uploads, mappings, findings. */
int jf_res_reconcile_init(void);
/* GET /api/v1/changes: the grid-worker app's change feed; GET /api/v1/events:
 * the record events replayed to integrators. */
int jf_res_changes_init(void);
/* The record-change event kinds (record_event_kinds() in SQL), NULL-ended. */
extern const char *const jf_res_event_kinds[];
/* Search tasks (查找) for lost patients. */
int jf_res_search_tasks_init(void);
int jf_res_referrals_init(void);
/* Ledgers (台账) and their work notes. */
int jf_res_ledgers_init(void);
/* The read-only FHIR R4 view for hospital and police systems. */
int jf_res_fhir_init(void);

/* All of the above, in order. */
int jf_resources_init(void);

#endif
