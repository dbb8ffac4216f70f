/*
 * vpbench — throughput, memory and start-up costs of libvpatch against raw
 * Hyperscan, on generated rules and traffic (issue 7).  A benchmark that
 * prints numbers (a table, then a JSON document), not a timed test.
 *
 * usage: vpbench [--quick] [--rules 10,100,...] [--mb N] [--flows N] [--reps N]
 *                [--json FILE] [--lib-only] [--no-pcap] [--vpscan PATH]
 *                [--without-shapes K,...]
 *        vpbench --profile BUNDLE.vpb|RULE_DIR [--mode performance|security]
 *                [--traffic DIR] [--mb N] [--flows N] [--reps N] [--top N] [--json FILE]
 *
 * --profile scans the same generated traffic (without attack messages) with
 * a real rule set: throughput of both modes, then one pass with per-rule
 * profiling (vp_engine_options_set_profiling) and a table of every rule's
 * pattern hits, fires and confirmation time (docs/ruleset.md).
 *
 * Sources: bench_traffic.c (corpus, pcap writer), bench_rules.c (rule
 * universe and its attack messages), bench_util.c (PRNG, buffers, clocks).
 *
 * See docs/performance.md for what each number means and how it is measured.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hs.h>
#include <inttypes.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define HAVE_MALLINFO2 1
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_rules.h"
#include "bench_traffic.h"
#include "bench_util.h"
#include "vpatch/vpatch.h"
#include "vpatch/vpatch_compile.h"

#ifndef VPBENCH_VPSCAN
#define VPBENCH_VPSCAN "vpscan"
#endif

#define MAX_SETS 16
#define CHUNK 1448
#define SEED 0x7670626e63680001ull

typedef struct options {
    int quick;
    unsigned rules[MAX_SETS];
    unsigned n_rules;
    size_t mb;
    size_t flows;
    unsigned reps;
    const char *json;
    int lib_only;
    int no_pcap;
    const char *profile;  /* --profile: a bundle file or a directory of rule files */
    const char *traffic;  /* --traffic: a directory of byte streams instead of the generator */
    int mode;             /* --mode: 0 (both), VP_MODE_PERFORMANCE or VP_MODE_SECURITY */
    unsigned top;         /* --top: rows of the per-rule table (0: all) */
    const char *vpscan;
    unsigned shape_off;   /* --without-shapes: diagnosis only */
} options;

/* One timed pass over the corpus (or a part of it). */
typedef struct run_result {
    double open_ms, scan_ms, close_ms;
    double scan_cpu_ms;  /* thread CPU time of the scan loop */
    uint64_t bytes;
    uint64_t events;     /* library events / raw Hyperscan matches */
    size_t streams;
    int64_t heap_bytes;  /* heap growth from before the opens to the end of the scan */
    int failed;
} run_result;

typedef struct thread_stats {
    double lib1_ms, lib2_ms, raw1_ms, raw2_ms;         /* wall */
    double lib1_cpu, lib2_cpu, raw1_cpu, raw2_cpu;     /* CPU of the busiest thread */
} thread_stats;

/* Bytes in use on the heap (glibc), -1 when unknown. */
static int64_t heap_in_use(void)
{
#ifdef HAVE_MALLINFO2
    struct mallinfo2 mi = mallinfo2();
    return (int64_t)mi.uordblks + (int64_t)mi.hblkhd;
#else
    return -1;
#endif
}

typedef struct set_result {
    unsigned rules;
    size_t n_all;                 /* distinct condition patterns */
    size_t bundle_bytes;
    size_t atoms;                 /* as the bundle reports (pattern_count) */
    size_t db_bytes;
    const char *database;
    double compile_ms, load_ms, load_ms_lib, create_ms, create_ovr_ms;
    double raw_compile_ms, raw_all_compile_ms;
    size_t stream_bytes, raw_stream_bytes, raw_all_stream_bytes;
    size_t enabled;
    run_result lib, raw, raw_all;  /* medians (scan_ms) of the repetitions */
    double lib_cpu_ms, raw_cpu_ms, raw_all_cpu_ms; /* medians of the scan CPU times */
    int have_raw;
    thread_stats th;
    int have_threads;
    char threads_note[96];        /* why scaling was not measured */
    uint64_t events_total;        /* library events in one pass */
} set_result;

typedef struct pcap_result {
    int ok;
    char reason[256];
    unsigned rules;
    uint64_t payload, packets, file_bytes;
    uint64_t scanned_bytes, events;
    double wall_ms, startup_ms;
} pcap_result;

static options opt;
static char load_start[64], load_end[64];  /* /proc/loadavg: the machine is shared */

static void read_loadavg(char *buf, size_t cap)
{
    snprintf(buf, cap, "?");
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return;
    if (fgets(buf, (int)cap, f)) {
        char *sp = buf;
        for (int k = 0; k < 3 && sp; k++)
            sp = strchr(sp + 1, ' ');
        if (sp)
            *sp = 0;
    }
    fclose(f);
}

/* ------------------------------------------------------------ helpers */

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "vpbench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static double mbps(uint64_t bytes, double ms)
{
    return ms > 0 ? (double)bytes / 1e6 / (ms / 1e3) : 0;
}

static void count_event(const vp_event_t *ev, void *ctx)
{
    (void)ev;
    (*(uint64_t *)ctx)++;
}

static int count_match(unsigned int id, unsigned long long from, unsigned long long to,
                       unsigned int flags, void *ctx)
{
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    (*(uint64_t *)ctx)++;
    return 0;
}

static vp_direction flow_dir(const bench_flow *f)
{
    return f->to_client ? VP_DIR_TO_CLIENT : VP_DIR_TO_SERVER;
}

/* ------------------------------------------------------------ scan passes */

/* Library: one vp_stream per flow of this part, chunks in round-robin order. */
static run_result run_lib(const vp_engine_t *e, vp_scratch_t *scratch, const bench_corpus *c,
                          const bench_chunk *chunks, size_t n_chunks, unsigned part,
                          unsigned parts, pthread_barrier_t *barrier, double *t_start,
                          double *t_end)
{
    run_result r;
    memset(&r, 0, sizeof(r));
    vp_stream_t **s = calloc(c->n_flows, sizeof(*s));
    uint64_t events = 0;
    if (!s) {
        r.failed = 1;
        return r;
    }
    int64_t heap0 = barrier ? -1 : heap_in_use();
    double t0 = now_ms();
    for (size_t f = part; f < c->n_flows; f += parts) {
        if (vp_stream_open(e, VP_PROTO_TCP, c->flows[f].port, flow_dir(&c->flows[f]), count_event,
                           &events, &s[f]) != VP_OK)
            r.failed = 1;
        r.streams++;
    }
    if (barrier)
        pthread_barrier_wait(barrier);
    double t1 = now_ms(), c1 = thread_cpu_ms();
    for (size_t i = 0; i < n_chunks && !r.failed; i++) {
        const bench_chunk *ch = &chunks[i];
        if (vp_stream_scan(s[ch->flow], ch->p, ch->len, scratch) != VP_OK)
            r.failed = 1;
        r.bytes += ch->len;
    }
    double t2 = now_ms();
    r.scan_cpu_ms = thread_cpu_ms() - c1;
    r.heap_bytes = heap0 >= 0 ? heap_in_use() - heap0 : -1;
    for (size_t f = part; f < c->n_flows; f += parts) {
        if (s[f] && vp_stream_close(s[f], scratch) != VP_OK)
            r.failed = 1;
        vp_stream_free(s[f]);
    }
    double t3 = now_ms();
    free(s);
    r.open_ms = t1 - t0;
    r.scan_ms = t2 - t1;
    r.close_ms = t3 - t2;
    r.events = events;
    if (t_start)
        *t_start = t1;
    if (t_end)
        *t_end = t2;
    return r;
}

/* Raw Hyperscan: same flows, same chunks, one hs_stream per flow. */
static run_result run_raw(const hs_database_t *db, hs_scratch_t *scratch, const bench_corpus *c,
                          const bench_chunk *chunks, size_t n_chunks, unsigned part,
                          unsigned parts, pthread_barrier_t *barrier, double *t_start,
                          double *t_end)
{
    run_result r;
    memset(&r, 0, sizeof(r));
    hs_stream_t **s = calloc(c->n_flows, sizeof(*s));
    uint64_t matches = 0;
    if (!s) {
        r.failed = 1;
        return r;
    }
    int64_t heap0 = barrier ? -1 : heap_in_use();
    double t0 = now_ms();
    for (size_t f = part; f < c->n_flows; f += parts) {
        if (hs_open_stream(db, 0, &s[f]) != HS_SUCCESS)
            r.failed = 1;
        r.streams++;
    }
    if (barrier)
        pthread_barrier_wait(barrier);
    double t1 = now_ms(), c1 = thread_cpu_ms();
    for (size_t i = 0; i < n_chunks && !r.failed; i++) {
        const bench_chunk *ch = &chunks[i];
        if (hs_scan_stream(s[ch->flow], (const char *)ch->p, ch->len, 0, scratch, count_match,
                           &matches) != HS_SUCCESS)
            r.failed = 1;
        r.bytes += ch->len;
    }
    double t2 = now_ms();
    r.scan_cpu_ms = thread_cpu_ms() - c1;
    r.heap_bytes = heap0 >= 0 ? heap_in_use() - heap0 : -1;
    for (size_t f = part; f < c->n_flows; f += parts)
        if (s[f] && hs_close_stream(s[f], scratch, count_match, &matches) != HS_SUCCESS)
            r.failed = 1;
    double t3 = now_ms();
    free(s);
    r.open_ms = t1 - t0;
    r.scan_ms = t2 - t1;
    r.close_ms = t3 - t2;
    r.events = matches;
    if (t_start)
        *t_start = t1;
    if (t_end)
        *t_end = t2;
    return r;
}

