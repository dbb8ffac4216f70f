/* Runtime objects shared by the files of lib/runtime/. */
#ifndef VP_RUNTIME_INTERNAL_H
#define VP_RUNTIME_INTERNAL_H

#include <hs.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vpatch/vpatch.h"
#include "../common/buffers.h"
#include "../common/bundle_codec.h"
#include "../common/chainplan.h"
#include "../common/error.h"
#include "../common/model.h"
#include "http.h"


/* Stream start bytes that decide service recognition (service.c). */
#define VP_SERVICE_PREFIX 17
enum { VP_SVC_UNDECIDED = 0, VP_SVC_HTTP = 1, VP_SVC_OTHER = 2 };

typedef struct vp_id_index {
    uint32_t id;
    uint32_t rule;
} vp_id_index;

/* A bounded (deadline) negation of one rule, sorted by deadline. */
typedef struct vp_deadline {
    uint64_t at;
    uint32_t elem;
} vp_deadline;

/* A flowbit operation of a rule with its name turned into a bit number. */
typedef struct vp_fbop {
    uint32_t bit;
    uint8_t op;                 /* VP_FB_* */
} vp_fbop;

/* What the bundle holds for one buffer. */
typedef struct vp_buflists {
    hs_database_t *db;          /* atoms of this buffer (not for STREAM/ANOMALY) */
    vp_deadline *head_deadlines; /* HEAD_NEG elements with a bounded window */
    size_t n_head_deadlines;
    uint32_t *rel_neg_within;   /* REL_NEG elements with within */
    size_t n_rel_neg_within;
    uint32_t *open_negs;        /* negations decided at the buffer's end */
    size_t n_open_negs;
    vp_deadline *head_pos_any;  /* absolute isdataat: holds when the buffer reaches `at` */
    size_t n_head_pos_any;
    uint32_t *rel_pos_any;      /* relative isdataat (positive) */
    size_t n_rel_pos_any;
    uint32_t *rel_jump;         /* byte_jump elements (stream only) */
    size_t n_rel_jump;
    uint32_t *elems;            /* every element on this buffer */
    size_t n_elems;
} vp_buflists;

struct vp_bundle {
    atomic_int refs;
    vp_model m;
    vp_bundle_header_info hdr;  /* header and section table as stored */
    uint64_t uid;               /* identity for scratch checks (vp_unique_id) */
    char key_id[17];            /* signer, "" when unsigned */
    const char *db_source;      /* which database is in use (vp_bundle_stats) */
    double load_ms;
    vp_chainplan plan;
    hs_database_t *db;          /* raw stream atoms; NULL when there are none */
    const char **strptrs;       /* strlist resolved to pointers */
    vp_id_index *by_id;         /* sorted by id */
    uint32_t *atom_ref_first;   /* n_atoms + 1 entries into atom_refs */
    uint32_t *atom_refs;        /* condition (= element) indices per atom */
    vp_buflists bufs[VP_BUF_COUNT];
    int32_t anomaly_atom[VP_AN_COUNT]; /* atom of each anomaly, -1 when unused */
    int has_http;               /* some condition inspects an HTTP buffer */
    uint32_t *http_rules;       /* rules with HTTP conditions (per-message resets) */
    size_t n_http_rules;
    /* flowbits (flowbits.c): per rule a range of operations on bit numbers */
    uint32_t *fb_first;         /* n_rules + 1 entries into fb_ops; NULL when none */
    vp_fbop *fb_ops;
    size_t n_fbits;             /* distinct names */
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
    int profiling;
    vp_http_limits http_limits;
    uint32_t *enable, *disable;
    size_t n_enable, n_disable, cap_enable, cap_disable;
};

typedef struct vp_profile_counters {
    atomic_uint_fast64_t hits, fires, ns;
} vp_profile_counters;

struct vp_engine {
    atomic_int refs;            /* the host's, plus one per open stream */
    vp_bundle_t *bundle;        /* holds a reference */
    /* Databases the engine scans with, per buffer: the bundle's, or one of
     * only the patterns its enabled rules use (owned), or NULL when none. */
    hs_database_t *dbs[VP_BUF_COUNT];
    uint8_t owned[VP_BUF_COUNT];
    uint64_t db_key;            /* identity of this set of databases (scratch) */
    const vp_model *m;
    const vp_chainplan *plan;
    uint8_t *enabled;           /* per rule index */
    size_t n_enabled;
    int detect_only;
    size_t hs_stream_size;
    size_t rule_bytes;          /* bitmap bytes for rules */
    size_t chain_bytes;         /* bitmap bytes for chains */
    size_t neg_bytes;           /* bitmap bytes for HEAD_NEG elements */
    size_t stream_size;         /* sizeof(vp_stream) + bitmaps + element state */
    vp_http_limits http_limits;
    vp_profile_counters *profile; /* per rule, NULL unless profiling */
    int has_service;            /* some enabled rule needs a service recognised */
    size_t fbit_bytes;          /* per flow: one bit per flowbit name */
};

