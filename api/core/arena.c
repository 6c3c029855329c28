/* Per-request arena: a list of chunks, freed at once. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 4096
#define ARENA_ALIGN 16

struct jf_arena_chunk {
    struct jf_arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void jf_arena_init(jf_arena *a, size_t cap)
{
    a->head = NULL;
    a->total = 0;
    a->cap = cap;
}

void *jf_arena_alloc(jf_arena *a, size_t n)
{
    struct jf_arena_chunk *c = a->head;
    size_t rounded = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    void *p;

    if (n == 0)
        rounded = ARENA_ALIGN;
    if (rounded < n || rounded > a->cap - a->total)
        return NULL;
    if (c == NULL || c->size - c->used < rounded) {
        size_t size = rounded > ARENA_CHUNK ? rounded : ARENA_CHUNK;
        c = malloc(sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        c->used = 0;
        /* A large block gets its own chunk behind the head, so the head's
         * free space stays usable for the small ones that follow. */
        if (a->head != NULL && rounded > ARENA_CHUNK) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    p = c->data + c->used;
    c->used += rounded;
    a->total += rounded;
    return p;
}

char *jf_arena_strndup(jf_arena *a, const char *s, size_t n)
{
    char *p;

    if (s == NULL || n == SIZE_MAX)
        return NULL;
    p = jf_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *jf_arena_strdup(jf_arena *a, const char *s)
{
    return s ? jf_arena_strndup(a, s, strlen(s)) : NULL;
}

char *jf_arena_printf(jf_arena *a, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    p = jf_arena_alloc(a, (size_t)n + 1);
    if (p == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void jf_arena_free(jf_arena *a)
{
    struct jf_arena_chunk *c = a->head;

    while (c != NULL) {
        struct jf_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}
