/* Who acts on a patient's record: the user and agency behind a write, and
 * the arena its strings live in. A request's is JF_ACTOR(req); the service
 * itself (a recompute from the command line) acts as nobody (0, 0), with
 * no request made up for it. */
#ifndef JF_RECORD_ACTOR_H
#define JF_RECORD_ACTOR_H

#include "../core/arena.h"
#include "../db/pool.h"
#include "../http/request.h"

typedef struct jf_actor {
    jf_arena *arena;
    long long user_id, agency_id; /* 0: none */
} jf_actor;

#define JF_ACTOR(req) (&(jf_actor){&(req)->arena, (req)->claims.user_id, (req)->claims.agency_id})

/* id as a text parameter in the actor's arena; NULL (SQL NULL) for 0. */
static inline const char *jf_actor_id(const jf_actor *who, long long id)
{
    return id > 0 ? jf_arena_printf(who->arena, "%lld", id) : NULL;
}

#endif
