/* Flowbits: set/unset/toggle when a rule fires, isset/isnotset checked
 * before it fires (and again at later matches), noalert, linked streams
 * sharing one flow's bits, and HTTP rules checked per message. */
#include <string.h>

#include "testutil.h"

static const char *rules =
    "format: 1\n"
    "rules:\n"
    "  - {id: 1, name: login, severity: low, action: detect, noalert: true, direction: any,\n"
    "     flowbits: [{set: login}], match: [{content: LOGIN}]}\n"
    "  - {id: 2, name: evil after login, severity: high, direction: any,\n"
    "     flowbits: [{isset: login}], match: [{content: evil}]}\n"
    "  - {id: 3, name: evil before login, severity: low, action: detect, direction: any,\n"
    "     flowbits: [{isnotset: login}], match: [{content: evil}]}\n"
    "  - {id: 4, name: logout, severity: low, action: detect, noalert: true, direction: any,\n"
    "     flowbits: [{unset: login}], match: [{content: LOGOUT}]}\n"
    "  - {id: 5, name: flip, severity: low, action: detect, noalert: true, direction: any,\n"
    "     flowbits: [{toggle: mode}], match: [{content: FLIP}]}\n"
    "  - {id: 6, name: mode on and marker, severity: low, action: detect, direction: any,\n"
    "     flowbits: [{isset: mode}], match: [{content: MARK}]}\n"
    "  - {id: 7, name: early evil after login, severity: low, action: detect, direction: any,\n"
    "     flowbits: [{isset: login}], match: [{content: evil, depth: 6}]}\n"
    "  - {id: 8, name: uri after login, severity: low, action: detect,\n"
    "     flowbits: [{isset: web.login}], match: [{content: /admin, buffer: http.uri}]}\n"
    "  - {id: 9, name: web login, severity: low, action: detect, noalert: true,\n"
    "     flowbits: [{set: web.login}], match: [{content: /LOGIN, buffer: http.uri}]}\n"
    /* a regex head and a relative content: a later match of the content
     * alone is a point to check again */
    "  - {id: 11, name: xy seen, severity: low, action: detect, noalert: true, direction: any,\n"
    "     flowbits: [{set: xy}], match: [{content: xy}]}\n"
    "  - {id: 12, name: regex then a, severity: low, action: detect,\n"
    "     flowbits: [{isset: xy}], match: [{regex: '(a|b)c?d', flags: i},\n"
    "     {content: a, distance: -10, within: 15}]}\n"
    /* held for HTTP recognition, then still checked */
    "  - {id: 10, name: GE after login, severity: low, action: detect, service: http,\n"
    "     flowbits: [{isset: login}], match: [{content: GE, depth: 2}]}\n";

static vpt_engine eng;

static void setup(void)
{
    vpt_build(rules, 1, NULL, &eng);
}

static void teardown(void)
{
    vpt_free(&eng);
}

static int64_t fires_at(const char *s, uint32_t id)
{
    return vpt_fires_at(&eng, 80, VP_DIR_TO_SERVER, s, strlen(s), id);
}

START_TEST(test_set_then_isset)
{
    ck_assert_int_eq(fires_at("LOGIN evil", 2), 10);
    ck_assert_int_eq(fires_at("LOGIN evil", 3), -1);
    ck_assert_int_eq(fires_at("evil", 2), -1);
    ck_assert_int_eq(fires_at("evil", 3), 4);
    /* a noalert rule has no event of its own */
    ck_assert_int_eq(fires_at("LOGIN evil", 1), -1);
}
END_TEST

/* The conditions hold before the bit is set: the rule checks again at each
 * later match of its patterns. */
START_TEST(test_checked_again_at_later_matches)
{
    ck_assert_int_eq(fires_at("evil LOGIN", 2), -1);
    ck_assert_int_eq(fires_at("evil LOGIN evil", 2), 15);
    ck_assert_int_eq(fires_at("evil LOGIN evil", 3), 4);
    ck_assert_int_eq(fires_at("evil LOGIN xx evil evil", 2), 18);
    /* a later match outside the condition's window does not count */
    ck_assert_int_eq(fires_at("evil LOGIN evil", 7), -1);
    ck_assert_int_eq(fires_at("LOGIN evil", 7), -1); /* evil ends past depth 6 */
}
END_TEST

