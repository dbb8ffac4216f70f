#include "testutil.h"

#include <stdlib.h>
#include <string.h>

const size_t vpt_chunk_sizes[] = {0, 1, 2, 3, 7, 64, 1460};
const size_t vpt_n_chunk_sizes = sizeof(vpt_chunk_sizes) / sizeof(vpt_chunk_sizes[0]);

int vp_test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void vpt_compile(const char *yaml, uint8_t **bundle, size_t *len)
{
    vp_compiler_t *c;
    ck_assert_int_eq(vp_compiler_create(&c), VP_OK);
    ck_assert_int_eq(vp_compiler_add_memory(c, "test.yaml", yaml, strlen(yaml)), VP_OK);
    vp_compiler_set_run_tests(c, 0);
    vp_compiler_set_serial(c, 42);
    vp_status st = vp_compiler_build(c, bundle, len);
    if (st != VP_OK) {
        char buf[512] = "";
        if (vp_compiler_diag_count(c))
            vp_compiler_diag_format(c, 0, buf, sizeof(buf));
        vp_compiler_free(c);
        ck_abort_msg("compile failed (%s): %s\n%s", vp_status_str(st), buf, yaml);
    }
    vp_compiler_free(c);
}

void vpt_build(const char *yaml, int enable_all, const vp_engine_options_t *opts, vpt_engine *t)
{
    uint8_t *bytes;
    size_t len;
    vpt_compile(yaml, &bytes, &len);
    vp_error_t *err = NULL;
    memset(t, 0, sizeof(*t));
    vp_status st = vp_bundle_load_memory(bytes, len, &t->bundle, &err);
    vp_compiler_bundle_free(bytes);
    ck_assert_msg(st == VP_OK, "load: %s", vp_error_message(err));
    vp_engine_options_t *own = NULL;
    if (enable_all) {
        ck_assert_int_eq(vp_engine_options_create(&own), VP_OK);
        for (size_t i = 0; i < vp_bundle_rule_count(t->bundle); i++) {
            vp_rule_info_t info = {.size = sizeof(info)};
            ck_assert_int_eq(vp_bundle_rule_at(t->bundle, i, &info), VP_OK);
            ck_assert_int_eq(vp_engine_options_enable(own, &info.id, 1), VP_OK);
        }
        opts = own;
    }
    st = vp_engine_create(t->bundle, opts, &t->engine, &err);
    vp_engine_options_free(own);
    ck_assert_msg(st == VP_OK, "engine: %s", vp_error_message(err));
    ck_assert_int_eq(vp_scratch_alloc(t->engine, &t->scratch), VP_OK);
}

void vpt_free(vpt_engine *t)
{
    vp_scratch_free(t->scratch);
    vp_engine_free(t->engine);
    vp_bundle_free(t->bundle);
    memset(t, 0, sizeof(*t));
}

void vpt_collect(const vp_event_t *ev, void *ctx)
{
    vpt_events *out = ctx;
    ck_assert_uint_lt(out->n, VPT_MAX_EVENTS);
    out->ev[out->n++] = *ev;
}

void vpt_open_pair(vpt_engine *t, uint16_t port, vpt_events *to_server, vpt_events *to_client,
                   vp_stream_t **cs, vp_stream_t **ss)
{
    memset(to_server, 0, sizeof(*to_server));
    memset(to_client, 0, sizeof(*to_client));
    ck_assert_int_eq(vp_stream_open(t->engine, VP_PROTO_TCP, port, VP_DIR_TO_SERVER, vpt_collect,
                                    to_server, cs), VP_OK);
    ck_assert_int_eq(vp_stream_open(t->engine, VP_PROTO_TCP, port, VP_DIR_TO_CLIENT, vpt_collect,
                                    to_client, ss), VP_OK);
}

int64_t vpt_fires_at(vpt_engine *t, uint16_t port, vp_direction dir, const void *data, size_t len,
                     uint32_t id)
{
    int64_t first = -2;
    for (size_t k = 0; k < vpt_n_chunk_sizes; k++) {
        vpt_events ev;
        vpt_scan(t, port, dir, data, len, vpt_chunk_sizes[k], &ev);
        int64_t at = vpt_offset_of(&ev, id);
        if (first == -2)
            first = at;
        ck_assert_msg(at == first, "rule %u: chunk %zu gives %lld, whole %lld", id,
                      vpt_chunk_sizes[k], (long long)at, (long long)first);
    }
    return first;
}

static void scan_pieces(vpt_engine *t, vp_stream_t *s, const uint8_t *data, size_t len, size_t chunk)
{
    if (!chunk)
        chunk = len ? len : 1;
    for (size_t at = 0; at < len; at += chunk) {
        size_t n = len - at < chunk ? len - at : chunk;
        ck_assert_int_eq(vp_stream_scan(s, data + at, n, t->scratch), VP_OK);
    }
}

vp_verdict vpt_scan(vpt_engine *t, uint16_t port, vp_direction dir, const void *data, size_t len,
                    size_t chunk, vpt_events *out)
{
    memset(out, 0, sizeof(*out));
    vp_stream_t *s;
    ck_assert_int_eq(vp_stream_open(t->engine, VP_PROTO_TCP, port, dir, vpt_collect, out, &s), VP_OK);
    scan_pieces(t, s, data, len, chunk);
    ck_assert_int_eq(vp_stream_close(s, t->scratch), VP_OK);
    vp_verdict v = vp_stream_verdict(s);
    vp_stream_free(s);
    return v;
}

vp_verdict vpt_scan_with_gaps(vpt_engine *t, const char *data, uint64_t gap_len, size_t chunk,
                              vpt_events *out)
{
    memset(out, 0, sizeof(*out));
    vp_stream_t *s;
    ck_assert_int_eq(
        vp_stream_open(t->engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, vpt_collect, out, &s), VP_OK);
    const char *p = data;
    for (;;) {
        const char *tilde = strchr(p, '~');
        size_t n = tilde ? (size_t)(tilde - p) : strlen(p);
        scan_pieces(t, s, (const uint8_t *)p, n, chunk);
        if (!tilde)
            break;
        ck_assert_int_eq(vp_stream_gap(s, gap_len, t->scratch), VP_OK);
        p = tilde + 1;
    }
    ck_assert_int_eq(vp_stream_close(s, t->scratch), VP_OK);
    vp_verdict v = vp_stream_verdict(s);
    vp_stream_free(s);
    return v;
}

int64_t vpt_offset_of(const vpt_events *ev, uint32_t id)
{
    for (size_t i = 0; i < ev->n; i++)
        if (ev->ev[i].rule_id == id)
            return (int64_t)ev->ev[i].offset;
    return -1;
}
