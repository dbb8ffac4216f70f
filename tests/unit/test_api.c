/* API contracts: argument checks, misuse, metadata, modes and overrides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *three_rules =
    "format: 1\n"
    "ruleset: api-test\n"
    "rules:\n"
    "  - id: 100\n"
    "    name: both modes\n"
    "    severity: critical\n"
    "    cvss: 9.8\n"
    "    cve: [CVE-2021-44228, CVE-2021-45046]\n"
    "    references: [https://example.org/a]\n"
    "    tags: [rce]\n"
    "    modes: [performance, security]\n"
    "    match: [{content: aaa}]\n"
    "  - id: 200\n"
    "    name: security only\n"
    "    severity: medium\n"
    "    action: detect\n"
    "    match: [{content: bbb}]\n"
    "  - id: 300\n"
    "    name: performance only\n"
    "    severity: low\n"
    "    modes: [performance]\n"
    "    match: [{content: ccc}]\n";

START_TEST(test_status_names)
{
    for (int s = 0; s <= VP_E_SCRATCH_MISMATCH; s++) {
        const char *name = vp_status_str((vp_status)s);
        ck_assert_ptr_nonnull(name);
        ck_assert_msg(strncmp(name, "VP_", 3) == 0, "%d: %s", s, name);
        for (int o = 0; o < s; o++)
            ck_assert_str_ne(name, vp_status_str((vp_status)o));
    }
    ck_assert_str_eq(vp_status_str((vp_status)999), "VP_E_UNKNOWN_STATUS");
    ck_assert_str_eq(vp_version(), VPATCH_VERSION_STRING);
    ck_assert_uint_eq(vp_version_number(), VPATCH_VERSION_NUMBER);
    vp_mode m;
    ck_assert_int_eq(vp_mode_parse("performance", &m), VP_OK);
    ck_assert_int_eq(m, VP_MODE_PERFORMANCE);
    ck_assert_int_eq(vp_mode_parse("security", &m), VP_OK);
    ck_assert_int_eq(m, VP_MODE_SECURITY);
    ck_assert_int_eq(vp_mode_parse("fast", &m), VP_E_INVALID);
    ck_assert_int_eq(vp_mode_parse(NULL, &m), VP_E_INVALID);
}
END_TEST

START_TEST(test_bundle_args)
{
    vp_bundle_t *b = (vp_bundle_t *)1;
    vp_error_t *err = NULL;
    ck_assert_int_eq(vp_bundle_load_memory(NULL, 5, &b, &err), VP_E_INVALID);
    ck_assert_ptr_null(b);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(vp_error_status(err), VP_E_INVALID);
    vp_error_free(err);
    ck_assert_int_eq(vp_bundle_load_memory("x", 1, NULL, NULL), VP_E_INVALID);
    ck_assert_int_eq(vp_bundle_load_memory("", 0, &b, &err), VP_E_BUNDLE_FORMAT);
    vp_error_free(err);
    char junk[256];
    memset(junk, 'Q', sizeof(junk));
    ck_assert_int_eq(vp_bundle_load_memory(junk, sizeof(junk), &b, &err), VP_E_BUNDLE_FORMAT);
    ck_assert_int_ge(vp_error_offset(err), 0);
    ck_assert_str_ne(vp_error_message(err), "");
    vp_error_free(err);
    ck_assert_int_eq(vp_bundle_load_file("/nonexistent/x.vpb", &b, &err), VP_E_IO);
    ck_assert_ptr_nonnull(strstr(vp_error_message(err), "/nonexistent/x.vpb"));
    vp_error_free(err);
    ck_assert_int_eq(vp_bundle_load_file(NULL, &b, NULL), VP_E_INVALID);
    /* NULL-safe frees and queries. */
    vp_bundle_free(NULL);
    vp_engine_free(NULL);
    vp_engine_options_free(NULL);
    vp_scratch_free(NULL);
    vp_stream_free(NULL);
    vp_error_free(NULL);
    ck_assert_uint_eq(vp_bundle_rule_count(NULL), 0);
    ck_assert_uint_eq(vp_engine_stream_size(NULL), 0);
}
END_TEST

