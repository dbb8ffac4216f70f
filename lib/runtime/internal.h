/* Runtime objects shared by the files of lib/runtime/. */
#ifndef VP_RUNTIME_INTERNAL_H
#define VP_RUNTIME_INTERNAL_H

#include <hs_runtime.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vpatch/vpatch.h"
#include "../common/bundle_codec.h"
#include "../common/chainplan.h"
#include "../common/model.h"

/* Fills *err (when err is non-NULL) with a new error; always returns status. */
vp_status vp_error_set(vp_error_t **err, vp_status status, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

typedef struct vp_id_index {
    uint32_t id;
    uint32_t rule;
} vp_id_index;

/* A bounded (deadline) negation of one rule, sorted by deadline. */
typedef struct vp_deadline {
    uint64_t at;
    uint32_t elem;
} vp_deadline;

struct vp_bundle {
    atomic_int refs;
    vp_model m;
    vp_bundle_header_info hdr;  /* header and section table as stored */
    vp_chainplan plan;
    hs_database_t *db;          /* NULL when the bundle has no atoms */
    const char **strptrs;       /* strlist resolved to pointers */
    vp_id_index *by_id;         /* sorted by id */
    uint32_t *atom_ref_first;   /* n_atoms + 1 entries into atom_refs */
    uint32_t *atom_refs;        /* condition (= element) indices per atom */
    vp_deadline *head_deadlines; /* HEAD_NEG elements with a bounded window */
    size_t n_head_deadlines;
    uint32_t *rel_neg_within;   /* REL_NEG elements with within */
    size_t n_rel_neg_within;
    uint32_t *open_negs;        /* negations decided at close: HEAD_NEG, REL_NEG */
    size_t n_open_negs;
};

struct vp_engine_options {
    vp_mode mode;
    int detect_only;
    uint32_t *enable, *disable;
    size_t n_enable, n_disable, cap_enable, cap_disable;
};

struct vp_engine {
    vp_bundle_t *bundle;        /* holds a reference */
    const vp_model *m;
    const vp_chainplan *plan;
    uint8_t *enabled;           /* per rule index */
    size_t n_enabled;
    int detect_only;
    size_t hs_stream_size;
    size_t rule_bytes;          /* bitmap bytes for rules */
    size_t chain_bytes;         /* bitmap bytes for chains */
    size_t stream_size;         /* sizeof(vp_stream) + bitmaps + element state */
};

struct vp_scratch {
    const vp_engine_t *engine;
    hs_scratch_t *hs;
    atomic_flag busy;
};

struct vp_stream {
    const vp_engine_t *engine;
    const vp_bundle_t *bundle;
    hs_stream_t *hs;
    vp_event_cb cb;
    void *ctx;
    uint64_t seg_base;          /* stream offset of the current gap-free segment */
    uint64_t pos;               /* bytes seen, gaps included */
    uint64_t flushed_to;        /* deadlines up to here are decided */
    size_t next_head_deadline;
    size_t pending;             /* REL_NEG candidates waiting for their deadline */
    uint8_t direction;
    uint8_t closed;
    uint8_t verdict;
    uint8_t *rule_done;         /* fired or not applicable */
    uint8_t *chain_done;
    uint8_t *state;             /* element state, see chainplan.c */
};

static inline int vp_bit_get(const uint8_t *bits, size_t i)
{
    return (bits[i >> 3] >> (i & 7)) & 1;
}

static inline void vp_bit_set(uint8_t *bits, size_t i)
{
    bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* chain.c: the evaluation of chains on one stream. */
void vp_chain_on_match(vp_stream_t *s, uint32_t atom, uint64_t end);
void vp_chain_flush(vp_stream_t *s, uint64_t upto, int inclusive);
void vp_chain_gap(vp_stream_t *s, uint64_t gap_start, uint64_t gap_end);
void vp_chain_close(vp_stream_t *s);

/* bundle.c */
void vp_bundle_ref(vp_bundle_t *b);
int vp_bundle_find_rule(const vp_bundle_t *b, uint32_t id, uint32_t *rule);

#endif
