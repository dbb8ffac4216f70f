/*
 * Per-stream element state, made on demand.  Most rules never see their
 * first condition in a given stream, so a stream only holds state for the
 * chains that actually started: a small hash table from element index to a
 * zeroed block in an arena.  Blocks never move (chain.c keeps pointers while
 * it creates more), and the total is bounded by the rule set's plan.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ARENA_BLOCK 2048

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    uint64_t data[];  /* 8-byte aligned */
} arena_block;

struct vp_state_table {
    uint32_t *keys;   /* element index + 1; 0 = empty */
    uint8_t **vals;
    size_t cap, n;    /* cap is a power of two */
    arena_block *blocks;
    size_t bytes;     /* memory held, for vp_stream_stats */
};

static uint8_t *arena_alloc(vp_state_table *t, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    arena_block *b = t->blocks;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        b = calloc(1, sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        b->next = t->blocks;
        t->blocks = b;
        t->bytes += sizeof(*b) + cap;
    }
    uint8_t *p = (uint8_t *)b->data + b->used;
    b->used += size;
    return p;
}

static size_t slot_of(uint32_t key, size_t cap)
{
    return (size_t)(key * 2654435761u) & (cap - 1);
}

static int table_grow(vp_state_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 16;
    uint32_t *keys = calloc(cap, sizeof(uint32_t));
    uint8_t **vals = calloc(cap, sizeof(uint8_t *));
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i])
            continue;
        size_t j = slot_of(t->keys[i], cap);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = t->keys[i];
        vals[j] = t->vals[i];
    }
    t->bytes += (cap - t->cap) * (sizeof(uint32_t) + sizeof(uint8_t *));
    free(t->keys);
    free(t->vals);
    t->keys = keys;
    t->vals = vals;
    t->cap = cap;
    return 0;
}

uint8_t *vp_state_get(vp_stream_t *s, uint32_t ci, int create)
{
    const vp_elem *el = &s->bundle->plan.elems[ci];
    if (el->state_size == 0)
        return NULL;
    uint8_t *p = vp_state_slot(s, ci, el->state_size, create);
    /* a chain with state has started in this stream (chain.c skips others) */
    if (p && create)
        vp_bit_set(s->chain_started, el->chain);
    return p;
}

uint8_t *vp_state_slot(vp_stream_t *s, uint32_t slot, size_t size, int create)
{
    vp_state_table *t = s->states;
    uint32_t key = slot + 1;
    if (t && t->cap) {
        for (size_t j = slot_of(key, t->cap); t->keys[j]; j = (j + 1) & (t->cap - 1))
            if (t->keys[j] == key)
                return t->vals[j];
    }
    if (!create)
        return NULL;
    if (!t) {
        t = s->states = calloc(1, sizeof(*t));
        if (!t) {
            s->oom = 1;
            return NULL;
        }
        t->bytes = sizeof(*t);
    }
    if ((t->n + 1) * 2 > t->cap && table_grow(t) != 0) {
        s->oom = 1;
        return NULL;
    }
    uint8_t *p = arena_alloc(t, size);
    if (!p) {
        s->oom = 1; /* this chain is not followed; the scan call reports it */
        return NULL;
    }
    size_t j = slot_of(key, t->cap);
    while (t->keys[j])
        j = (j + 1) & (t->cap - 1);
    t->keys[j] = key;
    t->vals[j] = p;
    t->n++;
    return p;
}

void vp_state_foreach(vp_stream_t *s, void (*fn)(vp_stream_t *, uint32_t, uint8_t *, void *),
                      void *ctx)
{
    vp_state_table *t = s->states;
    if (!t)
        return;
    for (size_t j = 0; j < t->cap; j++)
        if (t->keys[j])
            fn(s, t->keys[j] - 1, t->vals[j], ctx);
}

size_t vp_state_bytes(const vp_stream_t *s)
{
    return s->states ? s->states->bytes : 0;
}

void vp_state_free(vp_stream_t *s)
{
    vp_state_table *t = s->states;
    if (!t)
        return;
    while (t->blocks) {
        arena_block *b = t->blocks;
        t->blocks = b->next;
        free(b);
    }
    free(t->keys);
    free(t->vals);
    free(t);
    s->states = NULL;
}
