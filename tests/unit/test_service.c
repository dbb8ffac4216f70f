/* `service: http`: recognition by the first bytes of a stream (or of its
 * linked peer), held rules, gaps, and every case at every chunk size. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static const char *rules =
    "format: 1\n"
    "rules:\n"
    "  - {id: 1, name: evil in http, severity: high, service: http, direction: any, match: [{content: evil}]}\n"
    "  - {id: 2, name: evil anywhere, severity: high, direction: any, match: [{content: evil}]}\n"
    "  - {id: 3, name: starts GE, severity: low, service: http, match: [{content: GE, depth: 2}]}\n"
    "  - {id: 4, name: no evil in http, severity: low, service: http, direction: any, match: [{content: evil, negate: true}]}\n"
    "  - {id: 5, name: explicit any, severity: low, service: any, direction: any, match: [{content: evil}]}\n";

static vpt_engine eng;

static void setup(void)
{
    vpt_build(rules, 1, NULL, &eng);
}

static void teardown(void)
{
    vpt_free(&eng);
}

static int64_t fires_at(const char *s, vp_direction dir, uint32_t id)
{
    return vpt_fires_at(&eng, 80, dir, s, strlen(s), id);
}

static const char *const methods[] = {
    "GET", "PUT", "POST", "HEAD", "TRACE", "OPTIONS", "CONNECT", "DELETE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "CHECKOUT",
    "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL", "REPORT", "MKWORKSPACE", "MKACTIVITY",
    "MERGE", "INVALID", "VERSION-CONTROL", "BASELINE-CONTROL",
};

START_TEST(test_every_method_with_space_or_tab)
{
    char buf[64];
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        snprintf(buf, sizeof buf, "%s%cevil", methods[i], i % 2 ? '\t' : ' ');
        int64_t want = (int64_t)strlen(methods[i]) + 5;
        ck_assert_msg(fires_at(buf, VP_DIR_TO_SERVER, 1) == want, "%s", buf);
        ck_assert_int_eq(fires_at(buf, VP_DIR_TO_SERVER, 4), -1);
        /* a request is not a response */
        ck_assert_int_eq(fires_at(buf, VP_DIR_TO_CLIENT, 1), -1);
    }
}
END_TEST

START_TEST(test_not_http_starts)
{
    static const char *const starts[] = {
        "get /evil",        /* case matters */
        "GETevil",          /* no blank */
        "GETX /evil",
        "FOO /evil HTTP/1.1\r\n",
        " GET /evil",       /* not at the start */
        "\r\nGET /evil",
        "HTTP/1.1 200 evil",
        "evil",
        "BASELINE-CONTROLevil",
    };
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        ck_assert_msg(fires_at(starts[i], VP_DIR_TO_SERVER, 1) == -1, "%s", starts[i]);
        /* the same conditions without a service fire */
        ck_assert_int_ge(fires_at(starts[i], VP_DIR_TO_SERVER, 2), 0);
        ck_assert_int_ge(fires_at(starts[i], VP_DIR_TO_SERVER, 5), 0);
    }
}
END_TEST

START_TEST(test_responses)
{
    ck_assert_int_eq(fires_at("HTTP/1.1 200 OK\r\n\r\nevil", VP_DIR_TO_CLIENT, 1), 23);
    ck_assert_int_eq(fires_at("HTTP/1.0 404 evil", VP_DIR_TO_CLIENT, 1), 17);
    ck_assert_int_eq(fires_at("HTTP/0.9evil", VP_DIR_TO_CLIENT, 1), 12);
    ck_assert_int_eq(fires_at("HTTP/2.0 200 evil", VP_DIR_TO_CLIENT, 1), -1);
    ck_assert_int_eq(fires_at("HTTP/1.2 200 evil", VP_DIR_TO_CLIENT, 1), -1);
    ck_assert_int_eq(fires_at("http/1.1 200 evil", VP_DIR_TO_CLIENT, 1), -1);
    ck_assert_int_eq(fires_at("HTTP/1.1 200 evil", VP_DIR_TO_CLIENT, 2), 17);
}
END_TEST

/* The conditions hold before the stream is recognised: the rule waits and
 * fires where the recognising byte arrives. */
START_TEST(test_held_until_recognised)
{
    ck_assert_int_eq(fires_at("GET / HTTP/1.1\r\n", VP_DIR_TO_SERVER, 3), 4);
    ck_assert_int_eq(fires_at("GEX / HTTP/1.1\r\n", VP_DIR_TO_SERVER, 3), -1);
    ck_assert_int_eq(fires_at("GE", VP_DIR_TO_SERVER, 3), -1);   /* ends undecided */
    ck_assert_int_eq(fires_at("GET", VP_DIR_TO_SERVER, 3), -1);
    ck_assert_int_eq(fires_at("GET ", VP_DIR_TO_SERVER, 3), 4);
    /* a negation decided at the end */
    ck_assert_int_eq(fires_at("POST /x HTTP/1.1\r\n\r\n", VP_DIR_TO_SERVER, 4), 20);
    ck_assert_int_eq(fires_at("POSTX /x", VP_DIR_TO_SERVER, 4), -1);
}
END_TEST