START_TEST(test_metadata)
{
    vpt_engine t;
    vpt_build(three_rules, 0, NULL, &t);
    ck_assert_uint_eq(vp_bundle_rule_count(t.bundle), 3);
    ck_assert_uint_eq(vp_bundle_serial(t.bundle), 42);
    ck_assert_str_eq(vp_bundle_ruleset(t.bundle), "api-test");
    vp_rule_info_t info = {.size = sizeof(info)};
    ck_assert_int_eq(vp_bundle_rule_by_id(t.bundle, 100, &info), VP_OK);
    ck_assert_str_eq(info.name, "both modes");
    ck_assert_uint_eq(info.cve_count, 2);
    ck_assert_str_eq(info.cves[1], "CVE-2021-45046");
    ck_assert_uint_eq(info.reference_count, 1);
    ck_assert_str_eq(info.tags[0], "rce");
    ck_assert_int_eq(info.severity, VP_SEV_CRITICAL);
    ck_assert_double_eq_tol(info.cvss, 9.8, 1e-9);
    ck_assert_uint_eq(info.modes, VP_MODE_BIT(VP_MODE_PERFORMANCE) | VP_MODE_BIT(VP_MODE_SECURITY));
    ck_assert_int_eq(info.action, VP_ACTION_BLOCK);
    ck_assert_int_eq(info.proto, VP_PROTO_TCP);
    ck_assert_int_eq(info.direction, VP_DIR_TO_SERVER);
    ck_assert_uint_eq(info.condition_count, 1);
    ck_assert_int_eq(vp_bundle_rule_by_id(t.bundle, 200, &info), VP_OK);
    ck_assert_int_eq(info.action, VP_ACTION_DETECT);
    ck_assert_double_eq(info.cvss, -1.0);
    ck_assert_uint_eq(info.modes, VP_MODE_BIT(VP_MODE_SECURITY));
    ck_assert_str_eq(info.description, "");
    ck_assert_int_eq(vp_bundle_rule_by_id(t.bundle, 999, &info), VP_E_UNKNOWN_RULE);
    ck_assert_int_eq(vp_bundle_rule_at(t.bundle, 3, &info), VP_E_INVALID);
    info.size = 1;
    ck_assert_int_eq(vp_bundle_rule_at(t.bundle, 0, &info), VP_E_INVALID);
    vp_bundle_stats_t st = {.size = sizeof(st)};
    ck_assert_int_eq(vp_bundle_stats(t.bundle, &st), VP_OK);
    ck_assert_uint_eq(st.rule_count, 3);
    ck_assert_uint_eq(st.pattern_count, 3);
    ck_assert_uint_eq(st.format_major, 1);
    ck_assert_int_eq(st.is_signed, 0);
    ck_assert_uint_gt(st.section_count, 0);
    vpt_free(&t);
}
END_TEST

/* Which of rules 100/200/300 fire on "aaa bbb ccc" for a given selection. */
static unsigned fired_mask(const vp_engine_options_t *o, vp_verdict *verdict, vpt_events *ev)
{
    vpt_engine t;
    vpt_build(three_rules, 0, o, &t);
    *verdict = vpt_scan(&t, 80, VP_DIR_TO_SERVER, "aaa bbb ccc", 11, 0, ev);
    unsigned mask = 0;
    for (size_t i = 0; i < ev->n; i++)
        mask |= ev->ev[i].rule_id == 100 ? 1u : ev->ev[i].rule_id == 200 ? 2u : 4u;
    vpt_free(&t);
    return mask;
}

