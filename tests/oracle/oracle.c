/*
 * Reference evaluator of the rule language; see oracle.h.
 *
 * The semantics, as in docs/rule-format.md:
 *
 *  - Positions count every byte of the stream, lost (gap) bytes included.
 *  - A match of a pattern is a span [s, e) of bytes that lies inside one
 *    segment (nothing matches across a gap).
 *  - offset: s >= offset.  depth: e <= offset + depth (offset 0 if absent).
 *  - A relative condition (distance and/or within) is matched against E, the
 *    end of the match chosen for the condition before it, and its match must
 *    lie in the same segment as that one: s >= E + distance (distance 0 if
 *    absent), and with within e <= E + distance + within.
 *  - An absolute condition starts a chain; relative ones extend it.  The rule
 *    holds when every chain has some satisfying choice of matches.
 *  - A negated condition (always the last of its chain) holds when no match of
 *    its pattern lies entirely inside its window [start, end]: for an
 *    absolute condition [offset, offset + depth], for a relative one
 *    [max(E + distance, 0), E + distance + within]; open-ended without depth
 *    or within.  (A relative negation with offset/depth too: only matches
 *    that also satisfy offset/depth count, the window stays the relative
 *    one.)  A window that overlaps a gap cannot be decided and never holds;
 *    nor can a relative window that does not lie in the segment of E (before
 *    it, or after a gap that follows it): no relative chain spans a gap.
 *
 *  - isdataat N is a pattern that matches every byte, in the one-byte window
 *    [N, N + 1] (absolute) or [E + N, E + N + 1] (relative): it holds when
 *    that byte arrived, its negation when the stream ended before it.
 *  - endswith keeps only the matches that end exactly where the stream ends.
 *  - byte_jump N matches every N bytes of a segment; the condition after it
 *    counts from J = e + value * multiplier (rounded up to a multiple of 4
 *    with align) + post_offset instead of e, and a value that moves more than
 *    65535 bytes is no match.
 *
 * When does the rule become true?  Every element of a chain is known at a
 * "decision point": a match at its end e, a negation at the end of its window
 * (the end of the stream when the window is open or reaches past it).  A chain
 * is complete at the latest decision point of its elements, the rule at the
 * latest completion of its chains, each chain taking its earliest satisfying
 * choice (chains are independent, so the minimum can be taken per chain).
 */
#include "oracle.h"

#include <stdio.h>
#include <stdlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define NEVER INT64_MAX /* decision point of something that never holds */
#define OPEN INT64_MAX  /* end of an open-ended window */

typedef struct stream {
    const orc_segment *segs;
    size_t n;
    int64_t *start; /* position of the first byte of each segment */
    int64_t end;    /* position just after the last byte or gap */
} stream;

typedef struct span {
    int64_t s, e; /* [s, e) */
    size_t seg;
    int64_t j;    /* where the next relative condition counts from: e, or a jump's target */
} span;

typedef struct spans {
    span *v;
    size_t n, cap;
} spans;

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static int push(spans *l, int64_t s, int64_t e, size_t seg)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        span *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (span){s, e, seg, e};
    return 0;
}

/* ------------------------------------------------------------ all matches */

static int fold(int ch) { return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch; }

static int content_spans(const orc_cond *c, const stream *st, spans *out)
{
    const uint8_t *pat = (const uint8_t *)c->pattern;
    for (size_t g = 0; g < st->n; g++) {
        const orc_segment *seg = &st->segs[g];
        for (size_t s = 0; s + c->len <= seg->len; s++) {
            size_t k = 0;
            while (k < c->len && (c->nocase ? fold(seg->data[s + k]) == fold(pat[k])
                                            : seg->data[s + k] == pat[k]))
                k++;
            if (k == c->len &&
                push(out, st->start[g] + (int64_t)s, st->start[g] + (int64_t)(s + c->len), g))
                return -1;
        }
    }
    return 0;
}

