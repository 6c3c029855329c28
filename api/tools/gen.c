/* jingfang-gen: realistic synthetic patients, with events, guardians and two
 * years of clinical history, for the demo and benchmarks.
 *
 * Usage: jingfang-gen [--patients N] [--township CODE] [--hot-village CODE --hot-count K]
 *                     [--seed S] [--as-of YYYY-MM-DD] [--follow-ups-per-year F]
 *                     [--history-days D] [--if-empty]
 *
 * Connection from JF_DB_URL (libpq conninfo); the ID-number keys from
 * JF_ID_ENC_KEY and JF_ID_INDEX_KEY (64 hex digits each), used exactly as the
 * API uses them: id_cipher = AES-256-GCM(aad "patient-id"), id_index =
 * HMAC-SHA256. Everything happens in one transaction and is streamed with
 * COPY: rows are built one at a time in a capped buffer, never all at once.
 *
 * Output depends only on the seed, the as-of date, the options and the ids
 * the sequences hand out: every row is derived from (seed, row number), so
 * the COPY streams (patients, events, guardians, follow-ups, assessments,
 * hospitalisations, incidents, prescriptions, pick-ups, health checks)
 * regenerate the same patient instead of keeping it. The 18-digit ID is a
 * bijection of the patient id (birth date 1945-2006 and sequence number), so
 * IDs never collide, not even across runs into the same database, up to
 * GEN_ID_SPACE patient ids.
 *
 * Clinical history. Every diagnosed patient on the register (registered,
 * in care, hospitalised, lost, moved out) gets a follow-up history over the
 * last two years (or since registration), played forward visit by visit:
 * each reached visit is classified by jf_followup_classify and the next one
 * is aimed at the due date of jf_followup_next_due under the colour tier of
 * jf_tier_compute (the tier configuration is read from the database), the
 * same rules the API applies; a visit is mostly on time, sometimes weeks
 * late, and about one in twelve does not reach the patient. The patient's
 * derived state (next due date, colour, flags, misses) is left to
 * `jingfang-api recompute`, which the operator runs after loading. */
#include "../core/buf.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../domain/followup.h"
#include "../domain/idcard.h"
#include "../domain/mask.h"
#include "../domain/tier.h"

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
/* The visit history covers at most this many days before the as-of date
 * (--history-days: a shorter window for a register too large for the disk). */
#define GEN_WINDOW_DAYS 730
/* Bounds of one patient's history, kept while its rows are written. */
#define GEN_MAX_VISITS 256
#define GEN_MAX_DATES 64
/* One row of the clinical tables is at most this long (checked as built). */
#define GEN_ROW_MAX 8192

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

/* Risk level 0-5 of a patient on the register: most are calm, one in six
 * threatens or breaks things at home, a few per cent are at level 3 or above. */
static const unsigned risk_w[] = {820, 110, 40, 18, 7, 5};

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
    /* The responsible doctor: the one whose unit holds the grid most
     * closely (0: none), and the name as visitors show it, COPY-escaped. */
    int64_t doctor_id;
    char doctor_name[140];
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
    long miss_on[3]; /* lost: the three visits that did not reach the patient */
    int n_guardians;
    gen_guardian guardian[2];
    bool capable_guardian; /* a guardian of adequate capacity */
    int age;
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
    double fu_per_year;  /* 0: no follow-up history */
    double fu_interval;  /* 365 / fu_per_year days */
    long window;         /* days of history before as_of, ≤ GEN_WINDOW_DAYS */
    jf_tier_config tier; /* as configured in the database */
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
    p->age = age;
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
    /* Registered (在册) but not yet in care: diagnosed in the last weeks,
     * awaiting the first follow-up. */
    if (p->status == ST_REGISTERED)
        p->diag_date = c->as_of - (long)gen_below(&r, 20);
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
        /* Who is in hospital, lost or leaving became so recently. */
        if (p->status == ST_HOSPITALISED)
            p->change_on = c->as_of - 2 - (long)gen_below(&r, 150);
        else if (p->status == ST_MOVED_OUT)
            p->change_on = c->as_of - 3 - (long)gen_below(&r, 120);
        else if (p->status == ST_LOST)
            p->change_on = c->as_of - 7 - (long)gen_below(&r, 320);
        if (p->change_on < p->diag_date + 30)
            p->change_on = p->diag_date + 30;
        if (p->status == ST_LOST) {
            /* Lost on the third visit in a row that found no one. */
            p->miss_on[2] = p->change_on;
            p->miss_on[1] = p->miss_on[2] - 14 - (long)gen_below(&r, 22);
            p->miss_on[0] = p->miss_on[1] - 14 - (long)gen_below(&r, 22);
            if (p->miss_on[0] <= p->diag_date) {
                p->miss_on[0] = p->diag_date + 8;
                p->miss_on[1] = p->diag_date + 19;
            }
        }
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
        p->capable_guardian = p->capable_guardian || strcmp(gd->capacity, "adequate") == 0;
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
            rc = jf_buf_puts(b, "]\t");
    }
    /* registered_on, doctor_id */
    if (rc == 0)
        rc = copy_date(b, p->has_id ? p->diag_date : GEN_NO_DATE);
    if (rc == 0)
        rc = p->has_id && p->grid->doctor_id > 0
                 ? jf_buf_printf(b, "\t%" PRId64 "\n", p->grid->doctor_id)
                 : jf_buf_puts(b, "\t\\N\n");
    return rc;
}

static const char copy_patients[] =
    "COPY patients (id, org_unit_id, org_path, status, name, id_cipher, id_index, id_masked, "
    "gender, birth_date, phone, phone_masked, ethnicity, address, hukou_area_code, hukou_address, "
    "household_type, employment, economic_status, dibao, tekun, lives_alone, can_drive, "
    "family_history, migrant, consent, consent_date, onset_date, diagnosis, diagnosing_hospital, "
    "diagnosis_date, report_note, risk_level, colour, key_flags, registered_on, doctor_id) "
    "FROM STDIN";

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

/* ---- clinical history: what it is made of ------------------------------------------ */

/* The codes of the national follow-up form, as the API accepts them. */
static const char *const fu_mode[] = {"clinic", "home", "phone"};
static const char *const fu_informant[] = {"patient", "family", "other"};
static const char *const fu_unreached[] = {"out_for_work", "moved", "missing", "refused", "other"};
static const unsigned fu_unreached_w[] = {450, 90, 80, 200, 180};
static const char *const fu_unreached_note[] = {
    "家属称其外出务工，电话联系不上", "已随家人迁居他处，新住址待核实",
    "家中无人，邻居称近期未见本人",   "本人及家属拒绝接受随访",
    "上门未遇，已留联系卡",
};
static const char *const fu_symptom[] = {
    "hallucination", "communication_difficulty", "suspicion",      "mood_swings",
    "odd_behaviour", "excited_talkative",        "violence",       "pessimism",
    "wandering",     "talking_to_self",          "withdrawn_lazy", "other",
};
/* How often each symptom remains in a patient not quite well, and in a relapse. */
static const unsigned sym_residual_w[] = {120, 80, 140, 90, 50, 20, 5, 60, 10, 150, 250, 25};
static const unsigned sym_acute_w[] = {220, 90, 200, 90, 130, 90, 60, 30, 50, 90, 50, 10};
static const char *const fu_level[] = {"good", "fair", "poor", "na"};
enum { LV_GOOD, LV_FAIR, LV_POOR, LV_NA };
static const char *const fu_insight[] = {"complete", "partial", "absent"};
static const char *const fu_compliance[] = {"regular", "intermittent", "none", "not_required"};
enum { CO_REGULAR, CO_INTERMITTENT, CO_NONE, CO_NOT_REQUIRED };
static const unsigned fu_compliance_w[] = {780, 130, 50, 40};
static const char *const fu_adverse[] = {"yes", "no", "na"};
static const char *const fu_effect[] = {"recovered", "improved", "unchanged", "worse", "na"};
static const char *const fu_rehab[] = {"life_skills", "vocational", "social", "psychological",
                                       "other"};
/* Incident kinds, which are also the dangerous-act codes of the form. */
static const char *const incident_kind[] = {"mild_trouble", "trouble", "disaster"};
static const char *const incident_place[] = {
    "家中", "邻居家", "村口", "集贸市场", "村委会门口", "街道路口", "田间", "小区楼道",
};
static const char *const incident_what[] = {
    "与邻居发生口角，摔砸自家物品，经家属和村干部劝说后平息",
    "在公共场所无故追打他人，毁坏财物，经派出所民警到场处置",
    "持械伤人，造成他人受伤，民警到场控制后强制送医",
};
static const char *const hosp_reason_text[] = {
    "病情复发，幻听加重，夜间吵闹不眠",
    "自行停药后病情波动，家属送诊",
    "冲动毁物，言行紊乱，收治入院",
};
static const char *const hosp_forced_reason = "冲动伤人，经派出所协助强制送医";
static const char *const discharge_note[] = {
    "病情好转出院，嘱规律服药，社区随访",
    "症状基本控制，带药出院，监护人陪同",
    "病情稳定出院，建议门诊定期复诊",
};
static const char *const picked_by[] = {"本人", "家属", "监护人"};
static const unsigned picked_by_w[] = {500, 400, 100};
/* Health-check items (严重精神障碍患者年度健康体检), as the API codes them:
 * the physical examination always, most of the tests, lipids less often. */
static const char *const check_item[] = {
    "physical_exam", "blood_routine", "liver_function", "blood_glucose", "ecg", "blood_lipids",
};
static const unsigned check_item_w[] = {1000, 850, 800, 800, 700, 450};
static const char *const check_note[] = {
    "血压偏高，建议复查",
    "血糖偏高，建议内科就诊",
    "体重增加明显，嘱控制饮食",
};

/* Patients' states in a visit: well, with symptoms left, or in a relapse. */
enum { GS_CLEAR, GS_RESIDUAL, GS_ACUTE };

typedef struct gen_regimen {
    const char *drug;
    double morning, noon, evening; /* mg, by mouth */
    int every_weeks;               /* > 0: a long-acting injection of dose_mg */
    double dose_mg;
    int kind;   /* 0 antipsychotic, 1 mood stabiliser, 2 long-acting */
    unsigned w; /* share within its kind */
} gen_regimen;

