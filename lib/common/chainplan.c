#include "chainplan.h"
#include "buffers.h"

#include <stdlib.h>
#include <string.h>

/* Per-element state layouts (see lib/runtime/chain.c):
 *   HEAD_POS  nothing
 *   HEAD_NEG  u64 killed flag
 *   REL_POS   [ring prev_bits] or [u64 min_end, u64 have]; [ring raw_bits]
 *   REL_NEG   with within:    u64 scan_from; [ring pend_bits]; ring raw_bits
 *             without within: u64 max_end, u64 have_end, u64 max_kill_start, u64 have_kill
 * An any-byte element (isdataat) has no occurrences to remember: its one-byte
 * window holds as soon as the buffer reaches it, so a relative one keeps only
 * the extreme predecessor end, in the layout without within.
 * A byte_jump element (REL_POS, jump) keeps the predecessor ends whose bytes
 * are still to come: u64 scan_from, u64 earliest, u64 have; ring pend_bits.
 * Its ends (the jump targets) lie up to VP_MAX_JUMP ahead of the stream, so
 * the element after it remembers that much more.
 */

static int64_t bits_for(int64_t span)
{
    return span >= 0 ? span + 1 : 0;
}

static int plan_elem(vp_elem *el, const vp_mcond *c, uint32_t late_prev)
{
    el->is_regex = (c->flags & VP_C_REGEX) != 0;
    if (el->anybyte) {
        el->length = 1;
        el->min_start = (c->flags & VP_C_HAS_OFFSET) ? c->offset : 0;
        el->max_end = (c->flags & VP_C_HAS_DEPTH) ? (uint64_t)el->min_start + c->depth
                                                   : UINT64_MAX;
        el->distance = (c->flags & VP_C_HAS_DISTANCE) ? c->distance : 0;
        el->within = (c->flags & VP_C_HAS_WITHIN) ? c->within : 0;
        el->has_within = 0;
        el->state_size = el->kind == VP_EK_REL_POS ? 16 : el->kind == VP_EK_REL_NEG ? 32 : 0;
        return 0;
    }
    el->length = c->length;
    el->min_start = (c->flags & VP_C_HAS_OFFSET) ? c->offset : 0;
    el->max_end = UINT64_MAX;
    if (c->flags & VP_C_HAS_DEPTH)
        el->max_end = (uint64_t)el->min_start + c->depth;
    el->distance = (c->flags & VP_C_HAS_DISTANCE) ? c->distance : 0;
    el->has_within = (c->flags & VP_C_HAS_WITHIN) != 0;
    el->within = el->has_within ? c->within : 0;

    int64_t d = el->distance, w = el->within, len = el->length;
    size_t size = 0;
    switch (el->kind) {
    case VP_EK_HEAD_POS:
        break;
    case VP_EK_HEAD_NEG:
        break; /* a bit in the stream's killed bitmap */
    case VP_EK_REL_POS: {
        if (el->jump) {
            /* predecessor ends from d + len behind to VP_MAX_JUMP ahead */
            int64_t pend = bits_for(d + len + (int64_t)VP_MAX_JUMP);
            if (d < 0 || d + len > (int64_t)VP_MAX_LOOKBACK)
                return -1;
            el->pend_bits = (uint32_t)pend;
            size = 24 + vp_ring_bytes(el->pend_bits);
            break;
        }
        int64_t raw = bits_for((int64_t)late_prev - d - len);
        int64_t prev = el->has_within ? bits_for(d + w) : 0;
        if (raw > (int64_t)VP_MAX_LOOKBACK + 1 || prev > (int64_t)VP_MAX_LOOKBACK + 1)
            return -1;
        if (el->after_jump && prev)
            prev += VP_MAX_JUMP;
        el->raw_bits = (uint32_t)raw;
        el->prev_bits = (uint32_t)prev;
        el->late = raw > 0 ? (uint32_t)(raw - 1) : 0;
        el->early = raw > 0;
        size = (el->has_within ? vp_ring_bytes(el->prev_bits) : 16) + vp_ring_bytes(el->raw_bits);
        break;
    }
    case VP_EK_REL_NEG:
        if (el->has_within) {
            int64_t pend = d + w > 0 ? d + w : 0;
            int64_t raw = w - len + 1;
            int64_t late_raw = bits_for((int64_t)late_prev - d - len);
            if (late_raw > raw)
                raw = late_raw;
            if (raw > (int64_t)VP_MAX_LOOKBACK + 1 || pend > (int64_t)VP_MAX_LOOKBACK + 1)
                return -1;
            el->pend_bits = (uint32_t)pend;
            el->raw_bits = (uint32_t)raw;
            el->early = d < 0 || late_prev > 0;
            size = 8 + vp_ring_bytes(el->pend_bits) + vp_ring_bytes(el->raw_bits);
        } else {
            size = 32;
            el->early = d < 0 || late_prev > 0;
        }
        break;
    }
    el->state_size = (uint32_t)size;
    return 0;
}