static int bytetest_holds(const orc_cond *c, const uint8_t *p)
{
    uint64_t x = 0;
    for (int k = 0; k < c->bt_bytes; k++)
        x = (x << 8) | p[c->bt_little ? c->bt_bytes - 1 - k : k];
    uint64_t v = c->bt_value;
    switch (c->bt_op) {
    case ORC_BT_EQ: return x == v;
    case ORC_BT_NE: return x != v;
    case ORC_BT_LT: return x < v;
    case ORC_BT_LE: return x <= v;
    case ORC_BT_GT: return x > v;
    case ORC_BT_GE: return x >= v;
    case ORC_BT_AND: return (x & v) != 0;
    default: return (x & v) == 0;
    }
}

/* Every run of bt_bytes bytes (within one segment) whose value passes. */
static int bytetest_spans(const orc_cond *c, const stream *st, spans *out)
{
    size_t n = (size_t)c->bt_bytes;
    for (size_t g = 0; g < st->n; g++) {
        const orc_segment *seg = &st->segs[g];
        for (size_t s = 0; s + n <= seg->len; s++)
            if (bytetest_holds(c, seg->data + s) &&
                push(out, st->start[g] + (int64_t)s, st->start[g] + (int64_t)(s + n), g))
                return -1;
    }
    return 0;
}

static int regex_spans(const orc_cond *c, const stream *st, spans *out, char *err, size_t err_len)
{
    uint32_t options = PCRE2_NO_AUTO_POSSESS;
    for (const char *f = c->flags; f && *f; f++) {
        switch (*f) {
        case 'i': options |= PCRE2_CASELESS; break;
        case 's': options |= PCRE2_DOTALL; break;
        case 'm': options |= PCRE2_MULTILINE; break;
        case 'x': options |= PCRE2_EXTENDED; break;
        default:
            snprintf(err, err_len, "unknown regex flag '%c'", *f);
            return -1;
        }
    }
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    if (!cctx)
        return -1;
    pcre2_set_newline(cctx, PCRE2_NEWLINE_LF); /* as Hyperscan: `.` skips only \n */
    int code_err;
    PCRE2_SIZE err_at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)c->pattern, c->len, options, &code_err, &err_at, cctx);
    pcre2_compile_context_free(cctx);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code_err, msg, sizeof(msg));
        snprintf(err, err_len, "regex '%.*s': %s", (int)c->len, c->pattern, (const char *)msg);
        return -1;
    }
    int rc = 0;
    enum { WORKSPACE = 20000 };
    int *workspace = malloc(WORKSPACE * sizeof(int));
    if (!workspace) {
        pcre2_code_free(re);
        return -1;
    }
    for (size_t g = 0; g < st->n && rc == 0; g++) {
        const orc_segment *seg = &st->segs[g];
        if (seg->len == 0)
            continue;
        /* At most one match per end position for a given start. */
        pcre2_match_data *md = pcre2_match_data_create((uint32_t)seg->len + 1, NULL);
        if (!md) {
            rc = -1;
            break;
        }
        for (size_t s = 0; s < seg->len && rc == 0; s++) {
            /* Every span starting at s: DFA matching lists all of its ends. */
            int n = pcre2_dfa_match(re, seg->data, seg->len, s, PCRE2_ANCHORED, md, NULL, workspace,
                                    WORKSPACE);
            if (n == PCRE2_ERROR_NOMATCH)
                continue;
            if (n <= 0) {
                snprintf(err, err_len, "pcre2_dfa_match failed (%d)", n);
                rc = -1;
                break;
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            for (int k = 0; k < n && rc == 0; k++)
                if (ov[2 * k + 1] > ov[2 * k])
                    rc = push(out, st->start[g] + (int64_t)ov[2 * k],
                              st->start[g] + (int64_t)ov[2 * k + 1], g);
        }
        pcre2_match_data_free(md);
    }
    free(workspace);
    pcre2_code_free(re);
    return rc;
}

