/* Patients (一人一档): register, read, update, list — each through the
 * caller's scope and role view, every read and write audited. */
#include "common.h"
#include "idempotency.h"
#include "resources.h"
#include "statistics.h"
#include "../audit/audit.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../domain/idcard.h"
#include "../domain/mask.h"
#include "../domain/pii.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"
#include "../record/patient_doc.h"
#include "../record/patient_fields.h"
#include "../record/recompute.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX_BYTES (32u * 1024 * 1024)

/* Generated at start from the field table (see build_statements). */
static char insert_sql[4096], update_sql[8192];
static jf_stmt patient_insert = {"patient_insert", insert_sql, 0};
static jf_stmt patient_update = {"patient_update", update_sql, 0};

/* The document's columns (the first is the id), then where it lies and its
 * version; for a list of ids, so that concurrent reads share one query
 * (jf_res_lookup). */
static jf_stmt patient_read = {
    "patient_read",
    "SELECT " JF_PATIENT_DOC_SQL ", p.org_path, p.org_unit_id, p.version FROM patients p"
    " WHERE p.id = ANY ($2::bigint[])",
    0,
};
/* The list's filters over patients p, their parameters numbered from the
 * arguments: status, risk level, colour, key flag, diagnosis, name prefix,
 * ID number index. */
#define PATIENT_FILTERS(st, rl, co, kf, dg, nm, ix)                                                \
    " AND ($" st "::text IS NULL OR p.status = $" st ") AND ($" rl "::int IS NULL"                 \
    " OR p.risk_level = $" rl ") AND ($" co "::text IS NULL OR p.colour = $" co ")"                \
    " AND ($" kf "::text IS NULL OR p.key_flags ? $" kf ") AND ($" dg "::text IS NULL"             \
    " OR p.diagnosis = $" dg ") AND ($" nm "::text IS NULL OR starts_with(p.name, $" nm "))"       \
    " AND ($" ix "::bytea IS NULL OR p.id_index = $" ix ")"
/* The patients counted in a figure of the statistics (indicator ind over
 * the subtree at path for [from, to] seen on today): the very function the
 * figures are counted from (migration 0015), joined as f. */
#define PATIENT_FACTS(path, from, to, today, ind)                                                  \
    " FROM stat_patient_facts($" path ", $" from "::date, $" to "::date, $" today "::date) f"      \
    " JOIN patients p ON p.id = f.patient_id WHERE CASE $" ind "::text"                            \
    " WHEN 'managed' THEN f.managed WHEN 'standard' THEN f.standard WHEN 'face' THEN f.face"       \
    " WHEN 'regular' THEN f.regular WHEN 'medicated' THEN f.medicated"                             \
    " WHEN 'at_home' THEN f.at_home WHEN 'stable_home' THEN f.stable_home ELSE true END AND"
#define PATIENT_PAGE_FILTERS PATIENT_FILTERS("6", "7", "8", "9", "10", "11", "12")
#define PATIENT_PAGE                                                                               \
    " p.org_path >= $2 AND p.org_path < $3"                                                        \
    " AND (p.org_path, p.id) > (greatest($4::text COLLATE \"C\", $2), "                            \
    "$5::bigint)" PATIENT_PAGE_FILTERS " ORDER BY p.org_path, p.id LIMIT $13"
/* One page of a subtree in (org_path, id) order: an index range scan.
 * Planned for its parameters on every call (not prepared): a generic plan
 * cannot know that a village holds thousands of patients, estimates one
 * row, and sorts the whole village (measured: 20 ms instead of 1 ms). */
#define PATIENT_LIST_COLUMNS "SELECT p.id, p.org_path, " JF_PATIENT_DOC_SQL
static const char patient_list_sql[] = PATIENT_LIST_COLUMNS " FROM patients p WHERE" PATIENT_PAGE;
/* The same page of the patients behind a figure ($14 from, $15 to, $16
 * today, $17 indicator). */
static const char patient_list_facts_sql[] =
    PATIENT_LIST_COLUMNS PATIENT_FACTS("2", "14", "15", "16", "17") PATIENT_PAGE;
#define PATIENT_COUNT_RANGE                                                                        \
    " p.org_path >= $1 AND p.org_path < $2" PATIENT_FILTERS("3", "4", "5", "6", "7", "8", "9")