/* ------------------------------------------------------------ threads */

typedef struct worker {
    pthread_t tid;
    int use_lib;
    const vp_engine_t *engine;
    vp_scratch_t *scratch;
    const hs_database_t *db;
    hs_scratch_t *hs_scratch;
    const bench_corpus *c;
    const bench_chunk *chunks;
    size_t n_chunks;
    unsigned part, parts;
    pthread_barrier_t *barrier;
    double t_start, t_end;
    run_result r;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    if (w->use_lib)
        w->r = run_lib(w->engine, w->scratch, w->c, w->chunks, w->n_chunks, w->part, w->parts,
                       w->barrier, &w->t_start, &w->t_end);
    else
        w->r = run_raw(w->db, w->hs_scratch, w->c, w->chunks, w->n_chunks, w->part, w->parts,
                       w->barrier, &w->t_start, &w->t_end);
    return NULL;
}

typedef struct parts2 {
    bench_chunk *chunks[2];
    size_t n[2];
} parts2;

/* Wall time (ms) of scanning the corpus with `nt` threads (1 or 2). */
static double run_threads(int use_lib, unsigned nt, const vp_engine_t *e, vp_scratch_t **vs,
                          const hs_database_t *db, hs_scratch_t **hss, const bench_corpus *c,
                          const parts2 *p, int *failed, double *cpu_ms)
{
    worker w[2];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, nt);
    for (unsigned t = 0; t < nt; t++) {
        memset(&w[t], 0, sizeof(w[t]));
        w[t].use_lib = use_lib;
        w[t].engine = e;
        w[t].scratch = vs[t];
        w[t].db = db;
        w[t].hs_scratch = hss ? hss[t] : NULL;
        w[t].c = c;
        w[t].chunks = nt == 1 ? c->chunks : p->chunks[t];
        w[t].n_chunks = nt == 1 ? c->n_chunks : p->n[t];
        w[t].part = t;
        w[t].parts = nt;
        w[t].barrier = &barrier;
        if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]) != 0)
            die("pthread_create failed", NULL);
    }
    double start = 0, end = 0;
    *cpu_ms = 0;
    for (unsigned t = 0; t < nt; t++) {
        pthread_join(w[t].tid, NULL);
        if (w[t].r.failed)
            *failed = 1;
        if (w[t].r.scan_cpu_ms > *cpu_ms)
            *cpu_ms = w[t].r.scan_cpu_ms;
        if (t == 0 || w[t].t_start < start)
            start = w[t].t_start;
        if (t == 0 || w[t].t_end > end)
            end = w[t].t_end;
    }
    pthread_barrier_destroy(&barrier);
    return end - start;
}

/* ------------------------------------------------------------ building */

static double build_bundle(const bench_ruleset *rs, uint8_t **bytes, size_t *len)
{
    vp_compiler_t *c;
    if (vp_compiler_create(&c) != VP_OK)
        die("vp_compiler_create failed", NULL);
    vp_compiler_add_memory(c, "vpbench.yaml", rs->yaml, rs->yaml_len);
    vp_compiler_set_serial(c, 1);
    double t0 = now_ms();
    vp_status st = vp_compiler_build(c, bytes, len);
    double t1 = now_ms();
    if (st != VP_OK) {
        char msg[512];
        for (size_t i = 0; i < vp_compiler_diag_count(c) && i < 10; i++) {
            vp_compiler_diag_format(c, i, msg, sizeof(msg));
            fprintf(stderr, "vpbench: %s\n", msg);
        }
        die("generated rules do not compile", vp_status_str(st));
    }
    vp_compiler_free(c);
    return t1 - t0;
}

static hs_database_t *compile_raw(const bench_expr *ex, unsigned n, double *ms)
{
    const char **exprs = malloc(n * sizeof(char *));
    unsigned *flags = malloc(n * sizeof(unsigned)), *ids = malloc(n * sizeof(unsigned));
    if (!exprs || !flags || !ids)
        die("out of memory", NULL);
    for (unsigned i = 0; i < n; i++) {
        exprs[i] = ex[i].expr;
        flags[i] = ex[i].flags;
        ids[i] = i;
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *err = NULL;
    double t0 = now_ms();
    if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_STREAM, NULL, &db, &err) != HS_SUCCESS) {
        fprintf(stderr, "vpbench: hs_compile_multi: %s (expression %d)\n",
                err ? err->message : "?", err ? err->expression : -1);
        die("raw Hyperscan compile failed", NULL);
    }
    *ms = now_ms() - t0;
    free(exprs);
    free(flags);
    free(ids);
    return db;
}

/* ------------------------------------------------------------ one rule set */

static int cmp_run(const void *a, const void *b)
{
    double x = ((const run_result *)a)->scan_ms, y = ((const run_result *)b)->scan_ms;
    return (x > y) - (x < y);
}

static run_result median_run(run_result *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_run);
    return v[n / 2];
}

