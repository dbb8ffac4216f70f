/*
 * The rule language, feature by feature: each case is a `match:` list, a
 * stream and the offset at which the rule must fire (-1: never).  Every case
 * runs at every chunk size of vpt_chunk_sizes and must give the same event.
 */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

typedef struct lang_case {
    const char *what;
    const char *match;   /* YAML flow sequence */
    const char *data;
    int64_t expect;
} lang_case;

static const lang_case cases[] = {
    /* content, nocase, hex */
    {"content", "[{content: abc}]", "xxabcxx", 5},
    {"content absent", "[{content: abc}]", "xxabxcx", -1},
    {"content is case-sensitive", "[{content: ABC}]", "xabc", -1},
    {"nocase", "[{content: ABC, nocase: true}]", "xabc", 4},
    {"hex", "[{hex: \"61 62 63\"}]", "zabc", 4},
    {"hex without spaces", "[{hex: \"616263\"}]", "abc", 3},
    {"escaped byte", "[{content: \"a\\x01b\"}]", "xa\x01" "b", 4},
    /* offset and depth */
    {"offset skips earlier match", "[{content: abc, offset: 2}]", "abcabc", 6},
    {"offset start exactly at N", "[{content: abc, offset: 2}]", "xxabc", 5},
    {"offset too early", "[{content: abc, offset: 2}]", "xabcx", -1},
    {"depth end exactly at depth", "[{content: abc, depth: 3}]", "abcx", 3},
    {"depth exceeded", "[{content: abc, depth: 3}]", "xabc", -1},
    {"offset+depth boundary", "[{content: abc, offset: 1, depth: 3}]", "xabc", 4},
    {"offset+depth exceeded", "[{content: abc, offset: 1, depth: 3}]", "xxabc", -1},
    /* relative conditions */
    {"distance", "[{content: ab}, {content: cd, distance: 2}]", "abxxcd", 6},
    {"distance too close", "[{content: ab}, {content: cd, distance: 2}]", "abxcd", -1},
    {"within", "[{content: ab}, {content: cd, within: 4}]", "abxxcd", 6},
    {"within exceeded", "[{content: ab}, {content: cd, within: 4}]", "abxxxcd", -1},
    {"distance+within lower", "[{content: ab}, {content: cd, distance: 1, within: 3}]", "abcd", -1},
    {"distance+within fits", "[{content: ab}, {content: cd, distance: 1, within: 3}]", "abxcd", 5},
    {"distance+within edge", "[{content: ab}, {content: cd, distance: 1, within: 3}]", "abxxcd", 6},
    {"distance+within past", "[{content: ab}, {content: cd, distance: 1, within: 3}]", "abxxxcd", -1},
    {"relative before earlier", "[{content: cd}, {content: ab, distance: 0}]", "abcd", -1},
    {"negative distance overlap", "[{content: bcd}, {content: ab, distance: -4}]", "abcd", 4},
    {"negative distance too far", "[{content: bcd}, {content: ab, distance: -3}]", "abcd", -1},
    {"negative distance same end", "[{content: cd}, {content: bcd, distance: -3}]", "abcd", 4},
    {"negative distance with within", "[{content: cd}, {content: b, distance: -3, within: 2}]",
     "abcd", 4},
    {"negative distance, later partner", "[{content: xyz}, {content: x, distance: -3, within: 1}]",
     "xyz", 3},
    {"existential: later first match", "[{content: a}, {content: b, within: 2}]", "axxab", 5},
    {"same pattern twice", "[{content: a}, {content: a, distance: 0}]", "xa", -1},
    {"same pattern twice, two hits", "[{content: a}, {content: a, distance: 0}]", "xaa", 3},
    {"three-element chain", "[{content: GET}, {content: jndi, distance: 1}, {content: ldap, within: 8}]",
     "GET /${jndi:ldap://x}", 16},
    {"three-element chain broken", "[{content: GET}, {content: jndi, distance: 1}, {content: ldap, within: 4}]",
     "GET /${jndi:ldap://x}", -1},
    /* independent conditions */
    {"absolute conditions in any order", "[{content: b}, {content: a}]", "ab", 2},
    {"fires when the last one is seen", "[{content: a}, {content: zz}]", "a---zz-a", 6},
    /* negation */
    {"negate absent", "[{content: GET}, {content: evil, negate: true}]", "GET /", 5},
    {"negate present", "[{content: GET}, {content: evil, negate: true}]", "GET evil", -1},
    {"negate present before", "[{content: GET}, {content: evil, negate: true}]", "evil GET", -1},
    {"negate with depth", "[{content: GET}, {content: X, depth: 4, negate: true}]", "GET abc", 4},
    {"negate with depth killed", "[{content: GET}, {content: X, depth: 4, negate: true}]", "GETX", -1},
    {"negate with depth, outside", "[{content: GET}, {content: X, depth: 4, negate: true}]", "GET X", 4},
    {"negate with offset", "[{content: X, offset: 2, negate: true}]", "XX", 2},
    {"negate with offset killed", "[{content: X, offset: 2, negate: true}]", "aaX", -1},
    {"negated only: fires at end", "[{content: zz, negate: true}]", "abcdef", 6},
    {"relative negate within", "[{content: GET}, {content: X, within: 3, negate: true}]", "GET ab", 6},
    {"relative negate within killed", "[{content: GET}, {content: X, within: 3, negate: true}]",
     "GETaXb", -1},
    {"relative negate, stream ends early", "[{content: GET}, {content: X, within: 3, negate: true}]",
     "GET a", 5},
    {"relative negate, second candidate", "[{content: A}, {content: B, within: 2, negate: true}]",
     "ABxAxx", 6},
    {"relative negate open window", "[{content: GET}, {content: Y, distance: 0, negate: true}]",
     "GETabc", 6},
    {"relative negate open window killed", "[{content: GET}, {content: Y, distance: 0, negate: true}]",
     "GETY", -1},
    {"relative negate open window, before", "[{content: GET}, {content: Y, distance: 0, negate: true}]",
     "YGET", 4},
    {"relative negate open: latest candidate wins", "[{content: G}, {content: Y, distance: 0, negate: true}]",
     "GYG", 3},
    {"relative negate, negative distance", "[{content: abc}, {content: x, distance: -3, within: 3, negate: true}]",
     "zabcz", 4},
    {"relative negate, negative distance killed", "[{content: abc}, {content: b, distance: -3, within: 3, negate: true}]",
     "zabcz", -1},
    /* regex */
    {"regex", "[{regex: \"a[0-9]+b\"}]", "xxa123b", 7},
    {"regex caseless flag", "[{regex: ABC, flags: i}]", "abc", 3},
    {"regex case-sensitive", "[{regex: ABC}]", "abc", -1},
    {"regex dotall flag", "[{regex: \"a.b\", flags: s}]", "a\nb", 3},
    {"regex dot without s", "[{regex: \"a.b\"}]", "a\nb", -1},
    {"regex extended flag", "[{regex: \"a b c\", flags: x}]", "abc", 3},
    {"regex with offset", "[{regex: \"ab+\", offset: 2}]", "abbxab", 6},
    {"regex with depth", "[{regex: \"ab+\", depth: 3}]", "abbb", 2},
    {"regex end anchor", "[{regex: \"end$\"}]", "the end", 7},
    {"regex end anchor mid-stream", "[{regex: \"end$\"}]", "the end!", -1},
    {"regex then relative content", "[{regex: \"a[0-9]+\"}, {content: z, within: 2}]", "a12xz", 5},
    /* relative regex: compiled with its chain into one expression */
    {"relative regex", "[{content: GET}, {regex: \"a[0-9]+b\", distance: 1}]", "GET xa12b", 9},
    {"relative regex too close", "[{content: GET}, {regex: \"a[0-9]+b\", distance: 1}]", "GETa12b", -1},
    {"relative regex before", "[{content: GET}, {regex: \"a[0-9]+b\", distance: 0}]", "a1bGET", -1},
    {"relative regex, later start counts", "[{content: X}, {regex: \"a.*b\", distance: 2}]", "aXzzab", 6},
    {"relative regex with flags", "[{content: get, nocase: true}, {regex: \"JNDI\", flags: i, distance: 0}]", "GeT ${jndi:", 10},
    {"relative regex after offset head", "[{content: ab, offset: 2}, {regex: \"c+\", distance: 0}]", "abcxxabcc", 8},
    {"relative regex after depth head", "[{content: ab, depth: 3}, {regex: \"c+\", distance: 0}]", "xxabc", -1},
    {"relative regex after within link", "[{content: a}, {content: b, within: 3}, {regex: \"c[0-9]\", distance: 0}]", "a-bc1", 5},
    {"relative regex then relative content", "[{content: a}, {regex: \"b+\", distance: 0}, {content: c, within: 2}]", "abbbc", 5},
    {"relative regex after a tight within (regression: {0,0} repeat)", "[{content: a}, {content: b, within: 1}, {regex: \"c+\", distance: 0}]", "abc", 3},
    {"relative regex after a tight depth", "[{content: ab, depth: 2}, {regex: \"c+\", distance: 0}]", "abc", 3},
    {"relative regex after a tight depth, late", "[{content: ab, depth: 2}, {regex: \"c+\", distance: 0}]", "xabc", -1},
    /* isdataat and endswith */
    {"isdataat", "[{isdataat: 9}]", "0123456789", 10},
    {"isdataat: too short", "[{isdataat: 9}]", "012345678", -1},
    {"isdataat negated", "[{content: \"01\"}, {isdataat: 9, negate: true}]", "012345678", 9},
    {"isdataat negated: byte there", "[{content: \"01\"}, {isdataat: 9, negate: true}]",
     "0123456789", -1},
    {"isdataat relative", "[{content: AB}, {isdataat: 2, relative: true}]", "xxAB123", 7},
    {"isdataat relative: too short", "[{content: AB}, {isdataat: 2, relative: true}]", "xxAB12", -1},
    {"isdataat relative: earliest E", "[{content: AB}, {isdataat: 2, relative: true}]", "AB1AB12", 5},
    {"isdataat relative after a chain", "[{content: A}, {content: B, within: 2}, {isdataat: 0, relative: true}]",
     "xAxBy", 5},
    {"isdataat relative negated", "[{content: AB}, {isdataat: 2, relative: true, negate: true}]",
     "xxAB12", 6},
    {"isdataat relative negated: byte there",
     "[{content: AB}, {isdataat: 2, relative: true, negate: true}]", "xxAB123", -1},
    {"isdataat relative negated: a later E",
     "[{content: AB}, {isdataat: 2, relative: true, negate: true}]", "AB1234AB1", 9},
    {"endswith", "[{content: END, endswith: true}]", "xxENDyyEND", 10},
    {"endswith: one byte more", "[{content: END, endswith: true}]", "xxENDyyEND!", -1},
    {"endswith on a relative content", "[{content: a}, {content: b, distance: 0, endswith: true}]",
     "abab", 4},
    {"endswith on a regex", "[{regex: \"b+\", endswith: true}]", "abbab", 5},
    {"endswith with depth", "[{content: ab, depth: 4, endswith: true}]", "xab", 3},
    {"endswith with depth, too far", "[{content: ab, depth: 4, endswith: true}]", "xxxab", -1},
    /* fire once */
    {"fires once", "[{content: a}]", "aaaa", 1},
};

