/* Ledgers (台账, seed 001; docs/domain.md "Ledgers and information exchange"):
 * which ledgers there are and which roles read each, cut as the role
 * views cut a patient's record. Pure functions, no I/O. */
#ifndef JF_LEDGER_H
#define JF_LEDGER_H

#include <stdbool.h>

#include "../auth/scope.h"

typedef enum jf_ledger {
    JF_LEDGER_NONE = 0,
    JF_LEDGER_LOST,         /* 失访: with the search task and its notes */
    JF_LEDGER_NON_ADHERENT, /* 不服药/间断: reason, since when, 送药上门 */
    JF_LEDGER_GUARDIANSHIP, /* 弱监护/无监护 */
    JF_LEDGER_MIGRANT,      /* 流动: migrant, 户籍 elsewhere, away now */
    JF_LEDGER_KEY,          /* 重点患者: the key flags */
    JF_LEDGER_COUNT
} jf_ledger;

/* The ledgers' codes in order, NULL-terminated ("lost", …). */
extern const char *const jf_ledger_names[];
/* Why a patient does not take medication (不服药原因), NULL-terminated. */
extern const char *const jf_non_adherence_reasons[];

/* "lost" → JF_LEDGER_LOST …; JF_LEDGER_NONE for anything else. */
jf_ledger jf_ledger_parse(const char *s);
/* May role r read ledger l (and keep its work notes)? Those who search
 * read the lost one; compliance is clinical (officials, doctors, grid
 * workers); the key flags are risk (not civil affairs); guardianship and
 * migration are identity, read by every role that reads patients. [R-LEDGER-1] */
bool jf_ledger_may_read(jf_role r, jf_ledger l);
/* May role r add work notes to ledger l? Its readers who work the cases:
 * not admins, not system accounts. */
bool jf_ledger_may_note(jf_role r, jf_ledger l);

#endif
