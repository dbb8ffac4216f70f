/*
 * How the conditions of each rule are evaluated on a stream.
 *
 * A rule's conditions split into chains: a non-relative condition starts a
 * chain and the relative conditions after it extend it.  Chains are
 * independent, so a rule holds when each of its chains holds.  Within a chain,
 * element k keeps the set of positions where it can end (given the elements
 * before it); that set only has to be remembered over a bounded stretch of the
 * stream, whose size this plan computes from distance, within and lengths.
 * Both libraries use it: the compiler to refuse rules whose memory would be too
 * large, the runtime to lay out per-stream state.
 */
#ifndef VP_COMMON_CHAINPLAN_H
#define VP_COMMON_CHAINPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef enum vp_elem_kind {
    VP_EK_HEAD_POS = 1, /* first element of a chain, must occur */
    VP_EK_HEAD_NEG = 2, /* a chain of one negated, non-relative condition */
    VP_EK_REL_POS = 3,  /* relative element that must occur */
    VP_EK_REL_NEG = 4   /* relative negated element (always a chain's tail) */
} vp_elem_kind;

typedef struct vp_elem {
    uint32_t rule;       /* rule index */
    uint32_t chain;      /* global chain index */
    uint8_t kind;        /* vp_elem_kind */
    uint8_t is_tail;     /* last element of its chain */
    uint8_t is_regex;
    uint8_t has_within;
    uint8_t buf;         /* VP_BUF_* inspected */
    uint8_t anybyte;     /* isdataat: decided from the buffer's length alone */
    uint8_t jump;        /* byte_jump: reads its bytes when they arrive (REL_POS) */
    uint8_t jump_flags;  /* VP_J_* */
    uint8_t after_jump;  /* the element before is a byte_jump: its ends lie ahead */
    uint8_t jump_test;   /* a read that tests its bytes (VP_J_TEST), not a jump */
    uint8_t jump_op;     /* VP_TEST_* */
    uint32_t jump_mult, jump_post;
    uint64_t jump_value;
    uint32_t length;     /* literal length (0 for a regex) */
    uint64_t min_start;  /* absolute window: match start >= (literals only) */
    uint64_t max_end;    /* absolute window: match end <= (UINT64_MAX when open) */
    int32_t distance;
    uint32_t within;
    uint32_t late;       /* how far behind the stream position a member of this
                            element's end-set can be found (negative distances) */
    uint8_t early;       /* own occurrences matter before any predecessor end exists */
    uint8_t shared_raw;  /* occurrence ring kept once per atom (no own window) */
    uint32_t atom;
    uint32_t neg_index;  /* HEAD_NEG: bit in the stream's killed bitmap */
    uint32_t prev_bits;  /* ring of predecessor ends (relative with within) */
    uint32_t raw_bits;   /* ring of own occurrence ends (late partners, killers) */
    uint32_t pend_bits;  /* ring of pending candidates (REL_NEG with within) */
    uint32_t state_off;  /* byte offset of this element's state in a stream */
    uint32_t state_size;
} vp_elem;

typedef struct vp_chainplan {
    vp_elem *elems;      /* one per condition, same index as model conds */
    size_t n_elems;
    uint32_t *rule_chain_first; /* per rule: first chain index; n_rules+1 entries */
    size_t n_chains;
    uint32_t *chain_rule;       /* per chain: rule index */
    uint8_t *chain_buf;         /* per chain: the buffer all its elements inspect */
    uint8_t *rule_http;         /* per rule: 1 when some chain is not on the raw stream */
    uint8_t *rule_mixed;        /* per rule: chains on the raw stream and on HTTP buffers */
    uint32_t *atom_raw_bits;    /* per atom: shared occurrence ring size (0: none) */
    size_t state_size;          /* most element state one stream can hold (all rules) */
    size_t n_headneg;           /* HEAD_NEG elements */
    int has_jump;               /* some element is a byte_jump (streams keep a carry) */
} vp_chainplan;

/* Ring of `bits` positions ending at `hi`: the state of one bitmap. */
static inline size_t vp_ring_bytes(uint32_t bits)
{
    return bits ? 8 + (((size_t)bits + 63) / 64) * 8 : 0;
}

/* Builds the plan.  Returns 0; -1 out of memory; -2 a rule exceeds
 * VP_MAX_LOOKBACK (then bad_rule and bad_cond name it); -3 the rules'
 * condition ranges are not contiguous and in order (bad_rule names it). */
int vp_chainplan_build(const vp_model *m, vp_chainplan *out, size_t *bad_rule, size_t *bad_cond);
void vp_chainplan_free(vp_chainplan *p);

#endif