static const gen_regimen regimen[] = {
    {"利培酮", 1, 0, 2, 0, 0, 0, 120},          {"利培酮", 2, 0, 2, 0, 0, 0, 80},
    {"利培酮", 1, 0, 1, 0, 0, 0, 50},           {"利培酮", 2, 0, 3, 0, 0, 0, 30},
    {"奥氮平", 0, 0, 10, 0, 0, 0, 90},          {"奥氮平", 0, 0, 5, 0, 0, 0, 50},
    {"奥氮平", 5, 0, 10, 0, 0, 0, 30},          {"奥氮平", 0, 0, 15, 0, 0, 0, 25},
    {"阿立哌唑", 10, 0, 0, 0, 0, 0, 50},        {"阿立哌唑", 5, 0, 0, 0, 0, 0, 30},
    {"阿立哌唑", 15, 0, 0, 0, 0, 0, 25},        {"喹硫平", 100, 0, 200, 0, 0, 0, 35},
    {"喹硫平", 200, 0, 300, 0, 0, 0, 20},       {"氯氮平", 25, 0, 100, 0, 0, 0, 55},
    {"氯氮平", 50, 0, 150, 0, 0, 0, 35},        {"氯氮平", 0, 0, 50, 0, 0, 0, 20},
    {"帕利哌酮", 6, 0, 0, 0, 0, 0, 30},         {"帕利哌酮", 9, 0, 0, 0, 0, 0, 15},
    {"奋乃静", 4, 0, 8, 0, 0, 0, 20},           {"舒必利", 200, 0, 200, 0, 0, 0, 10},
    {"碳酸锂", 250, 0, 500, 0, 0, 1, 50},       {"碳酸锂", 500, 0, 500, 0, 0, 1, 30},
    {"丙戊酸钠", 500, 0, 500, 0, 0, 1, 60},     {"丙戊酸钠", 250, 0, 500, 0, 0, 1, 30},
    {"棕榈酸帕利哌酮", 0, 0, 0, 4, 150, 2, 60}, {"棕榈酸帕利哌酮", 0, 0, 0, 4, 100, 2, 50},
    {"棕榈酸帕利哌酮", 0, 0, 0, 4, 75, 2, 30},  {"利培酮微球", 0, 0, 0, 2, 37.5, 2, 25},
    {"利培酮微球", 0, 0, 0, 2, 25, 2, 20},      {"癸氟奋乃静", 0, 0, 0, 2, 25, 2, 20},
    {"氟哌啶醇癸酸酯", 0, 0, 0, 4, 100, 2, 15}, {"氟哌啶醇癸酸酯", 0, 0, 0, 4, 50, 2, 10},
};
#define GEN_N_REGIMENS ((int)GEN_COUNT(regimen))

/* Built once: each regimen as the form's medications JSON and as the
 * prescription columns drug … dose_mg, both COPY-ready. */
static char regimen_json[GEN_N_REGIMENS][160];
static char regimen_rx[GEN_N_REGIMENS][160];

GEN_SAME_LEN(fu_unreached, fu_unreached_w);
GEN_SAME_LEN(fu_unreached, fu_unreached_note);
GEN_SAME_LEN(fu_symptom, sym_residual_w);
GEN_SAME_LEN(fu_symptom, sym_acute_w);
GEN_SAME_LEN(fu_compliance, fu_compliance_w);
GEN_SAME_LEN(picked_by, picked_by_w);
GEN_SAME_LEN(check_item, check_item_w);
_Static_assert(GEN_COUNT(fu_symptom) <= 16, "symptoms fit a 16-bit mask");

static void gen_num(char *out, size_t n, double v)
{
    snprintf(out, n, "%g", v);
}

static void gen_regimens_init(void)
{
    for (int i = 0; i < GEN_N_REGIMENS; i++) {
        const gen_regimen *g = &regimen[i];
        char m[16], no[16], e[16], d[16];

        gen_num(m, sizeof(m), g->morning);
        gen_num(no, sizeof(no), g->noon);
        gen_num(e, sizeof(e), g->evening);
        gen_num(d, sizeof(d), g->dose_mg);
        if (g->every_weeks > 0) {
            snprintf(regimen_json[i], sizeof(regimen_json[i]),
                     "[{\"drug\":\"%s\",\"long_acting\":true,\"every_weeks\":%d,\"dose_mg\":%s}]",
                     g->drug, g->every_weeks, d);
            snprintf(regimen_rx[i], sizeof(regimen_rx[i]), "%s\tt\t\\N\t\\N\t\\N\t\\N\t%d\t%s",
                     g->drug, g->every_weeks, d);
            continue;
        }
        {
            char *o = regimen_json[i];
            size_t n = sizeof(regimen_json[i]);
            int k = snprintf(o, n, "[{\"drug\":\"%s\"", g->drug);

            if (g->morning > 0)
                k += snprintf(o + k, n - (size_t)k, ",\"morning\":%s", m);
            if (g->noon > 0)
                k += snprintf(o + k, n - (size_t)k, ",\"noon\":%s", no);
            if (g->evening > 0)
                k += snprintf(o + k, n - (size_t)k, ",\"evening\":%s", e);
            snprintf(o + k, n - (size_t)k, ",\"unit\":\"mg\"}]");
        }
        snprintf(regimen_rx[i], sizeof(regimen_rx[i]), "%s\tf\t%s\t%s\t%s\tmg\t\\N\t\\N", g->drug,
                 g->morning > 0 ? m : "\\N", g->noon > 0 ? no : "\\N", g->evening > 0 ? e : "\\N");
    }
}

/* A regimen of one kind (0, 1 or 2), by weight. */
static int gen_regimen_pick(gen_rng *r, int kind)
{
    unsigned total = 0, x;

    for (int i = 0; i < GEN_N_REGIMENS; i++)
        total += regimen[i].kind == kind ? regimen[i].w : 0;
    x = gen_below(r, total);
    for (int i = 0; i < GEN_N_REGIMENS; i++) {
        if (regimen[i].kind != kind)
            continue;
        if (x < regimen[i].w)
            return i;
        x -= regimen[i].w;
    }
    return 0;
}

/* What is decided about a patient's care once, before any visit: traits,
 * treatment, admissions and incidents. Every stream derives it again. */
typedef struct gen_plan {
    bool on_register;
    long start;      /* the history begins: registration, or two years back */
    long care_end;   /* the last day of ordinary visits */
    int base_state;  /* GS_*: how the patient usually is */
    int compliance;  /* CO_*: how the patient usually takes the medicine */
    bool work_na;    /* work does not apply (retired, student, old) */
    int rx, rx_prev; /* regimen indexes, -1: none */
    long rx_start, rx_prev_start;
    bool hosp, hosp_open, involuntary;
    long adm, dis;
    const char *hosp_name;
    int hosp_text;
    bool inc;
    long inc_on;
    int inc_kind, inc_injured, inc_dead, inc_place;
    unsigned inc_case;
    bool pick_late; /* the last pick-up ran out over a week before the as-of date */
    bool checks;    /* has yearly health checks */
    bool reviews;   /* risk ≥ 3: township (and perhaps city) reviews */
    bool city;
} gen_plan;

static void gen_plan_make(const gen_ctx *c, long i, const gen_row *p, gen_plan *pl)
{
    gen_rng r;
    unsigned x;

    memset(pl, 0, sizeof(*pl));
    pl->rx = pl->rx_prev = -1;
    pl->adm = pl->dis = pl->inc_on = pl->rx_start = pl->rx_prev_start = GEN_NO_DATE;
    switch (p->status) {
    case ST_IN_CARE:
    case ST_REGISTERED:
    case ST_HOSPITALISED:
    case ST_LOST:
    case ST_MOVED_OUT:
        pl->on_register = true;
        break;
    default:
        return;
    }
    gen_rng_row(&r, c->seed, (uint64_t)i, 2);
    pl->start = p->diag_date > c->as_of - c->window ? p->diag_date : c->as_of - c->window;
    switch (p->status) {
    case ST_HOSPITALISED:
        pl->care_end = p->change_on - 1;
        break;
    case ST_LOST:
        pl->care_end = p->miss_on[0] - 14;
        break;
    case ST_MOVED_OUT:
        pl->care_end = p->change_on - 7;
        break;
    default:
        pl->care_end = c->as_of;
        break;
    }

    /* How well the patient usually is, by risk level. */
    x = gen_below(&r, 1000);
    if (p->risk >= 3)
        pl->base_state = x < 200 ? GS_CLEAR : x < 600 ? GS_RESIDUAL : GS_ACUTE;
    else if (p->risk >= 1)
        pl->base_state = x < 560 ? GS_CLEAR : x < 970 ? GS_RESIDUAL : GS_ACUTE;
    else
        pl->base_state = x < 850 ? GS_CLEAR : x < 995 ? GS_RESIDUAL : GS_ACUTE;
    pl->compliance = (int)GEN_PICK(&r, fu_compliance);
    pl->work_na = strcmp(p->employment, "retired") == 0 || strcmp(p->employment, "student") == 0 ||
                  p->age >= 65;

    /* Treatment: one current prescription, sometimes a switch from another;
     * about one in ten on a long-acting injection. */
    if (pl->compliance != CO_NOT_REQUIRED) {
        long first = p->diag_date + (long)gen_below(&r, 15);
        /* Mood stabilisers mostly for bipolar disorder and epilepsy. */
        unsigned mood = strcmp(p->diagnosis, "bipolar") == 0              ? 600
                        : strcmp(p->diagnosis, "epilepsy_psychosis") == 0 ? 450
                                                                          : 20;
        int kind = gen_permille(&r, 100) ? 2 : gen_permille(&r, mood) ? 1 : 0;

        if (first > c->as_of)
            first = c->as_of;
        pl->rx = gen_regimen_pick(&r, kind);
        pl->rx_start = first;
        if (c->as_of - first > 240 && gen_permille(&r, 250)) {
            pl->rx_prev = gen_regimen_pick(&r, kind == 1 ? 1 : 0);
            if (pl->rx_prev == pl->rx)
                pl->rx_prev = (pl->rx + 1) % GEN_N_REGIMENS;
            if (regimen[pl->rx_prev].kind == 2)
                pl->rx_prev = 0;
            pl->rx_prev_start = first;
            pl->rx_start = gen_day_between(&r, first + 90, c->as_of - 30);
        }
    }

    /* Admissions: the one under way for status hospitalised; a past,
     * discharged one for about one in twenty of the others. */
    if (p->status == ST_HOSPITALISED) {
        pl->hosp = pl->hosp_open = true;
        pl->adm = p->change_on;
        pl->involuntary = gen_permille(&r, 300);
    } else if (gen_permille(&r, 50)) {
        long lo = p->diag_date + 30, hi = pl->care_end - 21;
        long stay = 14 + (long)gen_below(&r, 31) + (long)gen_below(&r, 31);

        if (lo < c->as_of - 3 * 365)
            lo = c->as_of - 3 * 365;
        if (hi - stay > lo) {
            pl->hosp = true;
            pl->adm = gen_day_between(&r, lo, hi - stay);
            pl->dis = pl->adm + stay;
            pl->involuntary = gen_permille(&r, 200);
        }
    }
    if (pl->hosp) {
        pl->hosp_name = hospital[GEN_PICK(&r, hospital)];
        pl->hosp_text = (int)gen_below(&r, 3);
    }

    /* Incidents (肇事肇祸): about 2 in 100, likelier the higher the risk. */
    {
        static const unsigned by_risk[] = {12, 35, 60, 110, 160, 250};
        long lo = p->diag_date + 30, hi = pl->care_end;

        if (lo < c->as_of - 3 * 365)
            lo = c->as_of - 3 * 365;
        if (p->risk >= 0 && gen_permille(&r, by_risk[p->risk]) && hi > lo) {
            pl->inc = true;
            pl->inc_on = gen_day_between(&r, lo, hi);
            x = gen_below(&r, 1000);
            if (p->risk <= 2)
                pl->inc_kind = x < 900 ? 0 : 1;
            else if (p->risk <= 4)
                pl->inc_kind = x < 400 ? 0 : x < 950 ? 1 : 2;
            else
                pl->inc_kind = x < 500 ? 1 : 2;
            switch (pl->inc_kind) {
            case 0:
                pl->inc_injured = gen_permille(&r, 50) ? 1 : 0;
                break;
            case 1:
                pl->inc_injured = gen_permille(&r, 400) ? 1 + (int)gen_below(&r, 2) : 0;
                break;
            default:
                pl->inc_injured = 1 + (int)gen_below(&r, 3);
                pl->inc_dead = gen_permille(&r, 150) ? 1 : 0;
                break;
            }
            pl->inc_place = (int)gen_below(&r, (uint32_t)GEN_COUNT(incident_place));
            pl->inc_case = 1 + gen_below(&r, 2999);
        }
    }

    /* Pick-ups that stopped: those who take nothing, and a few more. */
    pl->pick_late =
        pl->rx >= 0 && (pl->compliance == CO_NONE ? gen_permille(&r, 600) : gen_permille(&r, 15));
    pl->checks = gen_permille(&r, 700);
    pl->reviews = p->risk >= 3;
    pl->city = pl->reviews && gen_permille(&r, 500);
}

