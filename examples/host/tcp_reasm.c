/* One-direction TCP reassembly with first-data-wins overlaps, bounded
 * out-of-order buffering and gap reporting.  See tcp_reasm.h. */
#include "tcp_reasm.h"

#include <stdlib.h>
#include <string.h>

struct tr_seg {
    tr_seg *next;
    uint32_t seq;
    uint32_t len;
    uint8_t data[];
};

static uint32_t seg_end(const tr_seg *s) { return s->seq + s->len; }
static int seq_le(uint32_t a, uint32_t b) { return !tr_seq_lt(b, a); }

void tr_init(tr_dir *d) { memset(d, 0, sizeof(*d)); }

void tr_syn(tr_dir *d, uint32_t isn)
{
    if (d->synced)
        return;
    d->next = isn + 1;
    d->synced = 1;
}

void tr_ack(tr_dir *d, uint32_t ack)
{
    if (!d->synced || d->done)
        return;
    if (tr_seq_lt(d->next, ack) && (uint32_t)(ack - d->next) > TR_MAX_AHEAD)
        return;   /* nonsense or another connection: ignore */
    if (!d->ack_seen || tr_seq_lt(d->acked, ack)) {
        d->acked = ack;
        d->ack_seen = 1;
    }
}

static void deliver(tr_dir *d, tr_pool *pool, const tr_ops *ops, void *ctx, const uint8_t *p,
                    uint32_t n)
{
    if (!n)
        return;
    ops->data(ctx, p, n);
    d->next += n;
    pool->stats.delivered_bytes += n;
}

static void report_gap(tr_dir *d, tr_pool *pool, const tr_ops *ops, void *ctx, uint32_t n)
{
    if (!n)
        return;
    ops->gap(ctx, n);
    d->next += n;
    pool->stats.gaps++;
    pool->stats.gap_bytes += n;
}

static void seg_free(tr_dir *d, tr_pool *pool, tr_seg *s)
{
    d->ooo_bytes -= s->len;
    pool->total_bytes -= s->len;
    free(s);
}

/* Delivers buffered segments that start at or before `next`. */
static void drain(tr_dir *d, tr_pool *pool, const tr_ops *ops, void *ctx)
{
    tr_seg *s;
    while ((s = d->ooo) && seq_le(s->seq, d->next)) {
        if (tr_seq_lt(d->next, seg_end(s))) {
            uint32_t skip = d->next - s->seq;
            deliver(d, pool, ops, ctx, s->data + skip, s->len - skip);
        }
        d->ooo = s->next;
        seg_free(d, pool, s);
    }
}

/* Bytes [seq, seq+len) with seq+len after `next`.  Returns how many of them
 * were new (delivered or buffered). */
static uint32_t process(tr_dir *d, tr_pool *pool, uint32_t seq, const uint8_t *data, uint32_t len,
                        const tr_ops *ops, void *ctx)
{
    uint32_t end = seq + len, cur = seq, fresh = 0;
    while (tr_seq_lt(cur, end)) {
        drain(d, pool, ops, ctx);
        if (tr_seq_lt(cur, d->next)) {      /* already delivered: first data wins */
            uint32_t stop = tr_seq_lt(d->next, end) ? d->next : end;
            pool->stats.overlap_bytes += stop - cur;
            cur = stop;
            continue;
        }
        /* The first buffered segment that ends after cur. */
        tr_seg **link = &d->ooo;
        while (*link && seq_le(seg_end(*link), cur))
            link = &(*link)->next;
        tr_seg *b = *link;
        if (b && seq_le(b->seq, cur)) {     /* covered by older buffered data */
            uint32_t stop = tr_seq_lt(seg_end(b), end) ? seg_end(b) : end;
            uint32_t n = stop - cur;
            if (memcmp(data + (cur - seq), b->data + (cur - b->seq), n) != 0)
                pool->stats.overlap_conflicts++;
            pool->stats.overlap_bytes += n;
            cur = stop;
            continue;
        }
        uint32_t lim = (b && tr_seq_lt(b->seq, end)) ? b->seq : end;
        uint32_t n = lim - cur;
        if (cur == d->next) {               /* in order: straight from the packet */
            deliver(d, pool, ops, ctx, data + (cur - seq), n);
            fresh += n;
            cur = lim;
            continue;
        }
        if ((size_t)d->ooo_bytes + n <= pool->max_dir_bytes &&
            pool->total_bytes + n <= pool->max_total_bytes) {
            tr_seg *s = malloc(sizeof(*s) + n);
            if (s) {
                memcpy(s->data, data + (cur - seq), n);
                s->seq = cur;
                s->len = n;
                s->next = b;
                *link = s;
                d->ooo_bytes += n;
                pool->total_bytes += n;
                if (pool->total_bytes > pool->stats.peak_total_bytes)
                    pool->stats.peak_total_bytes = pool->total_bytes;
                pool->stats.ooo_segments++;
                fresh += n;
                cur = lim;
                continue;
            }
        }
        /* No room: give up the oldest hole.  The data behind it is delivered
         * (freeing memory) and the loop tries again. */
        pool->stats.ooo_overflows++;
        uint32_t hole_end = (d->ooo && tr_seq_lt(d->ooo->seq, cur)) ? d->ooo->seq : cur;
        report_gap(d, pool, ops, ctx, hole_end - d->next);
    }
    drain(d, pool, ops, ctx);
    return fresh;
}

