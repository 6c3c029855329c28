/* A per-request memory arena (as h2o's mem pool): many small allocations,
 * one free when the request ends. Every pointer it returns is owned by the
 * arena and dies with jf_arena_free. */
#ifndef JF_ARENA_H
#define JF_ARENA_H

#include <stddef.h>

struct jf_arena_chunk;

typedef struct jf_arena {
    struct jf_arena_chunk *head;
    size_t total; /* bytes handed out so far */
    size_t cap;   /* jf_arena_alloc fails past this many bytes */
} jf_arena;

/* Prepare an empty arena that may hand out at most cap bytes in all. */
void jf_arena_init(jf_arena *a, size_t cap);
/* n bytes aligned for any type, or NULL past the cap or on OOM. */
void *jf_arena_alloc(jf_arena *a, size_t n);
/* A copy of s (NULL if s is NULL or no memory). */
char *jf_arena_strdup(jf_arena *a, const char *s);
/* A NUL-terminated copy of the first n bytes of s. */
char *jf_arena_strndup(jf_arena *a, const char *s, size_t n);
/* printf into the arena. */
char *jf_arena_printf(jf_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Free everything the arena handed out. */
void jf_arena_free(jf_arena *a);

#endif
