/*
 * Engine bugs found by the differential test, each shrunk to a minimal case
 * with its result worked out by hand from docs/rule-format.md (the oracle,
 * tests/oracle/test_oracle.c, gives the same).  These check the engine only.
 *
 * While a bug is open its case fails here, and the differential test counts
 * disagreements of its kind as "known" (known_issue() in diffcase.c); when
 * the bug is fixed, drop that entry of known_issue().
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diffcase.h"

typedef struct reg_case {
    const char *what;
    const char *match; /* YAML flow sequence of the conditions of rule 7 */
    const char *data;  /* each '~' is a gap of `gap` bytes */
    uint64_t gap;
    int64_t expect;    /* offset of the event, -1 for none */
} reg_case;

static const reg_case cases[] = {
    /*
     * Bug: a relative negation is decided when its E appears if its window
     * is already over by then, and a match of the negated pattern that ends
     * exactly at that position is not taken into account.
     *
     * "d not preceded by c": E = 2 (the d), the window is [0, 2], and "cd"
     * = [0, 2) lies in it, so the negation does not hold.  Engine: fires at 2.
     */
    {"negation decided when its E appears: window ending at E",
     "[{content: \"d\"}, {content: \"cd\", distance: -2, within: 2, negate: true}]", "cd", 0, -1},
    /* Control: no "c" before the d. */
    {"negation decided when its E appears: control",
     "[{content: \"d\"}, {content: \"cd\", distance: -2, within: 2, negate: true}]", "xd", 0, 2},
    /*
     * Same bug when E is found by looking back: the "a" [0, 1) becomes the E
     * (= 1) of the negation only when "b" [1, 2) is seen, at 2; the window
     * [1, 2] holds "b" [1, 2), so the negation does not hold.  Engine: fires
     * at 2.
     */
    {"negation decided when its E appears: E found by looking back",
     "[{content: \"b\"}, {content: \"a\", distance: -2}, {content: \"b\", within: 1, negate: true}]",
     "ab", 0, -1},
    /* Control: the window is clean. */
    {"negation decided when its E appears: looking back, control",
     "[{content: \"b\"}, {content: \"a\", distance: -2}, {content: \"c\", within: 1, negate: true}]",
     "ab", 0, 2},
};

static const char *yaml_fmt = "format: 1\n"
                              "rules:\n"
                              "  - id: 7\n"
                              "    name: regression\n"
                              "    severity: high\n"
                              "    match: %s\n";

static int64_t offset_of(const dc_events *ev, uint32_t id)
{
    for (size_t i = 0; i < ev->n; i++)
        if (ev->ev[i].rule_id == id)
            return (int64_t)ev->ev[i].offset;
    return -1;
}

static void collect(const vp_event_t *ev, void *ctx)
{
    dc_events *o = ctx;
    if (o->n < DC_MAX_EVENTS)
        o->ev[o->n++] = *ev;
}

/* Scans `data` ('~' = gap) in pieces of `chunk` bytes (0 = whole). */
static void scan(const dc_engine *e, const char *data, uint64_t gap, size_t chunk, dc_events *out)
{
    memset(out, 0, sizeof(*out));
    vp_stream_t *s;
    ck_assert_int_eq(vp_stream_open(e->engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, collect, out, &s),
                     VP_OK);
    const char *p = data;
    for (;;) {
        const char *tilde = strchr(p, '~');
        size_t n = tilde ? (size_t)(tilde - p) : strlen(p);
        size_t step = chunk ? chunk : (n ? n : 1);
        for (size_t at = 0; at < n; at += step)
            ck_assert_int_eq(vp_stream_scan(s, p + at, n - at < step ? n - at : step, e->scratch),
                             VP_OK);
        if (!tilde)
            break;
        ck_assert_int_eq(vp_stream_gap(s, gap, e->scratch), VP_OK);
        p = tilde + 1;
    }
    ck_assert_int_eq(vp_stream_close(s, e->scratch), VP_OK);
    vp_stream_free(s);
}

START_TEST(test_case)
{
    const reg_case *c = &cases[_i];
    char yaml[2048];
    snprintf(yaml, sizeof(yaml), yaml_fmt, c->match);
    dc_engine e;
    char err[1024];
    ck_assert_msg(dc_engine_build(yaml, &e, err, sizeof(err)) == 0, "%s: %s", c->what, err);
    static const size_t chunks[] = {0, 1, 3};
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
        dc_events ev;
        scan(&e, c->data, c->gap, chunks[k], &ev);
        int64_t got = offset_of(&ev, 7);
        if (got != c->expect)
            dc_engine_free(&e);
        ck_assert_msg(got == c->expect, "%s (chunk %zu): expected %lld, got %lld\n%s  stream: \"%s\"",
                      c->what, chunks[k], (long long)c->expect, (long long)got, yaml, c->data);
    }
    dc_engine_free(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diff-regressions");
    TCase *tc = tcase_create("cases");
    tcase_add_loop_test(tc, test_case, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