static const char *rule_yaml_fmt =
    "format: 1\n"
    "rules:\n"
    "  - id: 7\n"
    "    name: case\n"
    "    severity: high\n"
    "    match: %s\n";

START_TEST(test_case)
{
    const lang_case *c = &cases[_i];
    char yaml[2048];
    snprintf(yaml, sizeof(yaml), rule_yaml_fmt, c->match);
    vpt_engine t;
    vpt_build(yaml, 1, NULL, &t);
    for (size_t k = 0; k < vpt_n_chunk_sizes; k++) {
        vpt_events ev;
        vpt_scan(&t, 80, VP_DIR_TO_SERVER, c->data, strlen(c->data), vpt_chunk_sizes[k], &ev);
        ck_assert_msg(ev.n <= 1, "%s: rule fired %zu times", c->what, ev.n);
        int64_t got = vpt_offset_of(&ev, 7);
        ck_assert_msg(got == c->expect, "%s (chunk %zu): expected %lld, got %lld", c->what,
                      vpt_chunk_sizes[k], (long long)c->expect, (long long)got);
    }
    vpt_free(&t);
}
END_TEST

/* Gaps: '~' marks 10 lost bytes. */
typedef struct gap_case {
    const char *what;
    const char *match;
    const char *data;
    int64_t expect;
} gap_case;