static jf_stmt patient_count = {
    "patient_count",
    "SELECT count(*) FROM patients p WHERE" PATIENT_COUNT_RANGE,
    0,
};
static const char patient_count_facts_sql[] =
    "SELECT count(*)" PATIENT_FACTS("1", "10", "11", "12", "13") PATIENT_COUNT_RANGE;
/* The stored values the cross-field date rules read, in jf_pfields names. */
static const char *const dated_fields[] = {"onset_date",   "diagnosis_date", "consent",
                                           "consent_date", "birth_date",     NULL};
static jf_stmt patient_dates = {
    "patient_dates",
    "SELECT onset_date, diagnosis_date, consent, consent_date, birth_date FROM patients"
    " WHERE id = $1",
    0,
};

/* Fixed leading parameters of the generated statements. */
enum {
    INS_STATUS = 1,
    INS_UNIT,
    INS_CIPHER,
    INS_INDEX,
    INS_MASKED,
    INS_PHONE_MASKED,
    INS_REPORTED_BY,
    INS_REGISTERED_ON,
    INS_FIRST_FIELD
};
enum {
    UPD_ID = 1,
    UPD_VERSION,
    UPD_SET_ID,
    UPD_CIPHER,
    UPD_INDEX,
    UPD_MASKED,
    UPD_UNIT,
    UPD_SET_PHONE,
    UPD_PHONE_MASKED,
    UPD_FIRST_FIELD
};

static const char *sql_type(enum jf_pf_type t)
{
    switch (t) {
    case JF_PF_DATE:
        return "date";
    case JF_PF_BOOL:
        return "boolean";
    default:
        return "text";
    }
}

