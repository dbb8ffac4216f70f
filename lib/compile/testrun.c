/*
 * Embedded rule tests, run against the compiled bundle through the public
 * runtime API, so a passing test means the shipped engine matches.  Each test
 * is scanned whole and one byte at a time; the two must agree.
 */
#include <stdlib.h>
#include <string.h>

#include "plan.h"

typedef struct fired {
    uint32_t rule_id;
    int hit;
    uint64_t offset;
} fired;

static void on_event(const vp_event_t *ev, void *ctx)
{
    fired *f = ctx;
    if (ev->rule_id == f->rule_id && !f->hit) {
        f->hit = 1;
        f->offset = ev->offset;
    }
}

static vp_status run_once(const vp_engine_t *e, vp_scratch_t *scratch, const vp_src_rule *r,
                          const vp_src_test *t, size_t chunk, fired *out)
{
    vp_direction dir = t->direction ? (vp_direction)t->direction
                                    : (r->direction == VP_DIR_TO_CLIENT ? VP_DIR_TO_CLIENT
                                                                        : VP_DIR_TO_SERVER);
    uint16_t port = t->has_port ? t->port : (r->n_ports ? r->ports[0].lo : 0);
    memset(out, 0, sizeof(*out));
    out->rule_id = r->id;
    if (r->proto == VP_PROTO_UDP)
        return vp_scan_datagram(e, VP_PROTO_UDP, port, dir, t->data, t->len, scratch, on_event,
                                out, NULL);
    vp_stream_t *s;
    vp_status st = vp_stream_open(e, VP_PROTO_TCP, port, dir, on_event, out, &s);
    for (size_t at = 0; st == VP_OK && at < t->len; at += chunk) {
        size_t n = t->len - at < chunk ? t->len - at : chunk;
        st = vp_stream_scan(s, t->data + at, n, scratch);
    }
    if (st == VP_OK)
        st = vp_stream_close(s, scratch);
    vp_stream_free(s);
    return st;
}

static void run_test(const vp_engine_t *e, vp_scratch_t *scratch, const vp_src_rule *r,
                     const vp_src_test *t, vp_diags *d)
{
    fired whole, bytewise;
    vp_status st = run_once(e, scratch, r, t, t->len ? t->len : 1, &whole);
    if (st == VP_OK)
        st = run_once(e, scratch, r, t, 1, &bytewise);
    if (st != VP_OK) {
        vp_diag_add(d, VP_DIAG_ERROR, VP_D_INTERNAL, r->file, t->mark, r->id,
                    "test could not be run: %s", vp_status_str(st));
        return;
    }
    if (whole.hit != bytewise.hit || whole.offset != bytewise.offset) {
        vp_diag_add(d, VP_DIAG_ERROR, VP_D_INTERNAL, r->file, t->mark, r->id,
                    "engine gave different results for whole and byte-by-byte input "
                    "(a libvpatch bug; please report it)");
        return;
    }
    if (t->expect_match && !whole.hit)
        vp_diag_add(d, VP_DIAG_ERROR, VP_D_TEST_FAILED, r->file, t->mark, r->id,
                    "test expects match but rule %u did not fire", r->id);
    else if (!t->expect_match && whole.hit)
        vp_diag_add(d, VP_DIAG_ERROR, VP_D_TEST_FAILED, r->file, t->mark, r->id,
                    "test expects nomatch but rule %u fired at offset %llu", r->id,
                    (unsigned long long)whole.offset);
}

int vp_testrun(const vp_src_file *files, size_t n_files, const uint8_t *bundle, size_t len,
               vp_diags *d)
{
    size_t n_ids = 0;
    for (size_t f = 0; f < n_files; f++)
        n_ids += files[f].n_rules;
    uint32_t *ids = calloc(n_ids ? n_ids : 1, sizeof(uint32_t));
    vp_bundle_t *b = NULL;
    vp_engine_options_t *opts = NULL;
    vp_engine_t *e = NULL;
    vp_scratch_t *scratch = NULL;
    vp_error_t *err = NULL;
    int rc = -1;
    if (!ids || vp_bundle_load_memory(bundle, len, &b, &err) != VP_OK)
        goto out;
    n_ids = 0;
    for (size_t f = 0; f < n_files; f++)
        for (size_t i = 0; i < files[f].n_rules; i++)
            ids[n_ids++] = files[f].rules[i].id;
    /* Every rule is tested, whatever modes it belongs to. */
    if (vp_engine_options_create(&opts) != VP_OK ||
        vp_engine_options_enable(opts, ids, n_ids) != VP_OK ||
        vp_engine_create(b, opts, &e, &err) != VP_OK || vp_scratch_alloc(e, &scratch) != VP_OK)
        goto out;
    for (size_t f = 0; f < n_files; f++)
        for (size_t i = 0; i < files[f].n_rules; i++)
            for (size_t t = 0; t < files[f].rules[i].n_tests; t++)
                run_test(e, scratch, &files[f].rules[i], &files[f].rules[i].tests[t], d);
    rc = 0;
out:
    if (rc != 0)
        vp_diag_add(d, VP_DIAG_ERROR, VP_D_INTERNAL, "", (vp_mark){0, 0}, 0,
                    "the compiled bundle cannot be loaded to run rule tests: %s",
                    err ? vp_error_message(err) : "out of memory");
    vp_error_free(err);
    vp_scratch_free(scratch);
    vp_engine_free(e);
    vp_engine_options_free(opts);
    vp_bundle_free(b);
    free(ids);
    return rc;
}