static const gap_case gap_cases[] = {
    {"no match across a gap", "[{content: abc}]", "xab~cx", -1},
    {"offsets count the gap", "[{content: abc}]", "xy~abc", 15},
    {"absolute conditions on both sides", "[{content: ab}, {content: cd}]", "ab~cd", 14},
    {"relative chain cannot span a gap", "[{content: ab}, {content: cd, distance: 0}]", "ab~cd", -1},
    {"relative chain after the gap", "[{content: ab}, {content: cd, distance: 0}]", "ab~abcd", 16},
    {"negation window overlapping a gap", "[{content: GET}, {content: X, negate: true}]", "GET~abc", -1},
    {"negation window before a gap", "[{content: GET}, {content: X, depth: 5, negate: true}]",
     "GET ab~c", 5},
    {"relative negation across a gap", "[{content: GET}, {content: X, within: 8, negate: true}]",
     "GET~aaaaaaaaaa", -1},
    {"relative negation after a gap", "[{content: GET}, {content: X, within: 3, negate: true}]",
     "a~GETaaaa", 17},
    {"depth counts lost bytes", "[{content: abc, depth: 12}]", "x~abc", -1},
    {"^ is the stream start, not the gap end", "[{regex: \"^GET \"}]", "xxxx~GET /", -1},
    {"^ before a gap", "[{regex: \"^GET \"}]", "GET ~/", 4},
    {"regex with offset after a gap", "[{regex: \"ab+\", offset: 1}]", "x~ab", -1},
    {"unanchored regex after a gap", "[{regex: \"ab+\"}]", "x~ab", 13},
    {"class [^...] is no anchor", "[{regex: \"a[^x]b\"}]", "x~acb", 14},
    {"isdataat: byte lost in a gap", "[{isdataat: 3}]", "ab~cd", -1},
    {"isdataat: first byte after a gap", "[{isdataat: 12}]", "ab~cd", 13},
    {"isdataat negated: byte lost in a gap", "[{isdataat: 3, negate: true}]", "ab~cd", -1},
    {"isdataat negated: past the end after a gap", "[{isdataat: 20, negate: true}]", "ab~cd", 14},
    {"isdataat relative: byte lost in a gap", "[{content: ab}, {isdataat: 1, relative: true}]",
     "ab~cd", -1},
    {"isdataat relative negated: gap after E",
     "[{content: ab}, {isdataat: 0, relative: true, negate: true}]", "ab~", -1},
    {"endswith before a final gap", "[{content: END, endswith: true}]", "xEND~", -1},
    {"endswith after a gap", "[{content: END, endswith: true}]", "END~xEND", 17},
};

