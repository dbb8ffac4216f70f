/* The smallest useful embedding: load a bundle, scan one stream, print events.
 * usage: minimal BUNDLE.vpb PORT < stream-bytes */
#include <stdio.h>
#include <stdlib.h>

#include "vpatch/vpatch.h"

static void on_event(const vp_event_t *ev, void *ctx)
{
    (void)ctx;
    printf("rule %u fired at offset %llu (%s)\n", ev->rule_id, (unsigned long long)ev->offset,
           vp_verdict_str(ev->verdict));
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: minimal BUNDLE.vpb PORT < stream\n");
        return 2;
    }
    vp_bundle_t *bundle;
    vp_error_t *err;
    if (vp_bundle_load_file(argv[1], &bundle, &err) != VP_OK) {
        fprintf(stderr, "bundle refused: %s\n", vp_error_message(err));
        vp_error_free(err);
        return 3;
    }
    vp_engine_t *engine;
    vp_scratch_t *scratch = NULL;
    vp_stream_t *stream = NULL;
    int rc = 1;
    if (vp_engine_create(bundle, NULL, &engine, NULL) != VP_OK) /* security mode */
        goto out_bundle;
    if (vp_scratch_alloc(engine, &scratch) != VP_OK ||
        vp_stream_open(engine, VP_PROTO_TCP, (uint16_t)atoi(argv[2]), VP_DIR_TO_SERVER,
                       on_event, NULL, &stream) != VP_OK)
        goto out;
    char buf[1460]; /* chunks as a host would see them; matches may span chunks */
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
        if (vp_stream_scan(stream, buf, n, scratch) != VP_OK)
            goto out;
    vp_stream_close(stream, scratch); /* decides end-of-stream conditions */
    printf("verdict: %s\n", vp_verdict_str(vp_stream_verdict(stream)));
    rc = 0;
out:
    vp_stream_free(stream);
    vp_scratch_free(scratch);
    vp_engine_free(engine);
out_bundle:
    vp_bundle_free(bundle);
    return rc;
}
