/*
 * Chain evaluation: turns the end offsets of pattern matches that Hyperscan
 * reports into rule decisions, exactly as the rule language defines them
 * (existential matching, relative windows, negations decided when their
 * window has been seen, nothing spanning a gap).
 *
 * For each chain element k we keep just enough of the set A_k ("positions
 * where element k can end, given the elements before it") to answer every
 * future question: a ring bitmap over the stretch a `within` window can reach
 * back, or a single extreme when the window is open-ended (the earliest end
 * dominates for a positive element, the latest for a negated one).  Negative
 * distances let a partner be found after the fact, so an element may also
 * remember its own recent occurrences.  All sizes come from chainplan.c.
 *
 * Everything is driven in order of stream position: before an event at
 * position t is applied, every deadline before t is decided, so the events a
 * stream produces, and their offsets, do not depend on how it was chunked.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* ------------------------------------------------------------ ring bitmaps */

typedef struct ring {
    uint64_t *hi;     /* highest position covered */
    uint64_t *words;
    uint64_t cap;     /* positions (hi - cap, hi] are covered */
} ring;

static ring ring_at(uint8_t *p, uint32_t bits)
{
    ring r;
    r.hi = (uint64_t *)(void *)p;
    r.words = r.hi + 1;
    r.cap = (((uint64_t)bits + 63) / 64) * 64;
    return r;
}

static void ring_clear_bit(ring r, uint64_t pos)
{
    uint64_t i = pos % r.cap;
    r.words[i / 64] &= ~(1ull << (i % 64));
}

static int ring_test_bit(ring r, uint64_t pos)
{
    uint64_t i = pos % r.cap;
    return (r.words[i / 64] >> (i % 64)) & 1;
}

/* Moves the covered stretch forward to end at t, forgetting what falls out. */
static void ring_advance(ring r, uint64_t t)
{
    if (t <= *r.hi)
        return;
    uint64_t diff = t - *r.hi;
    if (diff >= r.cap) {
        memset(r.words, 0, (size_t)(r.cap / 8));
    } else {
        for (uint64_t p = *r.hi + 1; p <= t; p++) {
            uint64_t i = p % r.cap;
            if (i % 64 == 0 && p + 63 <= t) {
                r.words[i / 64] = 0;
                p += 63;
                continue;
            }
            ring_clear_bit(r, p);
        }
    }
    *r.hi = t;
}

static void ring_reset(ring r, uint64_t hi)
{
    memset(r.words, 0, (size_t)(r.cap / 8));
    *r.hi = hi;
}

/* Sets pos; returns 1 when it was newly set.  Positions outside the covered
 * stretch are ignored (callers advance first; older ones can no longer matter). */
static int ring_set(ring r, uint64_t pos)
{
    if (pos > *r.hi || pos + r.cap <= *r.hi)
        return 0;
    uint64_t i = pos % r.cap;
    uint64_t bit = 1ull << (i % 64);
    if (r.words[i / 64] & bit)
        return 0;
    r.words[i / 64] |= bit;
    return 1;
}

/* First set position in [a, b] (signed bounds, clamped to the covered stretch). */
static int ring_next(ring r, int64_t a, int64_t b, uint64_t *found)
{
    int64_t lo = (int64_t)(*r.hi - (r.cap - 1 < *r.hi ? r.cap - 1 : *r.hi));
    if (a < lo)
        a = lo;
    if (b > (int64_t)*r.hi)
        b = (int64_t)*r.hi;
    for (int64_t p = a; p <= b; p++) {
        uint64_t i = (uint64_t)p % r.cap;
        if (i % 64 == 0 && p + 63 <= b && r.words[i / 64] == 0) {
            p += 63;
            continue;
        }
        if (ring_test_bit(r, (uint64_t)p)) {
            *found = (uint64_t)p;
            return 1;
        }
    }
    return 0;
}

static int ring_any(ring r, int64_t a, int64_t b)
{
    uint64_t unused;
    return ring_next(r, a, b, &unused);
}

/* ------------------------------------------------------------ element state */

static const vp_elem *elem(const vp_stream_t *s, uint32_t ci)
{
    return &s->bundle->plan.elems[ci];
}

static uint32_t elem_index(const vp_stream_t *s, const vp_elem *el)
{
    return (uint32_t)(el - s->bundle->plan.elems);
}

typedef struct relpos_state {
    ring prev;        /* valid when has_within and prev_bits */
    uint64_t *min_end, *have_min; /* valid without within */
} relpos_state;

/* The ring of an element's own occurrences: in its state, or shared by all
 * window-less elements of its atom.  0 when absent (and !create, or no memory). */
static int raw_ring_of(vp_stream_t *s, const vp_elem *el, int create, ring *out)
{
    const vp_chainplan *plan = &s->bundle->plan;
    if (el->shared_raw) {
        uint32_t bits = plan->atom_raw_bits[el->atom];
        uint8_t *q = vp_state_slot(s, (uint32_t)plan->n_elems + el->atom, vp_ring_bytes(bits),
                                   create);
        if (!q)
            return 0;
        *out = ring_at(q, bits);
        return 1;
    }
    uint8_t *p = vp_state_get(s, (uint32_t)(el - plan->elems), create);
    if (!p)
        return 0;
    p += el->has_within ? vp_ring_bytes(el->prev_bits) : 16;
    *out = ring_at(p, el->raw_bits);
    return 1;
}

/* Fills st; 0 when the element has no state (and create was 0 or no memory). */
static int relpos_at(vp_stream_t *s, const vp_elem *el, int create, relpos_state *out)
{
    relpos_state st;
    memset(&st, 0, sizeof(st));
    uint8_t *p = vp_state_get(s, elem_index(s, el), create);
    if (!p)
        return 0;
    if (el->has_within) {
        if (el->prev_bits)
            st.prev = ring_at(p, el->prev_bits);
        p += vp_ring_bytes(el->prev_bits);
    } else {
        st.min_end = (uint64_t *)(void *)p;
        st.have_min = st.min_end + 1;
    }
    *out = st;
    return 1;
}