/* The SQL text comes from the field table alone. */
static int build_statements(void)
{
    jf_buf b;
    int rc;

    jf_buf_init(&b, sizeof(update_sql) - 1);
    rc = jf_buf_puts(&b, "INSERT INTO patients (status, org_unit_id, id_cipher, id_index,"
                         " id_masked, phone_masked, reported_by, registered_on");
    for (size_t i = 0; rc == 0 && i < jf_npfields; i++)
        rc = jf_buf_printf(&b, ", %s", jf_pfields[i].name);
    rc = rc ? rc : jf_buf_puts(&b, ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date");
    for (size_t i = 0; rc == 0 && i < jf_npfields; i++)
        rc = jf_buf_printf(&b, ", $%zu::%s", INS_FIRST_FIELD + i, sql_type(jf_pfields[i].type));
    rc = rc ? rc : jf_buf_puts(&b, ") RETURNING id");
    if (rc != 0 || b.len >= sizeof(insert_sql))
        goto out;
    memcpy(insert_sql, b.data, b.len + 1);

    jf_buf_reset(&b);
    rc = jf_buf_puts(&b, "UPDATE patients SET version = version + 1, updated_at = now(),"
                         " id_cipher = CASE WHEN $3::bool THEN $4::bytea ELSE id_cipher END,"
                         " id_index = CASE WHEN $3::bool THEN $5::bytea ELSE id_index END,"
                         " id_masked = CASE WHEN $3::bool THEN $6 ELSE id_masked END,"
                         " org_unit_id = coalesce($7::bigint, org_unit_id),"
                         " phone_masked = CASE WHEN $8::bool THEN $9 ELSE phone_masked END");
    for (size_t i = 0; rc == 0 && i < jf_npfields; i++) {
        size_t flag = UPD_FIRST_FIELD + 2 * i;
        rc = jf_buf_printf(&b, ", %s = CASE WHEN $%zu::bool THEN $%zu::%s ELSE %s END",
                           jf_pfields[i].name, flag, flag + 1, sql_type(jf_pfields[i].type),
                           jf_pfields[i].name);
    }
    rc = rc ? rc : jf_buf_puts(&b, " WHERE id = $1 AND version = $2 RETURNING id");
    if (rc == 0)
        memcpy(update_sql, b.data, b.len + 1);
out:
    jf_buf_free(&b);
    return rc ? rc : (insert_sql[0] ? 0 : JF_ERR_TOO_LARGE);
}

/* Send the caller's view of patient id with its ETag (after commit). */
static int send_patient(jf_req *req, jf_db_conn *conn, const char *id, int status)
{
    char version[16];
    jf_buf out;
    int rc;

    jf_buf_init(&out, 1u << 20);
    rc = jf_record_doc(req, conn, id, &out, version);
    if (rc == JF_ERR_NOT_FOUND)
        rc = jf_resp_not_found(req);
    else if (rc == 0) {
        jf_res_etag(req, version);
        rc = jf_resp_json_text(req, status, out.data, out.len);
    }
    jf_buf_free(&out);
    return rc;
}

static const char *const create_extra[] = {"id_number", "org_unit_id", NULL};

/* Is every body key a patient field or one of extra? */
static void only_patient_fields(jf_req *req, jf_errors *e, const char *const *extra)
{
    const char *key;
    json_t *val;

    json_object_foreach(req->body, key, val)
    {
        if (jf_pf_index(key) < 0 && !jf_in_set(key, extra))
            jf_errors_add(e, key, "is not a known field");
    }
}

static int create(jf_req *req)
{
    jf_errors e = {0};
    jf_pvalues v;
    jf_idcard id;
    jf_pii_id pii;
    jf_idem idem;
    long long unit = 0;
    const char *unit_path_s = NULL, *pid = NULL;
    char phone_masked[24], birth_iso[11], today[11];
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_buf out;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    only_patient_fields(req, &e, create_extra);
    if (jf_pf_read(req, &e, &v) != 0)
        return JF_ERR_NOMEM;
    jf_record_read_id_number(req, &e, true, &v, &id);
    jf_body_int(req, &e, "org_unit_id", true, 1, INT64_MAX, &unit);
    /* Required: absent or null is an error; a bad value already has one. */
    for (const char *const *f = (const char *const[]){"name", "diagnosis", "diagnosis_date", NULL};
         *f; f++)
        if (jf_pf_get(&v, *f) == NULL && (!jf_body_has(req, *f) || jf_body_null(req, *f)))
            jf_errors_add(&e, *f, "is required%s",
                          strcmp(*f, "diagnosis") == 0
                              ? " (a suspected person is reported at /suspected-reports)"
                              : "");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    jf_idcard_birth_iso(&id, birth_iso);
    {
        jf_date birth;
        jf_date_parse(birth_iso, &birth);
        jf_pf_check_dates(&v, birth, &e);
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    jf_pf_defaults(&v);
    /* Gender and birth date follow from the ID when not given. */
    v.val[jf_pf_index("gender")] = id.male ? "male" : "female";
    v.val[jf_pf_index("birth_date")] = jf_arena_strdup(&req->arena, birth_iso);
    if (jf_pii_protect(&req->app->cfg, id.number, &pii) != 0)
        return JF_ERR_CRYPTO;
    jf_mask_phone(jf_pf_get(&v, "phone"), phone_masked, sizeof(phone_masked));

    jf_date_format(jf_date_today(), today);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_residence_unit(req, conn, &e, "org_unit_id", unit, &unit_path_s)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    jf_buf_init(&out, 1u << 20);
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        goto out;
    {
        const char *p[INS_FIRST_FIELD - 1 + 32];
        p[INS_STATUS - 1] = "registered";
        p[INS_UNIT - 1] = jf_res_id(req, unit);
        p[INS_CIPHER - 1] = pii.cipher;
        p[INS_INDEX - 1] = pii.index;
        p[INS_MASKED - 1] = pii.masked;
        p[INS_PHONE_MASKED - 1] = jf_pf_get(&v, "phone") ? phone_masked : NULL;
        p[INS_REPORTED_BY - 1] = NULL;
        p[INS_REGISTERED_ON - 1] = today;
        for (size_t i = 0; i < jf_npfields; i++)
            p[INS_FIRST_FIELD - 1 + i] = v.val[i];
        rc = jf_db_exec(conn, &patient_insert, (int)(INS_FIRST_FIELD - 1 + jf_npfields), p, &res);
    }
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        jf_db_rollback(conn);
        rc = jf_record_duplicate(req, conn, pii.index);
        goto out;
    }
    if (rc != 0)
        goto out;
    pid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    rc = jf_record_event(JF_ACTOR(req), conn,
                         &(jf_patient_event){.patient_id = pid,
                                             .kind = "created",
                                             .date = jf_pf_get(&v, "diagnosis_date"),
                                             .to_status = "registered"});
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, pid);
    if (rc == 0) {
        jf_audit_entry a = {.action = "patient.create",
                            .target_type = "patient",
                            .target_id = pid,
                            .org_unit_id = unit};
        rc = jf_audit_record(conn, req, &a);
    }
    char version[16];
    if (rc == 0)
        rc = jf_record_doc(req, conn, pid, &out, version);
    const char *location = jf_arena_printf(&req->arena, "/api/v1/patients/%s", pid);
    if (rc == 0)
        rc = jf_idem_finish(req, conn, &idem, 201, location, out.data);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0) {
        jf_resp_header(req, "Location", location);
        jf_res_etag(req, version);
        rc = jf_resp_json_text(req, 201, out.data, out.len);
    }
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* The receiving side of a pending transfer reads the record through the
 * shared loader (which knows about transfers), audited as a read. */
