/* Bounded 5-tuple hash table with LRU eviction.  See flow_table.h. */
#include "flow_table.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ft_entry {
    struct ft_entry *hnext;          /* hash chain */
    struct ft_entry *lprev, *lnext;  /* LRU list: head = most recent */
    uint64_t last_seen;
    ft_key key;
    max_align_t user[];              /* caller state */
} ft_entry;

struct ft_table {
    ft_entry **buckets;
    size_t mask;
    size_t max_flows, count, user_size;
    ft_entry *lru_head, *lru_tail;
    ft_entry *free_list;             /* released entries, reused before allocating */
    ft_release_fn release;
    void *ctx;
    uint64_t seed;
    ft_stats stats;
};

static ft_entry *entry_of(const void *user)
{
    return (ft_entry *)(void *)((char *)(uintptr_t)user - offsetof(ft_entry, user));
}

const ft_key *ft_key_of(const void *user) { return &entry_of(user)->key; }
uint64_t ft_last_seen(const void *user) { return entry_of(user)->last_seen; }
size_t ft_count(const ft_table *t) { return t->count; }
const ft_stats *ft_get_stats(const ft_table *t) { return &t->stats; }

int ft_key_make(ft_key *k, uint8_t family, uint8_t proto, const uint8_t src[16], uint16_t sport,
                const uint8_t dst[16], uint16_t dport)
{
    memset(k, 0, sizeof(*k));
    k->family = family;
    k->proto = proto;
    int c = memcmp(src, dst, 16);
    int swap = c > 0 || (c == 0 && sport > dport);
    memcpy(k->addr[swap], src, 16);
    memcpy(k->addr[!swap], dst, 16);
    k->port[swap] = sport;
    k->port[!swap] = dport;
    return swap;
}

/* FNV-1a over the key, seeded, with a final avalanche. */
static size_t key_hash(const ft_table *t, const ft_key *k)
{
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = 0xcbf29ce484222325ull ^ t->seed;
    for (size_t i = 0; i < sizeof(*k); i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (size_t)h & t->mask;
}

static int key_eq(const ft_key *a, const ft_key *b)
{
    return a->family == b->family && a->proto == b->proto && a->port[0] == b->port[0] &&
           a->port[1] == b->port[1] && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

ft_table *ft_create(size_t max_flows, size_t user_size, ft_release_fn release, void *ctx)
{
    if (max_flows < 1 || max_flows > ((size_t)1 << 30))
        return NULL;
    ft_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    size_t nb = 16;
    while (nb < max_flows)
        nb <<= 1;
    t->buckets = calloc(nb, sizeof(*t->buckets));
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    t->mask = nb - 1;
    t->max_flows = max_flows;
    t->user_size = user_size;
    t->release = release;
    t->ctx = ctx;
    /* A per-run seed keeps crafted captures from piling flows into one chain;
     * nothing visible depends on the hash order. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t->seed = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)t;
    return t;
}

static void lru_unlink(ft_table *t, ft_entry *e)
{
    if (e->lprev)
        e->lprev->lnext = e->lnext;
    else
        t->lru_head = e->lnext;
    if (e->lnext)
        e->lnext->lprev = e->lprev;
    else
        t->lru_tail = e->lprev;
    e->lprev = e->lnext = NULL;
}

static void lru_push_head(ft_table *t, ft_entry *e)
{
    e->lprev = NULL;
    e->lnext = t->lru_head;
    if (t->lru_head)
        t->lru_head->lprev = e;
    t->lru_head = e;
    if (!t->lru_tail)
        t->lru_tail = e;
}

/* Unlinks e from the table, calls the release callback, recycles the memory. */
static void release_entry(ft_table *t, ft_entry *e, ft_reason why)
{
    ft_entry **pp = &t->buckets[key_hash(t, &e->key)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    lru_unlink(t, e);
    t->count--;
    if (why == FT_EVICTED)
        t->stats.evicted++;
    else if (why == FT_TIMEOUT)
        t->stats.timed_out++;
    if (t->release)
        t->release(e->user, &e->key, why, t->ctx);
    e->hnext = t->free_list;
    t->free_list = e;
}

void *ft_get(ft_table *t, const ft_key *key, uint64_t now, int *created)
{
    size_t b = key_hash(t, key);
    *created = 0;
    for (ft_entry *e = t->buckets[b]; e; e = e->hnext) {
        if (key_eq(&e->key, key)) {
            e->last_seen = now;
            if (t->lru_head != e) {
                lru_unlink(t, e);
                lru_push_head(t, e);
            }
            return e->user;
        }
    }
    if (t->count >= t->max_flows && t->lru_tail)
        release_entry(t, t->lru_tail, FT_EVICTED);
    ft_entry *e = t->free_list;
    if (e) {
        t->free_list = e->hnext;
    } else {
        e = malloc(sizeof(*e) + t->user_size);
        if (!e)
            return NULL;
    }
    memset(e, 0, sizeof(*e) + t->user_size);
    e->key = *key;
    e->last_seen = now;
    e->hnext = t->buckets[b];
    t->buckets[b] = e;
    lru_push_head(t, e);
    t->count++;
    t->stats.created++;
    if (t->count > t->stats.peak)
        t->stats.peak = t->count;
    *created = 1;
    return e->user;
}

void ft_expire(ft_table *t, uint64_t now, uint64_t idle)
{
    while (t->lru_tail && now > t->lru_tail->last_seen && now - t->lru_tail->last_seen > idle)
        release_entry(t, t->lru_tail, FT_TIMEOUT);
}

void ft_remove(ft_table *t, void *user) { release_entry(t, entry_of(user), FT_REMOVED); }

void ft_flush(ft_table *t)
{
    /* Oldest first, so flows end in the order they went quiet. */
    while (t->lru_tail)
        release_entry(t, t->lru_tail, FT_FLUSHED);
}

void ft_destroy(ft_table *t)
{
    if (!t)
        return;
    ft_flush(t);
    while (t->free_list) {
        ft_entry *e = t->free_list;
        t->free_list = e->hnext;
        free(e);
    }
    free(t->buckets);
    free(t);
}