typedef struct relneg_state {
    uint64_t *scan_from;  /* with within: candidates below were decided */
    ring pend;            /* candidate predecessor ends waiting for the deadline */
    ring raw;             /* occurrence ends of the negated pattern */
    uint64_t *max_end, *have_end, *max_kill_start, *have_kill; /* without within */
} relneg_state;

static int relneg_at(vp_stream_t *s, const vp_elem *el, int create, relneg_state *out)
{
    relneg_state st;
    memset(&st, 0, sizeof(st));
    uint8_t *p = vp_state_get(s, elem_index(s, el), create);
    if (!p)
        return 0;
    if (el->has_within) {
        st.scan_from = (uint64_t *)(void *)p;
        p += 8;
        if (el->pend_bits)
            st.pend = ring_at(p, el->pend_bits);
        p += vp_ring_bytes(el->pend_bits);
        st.raw = ring_at(p, el->raw_bits);
    } else {
        uint64_t *u = (uint64_t *)(void *)p;
        st.max_end = u;
        st.have_end = u + 1;
        st.max_kill_start = u + 2;
        st.have_kill = u + 3;
    }
    *out = st;
    return 1;
}

/* A byte_jump element: predecessor ends whose bytes are still to come. */
typedef struct jump_state {
    uint64_t *scan_from;  /* pending ends below were decided */
    uint64_t *earliest, *have; /* the earliest pending end, when have */
    ring pend;
} jump_state;

static int jump_at(vp_stream_t *s, const vp_elem *el, int create, jump_state *out)
{
    uint8_t *p = vp_state_get(s, elem_index(s, el), create);
    if (!p)
        return 0;
    uint64_t *u = (uint64_t *)(void *)p;
    out->scan_from = u;
    out->earliest = u + 1;
    out->have = u + 2;
    out->pend = ring_at(p + 24, el->pend_bits);
    return 1;
}

static int headneg_killed(const vp_stream_t *s, const vp_elem *el)
{
    return vp_bit_get(s->neg_killed, el->neg_index);
}

static void headneg_kill(vp_stream_t *s, const vp_elem *el)
{
    vp_bit_set(s->neg_killed, el->neg_index);
}

/* ------------------------------------------------------------ decisions */

/* Reports an event; `current` marks the rule done for this stream (or, for
 * HTTP rules, for the current message). */
static void fire(vp_stream_t *s, uint32_t rule, uint64_t at, int current)
{
    const vp_mrule *r = &s->bundle->m.rules[rule];
    if (current)
        vp_bit_set(s->rule_done, rule);
    if (s->rule_wait)
        vp_bit_clear(s->rule_wait, rule);
    vp_flowbits_apply(s, rule);
    if (s->engine->profile)
        atomic_fetch_add_explicit(&s->engine->profile[rule].fires, 1, memory_order_relaxed);
    if (r->flags & VP_R_NOALERT)
        return; /* a detect rule (the codec checks it): no event, no verdict */
    vp_event_t ev;
    ev.rule_id = r->id;
    ev.offset = at;
    ev.action = (vp_action)r->action;
    ev.verdict = VP_VERDICT_ALLOW;
    ev.direction = (vp_direction)s->direction;
    if (r->action == VP_ACTION_BLOCK && !s->engine->detect_only) {
        ev.verdict = VP_VERDICT_BLOCK;
        s->verdict = VP_VERDICT_BLOCK;
    }
    if (s->cb)
        s->cb(&ev, s->ctx);
}

/* The stream offset an event at buffer position `at` reports. */
static uint64_t map_raw(const vp_bufctx *cx, uint64_t at)
{
    if (cx->buf == VP_BUF_STREAM)
        return at;
    if (cx->map_const || at < cx->map_d0)
        return cx->map_r0;
    return cx->map_r0 + (at - cx->map_d0);
}

/* A rule holds when its raw-stream chains hold in the stream and its HTTP
 * chains hold in one message (this one, or an earlier one still waiting for
 * the stream part). */
static void rule_check(vp_stream_t *s, uint32_t rule, uint64_t raw)
{
    if (vp_bit_get(s->rule_done, rule) || vp_bit_get(s->rule_off, rule))
        return;
    const vp_chainplan *plan = &s->bundle->plan;
    int http_part = 1;
    for (uint32_t c = plan->rule_chain_first[rule]; c < plan->rule_chain_first[rule + 1]; c++) {
        if (vp_bit_get(s->chain_done, c))
            continue;
        if (plan->chain_buf[c] == VP_BUF_STREAM)
            return;
        http_part = 0;
    }
    uint64_t at = raw;
    /* Service rules are raw-stream rules (the codec checks it): held until
     * the stream is recognised, or for good when it never is. */
    if (s->bundle->m.rules[rule].service != VP_SERVICE_ANY && !vp_service_ready(s, &at)) {
        s->svc_held = 1;
        return;
    }
    /* Flowbit checks: when they fail the rule waits for a later match of
     * one of its patterns (vp_chain_on_match) and checks again there. */
    if (!vp_flowbits_allow(s, rule)) {
        vp_bit_set(s->rule_wait, rule);
        return;
    }
    if (plan->rule_mixed[rule]) {
        /* The raw stream is scanned a whole chunk ahead of the HTTP side: the
         * rule holds from the later of its two parts, however it was cut. */
        uint32_t slot = (uint32_t)(plan->n_elems + s->bundle->m.n_atoms + rule);
        uint64_t *stream_at = (uint64_t *)(void *)vp_state_slot(s, slot, 8, 1);
        if (stream_at && !*stream_at)
            *stream_at = raw + 1;
        if (stream_at && *stream_at - 1 > at)
            at = *stream_at - 1;
    }
    /* An earlier message whose HTTP part held fires now, for that message;
     * the current message fires for itself when its own HTTP part holds. */
    if (s->http && vp_bit_get(s->http->pending, rule)) {
        vp_bit_clear(s->http->pending, rule);
        fire(s, rule, at, 0);
    }
    if (http_part)
        fire(s, rule, at, 1);
}