static int read_incoming(jf_req *req, jf_db_conn *conn)
{
    jf_patient_row row;
    char version[16];
    jf_buf out;
    int rc = jf_record_load(req, conn, JF_ACCESS_READ, &row);

    if (rc != 0)
        return rc;
    jf_buf_init(&out, 1u << 20);
    rc = jf_record_doc(req, conn, row.id, &out, version);
    if (rc == 0) {
        rc = jf_record_audit(req, conn, &row, "patient.read", "{\"via\":\"second_area\"}");
    }
    if (rc == 0) {
        jf_res_etag(req, version);
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    }
    jf_buf_free(&out);
    return rc;
}

static int get(jf_req *req)
{
    const int n = jf_patient_doc_ncols; /* then org_path, org_unit_id, version */
    long long id = jf_req_param_id(req, 0);
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_buf out;
    int rc;

    if (id == 0)
        return jf_resp_not_found(req);
    /* The hottest read of all: one query for the reads of many threads. */
    rc = jf_res_lookup(
        req, &patient_read, 1, 2,
        (const char *const[]){jf_res_tf(jf_record_view(req).phone_full), jf_res_id(req, id)}, &res);
    if (rc != 0 || PQntuples(res) == 0) {
        rc = rc ? rc : jf_resp_not_found(req);
        PQclear(res);
        return rc;
    }
    /* Reads are audited whether or not the caller may see the record, so
     * probing shows in the log. */
    bool ok = jf_scope_check(&req->claims, PQgetvalue(res, 0, n), JF_ACCESS_READ) == JF_SCOPE_OK;
    jf_audit_entry a = {.action = ok ? "patient.read" : "patient.read_denied",
                        .target_type = "patient",
                        .target_id = jf_req_param(req, 0),
                        .org_unit_id = strtoll(PQgetvalue(res, 0, n + 1), NULL, 10)};
    if (ok) {
        rc = jf_audit_defer(NULL, req, &a);
    } else if ((rc = jf_req_db(req, &conn)) == 0) {
        rc = jf_audit_defer(conn, req, &a);
        if (rc == 0)
            rc = read_incoming(req, conn); /* 404 unless coming here, or 户籍 here */
    }
    if (rc != 0 || !ok) {
        PQclear(res);
        return rc;
    }
    jf_buf_init(&out, 1u << 20);
    rc = jf_patient_doc_append(req, &out, res, 0, 0, jf_record_view(req));
    if (rc == 0) {
        jf_res_etag(req, PQgetvalue(res, 0, n + 2));
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    }
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

static const char *const patch_extra[] = {"id_number", "org_unit_id", NULL};
/* Fields a PATCH may not clear (id_number and org_unit_id included). */
static const char *const not_nullable[] = {
    "id_number", "org_unit_id",    "name",    "diagnosis", "diagnosis_date",
    "gender",    "birth_date",     "dibao",   "tekun",     "lives_alone",
    "can_drive", "family_history", "migrant", "vagrant",   "economic_status",
    NULL};

static int patch(jf_req *req)
{
    jf_errors e = {0};
    jf_pvalues v;
    jf_idcard id;
    jf_pii_id pii;
    jf_patient_row row;
    long long want, unit = 0;
    const char *unit_path_s = NULL;
    char phone_masked[24];
    int has_id;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_res_if_match(req, &want)) != 0)
        return rc;
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    only_patient_fields(req, &e, patch_extra);
    if (jf_pf_read(req, &e, &v) != 0)
        return JF_ERR_NOMEM;
    for (size_t i = 0; not_nullable[i]; i++)
        if (jf_body_null(req, not_nullable[i]))
            jf_errors_add(&e, not_nullable[i], "cannot be cleared");
    has_id = jf_record_read_id_number(req, &e, false, &v, &id);
    if (jf_body_has(req, "org_unit_id"))
        jf_body_int(req, &e, "org_unit_id", true, 1, INT64_MAX, &unit);
    if (has_id == 0 && (jf_pf_get(&v, "gender") || jf_pf_get(&v, "birth_date")))
        jf_errors_add(&e, jf_pf_get(&v, "gender") ? "gender" : "birth_date",
                      "follows from the ID number: change id_number instead");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    {
        /* The date rules hold between the change and what is stored: an
         * onset date must not pass the stored diagnosis date, and so on. */
        jf_pvalues merged = v;
        jf_date birth = JF_DATE_NONE;
        const char *dp[] = {row.id};

        merged.val = jf_arena_alloc(&req->arena, jf_npfields * sizeof(*merged.val));
        merged.date = jf_arena_alloc(&req->arena, jf_npfields * sizeof(*merged.date));
        if (merged.val == NULL || merged.date == NULL)
            return JF_ERR_NOMEM;
        memcpy(merged.val, v.val, jf_npfields * sizeof(*merged.val));
        memcpy(merged.date, v.date, jf_npfields * sizeof(*merged.date));
        rc = jf_db_exec(conn, &patient_dates, 1, dp, &res);
        if (rc != 0)
            goto out;
        for (int k = 0; dated_fields[k] != NULL; k++) {
            int i = jf_pf_index(dated_fields[k]);
            if (v.present[i] || PQgetisnull(res, 0, k))
                continue;
            merged.val[i] = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, k));
            if (jf_pfields[i].type == JF_PF_DATE)
                jf_date_parse(merged.val[i], &merged.date[i]);
        }
        if (has_id == 1) {
            char iso[11];
            jf_idcard_birth_iso(&id, iso);
            jf_date_parse(iso, &birth);
        } else {
            birth = merged.date[jf_pf_index("birth_date")];
        }
        jf_pf_check_dates(&merged, birth, &e);
        if (merged.date[jf_pf_index("consent_date")] != JF_DATE_NONE &&
            merged.val[jf_pf_index("consent")] == NULL && !jf_errors_any(&e))
            jf_errors_add(&e, "consent", "cannot be cleared while a consent date is recorded");
        PQclear(res);
        res = NULL;
    }
    if (row.status == JF_PS_DECEASED || row.status == JF_PS_DEREGISTERED)
        return jf_resp_problem(req, 409, "record-closed", "Record closed",
                               "a deceased or deregistered patient's record is closed", NULL, NULL);
    if (unit > 0 &&
        (rc = jf_record_residence_unit(req, conn, &e, "org_unit_id", unit, &unit_path_s)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (row.version != want) {
        jf_res_etag(req, jf_res_id(req, row.version));
        return jf_resp_problem(req, 412, "precondition-failed", "Precondition failed",
                               "the record changed since you read it; reload and retry", "If-Match",
                               "does not match the current version");
    }
    if (has_id == 1) {
        char iso[11];
        if (jf_pii_protect(&req->app->cfg, id.number, &pii) != 0)
            return JF_ERR_CRYPTO;
        jf_idcard_birth_iso(&id, iso);
        v.val[jf_pf_index("gender")] = id.male ? "male" : "female";
        v.val[jf_pf_index("birth_date")] = jf_arena_strdup(&req->arena, iso);
        v.present[jf_pf_index("gender")] = v.present[jf_pf_index("birth_date")] = true;
    }
    jf_mask_phone(jf_pf_get(&v, "phone"), phone_masked, sizeof(phone_masked));
    if ((rc = jf_db_begin(conn)) != 0)
        return rc;
    {
        const char *p[UPD_FIRST_FIELD - 1 + 2 * 32];
        p[UPD_ID - 1] = row.id;
        p[UPD_VERSION - 1] = jf_res_id(req, want);
        p[UPD_SET_ID - 1] = jf_res_tf(has_id == 1);
        p[UPD_CIPHER - 1] = has_id == 1 ? pii.cipher : NULL;
        p[UPD_INDEX - 1] = has_id == 1 ? pii.index : NULL;
        p[UPD_MASKED - 1] = has_id == 1 ? pii.masked : NULL;
        p[UPD_UNIT - 1] = unit > 0 ? jf_res_id(req, unit) : NULL;
        p[UPD_SET_PHONE - 1] = jf_res_tf(v.present[jf_pf_index("phone")]);
        p[UPD_PHONE_MASKED - 1] = jf_pf_get(&v, "phone") ? phone_masked : NULL;
        for (size_t i = 0; i < jf_npfields; i++) {
            p[UPD_FIRST_FIELD - 1 + 2 * i] = jf_res_tf(v.present[i]);
            p[UPD_FIRST_FIELD + 2 * i] = v.val[i];
        }
        rc = jf_db_exec(conn, &patient_update, (int)(UPD_FIRST_FIELD - 1 + 2 * jf_npfields), p,
                        &res);
    }
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        jf_db_rollback(conn);
        rc = jf_record_duplicate(req, conn, pii.index);
        goto out;
    }
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23514") == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Conflicting change",
                             "the change would leave the record inconsistent", NULL, NULL);
        goto out;
    }
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = jf_resp_problem(req, 412, "precondition-failed", "Precondition failed",
                             "the record changed since you read it; reload and retry", "If-Match",
                             "does not match the current version");
        goto out;
    }
    PQclear(res);
    res = NULL;
    {
        /* Which fields changed, never their values. */
        jf_buf d;
        const char *key;
        json_t *val;
        int n = 0;

        jf_buf_init(&d, 4096);
        rc = jf_buf_puts(&d, "{\"fields\":[");
        json_object_foreach(req->body, key, val)
        {
            if (rc == 0)
                rc = (n++ ? jf_buf_puts(&d, ",") : 0) || jf_buf_json_str(&d, key);
        }
        if (rc == 0)
            rc = jf_buf_puts(&d, "]}");
        jf_audit_entry a = {.action = "patient.update",
                            .target_type = "patient",
                            .target_id = row.id,
                            .org_unit_id = row.org_unit_id,
                            .detail_json = d.data};
        if (rc == 0)
            rc = jf_audit_record(conn, req, &a);
        if (rc == 0)
            rc = jf_record_event(JF_ACTOR(req), conn,
                                 &(jf_patient_event){.patient_id = row.id,
                                                     .kind = "updated",
                                                     .detail_json = d.data});
        if (rc == 0) /* lives alone, can drive, 特困 …: flags and colour may move */
            rc = jf_record_recompute(JF_ACTOR(req), conn, row.id);
        jf_buf_free(&d);
    }
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_patient(req, conn, row.id, 200);
out:
    PQclear(res);
    return rc;
}