/* Drops buffered bytes at or beyond the FIN. */
static void trim_after_fin(tr_dir *d, tr_pool *pool)
{
    tr_seg **link = &d->ooo;
    while (*link) {
        tr_seg *s = *link;
        if (seq_le(d->fin_seq, s->seq)) {
            pool->stats.after_fin_bytes += s->len;
            *link = s->next;
            seg_free(d, pool, s);
        } else if (tr_seq_lt(d->fin_seq, seg_end(s))) {
            uint32_t cut = seg_end(s) - d->fin_seq;
            pool->stats.after_fin_bytes += cut;
            s->len -= cut;   /* the allocation keeps its size; accounting follows len */
            d->ooo_bytes -= cut;
            pool->total_bytes -= cut;
            link = &s->next;
        } else {
            link = &s->next;
        }
    }
}

static void free_all(tr_dir *d, tr_pool *pool)
{
    while (d->ooo) {
        tr_seg *s = d->ooo;
        d->ooo = s->next;
        seg_free(d, pool, s);
    }
}

int tr_segment(tr_dir *d, tr_pool *pool, uint32_t seq, const uint8_t *data, size_t len, int fin,
               const tr_ops *ops, void *ctx)
{
    if (d->done) {
        pool->stats.after_fin_bytes += len;
        return TR_MORE;
    }
    if (len > UINT32_MAX / 2)
        len = UINT32_MAX / 2;   /* cannot happen with IP lengths; keeps the arithmetic sane */
    if (!d->synced) {           /* mid-stream pick-up */
        d->next = seq;
        d->synced = 1;
    }
    if (tr_seq_lt(d->next, seq) && (uint32_t)(seq - d->next) > TR_MAX_AHEAD) {
        pool->stats.out_of_window++;
        return TR_MORE;
    }
    uint32_t n = (uint32_t)len;
    uint32_t end = seq + n;
    if (fin && !d->fin_seen) {
        d->fin_seen = 1;
        d->fin_seq = tr_seq_lt(end, d->next) ? d->next : end;
        trim_after_fin(d, pool);
    }
    if (d->fin_seen && tr_seq_lt(d->fin_seq, end)) {
        uint32_t cut = seq_le(d->fin_seq, seq) ? n : end - d->fin_seq;
        pool->stats.after_fin_bytes += cut;
        n -= cut;
        end = seq + n;
    }
    if (n) {
        pool->stats.segments++;
        uint32_t fresh = tr_seq_lt(d->next, end) ? process(d, pool, seq, data, n, ops, ctx) : 0;
        if (!fresh)
            pool->stats.retrans_segments++;
    }
    if (d->fin_seen && d->next == d->fin_seq) {
        free_all(d, pool);
        d->done = 1;
        return TR_END;
    }
    return TR_MORE;
}

void tr_finish(tr_dir *d, tr_pool *pool, const tr_ops *ops, void *ctx)
{
    if (d->done)
        return;
    if (d->synced) {
        while (d->ooo) {
            if (tr_seq_lt(d->next, d->ooo->seq))
                report_gap(d, pool, ops, ctx, d->ooo->seq - d->next);
            drain(d, pool, ops, ctx);
        }
        uint32_t stop = d->next;
        if (d->fin_seen)
            stop = d->fin_seq;
        else if (d->ack_seen)
            stop = d->acked;
        if (tr_seq_lt(d->next, stop))
            report_gap(d, pool, ops, ctx, stop - d->next);
    }
    d->done = 1;
}

void tr_release(tr_dir *d, tr_pool *pool)
{
    free_all(d, pool);
    d->done = 1;
}