START_TEST(test_gap_case)
{
    const gap_case *c = &gap_cases[_i];
    char yaml[2048];
    snprintf(yaml, sizeof(yaml), rule_yaml_fmt, c->match);
    vpt_engine t;
    vpt_build(yaml, 1, NULL, &t);
    for (size_t k = 0; k < vpt_n_chunk_sizes; k++) {
        vpt_events ev;
        vpt_scan_with_gaps(&t, c->data, 10, vpt_chunk_sizes[k], &ev);
        int64_t got = vpt_offset_of(&ev, 7);
        ck_assert_msg(got == c->expect, "%s (chunk %zu): expected %lld, got %lld", c->what,
                      vpt_chunk_sizes[k], (long long)c->expect, (long long)got);
    }
    vpt_free(&t);
}
END_TEST

/* Selection of rules by protocol, port and direction. */
START_TEST(test_ports_and_direction)
{
    const char *yaml = "format: 1\n"
                       "rules:\n"
                       "  - {id: 1, name: p80, severity: low, ports: 80, match: [{content: a}]}\n"
                       "  - {id: 2, name: plist, severity: low, ports: \"443,8000-8100\", match: [{content: a}]}\n"
                       "  - {id: 3, name: plist2, severity: low, ports: [22, \"25-26\"], match: [{content: a}]}\n"
                       "  - {id: 4, name: client, severity: low, direction: to_client, match: [{content: a}]}\n"
                       "  - {id: 5, name: both, severity: low, direction: any, match: [{content: a}]}\n"
                       "  - {id: 6, name: udp, severity: low, protocol: udp, match: [{content: a}]}\n";
    vpt_engine t;
    vpt_build(yaml, 1, NULL, &t);
    struct {
        uint16_t port;
        vp_direction dir;
        int fires[7];
    } rows[] = {
        {80, VP_DIR_TO_SERVER, {0, 1, 0, 0, 0, 1, 0}},
        {81, VP_DIR_TO_SERVER, {0, 0, 0, 0, 0, 1, 0}},
        {443, VP_DIR_TO_SERVER, {0, 0, 1, 0, 0, 1, 0}},
        {8000, VP_DIR_TO_SERVER, {0, 0, 1, 0, 0, 1, 0}},
        {8100, VP_DIR_TO_SERVER, {0, 0, 1, 0, 0, 1, 0}},
        {8101, VP_DIR_TO_SERVER, {0, 0, 0, 0, 0, 1, 0}},
        {26, VP_DIR_TO_SERVER, {0, 0, 0, 1, 0, 1, 0}},
        {27, VP_DIR_TO_CLIENT, {0, 0, 0, 0, 1, 1, 0}},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        vpt_events ev;
        vpt_scan(&t, rows[r].port, rows[r].dir, "a", 1, 0, &ev);
        for (uint32_t id = 1; id <= 6; id++)
            ck_assert_msg((vpt_offset_of(&ev, id) >= 0) == rows[r].fires[id],
                          "port %u dir %d rule %u", rows[r].port, rows[r].dir, id);
    }
    /* The UDP rule sees datagrams only. */
    vpt_events ev;
    memset(&ev, 0, sizeof(ev));
    vp_verdict v;
    ck_assert_int_eq(vp_scan_datagram(t.engine, VP_PROTO_UDP, 53, VP_DIR_TO_SERVER, "xa", 2,
                                      t.scratch, NULL, NULL, &v),
                     VP_OK);
    ck_assert_int_eq(v, VP_VERDICT_BLOCK);
    ck_assert_int_eq(vp_scan_datagram(t.engine, VP_PROTO_UDP, 53, VP_DIR_TO_SERVER, "xb", 2,
                                      t.scratch, NULL, NULL, &v),
                     VP_OK);
    ck_assert_int_eq(v, VP_VERDICT_ALLOW);
    vpt_free(&t);
}
END_TEST

