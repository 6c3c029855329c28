/* Helpers shared by the resource handlers: sending PostgreSQL-built JSON,
 * keyset cursors, and reading common body fields.
 *
 * The house contract, for these and every resource and record function: a
 * function answers the client's refusals itself (the 4xx its comment
 * names) and returns a database failure as it is, unanswered; the
 * dispatcher answers it (503 or 500, http/request_db.c), rolls back and
 * gives the connection back. Comments name only what a function answers. */
#ifndef JF_RES_COMMON_H
#define JF_RES_COMMON_H

#include "../db/pool.h"
#include "../http/request.h"
#include "../http/validate.h"

/* A lookup by key (db/pipeline.h, jf_db_pipe_lookup), batched with other
 * threads' when the lanes run, else run alone on a borrowed connection.
 * Returns as jf_db_exec; sends nothing. */
int jf_res_lookup(jf_req *req, const jf_stmt *stmt, int key_param, int n, const char *const *params,
                  PGresult **res);
/* The exclusive upper bound of a subtree's paths, into the arena: every
 * path under "/1/4/" lies in ["/1/4/", "/1/40"), '/' being the byte just
 * below '0'. NULL for NULL. */
const char *jf_res_path_upper(jf_req *req, const char *path);
/* Run stmt and send column 0 of its single row as JSON with status;
 * 404 when there is no row. */
int jf_res_send_row(jf_req *req, jf_db_conn *conn, const jf_stmt *stmt, int n,
                    const char *const *params, int status);
/* "true" or "false", as a text parameter. */
const char *jf_res_tf(bool b);
/* Format a 64-bit id into the request arena. */
const char *jf_res_id(jf_req *req, long long id);
/* Parse an If-Match header ("3" or W/"3") into *version; on failure the
 * problem (428 missing, 400 malformed) has been sent. */
int jf_res_if_match(jf_req *req, long long *version);
/* Set ETag: "<version>" on the response. */
void jf_res_etag(jf_req *req, const char *version);
/* Send rows of res as {"items":[column json_col of the first limit rows],
 * "next_cursor":…}; res was fetched with limit + 1 rows whose column 0 is
 * the id the cursor continues after. */
int jf_res_send_id_page(jf_req *req, const PGresult *res, int limit, int json_col);
/* The org path of patient id (keyset cursors over (org_path, id)); *path
 * stays as it was when there is no such patient. 0 or the jf_db_exec
 * error. */
int jf_res_patient_path(jf_req *req, jf_db_conn *conn, long long id, const char **path);
/* Keyset cursor: an opaque token for the last id of a page, and back. */
const char *jf_res_cursor_encode(jf_req *req, long long last_id);
/* 0 when absent (*after = 0); -1 with an error added when malformed. */
int jf_res_cursor_decode(jf_req *req, jf_errors *e, long long *after);
/* The JSON text (arena) of the medications array at field, in the shape of
 * the follow-up form: [{drug, morning?, noon?, evening?, unit?} or {drug,
 * long_acting: true, every_weeks, dose_mg}], at most max; NULL when absent
 * or null, or with an error naming field added. */
const char *jf_res_medications(jf_req *req, jf_errors *e, const char *field, size_t max);

/* GET a worklist of patients of the caller's area, ?org_unit_id (a unit of
 * it), doctor_id, limit and cursor (keyset over org path and id): stmt takes
 * $1..$2 the area's paths, $3..$4 the cursor, $5 whether the risk is
 * visible, $6 limit + 1, $7 the doctor (NULL: any), and returns (id,
 * org_path, row JSON). */
int jf_res_area_page(jf_req *req, const jf_stmt *stmt);

#endif