START_TEST(test_gaps)
{
    vpt_events ev;
    /* a gap before the deciding bytes: the start is lost, not HTTP */
    vpt_scan_with_gaps(&eng, "GE~T /evil", 3, 0, &ev);
    ck_assert_int_eq(vpt_offset_of(&ev, 1), -1);
    ck_assert_int_ge(vpt_offset_of(&ev, 2), 0);
    vpt_scan_with_gaps(&eng, "~GET /evil", 3, 0, &ev);
    ck_assert_int_eq(vpt_offset_of(&ev, 1), -1);
    /* a gap after recognition changes nothing */
    for (size_t k = 0; k < vpt_n_chunk_sizes; k++) {
        vpt_scan_with_gaps(&eng, "GET /a~evil", 10, vpt_chunk_sizes[k], &ev);
        ck_assert_int_eq(vpt_offset_of(&ev, 1), 20);
    }
}
END_TEST

/* Linked streams share recognition, as one flow does in Suricata. */
START_TEST(test_linked_peer_recognises)
{
    vpt_events req, resp;
    vp_stream_t *cs, *ss;
    vpt_open_pair(&eng, 80, &req, &resp, &cs, &ss);
    ck_assert_int_eq(vp_stream_link(cs, ss), VP_OK);
    /* an odd request: not HTTP by itself; the rule holds and waits */
    ck_assert_int_eq(vp_stream_scan(cs, "FOO /evil", 9, eng.scratch), VP_OK);
    ck_assert_int_eq(vpt_offset_of(&req, 1), -1);
    ck_assert_int_eq(vpt_offset_of(&req, 2), 9);
    /* the response is HTTP; the request stream learns it at its next call */
    ck_assert_int_eq(vp_stream_scan(ss, "HTTP/1.1 400 Bad\r\n", 18, eng.scratch), VP_OK);
    ck_assert_int_eq(vpt_offset_of(&req, 1), -1);
    ck_assert_int_eq(vp_stream_scan(cs, "\r\n", 2, eng.scratch), VP_OK);
    ck_assert_int_eq(vpt_offset_of(&req, 1), 9);
    ck_assert_int_eq(vp_stream_close(cs, eng.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_close(ss, eng.scratch), VP_OK);
    ck_assert_int_eq(vpt_offset_of(&resp, 4), 18);
    vp_stream_free(cs);
    vp_stream_free(ss);
}
END_TEST

/* Unlinked, or linked to a stream that is not HTTP either: nothing. */
START_TEST(test_peer_not_http)
{
    vpt_events req, resp;
    vp_stream_t *cs, *ss;
    vpt_open_pair(&eng, 80, &req, &resp, &cs, &ss);
    ck_assert_int_eq(vp_stream_link(cs, ss), VP_OK);
    ck_assert_int_eq(vp_stream_scan(cs, "FOO /evil", 9, eng.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_scan(ss, "SSH-2.0 evil", 12, eng.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_close(cs, eng.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_close(ss, eng.scratch), VP_OK);
    ck_assert_int_eq(vpt_offset_of(&req, 1), -1);
    ck_assert_int_eq(vpt_offset_of(&resp, 1), -1);
    ck_assert_int_eq(vpt_offset_of(&resp, 2), 12);
    vp_stream_free(cs);
    vp_stream_free(ss);
}
END_TEST

START_TEST(test_rule_info)
{
    vp_rule_info_t info;
    info.size = sizeof info;
    ck_assert_int_eq(vp_bundle_rule_by_id(eng.bundle, 1, &info), VP_OK);
    ck_assert_int_eq(info.service, VP_SERVICE_HTTP);
    info.size = sizeof info;
    ck_assert_int_eq(vp_bundle_rule_by_id(eng.bundle, 2, &info), VP_OK);
    ck_assert_int_eq(info.service, VP_SERVICE_ANY);
    info.size = sizeof info;
    ck_assert_int_eq(vp_bundle_rule_by_id(eng.bundle, 5, &info), VP_OK);
    ck_assert_int_eq(info.service, VP_SERVICE_ANY);
}
END_TEST

/* An engine whose enabled rules have no service keeps no recognition state,
 * and a disabled service rule never fires. */
START_TEST(test_disabled_service_rule)
{
    vpt_engine e2;
    vp_engine_options_t *o;
    ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
    uint32_t off[] = {1, 3, 4};
    ck_assert_int_eq(vp_engine_options_disable(o, off, 3), VP_OK);
    vpt_build(rules, 0, o, &e2);
    vp_engine_options_free(o);
    vpt_events ev;
    vpt_scan(&e2, 80, VP_DIR_TO_SERVER, "GET /evil", 9, 0, &ev);
    ck_assert_int_eq(vpt_offset_of(&ev, 1), -1);
    ck_assert_int_eq(vpt_offset_of(&ev, 2), 9);
    vpt_free(&e2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("service");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_every_method_with_space_or_tab);
    tcase_add_test(tc, test_not_http_starts);
    tcase_add_test(tc, test_responses);
    tcase_add_test(tc, test_held_until_recognised);
    tcase_add_test(tc, test_gaps);
    tcase_add_test(tc, test_linked_peer_recognises);
    tcase_add_test(tc, test_peer_not_http);
    tcase_add_test(tc, test_rule_info);
    tcase_add_test(tc, test_disabled_service_rule);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vp_test_run_suite(suite());
}