/* rule_check decides each held rule again, flowbit checks included; it
 * returns at once for rules whose conditions do not all hold yet. */
void vp_chain_release_held(vp_stream_t *s, uint64_t at)
{
    for (uint32_t r = 0; r < s->bundle->m.n_rules; r++)
        if (s->bundle->m.rules[r].service != VP_SERVICE_ANY)
            rule_check(s, r, at);
}

static void chain_complete(vp_stream_t *s, vp_bufctx *cx, uint32_t chain, uint64_t at)
{
    if (vp_bit_get(s->chain_done, chain))
        return;
    vp_bit_set(s->chain_done, chain);
    if (cx->buf != VP_BUF_STREAM && s->http)
        s->http->dirty = 1;
    rule_check(s, s->bundle->plan.chain_rule[chain], map_raw(cx, at));
}

static int elem_is_live(const vp_stream_t *s, const vp_elem *el)
{
    return !vp_bit_get(s->rule_off, el->rule) && !vp_bit_get(s->rule_done, el->rule) &&
           !vp_bit_get(s->chain_done, el->chain);
}

/* A window starting before the current segment reaches into a gap (or into
 * data before it), which no negation may be decided over. */
static int window_hits_gap(const vp_bufctx *cx, int64_t window_start)
{
    return cx->seg_base > 0 && window_start < (int64_t)cx->seg_base;
}

static void member_found(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, uint64_t end, uint64_t now);

/* Decides whether candidate predecessor end E leaves the negated window clean. */
static int relneg_window_clean(const vp_elem *el, relneg_state *st, uint64_t E, uint64_t until)
{
    int64_t from = (int64_t)E + el->distance + (int64_t)el->length;
    return !ring_any(st->raw, from, (int64_t)until);
}

static int defer(vp_stream_t *s, const vp_bufctx *cx, uint32_t ci, uint64_t E, uint64_t now)
{
    if (s->n_deferred == s->cap_deferred) {
        size_t cap = s->cap_deferred ? s->cap_deferred * 2 : 8;
        vp_deferred *d = realloc(s->deferred, cap * sizeof(*d));
        if (!d)
            return 0; /* decide now: only a same-position killer could be missed */
        s->deferred = d;
        s->cap_deferred = cap;
    }
    vp_deferred *d = &s->deferred[s->n_deferred++];
    d->elem = ci;
    d->buf = cx->buf;
    d->E = E;
    d->at = now;
    return 1;
}

static void relneg_add_candidate(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, uint64_t E,
                                 uint64_t now)
{
    const vp_elem *el = elem(s, ci);
    int64_t start = (int64_t)E + el->distance;
    if (window_hits_gap(cx, start))
        return;
    relneg_state st;
    if (!relneg_at(s, el, 1, &st))
        return;
    if (!el->has_within) {
        if (!*st.have_end || E > *st.max_end) {
            *st.max_end = E;
            *st.have_end = 1;
        }
        return;
    }
    int64_t deadline = start + (int64_t)el->within;
    if (deadline <= (int64_t)now) {
        /* The whole window lies behind us already (negative distance), but a
         * killer ending exactly now may not have been reported yet. */
        if (defer(s, cx, ci, E, now))
            return;
        ring_advance(st.raw, now);
        if (relneg_window_clean(el, &st, E, (uint64_t)(deadline < 0 ? 0 : deadline)))
            chain_complete(s, cx, el->chain, now);
        return;
    }
    ring_advance(st.pend, now);
    if (ring_set(st.pend, E))
        cx->pending++;
}

/* A relative isdataat holds once the byte at E + distance has arrived; only
 * the earliest E matters, since the element ends its chain. */
static void anybyte_add_prev(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, uint64_t E, uint64_t now)
{
    const vp_elem *el = elem(s, ci);
    uint64_t at = E + (uint64_t)el->distance + 1;
    if (at <= now) {
        member_found(s, cx, ci, at, now);
        return;
    }
    relpos_state st;
    if (!relpos_at(s, el, 1, &st))
        return;
    if (!*st.have_min) {
        *st.have_min = 1;
        *st.min_end = E;
        cx->armed_any++;
    } else if (E < *st.min_end) {
        *st.min_end = E;
    } else {
        return;
    }
    if (cx->armed_any == 1 || at < cx->any_due) {
        cx->any_due = at;
        cx->any_elem = ci;
    }
}

/* Elements waiting for a stream position (relative isdataat, reads): the
 * earliest position one of them waits for, and which.  Flushes only read the
 * result, so the lists are walked once per decision, not once per match. */
typedef int (*due_fn)(vp_stream_t *s, const vp_elem *el, uint64_t *due);
typedef void (*disarm_fn)(vp_stream_t *s, vp_bufctx *cx, const vp_elem *el);

static void rescan_armed(vp_stream_t *s, vp_bufctx *cx, const uint32_t *list, size_t n,
                         size_t *armed, uint64_t *best, uint32_t *best_elem, due_fn due_of,
                         disarm_fn disarm)
{
    int found = 0;
    for (size_t i = 0; *armed && i < n; i++) {
        const vp_elem *el = elem(s, list[i]);
        uint64_t due;
        if (!due_of(s, el, &due))
            continue;
        if (!elem_is_live(s, el)) {
            disarm(s, cx, el);   /* its rule is over */
            continue;
        }
        if (!found || due < *best) {
            *best = due;
            *best_elem = list[i];
            found = 1;
        }
    }
    if (!found)
        *armed = 0; /* armed elements without state: nothing can come due */
}