/* byte_jump: every run of bj_bytes bytes, each with its target. */
static int jump_spans(const orc_cond *c, const stream *st, spans *out)
{
    size_t n = (size_t)c->bj_bytes;
    for (size_t g = 0; g < st->n; g++) {
        const orc_segment *seg = &st->segs[g];
        for (size_t s = 0; s + n <= seg->len; s++) {
            uint64_t v = 0;
            for (size_t k = 0; k < n; k++)
                v = (v << 8) | seg->data[s + (c->bj_little ? n - 1 - k : k)];
            /* in 128 bits: no value can wrap around */
            unsigned __int128 move = (unsigned __int128)v * c->bj_mult;
            if (c->bj_align)
                move = (move + 3) / 4 * 4;
            move += c->bj_post;
            if (move > 65535)
                continue;
            int64_t e = st->start[g] + (int64_t)(s + n);
            if (push(out, e - (int64_t)n, e, g))
                return -1;
            out->v[out->n - 1].j = e + (int64_t)move;
        }
    }
    return 0;
}

/* isdataat: every byte is a match. */
static int byte_spans(const stream *st, spans *out)
{
    for (size_t g = 0; g < st->n; g++)
        for (size_t i = 0; i < st->segs[g].len; i++)
            if (push(out, st->start[g] + (int64_t)i, st->start[g] + (int64_t)i + 1, g))
                return -1;
    return 0;
}

/* endswith: drop the matches that do not end at the end of the stream. */
static void keep_stream_end(spans *l, int64_t end)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].e == end)
            l->v[k++] = l->v[i];
    l->n = k;
}

/* isdataat as the window of a one-byte match. */
static orc_cond dataat_window(const orc_cond *c)
{
    orc_cond w = *c;
    if (c->has_distance) {
        w.has_within = 1;
        w.within = 1;
    } else {
        w.has_offset = w.has_depth = 1;
        w.offset = c->dataat;
        w.depth = 1;
    }
    return w;
}

/* ------------------------------------------------------------ windows */

static int is_relative(const orc_cond *c) { return c->has_distance || c->has_within; }

/* offset/depth */
static int64_t abs_start(const orc_cond *c) { return c->has_offset ? c->offset : 0; }
static int64_t abs_end(const orc_cond *c) { return c->has_depth ? abs_start(c) + c->depth : OPEN; }

/* distance/within, given E */
static int64_t rel_start(const orc_cond *c, int64_t E) { return E + (c->has_distance ? c->distance : 0); }
static int64_t rel_end(const orc_cond *c, int64_t E) { return c->has_within ? rel_start(c, E) + c->within : OPEN; }

/* Is m a match of positive condition c, given the match `prev` of the
 * condition before it (NULL for an absolute condition)? */
static int fits(const orc_cond *c, const span *m, const span *prev)
{
    if (m->s < abs_start(c) || m->e > abs_end(c))
        return 0;
    if (!prev)
        return 1;
    return m->seg == prev->seg && m->s >= rel_start(c, prev->j) && m->e <= rel_end(c, prev->j);
}

static int overlaps_gap(const stream *st, int64_t from, int64_t to)
{
    if (from >= to)
        return 0;
    for (size_t g = 0; g < st->n; g++) {
        int64_t gap_from = st->start[g] + (int64_t)st->segs[g].len;
        int64_t gap_to = gap_from + (int64_t)st->segs[g].gap;
        if (gap_from < gap_to && gap_from < to && from < gap_to)
            return 1;
    }
    return 0;
}

/* Decision point of negated condition c (pattern matches `kills`) after the
 * match `prev` of the condition before it (NULL when c is absolute): when the
 * window is clean, the end of the window or of the stream; otherwise NEVER.
 * The window of a relative negation is its relative window alone; offset and
 * depth then only restrict which matches count. */
