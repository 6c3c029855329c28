/* Loading one 三网 list: a CSV file streamed from a reader (a socket or a
 * file) through a fixed-size buffer, decoded (UTF-8 or GBK, BOM or not),
 * parsed record by record, normalised (ID number → blind index + masked
 * form, dates, status, risk) and written on through PostgreSQL
 * COPY FROM STDIN into reconcile_rows. No file is ever held whole in
 * memory. Used by the upload endpoint and by jingfang-reconcile. */
#ifndef JF_REC_LOAD_H
#define JF_REC_LOAD_H

#include <libpq-fe.h>

#include "../domain/reconcile.h"

/* Longest CSV record (bytes, after decoding to UTF-8). */
#define JF_REC_RECORD_MAX 65536
/* Most fields in a record. */
#define JF_REC_FIELDS_MAX 256

/* Read up to cap bytes into buf: the count, 0 at the end, negative on error. */
typedef long (*jf_rec_read_fn)(void *ctx, char *buf, size_t cap);

typedef enum jf_rec_encoding {
    JF_REC_ENC_AUTO = 0, /* a UTF-8 BOM, else UTF-8 if the first block is valid UTF-8, else GBK */
    JF_REC_ENC_UTF8,
    JF_REC_ENC_GBK, /* read as GB18030, GBK's superset */
} jf_rec_encoding;

typedef struct jf_rec_load_opts {
    long long run_id;
    const char *source;                /* a jf_rec_sources code */
    const char *columns[JF_REC_NCOLS]; /* header text per column; NULL: not in the file */
    unsigned optional;                 /* bits (1 << col) of columns that may be absent */
    jf_rec_encoding encoding;
    int today_ymd;                  /* for the ID numbers' birth dates */
    const unsigned char *index_key; /* 32 bytes: JF_ID_INDEX_KEY */
    long long user_id;              /* who loads (0: a command-line run) */
} jf_rec_load_opts;

/* What happened. On a refused file: status 413 or 422 (a problem of the
 * file, the message says which and where), line the line it was found on
 * (0 when none), field the mapped column concerned or "body". */
typedef struct jf_rec_load_result {
    long rows;
    const char *encoding; /* "utf-8" or "gbk" */
    int unknown_columns;  /* header columns no mapped column names, stored on the source */
    int status;
    long line;
    const char *field;
    char message[256];
} jf_rec_load_result;

/* Load one file into run o->run_id as source o->source, replacing an
 * earlier load of that source. Must run inside the caller's transaction
 * (so a refused file leaves nothing behind once the caller rolls back).
 * 0; JF_ERR_INVALID / JF_ERR_TOO_LARGE for a refused file (out says why);
 * JF_ERR_IO when the reader failed; JF_ERR_DB; JF_ERR_NOMEM. */
int jf_rec_load(PGconn *pg, const jf_rec_load_opts *o, jf_rec_read_fn rd, void *ctx,
                jf_rec_load_result *out);

/* One statement on pg; 0, or JF_ERR_DB with the message in err. out, when
 * given, receives the result (the caller clears it). With
 * JF_RECONCILE_TRACE set, its time goes to stderr. */
int jf_rec_exec(PGconn *pg, const char *sql, int n, const char *const *p, PGresult **out, char *err,
                size_t errlen);

/* The analysis's steps, as its progress names them: staging,
 * weak_matches, persons, registry, facts, findings, closing. */
#define JF_REC_STEPS 7

/* Told as each step starts (step 1..steps, its name); a non-zero return
 * stops the analysis (cancelled). */
typedef struct jf_rec_progress {
    int (*fn)(void *ctx, int step, int steps, const char *name);
    void *ctx;
} jf_rec_progress;

/* Compare the loaded sources of run run_id with each other and the
 * registry and write its findings, summary and diff against the previous
 * run of its unit, telling prog (may be NULL) as each step starts. Must
 * run inside the caller's transaction. 0, JF_ERR_DB (message in err),
 * JF_ERR_CONFLICT when the run is done already or has no source loaded,
 * JF_ERR_CANCELLED when prog said stop. */
int jf_rec_analyse(PGconn *pg, long long run_id, const jf_rec_progress *prog, char *err,
                   size_t errlen);

#endif
