/*
 * tcp_reasm — reassembles one direction of a TCP connection into an ordered
 * byte stream.  It knows nothing about libvpatch: it hands bytes in order to a
 * `data` callback and reports bytes that will never come with a `gap`
 * callback, so it can be driven and tested with synthetic segments.
 *
 * Rules:
 * - Sequence numbers are compared with serial-number arithmetic (RFC 1982):
 *   a wrap-around of the 32-bit space is handled transparently.
 * - In-order data is delivered straight from the caller's buffer (no copy, no
 *   allocation).  Data beyond a hole is copied into an out-of-order list,
 *   sorted and non-overlapping, until the hole is filled.
 * - The FIRST data received for a sequence range wins: retransmitted or
 *   overlapping bytes of a later segment are discarded (and counted; an
 *   overlap whose bytes differ from the buffered ones is counted as a
 *   conflict, a classic evasion attempt).
 * - Buffered bytes are bounded per direction and in total (`tr_pool`).  When
 *   a segment would exceed either bound, the oldest hole is given up: it is
 *   reported as a gap and the buffered data behind it is delivered, which
 *   frees the memory.  Received data is never thrown away for lack of room.
 * - A direction starts at its SYN (tr_syn) or, without one, at the first
 *   segment seen (mid-stream pick-up).
 * - A FIN fixes the end of the stream: tr_segment returns TR_END once every
 *   byte up to the FIN has been delivered.  tr_finish ends a direction
 *   whatever is missing (RST, timeout, end of capture, FIN beyond a hole):
 *   every remaining hole, including the one up to a FIN (or up to what the
 *   peer acknowledged), becomes a gap.
 */
#ifndef VP_HOST_TCP_REASM_H
#define VP_HOST_TCP_REASM_H

#include <stddef.h>
#include <stdint.h>

/** How far ahead of the next expected byte a segment may start (bytes). */
#define TR_MAX_AHEAD (1u << 30)

typedef struct tr_ops {
    void (*data)(void *ctx, const uint8_t *p, size_t n);  /* next bytes of the stream */
    void (*gap)(void *ctx, uint64_t n);                  /* n bytes lost for good */
} tr_ops;

typedef struct tr_stats {
    uint64_t segments;           /* data segments processed */
    uint64_t delivered_bytes;
    uint64_t ooo_segments;       /* segments (pieces) buffered out of order */
    uint64_t retrans_segments;   /* segments whose every byte had been seen */
    uint64_t overlap_bytes;      /* bytes discarded because older data covered them */
    uint64_t overlap_conflicts;  /* overlaps whose bytes differed from buffered data */
    uint64_t ooo_overflows;      /* holes given up because a buffer bound was reached */
    uint64_t gaps, gap_bytes;    /* holes reported as lost */
    uint64_t out_of_window;      /* segments too far ahead, dropped */
    uint64_t after_fin_bytes;    /* bytes beyond the FIN, dropped */
    uint64_t peak_total_bytes;   /* high-water mark of pool->total_bytes */
} tr_stats;

/** Budget shared by every direction of every flow. */
typedef struct tr_pool {
    size_t max_dir_bytes;    /* out-of-order bytes one direction may hold */
    size_t max_total_bytes;  /* out-of-order bytes all directions together may hold */
    size_t total_bytes;      /* currently held */
    tr_stats stats;
} tr_pool;

typedef struct tr_seg tr_seg;

/** One direction.  Zero-initialised (or tr_init) = nothing seen yet. */
typedef struct tr_dir {
    tr_seg *ooo;          /* out-of-order segments, ascending, non-overlapping */
    uint32_t next;        /* sequence number of the next byte to deliver */
    uint32_t fin_seq;     /* sequence number of the FIN when fin_seen */
    uint32_t ooo_bytes;   /* bytes held in `ooo` */
    uint32_t acked;       /* highest acknowledgment from the peer when ack_seen */
    uint8_t synced;       /* `next` is known */
    uint8_t ack_seen;
    uint8_t fin_seen;
    uint8_t done;         /* stream ended: nothing more is delivered */
} tr_dir;

enum { TR_MORE = 0, TR_END = 1 };

void tr_init(tr_dir *d);

/** A SYN with initial sequence number `isn`: data starts at isn + 1.
 *  Ignored once the direction is synchronised. */
void tr_syn(tr_dir *d, uint32_t isn);

/** One segment: `len` payload bytes starting at sequence number `seq`, with
 *  `fin` set when it carries a FIN.  Returns TR_END exactly once, when the
 *  stream has been delivered up to its FIN, TR_MORE otherwise. */
int tr_segment(tr_dir *d, tr_pool *pool, uint32_t seq, const uint8_t *data, size_t len, int fin,
               const tr_ops *ops, void *ctx);

/** The peer acknowledged everything before `ack`: bytes up to there were
 *  sent, so at tr_finish a hole below it is known to be lost even without a
 *  FIN or later data. */
void tr_ack(tr_dir *d, uint32_t ack);

/** Ends the direction now: holes (and the missing bytes up to a FIN seen
 *  beyond them) are reported as gaps, buffered data is delivered.
 *  No-op on a direction already done. */
void tr_finish(tr_dir *d, tr_pool *pool, const tr_ops *ops, void *ctx);

/** Drops buffered data without delivering it (a blocked flow) and marks the
 *  direction done. */
void tr_release(tr_dir *d, tr_pool *pool);

/** Serial-number comparison: a is before b. */
static inline int tr_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

#endif
