/* jingfang-gen: realistic synthetic patients, with events and guardians, for the demo and
 * benchmarks.
 *
 * Usage: jingfang-gen [--patients N] [--township CODE] [--hot-village CODE --hot-count K]
 *                     [--seed S] [--as-of YYYY-MM-DD] [--if-empty]
 *
 * Connection from JF_DB_URL (libpq conninfo); the ID-number keys from
 * JF_ID_ENC_KEY and JF_ID_INDEX_KEY (64 hex digits each), used exactly as the
 * API uses them: id_cipher = AES-256-GCM(aad "patient-id"), id_index =
 * HMAC-SHA256. Everything happens in one transaction and is streamed with
 * COPY: rows are built one at a time in a capped buffer, never all at once.
 *
 * Output depends only on the seed, the options and the patient ids the
 * sequence hands out: every row is derived from (seed, row number), so the
 * three COPY streams (patients, events, guardians) regenerate the same row
 * instead of keeping it. The 18-digit ID is a bijection of the patient id
 * (birth date 1945-2006 and sequence number), so IDs never collide, not even
 * across runs into the same database, up to GEN_ID_SPACE patient ids. */
#include "../core/buf.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../domain/idcard.h"
#include "../domain/mask.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEN_MAX_PATIENTS 10000000L
#define GEN_MAX_GRIDS 50000
/* A row is well under 2 KiB; the buffer is flushed past GEN_FLUSH_AT. */
#define GEN_BUF_CAP (1024u * 1024u)
#define GEN_FLUSH_AT (256u * 1024u)
/* Birth dates span 1945-01-01 .. 2006-12-31 (22645 days); each day has 500
 * sequence numbers per gender (the parity of the 3-digit sequence). */
#define GEN_BIRTH_DAYS 22645
#define GEN_ID_SPACE ((uint64_t)GEN_BIRTH_DAYS * 500u)
/* A prime that does not divide GEN_ID_SPACE: multiplying by it scrambles
 * patient ids into (birth day, sequence) pairs without collisions. */
#define GEN_ID_MULT 15485863u
#define GEN_DEFAULT_AS_OF "2026-06-30"

/* ---- deterministic randomness --------------------------------------------------- */

typedef struct gen_rng {
    uint64_t s;
} gen_rng;

static uint64_t gen_splitmix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

/* The generator of one row, independent of every other row. */
static void gen_rng_row(gen_rng *r, uint64_t seed, uint64_t row, uint64_t stream)
{
    r->s =
        gen_splitmix(gen_splitmix(seed ^ 0x6A09E667F3BCC909u) ^ row * 0xD1B54A32D192ED03u ^ stream);
    if (r->s == 0)
        r->s = 0x2545F4914F6CDD1Du;
}

/* xorshift64* */
static uint64_t gen_next(gen_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Du;
}

