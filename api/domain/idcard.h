/* Resident ID numbers (GB 11643-1999): cleaning, 15→18 conversion and
 * validation of area, birth date and check character. Pure functions, no I/O. */
#ifndef JF_IDCARD_H
#define JF_IDCARD_H

#include <stdbool.h>

#define JF_IDCARD_LEN 18

/* A validated ID number and what it tells about its holder. */
typedef struct jf_idcard {
    char number[JF_IDCARD_LEN + 1]; /* normalised: 18 characters, check 'X' upper-case */
    int year, month, day;           /* birth date */
    bool male;                      /* 17th digit odd */
} jf_idcard;

/* Why an input is not a valid ID number; the first rule that fails wins, in
 * this order. */
typedef enum jf_idcard_result {
    JF_IDCARD_OK = 0,
    JF_IDCARD_BAD_LENGTH, /* not 15 or 18 characters once cleaned */
    JF_IDCARD_BAD_CHARS,  /* anything but digits (and a final X on 18) */
    /* Area code must start 1-9 and its first two digits name a province:
     * 11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82, 91. */
    JF_IDCARD_BAD_AREA,
    JF_IDCARD_BAD_DATE,    /* impossible birth date (Feb 30, month 13, before 1900…) */
    JF_IDCARD_FUTURE_DATE, /* born after today */
    JF_IDCARD_BAD_CHECK,   /* check character does not match */
} jf_idcard_result;

/* Clean, normalise and validate. Cleaning removes ASCII spaces and hyphens,
 * maps full-width digits (U+FF10..U+FF19, UTF-8 EF BC 90..99) to ASCII,
 * full-width X/x (U+FF38 / U+FF58) and 'x' to 'X'. A 15-digit ID becomes 18 by
 * inserting "19" after the 6-digit area code and appending the computed check
 * character. today_ymd is the current date as yyyymmdd (injectable clock).
 * Input over 64 bytes, and NULL, is BAD_LENGTH. out is written only on OK. [R-ID-1] */
jf_idcard_result jf_idcard_parse(const char *input, int today_ymd, jf_idcard *out);

/* An English message for the API, e.g. "check character does not match".
 * Never NULL; a static string. */
const char *jf_idcard_result_str(jf_idcard_result r);

/* The check character ('0'-'9' or 'X') of the first 17 digits:
 * S = Σ aᵢ·Wᵢ, W = 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, S mod 11 → "10X98765432".
 * Returns '\0' when first17 is NULL or its first 17 characters are not all
 * ASCII digits. */
char jf_idcard_check_char(const char *first17);

/* The birth date as "yyyy-mm-dd" into out (11 bytes). */
void jf_idcard_birth_iso(const jf_idcard *id, char out[11]);

#endif