/* ---- clinical history: the visits ----------------------------------------------------- */

typedef struct gen_visit {
    long date;
    long discharged_on; /* hospitalisation "discharged" since the last visit, or GEN_NO_DATE */
    long next_due;      /* the due date after this visit, GEN_NO_DATE: none */
    uint16_t symptoms;  /* bit i: fu_symptom[i] */
    uint8_t rehab;      /* bit i: fu_rehab[i] */
    bool reached, next_joint, psychotic, adverse_serious, physical_serious, referral, joint,
        joint_grid, lab, lock_released;
    int8_t informant; /* -1: not recorded */
    uint8_t unreached, mode, risk, insight, sleep, diet, social[5], compliance, adverse, effect,
        act;   /* act: 0 none, else incident_kind[act - 1] once */
    int8_t rx; /* regimen listed, -1: none */
    jf_visit_class cls;
} gen_visit;

typedef struct gen_hist {
    int n, reached;
    gen_visit v[GEN_MAX_VISITS];
} gen_hist;

/* What the rules know between visits. */
typedef struct gen_sim {
    long last; /* last reached visit, GEN_NO_DATE: none yet */
    jf_visit_class last_class, prev_class;
    int risk, max_risk, compliance;
    bool refused_last;
    long discharged; /* latest discharge so far */
} gen_sim;

static jf_date gen_jd(long day)
{
    return day == GEN_NO_DATE ? JF_DATE_NONE : (jf_date)day;
}

/* When the patient is due after a visit on `today`, by the API's own rules. */
static jf_due gen_due(const gen_ctx *c, const gen_row *p, const gen_plan *pl, const gen_sim *s,
                      long today)
{
    jf_patient_facts f;
    jf_tier_result tier;
    jf_due_input in;
    long recent = jf_date_add_months((jf_date)today, -c->tier.incident_months);

    memset(&f, 0, sizeof(f));
    f.risk_level = s->risk;
    f.max_risk_ever = s->max_risk;
    f.last_class = s->last_class;
    f.incidents_total = pl->inc && pl->inc_on <= today;
    f.incidents_recent = pl->inc && pl->inc_on <= today && pl->inc_on > recent;
    f.capable_guardian = p->capable_guardian;
    f.poor_compliance = s->compliance == CO_INTERMITTENT || s->compliance == CO_NONE;
    f.relapses_recent = pl->hosp && pl->adm <= today && pl->adm > today - 365;
    f.refuses_follow_up = s->refused_last;
    f.lives_alone = p->lives_alone;
    f.family_history = p->family_history;
    f.extreme_poverty = p->tekun;
    f.can_drive = p->can_drive;
    f.forced_admission = pl->hosp && pl->involuntary && pl->adm <= today;
    f.migrant = p->migrant;
    jf_tier_compute(&f, &c->tier, &tier);

    memset(&in, 0, sizeof(in));
    in.last_reached = gen_jd(s->last);
    in.last_class = s->last_class;
    in.prev_class = s->prev_class;
    in.registered_on = gen_jd(p->diag_date);
    in.discharged_on = gen_jd(s->discharged);
    in.tier_cap_months = c->tier.interval_months[tier.colour];
    in.tier_joint = c->tier.joint[tier.colour];
    return jf_followup_next_due(&in);
}

/* The day of the next visit: usually a few days before it is due (or
 * sooner, every 365/F days), sometimes weeks late, now and then months. */
static long gen_next_visit(gen_rng *r, const gen_ctx *c, long last, long due)
{
    uint32_t x = gen_below(r, 1000);
    long t;

    if (x < 90)
        t = due + 7 + (long)gen_below(r, 22);
    else if (x < 115)
        t = due + 30 + (long)gen_below(r, 50);
    else {
        long every = (long)(c->fu_interval * (0.85 + 0.3 * gen_below(r, 1000) / 1000.0));

        t = due - (long)gen_below(r, 7);
        if (last != GEN_NO_DATE && last + every < t)
            t = last + every;
    }
    if (last != GEN_NO_DATE && t < last + 7)
        t = last + 7;
    return t;
}

static uint8_t gen_level(gen_rng *r, int state)
{
    static const unsigned w[3][3] = {{650, 350, 0}, {300, 550, 150}, {100, 400, 500}};

    return (uint8_t)gen_pick(r, w[state], 3, 1000);
}

static uint16_t gen_symptoms(gen_rng *r, int state)
{
    const unsigned *w = state == GS_ACUTE ? sym_acute_w : sym_residual_w;
    unsigned total = gen_sum(w, GEN_COUNT(fu_symptom));
    int want = state == GS_CLEAR      ? 0
               : state == GS_RESIDUAL ? 1 + (int)gen_below(r, 3)
                                      : 2 + (int)gen_below(r, 4);
    uint16_t m = 0;

    for (int k = 0; k < want; k++)
        m |= (uint16_t)(1u << gen_pick(r, w, GEN_COUNT(fu_symptom), total));
    return m;
}

/* Fill in the form of a reached visit and classify it. */
static void gen_form(gen_rng *r, const gen_plan *pl, int state, gen_visit *v)
{
    static const unsigned effect_w[3][5] = {
        {150, 600, 250, 0, 0}, {0, 500, 450, 50, 0}, {0, 100, 400, 500, 0}};
    jf_visit_form f;
    int nsym = 0;

    v->symptoms = gen_symptoms(r, state);
    for (uint16_t m = v->symptoms; m; m &= (uint16_t)(m - 1))
        nsym++;
    if (state == GS_CLEAR)
        v->insight = 0;
    else if (state == GS_RESIDUAL)
        v->insight = gen_permille(r, 350) ? 0 : 1;
    else
        v->insight = gen_permille(r, 350) ? 1 : 2;
    v->psychotic = state == GS_ACUTE && gen_permille(r, 700);
    v->sleep = gen_level(r, state);
    v->diet = gen_level(r, state);
    for (int k = 0; k < 5; k++)
        v->social[k] = gen_level(r, state);
    if (pl->work_na)
        v->social[2] = LV_NA;

    /* Medication as usual, sometimes better or worse this time. */
    v->compliance = (uint8_t)pl->compliance;
    if (pl->compliance == CO_REGULAR && gen_permille(r, 100))
        v->compliance = CO_INTERMITTENT;
    else if (pl->compliance == CO_INTERMITTENT && gen_permille(r, 250))
        v->compliance = CO_REGULAR;
    else if (pl->compliance == CO_NONE && gen_permille(r, 150))
        v->compliance = CO_INTERMITTENT;
    v->rx = (int8_t)(pl->rx < 0                                   ? -1
                     : pl->rx_prev >= 0 && v->date < pl->rx_start ? pl->rx_prev
                                                                  : pl->rx);
    v->adverse = v->rx < 0 ? 2 : gen_permille(r, 70) ? 0 : 1;
    v->adverse_serious = v->adverse == 0 && gen_permille(r, 40);
    v->physical_serious = gen_permille(r, 2);
    v->effect = (uint8_t)gen_pick(r, effect_w[state], 5, 1000);
    if (v->rx < 0 && state == GS_CLEAR && gen_permille(r, 500))
        v->effect = 4;
    v->lab = gen_permille(r, v->rx >= 0 && strcmp(regimen[v->rx].drug, "氯氮平") == 0 ? 250 : 50);
    v->lock_released = gen_permille(r, 4);
    if (state == GS_CLEAR) {
        v->rehab = (uint8_t)((gen_permille(r, 350) ? 1u : 0u) | (gen_permille(r, 80) ? 2u : 0u) |
                             (gen_permille(r, 250) ? 4u : 0u) | (gen_permille(r, 120) ? 8u : 0u));
    } else if (state == GS_RESIDUAL) {
        v->rehab = (uint8_t)((gen_permille(r, 300) ? 1u : 0u) | (gen_permille(r, 150) ? 4u : 0u) |
                             (gen_permille(r, 150) ? 8u : 0u));
    } else {
        v->rehab = gen_permille(r, 100) ? 8u : 0u;
    }

    memset(&f, 0, sizeof(f));
    f.risk_level = v->risk;
    f.symptom_count = nsym;
    f.obvious_psychotic = v->psychotic;
    f.insight = (jf_insight)(v->insight + 1);
    for (int k = 0; k < 5; k++)
        f.social[k] = v->social[k] == LV_NA     ? JF_L3_NA
                      : v->social[k] == LV_GOOD ? JF_L3_GOOD
                      : v->social[k] == LV_FAIR ? JF_L3_FAIR
                                                : JF_L3_POOR;
    f.serious_adverse_reaction = v->adverse_serious;
    f.serious_physical_illness = v->physical_serious;
    v->cls = jf_followup_classify(&f);
    v->referral = v->cls == JF_CLASS_UNSTABLE && gen_permille(r, 450);
}

