/* Runtime objects shared by the files of lib/runtime/. */
#ifndef VP_RUNTIME_INTERNAL_H
#define VP_RUNTIME_INTERNAL_H

#include <hs.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vpatch/vpatch.h"
#include "../common/bundle_codec.h"
#include "../common/chainplan.h"
#include "../common/error.h"
#include "../common/model.h"


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
    char key_id[17];            /* signer, "" when unsigned */
    const char *db_source;      /* which database is in use (vp_bundle_stats) */
    double load_ms;
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

struct vp_load_options {
    uint8_t (*keys)[32];
    size_t n_keys;
    uint64_t min_serial;
    int allow_recompile;
    unsigned flags;             /* VP_LOAD_* */
};

struct vp_engine_options {
    vp_mode mode;
    int detect_only;
    uint32_t *enable, *disable;
    size_t n_enable, n_disable, cap_enable, cap_disable;
};

struct vp_engine {
    atomic_int refs;            /* the host's, plus one per open stream */
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

#define VP_SCRATCH_MAX_BUNDLES 8

struct vp_scratch {
    const vp_bundle_t *bundles[VP_SCRATCH_MAX_BUNDLES]; /* whose databases hs fits */
    size_t n_bundles;
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

/* verify.c: signature and serial policy, before anything is deserialized. */
vp_status vp_verify_bundle(const uint8_t *data, const vp_bundle_header_info *h,
                           const vp_load_options_t *opts, char key_id[17], vp_error_t **err);
/* dbselect.c: the best database for this system, or a recompiled one. */
vp_status vp_select_database(vp_bundle_t *b, const uint8_t *data, const vp_load_options_t *opts,
                             vp_error_t **err);
/* engine.c */
void vp_engine_acquire(vp_engine_t *e);
void vp_engine_release(vp_engine_t *e);

/* bundle.c */
void vp_bundle_ref(vp_bundle_t *b);
int vp_bundle_find_rule(const vp_bundle_t *b, uint32_t id, uint32_t *rule);

#endif