/* A byte that completes a positive isdataat is decided in the scan call
 * that brought it, not at the next call or at close: a block must take
 * effect before the host forwards that data (regression: found in review). */
typedef struct arrival_case {
    const char *match;
    const char *first;   /* scanned in one call; the rule must fire in it */
    int64_t offset;
} arrival_case;

static const arrival_case arrivals[] = {
    {"[{content: X}, {isdataat: 9}]", "X123456789", 10},
    {"[{content: Y}, {isdataat: 3, relative: true}]", "..Y123a", 7},
    {"[{isdataat: 5, buffer: http.request_body}]",
     "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n012345", 44},
    /* chunked: the raw offset of the body byte, as for a content ending there */
    {"[{isdataat: 9, buffer: http.request_body}]",
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\nA567Z", 65},
    {"[{content: Z, buffer: http.request_body}]",
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\nA567Z", 65},
};

static void count_event(const vp_event_t *ev, void *ctx)
{
    (void)ev;
    ++*(int *)ctx;
}

START_TEST(test_isdataat_in_the_same_call)
{
    const arrival_case *c = &arrivals[_i];
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), rule_yaml_fmt, c->match);
    vpt_engine t;
    vpt_build(yaml, 1, NULL, &t);
    int fired = 0;
    vp_stream_t *s;
    ck_assert_int_eq(vp_stream_open(t.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, count_event,
                                    &fired, &s),
                     VP_OK);
    ck_assert_int_eq(vp_stream_scan(s, c->first, strlen(c->first), t.scratch), VP_OK);
    ck_assert_msg(fired == 1, "%s: %d events after the call that brought the byte", c->match,
                  fired);
    ck_assert_int_eq(vp_stream_verdict(s), VP_VERDICT_BLOCK);
    ck_assert_int_eq(vp_stream_close(s, t.scratch), VP_OK);
    ck_assert_int_eq(fired, 1);
    vp_stream_free(s);
    /* and the offset is the same at every chunking */
    for (size_t k = 0; k < vpt_n_chunk_sizes; k++) {
        vpt_events ev;
        vpt_scan(&t, 80, VP_DIR_TO_SERVER, c->first, strlen(c->first), vpt_chunk_sizes[k], &ev);
        ck_assert_int_eq(vpt_offset_of(&ev, 7), c->offset);
    }
    vpt_free(&t);
}
END_TEST