/* Keyset cursor of a patient list: the last row's (org_path, id). */
static const char *list_cursor(jf_req *req, const char *path, const char *id)
{
    char plain[320], *out;
    int n = snprintf(plain, sizeof(plain), "p1:%s|%s", path, id);

    out = jf_arena_alloc(&req->arena, 448);
    if (out == NULL || n <= 0 || (size_t)n >= sizeof(plain) ||
        jf_crypto_b64url_encode((unsigned char *)plain, (size_t)n, out, 448) < 0)
        return NULL;
    return out;
}

static int parse_list_cursor(jf_req *req, jf_errors *e, const char **path, const char **id)
{
    const char *s = jf_req_query(req, "cursor");
    unsigned char plain[320];
    char *bar;
    int n;

    *path = "";
    *id = "0";
    if (s == NULL)
        return 0;
    n = jf_crypto_b64url_decode(s, strlen(s), plain, sizeof(plain) - 1);
    if (n > 3 && memcmp(plain, "p1:", 3) == 0) {
        plain[n] = '\0';
        bar = strchr((char *)plain + 3, '|');
        if (bar != NULL && bar[1] >= '1' && bar[1] <= '9' &&
            strspn(bar + 1, "0123456789") == strlen(bar + 1) && strlen(bar + 1) <= 18) {
            *bar = '\0';
            *path = jf_arena_strdup(&req->arena, (char *)plain + 3);
            *id = jf_arena_strdup(&req->arena, bar + 1);
            return 0;
        }
    }
    jf_errors_add(e, "cursor", "is not a cursor this server issued");
    return -1;
}