static int64_t negation_point(const orc_cond *c, const spans *kills, const span *prev,
                              const stream *st)
{
    int64_t from = abs_start(c), to = abs_end(c);
    if (prev) {
        /* A relative chain never spans a gap: the window must lie in the
         * segment of E, and may reach past its data only when the stream ends
         * there (the rest of the window never comes). */
        int64_t seg_from = st->start[prev->seg];
        int64_t seg_to = seg_from + (int64_t)st->segs[prev->seg].len;
        from = max64(rel_start(c, prev->j), 0);
        to = rel_end(c, prev->j);
        if (from < seg_from || (to > seg_to && seg_to < st->end))
            return NEVER;
    }
    if (overlaps_gap(st, from, to))
        return NEVER;
    for (size_t k = 0; k < kills->n; k++) {
        const span *m = &kills->v[k];
        if (m->s >= from && m->e <= to && m->s >= abs_start(c) && m->e <= abs_end(c))
            return NEVER;
    }
    return min64(to, st->end);
}

/* ------------------------------------------------------------ chains */

/* Earliest completion of the chain conds[a..b), or NEVER.  all[i] holds every
 * match of the pattern of conds[i]. */
static int64_t chain_point(const orc_cond *conds, size_t a, size_t b, const spans *all,
                           const stream *st, int64_t **cost_buf)
{
    if (conds[a].negate) /* an absolute negation is a chain on its own */
        return negation_point(&conds[a], &all[a], NULL, st);
    /* cost[i][m]: earliest completion of conds[a..i] with match m for
     * conds[i] (NEVER when m fits no choice of the earlier ones). */
    int64_t *prev_cost = NULL;
    for (size_t i = a; i < b; i++) {
        const orc_cond *c = &conds[i];
        const spans *before = i > a ? &all[i - 1] : NULL;
        if (c->negate) { /* last of its chain: some E with a clean window */
            int64_t best = NEVER;
            for (size_t p = 0; p < before->n; p++) {
                if (prev_cost[p] == NEVER)
                    continue;
                int64_t t = negation_point(c, &all[i], &before->v[p], st);
                if (t != NEVER)
                    best = min64(best, max64(prev_cost[p], t));
            }
            return best;
        }
        int64_t *cost = cost_buf[i];
        for (size_t m = 0; m < all[i].n; m++) {
            const span *mine = &all[i].v[m];
            int64_t earliest = NEVER;
            if (!before) {
                if (fits(c, mine, NULL))
                    earliest = mine->e;
            } else {
                for (size_t p = 0; p < before->n; p++)
                    if (prev_cost[p] != NEVER && fits(c, mine, &before->v[p]))
                        earliest = min64(earliest, prev_cost[p]);
                if (earliest != NEVER)
                    earliest = max64(earliest, mine->e);
            }
            cost[m] = earliest;
        }
        prev_cost = cost;
    }
    int64_t best = NEVER;
    for (size_t m = 0; m < all[b - 1].n; m++)
        best = min64(best, prev_cost[m]);
    return best;
}

