/*
 * flow_table — bounded hash table of flows keyed by the 5-tuple, with a
 * least-recently-used list for eviction and idle timeouts.
 *
 * Each entry carries `user_size` bytes of caller state right after the
 * table's own header (one allocation per flow, recycled through a free list:
 * no allocation per packet).  When the table is full, creating a flow first
 * releases the least recently used one.  Every release (eviction, timeout,
 * removal, flush) goes through the caller's release callback, so the caller
 * can finish the flow's streams before its memory is reused.
 */
#ifndef VP_HOST_FLOW_TABLE_H
#define VP_HOST_FLOW_TABLE_H

#include <stddef.h>
#include <stdint.h>

/** Canonical 5-tuple: endpoint 0 sorts before endpoint 1 (address, then port),
 *  so both directions of a flow map to the same key. */
typedef struct ft_key {
    uint8_t addr[2][16];
    uint16_t port[2];
    uint8_t family;   /* 4 or 6 */
    uint8_t proto;    /* 6 or 17 */
} ft_key;

/** Builds the canonical key of a packet from src to dst and returns the
 *  index (0 or 1) that the packet's source got in it. */
int ft_key_make(ft_key *k, uint8_t family, uint8_t proto, const uint8_t src[16], uint16_t sport,
                const uint8_t dst[16], uint16_t dport);

typedef enum ft_reason {
    FT_EVICTED = 1,   /* the table was full and this flow was the least recently used */
    FT_TIMEOUT = 2,   /* idle for longer than the timeout */
    FT_REMOVED = 3,   /* ft_remove */
    FT_FLUSHED = 4    /* ft_flush / ft_destroy */
} ft_reason;

typedef void (*ft_release_fn)(void *user, const ft_key *key, ft_reason why, void *ctx);

typedef struct ft_stats {
    uint64_t created;
    uint64_t evicted;
    uint64_t timed_out;
    size_t peak;          /* most flows held at once */
} ft_stats;

typedef struct ft_table ft_table;

/** max_flows >= 1.  Returns NULL when out of memory. */
ft_table *ft_create(size_t max_flows, size_t user_size, ft_release_fn release, void *ctx);
/** Releases every flow (FT_FLUSHED) and frees the table.  NULL ok. */
void ft_destroy(ft_table *t);

/** Finds the flow of `key`, creating it (zeroed user state, *created = 1) when
 *  absent, and marks it most recently used at time `now`.  NULL only when out
 *  of memory. */
void *ft_get(ft_table *t, const ft_key *key, uint64_t now, int *created);
/** Key of a flow returned by ft_get. */
const ft_key *ft_key_of(const void *user);
/** Time the flow was last returned by ft_get. */
uint64_t ft_last_seen(const void *user);

/** Releases flows idle for more than `idle` time units before `now`. */
void ft_expire(ft_table *t, uint64_t now, uint64_t idle);
/** Releases one flow (FT_REMOVED). */
void ft_remove(ft_table *t, void *user);
/** Releases every flow (FT_FLUSHED); the table stays usable. */
void ft_flush(ft_table *t);

size_t ft_count(const ft_table *t);
const ft_stats *ft_get_stats(const ft_table *t);

#endif