static void measure_set(unsigned n_rules, const bench_corpus *c, const parts2 *parts,
                        set_result *out)
{
    memset(out, 0, sizeof(*out));
    out->rules = n_rules;
    bench_ruleset rs;
    if (ruleset_generate(&rs, n_rules) != 0)
        die("out of memory generating rules", NULL);
    out->n_all = rs.n_all;
    unsigned reps = opt.reps;

    /* Compile: the first build's bundle is the one measured below. */
    uint8_t *bundle = NULL;
    size_t blen = 0;
    double t_compile[16];
    unsigned compile_reps = n_rules >= 5000 && !opt.quick ? 1 : reps;
    for (unsigned i = 0; i < compile_reps; i++) {
        uint8_t *b2;
        size_t l2;
        t_compile[i] = build_bundle(&rs, &b2, &l2);
        if (!bundle) {
            bundle = b2;
            blen = l2;
        } else {
            vp_compiler_bundle_free(b2);
        }
    }
    out->compile_ms = median(t_compile, compile_reps);
    out->bundle_bytes = blen;

    /* Load (no compile), several times. */
    enum { LOADS = 7 };
    double t_load[LOADS], t_load_lib[LOADS];
    vp_bundle_t *b = NULL;
    for (unsigned i = 0; i < LOADS; i++) {
        vp_bundle_t *bb;
        vp_error_t *err = NULL;
        double t0 = now_ms();
        if (vp_bundle_load_memory(bundle, blen, &bb, &err) != VP_OK)
            die("bundle load failed", err ? vp_error_message(err) : NULL);
        t_load[i] = now_ms() - t0;
        vp_bundle_stats_t st;
        memset(&st, 0, sizeof(st));
        st.size = sizeof(st);
        vp_bundle_stats(bb, &st);
        t_load_lib[i] = st.load_ms;
        if (!b) {
            b = bb;
            out->atoms = st.pattern_count;
            out->db_bytes = st.database_bytes;
            out->database = st.database;
        } else {
            vp_bundle_free(bb);
        }
    }
    out->load_ms = median(t_load, LOADS);
    out->load_ms_lib = median(t_load_lib, LOADS);

    /* Engine creation without and with overrides (10 % enabled, 10 % disabled). */
    vp_engine_options_t *eo;
    vp_engine_options_create(&eo);
    size_t tenth = n_rules / 10 ? n_rules / 10 : 1;
    uint32_t *en = malloc(tenth * sizeof(uint32_t)), *dis = malloc(tenth * sizeof(uint32_t));
    if (!en || !dis)
        die("out of memory", NULL);
    for (size_t i = 0; i < tenth; i++) {
        en[i] = rs.ids[(i * 10 + 1) % n_rules];   /* security-only rules */
        dis[i] = rs.ids[(i * 10 + 2) % n_rules];
    }
    vp_engine_options_enable(eo, en, tenth);
    vp_engine_options_disable(eo, dis, tenth);
    vp_engine_options_set_mode(eo, VP_MODE_PERFORMANCE);
    double t_create[LOADS], t_create_ovr[LOADS];
    for (unsigned i = 0; i < LOADS; i++) {
        vp_engine_t *e;
        double t0 = now_ms();
        if (vp_engine_create(b, NULL, &e, NULL) != VP_OK)
            die("engine create failed", NULL);
        t_create[i] = now_ms() - t0;
        vp_engine_free(e);
        t0 = now_ms();
        if (vp_engine_create(b, eo, &e, NULL) != VP_OK)
            die("engine create with overrides failed", NULL);
        t_create_ovr[i] = now_ms() - t0;
        vp_engine_free(e);
    }
    out->create_ms = median(t_create, LOADS);
    out->create_ovr_ms = median(t_create_ovr, LOADS);
    vp_engine_options_free(eo);
    free(en);
    free(dis);

    /* The engine every scan uses: security mode, every rule. */
    vp_engine_t *e;
    if (vp_engine_create(b, NULL, &e, NULL) != VP_OK)
        die("engine create failed", NULL);
    out->enabled = vp_engine_enabled_count(e);
    out->stream_bytes = vp_engine_stream_size(e);
    vp_scratch_t *vs[2];
    if (vp_scratch_alloc(e, &vs[0]) != VP_OK || vp_scratch_alloc(e, &vs[1]) != VP_OK)
        die("scratch alloc failed", NULL);

    hs_database_t *raw = NULL, *raw_all = NULL;
    hs_scratch_t *hss[2] = {NULL, NULL}, *hss_all = NULL;
    if (!opt.lib_only) {
        raw = compile_raw(rs.fast, rs.n, &out->raw_compile_ms);
        raw_all = compile_raw(rs.all, rs.n_all, &out->raw_all_compile_ms);
        hs_stream_size(raw, &out->raw_stream_bytes);
        hs_stream_size(raw_all, &out->raw_all_stream_bytes);
        if (hs_alloc_scratch(raw, &hss[0]) != HS_SUCCESS ||
            hs_alloc_scratch(raw, &hss[1]) != HS_SUCCESS ||
            hs_alloc_scratch(raw_all, &hss_all) != HS_SUCCESS)
            die("hs_alloc_scratch failed", NULL);
        out->have_raw = 1;
    }

    /* Throughput: library and raw alternately, order rotated per repetition. */
    run_result lib[16], rw[16], rwa[16];
    for (unsigned i = 0; i < reps; i++) {
        for (unsigned k = 0; k < 3; k++) {
            unsigned which = (k + i) % 3;
            if (which == 0)
                lib[i] = run_lib(e, vs[0], c, c->chunks, c->n_chunks, 0, 1, NULL, NULL, NULL);
            else if (which == 1 && raw)
                rw[i] = run_raw(raw, hss[0], c, c->chunks, c->n_chunks, 0, 1, NULL, NULL, NULL);
            else if (which == 2 && raw_all)
                rwa[i] = run_raw(raw_all, hss_all, c, c->chunks, c->n_chunks, 0, 1, NULL, NULL,
                                 NULL);
        }
        if (lib[i].failed || (raw && (rw[i].failed || rwa[i].failed)))
            die("a scan failed", NULL);
    }
    double cl[16], cr[16], ca[16];
    for (unsigned i = 0; i < reps; i++) {
        cl[i] = lib[i].scan_cpu_ms;
        cr[i] = raw ? rw[i].scan_cpu_ms : 0;
        ca[i] = raw ? rwa[i].scan_cpu_ms : 0;
    }
    out->lib_cpu_ms = median(cl, reps);
    out->raw_cpu_ms = median(cr, reps);
    out->raw_all_cpu_ms = median(ca, reps);
    out->lib = median_run(lib, reps);
    out->events_total = out->lib.events;
    if (raw) {
        out->raw = median_run(rw, reps);
        out->raw_all = median_run(rwa, reps);
    }

    /* Scaling: one shared engine, each thread its scratch and half the flows.
     * Skipped when one library pass is so slow that it would break the
     * five-minute budget of the full run. */
    if (opt.lib_only) {
        snprintf(out->threads_note, sizeof(out->threads_note), "skipped (--lib-only)");
    } else if (out->lib.scan_ms > 6000 && !opt.quick) {
        snprintf(out->threads_note, sizeof(out->threads_note),
                 "skipped: one library pass takes %.1f s (time budget)", out->lib.scan_ms / 1000);
    } else {
        double l1[16], l2[16], r1[16], r2[16], cl1[16], cl2[16], cr1[16], cr2[16];
        int failed = 0;
        for (unsigned i = 0; i < reps; i++) {
            l1[i] = run_threads(1, 1, e, vs, NULL, NULL, c, parts, &failed, &cl1[i]);
            l2[i] = run_threads(1, 2, e, vs, NULL, NULL, c, parts, &failed, &cl2[i]);
            r1[i] = run_threads(0, 1, NULL, vs, raw, hss, c, parts, &failed, &cr1[i]);
            r2[i] = run_threads(0, 2, NULL, vs, raw, hss, c, parts, &failed, &cr2[i]);
        }
        if (failed)
            die("a threaded scan failed", NULL);
        out->th.lib1_ms = median(l1, reps);
        out->th.lib2_ms = median(l2, reps);
        out->th.raw1_ms = median(r1, reps);
        out->th.raw2_ms = median(r2, reps);
        out->th.lib1_cpu = median(cl1, reps);
        out->th.lib2_cpu = median(cl2, reps);
        out->th.raw1_cpu = median(cr1, reps);
        out->th.raw2_cpu = median(cr2, reps);
        out->have_threads = 1;
    }

    hs_free_scratch(hss[0]);
    hs_free_scratch(hss[1]);
    hs_free_scratch(hss_all);
    hs_free_database(raw);
    hs_free_database(raw_all);
    vp_scratch_free(vs[0]);
    vp_scratch_free(vs[1]);
    vp_engine_free(e);
    vp_bundle_free(b);
    vp_compiler_bundle_free(bundle);
    ruleset_free(&rs);
}

/* ------------------------------------------------------------ vpscan --pcap */

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