static gen_visit *gen_visit_add(gen_hist *h, long date)
{
    gen_visit *v = &h->v[h->n++];

    memset(v, 0, sizeof(*v));
    v->date = date;
    v->discharged_on = GEN_NO_DATE;
    v->next_due = GEN_NO_DATE;
    v->informant = -1;
    v->rx = -1;
    return v;
}

static void gen_unreached(gen_rng *r, gen_visit *v, int reason)
{
    v->reached = false;
    v->unreached = (uint8_t)(reason >= 0 ? reason : (int)GEN_PICK(r, fu_unreached));
    v->mode = gen_permille(r, 700) ? 1 : 2;
    v->informant = gen_permille(r, 150) ? -1 : gen_permille(r, 700) ? 1 : 2;
}

/* Play one patient's visits forward from the start of the window. */
static void gen_history(const gen_ctx *c, long i, const gen_row *p, const gen_plan *pl, gen_hist *h)
{
    gen_rng r;
    gen_sim s;
    jf_due due;
    long t, due_on;
    bool due_joint, hosp_seen, inc_seen, discharge_pending = false;
    int misses = 0;
    uint32_t miss_rate;

    h->n = h->reached = 0;
    /* Registered patients await their first visit; closed records have none. */
    if (!pl->on_register || c->fu_per_year <= 0 || p->status == ST_REGISTERED)
        return;
    gen_rng_row(&r, c->seed, (uint64_t)i, 3);
    memset(&s, 0, sizeof(s));
    s.last = GEN_NO_DATE;
    s.discharged = GEN_NO_DATE;
    s.risk = s.max_risk = p->risk;
    s.compliance = pl->compliance;
    hosp_seen = !pl->hosp || pl->hosp_open || pl->dis < pl->start;
    if (pl->hosp && !pl->hosp_open && pl->dis < pl->start)
        s.discharged = pl->dis;
    inc_seen = !pl->inc || pl->inc_on < pl->start;
    miss_rate = 60 + (p->migrant ? 150 : 0) + (p->lives_alone ? 30 : 0) +
                (pl->compliance == CO_NONE ? 50 : 0);

    /* Seen before the window opened: that visit is not written, only its
     * effect on when the next one is due. */
    if (p->diag_date < pl->start) {
        long back = (long)c->fu_interval < 80 ? (long)c->fu_interval : 80;

        s.last = pl->start - 1 - (long)gen_below(&r, (uint32_t)(back > 1 ? back : 1));
        if (s.last <= p->diag_date)
            s.last = p->diag_date + 1;
        s.last_class = p->risk >= 3 || pl->base_state == GS_ACUTE      ? JF_CLASS_UNSTABLE
                       : p->risk >= 1 || pl->base_state == GS_RESIDUAL ? JF_CLASS_BASICALLY_STABLE
                                                                       : JF_CLASS_STABLE;
        s.prev_class = s.last_class;
    }
    due = gen_due(c, p, pl, &s, s.last != GEN_NO_DATE ? s.last : p->diag_date);
    due_on = due.date;
    due_joint = due.joint;
    t = gen_next_visit(&r, c, s.last, due_on);
    if (t < pl->start)
        t = pl->start + (long)gen_below(&r, 10);
    if (t <= p->diag_date)
        t = p->diag_date + 1;

    while (h->n < GEN_MAX_VISITS - 4) {
        gen_visit *v;
        int vstate;

        /* An admission before the visit: the next one follows the discharge. */
        if (!hosp_seen && t >= pl->adm) {
            hosp_seen = true;
            s.discharged = pl->dis;
            discharge_pending = true;
            due = gen_due(c, p, pl, &s, pl->dis);
            due_on = due.date;
            due_joint = due.joint;
            t = pl->dis + 1 + (long)gen_below(&r, 7);
            if (gen_permille(&r, 120))
                t += 7 + (long)gen_below(&r, 21);
            continue;
        }
        if (t > pl->care_end)
            break;
        v = gen_visit_add(h, t);
        if (misses < 2 && gen_permille(&r, miss_rate)) {
            /* Not reached: the due date stays, someone tries again soon. */
            gen_unreached(&r, v, -1);
            misses++;
            s.refused_last = v->unreached == 3;
            v->next_due = due_on;
            v->next_joint = due_joint;
            t += 7 + (long)gen_below(&r, 22);
            continue;
        }
        misses = 0;
        s.refused_last = false;
        v->reached = true;
        h->reached++;

        /* The patient's condition drifts around the usual; worse before an
         * admission and after an incident. */
        vstate = pl->base_state;
        if (gen_permille(&r, 40))
            vstate = vstate < GS_ACUTE ? vstate + 1 : vstate;
        else if (gen_permille(&r, 150) && vstate > GS_CLEAR)
            vstate--;
        if (pl->hosp && t < pl->adm && pl->adm - t < 45 && gen_permille(&r, 500))
            vstate = GS_ACUTE;
        v->risk = (uint8_t)p->risk;
        if (gen_permille(&r, 30) && v->risk < 5)
            v->risk++;
        else if (gen_permille(&r, 30) && v->risk > 0)
            v->risk--;
        if (!inc_seen && t > pl->inc_on) {
            static const int act_risk[] = {1, 3, 4};

            inc_seen = true;
            v->act = (uint8_t)(pl->inc_kind + 1);
            if (v->risk < act_risk[pl->inc_kind])
                v->risk = (uint8_t)act_risk[pl->inc_kind];
            if (gen_permille(&r, 500))
                vstate = GS_ACUTE;
        }
        if (discharge_pending) {
            v->discharged_on = pl->dis;
            discharge_pending = false;
            if (vstate == GS_ACUTE)
                vstate = GS_RESIDUAL;
        }
        gen_form(&r, pl, vstate, v);

        /* Unstable, or due jointly: police and village cadre come along. */
        if (v->cls == JF_CLASS_UNSTABLE || due_joint) {
            v->joint = gen_permille(&r, 850);
            v->joint_grid = v->joint && gen_permille(&r, 400);
        } else {
            v->joint = gen_permille(&r, 20);
        }
        if (v->cls == JF_CLASS_UNSTABLE)
            v->mode = gen_permille(&r, 780) ? 1 : gen_permille(&r, 900) ? 0 : 2;
        else
            v->mode = (uint8_t)(gen_permille(&r, 300) ? 0 : gen_permille(&r, 700) ? 1 : 2);
        {
            static const unsigned pat[] = {920, 750, 450};
            v->informant = gen_permille(&r, pat[v->mode]) ? 0 : gen_permille(&r, 960) ? 1 : 2;
        }

        s.prev_class = s.last_class;
        s.last_class = v->cls;
        s.last = t;
        s.risk = p->risk >= 3 ? p->risk : v->risk;
        if (v->risk > s.max_risk)
            s.max_risk = v->risk;
        s.compliance = v->compliance;
        due = gen_due(c, p, pl, &s, t);
        due_on = due.date;
        due_joint = due.joint;
        v->next_due = due_on;
        v->next_joint = due_joint;
        t = gen_next_visit(&r, c, t, due_on);
    }

    /* Lost: the last three visits found no one. Moved out: the last visit
     * learnt that the family had moved. */
    if (p->status == ST_LOST) {
        for (int k = 0; k < 3; k++) {
            gen_visit *v = gen_visit_add(h, p->miss_on[k]);
            static const int why[] = {0, 0, 0, 2, 2, 1};

            gen_unreached(&r, v, why[gen_below(&r, 6)]);
            v->next_due = due_on;
            v->next_joint = due_joint;
        }
    } else if (p->status == ST_MOVED_OUT && p->change_on >= pl->start) {
        gen_visit *v = gen_visit_add(h, p->change_on);

        gen_unreached(&r, v, 1);
        v->next_due = due_on;
        v->next_joint = due_joint;
    }
}

/* ---- clinical history: the other tables ------------------------------------------------ */

/* Monthly pick-ups of the current prescription over the last year, in
 * order; *supply gets the days each one lasts. */
static int gen_pickups(const gen_ctx *c, long i, const gen_plan *pl, long *dates, int *supply)
{
    gen_rng r;
    long lo, last, d;
    int n = 0;

    if (pl->rx < 0)
        return 0;
    gen_rng_row(&r, c->seed, (uint64_t)i, 4);
    *supply = regimen[pl->rx].every_weeks > 0 ? regimen[pl->rx].every_weeks * 7 : 30;
    lo = pl->rx_start > c->as_of - 365 ? pl->rx_start : c->as_of - 365;
    if (pl->pick_late)
        last = pl->care_end - *supply - 8 - (long)gen_below(&r, 70);
    else
        last = pl->care_end - (long)gen_below(&r, (uint32_t)(*supply - 2));
    for (d = last; d >= lo && n < GEN_MAX_DATES; n++) {
        dates[n] = d;
        d -= *supply - 4 + (long)gen_below(&r, 10);
        if (pl->compliance == CO_INTERMITTENT && gen_permille(&r, 250))
            d -= 10 + (long)gen_below(&r, 30);
    }
    for (int k = 0; k < n / 2; k++) {
        long x = dates[k];

        dates[k] = dates[n - 1 - k];
        dates[n - 1 - k] = x;
    }
    return n;
}

/* Yearly health checks over the window: dates, items (bit i: check_item[i])
 * and a note index (-1: none). */