/* ------------------------------------------------------------ byte_jump */

/* Copies stream bytes [from, from + n) into out from the scan call's data or
 * the carry before it; 0 when some of them are not at hand (lost in a gap, or
 * never kept). */
static int read_stream(const vp_stream_t *s, uint64_t from, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t at = from + i;
        if (s->chunk && at >= s->chunk_at && at - s->chunk_at < s->chunk_len)
            out[i] = s->chunk[at - s->chunk_at];
        else if (at < s->carry_end && at >= s->carry_end - s->carry_len)
            out[i] = s->carry[s->carry_len - (s->carry_end - at)];
        else
            return 0;
    }
    return 1;
}

void vp_chain_keep_carry(vp_stream_t *s, const uint8_t *p, size_t n, uint64_t at)
{
    if (n == 0)
        return;
    size_t keep = sizeof s->carry;
    if (s->carry_end != at)
        s->carry_len = 0; /* not contiguous with what was kept (a gap came between) */
    if (n >= keep) {
        memcpy(s->carry, p + n - keep, keep);
        s->carry_len = (uint8_t)keep;
    } else {
        size_t old = s->carry_len + n > keep ? keep - n : s->carry_len;
        memmove(s->carry, s->carry + s->carry_len - old, old);
        memcpy(s->carry + old, p, n);
        s->carry_len = (uint8_t)(old + n);
    }
    s->carry_end = at + n;
}

/* The unsigned number a read element's bytes hold, in its byte order. */
static uint64_t read_value(const vp_elem *el, const uint8_t *b)
{
    uint64_t v = 0;
    for (uint32_t k = 0; k < el->length; k++)
        v = (v << 8) | b[(el->jump_flags & VP_J_LITTLE) ? el->length - 1 - k : k];
    return v;
}

/* Where the conditions after the jump count from, given the end of the bytes
 * it read; 0 when the jump is farther than VP_MAX_JUMP. */
static int jump_target(const vp_elem *el, const uint8_t *b, uint64_t read_end, uint64_t *J)
{
    uint64_t v = read_value(el, b);
    if (v > VP_MAX_JUMP / el->jump_mult)
        return 0;
    v *= el->jump_mult;
    if (el->jump_flags & VP_J_ALIGN)
        v = (v + 3) & ~(uint64_t)3;
    v += el->jump_post;
    if (v > VP_MAX_JUMP)
        return 0;
    *J = read_end + v;
    return 1;
}

static int test_holds(const vp_elem *el, const uint8_t *b)
{
    uint64_t x = read_value(el, b), v = el->jump_value;
    switch (el->jump_op) {
    case VP_TEST_EQ: return x == v;
    case VP_TEST_NE: return x != v;
    case VP_TEST_LT: return x < v;
    case VP_TEST_LE: return x <= v;
    case VP_TEST_GT: return x > v;
    case VP_TEST_GE: return x >= v;
    case VP_TEST_AND: return (x & v) != 0;
    default: return (x & v) == 0;   /* VP_TEST_NAND */
    }
}

/* The bytes of pending end E have arrived: read them, then jump, or test
 * them and end there. */
static void jump_decide(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, uint64_t E, uint64_t now)
{
    const vp_elem *el = elem(s, ci);
    uint64_t from = E + (uint64_t)el->distance, end = from + el->length;
    uint8_t b[8];
    uint64_t J;
    if (from < cx->seg_base || !read_stream(s, from, el->length, b))
        return;
    if (el->jump_test ? !test_holds(el, b) : !jump_target(el, b, end, &J))
        return;
    member_found(s, cx, ci, el->jump_test ? end : J, now);
}

static void jump_set_earliest(jump_state *st)
{
    uint64_t e;
    *st->have = ring_next(st->pend, (int64_t)*st->scan_from, (int64_t)*st->pend.hi, &e);
    if (*st->have)
        *st->earliest = e;
}

static int jump_due(vp_stream_t *s, const vp_elem *el, uint64_t *due)
{
    jump_state st;
    if (!jump_at(s, el, 0, &st) || !*st.have)
        return 0;
    *due = *st.earliest + (uint64_t)el->distance + el->length;
    return 1;
}

static void jump_disarm(vp_stream_t *s, vp_bufctx *cx, const vp_elem *el)
{
    jump_state st;
    if (jump_at(s, el, 0, &st) && *st.have) {
        *st.have = 0;
        cx->armed_jump--;
    }
}

/* Finds the earliest pending read of the buffer's read elements again,
 * dropping those whose rule is over. */
static void jump_rescan(vp_stream_t *s, vp_bufctx *cx)
{
    const vp_buflists *bl = &s->bundle->bufs[cx->buf];
    rescan_armed(s, cx, bl->rel_jump, bl->n_rel_jump, &cx->armed_jump, &cx->jump_due,
                 &cx->jump_elem, jump_due, jump_disarm);
}

/* Decides the earliest pending read (its bytes have arrived). */
static void jump_next(vp_stream_t *s, vp_bufctx *cx)
{
    uint32_t ci = cx->jump_elem;
    const vp_elem *el = elem(s, ci);
    jump_state st;
    if (!jump_at(s, el, 0, &st) || !*st.have) {
        jump_rescan(s, cx);
        return;
    }
    uint64_t E = *st.earliest, due = cx->jump_due;
    ring_clear_bit(st.pend, E);
    *st.scan_from = E + 1;
    jump_set_earliest(&st);
    if (!*st.have)
        cx->armed_jump--;
    jump_rescan(s, cx);
    jump_decide(s, cx, ci, E, due);
}