/* Runs vpscan once; returns its exit status (-1 when it did not run). */
static int run_vpscan(const char *bundle, const char *pcap, const char *out_path,
                      const char *err_path, double *ms)
{
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0)
            _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        execl(opt.vpscan, opt.vpscan, "-b", bundle, "--detect-only", "--pcap", pcap, (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", opt.vpscan, strerror(errno));
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    *ms = now_ms() - t0;
    if (!WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static void read_text(const char *path, char *buf, size_t cap)
{
    buf[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
}

static uint64_t count_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint64_t n = 0;
    int ch;
    if (!f)
        return 0;
    while ((ch = getc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

static uint64_t field_u64(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void measure_pcap(unsigned n_rules, const bench_corpus *c, pcap_result *pr)
{
    memset(pr, 0, sizeof(*pr));
    pr->rules = n_rules;
    if (access(opt.vpscan, X_OK) != 0) {
        snprintf(pr->reason, sizeof(pr->reason), "%s not found", opt.vpscan);
        return;
    }
    char dir[] = "/tmp/vpbench.XXXXXX";
    if (!mkdtemp(dir)) {
        snprintf(pr->reason, sizeof(pr->reason), "mkdtemp: %s", strerror(errno));
        return;
    }
    char bpath[64], ppath[64], epath[64], opath[64], errpath[64];
    snprintf(bpath, sizeof(bpath), "%s/rules.vpb", dir);
    snprintf(ppath, sizeof(ppath), "%s/traffic.pcap", dir);
    snprintf(epath, sizeof(epath), "%s/empty.pcap", dir);
    snprintf(opath, sizeof(opath), "%s/events.jsonl", dir);
    snprintf(errpath, sizeof(errpath), "%s/stderr.txt", dir);

    bench_ruleset rs;
    uint8_t *bundle;
    size_t blen;
    if (ruleset_generate(&rs, n_rules) != 0)
        die("out of memory generating rules", NULL);
    build_bundle(&rs, &bundle, &blen);
    ruleset_free(&rs);
    int wrote = write_file(bpath, bundle, blen);
    vp_compiler_bundle_free(bundle);
    size_t max_payload = opt.quick ? c->len : 100u * 1000 * 1000;
    bench_corpus empty;
    memset(&empty, 0, sizeof(empty));
    uint64_t ep, epk, eb;
    if (wrote != 0 ||
        corpus_write_pcap(c, ppath, max_payload, &pr->payload, &pr->packets, &pr->file_bytes) != 0 ||
        corpus_write_pcap(&empty, epath, 0, &ep, &epk, &eb) != 0) {
        snprintf(pr->reason, sizeof(pr->reason), "cannot write files in %s", dir);
        goto out;
    }
    double wall[16], startup[16];
    unsigned reps = opt.reps;
    for (unsigned i = 0; i < reps; i++) {
        int rc = run_vpscan(bpath, epath, opath, errpath, &startup[i]);
        if (rc == 0)
            rc = run_vpscan(bpath, ppath, opath, errpath, &wall[i]);
        if (rc != 0) {
            char msg[200];
            read_text(errpath, msg, sizeof(msg));
            snprintf(pr->reason, sizeof(pr->reason), "vpscan --pcap exited with %d: %s", rc, msg);
            goto out;
        }
    }
    char text[4096];
    FILE *f = fopen(errpath, "rb");
    text[0] = 0;
    if (f) {
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        text[n] = 0;
        fclose(f);
    }
    pr->scanned_bytes = field_u64(text, "bytes=");
    pr->events = count_lines(opath);
    if (pr->scanned_bytes == 0) {
        snprintf(pr->reason, sizeof(pr->reason), "vpscan --pcap ran but reported no scanned bytes");
        goto out;
    }
    pr->wall_ms = median(wall, reps);
    pr->startup_ms = median(startup, reps);
    pr->ok = 1;
out:
    unlink(bpath);
    unlink(ppath);
    unlink(epath);
    unlink(opath);
    unlink(errpath);
    rmdir(dir);
}

/* ------------------------------------------------------------ output */

static void cpu_model(char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ')
                    p++;
                p[strcspn(p, "\n")] = 0;
                snprintf(buf, cap, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}

/* Measured heap bytes per library stream at the end of a pass, -1 unknown. */
static int64_t heap_per_stream(const run_result *r)
{
    return r->heap_bytes >= 0 && r->streams ? r->heap_bytes / (int64_t)r->streams : -1;
}

static const set_result *find_set(const set_result *s, unsigned n, unsigned rules)
{
    for (unsigned i = 0; i < n; i++)
        if (s[i].rules == rules)
            return &s[i];
    return NULL;
}

static double ratio(const set_result *s)
{
    return s->have_raw && s->raw.scan_ms > 0 ? s->raw.scan_ms / s->lib.scan_ms : 0;
}

static double ratio_cpu(const set_result *s)
{
    return s->have_raw && s->lib_cpu_ms > 0 ? s->raw_cpu_ms / s->lib_cpu_ms : 0;
}

static double speedup(const set_result *s)
{
    return s->have_threads && s->th.lib2_ms > 0 ? s->th.lib1_ms / s->th.lib2_ms : 0;
}

/* What two free cores would give: one thread's CPU time over the busiest
 * thread's CPU time with two (immune to other processes taking a core). */
static double speedup_cpu(double one, double two)
{
    return two > 0 ? one / two : 0;
}

typedef struct target {
    const char *name;
    const char *goal;
    int measured;
    int met;
    char value[96];
} target;

static unsigned eval_targets(const set_result *s, unsigned n, target *t)
{
    unsigned k = 0;
    unsigned sizes[2] = {100, 1000};
    for (unsigned i = 0; i < 2; i++) {
        const set_result *r = find_set(s, n, sizes[i]);
        t[k].name = i == 0 ? "library/raw throughput, 100 rules" : "library/raw throughput, 1000 rules";
        t[k].goal = ">= 90 %";
        t[k].measured = r && r->have_raw;
        if (t[k].measured) {
            t[k].met = ratio(r) >= 0.9;
            snprintf(t[k].value, sizeof(t[k].value), "%.1f %%", ratio(r) * 100);
        }
        k++;
    }
    const set_result *r = find_set(s, n, 1000);
    t[k].name = "per-stream state, 1000 rules";
    t[k].goal = "<= 1024 B";
    t[k].measured = r != NULL;
    if (r) {
        int64_t h = heap_per_stream(&r->lib);
        t[k].met = r->stream_bytes <= 1024 && h <= 1024;
        snprintf(t[k].value, sizeof(t[k].value), "%zu B; heap %" PRId64 " B", r->stream_bytes, h);
    }
    k++;
    t[k].name = "bundle load, 1000 rules";
    t[k].goal = "<= 20 ms";
    t[k].measured = r != NULL;
    if (r) {
        t[k].met = r->load_ms <= 20;
        snprintf(t[k].value, sizeof(t[k].value), "%.2f ms", r->load_ms);
    }
    k++;
    double worst = 0;
    unsigned worst_rules = 0;
    for (unsigned i = 0; i < n; i++)
        if (s[i].create_ovr_ms >= worst) {
            worst = s[i].create_ovr_ms;
            worst_rules = s[i].rules;
        }
    t[k].name = "engine creation with overrides (largest set)";
    t[k].goal = "<= 2 s";
    t[k].measured = n > 0;
    t[k].met = worst <= 2000;
    snprintf(t[k].value, sizeof(t[k].value), "%.1f us (%u rules)", worst * 1000, worst_rules);
    k++;
    /* Two-thread speedup: the 1000-rule set when measured, else the largest. */
    const set_result *sp = r;
    if (!sp || !sp->have_threads)
        for (unsigned i = 0; i < n; i++)
            if (s[i].have_threads && (!sp || s[i].rules > sp->rules))
                sp = &s[i];
    t[k].name = "two threads vs one";
    t[k].goal = ">= 1.80x";
    t[k].measured = sp && sp->have_threads;
    if (t[k].measured) {
        t[k].met = speedup(sp) >= 1.8;
        snprintf(t[k].value, sizeof(t[k].value), "%.2fx, cpu %.2fx (%u rules)", speedup(sp),
                 speedup_cpu(sp->th.lib1_cpu, sp->th.lib2_cpu), sp->rules);
    }
    k++;
    return k;
}

static void print_table(const set_result *s, unsigned n, const pcap_result *pr,
                        const bench_corpus *c, double gen_ms)
{
    printf("\ncorpus: %.1f MB in %zu flows, %zu chunks of <= %d bytes, round-robin; "
           "%" PRIu64 " attack messages; generated in %.0f ms\n",
           (double)c->len / 1e6, c->n_flows, c->n_chunks, CHUNK, c->triggers, gen_ms);
    printf("timings: median of %u runs; MB = 10^6 bytes; one core unless noted\n\n", opt.reps);

    printf("stream scanning (scan calls only; streams opened before, closed after)\n");
    printf("%6s | %9s %7s | %9s %7s | %7s | %8s %8s %7s | %11s | %7s %9s | %7s\n", "rules",
           "lib MB/s", "Gbit/s", "raw MB/s", "Gbit/s", "lib/raw", "lib cpu", "raw cpu",
           "lib/raw", "rawall MB/s", "events", "raw hits", "open us");
    for (unsigned i = 0; i < n; i++) {
        const set_result *r = &s[i];
        double lm = mbps(r->lib.bytes, r->lib.scan_ms);
        if (r->have_raw) {
            double rm = mbps(r->raw.bytes, r->raw.scan_ms);
            double am = mbps(r->raw_all.bytes, r->raw_all.scan_ms);
            printf("%6u | %9.1f %7.2f | %9.1f %7.2f | %6.1f%% | %8.1f %8.1f %6.1f%% | %11.1f | %7" PRIu64
                   " %9" PRIu64 " | %7.2f\n",
                   r->rules, lm, lm * 8 / 1000, rm, rm * 8 / 1000, ratio(r) * 100,
                   mbps(r->lib.bytes, r->lib_cpu_ms), mbps(r->raw.bytes, r->raw_cpu_ms),
                   ratio_cpu(r) * 100, am,
                   r->lib.events, r->raw.events,
                   r->lib.streams ? r->lib.open_ms * 1000 / (double)r->lib.streams : 0);
        } else {
            printf("%6u | %9.1f %7.2f | %9s %7s | %7s | %8.1f %8s %7s | %11s | %7" PRIu64
                   " %9s | %7.2f\n",
                   r->rules, lm, lm * 8 / 1000, "-", "-", "-", mbps(r->lib.bytes, r->lib_cpu_ms),
                   "-", "-", "-", r->lib.events, "-",
                   r->lib.streams ? r->lib.open_ms * 1000 / (double)r->lib.streams : 0);
        }
    }
    printf("  raw = raw Hyperscan streaming, one fast-pattern literal per rule (its longest content)\n"
           "  rawall = raw Hyperscan with every condition pattern of the rules (what the library's\n"
           "           database holds), no-op callback: the library minus its own match handling\n"
           "  lib cpu, raw cpu = MB per CPU-second of the scanning thread (what one core does\n"
           "           when other processes take part of it), and their ratio\n"
           "  open us = library vp_stream_open per stream\n\n");

    printf("memory and start-up\n");
    printf("%6s | %7s %7s | %8s %8s %8s | %9s | %10s %10s | %9s %9s | %9s %9s\n", "rules",
           "conds", "atoms", "stream B", "heap B", "raw B", "bundle KB", "compile ms",
           "database", "load ms", "(lib ms)", "engine us", "+ovr us");
    for (unsigned i = 0; i < n; i++) {
        const set_result *r = &s[i];
        printf("%6u | %7zu %7zu | %8zu %8" PRId64 " %8zu | %9.1f | %10.1f %10s | %9.3f %9.3f | "
               "%9.1f %9.1f\n",
               r->rules, r->n_all, r->atoms, r->stream_bytes, heap_per_stream(&r->lib),
               r->raw_stream_bytes,
               (double)r->bundle_bytes / 1024, r->compile_ms, r->database ? r->database : "?",
               r->load_ms, r->load_ms_lib, r->create_ms * 1000, r->create_ovr_ms * 1000);
    }
    printf("  stream B = vp_engine_stream_size; heap B = heap growth per stream from before the\n"
           "  opens to the end of a scan pass (state made on demand included, malloc overhead too);\n"
           "  raw B = hs_stream_size of the fast-pattern database\n"
           "  conds = distinct condition patterns; atoms = Hyperscan expressions in the bundle\n"
           "  load ms = vp_bundle_load_memory wall time; (lib ms) = what vp_bundle_stats reports\n"
           "  +ovr us = vp_engine_create with 10 %% enable + 10 %% disable lists (performance mode)\n"
           "  stream B after compressing idle streams: n/a (not implemented in this version)\n\n");

    int any_th = 0;
    for (unsigned i = 0; i < n; i++)
        any_th |= s[i].have_threads;
    if (any_th) {
        printf("threads (one shared engine; each thread its scratch and half the flows)\n");
        printf("%6s | %11s %11s %8s %8s | %11s %11s %8s %8s\n", "rules", "lib 1T MB/s",
               "lib 2T MB/s", "speedup", "(cpu)", "raw 1T MB/s", "raw 2T MB/s", "speedup",
               "(cpu)");
        for (unsigned i = 0; i < n; i++) {
            const set_result *r = &s[i];
            if (!r->have_threads) {
                printf("%6u | %s\n", r->rules, r->threads_note);
                continue;
            }
            printf("%6u | %11.1f %11.1f %7.2fx %7.2fx | %11.1f %11.1f %7.2fx %7.2fx\n", r->rules,
                   mbps(c->len, r->th.lib1_ms), mbps(c->len, r->th.lib2_ms), speedup(r),
                   speedup_cpu(r->th.lib1_cpu, r->th.lib2_cpu), mbps(c->len, r->th.raw1_ms),
                   mbps(c->len, r->th.raw2_ms),
                   r->th.raw2_ms > 0 ? r->th.raw1_ms / r->th.raw2_ms : 0,
                   speedup_cpu(r->th.raw1_cpu, r->th.raw2_cpu));
        }
        printf("  speedup = wall time 1 thread / 2 threads; (cpu) = 1-thread CPU time / CPU time\n"
               "  of the busiest of 2 threads: the speedup two otherwise idle cores would give.\n"
               "  When raw Hyperscan does not scale either, other processes hold a core.\n\n");
    }

    printf("vpscan --pcap end to end (--detect-only, events to a file)\n");
    if (pr->ok)
        printf("  %u rules: %.1f MB payload (%" PRIu64 " packets, %.1f MB pcap) in %.1f ms = "
               "%.1f MB/s payload, %.1f MB/s pcap; start-up alone %.1f ms; %" PRIu64
               " events; vpscan scanned %" PRIu64 " bytes\n\n",
               pr->rules, (double)pr->payload / 1e6, pr->packets, (double)pr->file_bytes / 1e6,
               pr->wall_ms, mbps(pr->payload, pr->wall_ms), mbps(pr->file_bytes, pr->wall_ms),
               pr->startup_ms, pr->events, pr->scanned_bytes);
    else
        printf("  n/a: %s\n\n", pr->reason[0] ? pr->reason : "not measured");

    target t[8];
    unsigned nt = eval_targets(s, n, t);
    printf("targets (issue 7)\n");
    for (unsigned i = 0; i < nt; i++)
        printf("  %-46s %-10s %-26s %s\n", t[i].name, t[i].goal,
               t[i].measured ? t[i].value : "-",
               !t[i].measured ? "not measured" : t[i].met ? "MET" : "NOT MET");
    printf("\n");
}

static void json_run(FILE *f, const char *name, const run_result *r, int last)
{
    double m = mbps(r->bytes, r->scan_ms);
    fprintf(f,
            "      \"%s\": {\"mb_per_s\": %.2f, \"gbit_per_s\": %.3f, \"mb_per_cpu_s\": %.2f, "
            "\"scan_ms\": %.3f, \"scan_cpu_ms\": %.3f, \"open_ms\": %.3f, \"close_ms\": %.3f, \"streams\": %zu, "
            "\"bytes\": %" PRIu64 ", \"%s\": %" PRIu64 "}%s\n",
            name, m, m * 8 / 1000, mbps(r->bytes, r->scan_cpu_ms), r->scan_ms, r->scan_cpu_ms, r->open_ms, r->close_ms,
            r->streams, r->bytes,
            strcmp(name, "library") == 0 ? "events" : "matches", r->events, last ? "" : ",");
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void print_json(FILE *f, const set_result *s, unsigned n, const pcap_result *pr,
                       const bench_corpus *c, double gen_ms, double total_ms)
{
    char cpu[256];
    cpu_model(cpu, sizeof(cpu));
    fprintf(f, "{\n  \"vpbench\": 1,\n  \"libvpatch\": \"%s\",\n  \"hyperscan\": ", vp_version());
    json_str(f, hs_version());
    fprintf(f, ",\n  \"machine\": {\"cpu\": ");
    json_str(f, cpu);
    fprintf(f, ", \"online_cpus\": %ld, \"loadavg_start\": \"%s\", \"loadavg_end\": \"%s\"},\n",
            sysconf(_SC_NPROCESSORS_ONLN), load_start, load_end);
    fprintf(f,
            "  \"config\": {\"quick\": %s, \"corpus_bytes\": %zu, \"flows\": %zu, \"chunk_bytes\": "
            "%d, \"chunks\": %zu, \"attack_messages\": %" PRIu64
            ", \"repetitions\": %u, \"generate_ms\": %.1f},\n",
            opt.quick ? "true" : "false", c->len, c->n_flows, CHUNK, c->n_chunks, c->triggers,
            opt.reps, gen_ms);
    fprintf(f, "  \"rulesets\": [\n");
    for (unsigned i = 0; i < n; i++) {
        const set_result *r = &s[i];
        fprintf(f, "    {\n      \"rules\": %u, \"enabled\": %zu, \"condition_patterns\": %zu, "
                   "\"atoms\": %zu,\n",
                r->rules, r->enabled, r->n_all, r->atoms);
        fprintf(f,
                "      \"bundle_bytes\": %zu, \"database\": \"%s\", \"database_bytes\": %zu,\n"
                "      \"compile_ms\": %.3f, \"load_ms\": %.4f, \"load_ms_reported\": %.4f, "
                "\"engine_create_ms\": %.4f, \"engine_create_overrides_ms\": %.4f,\n",
                r->bundle_bytes, r->database ? r->database : "?", r->db_bytes, r->compile_ms,
                r->load_ms, r->load_ms_lib, r->create_ms, r->create_ovr_ms);
        fprintf(f,
                "      \"stream_bytes\": %zu, \"stream_heap_bytes_after_scan\": %" PRId64
                ", \"stream_bytes_compressed\": null, "
                "\"raw_stream_bytes\": %zu, \"raw_all_stream_bytes\": %zu,\n",
                r->stream_bytes, heap_per_stream(&r->lib), r->raw_stream_bytes,
                r->raw_all_stream_bytes);
        if (r->have_raw) {
            fprintf(f, "      \"raw_compile_ms\": %.3f, \"raw_all_compile_ms\": %.3f,\n",
                    r->raw_compile_ms, r->raw_all_compile_ms);
            json_run(f, "library", &r->lib, 0);
            json_run(f, "raw", &r->raw, 0);
            json_run(f, "raw_all_patterns", &r->raw_all, 0);
            fprintf(f, "      \"ratio_library_raw\": %.4f, \"ratio_library_raw_cpu\": %.4f,\n",
                    ratio(r), ratio_cpu(r));
        } else {
            json_run(f, "library", &r->lib, 0);
            fprintf(f, "      \"raw\": null, \"ratio_library_raw\": null,\n");
        }
        if (r->have_threads)
            fprintf(f,
                    "      \"threads\": {\"library_1_mb_per_s\": %.2f, \"library_2_mb_per_s\": "
                    "%.2f, \"library_speedup\": %.3f, \"library_speedup_cpu\": %.3f, "
                    "\"raw_1_mb_per_s\": %.2f, \"raw_2_mb_per_s\": %.2f, \"raw_speedup\": %.3f, "
                    "\"raw_speedup_cpu\": %.3f}\n",
                    mbps(c->len, r->th.lib1_ms), mbps(c->len, r->th.lib2_ms), speedup(r),
                    speedup_cpu(r->th.lib1_cpu, r->th.lib2_cpu), mbps(c->len, r->th.raw1_ms),
                    mbps(c->len, r->th.raw2_ms),
                    r->th.raw2_ms > 0 ? r->th.raw1_ms / r->th.raw2_ms : 0,
                    speedup_cpu(r->th.raw1_cpu, r->th.raw2_cpu));
        else {
            fprintf(f, "      \"threads\": null, \"threads_note\": ");
            json_str(f, r->threads_note);
            fprintf(f, "\n");
        }
        fprintf(f, "    }%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, "  ],\n  \"vpscan_pcap\": ");
    if (pr->ok) {
        fprintf(f,
                "{\"status\": \"ok\", \"rules\": %u, \"payload_bytes\": %" PRIu64
                ", \"packets\": %" PRIu64 ", \"pcap_bytes\": %" PRIu64
                ", \"wall_ms\": %.2f, \"startup_ms\": %.2f, \"payload_mb_per_s\": %.2f, "
                "\"pcap_mb_per_s\": %.2f, \"events\": %" PRIu64 ", \"scanned_bytes\": %" PRIu64
                "},\n",
                pr->rules, pr->payload, pr->packets, pr->file_bytes, pr->wall_ms, pr->startup_ms,
                mbps(pr->payload, pr->wall_ms), mbps(pr->file_bytes, pr->wall_ms), pr->events,
                pr->scanned_bytes);
    } else {
        fprintf(f, "{\"status\": \"n/a\", \"reason\": ");
        json_str(f, pr->reason[0] ? pr->reason : "not measured");
        fprintf(f, "},\n");
    }
    target t[8];
    unsigned nt = eval_targets(s, n, t);
    fprintf(f, "  \"targets\": [\n");
    for (unsigned i = 0; i < nt; i++) {
        fprintf(f, "    {\"name\": ");
        json_str(f, t[i].name);
        fprintf(f, ", \"goal\": ");
        json_str(f, t[i].goal);
        fprintf(f, ", \"value\": ");
        if (t[i].measured)
            json_str(f, t[i].value);
        else
            fputs("null", f);
        fprintf(f, ", \"met\": %s}%s\n",
                !t[i].measured ? "null" : t[i].met ? "true" : "false", i + 1 < nt ? "," : "");
    }
    fprintf(f, "  ],\n  \"profile\": null,\n  \"total_ms\": %.0f\n}\n", total_ms);
}

/* ------------------------------------------------------------ --profile */

/* A real rule set on the generated traffic: throughput per mode and a
 * per-rule profile.  The traffic has no attack messages (they belong to the
 * generated rule universe), so every event it raises is a false positive. */

typedef struct prof_row {
    uint32_t id;
    const char *name;
    unsigned modes;
    vp_action action;
    uint64_t hits, fires, ns;
} prof_row;

typedef struct mode_result {
    vp_mode mode;
    size_t enabled;
    double wall_ms, cpu_ms;   /* medians */
    uint64_t events;          /* in one pass */
} mode_result;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A bundle file, or every *.yaml / *.yml file of a directory compiled
 * (embedded tests not run: rulec check does that). */
static vp_bundle_t *profile_load(const char *path, size_t *n_files)
{
    struct stat st;
    vp_bundle_t *b = NULL;
    vp_error_t *err = NULL;
    *n_files = 1;
    if (stat(path, &st) != 0)
        die("cannot read", path);
    if (!S_ISDIR(st.st_mode)) {
        if (vp_bundle_load_file(path, &b, &err) != VP_OK)
            die("bundle refused", err ? vp_error_message(err) : path);
        return b;
    }
    DIR *d = opendir(path);
    if (!d)
        die("cannot open directory", path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!ends_with(de->d_name, ".yaml") && !ends_with(de->d_name, ".yml"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = realloc(names, cap * sizeof(*names));
            if (!names)
                die("out of memory", NULL);
        }
        size_t len = strlen(path) + strlen(de->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n])
            die("out of memory", NULL);
        snprintf(names[n], len, "%s/%s", path, de->d_name);
        n++;
    }
    closedir(d);
    if (n == 0)
        die("no *.yaml files in", path);
    qsort(names, n, sizeof(*names), cmp_str);
    vp_compiler_t *c;
    if (vp_compiler_create(&c) != VP_OK)
        die("vp_compiler_create failed", NULL);
    vp_compiler_set_run_tests(c, 0);
    for (size_t i = 0; i < n; i++) {
        vp_compiler_add_file(c, names[i]);
        free(names[i]);
    }
    free(names);
    uint8_t *bytes;
    size_t len;
    vp_status stc = vp_compiler_build(c, &bytes, &len);
    if (stc != VP_OK) {
        char msg[512];
        for (size_t i = 0; i < vp_compiler_diag_count(c) && i < 10; i++) {
            vp_compiler_diag_format(c, i, msg, sizeof(msg));
            fprintf(stderr, "vpbench: %s\n", msg);
        }
        die("the rule files do not compile", vp_status_str(stc));
    }
    vp_compiler_free(c);
    if (vp_bundle_load_memory(bytes, len, &b, &err) != VP_OK)
        die("compiled bundle refused", err ? vp_error_message(err) : NULL);
    vp_compiler_bundle_free(bytes);
    *n_files = n;
    return b;
}

static vp_engine_t *profile_engine(vp_bundle_t *b, vp_mode mode, int profiling)
{
    vp_engine_options_t *o;
    vp_engine_t *e;
    vp_error_t *err = NULL;
    if (vp_engine_options_create(&o) != VP_OK || vp_engine_options_set_mode(o, mode) != VP_OK ||
        vp_engine_options_set_profiling(o, profiling) != VP_OK)
        die("engine options failed", NULL);
    if (vp_engine_create(b, o, &e, &err) != VP_OK)
        die("engine create failed", err ? vp_error_message(err) : NULL);
    vp_engine_options_free(o);
    return e;
}

static int cmp_prof(const void *a, const void *b)
{
    const prof_row *x = a, *y = b;
    if (x->ns != y->ns)
        return x->ns < y->ns ? 1 : -1;
    if (x->hits != y->hits)
        return x->hits < y->hits ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

static const char *modes_str(unsigned modes)
{
    int p = (modes & VP_MODE_BIT(VP_MODE_PERFORMANCE)) != 0;
    int s = (modes & VP_MODE_BIT(VP_MODE_SECURITY)) != 0;
    return p && s ? "perf+sec" : p ? "perf" : s ? "sec" : "-";
}

static int profile_main(void)
{
    size_t n_files;
    double t0 = now_ms();
    vp_bundle_t *b = profile_load(opt.profile, &n_files);
    double load_ms = now_ms() - t0;
    size_t n_rules = vp_bundle_rule_count(b);
    size_t n_perf = 0;
    prof_row *rows = calloc(n_rules ? n_rules : 1, sizeof(*rows));
    if (!rows)
        die("out of memory", NULL);
    for (size_t i = 0; i < n_rules; i++) {
        vp_rule_info_t info;
        memset(&info, 0, sizeof(info));
        info.size = sizeof(info);
        if (vp_bundle_rule_at(b, i, &info) != VP_OK)
            die("vp_bundle_rule_at failed", NULL);
        rows[i].id = info.id;
        rows[i].name = info.name;
        rows[i].modes = info.modes;
        rows[i].action = info.action;
        n_perf += (info.modes & VP_MODE_BIT(VP_MODE_PERFORMANCE)) != 0;
    }
    printf("bundle: %s (ruleset \"%s\", %zu rules, %zu in performance mode, %s in %.0f ms)\n",
           opt.profile, vp_bundle_ruleset(b), n_rules, n_perf,
           n_files > 1 ? "compiled" : "loaded", load_ms);

    bench_corpus c;
    t0 = now_ms();
    if (opt.traffic) {
        if (corpus_load_dir(&c, opt.traffic, CHUNK) != 0)
            die("no NAME.PORT.to_server / .to_client streams could be read from", opt.traffic);
        printf("traffic: %.1f MB in %zu streams of %s (%zu chunks of up to %d bytes, "
               "round-robin), read in %.0f ms\n",
               (double)c.len / 1e6, c.n_flows, opt.traffic, c.n_chunks, CHUNK, now_ms() - t0);
    } else {
        if (corpus_generate(&c, opt.mb * 1000 * 1000, opt.flows, CHUNK, 0, SEED) != 0)
            die("out of memory generating traffic", NULL);
        printf("traffic: %.1f MB in %zu flows (%zu chunks of up to %d bytes, round-robin), no "
               "attack messages, generated in %.0f ms\n",
               (double)c.len / 1e6, c.n_flows, c.n_chunks, CHUNK, now_ms() - t0);
    }

    /* Throughput of the modes, without profiling: one engine per mode, the
     * passes alternate (order rotated per repetition) after one warm-up. */
    vp_mode list[2];
    unsigned nm = 0;
    if (opt.mode)
        list[nm++] = (vp_mode)opt.mode;
    else {
        list[nm++] = VP_MODE_SECURITY;
        list[nm++] = VP_MODE_PERFORMANCE;
    }
    mode_result mr[2];
    vp_engine_t *e[2];
    vp_scratch_t *vs[2];
    double wall[2][16], cpu[2][16];
    for (unsigned k = 0; k < nm; k++) {
        memset(&mr[k], 0, sizeof(mr[k]));
        mr[k].mode = list[k];
        e[k] = profile_engine(b, list[k], 0);
        mr[k].enabled = vp_engine_enabled_count(e[k]);
        if (vp_scratch_alloc(e[k], &vs[k]) != VP_OK)
            die("scratch alloc failed", NULL);
    }
    run_result warm = run_lib(e[0], vs[0], &c, c.chunks, c.n_chunks, 0, 1, NULL, NULL, NULL);
    if (warm.failed)
        die("a scan failed", NULL);
    for (unsigned i = 0; i < opt.reps; i++) {
        for (unsigned j = 0; j < nm; j++) {
            unsigned k = (i + j) % nm;
            run_result r = run_lib(e[k], vs[k], &c, c.chunks, c.n_chunks, 0, 1, NULL, NULL, NULL);
            if (r.failed)
                die("a scan failed", NULL);
            wall[k][i] = r.scan_ms;
            cpu[k][i] = r.scan_cpu_ms;
            mr[k].events = r.events;
        }
    }
    for (unsigned k = 0; k < nm; k++) {
        mr[k].wall_ms = median(wall[k], opt.reps);
        mr[k].cpu_ms = median(cpu[k], opt.reps);
        vp_scratch_free(vs[k]);
        vp_engine_free(e[k]);
    }

    /* The profiled pass. */
    vp_mode pmode = opt.mode ? (vp_mode)opt.mode : VP_MODE_SECURITY;
    vp_engine_t *pe = profile_engine(b, pmode, 1);
    vp_scratch_t *ps;
    if (vp_scratch_alloc(pe, &ps) != VP_OK)
        die("scratch alloc failed", NULL);
    run_result pr = run_lib(pe, ps, &c, c.chunks, c.n_chunks, 0, 1, NULL, NULL, NULL);
    if (pr.failed)
        die("the profiled scan failed", NULL);
    uint64_t tot_hits = 0, tot_fires = 0, tot_ns = 0;
    size_t hit_rules = 0;
    for (size_t i = 0; i < n_rules; i++) {
        vp_rule_profile_t p;
        memset(&p, 0, sizeof(p));
        p.size = sizeof(p);
        if (vp_engine_profile_at(pe, i, &p) != VP_OK || p.rule_id != rows[i].id)
            die("vp_engine_profile_at failed", NULL);
        rows[i].hits = p.pattern_hits;
        rows[i].fires = p.fires;
        rows[i].ns = p.confirm_ns;
        tot_hits += p.pattern_hits;
        tot_fires += p.fires;
        tot_ns += p.confirm_ns;
        hit_rules += p.pattern_hits > 0;
    }
    vp_scratch_free(ps);
    vp_engine_free(pe);
    qsort(rows, n_rules, sizeof(*rows), cmp_prof);

    double mb = (double)c.len / 1e6;
    printf("\nthroughput, one thread, median of %u passes (wall clock; CPU time of the thread):\n",
           opt.reps);
    printf("  %-12s %6s %10s %10s %8s\n", "mode", "rules", "MB/s", "MB/s CPU", "events");
    for (unsigned k = 0; k < nm; k++)
        printf("  %-12s %6zu %10.1f %10.1f %8" PRIu64 "\n", vp_mode_str(mr[k].mode),
               mr[k].enabled, mbps(c.len, mr[k].wall_ms), mbps(c.len, mr[k].cpu_ms),
               mr[k].events);
    if (nm == 2)
        printf("  performance / security: %.3fx (wall), %.3fx (CPU)\n",
               mr[0].wall_ms / mr[1].wall_ms, mr[0].cpu_ms / mr[1].cpu_ms);
    for (unsigned k = 0; k < nm; k++)
        if (mr[k].events)
            printf("  note: %" PRIu64 " events in %s mode: this traffic is benign, so they are "
                   "false positives (see fires below)\n",
                   mr[k].events, vp_mode_str(mr[k].mode));
    printf("\nprofiled pass (%s mode, profiling on): %.1f MB/s; %" PRIu64 " pattern hits on %zu "
           "rules, %" PRIu64 " fires; confirmation %.1f ms = %.1f %% of the scan time\n",
           vp_mode_str(pmode), mbps(pr.bytes, pr.scan_ms), tot_hits, hit_rules, tot_fires,
           (double)tot_ns / 1e6, pr.scan_ms > 0 ? (double)tot_ns / 1e4 / pr.scan_ms : 0);
    size_t shown = opt.top && opt.top < n_rules ? opt.top : n_rules;
    printf("\nper rule, by confirmation time (%zu of %zu rules%s):\n", shown, n_rules,
           shown < n_rules ? "; --top" : "");
    printf("  %4s %8s %-8s %-6s %10s %9s %6s %12s %9s  %s\n", "rank", "id", "modes", "action",
           "hits", "hits/MB", "fires", "confirm ns", "ns/MB", "name");
    for (size_t i = 0; i < shown; i++) {
        const prof_row *r = &rows[i];
        printf("  %4zu %8u %-8s %-6s %10" PRIu64 " %9.2f %6" PRIu64 " %12" PRIu64 " %9.1f  %.70s\n",
               i + 1, r->id, modes_str(r->modes), vp_action_str(r->action), r->hits,
               (double)r->hits / mb, r->fires, r->ns, (double)r->ns / mb, r->name);
    }

    if (opt.json) {
        FILE *f = strcmp(opt.json, "-") == 0 ? stdout : fopen(opt.json, "w");
        if (!f)
            die("cannot write", opt.json);
        fprintf(f, "{\n  \"vpbench_profile\": 1,\n  \"bundle\": ");
        json_str(f, opt.profile);
        fprintf(f, ",\n  \"ruleset\": ");
        json_str(f, vp_bundle_ruleset(b));
        fprintf(f, ",\n  \"rules\": %zu, \"performance_rules\": %zu,\n", n_rules, n_perf);
        fprintf(f, "  \"traffic\": {\"bytes\": %zu, \"flows\": %zu, \"chunks\": %zu, "
                   "\"chunk_size\": %d},\n", c.len, c.n_flows, c.n_chunks, CHUNK);
        fprintf(f, "  \"throughput\": [\n");
        for (unsigned k = 0; k < nm; k++)
            fprintf(f, "    {\"mode\": \"%s\", \"enabled\": %zu, \"wall_ms\": %.2f, \"cpu_ms\": "
                       "%.2f, \"mb_per_s\": %.2f, \"mb_per_s_cpu\": %.2f, \"events\": %" PRIu64
                       "}%s\n",
                    vp_mode_str(mr[k].mode), mr[k].enabled, mr[k].wall_ms, mr[k].cpu_ms,
                    mbps(c.len, mr[k].wall_ms), mbps(c.len, mr[k].cpu_ms), mr[k].events,
                    k + 1 < nm ? "," : "");
        fprintf(f, "  ],\n  \"profiled\": {\"mode\": \"%s\", \"scan_ms\": %.2f, \"mb_per_s\": "
                   "%.2f, \"confirm_ns\": %" PRIu64 ", \"hits\": %" PRIu64 ", \"fires\": %" PRIu64
                   "},\n  \"per_rule\": [\n",
                vp_mode_str(pmode), pr.scan_ms, mbps(pr.bytes, pr.scan_ms), tot_ns, tot_hits,
                tot_fires);
        for (size_t i = 0; i < n_rules; i++) {
            const prof_row *r = &rows[i];
            fprintf(f, "    {\"id\": %u, \"modes\": \"%s\", \"action\": \"%s\", \"hits\": %" PRIu64
                       ", \"fires\": %" PRIu64 ", \"confirm_ns\": %" PRIu64
                       ", \"ns_per_mb\": %.1f, \"name\": ",
                    r->id, modes_str(r->modes), vp_action_str(r->action), r->hits, r->fires,
                    r->ns, (double)r->ns / mb);
            json_str(f, r->name);
            fprintf(f, "}%s\n", i + 1 < n_rules ? "," : "");
        }
        fprintf(f, "  ]\n}\n");
        if (f != stdout && fclose(f) != 0)
            die("cannot write", opt.json);
        if (f != stdout)
            printf("JSON written to %s\n", opt.json);
    }
    free(rows);
    corpus_free(&c);
    vp_bundle_free(b);
    return 0;
}

/* ------------------------------------------------------------ main */

static void usage(void)
{
    fputs("usage: vpbench [--quick] [--rules N,N,...] [--mb N] [--flows N] [--reps N]\n"
          "               [--json FILE] [--lib-only] [--no-pcap] [--vpscan PATH]\n"
          "               [--without-shapes K,...]\n"
          "       vpbench --profile BUNDLE.vpb|RULE_DIR [--mode performance|security]\n"
          "               [--traffic DIR] [--mb N] [--flows N] [--reps N] [--top N]\n"
          "               [--json FILE] [--quick]\n"
          "  default: 200 MB corpus, 4000 flows, rule sets 10,100,1000,5000, 3 repetitions\n"
          "  --quick: 16 MB, 1000 flows, rule sets 10,100 (CI smoke run)\n"
          "  without --json the JSON document follows the table on stdout\n"
          "  --lib-only: library scans only (for profilers); --without-shapes: rules of\n"
          "  those shapes (see bench_rules.c) become plain literals (diagnosis)\n"
          "  --profile: a real rule set (a bundle, or a directory whose *.yaml files are\n"
          "  compiled) on the generated traffic without attack messages (default 100 MB,\n"
          "  4000 flows, 1448-byte chunks, ports 80/443/8080/8000): MB/s of performance\n"
          "  and security mode (median of --reps passes, one thread), then one profiled\n"
          "  pass and, per rule sorted by confirmation time: id, modes, pattern hits,\n"
          "  fires, confirm ns and ns per MB.  --mode: profile and time only that mode\n"
          "  (default: time both, profile security).  --top N: print the N costliest\n"
          "  rules only (the JSON has all).  --json FILE: the profile as JSON.\n"
          "  --traffic DIR: scan the files NAME.PORT.to_server|to_client of DIR (one flow\n"
          "  each, e.g. from tests/ruleset/benign_http.py --streams) instead\n",
          stderr);
}

static int parse_list(const char *s, unsigned *out, unsigned *n)
{
    *n = 0;
    while (*s) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || v == 0 || v > 100000 || *n == MAX_SETS)
            return -1;
        out[(*n)++] = (unsigned)v;
        s = end;
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return *n ? 0 : -1;
}

static void parse_args(int argc, char **argv)
{
    int have_rules = 0, have_mb = 0, have_flows = 0;
    opt.reps = 3;
    opt.vpscan = getenv("VPBENCH_VPSCAN") ? getenv("VPBENCH_VPSCAN") : VPBENCH_VPSCAN;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            opt.quick = 1;
        } else if (strcmp(a, "--lib-only") == 0) {
            opt.lib_only = 1;
        } else if (strcmp(a, "--no-pcap") == 0) {
            opt.no_pcap = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            exit(0);
        } else if (!v) {
            usage();
            exit(2);
        } else if (strcmp(a, "--rules") == 0) {
            if (parse_list(v, opt.rules, &opt.n_rules) != 0)
                die("--rules needs a comma-separated list of counts", v);
            have_rules = 1;
            i++;
        } else if (strcmp(a, "--mb") == 0) {
            opt.mb = strtoul(v, NULL, 10);
            if (opt.mb == 0 || opt.mb > 4000)
                die("--mb needs 1..4000", v);
            have_mb = 1;
            i++;
        } else if (strcmp(a, "--flows") == 0) {
            opt.flows = strtoul(v, NULL, 10);
            if (opt.flows < 2 || opt.flows > 60000)
                die("--flows needs 2..60000", v);
            have_flows = 1;
            i++;
        } else if (strcmp(a, "--reps") == 0) {
            opt.reps = (unsigned)strtoul(v, NULL, 10);
            if (opt.reps < 1 || opt.reps > 15)
                die("--reps needs 1..15", v);
            i++;
        } else if (strcmp(a, "--json") == 0) {
            opt.json = v;
            i++;
        } else if (strcmp(a, "--without-shapes") == 0) {
            unsigned list[MAX_SETS], nl;
            if (parse_list(v, list, &nl) != 0)
                die("--without-shapes needs shape numbers 1..9", v);
            for (unsigned k = 0; k < nl; k++)
                if (list[k] < BENCH_SHAPES)
                    opt.shape_off |= 1u << list[k];
            i++;
        } else if (strcmp(a, "--profile") == 0) {
            opt.profile = v;
            i++;
        } else if (strcmp(a, "--mode") == 0) {
            vp_mode m;
            if (vp_mode_parse(v, &m) != VP_OK)
                die("--mode is performance or security", v);
            opt.mode = (int)m;
            i++;
        } else if (strcmp(a, "--traffic") == 0) {
            opt.traffic = v;
            i++;
        } else if (strcmp(a, "--top") == 0) {
            opt.top = (unsigned)strtoul(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--vpscan") == 0) {
            opt.vpscan = v;
            i++;
        } else {
            usage();
            exit(2);
        }
    }
    if (!have_rules) {
        static const unsigned full[] = {10, 100, 1000, 5000}, quick[] = {10, 100};
        const unsigned *src = opt.quick ? quick : full;
        opt.n_rules = opt.quick ? 2 : 4;
        memcpy(opt.rules, src, opt.n_rules * sizeof(unsigned));
    }
    if ((opt.mode || opt.traffic || opt.top) && !opt.profile)
        die("--mode, --traffic and --top need --profile", NULL);
    if (!have_mb)
        opt.mb = opt.quick ? 16 : opt.profile ? 100 : 200;
    if (!have_flows)
        opt.flows = opt.quick ? 1000 : 4000;
}

int main(int argc, char **argv)
{
    double t_begin = now_ms();
    parse_args(argc, argv);
    rule_shapes_disable(opt.shape_off);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (opt.profile)
        return profile_main();

    char cpu[256];
    cpu_model(cpu, sizeof(cpu));
    printf("vpbench: libvpatch %s, Hyperscan %s\n", vp_version(), hs_version());
    read_loadavg(load_start, sizeof(load_start));
    printf("machine: %s, %ld online CPUs, load average %s\n", cpu, sysconf(_SC_NPROCESSORS_ONLN),
           load_start);

    unsigned max_rules = 0;
    for (unsigned i = 0; i < opt.n_rules; i++)
        if (opt.rules[i] > max_rules)
            max_rules = opt.rules[i];

    bench_corpus c;
    double t0 = now_ms();
    if (corpus_generate(&c, opt.mb * 1000 * 1000, opt.flows, CHUNK, max_rules, SEED) != 0)
        die("out of memory generating traffic", NULL);
    double gen_ms = now_ms() - t0;
    printf("generated %.1f MB of traffic in %zu flows (%zu chunks) in %.0f ms\n",
           (double)c.len / 1e6, c.n_flows, c.n_chunks, gen_ms);

    parts2 parts;
    for (unsigned p = 0; p < 2; p++) {
        parts.chunks[p] = corpus_part(&c, p, 2, &parts.n[p]);
        if (!parts.chunks[p])
            die("out of memory", NULL);
    }

    set_result sets[MAX_SETS];
    for (unsigned i = 0; i < opt.n_rules; i++) {
        double ts = now_ms();
        printf("measuring %u rules ...", opt.rules[i]);
        measure_set(opt.rules[i], &c, &parts, &sets[i]);
        printf(" %.1f s\n", (now_ms() - ts) / 1000);
    }

    pcap_result pr;
    memset(&pr, 0, sizeof(pr));
    if (opt.no_pcap || opt.lib_only) {
        snprintf(pr.reason, sizeof(pr.reason), "skipped (--no-pcap or --lib-only)");
    } else {
        unsigned pr_rules = opt.rules[0];
        for (unsigned i = 0; i < opt.n_rules; i++)
            if (opt.rules[i] == 1000 || (pr_rules != 1000 && opt.rules[i] > pr_rules))
                pr_rules = opt.rules[i];
        double ts = now_ms();
        printf("measuring vpscan --pcap with %u rules ...", pr_rules);
        measure_pcap(pr_rules, &c, &pr);
        printf(" %.1f s\n", (now_ms() - ts) / 1000);
    }

    read_loadavg(load_end, sizeof(load_end));
    print_table(sets, opt.n_rules, &pr, &c, gen_ms);
    printf("load average at start %s, at end %s (other processes share the CPUs)\n", load_start,
           load_end);
    double total = now_ms() - t_begin;
    printf("total run time: %.1f s\n", total / 1000);
    if (opt.json && strcmp(opt.json, "-") != 0) {
        FILE *f = fopen(opt.json, "w");
        if (!f)
            die("cannot write", opt.json);
        print_json(f, sets, opt.n_rules, &pr, &c, gen_ms, total);
        if (fclose(f) != 0)
            die("cannot write", opt.json);
        printf("JSON written to %s\n", opt.json);
    } else {
        printf("\n");
        print_json(stdout, sets, opt.n_rules, &pr, &c, gen_ms, total);
    }
    free(parts.chunks[0]);
    free(parts.chunks[1]);
    corpus_free(&c);
    return 0;
}