static int gen_checks(const gen_ctx *c, long i, const gen_row *p, const gen_plan *pl, long *dates,
                      uint8_t *items, int8_t *note)
{
    gen_rng r;
    long d;
    int n = 0;

    if (!pl->checks)
        return 0;
    gen_rng_row(&r, c->seed, (uint64_t)i, 5);
    d = p->diag_date + 20 + (long)gen_below(&r, 70);
    if (d < c->as_of - c->window)
        d = c->as_of - c->window + (long)gen_below(&r, 365);
    for (; d <= pl->care_end && n < GEN_MAX_DATES; n++) {
        dates[n] = d;
        items[n] = 0;
        for (int k = 0; k < (int)GEN_COUNT(check_item); k++)
            if (gen_permille(&r, check_item_w[k]))
                items[n] |= (uint8_t)(1u << k);
        note[n] = gen_permille(&r, 90) ? (int8_t)gen_below(&r, 3) : -1;
        d += 345 + (long)gen_below(&r, 41);
    }
    return n;
}

/* Township reviews about twice a year, and for some a yearly city
 * assessment, of a patient at risk 3 or above: dates and tier (1 township,
 * 2 city). */
static int gen_reviews(const gen_ctx *c, long i, const gen_plan *pl, long *dates, uint8_t *tier)
{
    gen_rng r;
    long d;
    int n = 0;

    if (!pl->reviews)
        return 0;
    gen_rng_row(&r, c->seed, (uint64_t)i, 6);
    for (d = pl->start + 20 + (long)gen_below(&r, 100); d <= pl->care_end && n < GEN_MAX_DATES;
         d += 150 + (long)gen_below(&r, 60)) {
        dates[n] = d;
        tier[n++] = 1;
    }
    if (pl->city)
        for (d = pl->start + 60 + (long)gen_below(&r, 240); d <= pl->care_end && n < GEN_MAX_DATES;
             d += 300 + (long)gen_below(&r, 120)) {
            dates[n] = d;
            tier[n++] = 2;
        }
    return n;
}

/* ---- building rows of the clinical tables ------------------------------------------- */

/* A row is built in a fixed array and appended whole: cheaper than many
 * small appends. `full` records an overflow, reported when appended. */
typedef struct gen_w {
    char *p, *end;
    bool full;
    char buf[GEN_ROW_MAX];
} gen_w;

static void w_reset(gen_w *w)
{
    w->p = w->buf;
    w->end = w->buf + sizeof(w->buf);
    w->full = false;
}

static void w_mem(gen_w *w, const char *s, size_t n)
{
    if ((size_t)(w->end - w->p) <= n) {
        w->full = true;
        return;
    }
    memcpy(w->p, s, n);
    w->p += n;
}

static void w_str(gen_w *w, const char *s)
{
    w_mem(w, s, strlen(s));
}

#define W_LIT(w, lit) w_mem((w), "" lit, sizeof(lit) - 1)
#define W_TAB(w) W_LIT(w, "\t")
#define W_NULL(w) W_LIT(w, "\\N")

static void w_i64(gen_w *w, int64_t v)
{
    char tmp[24], *e = tmp + sizeof(tmp), *q = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--q = '-';
    w_mem(w, q, (size_t)(e - q));
}

static void w_bool(gen_w *w, bool b)
{
    w_mem(w, b ? "t" : "f", 1);
}

/* Dates near the as-of date come formatted from a table. */
#define GEN_DC_BEFORE 4000L
#define GEN_DC_AFTER 400L
static char gen_dc[GEN_DC_BEFORE + GEN_DC_AFTER][10];
static long gen_dc_lo;

static void gen_dates_init(long as_of)
{
    gen_dc_lo = as_of - GEN_DC_BEFORE;
    for (long k = 0; k < GEN_DC_BEFORE + GEN_DC_AFTER; k++) {
        int y, m, d;
        char tmp[16];

        gen_civil(gen_dc_lo + k, &y, &m, &d);
        snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
        memcpy(gen_dc[k], tmp, 10);
    }
}

static void w_date(gen_w *w, long day)
{
    char tmp[16];
    int y, m, d;

    if (day == GEN_NO_DATE) {
        W_NULL(w);
        return;
    }
    if (day >= gen_dc_lo && day < gen_dc_lo + GEN_DC_BEFORE + GEN_DC_AFTER) {
        w_mem(w, gen_dc[day - gen_dc_lo], 10);
        return;
    }
    gen_civil(day, &y, &m, &d);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
    w_mem(w, tmp, 10);
}

/* The doctor's id, or \N. */
static void w_user(gen_w *w, const gen_row *p)
{
    if (p->grid->doctor_id > 0)
        w_i64(w, p->grid->doctor_id);
    else
        W_NULL(w);
}

static int w_flush(gen_w *w, jf_buf *b)
{
    int rc = w->full ? JF_ERR_TOO_LARGE : jf_buf_append(b, w->buf, (size_t)(w->p - w->buf));

    w_reset(w);
    return rc;
}

/* A text[] of the codes whose bits are set. */
static void w_codes(gen_w *w, unsigned mask, const char *const *codes, size_t n)
{
    const char *sep = "{";

    if (mask == 0) {
        W_LIT(w, "{}");
        return;
    }
    for (size_t k = 0; k < n; k++)
        if (mask & (1u << k)) {
            w_str(w, sep);
            w_str(w, codes[k]);
            sep = ",";
        }
    W_LIT(w, "}");
}

static const char copy_follow_ups[] =
    "COPY follow_ups (id, patient_id, visit_date, mode, informant, reached, unreached_reason, "
    "risk_level, symptoms, obvious_psychotic, insight, sleep, diet, social_personal_care, "
    "social_housework, social_work, social_learning, social_contact, dangerous_acts, lock_up, "
    "hospitalisation, discharged_on, lab_tests, compliance, adverse_reaction, adverse_serious, "
    "physical_illness_serious, treatment_effect, referral, referral_reason, referral_to, "
    "medications, rehabilitation, computed_class, class, visitors, joint_visit, joint_with, "
    "next_due, next_due_joint, note, user_id) FROM STDIN";

static void w_followup(gen_w *w, const gen_row *p, const gen_visit *v, int64_t id)
{
    const char *doctor = p->grid->doctor_name;

    w_i64(w, id);
    W_TAB(w);
    w_i64(w, p->id);
    W_TAB(w);
    w_date(w, v->date);
    W_TAB(w);
    w_str(w, fu_mode[v->mode]);
    W_TAB(w);
    if (v->informant < 0)
        W_NULL(w);
    else
        w_str(w, fu_informant[v->informant]);
    W_TAB(w);
    w_bool(w, v->reached);
    W_TAB(w);
    if (!v->reached) {
        w_str(w, fu_unreached[v->unreached]);
        /* risk … class: nothing a visit that found no one could record */
        W_LIT(w, "\t\\N\t{}\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t{}\t\\N\t\\N\t\\N\t\\N"
                 "\t\\N\t\\N\tf\tf\t\\N\tf\t\\N\t\\N\t[]\t{}\t\\N\t\\N\t");
        if (doctor[0] != '\0')
            w_str(w, doctor);
        else
            W_NULL(w);
        W_LIT(w, "\tf\t{}\t");
    } else {
        const char *cls = jf_visit_class_name(v->cls);

        W_LIT(w, "\\N\t");
        w_i64(w, v->risk);
        W_TAB(w);
        w_codes(w, v->symptoms, fu_symptom, GEN_COUNT(fu_symptom));
        W_TAB(w);
        w_bool(w, v->psychotic);
        W_TAB(w);
        w_str(w, fu_insight[v->insight]);
        W_TAB(w);
        w_str(w, fu_level[v->sleep]);
        W_TAB(w);
        w_str(w, fu_level[v->diet]);
        for (int k = 0; k < 5; k++) {
            W_TAB(w);
            w_str(w, fu_level[v->social[k]]);
        }
        W_TAB(w);
        if (v->act > 0) {
            W_LIT(w, "{\"");
            w_str(w, incident_kind[v->act - 1]);
            W_LIT(w, "\": 1}");
        } else {
            W_LIT(w, "{}");
        }
        W_TAB(w);
        w_str(w, v->lock_released ? "released" : "none");
        W_TAB(w);
        w_str(w, v->discharged_on != GEN_NO_DATE ? "discharged" : "none");
        W_TAB(w);
        w_date(w, v->discharged_on);
        W_TAB(w);
        if (v->lab)
            W_LIT(w, "血常规、肝功能未见明显异常");
        else
            W_NULL(w);
        W_TAB(w);
        w_str(w, fu_compliance[v->compliance]);
        W_TAB(w);
        w_str(w, fu_adverse[v->adverse]);
        W_TAB(w);
        w_bool(w, v->adverse_serious);
        W_TAB(w);
        w_bool(w, v->physical_serious);
        W_TAB(w);
        w_str(w, fu_effect[v->effect]);
        W_TAB(w);
        w_bool(w, v->referral);
        if (v->referral) {
            W_LIT(w, "\t病情不稳定，建议上级精神专科医院就诊调整治疗\t");
            w_str(w, p->hospital != NULL ? p->hospital : hospital[0]);
        } else {
            W_LIT(w, "\t\\N\t\\N");
        }
        W_TAB(w);
        w_str(w, v->rx >= 0 ? regimen_json[v->rx] : "[]");
        W_TAB(w);
        w_codes(w, v->rehab, fu_rehab, GEN_COUNT(fu_rehab));
        W_TAB(w);
        w_str(w, cls);
        W_TAB(w);
        w_str(w, cls);
        W_TAB(w);
        w_str(w, doctor);
        if (v->joint)
            w_str(w, doctor[0] != '\0' ? "、社区民警、村干部" : "社区民警、村干部");
        if (v->joint && v->joint_grid)
            W_LIT(w, "、网格员");
        if (doctor[0] == '\0' && !v->joint)
            W_NULL(w);
        W_TAB(w);
        w_bool(w, v->joint);
        W_TAB(w);
        w_str(w, !v->joint       ? "{}"
                 : v->joint_grid ? "{police,village_cadre,grid_worker}"
                                 : "{police,village_cadre}");
        W_TAB(w);
    }
    w_date(w, v->next_due);
    W_TAB(w);
    if (v->next_due == GEN_NO_DATE)
        W_NULL(w);
    else
        w_bool(w, v->next_joint);
    W_TAB(w);
    if (!v->reached)
        w_str(w, fu_unreached_note[v->unreached]);
    else if (v->cls == JF_CLASS_UNSTABLE)
        W_LIT(w, "已告知监护人加强看护，督促按时服药");
    else
        W_NULL(w);
    W_TAB(w);
    w_user(w, p);
    W_LIT(w, "\n");
}

