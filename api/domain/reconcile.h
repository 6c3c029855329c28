/* 三网 data comparison: the pure rules of reading one list row — CSV
 * records, encodings, the normalised status, gender, risk level and birth
 * date — and the work-item states of a finding. No I/O. */
#ifndef JF_RECONCILE_H
#define JF_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>

/* Mapped columns of a source file, in this order. */
typedef enum jf_rec_col {
    JF_REC_ID = 0,
    JF_REC_NAME,
    JF_REC_GENDER,
    JF_REC_BIRTH,
    JF_REC_VILLAGE,
    JF_REC_STATUS,
    JF_REC_RISK,
    JF_REC_NCOLS
} jf_rec_col;

/* The JSON key of a mapped column ("id", "name", "gender", "birth_date",
 * "village", "status", "risk_level"). */
const char *jf_rec_col_key(jf_rec_col c);
/* The default header text of a column (身份证号, 姓名, 性别, 出生日期,
 * 村(社区), 状态, 风险等级). */
const char *jf_rec_col_default(jf_rec_col c);

/* Is s a source code: police, health, grid, drug_purchase,
 * special_outpatient, reimbursement? */
bool jf_rec_source_valid(const char *s);
/* NULL-terminated list of the source codes. */
extern const char *const jf_rec_sources[];
/* NULL-terminated list of the finding categories. */
extern const char *const jf_rec_categories[];
/* NULL-terminated list of the finding states. */
extern const char *const jf_rec_states[];

/* Split one CSV record (RFC 4180: comma separated, double quotes around a
 * field, "" inside quotes for a quote; no line terminator) in place into
 * at most max fields, unquoting them; fields[i] point into rec, each
 * NUL-terminated. Returns the number of fields, -1 for a stray quote
 * (text after a closing quote, or a quote never closed), -2 for more than
 * max fields. */
int jf_rec_csv_split(char *rec, size_t len, char **fields, int max);

/* Does a complete record end at the newline at rec[len]? False while an
 * opened quote is still open in rec[0..len). */
bool jf_rec_csv_complete(const char *rec, size_t len);

/* Trim ASCII white space and the ideographic space (U+3000) at both ends,
 * in place; returns s. */
char *jf_rec_trim(char *s);

/* Length of the longest prefix of buf[0..n) that is valid UTF-8 and ends
 * on a character boundary; *bad is set when an invalid sequence (not a
 * truncated one at the end) was met. */
size_t jf_rec_utf8_prefix(const unsigned char *buf, size_t n, bool *bad);

/* A status text of any source: "deceased" (死亡, 已死亡, 已故, 死亡销户,
 * deceased, dead), "" for empty, else "active". */
const char *jf_rec_status_norm(const char *s);
/* 男/male/m/1 → "male", 女/female/f/2 → "female", else NULL. */
const char *jf_rec_gender_norm(const char *s);
/* A risk level 0-5 from "3", "3级" or "三级"; -1 for empty or anything
 * else. */
int jf_rec_risk_parse(const char *s);
/* A birth date "1990-01-02", "1990/1/2", "1990.1.2", "19900102" or
 * "1990年1月2日" into ISO out (11 bytes). 0, or -1 when not a real date. */
int jf_rec_date_parse(const char *s, char out[11]);

/* A finding's work-item moves: open → verifying, verifying → resolved,
 * verifying → open (not confirmed yet), resolved → open (reopened). Any
 * other move, and staying put, is illegal. */
bool jf_rec_transition_ok(const char *from, const char *to);

#endif