/* A service rule held until the stream is recognised is checked when it
 * is released (regression: release fired it without the check). */
START_TEST(test_service_release_checks_bits)
{
    ck_assert_int_eq(fires_at("GET / HTTP/1.1\r\n\r\n", 10), -1);
}
END_TEST

/* Regression (differential test, seed 14): the retry was skipped for a
 * relative element whose chain had no state left. */
START_TEST(test_retry_on_relative_element)
{
    ck_assert_int_eq(fires_at("aAd xy a", 12), 8);
    ck_assert_int_eq(fires_at("aAd xy b", 12), -1);
    ck_assert_int_eq(fires_at("xy aAd", 12), 6);
}
END_TEST

START_TEST(test_unset_and_toggle)
{
    ck_assert_int_eq(fires_at("LOGIN LOGOUT evil", 2), -1);
    ck_assert_int_eq(fires_at("LOGIN LOGOUT evil", 3), 17);
    ck_assert_int_eq(fires_at("LOGOUT LOGIN evil", 2), 17);
    ck_assert_int_eq(fires_at("FLIP MARK", 6), 9);
    /* the toggling rule fires once per stream: the second FLIP does nothing */
    ck_assert_int_eq(fires_at("FLIP FLIP MARK", 6), 14);
    ck_assert_int_eq(fires_at("MARK FLIP", 6), -1);
}
END_TEST

/* noalert rules never block; the checker (action block) does. */
START_TEST(test_noalert_verdict)
{
    vpt_events ev;
    ck_assert_int_eq(vpt_scan(&eng, 80, VP_DIR_TO_SERVER, "LOGIN", 5, 0, &ev), VP_VERDICT_ALLOW);
    ck_assert_uint_eq(ev.n, 0);
    ck_assert_int_eq(vpt_scan(&eng, 80, VP_DIR_TO_SERVER, "LOGIN evil", 10, 0, &ev),
                     VP_VERDICT_BLOCK);
}
END_TEST

/* Linked streams are one flow: a bit set in one direction is seen in the
 * other, also when it was set before the link. */
