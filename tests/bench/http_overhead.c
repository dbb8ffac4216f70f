/*
 * HTTP inspection cost: the same generated HTTP traffic scanned with 100
 * rules on the raw stream and with the same patterns aimed at HTTP buffers
 * (URI, headers, bodies), which makes the library parse every message and
 * scan each buffer.  Prints JSON; a benchmark, not a test.
 * usage: http_overhead [MB]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_traffic.h"
#include "vpatch/vpatch.h"
#include "vpatch/vpatch_compile.h"

static const char *const buffers[] = {"http.uri", "http.header", "http.request_body",
                                      "http.user_agent", "http.response_body"};

static vp_engine_t *build(int http, vp_bundle_t **bundle)
{
    size_t cap = 100 * 200 + 64, len = 0;
    char *yaml = malloc(cap);
    len += (size_t)snprintf(yaml, cap, "format: 1\nrules:\n");
    for (unsigned i = 0; i < 100; i++) {
        char buf[64] = "";
        const char *dir = "to_server";
        if (http) {
            snprintf(buf, sizeof(buf), ", buffer: %s", buffers[i % 5]);
            if (i % 5 == 4)
                dir = "to_client";
        }
        len += (size_t)snprintf(yaml + len, cap - len,
                                "  - {id: %u, name: r%u, severity: low, direction: %s, match: "
                                "[{content: \"zq%ux\"%s}]}\n",
                                i + 1, i, dir, i, buf);
    }
    vp_compiler_t *c;
    uint8_t *b;
    size_t blen;
    vp_compiler_create(&c);
    vp_compiler_add_memory(c, "gen.yaml", yaml, len);
    vp_compiler_set_run_tests(c, 0);
    vp_engine_t *e = NULL;
    if (vp_compiler_build(c, &b, &blen) == VP_OK &&
        vp_bundle_load_memory(b, blen, bundle, NULL) == VP_OK)
        vp_engine_create(*bundle, NULL, &e, NULL);
    vp_compiler_free(c);
    vp_compiler_bundle_free(b);
    free(yaml);
    return e;
}

static double scan_mbps(const bench_corpus *c, vp_engine_t *e)
{
    vp_scratch_t *scratch;
    vp_scratch_alloc(e, &scratch);
    vp_stream_t **streams = calloc(c->n_flows, sizeof(*streams));
    for (size_t f = 0; f < c->n_flows; f++)
        vp_stream_open(e, VP_PROTO_TCP, c->flows[f].port,
                       c->flows[f].to_client ? VP_DIR_TO_CLIENT : VP_DIR_TO_SERVER, NULL, NULL,
                       &streams[f]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    for (size_t k = 0; k < c->n_chunks; k++)
        vp_stream_scan(streams[c->chunks[k].flow], c->chunks[k].p, c->chunks[k].len, scratch);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    for (size_t f = 0; f < c->n_flows; f++)
        vp_stream_free(streams[f]);
    free(streams);
    vp_scratch_free(scratch);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return (double)c->len / 1e6 / s;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
    bench_corpus c;
    if (corpus_generate(&c, mb << 20, 2000, 1448, 100, 7) != 0)
        return 1;
    vp_bundle_t *b1 = NULL, *b2 = NULL;
    vp_engine_t *raw = build(0, &b1), *http = build(1, &b2);
    if (!raw || !http)
        return 1;
    double r[3], h[3];
    for (int i = 0; i < 3; i++) { /* alternate so machine noise hits both */
        r[i] = scan_mbps(&c, raw);
        h[i] = scan_mbps(&c, http);
    }
    qsort(r, 3, sizeof(double), cmp);
    qsort(h, 3, sizeof(double), cmp);
    printf("{\"mb\": %.1f, \"flows\": %zu, \"raw_stream_mbps\": %.1f, \"http_buffers_mbps\": %.1f, "
           "\"http_overhead_pct\": %.1f}\n",
           (double)c.len / 1e6, c.n_flows, r[1], h[1], 100.0 * (r[1] / h[1] - 1.0));
    vp_engine_free(raw);
    vp_engine_free(http);
    vp_bundle_free(b1);
    vp_bundle_free(b2);
    corpus_free(&c);
    return 0;
}