static const char copy_risk[] = "COPY risk_assessments (id, patient_id, assessed_on, level, tier, "
                                "basis, follow_up_id, user_id) FROM STDIN";

/* tier: 0 with a visit, 1 township review, 2 city assessment, 3 at registration. */
static void w_assessment(gen_w *w, const gen_row *p, int64_t id, long on, int level, int tier,
                         int64_t follow_up_id)
{
    w_i64(w, id);
    W_TAB(w);
    w_i64(w, p->id);
    W_TAB(w);
    w_date(w, on);
    W_TAB(w);
    w_i64(w, level);
    if (tier == 0) {
        W_LIT(w, "\tcommunity\t\\N\t");
        w_i64(w, follow_up_id);
        W_TAB(w);
        w_user(w, p);
    } else if (tier == 3) {
        W_LIT(w, "\tcommunity\t建档时初次评估\t\\N\t");
        w_user(w, p);
    } else if (tier == 1) {
        W_LIT(w, "\ttownship\t乡镇（街道）复评：近期仍有冲动行为，维持原评估等级\t\\N\t");
        w_user(w, p);
    } else {
        W_LIT(w, "\tcity\t市精神卫生中心综合评估：危险性等级维持，建议加强监护\t\\N\t\\N");
    }
    W_LIT(w, "\n");
}

static const char copy_hosp[] =
    "COPY hospitalisations (id, patient_id, admitted_on, hospital, involuntary, reason, "
    "discharged_on, discharge_note, user_id) FROM STDIN";

static void w_hosp(gen_w *w, const gen_row *p, const gen_plan *pl, int64_t id)
{
    w_i64(w, id);
    W_TAB(w);
    w_i64(w, p->id);
    W_TAB(w);
    w_date(w, pl->adm);
    W_TAB(w);
    w_str(w, pl->hosp_name);
    W_TAB(w);
    w_bool(w, pl->involuntary);
    W_TAB(w);
    w_str(w, pl->involuntary ? hosp_forced_reason : hosp_reason_text[pl->hosp_text]);
    W_TAB(w);
    w_date(w, pl->dis);
    W_TAB(w);
    if (pl->hosp_open)
        W_NULL(w);
    else
        w_str(w, discharge_note[pl->hosp_text]);
    W_TAB(w);
    w_user(w, p);
    W_LIT(w, "\n");
}

static const char copy_incidents[] =
    "COPY incidents (id, patient_id, occurred_on, place, kind, injured, dead, police_case_no, "
    "description, user_id) FROM STDIN";

static void w_incident(gen_w *w, const gen_row *p, const gen_plan *pl, int64_t id)
{
    w_i64(w, id);
    W_TAB(w);
    w_i64(w, p->id);
    W_TAB(w);
    w_date(w, pl->inc_on);
    W_TAB(w);
    w_str(w, incident_place[pl->inc_place]);
    W_TAB(w);
    w_str(w, incident_kind[pl->inc_kind]);
    W_TAB(w);
    w_i64(w, pl->inc_injured);
    W_TAB(w);
    w_i64(w, pl->inc_dead);
    W_TAB(w);
    if (pl->inc_kind > 0) {
        int y, m, d;

        gen_civil(pl->inc_on, &y, &m, &d);
        W_LIT(w, "潜公（泰）受案字〔");
        w_i64(w, y);
        W_LIT(w, "〕");
        w_i64(w, pl->inc_case);
        W_LIT(w, "号");
    } else {
        W_NULL(w);
    }
    W_TAB(w);
    w_str(w, incident_what[pl->inc_kind]);
    W_TAB(w);
    w_user(w, p);
    W_LIT(w, "\n");
}

static const char copy_rx[] =
    "COPY prescriptions (id, patient_id, drug, long_acting, dose_morning, dose_noon, "
    "dose_evening, unit, every_weeks, dose_mg, started_on, ended_on, user_id) FROM STDIN";

static void w_rx(gen_w *w, const gen_row *p, int64_t id, int rx, long from, long to)
{
    w_i64(w, id);
    W_TAB(w);
    w_i64(w, p->id);
    W_TAB(w);
    w_str(w, regimen_rx[rx]);
    W_TAB(w);
    w_date(w, from);
    W_TAB(w);
    w_date(w, to);
    W_TAB(w);
    w_user(w, p);
    W_LIT(w, "\n");
}

static const char copy_pickups[] =
    "COPY medication_pickups (id, patient_id, prescription_id, picked_on, days_supplied, "
    "picked_by, user_id) FROM STDIN";

static const char copy_checks[] =
    "COPY health_checks (id, patient_id, checked_on, items, note, user_id) FROM STDIN";

/* ---- streaming the tables ------------------------------------------------------------ */

enum gen_table {
    T_PATIENTS,
    T_EVENTS,
    T_GUARDIANS,
    T_FOLLOW_UPS,
    T_RISK,
    T_HOSP,
    T_INCIDENTS,
    T_RX,
    T_PICKUPS,
    T_CHECKS,
    T_N
};
static const char *const gen_table_name[T_N] = {
    "patients",         "patient_events", "guardians",     "follow_ups",         "risk_assessments",
    "hospitalisations", "incidents",      "prescriptions", "medication_pickups", "health_checks",
};

/* Per run: how many rows each clinical table gets (counted while the
 * patients stream), and the first of the ids reserved for them. */
typedef struct gen_run {
    long count[T_N];
    int64_t first[T_N];
    gen_hist *hist; /* one patient's visits at a time */
} gen_run;

/* Count one patient's clinical rows. */
static void gen_count(const gen_ctx *c, long i, const gen_row *p, gen_run *run)
{
    gen_plan pl;
    long dates[GEN_MAX_DATES];
    uint8_t items[GEN_MAX_DATES];
    int8_t note[GEN_MAX_DATES];
    int supply, n;

    gen_plan_make(c, i, p, &pl);
    if (!pl.on_register)
        return;
    gen_history(c, i, p, &pl, run->hist);
    run->count[T_FOLLOW_UPS] += run->hist->n;
    run->count[T_RISK] += 1 + run->hist->reached + gen_reviews(c, i, &pl, dates, items);
    run->count[T_HOSP] += pl.hosp;
    run->count[T_INCIDENTS] += pl.inc;
    run->count[T_RX] += (pl.rx >= 0) + (pl.rx_prev >= 0);
    run->count[T_PICKUPS] += gen_pickups(c, i, &pl, dates, &supply);
    n = gen_checks(c, i, p, &pl, dates, items, note);
    run->count[T_CHECKS] += n;
}

/* The clinical rows of one patient for one table; ids run on from *id
 * (and *fu, *rx: the follow-up and prescription ids they refer to). */
static int gen_clinical_rows(const gen_ctx *c, long i, const gen_row *p, enum gen_table which,
                             gen_run *run, gen_w *w, jf_buf *b, int64_t *id, int64_t *fu,
                             int64_t *rx, long *count)
{
    gen_plan pl;
    long dates[GEN_MAX_DATES];
    uint8_t items[GEN_MAX_DATES];
    int8_t note[GEN_MAX_DATES];
    int rc = 0, n, supply;
    gen_hist *h = run->hist;

    gen_plan_make(c, i, p, &pl);
    if (!pl.on_register)
        return 0;
    switch (which) {
    case T_FOLLOW_UPS:
        gen_history(c, i, p, &pl, h);
        for (int k = 0; k < h->n && rc == 0; k++) {
            w_followup(w, p, &h->v[k], (*id)++);
            rc = w_flush(w, b);
        }
        *count += h->n;
        break;
    case T_RISK:
        /* The initial assessment at registration, one with every reached
         * visit, and the reviews. */
        w_assessment(w, p, (*id)++, p->diag_date, p->risk, 3, 0);
        rc = w_flush(w, b);
        ++*count;
        gen_history(c, i, p, &pl, h);
        for (int k = 0; k < h->n && rc == 0; k++, ++*fu) {
            if (!h->v[k].reached)
                continue;
            w_assessment(w, p, (*id)++, h->v[k].date, h->v[k].risk, 0, *fu);
            rc = w_flush(w, b);
            ++*count;
        }
        n = gen_reviews(c, i, &pl, dates, items);
        for (int k = 0; k < n && rc == 0; k++) {
            w_assessment(w, p, (*id)++, dates[k], p->risk, items[k], 0);
            rc = w_flush(w, b);
            ++*count;
        }
        break;
    case T_HOSP:
        if (pl.hosp) {
            w_hosp(w, p, &pl, (*id)++);
            rc = w_flush(w, b);
            ++*count;
        }
        break;
    case T_INCIDENTS:
        if (pl.inc) {
            w_incident(w, p, &pl, (*id)++);
            rc = w_flush(w, b);
            ++*count;
        }
        break;
    case T_RX:
        if (pl.rx_prev >= 0) {
            w_rx(w, p, (*id)++, pl.rx_prev, pl.rx_prev_start, pl.rx_start - 1);
            rc = w_flush(w, b);
            ++*count;
        }
        if (pl.rx >= 0 && rc == 0) {
            w_rx(w, p, (*id)++, pl.rx, pl.rx_start, GEN_NO_DATE);
            rc = w_flush(w, b);
            ++*count;
        }
        break;
    case T_PICKUPS:
        /* The current prescription is the patient's last one. */
        *rx += (pl.rx_prev >= 0) + (pl.rx >= 0);
        n = gen_pickups(c, i, &pl, dates, &supply);
        for (int k = 0; k < n && rc == 0; k++) {
            gen_rng r;

            gen_rng_row(&r, c->seed, (uint64_t)i, 100 + (uint64_t)k);
            w_i64(w, (*id)++);
            W_TAB(w);
            w_i64(w, p->id);
            W_TAB(w);
            w_i64(w, *rx - 1);
            W_TAB(w);
            w_date(w, dates[k]);
            W_TAB(w);
            w_i64(w, supply);
            W_TAB(w);
            w_str(w, picked_by[GEN_PICK(&r, picked_by)]);
            W_TAB(w);
            w_user(w, p);
            W_LIT(w, "\n");
            rc = w_flush(w, b);
            ++*count;
        }
        break;
    case T_CHECKS:
        n = gen_checks(c, i, p, &pl, dates, items, note);
        for (int k = 0; k < n && rc == 0; k++) {
            w_i64(w, (*id)++);
            W_TAB(w);
            w_i64(w, p->id);
            W_TAB(w);
            w_date(w, dates[k]);
            W_TAB(w);
            w_codes(w, items[k], check_item, GEN_COUNT(check_item));
            W_TAB(w);
            if (note[k] >= 0)
                w_str(w, check_note[note[k]]);
            else
                W_NULL(w);
            W_TAB(w);
            w_user(w, p);
            W_LIT(w, "\n");
            rc = w_flush(w, b);
            ++*count;
        }
        break;
    default:
        break;
    }
    return rc;
}

