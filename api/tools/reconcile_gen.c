/* jingfang-reconcile-gen: three 三网 lists (police, health, grid) of N rows
 * each with discrepancies seeded in known numbers, and optionally the
 * registry of N patients they are compared with (written by COPY with
 * encrypted, indexed ID numbers). Prints the expected findings per
 * category. For the benchmark and for trying the comparison out.
 *
 * Person i (0 ≤ i < N) is a patient; by i mod 1000 (n = N / 1000):
 *   7  missing from police, risk 3            → missing_police   n
 *   8  missing from police, risk 1            → nothing
 *   11 health says risk 2, the registry 1     → risk_conflict    n
 *   13 missing from health                    → nothing (on the register)
 *   17 grid names another village             → village_conflict n
 *   19 health says 死亡                        → deceased_conflict n
 *   23 twice in the police list               → duplicate        n
 *   29 no ID in the grid list (name + birth)  → a weak match, nothing
 *   31 a 15-digit ID in the grid list         → nothing
 *   37 (i mod 2000) missing from grid         → nothing
 * plus n persons only in health (not_in_registry n), n/2 only in police
 * and grid (unregistered n/2), and n/2 police rows with an invalid ID and
 * no name (invalid_id n/2). Every list has exactly N rows. */
#include "../core/crypto.h"
#include "../domain/idcard.h"
#include "../domain/mask.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const surnames[20] = {"王", "李", "张", "刘", "陈", "杨", "黄",
                                         "赵", "吴", "周", "徐", "孙", "马", "朱",
                                         "胡", "郭", "何", "高", "林", "罗"};
static const char *const given[64] = {
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "建", "国", "文", "玉", "兰", "红", "海", "云",
    "春", "梅", "林", "荣", "新", "德", "志", "永", "福", "光", "成", "生", "忠", "和", "安", "宁",
    "清", "中", "东", "南", "西", "北", "山", "水", "金", "银", "松", "竹", "月", "星", "阳", "雪"};
static const char *const villages[5] = {"梅苑社区", "曹禹社区", "章华社区", "潜阳村", "汉城村"};
static const char *const village_codes[5] = {
    "429005003001G01", "429005003002G01", "429005003003G01", "429005003004G01", "429005003005G01"};

static void name_of(long i, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s%s", surnames[i % 20], given[(i / 20) % 64], given[(i / 1280) % 64],
             given[(i / 81920) % 64]);
}

/* A valid 18-digit ID of person i: born 1960-01-01 + i/500 days. */
static void id_of(long i, char out[19], char birth[11], int *male)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    long day = i / 500;
    int y = 1960, m = 1, d = 1;

    while (day > 0) {
        int dim = mdays[m - 1] + (m == 2 && y % 4 == 0 ? 1 : 0);
        if (day >= dim - d + 1) {
            day -= dim - d + 1;
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        } else {
            d += (int)day;
            day = 0;
        }
    }
    char tmp[64];

    *male = (int)(i % 2);
    snprintf(tmp, sizeof(tmp), "429005%04d%02d%02d%03ld", y % 10000, m % 100, d % 100,
             ((i % 500) * 2 + *male) % 1000);
    memcpy(out, tmp, 17);
    out[17] = jf_idcard_check_char(out);
    out[18] = '\0';
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
    memcpy(birth, tmp, 11);
}

static void to15(const char id18[19], char out[16])
{
    memcpy(out, id18, 6);
    memcpy(out + 6, id18 + 8, 9);
    out[15] = '\0';
}

#define HEADER "身份证号,姓名,性别,出生日期,村(社区),状态,风险等级\n"

static void row(FILE *f, const char *id, const char *name, int male, const char *birth,
                const char *village, const char *status, int risk)
{
    fprintf(f, "%s,%s,%s,%s,%s,%s,%d\n", id, name, male ? "男" : "女", birth, village, status,
            risk);
}