/* Uniform in [0, n), n ≥ 1 and < 2^32. */
static uint32_t gen_below(gen_rng *r, uint32_t n)
{
    return (uint32_t)(((gen_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability p / 1000. */
static bool gen_permille(gen_rng *r, uint32_t p)
{
    return gen_below(r, 1000) < p;
}

/* The sum of n weights. */
static unsigned gen_sum(const unsigned *w, size_t n)
{
    unsigned s = 0;

    for (size_t i = 0; i < n; i++)
        s += w[i];
    return s;
}

/* A weighted choice: weights sum to total. Returns the index. */
static size_t gen_pick(gen_rng *r, const unsigned *w, size_t n, unsigned total)
{
    uint32_t x = gen_below(r, total);

    for (size_t i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

#define GEN_COUNT(a) (sizeof(a) / sizeof(a[0]))
/* A weighted choice from the table `name` with its weights in `name_w`. */
#define GEN_PICK(r, table)                                                                         \
    gen_pick((r), table##_w, GEN_COUNT(table##_w), gen_sum(table##_w, GEN_COUNT(table##_w)))

/* ---- dates as day numbers (days since 1970-01-01) ----------------------------- */

/* Day numbers before 1970 are negative, so "no date" needs its own value. */
#define GEN_NO_DATE LONG_MIN

static long gen_days(int y, int m, int d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void gen_civil(long z, int *y, int *m, int *d)
{
    long era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* ---- what a row is made of ------------------------------------------------------ */

/* Surnames by frequency (per ten thousand, rounded) in the national census. */
static const char *const surname[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "魏",
    "苏", "吕", "丁", "任", "沈", "姚", "卢", "熊", "金", "汪", "付", "万", "龚", "廖", "向",
};
static const unsigned surname_w[] = {
    710, 700, 670, 540, 450, 310, 260, 230, 200, 190, 150, 150, 130, 130, 130,
    120, 120, 110, 110, 100, 100, 90,  80,  80,  80,  70,  70,  70,  70,  70,
    70,  60,  60,  60,  50,  50,  50,  50,  50,  50,  50,  50,  40,  40,  40,
    40,  40,  40,  40,  40,  30,  30,  40,  30,  40,  30,  30,  30,  30,  30,
};

static const char *const given_male[] = {
    "伟", "强", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "斌",
    "波", "建", "国", "志", "海", "峰", "林", "文", "东", "俊", "兵", "磊", "洪", "德", "新",
    "云", "春", "成", "龙", "庆", "生", "良", "福", "荣", "忠", "光", "武", "宏", "祥", "金",
};
static const char *const given_female[] = {
    "芳", "娟", "敏", "静", "丽", "艳", "秀", "英", "霞", "燕", "玲", "桂", "兰", "萍",
    "红", "梅", "琴", "慧", "莉", "娜", "婷", "雪", "琳", "丹", "凤", "洁", "玉", "珍",
    "翠", "华", "春", "香", "菊", "莲", "云", "琼", "芬", "秋", "月", "小",
};

/* Status and its share in per mille. */
static const char *const status_code[] = {
    "in_care",   "registered", "hospitalised", "lost",
    "moved_out", "deceased",   "deregistered", "suspected",
};
static const unsigned status_code_w[] = {860, 40, 30, 20, 10, 20, 10, 10};
enum {
    ST_IN_CARE,
    ST_REGISTERED,
    ST_HOSPITALISED,
    ST_LOST,
    ST_MOVED_OUT,
    ST_DECEASED,
    ST_DEREGISTERED,
    ST_SUSPECTED
};

static const unsigned risk_w[] = {550, 250, 120, 50, 20, 10};

static const char *const diagnosis[] = {
    "schizophrenia",
    "bipolar",
    "intellectual_disability_psychosis",
    "epilepsy_psychosis",
    "paranoid_psychosis",
    "schizoaffective",
};
static const unsigned diagnosis_w[] = {600, 130, 100, 80, 55, 35};

static const char *const hospital[] = {
    "潜江市精神卫生中心", "潜江市中心医院", "武汉市精神卫生中心",
    "荆州市精神卫生中心", "湖北省人民医院",
};
static const unsigned hospital_w[] = {700, 110, 90, 70, 30};

static const char *const employment_rural[] = {"farmer", "unemployed", "worker", "other",
                                               "unknown"};
static const unsigned employment_rural_w[] = {550, 250, 100, 60, 40};
static const char *const employment_urban[] = {
    "unemployed", "worker", "retired", "other", "professional", "manager", "unknown",
};
static const unsigned employment_urban_w[] = {450, 220, 120, 90, 40, 20, 60};

static const char *const death_cause[] = {"illness", "accident", "suicide", "other", "unknown"};
static const unsigned death_cause_w[] = {600, 150, 150, 50, 50};

static const char *const dereg_reason[] = {
    "复诊排除严重精神障碍诊断",
    "迁往外省居住，已转出",
    "经专科复核不再符合管理条件",
};
static const char *const report_note[] = {
    "邻居反映其近期言语紊乱，夜间吵闹，不认识家人",   "网格员走访发现其自言自语，怀疑有人要害他",
    "家属反映其半年来闭门不出，情绪低落，拒绝就医",   "村委会反映其多次与邻居发生冲突，行为异常",
    "派出所转来：在街头游荡，言行怪异，无法正常交流",
};
static const char *const hosp_reason = "病情复发，收治入院";
static const char *const lost_reason = "连续三次随访未见本人，家属称外出务工，联系不上";
static const char *const moved_reason = "随子女迁往外地居住，待办理转出";

static const char *const relation_young[] = {"parent", "sibling", "spouse"};
static const unsigned relation_young_w[] = {600, 200, 200};
static const char *const relation_mid[] = {"spouse", "parent", "sibling", "child"};
static const unsigned relation_mid_w[] = {450, 250, 200, 100};
static const char *const relation_old[] = {"spouse", "child", "sibling"};
static const unsigned relation_old_w[] = {400, 450, 150};
static const char *const relation_assistant[] = {"sibling", "child", "other_relative", "spouse"};
static const unsigned relation_assistant_w[] = {400, 300, 250, 50};

static const char *const capacity[] = {"adequate", "weak", "none"};
static const unsigned capacity_w[] = {850, 110, 40};

#define GEN_SAME_LEN(a, b) _Static_assert(GEN_COUNT(a) == GEN_COUNT(b), #a " and " #b)
GEN_SAME_LEN(surname, surname_w);
GEN_SAME_LEN(status_code, status_code_w);
GEN_SAME_LEN(diagnosis, diagnosis_w);
GEN_SAME_LEN(hospital, hospital_w);
GEN_SAME_LEN(employment_rural, employment_rural_w);
GEN_SAME_LEN(employment_urban, employment_urban_w);
GEN_SAME_LEN(death_cause, death_cause_w);
GEN_SAME_LEN(relation_young, relation_young_w);
GEN_SAME_LEN(relation_mid, relation_mid_w);
GEN_SAME_LEN(relation_old, relation_old_w);
GEN_SAME_LEN(relation_assistant, relation_assistant_w);
GEN_SAME_LEN(capacity, capacity_w);

typedef struct gen_grid {
    int64_t id;
    char path[256];
    char village[260]; /* a name is at most 64 characters (≤ 256 bytes of UTF-8) */
    unsigned weight;   /* resident population, or 1 when unknown */
    bool hot;
    bool rural;
} gen_grid;

typedef struct gen_guardian {
    const char *kind, *relation, *capacity;
    char name[16];
    char phone[12];
    long signed_on; /* GEN_NO_DATE: none */
} gen_guardian;

/* One patient with everything that hangs off it. */
typedef struct gen_row {
    int64_t id;
    const gen_grid *grid;
    int status;
    char name[16];
    bool male;
    bool has_id;
    char idno[JF_IDCARD_LEN + 1];
    long birth; /* GEN_NO_DATE: unknown */
    char phone[12];
    bool has_phone;
    const char *ethnicity;
    char address[320];
    bool rural;
    const char *employment;
    const char *economic;
    bool dibao, tekun, lives_alone, can_drive, family_history, migrant;
    long onset, diag_date, report_date, consent_date; /* GEN_NO_DATE: none */
    const char *diagnosis, *hospital, *note;
    int risk; /* -1: none */
    const char *colour;
    /* events: 'created' and perhaps one 'status' change */
    const char *created_to;
    long created_on;
    const char *change_to, *change_reason, *change_cause;
    long change_on;
    int n_guardians;
    gen_guardian guardian[2];
} gen_row;

typedef struct gen_ctx {
    uint64_t seed;
    long n;
    long hot_count;
    char area[7];
    gen_grid *grids;
    size_t n_grids;
    unsigned hot_total, cold_total; /* sums of weights */
    bool any_cold;
    uint64_t hot_mult; /* coprime with n: spreads the hot rows over the id range */
    int64_t first_id;
    long as_of;
    unsigned char enc_key[32], index_key[32];
} gen_ctx;

static void gen_name(gen_rng *r, bool male, const char *sur, char *out, size_t outlen)
{
    const char *const *given = male ? given_male : given_female;
    size_t ng = male ? sizeof(given_male) / sizeof(given_male[0])
                     : sizeof(given_female) / sizeof(given_female[0]);
    const char *a = given[gen_below(r, (uint32_t)ng)];

    if (gen_permille(r, 300))
        snprintf(out, outlen, "%s%s", sur, a);
    else
        snprintf(out, outlen, "%s%s%s", sur, a, given[gen_below(r, (uint32_t)ng)]);
}

static void gen_phone(gen_rng *r, char out[12])
{
    out[0] = '1';
    out[1] = '3';
    for (int i = 2; i < 11; i++)
        out[i] = (char)('0' + gen_below(r, 10));
    out[11] = '\0';
}

/* A day in [lo, hi]; lo when the range is empty. */
static long gen_day_between(gen_rng *r, long lo, long hi)
{
    if (hi <= lo)
        return lo;
    return lo + (long)gen_below(r, (uint32_t)(hi - lo + 1));
}

static const gen_grid *gen_grid_pick(gen_rng *r, const gen_ctx *c, bool hot)
{
    unsigned total = hot ? c->hot_total : c->cold_total;
    uint32_t x = gen_below(r, total);
    /* When the hot village holds every grid, the other rows go there too. */
    bool all = !hot && !c->any_cold;

    for (size_t i = 0; i < c->n_grids; i++) {
        const gen_grid *g = &c->grids[i];

        if (!all && g->hot != hot)
            continue;
        if (x < g->weight)
            return g;
        x -= g->weight;
    }
    return &c->grids[c->n_grids - 1];
}

/* The 18-digit ID of a patient id: a bijection onto (birth day, sequence). */
static void gen_idno(const gen_ctx *c, int64_t pid, bool male, char out[JF_IDCARD_LEN + 1],
                     long *birth)
{
    uint64_t k = ((uint64_t)pid % GEN_ID_SPACE) * GEN_ID_MULT % GEN_ID_SPACE;
    long day = gen_days(1945, 1, 1) + (long)(k / 500);
    unsigned seq = (unsigned)(k % 500) * 2 + (male ? 1 : 0);
    int y, m, d;

    gen_civil(day, &y, &m, &d);
    snprintf(out, JF_IDCARD_LEN + 1, "%s%04d%02d%02d%03u", c->area, y, m, d, seq);
    out[17] = jf_idcard_check_char(out);
    out[18] = '\0';
    *birth = day;
}

/* Build row i (0-based) from the seed alone. */
static void gen_row_make(const gen_ctx *c, long i, gen_row *p)
{
    gen_rng r;
    const char *sur;
    bool hot, diagnosed, poor;
    long age_days, lo;
    int by, bm, bd, age;

    memset(p, 0, sizeof(*p));
    gen_rng_row(&r, c->seed, (uint64_t)i, 1);
    p->id = c->first_id + i;
    hot = c->hot_count > 0 && (long)((uint64_t)i * c->hot_mult % (uint64_t)c->n) < c->hot_count;
    p->grid = gen_grid_pick(&r, c, hot);
    p->status = (int)GEN_PICK(&r, status_code);
    diagnosed = p->status != ST_SUSPECTED;
    p->male = gen_permille(&r, 520);
    sur = surname[GEN_PICK(&r, surname)];
    gen_name(&r, p->male, sur, p->name, sizeof(p->name));
    p->rural = p->grid->rural ? !gen_permille(&r, 100) : gen_permille(&r, 150);
    snprintf(p->address, sizeof(p->address), "%s%u组%u号", p->grid->village, 1 + gen_below(&r, 12),
             1 + gen_below(&r, 80));
    p->ethnicity = gen_permille(&r, 960) ? "汉族" : gen_permille(&r, 750) ? "土家族" : "回族";
    p->risk = -1;
    p->birth = GEN_NO_DATE;
    p->onset = p->diag_date = p->report_date = p->consent_date = p->change_on = GEN_NO_DATE;

    if (!diagnosed) {
        /* Reported, awaiting diagnosis: no ID number, no diagnosis yet. */
        p->report_date = gen_day_between(&r, c->as_of - 180, c->as_of);
        p->note = report_note[gen_below(&r, sizeof(report_note) / sizeof(report_note[0]))];
        p->employment = "unknown";
        p->economic = "unknown";
        p->created_to = "suspected";
        p->created_on = p->report_date;
        return;
    }

    p->has_id = true;
    gen_idno(c, p->id, p->male, p->idno, &p->birth);
    gen_civil(p->birth, &by, &bm, &bd);
    age_days = c->as_of - p->birth;
    age = (int)(age_days / 365);
    p->has_phone = !gen_permille(&r, 60);
    gen_phone(&r, p->phone);

    if (p->rural)
        p->employment = employment_rural[GEN_PICK(&r, employment_rural)];
    else
        p->employment = employment_urban[GEN_PICK(&r, employment_urban)];
    if (age >= 60 && gen_permille(&r, 500))
        p->employment = p->rural ? "farmer" : "retired";
    if (age < 24 && gen_permille(&r, 300))
        p->employment = "student";

    poor = gen_permille(&r, p->rural ? 380 : 220);
    p->economic = poor ? "poor" : gen_permille(&r, 880) ? "not_poor" : "unknown";
    if (poor) {
        p->tekun = gen_permille(&r, 120);
        p->dibao = !p->tekun && gen_permille(&r, 600);
    }
    p->lives_alone = gen_permille(&r, age >= 55 ? 180 : 90);
    p->can_drive = gen_permille(&r, p->male ? 140 : 30);
    p->family_history = gen_permille(&r, 150);
    p->migrant = gen_permille(&r, 40);

    /* Diagnosed between age 16 (or 1995) and a month before the as-of date;
     * symptoms began weeks to years before. */
    lo = p->birth + 16 * 365;
    if (lo < gen_days(1995, 1, 1))
        lo = gen_days(1995, 1, 1);
    p->diag_date = gen_day_between(&r, lo, c->as_of - 30);
    p->onset = p->diag_date - 30 - (long)gen_below(&r, 1800);
    if (p->onset <= p->birth + 12 * 365)
        p->onset = p->diag_date - 1 - (long)gen_below(&r, 60);
    p->diagnosis = diagnosis[GEN_PICK(&r, diagnosis)];
    p->hospital = hospital[GEN_PICK(&r, hospital)];
    p->consent_date = p->diag_date + (long)gen_below(&r, 15);
    if (p->consent_date > c->as_of)
        p->consent_date = c->as_of;

    p->risk = (int)GEN_PICK(&r, risk);
    if (p->risk >= 3 || p->status == ST_LOST)
        p->colour = "red";
    else if (p->risk >= 1)
        p->colour = p->lives_alone ? "orange" : "yellow";
    else
        p->colour = "green";

    p->created_on = p->diag_date;
    switch (p->status) {
    case ST_IN_CARE:
    case ST_REGISTERED:
        p->created_to = status_code[p->status];
        break;
    default:
        /* Created in care, then one dated change to where the row is now. */
        p->created_to = "in_care";
        p->change_to = status_code[p->status];
        p->change_on = gen_day_between(&r, p->diag_date + 30, c->as_of);
        if (p->status == ST_DECEASED)
            p->change_cause = death_cause[GEN_PICK(&r, death_cause)];
        else if (p->status == ST_DEREGISTERED)
            p->change_reason =
                dereg_reason[gen_below(&r, sizeof(dereg_reason) / sizeof(dereg_reason[0]))];
        else if (p->status == ST_HOSPITALISED)
            p->change_reason = hosp_reason;
        else if (p->status == ST_LOST)
            p->change_reason = lost_reason;
        else
            p->change_reason = moved_reason;
        break;
    }

    if (!gen_permille(&r, 920))
        return;
    for (int g = 0; g < 2; g++) {
        gen_guardian *gd = &p->guardian[g];
        const char *gsur = sur;

        if (g == 0) {
            gd->kind = "primary";
            if (age < 30)
                gd->relation = relation_young[GEN_PICK(&r, relation_young)];
            else if (age < 60)
                gd->relation = relation_mid[GEN_PICK(&r, relation_mid)];
            else
                gd->relation = relation_old[GEN_PICK(&r, relation_old)];
            gd->capacity = capacity[GEN_PICK(&r, capacity)];
            gd->signed_on = gen_permille(&r, 700)
                                ? gen_day_between(&r, p->diag_date, p->diag_date + 90)
                                : GEN_NO_DATE;
        } else {
            if (!gen_permille(&r, 400))
                break;
            gd->kind = "assistant";
            gd->relation = relation_assistant[GEN_PICK(&r, relation_assistant)];
            gd->capacity = gen_permille(&r, 900) ? "adequate" : "weak";
            gd->signed_on = GEN_NO_DATE;
        }
        if (gd->signed_on > c->as_of)
            gd->signed_on = c->as_of;
        /* A spouse (or a married daughter's family) usually has another surname. */
        if (strcmp(gd->relation, "spouse") == 0 || strcmp(gd->relation, "other_relative") == 0 ||
            (strcmp(gd->relation, "parent") == 0 && gen_permille(&r, 400)))
            gsur = surname[GEN_PICK(&r, surname)];
        gen_name(&r, gen_permille(&r, 500), gsur, gd->name, sizeof(gd->name));
        gen_phone(&r, gd->phone);
        p->n_guardians = g + 1;
    }
}

/* ---- COPY text format ------------------------------------------------------------ */

/* Append s escaped for COPY text format; NULL is \N. */
static int copy_str(jf_buf *b, const char *s)
{
    const char *run = s;
    int rc = 0;

    if (s == NULL)
        return jf_buf_append(b, "\\N", 2);
    for (; *s != '\0' && rc == 0; s++) {
        const char *esc = NULL;

        switch (*s) {
        case '\\':
            esc = "\\\\";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        default:
            continue;
        }
        rc = jf_buf_append(b, run, (size_t)(s - run));
        if (rc == 0)
            rc = jf_buf_append(b, esc, 2);
        run = s + 1;
    }
    if (rc == 0)
        rc = jf_buf_append(b, run, strlen(run));
    return rc;
}

static int copy_date(jf_buf *b, long day)
{
    int y, m, d;

    if (day == GEN_NO_DATE)
        return jf_buf_append(b, "\\N", 2);
    gen_civil(day, &y, &m, &d);
    return jf_buf_printf(b, "%04d-%02d-%02d", y, m, d);
}

/* bytea in COPY text: the bytea input "\x<hex>", its backslash doubled. */
static int copy_bytea(jf_buf *b, const unsigned char *p, size_t n)
{
    char hex[2 * 64 + 1];

    if (n > 64)
        return JF_ERR_TOO_LARGE;
    jf_crypto_hex(p, n, hex);
    return jf_buf_printf(b, "\\\\x%s", hex);
}

static int copy_tab(jf_buf *b)
{
    return jf_buf_append(b, "\t", 1);
}

static int copy_flush(PGconn *pg, jf_buf *b, bool force)
{
    if (b->len == 0 || (!force && b->len < GEN_FLUSH_AT))
        return 0;
    if (PQputCopyData(pg, b->data, (int)b->len) != 1) {
        fprintf(stderr, "jingfang-gen: COPY: %s", PQerrorMessage(pg));
        return JF_ERR_DB;
    }
    jf_buf_reset(b);
    return 0;
}

/* End a COPY started with PQexec; 0 when the server accepted every row. */
static int copy_end(PGconn *pg, jf_buf *b, int rc)
{
    PGresult *res;

    if (rc == 0)
        rc = copy_flush(pg, b, true);
    if (PQputCopyEnd(pg, rc == 0 ? NULL : "jingfang-gen aborted") != 1) {
        fprintf(stderr, "jingfang-gen: COPY end: %s", PQerrorMessage(pg));
        rc = JF_ERR_DB;
    }
    while ((res = PQgetResult(pg)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
            fprintf(stderr, "jingfang-gen: COPY: %s", PQerrorMessage(pg));
            rc = JF_ERR_DB;
        }
        PQclear(res);
    }
    return rc;
}

static int copy_begin(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    int rc = PQresultStatus(res) == PGRES_COPY_IN ? 0 : JF_ERR_DB;

    if (rc != 0)
        fprintf(stderr, "jingfang-gen: %s", PQerrorMessage(pg));
    PQclear(res);
    return rc;
}

/* One patients row, tab-separated, in the column order of copy_patients. */
static int row_patient(const gen_ctx *c, const gen_row *p, jf_buf *b)
{
    unsigned char cipher[JF_IDCARD_LEN + JF_GCM_IV_LEN + JF_GCM_TAG_LEN];
    unsigned char index[JF_SHA256_LEN];
    char masked[JF_IDCARD_LEN + 1], phone_masked[16];
    int rc;

    rc = jf_buf_printf(b, "%" PRId64 "\t%" PRId64 "\t", p->id, p->grid->id);
    if (rc == 0)
        rc = copy_str(b, p->grid->path);
    if (rc == 0)
        rc = jf_buf_printf(b, "\t%s\t", status_code[p->status]);
    if (rc == 0)
        rc = copy_str(b, p->name);
    if (rc == 0)
        rc = copy_tab(b);
    if (rc == 0 && p->has_id) {
        rc = jf_crypto_seal(c->enc_key, "patient-id", 10, p->idno, JF_IDCARD_LEN, cipher);
        jf_crypto_hmac_sha256(c->index_key, sizeof(c->index_key), p->idno, JF_IDCARD_LEN, index);
        jf_mask_idcard(p->idno, masked, sizeof(masked));
        if (rc == 0)
            rc = copy_bytea(b, cipher, sizeof(cipher));
        if (rc == 0)
            rc = copy_tab(b);
        if (rc == 0)
            rc = copy_bytea(b, index, sizeof(index));
        if (rc == 0)
            rc = jf_buf_printf(b, "\t%s\t", masked);
    } else if (rc == 0) {
        rc = jf_buf_puts(b, "\\N\t\\N\t\\N\t");
    }
    if (rc == 0)
        rc = jf_buf_printf(b, "%s\t", p->male ? "male" : "female");
    if (rc == 0)
        rc = copy_date(b, p->birth);
    if (rc == 0 && p->has_phone) {
        jf_mask_phone(p->phone, phone_masked, sizeof(phone_masked));
        rc = jf_buf_printf(b, "\t%s\t%s\t", p->phone, phone_masked);
    } else if (rc == 0) {
        rc = jf_buf_puts(b, "\t\\N\t\\N\t");
    }
    if (rc == 0)
        rc = copy_str(b, p->ethnicity);
    if (rc == 0)
        rc = copy_tab(b);
    if (rc == 0)
        rc = copy_str(b, p->address);
    /* 户籍地: the area of the ID plus the township's 3 digits; same address
     * unless the person is a migrant (registered elsewhere, address unknown). */
    if (rc == 0)
        rc = jf_buf_printf(b, "\t%s003\t", c->area);
    if (rc == 0)
        rc = copy_str(b, p->migrant ? NULL : p->address);
    if (rc == 0)
        rc = jf_buf_printf(b, "\t%s\t", p->has_id ? (p->rural ? "rural" : "urban") : "\\N");
    if (rc == 0)
        rc = jf_buf_printf(b, "%s\t%s\t", p->employment, p->economic);
    if (rc == 0)
        rc =
            jf_buf_printf(b, "%c\t%c\t%c\t%c\t%c\t%c\t", p->dibao ? 't' : 'f', p->tekun ? 't' : 'f',
                          p->lives_alone ? 't' : 'f', p->can_drive ? 't' : 'f',
                          p->family_history ? 't' : 'f', p->migrant ? 't' : 'f');
    if (rc == 0)
        rc = jf_buf_puts(b, p->has_id ? "agreed\t" : "\\N\t");
    if (rc == 0)
        rc = copy_date(b, p->consent_date);
    if (rc == 0)
        rc = copy_tab(b);
    if (rc == 0)
        rc = copy_date(b, p->onset);
    if (rc == 0)
        rc = copy_tab(b);
    if (rc == 0)
        rc = copy_str(b, p->diagnosis);
    if (rc == 0)
        rc = copy_tab(b);
    if (rc == 0)
        rc = copy_str(b, p->hospital);
    if (rc == 0)
        rc = copy_tab(b);
    if (rc == 0)
        rc = copy_date(b, p->diag_date);
    if (rc == 0)
        rc = copy_tab(b);
    if (rc == 0)
        rc = copy_str(b, p->note);
    if (rc == 0)
        rc = copy_tab(b);
    if (rc == 0)
        rc = p->risk < 0 ? jf_buf_puts(b, "\\N\t\\N\t")
                         : jf_buf_printf(b, "%d\t%s\t", p->risk, p->colour);
    if (rc == 0) {
        /* key_flags, derived from the row */
        const char *sep = "";

        rc = jf_buf_puts(b, "[");
#define FLAG(cond, code)                                                                           \
    if (rc == 0 && (cond)) {                                                                       \
        rc = jf_buf_printf(b, "%s\"%s\"", sep, code);                                              \
        sep = ",";                                                                                 \
    }
        FLAG(p->risk >= 3, "risk_3_plus")
        FLAG(p->lives_alone, "lives_alone")
        FLAG(p->can_drive, "can_drive")
        FLAG(p->family_history, "family_history")
        FLAG(p->tekun, "extreme_poverty")
        FLAG(p->migrant, "migrant")
        FLAG(p->status == ST_LOST, "ever_lost")
#undef FLAG
        if (rc == 0)
            rc = jf_buf_puts(b, "]\n");
    }
    return rc;
}

static const char copy_patients[] =
    "COPY patients (id, org_unit_id, org_path, status, name, id_cipher, id_index, id_masked, "
    "gender, birth_date, phone, phone_masked, ethnicity, address, hukou_area_code, hukou_address, "
    "household_type, employment, economic_status, dibao, tekun, lives_alone, can_drive, "
    "family_history, migrant, consent, consent_date, onset_date, diagnosis, diagnosing_hospital, "
    "diagnosis_date, report_note, risk_level, colour, key_flags) FROM STDIN";

static int row_events(const gen_row *p, jf_buf *b, long *count)
{
    int rc = jf_buf_printf(b, "%" PRId64 "\tcreated\t", p->id);

    if (rc == 0)
        rc = copy_date(b, p->created_on);
    if (rc == 0)
        rc = jf_buf_printf(b, "\t\\N\t%s\t\\N\t\\N\n", p->created_to);
    ++*count;
    if (rc != 0 || p->change_to == NULL)
        return rc;
    rc = jf_buf_printf(b, "%" PRId64 "\tstatus\t", p->id);
    if (rc == 0)
        rc = copy_date(b, p->change_on);
    if (rc == 0)
        rc = jf_buf_printf(b, "\t%s\t%s\t", p->created_to, p->change_to);
    if (rc == 0)
        rc = copy_str(b, p->change_reason);
    if (rc == 0)
        rc = copy_tab(b);
    if (rc == 0)
        rc = copy_str(b, p->change_cause);
    if (rc == 0)
        rc = jf_buf_append(b, "\n", 1);
    ++*count;
    return rc;
}

static const char copy_events[] =
    "COPY patient_events (patient_id, kind, event_date, from_status, to_status, reason, "
    "death_cause) FROM STDIN";

static int row_guardians(const gen_row *p, jf_buf *b, long *count)
{
    int rc = 0;

    for (int g = 0; g < p->n_guardians && rc == 0; g++) {
        const gen_guardian *gd = &p->guardian[g];
        char phone_masked[16];

        jf_mask_phone(gd->phone, phone_masked, sizeof(phone_masked));
        rc = jf_buf_printf(b, "%" PRId64 "\t%s\t", p->id, gd->kind);
        if (rc == 0)
            rc = copy_str(b, gd->name);
        if (rc == 0)
            rc = jf_buf_printf(b, "\t%s\t%s\t%s\t", gd->relation, gd->phone, phone_masked);
        if (rc == 0)
            rc = copy_str(b, p->address);
        if (rc == 0)
            rc = jf_buf_printf(b, "\t%s\t", gd->capacity);
        if (rc == 0)
            rc = copy_date(b, gd->signed_on);
        if (rc == 0)
            rc = copy_tab(b);
        if (rc == 0)
            rc = copy_date(b, gd->signed_on);
        if (rc == 0)
            rc = jf_buf_append(b, "\n", 1);
        ++*count;
    }
    return rc;
}

static const char copy_guardians[] =
    "COPY guardians (patient_id, kind, name, relation, phone, phone_masked, address, capacity, "
    "agreement_signed_on, responsibility_notice_on) FROM STDIN";

enum gen_stream { GEN_PATIENTS, GEN_EVENTS, GEN_GUARDIANS };

/* Stream one table: regenerate every row and send the part that belongs to it. */
static int gen_stream(PGconn *pg, const gen_ctx *c, enum gen_stream which, long *count)
{
    static const char *const sql[] = {copy_patients, copy_events, copy_guardians};
    jf_buf b;
    gen_row row;
    int rc;

    jf_buf_init(&b, GEN_BUF_CAP);
    *count = 0;
    rc = copy_begin(pg, sql[which]);
    if (rc != 0)
        goto out;
    for (long i = 0; i < c->n && rc == 0; i++) {
        gen_row_make(c, i, &row);
        if (which == GEN_PATIENTS) {
            rc = row_patient(c, &row, &b);
            ++*count;
        } else if (which == GEN_EVENTS) {
            rc = row_events(&row, &b, count);
        } else {
            rc = row_guardians(&row, &b, count);
        }
        if (rc == 0)
            rc = copy_flush(pg, &b, false);
    }
    if (rc != 0 && rc != JF_ERR_DB)
        fprintf(stderr, "jingfang-gen: building rows: %s\n", jf_err_str(rc));
    rc = copy_end(pg, &b, rc);
out:
    jf_buf_free(&b);
    return rc;
}

/* ---- database set-up ------------------------------------------------------------- */

/* Run a statement with text parameters; returns the result when it succeeded
 * (caller PQclears), else NULL after printing why. */
static PGresult *gen_query(PGconn *pg, const char *sql, int n, const char *const *params)
{
    PGresult *res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    fprintf(stderr, "jingfang-gen: %s", PQerrorMessage(pg));
    PQclear(res);
    return NULL;
}

static int gen_exec(PGconn *pg, const char *sql)
{
    PGresult *res = gen_query(pg, sql, 0, NULL);

    if (res == NULL)
        return JF_ERR_DB;
    PQclear(res);
    return 0;
}

/* "…村" is a village (rural); "…社区" a community (urban). */
static bool gen_is_rural(const char *village)
{
    size_t n = strlen(village);

    return n >= 3 && memcmp(village + n - 3, "村", 3) == 0;
}

static int gen_load_grids(PGconn *pg, gen_ctx *c, const char *township, const char *hot_village)
{
    static const char sql[] =
        "SELECT g.id, g.path, v.name, coalesce(g.population, 0), "
        "       $2::text IS NOT NULL AND v.code = $2 "
        "  FROM org_units g JOIN org_units v ON v.id = g.parent_id "
        " WHERE g.level = 'grid' "
        "   AND starts_with(g.path, (SELECT path FROM org_units WHERE code = $1)) "
        " ORDER BY g.id";
    const char *params[2] = {township, hot_village};
    PGresult *res = gen_query(pg, sql, 2, params);
    int rc = 0, n;

    if (res == NULL)
        return JF_ERR_DB;
    n = PQntuples(res);
    if (n == 0 || n > GEN_MAX_GRIDS) {
        fprintf(stderr, "jingfang-gen: township %s has %d grids (need 1 to %d)\n", township, n,
                GEN_MAX_GRIDS);
        rc = JF_ERR_NOT_FOUND;
        goto out;
    }
    c->grids = calloc((size_t)n, sizeof(*c->grids));
    if (c->grids == NULL) {
        rc = JF_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        gen_grid *g = &c->grids[i];
        long pop = strtol(PQgetvalue(res, i, 3), NULL, 10);

        g->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        snprintf(g->path, sizeof(g->path), "%s", PQgetvalue(res, i, 1));
        snprintf(g->village, sizeof(g->village), "%s", PQgetvalue(res, i, 2));
        g->rural = gen_is_rural(g->village);
        g->weight = pop > 0 ? (unsigned)(pop < 50000 ? pop : 50000) : 1; /* sums stay in 32 bits */
        g->hot = PQgetvalue(res, i, 4)[0] == 't';
        if (g->hot)
            c->hot_total += g->weight;
        else
            c->cold_total += g->weight;
    }
    c->n_grids = (size_t)n;
    c->any_cold = c->cold_total > 0;
    if (!c->any_cold)
        c->cold_total = c->hot_total;
    if (hot_village != NULL && c->hot_total == 0) {
        fprintf(stderr, "jingfang-gen: village %s has no grids in township %s\n", hot_village,
                township);
        rc = JF_ERR_NOT_FOUND;
    }
out:
    PQclear(res);
    return rc;
}

/* Reserve n patient ids in one step; the first one goes to c->first_id. */
static int gen_reserve_ids(PGconn *pg, gen_ctx *c)
{
    static const char sql[] =
        "SELECT setval(pg_get_serial_sequence('patients', 'id'), "
        "              nextval(pg_get_serial_sequence('patients', 'id')) + $1::bigint - 1)";
    char n[32];
    const char *params[1] = {n};
    PGresult *res;
    int64_t last;

    snprintf(n, sizeof(n), "%ld", c->n);
    res = gen_query(pg, sql, 1, params);
    if (res == NULL)
        return JF_ERR_DB;
    last = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    c->first_id = last - c->n + 1;
    if ((uint64_t)last >= GEN_ID_SPACE) {
        fprintf(stderr, "jingfang-gen: patient ids beyond %" PRIu64 " would repeat ID numbers\n",
                GEN_ID_SPACE);
        return JF_ERR_TOO_LARGE;
    }
    return 0;
}

/* ---- command line ---------------------------------------------------------------- */

static int gen_hexkey(const char *env, unsigned char key[32])
{
    const char *v = getenv(env);

    if (v == NULL || strlen(v) != 64)
        goto bad;
    for (size_t i = 0; i < 32; i++) {
        char pair[3] = {v[2 * i], v[2 * i + 1], '\0'};
        char *end = NULL;
        unsigned long x;

        if (strspn(pair, "0123456789abcdefABCDEF") != 2)
            goto bad;
        x = strtoul(pair, &end, 16);
        key[i] = (unsigned char)x;
    }
    return 0;
bad:
    fprintf(stderr, "jingfang-gen: %s must be set to 64 hex digits (32 bytes)\n", env);
    return JF_ERR_INVALID;
}

static int gen_long(const char *opt, const char *v, long min, long max, long *out)
{
    char *end = NULL;
    long n;

    errno = 0;
    n = v ? strtol(v, &end, 10) : 0;
    if (v == NULL || errno != 0 || end == v || *end != '\0' || n < min || n > max) {
        fprintf(stderr, "jingfang-gen: %s needs a whole number from %ld to %ld\n", opt, min, max);
        return JF_ERR_INVALID;
    }
    *out = n;
    return 0;
}

static int gen_date_arg(const char *v, long *out)
{
    int y, m, d, y2, m2, d2;
    char tail;

    if (v == NULL || sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 2000 || y > 2100 ||
        m < 1 || m > 12 || d < 1 || d > 31)
        goto bad;
    *out = gen_days(y, m, d);
    gen_civil(*out, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        goto bad; /* Feb 30 and the like */
    return 0;
bad:
    fprintf(stderr, "jingfang-gen: --as-of needs a date YYYY-MM-DD (2000-2100)\n");
    return JF_ERR_INVALID;
}

static void gen_usage(void)
{
    fputs("usage: jingfang-gen [--patients N] [--township CODE] "
          "[--hot-village CODE --hot-count K]\n"
          "                    [--seed S] [--as-of YYYY-MM-DD] [--if-empty]\n"
          "Loads N synthetic patients (default 300) into the grids of township CODE\n"
          "(default 429005003); K of them into the grids of one village. Needs JF_DB_URL,\n"
          "JF_ID_ENC_KEY and JF_ID_INDEX_KEY.\n",
          stderr);
}

static uint64_t gen_gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;

        a = b;
        b = t;
    }
    return a;
}

static double gen_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *url = getenv("JF_DB_URL");
    const char *township = "429005003", *hot_village = NULL;
    long seed = 1, hot_count = 0;
    bool if_empty = false;
    gen_ctx c;
    PGconn *pg = NULL;
    PGresult *res = NULL;
    long n_events = 0, n_guardians = 0, n_rows = 0;
    double t0 = gen_now();
    int rc = 0;

    memset(&c, 0, sizeof(c));
    c.n = 300;
    if (gen_date_arg(GEN_DEFAULT_AS_OF, &c.as_of) != 0)
        return 2;

    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--patients") == 0) {
            rc = gen_long(a, v, 1, GEN_MAX_PATIENTS, &c.n);
            i++;
        } else if (strcmp(a, "--township") == 0 && v != NULL) {
            township = v;
            i++;
        } else if (strcmp(a, "--hot-village") == 0 && v != NULL) {
            hot_village = v;
            i++;
        } else if (strcmp(a, "--hot-count") == 0) {
            rc = gen_long(a, v, 0, GEN_MAX_PATIENTS, &hot_count);
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            rc = gen_long(a, v, 0, 0x7FFFFFFFL, &seed);
            i++;
        } else if (strcmp(a, "--as-of") == 0) {
            rc = gen_date_arg(v, &c.as_of);
            i++;
        } else if (strcmp(a, "--if-empty") == 0) {
            if_empty = true;
        } else {
            rc = JF_ERR_INVALID;
        }
    }
    if (rc == 0 && (hot_village == NULL) != (hot_count == 0))
        rc = JF_ERR_INVALID;
    if (rc == 0 && hot_count > c.n) {
        fprintf(stderr, "jingfang-gen: --hot-count exceeds --patients\n");
        rc = JF_ERR_INVALID;
    }
    if (rc != 0) {
        gen_usage();
        return 2;
    }
    c.seed = (uint64_t)seed;
    c.hot_count = hot_count;

    /* The township code's first 6 digits are the area of every generated ID. */
    if (strlen(township) < 9 || strspn(township, "0123456789") < 6) {
        fprintf(stderr,
                "jingfang-gen: %s is not a township code (9 or more characters, "
                "the first 6 an area code)\n",
                township);
        return 2;
    }
    memcpy(c.area, township, 6);
    c.area[6] = '\0';
    {
        jf_idcard probe;
        char sample[JF_IDCARD_LEN + 1];
        long birth;

        gen_idno(&c, 1, true, sample, &birth);
        if (jf_idcard_parse(sample, 99991231, &probe) != JF_IDCARD_OK) {
            fprintf(stderr, "jingfang-gen: %s is not a valid area code for ID numbers\n", c.area);
            return 2;
        }
    }
    if (gen_hexkey("JF_ID_ENC_KEY", c.enc_key) != 0 ||
        gen_hexkey("JF_ID_INDEX_KEY", c.index_key) != 0)
        return 2;

    /* Spread the hot rows over the id range: i → i·mult mod n is a permutation. */
    c.hot_mult = 2654435761u % (uint64_t)c.n;
    while (c.hot_mult == 0 || gen_gcd(c.hot_mult, (uint64_t)c.n) != 1)
        c.hot_mult = (c.hot_mult + 1) % (uint64_t)c.n;

    pg = PQconnectdb(url ? url : "dbname=jingfang");
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "jingfang-gen: connect: %s", PQerrorMessage(pg));
        rc = JF_ERR_UNAVAILABLE;
        goto out;
    }
    rc = gen_exec(pg, "BEGIN");
    if (rc != 0)
        goto out;
    /* Two generators at once would both find the township empty. */
    rc = gen_exec(pg, "SELECT pg_advisory_xact_lock(hashtext('jingfang-gen'))");
    if (rc != 0)
        goto out;
    if (if_empty) {
        const char *params[1] = {township};

        res = gen_query(pg,
                        "SELECT count(*) FROM (SELECT 1 FROM patients WHERE starts_with(org_path, "
                        "(SELECT path FROM org_units WHERE code = $1)) LIMIT 1) x",
                        1, params);
        if (res == NULL) {
            rc = JF_ERR_DB;
            goto out;
        }
        if (strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
            fprintf(stderr, "jingfang-gen: township %s already has patients; nothing generated\n",
                    township);
            goto out;
        }
        PQclear(res);
        res = NULL;
    }
    rc = gen_load_grids(pg, &c, township, hot_village);
    if (rc == 0)
        rc = gen_reserve_ids(pg, &c);
    if (rc == 0)
        rc = gen_stream(pg, &c, GEN_PATIENTS, &n_rows);
    if (rc == 0)
        rc = gen_stream(pg, &c, GEN_EVENTS, &n_events);
    if (rc == 0)
        rc = gen_stream(pg, &c, GEN_GUARDIANS, &n_guardians);
    if (rc == 0)
        rc = gen_exec(pg, "COMMIT");
    if (rc == 0)
        fprintf(stderr,
                "generated %ld patients (ids %" PRId64 "-%" PRId64 ", %ld events, %ld guardians, "
                "%ld in village %s, township %s, seed %ld) in %.2f s\n",
                n_rows, c.first_id, c.first_id + c.n - 1, n_events, n_guardians, c.hot_count,
                hot_village ? hot_village : "-", township, seed, gen_now() - t0);
out:
    PQclear(res);
    PQfinish(pg);
    free(c.grids);
    return rc == 0 ? 0 : 1;
}