#define VP_SCRATCH_MAX_BUNDLES 8

struct vp_scratch {
    uint64_t bundles[VP_SCRATCH_MAX_BUNDLES]; /* engine db_keys whose databases hs fits */
    size_t n_bundles;
    hs_scratch_t *hs;
    atomic_flag busy;
};

/*
 * Evaluation context of one buffer: positions count from the buffer's start.
 * For the raw stream a position is a stream offset; for HTTP buffers `map_*`
 * turns a buffer position into the stream offset reported in events.
 */
typedef struct vp_bufctx {
    uint8_t buf;
    uint8_t map_const;          /* every position maps to map_r0 */
    uint64_t pos;               /* bytes seen, gaps included */
    uint64_t seg_base;          /* start of the current gap-free segment */
    uint64_t flushed_to;        /* deadlines up to here are decided */
    size_t next_head_deadline;
    size_t pending;             /* REL_NEG candidates waiting for their deadline */
    size_t next_head_pos_any;
    size_t armed_any;           /* relative isdataat elements waiting for their byte */
    uint64_t any_due;           /* with armed_any: the earliest of their positions ... */
    uint32_t any_elem;          /* ... and its element (kept so a flush looks nothing up) */
    size_t armed_jump;          /* byte_jump elements waiting for bytes to read */
    uint64_t jump_due;          /* with armed_jump: the earliest read's end ... */
    uint32_t jump_elem;         /* ... and its element */
    uint64_t map_d0, map_r0;    /* buffer position map_d0 is stream offset map_r0 */
} vp_bufctx;

typedef struct vp_state_table vp_state_table;

/* A relative negation whose window already lies behind its E: decided once
 * every match ending at `at` is known (a killer may end exactly there). */
typedef struct vp_deferred {
    uint32_t elem;
    uint8_t buf;
    uint64_t E, at;
} vp_deferred;

/* The HTTP side of a stream, made at its first byte when HTTP rules apply. */
typedef struct vp_stream_http {
    vp_http *parser;
    vp_bufctx ctx[VP_BUF_COUNT];
    hs_stream_t *hs[VP_BUF_COUNT];
    uint8_t *pending;           /* per rule: HTTP part held in an earlier message */
    int dirty;                  /* an HTTP chain completed in this message */
    struct vp_scratch *scratch; /* of the call in progress */
} vp_stream_http;

struct vp_stream {
    const vp_engine_t *engine;
    const vp_bundle_t *bundle;
    hs_stream_t *hs;
    vp_event_cb cb;
    void *ctx;
    vp_bufctx raw;              /* the raw stream buffer */
    uint8_t direction;
    uint8_t closed;
    uint8_t verdict;
    uint8_t wants_http;         /* HTTP rules apply to this stream */
    uint8_t http_failed;        /* no memory for the HTTP side: raw rules only */
    uint8_t oom;                /* element state could not be made: reported by scan */
    uint8_t *rule_off;          /* not enabled or not applicable */
    uint8_t *rule_done;         /* fired (HTTP rules: in the current message) */
    uint8_t *chain_done;
    uint8_t *chain_started;     /* some element of the chain has state */
    uint8_t *neg_killed;        /* per HEAD_NEG element (vp_elem.neg_index) */
    vp_state_table *states;     /* element state, made on demand (state.c) */
    vp_deferred *deferred;      /* made on demand; rare */
    size_t n_deferred, cap_deferred;
    vp_stream_http *http;
    vp_stream_t *peer;          /* the other direction, when linked */
    /* service recognition (service.c), kept by every stream of an engine
     * with service rules, since a linked peer may need it */
    uint8_t svc;                /* VP_SVC_* */
    uint8_t svc_held;           /* a service rule held waiting for recognition */
    uint8_t svc_len;            /* bytes in svc_prefix */
    uint8_t svc_prefix[VP_SERVICE_PREFIX];
    uint64_t svc_at;            /* offset where HTTP was recognised */
    /* flowbits (flowbits.c): the flow's bits, this stream's own or, linked,
     * the to_server stream's; rules whose conditions hold but whose checks
     * did not, retried at later matches of their patterns */
    uint8_t *fbits, *fbits_own;
    uint8_t *rule_wait;
    /* byte_jump (chain.c) reads bytes of the stream: those of the scan call
     * in progress, and the last few before it (at most 8 are ever read, and
     * every read ends in the current call or an earlier one) */
    const uint8_t *chunk;       /* the call's data, NULL outside a scan call */
    uint64_t chunk_at;          /* stream offset of chunk[0] */
    size_t chunk_len;
    uint8_t carry[8];           /* the stream's bytes [carry_end - carry_len, carry_end) */
    uint8_t carry_len;
    uint64_t carry_end;
};

static inline int vp_bit_get(const uint8_t *bits, size_t i)
{
    return (bits[i >> 3] >> (i & 7)) & 1;
}