START_TEST(test_linked_streams_share_bits)
{
    vpt_events req, resp;
    vp_stream_t *cs, *ss;
    vpt_open_pair(&eng, 80, &req, &resp, &cs, &ss);
    ck_assert_int_eq(vp_stream_scan(cs, "LOGIN", 5, eng.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_link(cs, ss), VP_OK);
    ck_assert_int_eq(vp_stream_scan(ss, "evil", 4, eng.scratch), VP_OK);
    ck_assert_int_eq(vpt_offset_of(&resp, 2), 4);
    ck_assert_int_eq(vpt_offset_of(&resp, 3), -1);
    /* the client logs out; the response stream sees it */
    ck_assert_int_eq(vp_stream_scan(cs, " LOGOUT", 7, eng.scratch), VP_OK);
    /* freeing one side leaves the other with the flow's bits as they were */
    vp_stream_free(cs);
    ck_assert_int_eq(vp_stream_scan(ss, " FLIP MARK", 10, eng.scratch), VP_OK);
    ck_assert_int_eq(vpt_offset_of(&resp, 6), 14);
    ck_assert_int_eq(vp_stream_close(ss, eng.scratch), VP_OK);
    vp_stream_free(ss);
}
END_TEST

START_TEST(test_unlinked_streams_do_not_share)
{
    vpt_events req, resp;
    vp_stream_t *cs, *ss;
    vpt_open_pair(&eng, 80, &req, &resp, &cs, &ss);
    ck_assert_int_eq(vp_stream_scan(cs, "LOGIN", 5, eng.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_scan(ss, "evil", 4, eng.scratch), VP_OK);
    ck_assert_int_eq(vpt_offset_of(&resp, 2), -1);
    ck_assert_int_eq(vpt_offset_of(&resp, 3), 4);
    vp_stream_free(cs);
    vp_stream_free(ss);
}
END_TEST

/* A bit the response side set reaches the request side once linked, and
 * the link merges what both sides had. */
START_TEST(test_link_merges_bits)
{
    vpt_events req, resp;
    vp_stream_t *cs, *ss;
    vpt_open_pair(&eng, 80, &req, &resp, &cs, &ss);
    ck_assert_int_eq(vp_stream_scan(ss, "LOGIN", 5, eng.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_scan(cs, "FLIP", 4, eng.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_link(cs, ss), VP_OK);
    ck_assert_int_eq(vp_stream_scan(cs, " evil MARK", 10, eng.scratch), VP_OK);
    ck_assert_int_eq(vpt_offset_of(&req, 2), 9);
    ck_assert_int_eq(vpt_offset_of(&req, 6), 14);
    ck_assert_int_eq(vp_stream_scan(ss, " MARK", 5, eng.scratch), VP_OK);
    ck_assert_int_eq(vpt_offset_of(&resp, 6), 10);
    vp_stream_free(ss);
    vp_stream_free(cs);
}
END_TEST

/* HTTP rules are checked per message: a message before the login does not
 * fire, the next one after it does. */
START_TEST(test_http_rule_per_message)
{
    const char *s = "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n"
                    "POST /LOGIN HTTP/1.1\r\nHost: a\r\n\r\n"
                    "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n";
    int64_t at = fires_at(s, 8);
    ck_assert_int_ge(at, 0);
    ck_assert_int_gt(at, (int64_t)strlen("GET /admin HTTP/1.1\r\nHost: a\r\n\r\nPOST /LOGIN"));
    ck_assert_int_eq(fires_at("GET /admin HTTP/1.1\r\nHost: a\r\n\r\n", 8), -1);
}
END_TEST

START_TEST(test_rule_info)
{
    vp_rule_info_t info;
    info.size = sizeof info;
    ck_assert_int_eq(vp_bundle_rule_by_id(eng.bundle, 1, &info), VP_OK);
    ck_assert_int_eq(info.noalert, 1);
    ck_assert_uint_eq(info.flowbit_count, 1);
    info.size = sizeof info;
    ck_assert_int_eq(vp_bundle_rule_by_id(eng.bundle, 2, &info), VP_OK);
    ck_assert_int_eq(info.noalert, 0);
    ck_assert_uint_eq(info.flowbit_count, 1);
}
END_TEST

/* Disabled setters set nothing. */
START_TEST(test_disabled_setter)
{
    vpt_engine e2;
    vp_engine_options_t *o;
    ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
    uint32_t off[] = {1};
    ck_assert_int_eq(vp_engine_options_disable(o, off, 1), VP_OK);
    vpt_build(rules, 0, o, &e2);
    vp_engine_options_free(o);
    vpt_events ev;
    vpt_scan(&e2, 80, VP_DIR_TO_SERVER, "LOGIN evil", 10, 0, &ev);
    ck_assert_int_eq(vpt_offset_of(&ev, 2), -1);
    ck_assert_int_eq(vpt_offset_of(&ev, 3), 10);
    vpt_free(&e2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("flowbits");
    TCase *tc = tcase_create("flowbits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_set_then_isset);
    tcase_add_test(tc, test_checked_again_at_later_matches);
    tcase_add_test(tc, test_unset_and_toggle);
    tcase_add_test(tc, test_service_release_checks_bits);
    tcase_add_test(tc, test_retry_on_relative_element);
    tcase_add_test(tc, test_noalert_verdict);
    tcase_add_test(tc, test_linked_streams_share_bits);
    tcase_add_test(tc, test_unlinked_streams_do_not_share);
    tcase_add_test(tc, test_link_merges_bits);
    tcase_add_test(tc, test_http_rule_per_message);
    tcase_add_test(tc, test_rule_info);
    tcase_add_test(tc, test_disabled_setter);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vp_test_run_suite(suite());
}