static void jump_add_prev(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, uint64_t E, uint64_t now)
{
    const vp_elem *el = elem(s, ci);
    uint64_t due = E + (uint64_t)el->distance + el->length;
    if (due <= now) {   /* only from a bundle the compiler did not make */
        jump_decide(s, cx, ci, E, now);
        return;
    }
    jump_state st;
    if (!jump_at(s, el, 1, &st))
        return;
    if (E > *st.pend.hi)
        ring_advance(st.pend, E);
    if (!ring_set(st.pend, E))
        return;
    if (!*st.have) {
        *st.have = 1;
        *st.earliest = E;
        if (E < *st.scan_from)
            *st.scan_from = E;
        cx->armed_jump++;
    } else if (E < *st.earliest) {
        *st.earliest = E;
        if (E < *st.scan_from)
            *st.scan_from = E;
    } else {
        return;
    }
    if (cx->armed_jump == 1 || due < cx->jump_due) {
        cx->jump_due = due;
        cx->jump_elem = ci;
    }
}

static void relpos_add_prev(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, uint64_t E, uint64_t now)
{
    const vp_elem *el = elem(s, ci);
    if (el->anybyte) {
        anybyte_add_prev(s, cx, ci, E, now);
        return;
    }
    if (el->jump) {
        jump_add_prev(s, cx, ci, E, now);
        return;
    }
    ring raw;
    if (el->raw_bits && raw_ring_of(s, el, 0, &raw)) {
        /* Occurrences seen before E was known can pair with it now. */
        int64_t lo = (int64_t)E + el->distance + (int64_t)el->length;
        int64_t hi = (int64_t)now;
        if (el->has_within && (int64_t)E + el->distance + (int64_t)el->within < hi)
            hi = (int64_t)E + el->distance + (int64_t)el->within;
        ring_advance(raw, now);
        uint64_t p;
        while (lo <= hi && ring_next(raw, lo, hi, &p)) {
            member_found(s, cx, ci, p, now);
            if (!elem_is_live(s, el))
                return;
            lo = (int64_t)p + 1;
        }
    }
    /* For occurrences still to come (none can pair when the whole window
     * lies behind E: then the element keeps no state). */
    relpos_state st;
    if (!relpos_at(s, el, 1, &st))
        return;
    if (el->has_within) {
        if (el->prev_bits) {
            /* after a byte_jump, E lies ahead (the ring covers that far) */
            ring_advance(st.prev, E > now ? E : now);
            ring_set(st.prev, E);
        }
    } else if (!*st.have_min || E < *st.min_end) {
        *st.min_end = E;
        *st.have_min = 1;
    }
}

/* Element ci can end at `end`, learnt at stream position `now`. */
static void member_found(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, uint64_t end, uint64_t now)
{
    const vp_elem *el = elem(s, ci);
    if (el->is_tail) {
        chain_complete(s, cx, el->chain, now);
        return;
    }
    const vp_elem *next = elem(s, ci + 1);
    if (next->kind == VP_EK_REL_POS)
        relpos_add_prev(s, cx, ci + 1, end, now);
    else
        relneg_add_candidate(s, cx, ci + 1, end, now);
}

static void relpos_occurrence(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, uint64_t end)
{
    const vp_elem *el = elem(s, ci);
    ring raw;
    /* Occurrences are recorded for predecessors that may still come (once
     * per atom for shared rings: vp_chain_on_match). */
    if (el->raw_bits && !el->shared_raw && raw_ring_of(s, el, 1, &raw)) {
        ring_advance(raw, end);
        ring_set(raw, end);
    }
    /* Without state in its chain no predecessor end was ever seen. */
    relpos_state st;
    if (!vp_bit_get(s->chain_started, el->chain) || !relpos_at(s, el, 0, &st))
        return;
    int64_t latest_prev = (int64_t)end - (int64_t)el->length - el->distance;
    if (latest_prev > (int64_t)end)
        latest_prev = (int64_t)end;
    int found;
    if (el->has_within) {
        int64_t earliest_prev = (int64_t)end - el->distance - (int64_t)el->within;
        found = 0;
        if (el->prev_bits) {
            ring_advance(st.prev, end);
            found = ring_any(st.prev, earliest_prev, latest_prev);
        }
    } else {
        found = *st.have_min && (int64_t)*st.min_end <= latest_prev;
    }
    if (found)
        member_found(s, cx, ci, end, end);
}

static void relneg_killer(vp_stream_t *s, uint32_t ci, uint64_t end)
{
    const vp_elem *el = elem(s, ci);
    relneg_state st;
    if (!relneg_at(s, el, el->early, &st))
        return;
    if (el->has_within) {
        ring_advance(st.raw, end);
        ring_set(st.raw, end);
        return;
    }
    uint64_t start = end - el->length;
    if (!*st.have_kill || start > *st.max_kill_start) {
        *st.max_kill_start = start;
        *st.have_kill = 1;
    }
}

static int passes_window(const vp_elem *el, uint64_t end)
{
    if (end > el->max_end)
        return 0;
    /* Regex starts are enforced by the atom itself (anchored prefix). */
    return el->is_regex || end - el->length >= el->min_start;
}

static void profile_match(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, const vp_elem *el,
                          uint64_t end);
static void apply_match(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, const vp_elem *el,
                        uint64_t end);

/* One ring of occurrences for all window-less elements of an atom. */
static void record_shared(vp_stream_t *s, uint32_t atom, uint64_t end)
{
    const vp_chainplan *plan = &s->bundle->plan;
    uint32_t bits = plan->atom_raw_bits[atom];
    uint8_t *q = vp_state_slot(s, (uint32_t)plan->n_elems + atom, vp_ring_bytes(bits), 1);
    if (!q)
        return;
    ring r = ring_at(q, bits);
    ring_advance(r, end);
    ring_set(r, end);
}