/* Stream one table: regenerate every patient and send the part that belongs to it. */
static int gen_stream(PGconn *pg, const gen_ctx *c, enum gen_table which, gen_run *run, long *count)
{
    static const char *const sql[T_N] = {
        copy_patients, copy_events,    copy_guardians, copy_follow_ups, copy_risk,
        copy_hosp,     copy_incidents, copy_rx,        copy_pickups,    copy_checks,
    };
    static gen_w w;
    jf_buf b;
    gen_row row;
    int64_t id = run->first[which], fu = run->first[T_FOLLOW_UPS], rx = run->first[T_RX];
    int rc;

    *count = 0;
    if (which > T_GUARDIANS && run->count[which] == 0)
        return 0;
    jf_buf_init(&b, GEN_BUF_CAP);
    w_reset(&w);
    rc = copy_begin(pg, sql[which]);
    if (rc != 0)
        goto out;
    for (long i = 0; i < c->n && rc == 0; i++) {
        gen_row_make(c, i, &row);
        if (which == T_PATIENTS) {
            rc = row_patient(c, &row, &b);
            gen_count(c, i, &row, run);
            ++*count;
        } else if (which == T_EVENTS) {
            rc = row_events(&row, &b, count);
        } else if (which == T_GUARDIANS) {
            rc = row_guardians(&row, &b, count);
        } else {
            rc = gen_clinical_rows(c, i, &row, which, run, &w, &b, &id, &fu, &rx, count);
        }
        if (rc == 0)
            rc = copy_flush(pg, &b, false);
    }
    /* The ids were reserved for exactly the rows counted. */
    if (rc == 0 && which > T_GUARDIANS && *count != run->count[which]) {
        fprintf(stderr, "jingfang-gen: %s: %ld rows, %ld counted\n", gen_table_name[which], *count,
                run->count[which]);
        rc = JF_ERR_INVALID;
    }
    if (rc != 0 && rc != JF_ERR_DB)
        fprintf(stderr, "jingfang-gen: building %s rows: %s\n", gen_table_name[which],
                jf_err_str(rc));
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
    /* With each grid its doctor: an active doctor of the unit nearest
     * above it (in the demo, tf.doctor2 for 梅苑社区, tf.doctor elsewhere
     * in 泰丰街道). */
    static const char sql[] =
        "SELECT g.id, g.path, v.name, coalesce(g.population, 0), "
        "       $2::text IS NOT NULL AND v.code = $2, d.id, d.display_name "
        "  FROM org_units g JOIN org_units v ON v.id = g.parent_id "
        "  LEFT JOIN LATERAL (SELECT u.id, u.display_name FROM users u "
        "        JOIN org_units o ON o.id = u.org_unit_id "
        "       WHERE u.role = 'doctor' AND u.active AND starts_with(g.path, o.path) "
        "       ORDER BY length(o.path) DESC, u.id LIMIT 1) d ON true "
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
        if (!PQgetisnull(res, i, 5)) {
            jf_buf name;

            g->doctor_id = strtoll(PQgetvalue(res, i, 5), NULL, 10);
            jf_buf_init(&name, sizeof(g->doctor_name) - 1);
            if (copy_str(&name, PQgetvalue(res, i, 6)) == 0 && name.data != NULL)
                memcpy(g->doctor_name, name.data, name.len + 1);
            jf_buf_free(&name);
        }
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

/* Reserve n ids of a table's sequence in one step; the first goes to *first. */
static int gen_reserve(PGconn *pg, const char *table, long n, int64_t *first)
{
    static const char sql[] = "SELECT setval(pg_get_serial_sequence($1, 'id'), "
                              "nextval(pg_get_serial_sequence($1, 'id')) + $2::bigint - 1)";
    char ns[32];
    const char *params[2] = {table, ns};
    PGresult *res;

    *first = 0;
    if (n <= 0)
        return 0;
    snprintf(ns, sizeof(ns), "%ld", n);
    res = gen_query(pg, sql, 2, params);
    if (res == NULL)
        return JF_ERR_DB;
    *first = strtoll(PQgetvalue(res, 0, 0), NULL, 10) - n + 1;
    PQclear(res);
    return 0;
}

/* Reserve the patient ids. */
static int gen_reserve_ids(PGconn *pg, gen_ctx *c)
{
    int rc = gen_reserve(pg, "patients", c->n, &c->first_id);

    if (rc == 0 && (uint64_t)(c->first_id + c->n - 1) >= GEN_ID_SPACE) {
        fprintf(stderr, "jingfang-gen: patient ids beyond %" PRIu64 " would repeat ID numbers\n",
                GEN_ID_SPACE);
        return JF_ERR_TOO_LARGE;
    }
    return rc;
}

/* The colour tiers and clinical settings as configured, as the API reads them. */
static int gen_load_tiers(PGconn *pg, gen_ctx *c)
{
    PGresult *res =
        gen_query(pg,
                  "SELECT 'tier', colour, interval_months, joint FROM tier_config "
                  "UNION ALL SELECT 'setting', key, value, false FROM clinical_settings",
                  0, NULL);

    if (res == NULL)
        return JF_ERR_DB;
    c->tier = jf_tier_config_default();
    for (int i = 0; i < PQntuples(res); i++) {
        const char *kind = PQgetvalue(res, i, 0), *key = PQgetvalue(res, i, 1);
        int v = (int)strtol(PQgetvalue(res, i, 2), NULL, 10);

        if (strcmp(kind, "tier") == 0) {
            jf_colour col = jf_colour_parse(key);

            if ((int)col >= 0) {
                c->tier.interval_months[col] = v;
                c->tier.joint[col] = strcmp(PQgetvalue(res, i, 3), "t") == 0;
            }
        } else if (strcmp(key, "red_min_risk") == 0) {
            c->tier.red_min_risk = v;
        } else if (strcmp(key, "incident_months") == 0) {
            c->tier.incident_months = v;
        } else if (strcmp(key, "relapse_count") == 0) {
            c->tier.relapse_count = v;
        }
    }
    PQclear(res);
    return 0;
}

/* Foreign keys of the clinical tables. Checked row by row they would take
 * half the load; when this role owns the tables they are set aside for the
 * load and put back, exactly as they were, at its end: adding one back
 * checks every row in one join, inside the same transaction, so nothing
 * unchecked can ever be committed. */
typedef struct gen_fk {
    char table[140], name[140], def[600];
} gen_fk;
#define GEN_MAX_FKS 48

static const char gen_clinical_tables[] = "{follow_ups,risk_assessments,hospitalisations,"
                                          "incidents,prescriptions,medication_pickups,"
                                          "health_checks}";

static int gen_fks_alter(PGconn *pg, const gen_fk *fks, int n, bool add);

static int gen_fks_set_aside(PGconn *pg, gen_fk *fks, int *n)
{
    static const char owned[] =
        "SELECT coalesce(bool_and(pg_has_role(current_user, relowner, 'USAGE')), false) "
        "  FROM pg_class WHERE oid = ANY ($1::regclass[])";
    static const char list[] =
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
        "  FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY ($1::regclass[]) "
        " ORDER BY 1, 2";
    const char *params[1] = {gen_clinical_tables};
    PGresult *res = gen_query(pg, owned, 1, params);
    int count;

    *n = 0;
    if (res == NULL)
        return JF_ERR_DB;
    if (PQgetvalue(res, 0, 0)[0] != 't') {
        PQclear(res);
        return 0; /* not ours to change: check row by row */
    }
    PQclear(res);
    res = gen_query(pg, list, 1, params);
    if (res == NULL)
        return JF_ERR_DB;
    count = PQntuples(res);
    if (count > GEN_MAX_FKS) {
        PQclear(res);
        return 0;
    }
    for (int i = 0; i < count; i++) {
        gen_fk *f = &fks[i];

        if (PQgetlength(res, i, 0) >= (int)sizeof(f->table) ||
            PQgetlength(res, i, 1) >= (int)sizeof(f->name) ||
            PQgetlength(res, i, 2) >= (int)sizeof(f->def)) {
            PQclear(res);
            return 0;
        }
        memcpy(f->table, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0) + 1);
        memcpy(f->name, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1) + 1);
        memcpy(f->def, PQgetvalue(res, i, 2), (size_t)PQgetlength(res, i, 2) + 1);
    }
    PQclear(res);
    *n = count;
    return gen_fks_alter(pg, fks, count, false);
}

static int gen_fks_alter(PGconn *pg, const gen_fk *fks, int n, bool add)
{
    jf_buf sql;
    int rc = 0;

    jf_buf_init(&sql, 4096);
    for (int i = 0; i < n && rc == 0; i++) {
        jf_buf_reset(&sql);
        rc = add ? jf_buf_printf(&sql, "ALTER TABLE %s ADD CONSTRAINT %s %s", fks[i].table,
                                 fks[i].name, fks[i].def)
                 : jf_buf_printf(&sql, "ALTER TABLE %s DROP CONSTRAINT %s", fks[i].table,
                                 fks[i].name);
        if (rc == 0)
            rc = gen_exec(pg, sql.data);
    }
    jf_buf_free(&sql);
    return rc;
}

/* The change feed (migration 0031) writes a row per patient, per visit and
 * per record beside it, each from a PL/pgSQL trigger, and the version
 * triggers (0023) hold every row of each COPY to touch patients this very
 * transaction made: for 13.7 million visits, most of a load of a million
 * patients. What they would record for new patients is one change each,
 * (the guardians' summaries update the new patients too), so, when the
 * tables are ours, they are set aside for the load and that change is
 * written once per patient at the end (gen_triggers_restore). */
typedef struct gen_trigger {
    char table[140], name[140];
} gen_trigger;
#define GEN_MAX_TRIGGERS 32

static const char gen_loaded_tables[] =
    "{patients,patient_events,guardians,follow_ups,risk_assessments,hospitalisations,"
    "incidents,prescriptions,medication_pickups,health_checks}";