START_TEST(test_modes_and_overrides)
{
    vp_engine_options_t *o;
    vp_verdict v;
    vpt_events ev;
    ck_assert_uint_eq(fired_mask(NULL, &v, &ev), 1 | 2); /* default: security */
    ck_assert_int_eq(v, VP_VERDICT_BLOCK);

    ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
    ck_assert_int_eq(vp_engine_options_set_mode(o, VP_MODE_PERFORMANCE), VP_OK);
    ck_assert_uint_eq(fired_mask(o, &v, &ev), 1 | 4);
    uint32_t two = 200, one = 100, three = 300;
    ck_assert_int_eq(vp_engine_options_enable(o, &two, 1), VP_OK);
    ck_assert_uint_eq(fired_mask(o, &v, &ev), 1 | 2 | 4);
    ck_assert_int_eq(vp_engine_options_disable(o, &one, 1), VP_OK);
    ck_assert_uint_eq(fired_mask(o, &v, &ev), 2 | 4);
    /* disable wins over enable of the same id */
    ck_assert_int_eq(vp_engine_options_enable(o, &one, 1), VP_OK);
    ck_assert_uint_eq(fired_mask(o, &v, &ev), 2 | 4);
    vp_engine_options_free(o);

    /* security + enable 300 - disable 100; only detect rule 200 and block 300 remain */
    ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
    ck_assert_int_eq(vp_engine_options_enable(o, &three, 1), VP_OK);
    ck_assert_int_eq(vp_engine_options_disable(o, &one, 1), VP_OK);
    ck_assert_uint_eq(fired_mask(o, &v, &ev), 2 | 4);
    ck_assert_int_eq(v, VP_VERDICT_BLOCK);
    vp_engine_options_free(o);

    /* a detect rule alone never blocks */
    ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
    ck_assert_int_eq(vp_engine_options_disable(o, &one, 1), VP_OK);
    ck_assert_uint_eq(fired_mask(o, &v, &ev), 2);
    ck_assert_int_eq(v, VP_VERDICT_ALLOW);
    ck_assert_int_eq(ev.ev[0].verdict, VP_VERDICT_ALLOW);
    ck_assert_int_eq(ev.ev[0].action, VP_ACTION_DETECT);
    vp_engine_options_free(o);

    /* detect-only: events still reported, nothing blocked */
    ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
    ck_assert_int_eq(vp_engine_options_set_detect_only(o, 1), VP_OK);
    ck_assert_uint_eq(fired_mask(o, &v, &ev), 1 | 2);
    ck_assert_int_eq(v, VP_VERDICT_ALLOW);
    for (size_t i = 0; i < ev.n; i++)
        ck_assert_int_eq(ev.ev[i].verdict, VP_VERDICT_ALLOW);
    ck_assert_int_eq(ev.ev[0].action, VP_ACTION_BLOCK);
    vp_engine_options_free(o);
}
END_TEST

START_TEST(test_engine_args)
{
    vp_engine_options_t *o;
    ck_assert_int_eq(vp_engine_options_create(NULL), VP_E_INVALID);
    ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
    ck_assert_int_eq(vp_engine_options_set_mode(o, (vp_mode)99), VP_E_INVALID);
    ck_assert_int_eq(vp_engine_options_set_mode(NULL, VP_MODE_SECURITY), VP_E_INVALID);
    ck_assert_int_eq(vp_engine_options_set_detect_only(o, 2), VP_E_INVALID);
    ck_assert_int_eq(vp_engine_options_enable(o, NULL, 1), VP_E_INVALID);
    ck_assert_int_eq(vp_engine_options_enable(o, NULL, 0), VP_OK);
    ck_assert_int_eq(vp_engine_options_disable(NULL, NULL, 0), VP_E_INVALID);

    vpt_engine t;
    vpt_build(three_rules, 0, NULL, &t);
    vp_engine_t *e = (vp_engine_t *)1;
    vp_error_t *err = NULL;
    ck_assert_int_eq(vp_engine_create(NULL, o, &e, &err), VP_E_INVALID);
    ck_assert_ptr_null(e);
    vp_error_free(err);
    ck_assert_int_eq(vp_engine_create(t.bundle, o, NULL, NULL), VP_E_INVALID);
    uint32_t bogus = 4242;
    ck_assert_int_eq(vp_engine_options_enable(o, &bogus, 1), VP_OK);
    ck_assert_int_eq(vp_engine_create(t.bundle, o, &e, &err), VP_E_UNKNOWN_RULE);
    ck_assert_ptr_nonnull(strstr(vp_error_message(err), "4242"));
    vp_error_free(err);
    vp_engine_options_free(o);

    ck_assert_int_eq(vp_engine_rule_enabled(t.engine, 100), 1);
    ck_assert_int_eq(vp_engine_rule_enabled(t.engine, 300), 0);
    ck_assert_int_eq(vp_engine_rule_enabled(t.engine, 4242), 0);
    ck_assert_uint_eq(vp_engine_enabled_count(t.engine), 2);
    ck_assert_ptr_eq(vp_engine_bundle(t.engine), t.bundle);
    ck_assert_uint_gt(vp_engine_stream_size(t.engine), 0);
    /* The engine holds its own reference: the bundle may be released first. */
    vp_bundle_free(t.bundle);
    t.bundle = NULL;
    vpt_events ev;
    vpt_scan(&t, 80, VP_DIR_TO_SERVER, "aaa", 3, 0, &ev);
    ck_assert_uint_eq(ev.n, 1);
    vpt_free(&t);
}
END_TEST