void vp_chain_on_match(vp_stream_t *s, vp_bufctx *cx, uint32_t atom, uint64_t end)
{
    const vp_bundle_t *b = s->bundle;
    if (end > cx->flushed_to)
        vp_chain_flush(s, cx, end, 0);
    if (b->plan.atom_raw_bits[atom])
        record_shared(s, atom, end);
    for (uint32_t r = b->atom_ref_first[atom]; r < b->atom_ref_first[atom + 1]; r++) {
        uint32_t ci = b->atom_refs[r];
        const vp_elem *el = &b->plan.elems[ci];
        if (!elem_is_live(s, el)) {
            /* a rule waiting on its flowbit checks is checked again at
             * every match of its positive patterns */
            if (s->rule_wait && vp_bit_get(s->rule_wait, el->rule) &&
                (el->kind == VP_EK_HEAD_POS || el->kind == VP_EK_REL_POS) &&
                vp_bit_get(s->chain_done, el->chain) && passes_window(el, end))
                rule_check(s, el->rule, map_raw(cx, end));
            continue;
        }
        /* A relative element whose chain never started has nothing to do. */
        if (el->kind == VP_EK_REL_POS && !el->early && !vp_bit_get(s->chain_started, el->chain))
            continue;
        if (!passes_window(el, end))
            continue;
        if (s->engine->profile) {
            profile_match(s, cx, ci, el, end);
            continue;
        }
        apply_match(s, cx, ci, el, end);
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void profile_match(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, const vp_elem *el,
                          uint64_t end)
{
    vp_profile_counters *p = &s->engine->profile[el->rule];
    uint64_t t0 = now_ns();
    apply_match(s, cx, ci, el, end);
    atomic_fetch_add_explicit(&p->hits, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->ns, now_ns() - t0, memory_order_relaxed);
}

static void apply_match(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, const vp_elem *el,
                        uint64_t end)
{
    switch (el->kind) {
    case VP_EK_HEAD_POS:
        member_found(s, cx, ci, end, end);
        break;
    case VP_EK_HEAD_NEG:
        headneg_kill(s, el);
        break;
    case VP_EK_REL_POS:
        relpos_occurrence(s, cx, ci, end);
        break;
    case VP_EK_REL_NEG:
        relneg_killer(s, ci, end);
        break;
    }
}

/* ------------------------------------------------------------ deadlines */

/* The next deadline of a sorted list whose element is still live; the
 * cursor skips the others for good. */
static int next_live_deadline(vp_stream_t *s, const vp_deadline *list, size_t n, size_t *cursor,
                              uint64_t *at)
{
    while (*cursor < n) {
        const vp_deadline *d = &list[*cursor];
        if (elem_is_live(s, elem(s, d->elem))) {
            *at = d->at;
            return 1;
        }
        ++*cursor;
    }
    return 0;
}

static int headneg_next(vp_stream_t *s, vp_bufctx *cx, uint64_t *at)
{
    const vp_buflists *bl = &s->bundle->bufs[cx->buf];
    return next_live_deadline(s, bl->head_deadlines, bl->n_head_deadlines,
                              &cx->next_head_deadline, at);
}

/* Earliest pending candidate of a REL_NEG element: its deadline and E. */
static int relneg_next(vp_stream_t *s, uint32_t ci, uint64_t *deadline, uint64_t *E)
{
    const vp_elem *el = elem(s, ci);
    if (!el->pend_bits || !elem_is_live(s, el))
        return 0;
    relneg_state st;
    if (!relneg_at(s, el, 0, &st))
        return 0;
    if (!ring_next(st.pend, (int64_t)*st.scan_from, (int64_t)*st.pend.hi, E))
        return 0;
    *deadline = (uint64_t)((int64_t)*E + el->distance + (int64_t)el->within);
    return 1;
}

/* Next absolute isdataat whose byte is due. */
static int headpos_any_next(vp_stream_t *s, vp_bufctx *cx, uint64_t *at)
{
    const vp_buflists *bl = &s->bundle->bufs[cx->buf];
    return next_live_deadline(s, bl->head_pos_any, bl->n_head_pos_any, &cx->next_head_pos_any,
                              at);
}

static void anybyte_disarm(vp_stream_t *s, vp_bufctx *cx, const vp_elem *el)
{
    relpos_state st;
    if (relpos_at(s, el, 0, &st) && *st.have_min) {
        *st.have_min = 0;
        cx->armed_any--;
    }
}

static int anybyte_due(vp_stream_t *s, const vp_elem *el, uint64_t *due)
{
    relpos_state st;
    if (!relpos_at(s, el, 0, &st) || !*st.have_min)
        return 0;
    *due = *st.min_end + (uint64_t)el->distance + 1;
    return 1;
}

/* Finds the earliest armed relative isdataat again (after one fired or its
 * rule ended). */
static void anybyte_rescan(vp_stream_t *s, vp_bufctx *cx)
{
    const vp_buflists *bl = &s->bundle->bufs[cx->buf];
    rescan_armed(s, cx, bl->rel_pos_any, bl->n_rel_pos_any, &cx->armed_any, &cx->any_due,
                 &cx->any_elem, anybyte_due, anybyte_disarm);
}

static void relneg_decide(vp_stream_t *s, vp_bufctx *cx, uint32_t ci, uint64_t E,
                          uint64_t deadline)
{
    const vp_elem *el = elem(s, ci);
    relneg_state st;
    if (!relneg_at(s, el, 0, &st))
        return;
    ring_clear_bit(st.pend, E);
    *st.scan_from = E + 1;
    cx->pending--;
    if (relneg_window_clean(el, &st, E, deadline))
        chain_complete(s, cx, el->chain, deadline);
}

/* Decides a deferred candidate: its window was complete when it arrived. */
static void decide_deferred(vp_stream_t *s, vp_bufctx *cx, size_t i)
{
    vp_deferred d = s->deferred[i];
    s->deferred[i] = s->deferred[--s->n_deferred];
    const vp_elem *el = elem(s, d.elem);
    relneg_state st;
    if (!elem_is_live(s, el) || !relneg_at(s, el, 0, &st))
        return;
    int64_t end = (int64_t)d.E + el->distance + (int64_t)el->within;
    if (relneg_window_clean(el, &st, d.E, (uint64_t)(end < 0 ? 0 : end)))
        chain_complete(s, cx, el->chain, d.at);
}

void vp_chain_flush(vp_stream_t *s, vp_bufctx *cx, uint64_t upto, int inclusive)
{
    const vp_buflists *bl = &s->bundle->bufs[cx->buf];
    for (;;) {
        uint64_t best = UINT64_MAX, E = 0;
        int which = -1;  /* -2 head deadline, -3 deferred, else REL_NEG element */
        size_t def = 0;
        uint64_t at = 0;
        if (headneg_next(s, cx, &at)) {
            best = at;
            which = -2;
        }
        for (size_t i = 0; i < s->n_deferred; i++)
            if (s->deferred[i].buf == cx->buf && s->deferred[i].at < best) {
                best = s->deferred[i].at;
                which = -3;
                def = i;
            }
        for (size_t i = 0; cx->pending && i < bl->n_rel_neg_within; i++) {
            uint64_t dl, e;
            if (relneg_next(s, bl->rel_neg_within[i], &dl, &e) && dl < best) {
                best = dl;
                E = e;
                which = (int)bl->rel_neg_within[i];
            }
        }
        /* A byte that arrived is known at once: positive isdataat deadlines
         * win ties and are decided up to `upto` inclusive, so a block takes
         * effect in the scan call that brought the byte. */
        if (headpos_any_next(s, cx, &at) && at <= best) {
            best = at;
            which = -4;
        }
        if (cx->armed_any && !elem_is_live(s, elem(s, cx->any_elem)))
            anybyte_rescan(s, cx);
        if (cx->armed_any && cx->any_due <= best) {
            best = cx->any_due;
            which = -5;
        }
        if (cx->armed_jump && !elem_is_live(s, elem(s, cx->jump_elem)))
            jump_rescan(s, cx);
        if (cx->armed_jump && cx->jump_due <= best) {
            best = cx->jump_due;
            which = -6;
        }
        int arrived = which == -4 || which == -5 || which == -6;
        if (which == -1 || best > upto || (best == upto && !inclusive && !arrived))
            break;
        if (which == -2) {
            const vp_elem *el = elem(s, bl->head_deadlines[cx->next_head_deadline].elem);
            cx->next_head_deadline++;
            /* isdataat negated: data reached its byte, which kills it */
            if (!headneg_killed(s, el) && !el->anybyte)
                chain_complete(s, cx, el->chain, best);
        } else if (which == -4) {
            const vp_elem *el = elem(s, bl->head_pos_any[cx->next_head_pos_any++].elem);
            /* the byte at min_start arrived, unless it fell into a gap */
            if (el->min_start >= cx->seg_base)
                chain_complete(s, cx, el->chain, best);
        } else if (which == -5) {
            const vp_elem *el = elem(s, cx->any_elem);
            anybyte_disarm(s, cx, el);
            chain_complete(s, cx, el->chain, best);
            if (cx->armed_any)
                anybyte_rescan(s, cx);
        } else if (which == -6) {
            jump_next(s, cx);
        } else if (which == -3) {
            decide_deferred(s, cx, def);
        } else {
            relneg_decide(s, cx, (uint32_t)which, E, best);
        }
    }
    if (upto > cx->flushed_to)
        cx->flushed_to = inclusive ? upto : upto - 1;
}

/* ------------------------------------------------------------ gaps and end */

static int headneg_window_overlaps(const vp_elem *el, uint64_t g0, uint64_t g1)
{
    return g0 < el->max_end && g1 > el->min_start;
}

/* Forgets the partial chains of one element (a gap, a new message). */
static void reset_elem(vp_stream_t *s, const vp_elem *el, uint64_t base)
{
    if (el->jump) {
        jump_state st;
        if (!jump_at(s, el, 0, &st))
            return;
        ring_reset(st.pend, base);
        *st.scan_from = base;
        *st.have = 0;
    } else if (el->kind == VP_EK_REL_POS) {
        relpos_state st;
        if (!relpos_at(s, el, 0, &st))
            return;
        if (el->has_within && el->prev_bits)
            ring_reset(st.prev, base);
        if (!el->has_within)
            *st.have_min = 0;
        ring raw;
        if (el->raw_bits && !el->shared_raw && raw_ring_of(s, el, 0, &raw))
            ring_reset(raw, base);
    } else if (el->kind == VP_EK_REL_NEG) {
        relneg_state st;
        if (!relneg_at(s, el, 0, &st))
            return;
        if (el->has_within) {
            if (el->pend_bits)
                ring_reset(st.pend, base);
            ring_reset(st.raw, base);
            *st.scan_from = base;
        } else {
            *st.have_end = 0;
            *st.have_kill = 0;
        }
    } else if (el->kind == VP_EK_HEAD_NEG) {
        vp_bit_clear(s->neg_killed, el->neg_index);
    }
}

typedef struct reset_args {
    uint8_t buf;
    uint64_t base;
} reset_args;

static void reset_if_on_buffer(vp_stream_t *s, uint32_t slot, uint8_t *p, void *ctx)
{
    const reset_args *a = ctx;
    const vp_bundle_t *b = s->bundle;
    size_t n_elems = b->plan.n_elems;
    if (slot < n_elems) {
        const vp_elem *el = elem(s, slot);
        if (el->buf == a->buf)
            reset_elem(s, el, a->base);
    } else if (slot < n_elems + b->m.n_atoms) {
        uint32_t atom = (uint32_t)(slot - n_elems);
        if (VP_BUF_OF(b->m.atoms[atom].flags) == a->buf)
            ring_reset(ring_at(p, b->plan.atom_raw_bits[atom]), a->base);
    }
}

void vp_chain_gap(vp_stream_t *s, vp_bufctx *cx, uint64_t g0, uint64_t g1)
{
    const vp_buflists *bl = &s->bundle->bufs[cx->buf];
    vp_chain_flush(s, cx, g0, 1);
    for (size_t i = 0; i < bl->n_head_deadlines; i++) {
        const vp_elem *el = elem(s, bl->head_deadlines[i].elem);
        if (headneg_window_overlaps(el, g0, g1))
            headneg_kill(s, el);
    }
    for (size_t i = 0; i < bl->n_open_negs; i++) {
        const vp_elem *el = elem(s, bl->open_negs[i]);
        if (el->kind == VP_EK_HEAD_NEG && headneg_window_overlaps(el, g0, g1))
            headneg_kill(s, el);
    }
    /* No relative chain spans a gap: forget every partial chain. */
    reset_args a = {cx->buf, g1};
    vp_state_foreach(s, reset_if_on_buffer, &a);
    cx->pending = 0;
    cx->armed_any = 0;
    cx->armed_jump = 0;
    cx->flushed_to = g1;
}

void vp_chain_reset_buffer(vp_stream_t *s, vp_bufctx *cx)
{
    const vp_buflists *bl = &s->bundle->bufs[cx->buf];
    for (size_t i = 0; i < bl->n_head_deadlines; i++)
        vp_bit_clear(s->neg_killed, elem(s, bl->head_deadlines[i].elem)->neg_index);
    for (size_t i = 0; i < bl->n_open_negs; i++)
        if (elem(s, bl->open_negs[i])->kind == VP_EK_HEAD_NEG)
            vp_bit_clear(s->neg_killed, elem(s, bl->open_negs[i])->neg_index);
    reset_args a = {cx->buf, 0};
    vp_state_foreach(s, reset_if_on_buffer, &a);
    for (size_t i = 0; i < s->n_deferred;)
        if (s->deferred[i].buf == cx->buf)
            s->deferred[i] = s->deferred[--s->n_deferred];
        else
            i++;
    uint8_t buf = cx->buf;
    memset(cx, 0, sizeof(*cx));
    cx->buf = buf;
}

void vp_chain_new_message(vp_stream_t *s)
{
    const vp_bundle_t *b = s->bundle;
    const vp_chainplan *plan = &b->plan;
    /* Nothing of the last message held: nothing to carry over or clear. */
    if (!s->http->dirty)
        return;
    s->http->dirty = 0;
    for (size_t i = 0; i < b->n_http_rules; i++) {
        uint32_t r = b->http_rules[i];
        if (vp_bit_get(s->rule_off, r))
            continue;
        int http_held = 1;
        for (uint32_t c = plan->rule_chain_first[r]; c < plan->rule_chain_first[r + 1]; c++)
            if (plan->chain_buf[c] != VP_BUF_STREAM) {
                http_held &= vp_bit_get(s->chain_done, c);
                vp_bit_clear(s->chain_done, c);
            }
        /* Held but not fired: the stream part is still missing (or its
         * flowbit checks failed: then the rule waits for a match again). */
        if (http_held && !vp_bit_get(s->rule_done, r) &&
            !(s->rule_wait && vp_bit_get(s->rule_wait, r)))
            vp_bit_set(s->http->pending, r);
        if (s->rule_wait)
            vp_bit_clear(s->rule_wait, r);
        vp_bit_clear(s->rule_done, r);
    }
}

void vp_chain_close(vp_stream_t *s, vp_bufctx *cx)
{
    const vp_buflists *bl = &s->bundle->bufs[cx->buf];
    uint64_t end = cx->pos;
    vp_chain_flush(s, cx, end, 1);
    /* Windows that reach past the end are decided by what was seen. */
    for (size_t i = cx->next_head_deadline; i < bl->n_head_deadlines; i++) {
        const vp_elem *el = elem(s, bl->head_deadlines[i].elem);
        if (elem_is_live(s, el) && !headneg_killed(s, el))
            chain_complete(s, cx, el->chain, end);
    }
    cx->next_head_deadline = bl->n_head_deadlines;
    for (size_t i = 0; cx->pending && i < bl->n_rel_neg_within; i++) {
        uint32_t ci = bl->rel_neg_within[i];
        uint64_t dl, E;
        while (relneg_next(s, ci, &dl, &E))
            relneg_decide(s, cx, ci, E, end);
    }
    for (size_t i = 0; i < bl->n_open_negs; i++) {
        uint32_t ci = bl->open_negs[i];
        const vp_elem *el = elem(s, ci);
        if (!elem_is_live(s, el))
            continue;
        if (el->kind == VP_EK_HEAD_NEG) {
            if (!headneg_killed(s, el))
                chain_complete(s, cx, el->chain, end);
            continue;
        }
        relneg_state st;
        if (!relneg_at(s, el, 0, &st) || !*st.have_end)
            continue;
        /* isdataat negated: the buffer ended before the byte at E + distance */
        int holds = el->anybyte ? end <= *st.max_end + (uint64_t)el->distance
                                : (!*st.have_kill || (int64_t)*st.max_kill_start <
                                                         (int64_t)*st.max_end + el->distance);
        if (holds)
            chain_complete(s, cx, el->chain, end);
    }
}