static const char *const status_codes[] = {"suspected",    "ruled_out", "registered", "in_care",
                                           "hospitalised", "lost",      "moved_out",  "deceased",
                                           "deregistered", NULL};
static const char *const colour_codes[] = {"red", "orange", "yellow", "green", NULL};
static const char *const risk_codes[] = {"0", "1", "2", "3", "4", "5", NULL};
static const char *const diagnosis_codes[] = {
    "schizophrenia",      "schizoaffective",
    "paranoid_psychosis", "bipolar",
    "epilepsy_psychosis", "intellectual_disability_psychosis",
    "other_harm",         NULL};
static const char *const key_flag_codes[] = {
    "incident_history", "risk_3_plus",      "weak_guardian", "poor_compliance", "refuses_follow_up",
    "ever_lost",        "unstable",         "lives_alone",   "family_history",  "extreme_poverty",
    "can_drive",        "forced_admission", "migrant",       "vagrant",         NULL};

/* The figures of the statistics whose patients the list can show (the
 * per-patient facts of migration 0015; registered is the denominator). */
static const char *const indicator_codes[] = {"registered", "managed",     "standard",
                                              "face",       "regular",     "medicated",
                                              "at_home",    "stable_home", NULL};

/* A query filter from a fixed set of codes; adds an error when not one. */
static const char *code_filter(jf_req *req, jf_errors *e, const char *name,
                               const char *const *codes)
{
    const char *s = jf_req_query(req, name);

    if (s != NULL && !jf_in_set(s, codes)) {
        jf_errors_add(e, name, "is not one of the allowed codes");
        return NULL;
    }
    return s;
}