/* Two relative isdataat waiting at once: the one armed later but due
 * earlier fires first, in the call that brings its byte. */
START_TEST(test_isdataat_armed_later_due_earlier)
{
    static const char yaml[] =
        "format: 1\n"
        "rules:\n"
        "  - {id: 7, name: far, severity: low, match: [{content: A}, "
        "{isdataat: 20, relative: true}]}\n"
        "  - {id: 8, name: near, severity: low, match: [{content: B}, "
        "{isdataat: 1, relative: true}]}\n";
    static const char data[] = "ABxxxxxxxxxxxxxxxxxxxxxxx";
    vpt_engine t;
    vpt_build(yaml, 1, NULL, &t);
    for (size_t k = 0; k < vpt_n_chunk_sizes; k++) {
        vpt_events ev;
        vpt_scan(&t, 80, VP_DIR_TO_SERVER, data, strlen(data), vpt_chunk_sizes[k], &ev);
        ck_assert_uint_eq(ev.n, 2);
        ck_assert_uint_eq(ev.ev[0].rule_id, 8);
        ck_assert_uint_eq(ev.ev[0].offset, 4);
        ck_assert_uint_eq(ev.ev[1].rule_id, 7);
        ck_assert_uint_eq(ev.ev[1].offset, 22);
    }
    int fired = 0;
    vp_stream_t *s;
    ck_assert_int_eq(vp_stream_open(t.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, count_event,
                                    &fired, &s),
                     VP_OK);
    ck_assert_int_eq(vp_stream_scan(s, data, 4, t.scratch), VP_OK);
    ck_assert_int_eq(fired, 1);
    ck_assert_int_eq(vp_stream_close(s, t.scratch), VP_OK);
    vp_stream_free(s);
    vpt_free(&t);
}
END_TEST

static Suite *language_suite(void)
{
    Suite *s = suite_create("language");
    TCase *tc = tcase_create("cases");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_case, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_loop_test(tc, test_gap_case, 0, (int)(sizeof(gap_cases) / sizeof(gap_cases[0])));
    tcase_add_test(tc, test_ports_and_direction);
    tcase_add_test(tc, test_isdataat_armed_later_due_earlier);
    tcase_add_loop_test(tc, test_isdataat_in_the_same_call, 0,
                        (int)(sizeof(arrivals) / sizeof(arrivals[0])));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vp_test_run_suite(language_suite());
}