static int gen_triggers_alter(PGconn *pg, const gen_trigger *t, int n, bool enable)
{
    jf_buf sql;
    int rc = 0;

    jf_buf_init(&sql, 1024);
    for (int i = 0; i < n && rc == 0; i++) {
        jf_buf_reset(&sql);
        rc = jf_buf_printf(&sql, "ALTER TABLE %s %s TRIGGER %s", t[i].table,
                           enable ? "ENABLE" : "DISABLE", t[i].name);
        if (rc == 0)
            rc = gen_exec(pg, sql.data);
    }
    jf_buf_free(&sql);
    return rc;
}

static int gen_triggers_set_aside(PGconn *pg, gen_trigger *t, int *n)
{
    static const char list[] =
        "SELECT c.oid::regclass::text, quote_ident(g.tgname),"
        "  bool_and(pg_has_role(current_user, c.relowner, 'USAGE')) OVER ()"
        "  FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_proc f ON f.oid = "
        "g.tgfoid"
        " WHERE c.oid = ANY ($1::regclass[]) AND NOT g.tgisinternal AND g.tgenabled <> 'D'"
        "   AND f.proname IN ('changes_patient', 'changes_child', 'patients_touch',"
        "                     'stat_staff_count', 'stat_staff_move')"
        " ORDER BY 1, 2";
    const char *params[1] = {gen_loaded_tables};
    PGresult *res = gen_query(pg, list, 1, params);
    int count;

    *n = 0;
    if (res == NULL)
        return JF_ERR_DB;
    count = PQntuples(res);
    if (count == 0 || count > GEN_MAX_TRIGGERS || PQgetvalue(res, 0, 2)[0] != 't') {
        PQclear(res);
        return 0; /* none, or not ours to change: they fire row by row */
    }
    for (int i = 0; i < count; i++) {
        if (PQgetlength(res, i, 0) >= (int)sizeof(t[i].table) ||
            PQgetlength(res, i, 1) >= (int)sizeof(t[i].name)) {
            PQclear(res);
            return 0;
        }
        memcpy(t[i].table, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0) + 1);
        memcpy(t[i].name, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1) + 1);
    }
    PQclear(res);
    *n = count;
    return gen_triggers_alter(pg, t, count, false);
}

/* Put the triggers back and write what they would have: the change the
 * feed would have, one per new patient (its version is still 1: made in
 * this transaction), and the new visits' staff counts (stat_unit_staff). */
static int gen_triggers_restore(PGconn *pg, const gen_ctx *c, const gen_trigger *t, int n)
{
    char first[24], last[24];
    const char *params[2] = {first, last};
    PGresult *res;
    int rc;

    if (n == 0)
        return 0;
    rc = gen_triggers_alter(pg, t, n, true);
    if (rc != 0)
        return rc;
    snprintf(first, sizeof(first), "%" PRId64, c->first_id);
    snprintf(last, sizeof(last), "%" PRId64, c->first_id + c->n - 1);
    res = gen_query(pg,
                    "INSERT INTO changes (kind, entity_id, org_path) SELECT 'patient', id, org_path"
                    " FROM patients WHERE id BETWEEN $1 AND $2 ORDER BY id",
                    2, params);
    rc = res == NULL ? JF_ERR_DB : 0;
    PQclear(res);
    if (rc != 0)
        return rc;
    res = gen_query(pg,
                    "INSERT INTO stat_unit_staff AS s SELECT p.org_unit_id, f.visit_date,"
                    " f.user_id, count(*) FROM follow_ups f JOIN patients p ON p.id = f.patient_id"
                    " WHERE p.id BETWEEN $1 AND $2 AND f.user_id IS NOT NULL GROUP BY 1, 2, 3"
                    " ON CONFLICT (org_unit_id, day, user_id) DO UPDATE SET n = s.n + excluded.n",
                    2, params);
    rc = res == NULL ? JF_ERR_DB : 0;
    PQclear(res);
    return rc;
}

/* The visits' years (migration 0049) over the history's window: loaded
 * into a new database, they get a partition each rather than all going to
 * the one of the years before the first made. */
static int gen_follow_up_years(PGconn *pg, const gen_ctx *c)
{
    char from[11], to[11];
    const char *params[2] = {from, to};
    PGresult *res;
    int rc;

    jf_date_format((jf_date)(c->as_of - c->window), from);
    jf_date_format((jf_date)c->as_of, to);
    res = gen_query(pg, "SELECT follow_ups_partitions_ensure($1::date, $2::date)", 2, params);
    rc = res == NULL ? JF_ERR_DB : 0;
    PQclear(res);
    return rc;
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

static int gen_rate_arg(const char *opt, const char *v, double *out)
{
    char *end = NULL;
    double x;

    errno = 0;
    x = v ? strtod(v, &end) : 0;
    if (v == NULL || errno != 0 || end == v || *end != '\0' || !(x >= 0 && x <= 26)) {
        fprintf(stderr, "jingfang-gen: %s needs a number from 0 to 26\n", opt);
        return JF_ERR_INVALID;
    }
    *out = x;
    return 0;
}

static void gen_usage(void)
{
    fputs("usage: jingfang-gen [--patients N] [--township CODE] "
          "[--hot-village CODE --hot-count K]\n"
          "                    [--seed S] [--as-of YYYY-MM-DD] [--follow-ups-per-year F]\n"
          "                    [--history-days D] [--if-empty]\n"
          "Loads N synthetic patients (default 300) into the grids of township CODE\n"
          "(default 429005003); K of them into the grids of one village. Each patient on\n"
          "the register gets a clinical history up to the as-of date (default today,\n"
          "China Standard Time): follow-ups over the last D days (default 730, two\n"
          "years; at least 365) with their risk\n"
          "assessments, admissions, incidents, prescriptions, medicine pick-ups and\n"
          "health checks. F (default 5, 0: no follow-ups) is how many visits a year a\n"
          "patient gets whom the rules let wait longest; those due sooner (basically\n"
          "stable, unstable, red or orange) are seen when due. Output is the same for\n"
          "the same seed, options, as-of date and starting ids.\n"
          "Needs JF_DB_URL, JF_ID_ENC_KEY and JF_ID_INDEX_KEY. When the database role\n"
          "owns the clinical tables, their foreign keys are set aside for the load and\n"
          "put back (checked) before it commits: those tables stay locked until then.\n"
          "\n"
          "The generator does not compute the derived state (next due date, colour,\n"
          "flags, misses). Afterwards run, with the same JF_DB_URL and keys and\n"
          "JF_JWT_SECRET set:\n"
          "    jingfang-api recompute CODE\n"
          "It measures overdue from today, so generate with the default --as-of (or\n"
          "today's date) for a realistic worklist.\n",
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
    long written[T_N] = {0};
    double t0 = gen_now(), took[T_N] = {0};
    static gen_run run;
    static gen_fk fks[GEN_MAX_FKS];
    static gen_trigger triggers[GEN_MAX_TRIGGERS];
    int n_triggers = 0;
    int n_fks = 0;
    double took_fks = 0;
    int rc = 0;

    memset(&c, 0, sizeof(c));
    c.n = 300;
    c.as_of = jf_date_today();
    c.fu_per_year = 5;
    c.window = GEN_WINDOW_DAYS;

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
        } else if (strcmp(a, "--follow-ups-per-year") == 0) {
            rc = gen_rate_arg(a, v, &c.fu_per_year);
            i++;
        } else if (strcmp(a, "--history-days") == 0) {
            rc = gen_long(a, v, 365, GEN_WINDOW_DAYS, &c.window);
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
    c.fu_interval = c.fu_per_year > 0 ? 365.0 / c.fu_per_year : 365.0;
    gen_regimens_init();
    gen_dates_init(c.as_of);
    run.hist = malloc(sizeof(*run.hist));
    if (run.hist == NULL)
        return 1;

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
    while (c.n > 1 && (c.hot_mult == 0 || gen_gcd(c.hot_mult, (uint64_t)c.n) != 1))
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
        rc = gen_load_tiers(pg, &c);
    if (rc == 0)
        rc = gen_reserve_ids(pg, &c);
    if (rc == 0)
        rc = gen_follow_up_years(pg, &c);
    if (rc == 0)
        rc = gen_triggers_set_aside(pg, triggers, &n_triggers);
    /* The patients stream also counts the clinical rows, whose ids are
     * then reserved in one step per table. */
    for (int t = T_PATIENTS; t < T_N && rc == 0; t++) {
        double t1 = gen_now();

        if (t == T_FOLLOW_UPS) {
            for (int k = T_FOLLOW_UPS; k < T_N && rc == 0; k++)
                rc = gen_reserve(pg, gen_table_name[k], run.count[k], &run.first[k]);
            if (rc == 0)
                rc = gen_fks_set_aside(pg, fks, &n_fks);
        }
        if (rc == 0)
            rc = gen_stream(pg, &c, (enum gen_table)t, &run, &written[t]);
        took[t] = gen_now() - t1;
    }
    if (rc == 0) {
        double t1 = gen_now();

        rc = gen_fks_alter(pg, fks, n_fks, true);
        if (rc == 0)
            rc = gen_triggers_restore(pg, &c, triggers, n_triggers);
        took_fks = gen_now() - t1;
    }
    if (rc == 0)
        rc = gen_exec(pg, "COMMIT");
    if (rc == 0) {
        char day[11];

        jf_date_format((jf_date)c.as_of, day);
        fprintf(stderr,
                "generated %ld patients (ids %" PRId64 "-%" PRId64 ", %ld events, %ld guardians, "
                "%ld in village %s, township %s, seed %ld, as of %s) in %.2f s\n",
                written[T_PATIENTS], c.first_id, c.first_id + c.n - 1, written[T_EVENTS],
                written[T_GUARDIANS], c.hot_count, hot_village ? hot_village : "-", township, seed,
                day, gen_now() - t0);
        for (int t = T_PATIENTS; t < T_N; t++)
            fprintf(stderr, "  %-18s %10ld rows %7.2f s\n", gen_table_name[t], written[t], took[t]);
        if (n_fks > 0 || n_triggers > 0)
            fprintf(stderr,
                    "  %d foreign keys checked, %d triggers set aside put back, at the end in "
                    "%.2f s\n",
                    n_fks, n_triggers, took_fks);
        fprintf(stderr, "now run: jingfang-api recompute %s (due dates, colours, flags)\n",
                township);
    }
out:
    PQclear(res);
    PQfinish(pg);
    free(c.grids);
    free(run.hist);
    return rc == 0 ? 0 : 1;
}
