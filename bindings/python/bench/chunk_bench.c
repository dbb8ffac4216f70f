/* C baseline for bench/chunk_bench.py: scans FILE as one TCP stream in
 * CHUNK-byte pieces, ROUNDS times, and prints chunks per second.
 * usage: chunk_bench BUNDLE.vpb FILE CHUNK PORT ROUNDS */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vpatch/vpatch.h"

static void on_event(const vp_event_t *ev, void *ctx)
{
    (void)ev;
    ++*(unsigned long *)ctx;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: chunk_bench BUNDLE FILE CHUNK PORT ROUNDS\n");
        return 2;
    }
    size_t chunk = strtoul(argv[3], NULL, 10);
    unsigned port = (unsigned)strtoul(argv[4], NULL, 10);
    int rounds = atoi(argv[5]);
    FILE *f = fopen(argv[2], "rb");
    if (!f)
        return 2;
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(len ? len : 1);
    if (!data || fread(data, 1, len, f) != len)
        return 2;
    fclose(f);

    vp_bundle_t *b;
    vp_engine_t *e;
    vp_scratch_t *s;
    vp_error_t *err = NULL;
    if (vp_bundle_load_file(argv[1], &b, &err) != VP_OK ||
        vp_engine_create(b, NULL, &e, &err) != VP_OK || vp_scratch_alloc(e, &s) != VP_OK) {
        fprintf(stderr, "chunk_bench: %s\n", err ? vp_error_message(err) : "setup failed");
        return 3;
    }
    unsigned long events = 0, chunks = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < rounds; r++) {
        vp_stream_t *st;
        if (vp_stream_open(e, VP_PROTO_TCP, (uint16_t)port, VP_DIR_TO_SERVER, on_event, &events,
                           &st) != VP_OK)
            return 4;
        for (size_t at = 0; at < len; at += chunk, chunks++)
            if (vp_stream_scan(st, data + at, len - at < chunk ? len - at : chunk, s) != VP_OK)
                return 4;
        vp_stream_close(st, s);
        vp_stream_free(st);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%lu %.6f %lu\n", chunks, secs, events);
    vp_scratch_free(s);
    vp_engine_free(e);
    vp_bundle_free(b);
    free(data);
    return 0;
}