int vp_chainplan_build(const vp_model *m, vp_chainplan *out, size_t *bad_rule, size_t *bad_cond)
{
    memset(out, 0, sizeof(*out));
    out->elems = calloc(m->n_conds ? m->n_conds : 1, sizeof(vp_elem));
    out->rule_chain_first = calloc(m->n_rules + 1, sizeof(uint32_t));
    out->chain_rule = calloc(m->n_conds ? m->n_conds : 1, sizeof(uint32_t));
    out->chain_buf = calloc(m->n_conds ? m->n_conds : 1, 1);
    out->rule_http = calloc(m->n_rules ? m->n_rules : 1, 1);
    out->rule_mixed = calloc(m->n_rules ? m->n_rules : 1, 1);
    out->atom_raw_bits = calloc(m->n_atoms ? m->n_atoms : 1, sizeof(uint32_t));
    if (!out->elems || !out->rule_chain_first || !out->chain_rule || !out->chain_buf ||
        !out->rule_http || !out->rule_mixed || !out->atom_raw_bits) {
        vp_chainplan_free(out);
        return -1;
    }
    out->n_elems = m->n_conds;
    /* Every condition belongs to exactly one rule, in rule order: the arrays
     * below are sized by that (a bundle could claim overlapping ranges). */
    size_t next = 0;
    for (size_t r = 0; r < m->n_rules; r++) {
        if (m->rules[r].cond_first != next) {
            *bad_rule = r;
            *bad_cond = 0;
            vp_chainplan_free(out);
            return -3;
        }
        next += m->rules[r].cond_count;
    }
    if (next != m->n_conds) {
        *bad_rule = m->n_rules ? m->n_rules - 1 : 0;
        *bad_cond = 0;
        vp_chainplan_free(out);
        return -3;
    }
    size_t off = 0;
    uint32_t chain = 0;
    for (size_t r = 0; r < m->n_rules; r++) {
        const vp_mrule *rule = &m->rules[r];
        out->rule_chain_first[r] = chain;
        uint32_t late_prev = 0;
        for (uint32_t k = 0; k < rule->cond_count; k++) {
            size_t ci = (size_t)rule->cond_first + k;
            const vp_mcond *c = &m->conds[ci];
            vp_elem *el = &out->elems[ci];
            int relative = (c->flags & VP_C_RELATIVE) != 0;
            int negated = (c->flags & VP_C_NEGATE) != 0;
            el->buf = (uint8_t)VP_BUF_OF(c->flags);
            if (!relative) {
                out->chain_rule[chain] = (uint32_t)r;
                out->chain_buf[chain] = el->buf;
                chain++;
                late_prev = 0;
            }
            if (el->buf != VP_BUF_STREAM)
                out->rule_http[r] = 1;
            el->rule = (uint32_t)r;
            el->atom = c->atom;
            el->anybyte = c->atom < m->n_atoms && (m->atoms[c->atom].flags & VP_A_ANYBYTE);
            el->jump = c->atom < m->n_atoms && (m->atoms[c->atom].flags & VP_A_JUMP);
            el->after_jump = relative && k > 0 && out->elems[ci - 1].jump &&
                             !out->elems[ci - 1].jump_test;
            if (el->jump) {
                const vp_mjump *j = vp_model_jump_of(m, ci);
                if (!j || !relative || negated) {
                    *bad_rule = r;
                    *bad_cond = k;
                    vp_chainplan_free(out);
                    return -2;
                }
                el->jump_flags = j->flags;
                el->jump_test = (j->flags & VP_J_TEST) != 0;
                el->jump_op = j->op;
                el->jump_value = j->value;
                el->jump_mult = j->multiplier;
                el->jump_post = j->post_offset;
                out->has_jump = 1;
            }
            el->chain = chain - 1;
            el->kind = relative ? (negated ? VP_EK_REL_NEG : VP_EK_REL_POS)
                                : (negated ? VP_EK_HEAD_NEG : VP_EK_HEAD_POS);
            int next_relative = k + 1 < rule->cond_count &&
                                (m->conds[ci + 1].flags & VP_C_RELATIVE);
            el->is_tail = !next_relative;
            if (plan_elem(el, c, late_prev) != 0) {
                *bad_rule = r;
                *bad_cond = k;
                vp_chainplan_free(out);
                return -2;
            }
            late_prev = el->late;
            /* Elements without a window of their own record the same
             * occurrences: keep one ring per atom for all of them. */
            if (el->kind == VP_EK_REL_POS && el->raw_bits && !el->is_regex &&
                el->min_start == 0 && el->max_end == UINT64_MAX) {
                el->shared_raw = 1;
                el->early = 0; /* recorded once per atom, before the elements */
                el->state_size -= (uint32_t)vp_ring_bytes(el->raw_bits);
                if (el->raw_bits > out->atom_raw_bits[el->atom])
                    out->atom_raw_bits[el->atom] = el->raw_bits;
            }
            if (el->kind == VP_EK_HEAD_NEG)
                el->neg_index = (uint32_t)out->n_headneg++;
            el->state_off = (uint32_t)off;
            off += (el->state_size + 7) & ~(size_t)7;
        }
    }
    out->rule_chain_first[m->n_rules] = chain;
    out->n_chains = chain;
    for (size_t r = 0; r < m->n_rules; r++) {
        int stream = 0, http = 0;
        for (uint32_t c = out->rule_chain_first[r]; c < out->rule_chain_first[r + 1]; c++) {
            stream |= out->chain_buf[c] == VP_BUF_STREAM;
            http |= out->chain_buf[c] != VP_BUF_STREAM;
        }
        out->rule_mixed[r] = (uint8_t)(stream && http);
    }
    for (size_t a = 0; a < m->n_atoms; a++)
        off += vp_ring_bytes(out->atom_raw_bits[a]);
    off += 8 * m->n_rules; /* stream-part completion of mixed rules */
    out->state_size = off;
    return 0;
}

void vp_chainplan_free(vp_chainplan *p)
{
    if (!p)
        return;
    free(p->elems);
    free(p->rule_chain_first);
    free(p->chain_rule);
    free(p->chain_buf);
    free(p->rule_http);
    free(p->rule_mixed);
    free(p->atom_raw_bits);
    memset(p, 0, sizeof(*p));
}