typedef struct reentry {
    vp_stream_t *other;
    vp_scratch_t *scratch;
    vp_status seen;
} reentry;

static void scan_inside_callback(const vp_event_t *ev, void *ctx)
{
    (void)ev;
    reentry *r = ctx;
    r->seen = vp_stream_scan(r->other, "x", 1, r->scratch);
}

START_TEST(test_stream_misuse)
{
    vpt_engine t, u;
    vpt_build(three_rules, 0, NULL, &t);
    vpt_build(three_rules, 0, NULL, &u);
    vp_stream_t *s = (vp_stream_t *)1;
    ck_assert_int_eq(vp_stream_open(NULL, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, NULL, NULL, &s),
                     VP_E_INVALID);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(vp_stream_open(t.engine, (vp_proto)3, 80, VP_DIR_TO_SERVER, NULL, NULL, &s),
                     VP_E_INVALID);
    ck_assert_int_eq(vp_stream_open(t.engine, VP_PROTO_TCP, 80, VP_DIR_ANY, NULL, NULL, &s),
                     VP_E_INVALID);
    ck_assert_int_eq(vp_stream_open(t.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, NULL, NULL, NULL),
                     VP_E_INVALID);
    vp_scratch_t *none = (vp_scratch_t *)1;
    ck_assert_int_eq(vp_scratch_alloc(NULL, &none), VP_E_INVALID);
    ck_assert_ptr_null(none);

    ck_assert_int_eq(vp_stream_open(t.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, NULL, NULL, &s),
                     VP_OK);
    ck_assert_int_eq(vp_stream_scan(s, NULL, 3, t.scratch), VP_E_INVALID);
    ck_assert_int_eq(vp_stream_scan(s, "aaa", 3, NULL), VP_E_INVALID);
    ck_assert_int_eq(vp_stream_scan(s, NULL, 0, t.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_scan(s, "aaa", 3, u.scratch), VP_E_SCRATCH_MISMATCH);
    ck_assert_int_eq(vp_stream_gap(s, UINT64_MAX, t.scratch), VP_E_INVALID);
    ck_assert_int_eq(vp_stream_gap(s, 0, t.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_scan(NULL, "a", 1, t.scratch), VP_E_INVALID);
    ck_assert_int_eq(vp_stream_scan(s, "aaa", 3, t.scratch), VP_OK);
    ck_assert_uint_eq(vp_stream_offset(s), 3);
    ck_assert_int_eq(vp_stream_verdict(s), VP_VERDICT_BLOCK);
    ck_assert_int_eq(vp_stream_close(s, t.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_close(s, t.scratch), VP_E_STREAM_CLOSED);
    ck_assert_int_eq(vp_stream_scan(s, "a", 1, t.scratch), VP_E_STREAM_CLOSED);
    ck_assert_int_eq(vp_stream_gap(s, 1, t.scratch), VP_E_STREAM_CLOSED);
    ck_assert_int_eq(vp_stream_verdict(s), VP_VERDICT_BLOCK);
    vp_stream_free(s);

    /* A scratch already in use (here: by the scan that called back) is refused. */
    reentry r = {NULL, t.scratch, VP_OK};
    vp_stream_t *a;
    ck_assert_int_eq(vp_stream_open(t.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, NULL, NULL,
                                    &r.other),
                     VP_OK);
    ck_assert_int_eq(vp_stream_open(t.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER,
                                    scan_inside_callback, &r, &a),
                     VP_OK);
    ck_assert_int_eq(vp_stream_scan(a, "aaa", 3, t.scratch), VP_OK);
    ck_assert_int_eq(r.seen, VP_E_SCRATCH_IN_USE);
    vp_stream_free(a); /* without close: discarded */
    vp_stream_free(r.other);

    vp_verdict v = VP_VERDICT_BLOCK;
    ck_assert_int_eq(vp_scan_datagram(t.engine, VP_PROTO_UDP, 53, VP_DIR_ANY, "a", 1, t.scratch,
                                      NULL, NULL, &v),
                     VP_E_INVALID);
    ck_assert_int_eq(v, VP_VERDICT_ALLOW);
    vpt_free(&t);
    vpt_free(&u);
}
END_TEST

START_TEST(test_empty_bundle)
{
    vpt_engine t;
    vpt_build("format: 1\nrules: []\n", 0, NULL, &t);
    vpt_events ev;
    ck_assert_int_eq(vpt_scan(&t, 80, VP_DIR_TO_SERVER, "anything", 8, 3, &ev), VP_VERDICT_ALLOW);
    ck_assert_uint_eq(ev.n, 0);
    /* Offsets move even without any raw-stream pattern (regression: they
     * stayed at 0, so HTTP events reported offsets within the chunk). */
    vp_stream_t *s;
    ck_assert_int_eq(vp_stream_open(t.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, NULL, NULL, &s),
                     VP_OK);
    ck_assert_int_eq(vp_stream_scan(s, "abc", 3, t.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_scan(s, "de", 2, t.scratch), VP_OK);
    ck_assert_uint_eq(vp_stream_offset(s), 5);
    vp_stream_free(s);
    vpt_free(&t);
}
END_TEST

START_TEST(test_profiling)
{
    vp_engine_options_t *o;
    ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
    ck_assert_int_eq(vp_engine_options_set_profiling(o, 2), VP_E_INVALID);
    ck_assert_int_eq(vp_engine_options_set_profiling(o, 1), VP_OK);
    vpt_engine t;
    vpt_build(three_rules, 0, o, &t);
    vp_engine_options_free(o);
    vpt_events ev;
    vpt_scan(&t, 80, VP_DIR_TO_SERVER, "aaa bbb aaa", 11, 0, &ev);
    vpt_scan(&t, 80, VP_DIR_TO_SERVER, "bbb", 3, 0, &ev);
    vp_rule_profile_t p = {.size = sizeof(p)};
    ck_assert_int_eq(vp_engine_profile_at(t.engine, 0, &p), VP_OK);
    ck_assert_uint_eq(p.rule_id, 100);
    ck_assert_uint_eq(p.pattern_hits, 1); /* the rule is done after its first match */
    ck_assert_uint_eq(p.fires, 1);
    ck_assert_int_eq(vp_engine_profile_at(t.engine, 1, &p), VP_OK);
    ck_assert_uint_eq(p.rule_id, 200);
    ck_assert_uint_eq(p.pattern_hits, 2);
    ck_assert_uint_eq(p.fires, 2);
    ck_assert_int_eq(vp_engine_profile_at(t.engine, 3, &p), VP_E_INVALID);
    vpt_free(&t);
    vpt_build(three_rules, 0, NULL, &t);
    ck_assert_int_eq(vp_engine_profile_at(t.engine, 0, &p), VP_E_INVALID);
    vpt_free(&t);
}
END_TEST

/* An engine that runs a smaller part of the bundle scans with databases of
 * just its patterns; a scratch must be reserved for it like for any engine. */
START_TEST(test_engine_own_databases)
{
    vpt_engine sec;
    vpt_build(three_rules, 0, NULL, &sec);
    vp_engine_options_t *o;
    ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
    ck_assert_int_eq(vp_engine_options_set_mode(o, VP_MODE_PERFORMANCE), VP_OK);
    uint32_t one = 100;
    ck_assert_int_eq(vp_engine_options_disable(o, &one, 1), VP_OK); /* only 300 left */
    vp_engine_t *perf;
    ck_assert_int_eq(vp_engine_create(sec.bundle, o, &perf, NULL), VP_OK);
    vp_engine_options_free(o);
    vp_stream_t *s;
    vpt_events ev;
    memset(&ev, 0, sizeof(ev));
    ck_assert_int_eq(vp_stream_open(perf, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, NULL, NULL, &s),
                     VP_OK);
    ck_assert_int_eq(vp_stream_scan(s, "aaa ccc", 7, sec.scratch), VP_E_SCRATCH_MISMATCH);
    ck_assert_int_eq(vp_scratch_reserve(sec.scratch, perf), VP_OK);
    ck_assert_int_eq(vp_stream_scan(s, "aaa ccc", 7, sec.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_verdict(s), VP_VERDICT_BLOCK); /* rule 300 */
    vp_stream_free(s);
    /* the smaller database still finds exactly the enabled rule */
    vpt_engine p = {NULL, perf, sec.scratch};
    vpt_scan(&p, 80, VP_DIR_TO_SERVER, "aaa bbb ccc", 11, 1, &ev);
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_uint_eq(ev.ev[0].rule_id, 300);
    vp_engine_free(perf);
    vpt_free(&sec);
}
END_TEST

/* A scratch remembers engines by an identity that a new engine at the same
 * address does not repeat (regression: keyed by address, a scratch of a freed
 * engine passed the check for its successor and Hyperscan read out of bounds;
 * found by fuzz_diff). */
START_TEST(test_scratch_identity_not_address)
{
    vpt_engine t;
    vpt_build(three_rules, 0, NULL, &t);
    uint32_t one = 100, two = 200;
    for (int round = 0; round < 20; round++) {
        vp_engine_options_t *o;
        ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
        ck_assert_int_eq(vp_engine_options_disable(o, &one, 1), VP_OK);
        vp_engine_t *a;
        ck_assert_int_eq(vp_engine_create(t.bundle, o, &a, NULL), VP_OK);
        vp_scratch_t *sa;
        ck_assert_int_eq(vp_scratch_alloc(a, &sa), VP_OK);
        vp_engine_free(a);
        ck_assert_int_eq(vp_engine_options_disable(o, &two, 1), VP_OK);
        ck_assert_int_eq(vp_engine_options_set_mode(o, VP_MODE_PERFORMANCE), VP_OK);
        vp_engine_t *b;
        ck_assert_int_eq(vp_engine_create(t.bundle, o, &b, NULL), VP_OK);
        vp_engine_options_free(o);
        vp_stream_t *s;
        ck_assert_int_eq(vp_stream_open(b, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, NULL, NULL, &s),
                         VP_OK);
        ck_assert_int_eq(vp_stream_scan(s, "ccc", 3, sa), VP_E_SCRATCH_MISMATCH);
        vp_stream_free(s);
        vp_engine_free(b);
        vp_scratch_free(sa);
    }
    vpt_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_status_names);
    tcase_add_test(tc, test_bundle_args);
    tcase_add_test(tc, test_metadata);
    tcase_add_test(tc, test_modes_and_overrides);
    tcase_add_test(tc, test_engine_args);
    tcase_add_test(tc, test_stream_misuse);
    tcase_add_test(tc, test_empty_bundle);
    tcase_add_test(tc, test_profiling);
    tcase_add_test(tc, test_engine_own_databases);
    tcase_add_test(tc, test_scratch_identity_not_address);
    suite_add_tcase(s, tc);
    return vp_test_run_suite(s);
}
