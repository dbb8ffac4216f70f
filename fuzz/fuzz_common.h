/*
 * Helpers shared by the fuzz targets of libvpatch (see docs/fuzzing.md).
 *
 * Every target is one file defining LLVMFuzzerTestOneInput().  It is linked
 * either with libFuzzer (-fsanitize=fuzzer, the real fuzzers) or with
 * replay.c (a plain main() that runs the corpora inside `meson test`), so
 * nothing here may depend on libFuzzer.
 *
 * A target reports a bug by aborting (FUZZ_CHECK): libFuzzer and the
 * sanitizers turn that into a crash with a reproducer, and the replay driver
 * into a failing test.
 */
#ifndef VP_FUZZ_COMMON_H
#define VP_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpatch/vpatch.h"
#include "vpatch/vpatch_compile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the library is broken: report and crash. */
#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* Same, for a call that must succeed. */
#define FUZZ_OK(call)                                                                      \
    do {                                                                                   \
        vp_status fuzz_st_ = (call);                                                       \
        if (fuzz_st_ != VP_OK) {                                                           \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,            \
                    vp_status_str(fuzz_st_));                                              \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* ------------------------------------------------------------ input reader */

/* Consumes the fuzz input front to back; reads past the end give zeros. */
typedef struct fz_input {
    const uint8_t *p;
    size_t n;
} fz_input;

static inline uint8_t fz_u8(fz_input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fz_u16(fz_input *in)
{
    uint16_t lo = fz_u8(in);
    return (uint16_t)(lo | (uint16_t)(fz_u8(in) << 8));
}

/* ------------------------------------------------------------ events */

typedef struct fz_events {
    vp_event_t *v;
    size_t n, cap;
} fz_events;

static inline void fz_events_clear(fz_events *e)
{
    e->n = 0;
}

static inline void fz_events_free(fz_events *e)
{
    free(e->v);
    memset(e, 0, sizeof(*e));
}

/* vp_event_cb that appends to the fz_events given as ctx. */
static inline void fz_collect(const vp_event_t *ev, void *ctx)
{
    fz_events *e = ctx;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        vp_event_t *v = realloc(e->v, cap * sizeof(*v));
        FUZZ_CHECK(v != NULL);
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = *ev;
}

static inline int fz_event_cmp(const void *a, const void *b)
{
    const vp_event_t *x = a, *y = b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    if (x->rule_id != y->rule_id)
        return x->rule_id < y->rule_id ? -1 : 1;
    if (x->verdict != y->verdict)
        return x->verdict < y->verdict ? -1 : 1;
    return 0;
}

/* Sorts by (offset, rule id): the language fixes which events happen and at
 * which offsets, not the order of events that share an offset. */
static inline void fz_events_sort(fz_events *e)
{
    if (e->n > 1)
        qsort(e->v, e->n, sizeof(*e->v), fz_event_cmp);
}

static inline void fz_events_print(const char *label, const fz_events *e)
{
    fprintf(stderr, "%s: %zu event(s)\n", label, e->n);
    for (size_t i = 0; i < e->n; i++)
        fprintf(stderr, "  rule %u at %llu %s %s\n", e->v[i].rule_id,
                (unsigned long long)e->v[i].offset, vp_action_str(e->v[i].action),
                vp_verdict_str(e->v[i].verdict));
}

/* 1 when both lists hold the same events (same order after fz_events_sort). */
static inline int fz_events_equal(const fz_events *a, const fz_events *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (fz_event_cmp(&a->v[i], &b->v[i]) != 0 || a->v[i].action != b->v[i].action ||
            a->v[i].direction != b->v[i].direction)
            return 0;
    return 1;
}

/* ------------------------------------------------------------ engines */

/* A bundle, an engine over it and a scratch for that engine. */
typedef struct fz_engine {
    vp_bundle_t *bundle;
    vp_engine_t *engine;
    vp_scratch_t *scratch;
    int detect_only;
} fz_engine;

static inline void fz_engine_free(fz_engine *e)
{
    vp_scratch_free(e->scratch);
    vp_engine_free(e->engine);
    vp_bundle_free(e->bundle);
    memset(e, 0, sizeof(*e));
}

/* Engine variants a fuzz input can pick. */
enum {
    FZ_ENGINE_SECURITY = 0,    /* defaults: security mode */
    FZ_ENGINE_PERFORMANCE = 1, /* performance mode */
    FZ_ENGINE_DETECT_ONLY = 2, /* security mode, detect-only */
    FZ_ENGINE_ALL_RULES = 3,   /* every rule enabled explicitly */
    FZ_ENGINE_VARIANTS = 4
};

/* Creates engine + scratch over an already loaded bundle (the engine takes its
 * own reference; *out->bundle is not set).  Returns the first failure. */
static inline vp_status fz_engine_make(vp_bundle_t *bundle, int variant, fz_engine *out,
                                       vp_error_t **err)
{
    vp_engine_options_t *opts = NULL;
    vp_status st = vp_engine_options_create(&opts);
    if (st == VP_OK && variant == FZ_ENGINE_PERFORMANCE)
        st = vp_engine_options_set_mode(opts, VP_MODE_PERFORMANCE);
    if (st == VP_OK && variant == FZ_ENGINE_DETECT_ONLY)
        st = vp_engine_options_set_detect_only(opts, 1);
    if (st == VP_OK && variant == FZ_ENGINE_ALL_RULES) {
        for (size_t i = 0; st == VP_OK && i < vp_bundle_rule_count(bundle); i++) {
            vp_rule_info_t info;
            memset(&info, 0, sizeof(info));
            info.size = sizeof(info);
            st = vp_bundle_rule_at(bundle, i, &info);
            if (st == VP_OK)
                st = vp_engine_options_enable(opts, &info.id, 1);
        }
    }
    if (st == VP_OK)
        st = vp_engine_create(bundle, opts, &out->engine, err);
    vp_engine_options_free(opts);
    if (st == VP_OK)
        st = vp_scratch_alloc(out->engine, &out->scratch);
    out->detect_only = variant == FZ_ENGINE_DETECT_ONLY;
    return st;
}

/* Compiles YAML held in memory (embedded tests run when run_tests) and loads
 * the result.  On a compile error returns VP_E_COMPILE and, when verbose,
 * prints the diagnostics. */
static inline vp_status fz_compile_load(const char *yaml, size_t len, int run_tests, int verbose,
                                        vp_bundle_t **out)
{
    *out = NULL;
    vp_compiler_t *c = NULL;
    vp_status st = vp_compiler_create(&c);
    if (st != VP_OK)
        return st;
    uint8_t *bytes = NULL;
    size_t n = 0;
    vp_compiler_set_serial(c, 1);
    vp_compiler_set_run_tests(c, run_tests);
    st = vp_compiler_add_memory(c, "fuzz.yaml", yaml, len);
    if (st == VP_OK)
        st = vp_compiler_build(c, &bytes, &n);
    if (st != VP_OK && verbose) {
        char buf[1024];
        for (size_t i = 0; i < vp_compiler_diag_count(c); i++) {
            vp_compiler_diag_format(c, i, buf, sizeof(buf));
            fprintf(stderr, "%s\n", buf);
        }
    }
    vp_compiler_free(c);
    if (st != VP_OK)
        return st;
    vp_error_t *err = NULL;
    st = vp_bundle_load_memory(bytes, n, out, &err);
    if (st != VP_OK && verbose)
        fprintf(stderr, "compiled bundle does not load: %s\n", vp_error_message(err));
    vp_error_free(err);
    vp_compiler_bundle_free(bytes);
    return st;
}

/* ------------------------------------------------------------ stream scripts */

/* Chunk program: a few input bytes, used in a cycle, cut the stream data into
 * pieces and insert gaps between them.  Byte c of the program means:
 *   bits 0-3  length of the next scan call (FZ_CHUNK_LENS; 0 is an empty call)
 *   bits 6-7  both set: report a gap after that scan call
 *   bits 4-5  the gap's length (FZ_GAP_LENS) */
#define FZ_PROGRAM_LEN 8

static const size_t FZ_CHUNK_LENS[16] = {0, 1, 1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 64, 200, 1000,
                                         SIZE_MAX};
static const uint64_t FZ_GAP_LENS[4] = {1, 5, 100, 70000};

typedef enum fz_op_kind { FZ_OP_SCAN = 1, FZ_OP_GAP = 2 } fz_op_kind;

typedef struct fz_op {
    fz_op_kind kind;
    size_t at;       /* FZ_OP_SCAN: data offset of the piece */
    uint64_t len;    /* bytes scanned or lost */
} fz_op;

typedef struct fz_script {
    fz_op *ops;
    size_t n_ops;
} fz_script;

static inline void fz_script_free(fz_script *s)
{
    free(s->ops);
    memset(s, 0, sizeof(*s));
}

static inline void fz_script_push(fz_script *s, size_t *cap, fz_op op)
{
    if (s->n_ops == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        fz_op *v = realloc(s->ops, *cap * sizeof(fz_op));
        FUZZ_CHECK(v != NULL);
        s->ops = v;
    }
    s->ops[s->n_ops++] = op;
}

/* Turns a program and `len` data bytes into operations.  with_gaps 0 ignores
 * the gap bits.  A program of zeros (empty calls only) still advances. */
static inline void fz_script_make(const uint8_t program[FZ_PROGRAM_LEN], size_t len, int with_gaps,
                                  fz_script *out)
{
    memset(out, 0, sizeof(*out));
    size_t cap = 0, at = 0, step = 0, empty_run = 0;
    while (at < len) {
        uint8_t c = program[step++ % FZ_PROGRAM_LEN];
        size_t want = FZ_CHUNK_LENS[c & 15];
        if (want == 0 && ++empty_run > FZ_PROGRAM_LEN)
            want = 1;
        if (want)
            empty_run = 0;
        size_t n = want < len - at ? want : len - at;
        fz_script_push(out, &cap, (fz_op){FZ_OP_SCAN, at, n});
        at += n;
        if (with_gaps && (c & 0xc0) == 0xc0)
            fz_script_push(out, &cap, (fz_op){FZ_OP_GAP, 0, FZ_GAP_LENS[(c >> 4) & 3]});
    }
}

#endif