static inline void vp_bit_set(uint8_t *bits, size_t i)
{
    bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static inline void vp_bit_clear(uint8_t *bits, size_t i)
{
    bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

/* chain.c: keeps the last bytes of a scan call for byte_jump reads that
 * straddle calls (only when the bundle has byte_jump rules). */
void vp_chain_keep_carry(vp_stream_t *s, const uint8_t *p, size_t n, uint64_t at);

/* state.c: element state of a stream, made when a chain first needs it.
 * NULL when the element has none, or !create and it was never made, or out
 * of memory (then s->oom is set). */
uint8_t *vp_state_get(vp_stream_t *s, uint32_t elem, int create);
/* Any slot: elements [0, n_elems), shared occurrence rings of atoms
 * [n_elems, +n_atoms), stream-part completion of mixed rules after that. */
uint8_t *vp_state_slot(vp_stream_t *s, uint32_t slot, size_t size, int create);
void vp_state_foreach(vp_stream_t *s, void (*fn)(vp_stream_t *, uint32_t, uint8_t *, void *),
                      void *ctx);
size_t vp_state_bytes(const vp_stream_t *s);
void vp_state_free(vp_stream_t *s);

/* service.c: recognition of the stream's application protocol. */
void vp_service_feed(vp_stream_t *s, const uint8_t *p, size_t n); /* before scanning p */
void vp_service_end(vp_stream_t *s);    /* a gap or the end: undecided is not HTTP */
/* 1 when service rules may fire (the stream or its linked peer is HTTP);
 * raises *at to the offset where this stream was recognised. */
int vp_service_ready(const vp_stream_t *s, uint64_t *at);
/* Fires the held service rules once the stream or its peer is recognised. */
void vp_service_poll(vp_stream_t *s);

/* flowbits.c */
vp_status vp_flowbits_index(vp_bundle_t *b, vp_error_t **err);
void vp_flowbits_free(vp_bundle_t *b);
int vp_flowbits_allow(const vp_stream_t *s, uint32_t rule); /* checks hold (or none) */
void vp_flowbits_apply(vp_stream_t *s, uint32_t rule);      /* set, unset, toggle */
void vp_flowbits_share(vp_stream_t *to_server, vp_stream_t *to_client);
void vp_flowbits_detach(vp_stream_t *s); /* back to its own bits (copied) */

/* chain.c: the evaluation of chains on one buffer of a stream. */
void vp_chain_on_match(vp_stream_t *s, vp_bufctx *cx, uint32_t atom, uint64_t end);
void vp_chain_flush(vp_stream_t *s, vp_bufctx *cx, uint64_t upto, int inclusive);
void vp_chain_gap(vp_stream_t *s, vp_bufctx *cx, uint64_t gap_start, uint64_t gap_end);
void vp_chain_close(vp_stream_t *s, vp_bufctx *cx);
/* Forgets the partial state of every element on cx's buffer (new message). */
void vp_chain_reset_buffer(vp_stream_t *s, vp_bufctx *cx);
/* A new HTTP message: per-transaction rule state starts over. */
void vp_chain_new_message(vp_stream_t *s);
/* Fires, at `at`, the service rules whose conditions hold (service.c). */
void vp_chain_release_held(vp_stream_t *s, uint64_t at);

/* http_glue.c: feeding the HTTP side of a stream. */
vp_status vp_stream_http_scan(vp_stream_t *s, const uint8_t *p, size_t n, uint64_t raw,
                              struct vp_scratch *scratch);
void vp_stream_http_gap(vp_stream_t *s);
/* Makes the HTTP side now (linking needs both parsers before any data). */
vp_status vp_stream_http_prepare(vp_stream_t *s);
void vp_stream_http_close(vp_stream_t *s, struct vp_scratch *scratch);
void vp_stream_http_free(vp_stream_t *s);

/* verify.c: signature and serial policy, before anything is deserialized. */
vp_status vp_verify_bundle(const uint8_t *data, const vp_bundle_header_info *h,
                           const vp_load_options_t *opts, char key_id[17], vp_error_t **err);
/* dbselect.c: the best database for this system, or a recompiled one. */
vp_status vp_select_database(vp_bundle_t *b, const uint8_t *data, const vp_load_options_t *opts,
                             vp_error_t **err);
vp_status vp_compile_atoms(const vp_bundle_t *b, int buf, const uint8_t *mask, hs_database_t **out,
                           vp_error_t **err);
/* engine.c */
/* An identity that a later object at the same address never repeats (the
 * address mixed with the creation time): scratches remember which databases
 * they fit without holding references. */
uint64_t vp_unique_id(const void *object);
void vp_engine_acquire(vp_engine_t *e);
void vp_engine_release(vp_engine_t *e);

/* bundle.c */
void vp_bundle_ref(vp_bundle_t *b);
int vp_bundle_find_rule(const vp_bundle_t *b, uint32_t id, uint32_t *rule);

#endif
