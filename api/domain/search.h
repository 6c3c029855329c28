/* Search tasks for lost patients (查找, docs/domain.md "Lost to follow-up"):
 * who reads, writes notes on and closes them, and when a task may be
 * closed as found or by a decision. Pure functions, no I/O. */
#ifndef JF_SEARCH_H
#define JF_SEARCH_H

#include <stdbool.h>

#include "../auth/scope.h"

/* The decisions that close a task other than "found", NULL-terminated. */
extern const char *const jf_search_decisions[];

/* The assigned police station and 平安办 (officials), the township office
 * (officials), the clinic (doctors) and the grid read a task; civil
 * affairs and system accounts do not. */
bool jf_search_may_read(jf_role r);
/* Those who take part in the search add notes: all readers but admins. */
bool jf_search_may_note(jf_role r);
/* A task is closed by an official (平安办, township) or the police. */
bool jf_search_may_close(jf_role r);

/* Why a task cannot be closed with outcome ("found" or a decision), in
 * English for the 409 answer, or NULL when it can. Found needs the
 * patient seen in person (a 面访 that reached them) or the whereabouts
 * confirmed by the police since the task was opened; a family phone call
 * is not enough. [R-LOST-4] */
const char *jf_search_close_refusal(bool open, const char *outcome, bool seen_in_person,
                                    bool police_confirmed);

#endif