static int hexkey(const char *env, unsigned char out[32])
{
    const char *s = getenv(env);

    if (s == NULL || strlen(s) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

/* The N registry patients, by COPY. */
static int registry(long n)
{
    unsigned char enc[32], idx[32], ct[18 + 28], mac[32];
    char unit[5][24], *buf = malloc(1 << 20);
    size_t len = 0;
    PGconn *pg = PQconnectdb(getenv("JF_DB_URL") ? getenv("JF_DB_URL") : "dbname=jingfang");
    PGresult *r;

    if (buf == NULL || PQstatus(pg) != CONNECTION_OK || hexkey("JF_ID_ENC_KEY", enc) != 0 ||
        hexkey("JF_ID_INDEX_KEY", idx) != 0) {
        fprintf(stderr, "jingfang-reconcile-gen: database or keys: %s", PQerrorMessage(pg));
        return 1;
    }
    for (int v = 0; v < 5; v++) {
        const char *p[] = {village_codes[v]};
        r = PQexecParams(pg, "SELECT id FROM org_units WHERE code = $1", 1, NULL, p, NULL, NULL, 0);
        if (PQntuples(r) != 1) {
            fprintf(stderr, "jingfang-reconcile-gen: no unit %s (load the demo data)\n", p[0]);
            return 1;
        }
        snprintf(unit[v], sizeof(unit[v]), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    PQclear(PQexec(pg, "BEGIN"));
    r = PQexec(pg, "COPY patients (org_unit_id, status, name, id_cipher, id_index, id_masked,"
                   " gender, birth_date, diagnosis, diagnosis_date, risk_level) FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        fprintf(stderr, "jingfang-reconcile-gen: %s", PQerrorMessage(pg));
        return 1;
    }
    PQclear(r);
    for (long i = 0; i < n; i++) {
        char id[19], birth[11], name[64], masked[24], hc[2 * sizeof(ct) + 1], hi[65];
        int male;

        id_of(i, id, birth, &male);
        name_of(i, name, sizeof(name));
        if (jf_crypto_seal(enc, "patient-id", 10, id, 18, ct) != 0)
            return 1;
        jf_crypto_hmac_sha256(idx, 32, id, 18, mac);
        jf_crypto_hex(ct, sizeof(ct), hc);
        jf_crypto_hex(mac, 32, hi);
        jf_mask_idcard(id, masked, sizeof(masked));
        len += (size_t)snprintf(buf + len, 1024,
                                "%s\tin_care\t%s\t\\\\x%s\t\\\\x%s\t%s\t%s\t%s\tschizophrenia\t"
                                "2020-01-15\t%d\n",
                                unit[i % 5], name, hc, hi, masked, male ? "male" : "female", birth,
                                i % 1000 == 7 ? 3 : 1);
        if (len > (1 << 20) - 2048) {
            PQputCopyData(pg, buf, (int)len);
            len = 0;
        }
    }
    PQputCopyData(pg, buf, (int)len);
    PQputCopyEnd(pg, NULL);
    r = PQgetResult(pg);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "jingfang-reconcile-gen: %s", PQerrorMessage(pg));
        return 1;
    }
    PQclear(r);
    PQclear(PQexec(pg, "COMMIT"));
    PQclear(PQexec(pg, "ANALYZE patients"));
    PQfinish(pg);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    long n = 1000000, k;
    const char *dir = ".";
    int with_registry = 0;
    char path[512];
    FILE *police, *health, *grid;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            n = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--registry") == 0)
            with_registry = 1;
        else {
            fprintf(stderr,
                    "usage: jingfang-reconcile-gen [--rows N (multiple of 2000)] [--dir DIR]"
                    " [--registry]\n");
            return 2;
        }
    }
    if (n < 2000 || n % 2000 != 0 || n > 2000000) {
        fprintf(stderr,
                "jingfang-reconcile-gen: --rows must be a multiple of 2000, at most 2000000\n");
        return 2;
    }
    k = n / 1000;
    snprintf(path, sizeof(path), "%s/police.csv", dir);
    police = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/health.csv", dir);
    health = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/grid.utf8.csv", dir);
    grid = fopen(path, "w");
    if (police == NULL || health == NULL || grid == NULL) {
        fprintf(stderr, "jingfang-reconcile-gen: cannot write into %s\n", dir);
        return 1;
    }
    fputs(HEADER, police);
    fputs(HEADER, health);
    fputs(HEADER, grid);
    for (long i = 0; i < n + k + k / 2; i++) {
        char id[19], id15[16], birth[11], name[64];
        int male, c = (int)(i % 1000), risk = c == 7 ? 3 : 1;
        const char *vil;

        id_of(i, id, birth, &male);
        name_of(i, name, sizeof(name));
        vil = villages[i % 5];
        if (i >= n + k) { /* only in police and grid: unregistered */
            row(police, id, name, male, birth, vil, "在管", 1);
            row(grid, id, name, male, birth, vil, "在管", 1);
            continue;
        }
        if (i >= n) { /* only in health: not in the registry */
            row(health, id, name, male, birth, vil, "在管", 1);
            continue;
        }
        if (c != 7 && c != 8) {
            row(police, id, name, male, birth, vil, "在管", risk);
            if (c == 23)
                row(police, id, name, male, birth, vil, "在管", risk);
        }
        if (c != 13)
            row(health, id, name, male, birth, vil, c == 19 ? "死亡" : "在管", c == 11 ? 2 : risk);
        if (i % 2000 != 37) {
            if (c == 29)
                row(grid, "", name, male, birth, vil, "在管", risk);
            else if (c == 31) {
                to15(id, id15);
                row(grid, id15, name, male, birth, vil, "在管", risk);
            } else
                row(grid, id, name, male, birth, c == 17 ? villages[(i + 1) % 5] : vil, "在管",
                    risk);
        }
    }
    for (long j = 0; j < k / 2; j++) { /* a wrong check character, no name */
        char bad[19];
        snprintf(bad, sizeof(bad), "42900518990101%03ld", j % 1000);
        bad[17] = jf_idcard_check_char(bad) == '1' ? '2' : '1';
        bad[18] = '\0';
        fprintf(police, "%s,,,,,,\n", bad);
    }
    if (fclose(police) != 0 || fclose(health) != 0 || fclose(grid) != 0)
        return 1;
    if (with_registry && registry(n) != 0)
        return 1;
    printf("missing_police %ld\nunregistered %ld\nnot_in_registry %ld\ndeceased_conflict %ld\n"
           "village_conflict %ld\nrisk_conflict %ld\ninvalid_id %ld\nduplicate %ld\n",
           k, k / 2, k, k, k, k, k / 2, k);
    return 0;
}