static int list(jf_req *req)
{
    jf_patient_view v = jf_record_view(req);
    jf_errors e = {0};
    int limit, rc;
    long long unit = jf_query_id(req, &e, "org_unit_id");
    bool count = jf_query_bool(req, &e, "count");
    const char *status = code_filter(req, &e, "status", status_codes);
    const char *risk = code_filter(req, &e, "risk_level", risk_codes);
    const char *colour = code_filter(req, &e, "colour", colour_codes);
    const char *flag = code_filter(req, &e, "key_flag", key_flag_codes);
    const char *diagnosis = code_filter(req, &e, "diagnosis", diagnosis_codes);
    const char *name = jf_req_query(req, "name");
    const char *idnum = jf_req_query(req, "id_number");
    const char *indicator = code_filter(req, &e, "indicator", indicator_codes);
    const char *after_path, *after_id, *scope, *upper, *period[3] = {NULL};
    char index_hex[2 + 2 * 32 + 1];
    jf_db_conn *conn;
    PGresult *res = NULL, *cres = NULL;
    jf_buf out, ids;
    jf_idcard id;
    int nrows;

    jf_query_limit(req, &e, &limit);
    parse_list_cursor(req, &e, &after_path, &after_id);
    if (name != NULL && (*name == '\0' || jf_utf8_len(name) > 32))
        jf_errors_add(&e, "name", "must be 1 to 32 characters");
    if (diagnosis != NULL && !v.clinical)
        jf_errors_add(&e, "diagnosis", "your role may not filter by diagnosis");
    if ((risk != NULL || colour != NULL || flag != NULL) && !v.risk)
        jf_errors_add(&e,
                      risk     ? "risk_level"
                      : colour ? "colour"
                               : "key_flag",
                      "your role may not filter by risk");
    if (indicator != NULL) {
        /* The patients behind a figure: the dashboard's period and roles. */
        const char *detail = jf_stat_detail(req);
        jf_date today = jf_date_today(), from, to;
        int year;
        jf_stat_period(req, &e, today, &from, &to, &year);
        if (detail == NULL || (strcmp(detail, "full") != 0 && strcmp(indicator, "registered") != 0))
            jf_errors_add(&e, "indicator", "your role does not see this figure");
        char d[3][11];
        jf_date_format(from, d[0]);
        jf_date_format(to, d[1]);
        jf_date_format(today, d[2]);
        for (int i = 0; i < 3; i++)
            period[i] = jf_arena_strdup(&req->arena, d[i]);
    } else {
        for (const char *const *k = (const char *const[]){"year", "from", "to", NULL}; *k; k++)
            if (jf_req_query(req, *k) != NULL)
                jf_errors_add(&e, *k, "is only used with indicator");
    }
    if (idnum != NULL) {
        jf_idcard_result r = jf_idcard_parse(idnum, jf_date_ymd_int(jf_date_today()), &id);
        if (r != JF_IDCARD_OK)
            jf_errors_add(&e, "id_number", "%s", jf_idcard_result_str(r));
        else
            jf_pii_index(&req->app->cfg, id.number, index_hex);
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    /* Narrow to a village or grid inside the caller's subtree. */
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &scope)) != 0)
        return rc;
    if (scope == NULL)
        return jf_errors_respond(req, &e);
    jf_buf_init(&out, LIST_MAX_BYTES);
    jf_buf_init(&ids, 64 * 1024);
    upper = jf_res_path_upper(req, scope);
    const char *p[] = {jf_res_tf(v.phone_full),
                       scope,
                       upper,
                       after_path,
                       after_id,
                       status,
                       risk,
                       colour,
                       flag,
                       diagnosis,
                       name,
                       idnum ? index_hex : NULL,
                       jf_res_id(req, limit + 1),
                       period[0],
                       period[1],
                       period[2],
                       indicator};
    const char *cp[] = {scope, upper, status,    risk,      colour,    flag,     diagnosis,
                        name,  p[11], period[0], period[1], period[2], indicator};
    if (indicator != NULL) {
        rc = jf_db_exec_sql(conn, patient_list_facts_sql, 17, p, &res);
        if (rc == 0 && count)
            rc = jf_db_exec_sql(conn, patient_count_facts_sql, 13, cp, &cres);
    } else {
        rc = jf_db_exec_sql(conn, patient_list_sql, 13, p, &res);
        if (rc == 0 && count)
            rc = jf_db_exec(conn, &patient_count, 9, cp, &cres);
    }
    if (rc != 0)
        goto out;
    nrows = PQntuples(res);
    rc = jf_buf_puts(&out, "{\"items\":[");
    rc = rc ? rc : jf_buf_puts(&ids, "{\"ids\":[");
    for (int i = 0; rc == 0 && i < nrows && i < limit; i++) {
        if (i > 0)
            rc = jf_buf_puts(&out, ",") || jf_buf_puts(&ids, ",");
        rc = rc ? rc : jf_patient_doc_append(req, &out, res, i, 2, v);
        rc = rc ? rc : jf_buf_puts(&ids, PQgetvalue(res, i, 0));
    }
    rc = rc ? rc : jf_buf_puts(&out, "],\"next_cursor\":");
    rc = rc ? rc
            : jf_buf_json_str(&out, nrows > limit ? list_cursor(req, PQgetvalue(res, limit - 1, 1),
                                                                PQgetvalue(res, limit - 1, 0))
                                                  : NULL);
    if (rc == 0 && count)
        rc = jf_buf_printf(&out, ",\"total\":%s", PQgetvalue(cres, 0, 0));
    rc = rc ? rc : jf_buf_puts(&out, "}");
    rc = rc ? rc : jf_buf_puts(&ids, "]}");
    if (rc != 0)
        goto out;
    {
        /* One audit row names every record the page showed. */
        jf_audit_entry a = {
            .action = "patient.list", .target_type = "patient", .detail_json = ids.data};
        rc = jf_audit_defer(conn, req, &a);
    }
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
out:
    jf_buf_free(&out);
    jf_buf_free(&ids);
    PQclear(res);
    PQclear(cres);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/patients", list, JF_ROUTE_AUTH | JF_ROUTE_REPLICA, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/patients", create, JF_ROUTE_AUTH, JF_CAP_PATIENT_REGISTER},
    {"GET", "/api/v1/patients/{id}", get, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"PATCH", "/api/v1/patients/{id}", patch, JF_ROUTE_AUTH, JF_CAP_PATIENT_REGISTER},
};

int jf_res_patients_init(void)
{
    jf_stmt *const s[] = {&patient_insert, &patient_update, &patient_read, &patient_count,
                          &patient_dates};
    int rc = build_statements();

    if (rc == 0)
        rc = jf_record_patient_init();
    if (rc == 0)
        rc = jf_idem_init();
    if (rc == 0)
        rc = jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0]));
    return rc ? rc : jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