/* ------------------------------------------------------------ the rule */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int orc_match_ends(const orc_cond *c, const orc_segment *segs, size_t n_segs, int64_t **ends,
                   size_t *n_ends, char *err, size_t err_len)
{
    *ends = NULL;
    *n_ends = 0;
    if (c->is_dataat || c->negate || c->is_jump)
        return 0;
    stream st = {segs, n_segs, calloc(n_segs + 1, sizeof(int64_t)), 0};
    spans all = {0};
    int rc = -1;
    if (!st.start)
        goto done;
    for (size_t g = 0; g < n_segs; g++) {
        st.start[g] = st.end;
        st.end += (int64_t)segs[g].len + (int64_t)segs[g].gap;
    }
    if (c->is_bytetest ? bytetest_spans(c, &st, &all)
        : c->is_regex  ? regex_spans(c, &st, &all, err, err_len)
                       : content_spans(c, &st, &all))
        goto done;
    if (c->endswith)
        keep_stream_end(&all, st.end);
    if (all.n) {
        *ends = malloc(all.n * sizeof(int64_t));
        if (!*ends)
            goto done;
    }
    for (size_t i = 0; i < all.n; i++)
        if (fits(c, &all.v[i], NULL))
            (*ends)[(*n_ends)++] = all.v[i].e;
    if (*n_ends)
        qsort(*ends, *n_ends, sizeof(int64_t), cmp_i64);
    size_t k = 0;
    for (size_t i = 0; i < *n_ends; i++)
        if (k == 0 || (*ends)[k - 1] != (*ends)[i])
            (*ends)[k++] = (*ends)[i];
    *n_ends = k;
    rc = 0;
done:
    if (rc && err_len && !err[0])
        snprintf(err, err_len, "out of memory");
    free(all.v);
    free(st.start);
    return rc;
}

int orc_eval(const orc_cond *conds, size_t n, const orc_segment *segs, size_t n_segs,
             orc_result *out, char *err, size_t err_len)
{
    out->fires = 0;
    out->offset = -1;
    if (err_len)
        err[0] = '\0';
    int rc = -1;
    stream st = {segs, n_segs, calloc(n_segs + 1, sizeof(int64_t)), 0};
    spans *all = calloc(n + 1, sizeof(spans));
    int64_t **cost = calloc(n + 1, sizeof(int64_t *));
    orc_cond *own = calloc(n + 1, sizeof(orc_cond)); /* conds with isdataat as windows */
    if (!st.start || !all || !cost || !own)
        goto done;
    for (size_t i = 0; i < n; i++) { /* the compiler's rules, which the chains rely on */
        own[i] = conds[i].is_dataat ? dataat_window(&conds[i]) : conds[i];
        if (is_relative(&conds[i]) &&
            (i == 0 || conds[i - 1].negate || conds[i].is_regex || conds[i - 1].is_dataat ||
             conds[i - 1].endswith)) {
            snprintf(err, err_len, "condition %zu: a relative condition must follow a positive "
                     "one and cannot be a regex", i);
            goto done;
        }
    }
    for (size_t g = 0; g < n_segs; g++) {
        st.start[g] = st.end;
        st.end += (int64_t)segs[g].len + (int64_t)segs[g].gap;
    }
    for (size_t i = 0; i < n; i++) {
        int bad = conds[i].is_dataat     ? byte_spans(&st, &all[i])
                  : conds[i].is_jump     ? jump_spans(&conds[i], &st, &all[i])
                  : conds[i].is_bytetest ? bytetest_spans(&conds[i], &st, &all[i])
                  : conds[i].is_regex    ? regex_spans(&conds[i], &st, &all[i], err, err_len)
                                         : content_spans(&conds[i], &st, &all[i]);
        if (bad)
            goto done;
        if (conds[i].endswith)
            keep_stream_end(&all[i], st.end);
        cost[i] = malloc((all[i].n + 1) * sizeof(int64_t));
        if (!cost[i])
            goto done;
    }
    int64_t fire = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && is_relative(&conds[b]))
            b++;
        int64_t t = chain_point(own, a, b, all, &st, cost);
        if (t == NEVER) {
            fire = NEVER;
            break;
        }
        fire = max64(fire, t);
        a = b;
    }
    if (n > 0 && fire != NEVER) {
        out->fires = 1;
        out->offset = fire;
    }
    rc = 0;
done:
    if (rc && err_len && !err[0])
        snprintf(err, err_len, "out of memory");
    for (size_t i = 0; all && i < n; i++)
        free(all[i].v);
    for (size_t i = 0; cost && i < n; i++)
        free(cost[i]);
    free(cost);
    free(all);
    free(own);
    free(st.start);
    return rc;
}
