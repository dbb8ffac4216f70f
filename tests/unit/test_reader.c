/*
 * Reader tests: YAML rule sources straight into vp_reader_parse.  Good rules
 * must give the exact AST values; every language error must give exactly one
 * diagnostic with the expected code, severity, position, rule id and text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compile/ast.h"
#include "testutil.h"

/* ------------------------------------------------------------ helpers */

typedef struct parsed {
    vp_src_file file;
    vp_diags diags;
} parsed;

static void parse_len(parsed *p, const char *yaml, size_t len)
{
    memset(p, 0, sizeof *p);
    int rc = vp_reader_parse("t.yaml", (const uint8_t *)yaml, len, &p->file, &p->diags);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(p->diags.oom, 0);
}

static void parse(parsed *p, const char *yaml)
{
    parse_len(p, yaml, strlen(yaml));
}

static void parsed_free(parsed *p)
{
    vp_src_file_free(&p->file);
    vp_diags_free(&p->diags);
}

/* All diagnostics as text, for failure messages. */
static const char *all_diags(const parsed *p)
{
    static char buf[8192];
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < p->diags.n && used < sizeof buf; i++) {
        const vp_diag *d = &p->diags.v[i];
        int n = snprintf(buf + used, sizeof buf - used, "\n  %u:%u [sev %d code %d rule %u] %s",
                         d->line, d->col, d->severity, d->code, d->rule_id, d->message);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

static void expect_diag(const parsed *p, size_t i, vp_diag_severity sev, vp_diag_code code,
                        uint32_t line, uint32_t col, uint32_t rule_id, const char *message)
{
    ck_assert_msg(i < p->diags.n, "no diagnostic #%zu; got:%s", i, all_diags(p));
    const vp_diag *d = &p->diags.v[i];
    ck_assert_msg(d->severity == sev && d->code == code && d->line == line && d->col == col &&
                      d->rule_id == rule_id && strcmp(d->message, message) == 0,
                  "diagnostic #%zu: expected %u:%u [sev %d code %d rule %u] %s; got:%s", i, line,
                  col, sev, code, rule_id, message, all_diags(p));
    ck_assert_str_eq(d->file, "t.yaml");
}

static void expect_no_diags(const parsed *p)
{
    ck_assert_msg(p->diags.n == 0, "unexpected diagnostics:%s", all_diags(p));
    ck_assert_uint_eq(p->diags.errors, 0);
}

static void expect_bytes(const uint8_t *got, size_t got_len, const char *want, size_t want_len)
{
    ck_assert_uint_eq(got_len, want_len);
    ck_assert_msg(memcmp(got, want, want_len) == 0, "bytes differ");
    ck_assert_int_eq(got[got_len], 0); /* always NUL-terminated */
}

/* A rule with its required fields; the rule mapping is at 3:5, its id at 3:9,
 * and further fields start on line 6. */
#define HEAD "format: 1\nrules:\n  - id: 5\n    name: n\n    severity: low\n"
/* A valid match list on lines 6-7 (the condition mapping at 7:9). */
#define MATCH "    match:\n      - content: abc\n"

/* ------------------------------------------------------------ one error each */

typedef struct diag_case {
    const char *yaml;
    vp_diag_severity sev;
    vp_diag_code code;
    uint32_t line, col, rule_id;
    const char *message;
} diag_case;

#define E VP_DIAG_ERROR
#define W VP_DIAG_WARNING

static const diag_case diag_cases[] = {
    /* file level */
    {"format: 2\nrules: []\n", E, VP_D_FORMAT, 1, 9, 0, "unsupported format 2, expected 1"},
    {"format: \"1\"\nrules: []\n", E, VP_D_FORMAT, 1, 9, 0,
     "unsupported format \"1\", expected 1"},
    {"rules: []\n", E, VP_D_MISSING, 1, 1, 0, "the file is missing required field 'format'"},
    {"format: 1\n", E, VP_D_MISSING, 1, 1, 0, "the file is missing required field 'rules'"},
    {"format: 1\nrules: []\nbogus: 1\nx-note: {a: [1]}\n", E, VP_D_UNKNOWN_FIELD, 3, 1, 0,
     "unknown top-level field 'bogus'"},
    {"", E, VP_D_STRUCTURE, 1, 1, 0,
     "the file is empty: expected a mapping with 'format' and 'rules'"},
    {"# only a comment\n", E, VP_D_STRUCTURE, 1, 1, 0,
     "the file is empty: expected a mapping with 'format' and 'rules'"},
    {"- 1\n- 2\n", E, VP_D_STRUCTURE, 1, 1, 0,
     "the file must be a mapping with 'format' and 'rules', got a list"},
    {"format: 1\nrules: {}\n", E, VP_D_STRUCTURE, 2, 8, 0,
     "rules must be a list of rules, got an empty mapping"},
    {"format: 1\nrules: [1]\n", E, VP_D_STRUCTURE, 2, 9, 0, "a rule must be a mapping, got \"1\""},
    {"format: 1\nformat: 1\nrules: []\n", E, VP_D_DUPLICATE_KEY, 2, 1, 0,
     "duplicate key 'format' (first at 1:1)"},
    {"format: 1\nrules: []\nx-meta: {a: 1, b: 2, a: 3}\n", E, VP_D_DUPLICATE_KEY, 3, 22, 0,
     "duplicate key 'a' (first at 3:10)"},
    {"format: 1\nrules: []\n---\nformat: 1\n", E, VP_D_STRUCTURE, 4, 1, 0,
     "a rule file holds one YAML document; another one starts here"},
    {"format: 1\nrules:\n  - id: 1\n   name: x\n", E, VP_D_YAML, 4, 4, 0,
     "did not find expected '-' indicator (while parsing a block collection at 3:3)"},
    {"format: 1\nrules: []\nx: \"a\\q\"\n", E, VP_D_YAML, 3, 6, 0,
     "found unknown escape character (while parsing a quoted scalar at 3:4)"},
    {"format: 1\nrules: [\n", E, VP_D_YAML, 3, 1, 0,
     "did not find expected node content (while parsing a flow node)"},
    {"format: 1\nrules: []\nx: \"\xff\"\n", E, VP_D_YAML, 3, 5, 0,
     "invalid leading UTF-8 octet (0xff)"},

    /* rule fields */
    {"format: 1\nrules:\n  - id: 0\n    name: n\n    severity: low\n" MATCH, E, VP_D_TYPE, 3, 9,
     0, "id must be an integer 1..4294967295, got \"0\""},
    {"format: 1\nrules:\n  - id: 4294967296\n    name: n\n    severity: low\n" MATCH, E,
     VP_D_TYPE, 3, 9, 0, "id must be an integer 1..4294967295, got \"4294967296\""},
    {"format: 1\nrules:\n  - id: \"5\"\n    name: n\n    severity: low\n" MATCH, E, VP_D_TYPE, 3,
     9, 0, "id must be an integer 1..4294967295, got \"5\""},
    {"format: 1\nrules:\n  - id: 010\n    name: n\n    severity: low\n" MATCH, E, VP_D_TYPE, 3,
     9, 0, "id must be an integer 1..4294967295, got \"010\""},
    {"format: 1\nrules:\n  - id: 99999999999999999999999\n    name: n\n    severity: low\n" MATCH,
     E, VP_D_TYPE, 3, 9, 0, "id must be an integer 1..4294967295, got \"99999999999999999999999\""},
    {"format: 1\nrules:\n  - name: n\n    severity: low\n" MATCH, E, VP_D_MISSING, 3, 5, 0,
     "rule is missing required field 'id'"},
    {"format: 1\nrules:\n  - id: 5\n    severity: low\n" MATCH, E, VP_D_MISSING, 3, 5, 5,
     "rule is missing required field 'name'"},
    {"format: 1\nrules:\n  - id: 5\n    name: n\n" MATCH, E, VP_D_MISSING, 3, 5, 5,
     "rule is missing required field 'severity'"},
    {HEAD, E, VP_D_MISSING, 3, 5, 5, "rule is missing required field 'match'"},
    {"format: 1\nrules:\n  - id: 5\n    name: \"\"\n    severity: low\n" MATCH, E, VP_D_TYPE, 4,
     11, 5, "name must be a non-empty string, got \"\""},
    {"format: 1\nrules:\n  - id: 5\n    name: \"a\\nb\"\n    severity: low\n" MATCH, E, VP_D_TYPE,
     4, 11, 5, "name must be a single line, got \"a\\nb\""},
    {"format: 1\nrules:\n  - id: 5\n    name:\n    severity: low\n" MATCH, E, VP_D_TYPE, 4, 10, 5,
     "name must be a non-empty string, got \"\""},
    {HEAD "    cve: [CVE-21-1]\n" MATCH, E, VP_D_TYPE, 6, 11, 5,
     "malformed CVE id \"CVE-21-1\", expected CVE-YYYY-NNNN"},
    {HEAD "    cve: [\"CVE-2021-123\"]\n" MATCH, E, VP_D_TYPE, 6, 11, 5,
     "malformed CVE id \"CVE-2021-123\", expected CVE-YYYY-NNNN"},
    {HEAD "    cve: [cve-2021-1234]\n" MATCH, E, VP_D_TYPE, 6, 11, 5,
     "malformed CVE id \"cve-2021-1234\", expected CVE-YYYY-NNNN"},
    {HEAD "    references: x\n" MATCH, E, VP_D_STRUCTURE, 6, 17, 5,
     "references must be a list of strings, got \"x\""},
    {HEAD "    tags: [{a: 1}]\n" MATCH, E, VP_D_STRUCTURE, 6, 12, 5,
     "tags entry must be a non-empty string, got a mapping"},
    {HEAD "    description: [a]\n" MATCH, E, VP_D_STRUCTURE, 6, 18, 5,
     "description must be a string, got a list"},
    {"format: 1\nrules:\n  - id: 5\n    name: n\n    severity: huge\n" MATCH, E, VP_D_TYPE, 5, 15,
     5, "severity must be one of low, medium, high, critical, got \"huge\""},
    {HEAD "    cvss: 11\n" MATCH, E, VP_D_TYPE, 6, 11, 5,
     "cvss must be a number 0.0..10.0, got \"11\""},
    {HEAD "    cvss: \"9.8\"\n" MATCH, E, VP_D_TYPE, 6, 11, 5,
     "cvss must be a number 0.0..10.0, got \"9.8\""},
    {HEAD "    cvss: -1\n" MATCH, E, VP_D_TYPE, 6, 11, 5,
     "cvss must be a number 0.0..10.0, got \"-1\""},
    {HEAD "    modes: [performance]\n" MATCH, W, VP_D_MODES, 6, 12, 5,
     "rule is in performance mode but not in security mode"},
    {HEAD "    modes: []\n" MATCH, E, VP_D_STRUCTURE, 6, 12, 5,
     "modes must be a non-empty list of performance, security, got an empty list"},
    {HEAD "    modes: [fast, security]\n" MATCH, E, VP_D_TYPE, 6, 13, 5,
     "modes entry must be one of performance, security, got \"fast\""},
    {HEAD "    action: drop\n" MATCH, E, VP_D_TYPE, 6, 13, 5,
     "action must be one of block, detect, got \"drop\""},
    {HEAD "    protocol: icmp\n" MATCH, E, VP_D_TYPE, 6, 15, 5,
     "protocol must be one of tcp, udp, got \"icmp\""},
    {HEAD "    direction: up\n" MATCH, E, VP_D_TYPE, 6, 16, 5,
     "direction must be one of to_server, to_client, any, got \"up\""},
    {HEAD "    match:\n      - byte_test: 3\n", E, VP_D_STRUCTURE, 7, 20, 5,
     "byte_test must be a mapping with bytes, op, value and optionally endian, got \"3\""},
    {HEAD "    match:\n      - byte_test: {bytes: 9, op: \"=\", value: 1}\n", E, VP_D_TYPE, 7, 28,
     5, "byte_test bytes must be at most 8, got \"9\""},
    {HEAD "    match:\n      - byte_test: {bytes: 2, op: \"==\", value: 1}\n", E, VP_D_TYPE, 7,
     35, 5, "byte_test op must be one of =, !=, <, <=, >, >=, &, !&, got \"==\""},
    {HEAD "    match:\n      - byte_test: {bytes: 2, op: \"=\", value: 1, endian: middle}\n", E,
     VP_D_TYPE, 7, 58, 5, "byte_test endian must be one of big, little, got \"middle\""},
    {HEAD "    match:\n      - byte_test: {bytes: 2, op: \"=\"}\n", E, VP_D_MISSING, 7, 20, 5,
     "byte_test needs bytes, op and value"},
    {HEAD "    match:\n      - byte_test: {bytes: 1, op: \">\", value: 255}\n", E, VP_D_CONDITION,
     7, 20, 5, "byte_test > 255 holds for no 1-byte value"},
    {HEAD "    match:\n      - byte_test: {bytes: 2, op: \"=\", value: 1}\n        nocase: true\n",
     E, VP_D_CONDITION, 8, 9, 5, "nocase does not apply to byte_test"},
    {HEAD "    match:\n      - byte_test: {bytes: 4, op: \"=\", value: 1}\n        depth: 2\n", E,
     VP_D_CONDITION, 8, 16, 5, "depth 2 is shorter than the byte_test (4 bytes)"},
    {HEAD "    flowbits: {set: a}\n" MATCH, E, VP_D_STRUCTURE, 6, 15, 5,
     "flowbits must be a non-empty list of {set|unset|toggle|isset|isnotset: NAME}, got a "
     "mapping"},
    {HEAD "    flowbits: []\n" MATCH, E, VP_D_STRUCTURE, 6, 15, 5,
     "flowbits must be a non-empty list of {set|unset|toggle|isset|isnotset: NAME}, got an "
     "empty list"},
    {HEAD "    flowbits: [{sett: a}]\n" MATCH, E, VP_D_TYPE, 6, 17, 5,
     "flowbits operation must be one of set, unset, toggle, isset, isnotset, got \"sett\""},
    {HEAD "    flowbits: [{set: \"a b\"}]\n" MATCH, E, VP_D_TYPE, 6, 22, 5,
     "a flowbit name is 1 to 255 printable characters without blanks, got \"a b\""},
    {HEAD "    flowbits: [{set: a, isset: b}]\n" MATCH, E, VP_D_STRUCTURE, 6, 16, 5,
     "a flowbits entry has one key (e.g. {isset: NAME}), got 2"},
    {HEAD "    noalert: true\n" MATCH, E, VP_D_CONDITION, 6, 14, 5,
     "noalert needs action: detect (a rule without events cannot block)"},
    {HEAD "    noalert: maybe\n    action: detect\n" MATCH, E, VP_D_TYPE, 6, 14, 5,
     "noalert must be true or false, got \"maybe\""},
    {HEAD "    service: smtp\n" MATCH, E, VP_D_TYPE, 6, 14, 5,
     "service must be one of any, http, got \"smtp\""},
    {HEAD "    protocol: udp\n    service: http\n" MATCH, E, VP_D_UNSUPPORTED, 7, 14, 5,
     "service http needs protocol tcp"},
    {HEAD "    threshold: 5\n" MATCH, E, VP_D_STRUCTURE, 6, 16, 5,
     "threshold must be a mapping with type, track, count and seconds, got \"5\""},
    {HEAD "    threshold: {type: limit, track: by_src, count: 1}\n" MATCH, E, VP_D_MISSING, 6, 16,
     5, "threshold needs type, track, count and seconds"},
    {HEAD "    threshold: {type: rate, track: by_src, count: 1, seconds: 9}\n" MATCH, E,
     VP_D_TYPE, 6, 23, 5,
     "threshold type must be one of limit, threshold, both, detection_filter, got \"rate\""},
    {HEAD "    threshold: {type: limit, track: by_flow, count: 1, seconds: 9}\n" MATCH, E,
     VP_D_TYPE, 6, 37, 5,
     "threshold track must be one of by_src, by_dst, by_both, by_rule, got \"by_flow\""},
    {HEAD "    threshold: {type: limit, track: by_src, count: 0, seconds: 9}\n" MATCH, E,
     VP_D_TYPE, 6, 52, 5, "threshold count must be at least 1, got \"0\""},
    {HEAD "    threshold: {type: limit, track: by_src, count: 1, seconds: 9, rate: 2}\n" MATCH, E,
     VP_D_UNKNOWN_FIELD, 6, 67, 5, "unknown threshold field 'rate'"},
    {HEAD "    threshold: {type: both, track: by_src, count: 2, seconds: 9}\n" MATCH, E,
     VP_D_CONDITION, 6, 16, 5,
     "a block rule's threshold must be of type limit (the verdict of a stream cannot wait for "
     "matches in other streams); use action: detect"},
    {HEAD "    action: detect\n    noalert: true\n"
          "    threshold: {type: limit, track: by_src, count: 1, seconds: 9}\n" MATCH, E,
     VP_D_CONDITION, 8, 16, 5, "a noalert rule has no events for a threshold to thin out"},
    {HEAD "    service: http\n    match:\n      - content: a\n        buffer: http.uri\n", E,
     VP_D_CONDITION, 9, 17, 5,
     "a rule with service http inspects the stream only, but this condition inspects http.uri "
     "(HTTP buffers exist only in HTTP messages anyway)"},
    {HEAD "    service: http\n    direction: any\n    match:\n      - anomaly: http.header.limit\n",
     E, VP_D_CONDITION, 9, 9, 5,
     "a rule with service http inspects the stream only, but this condition inspects HTTP "
     "anomalies (HTTP buffers exist only in HTTP messages anyway)"},
    {HEAD "    ports: \"90-80\"\n" MATCH, E, VP_D_TYPE, 6, 12, 5,
     "ports range 90-80 must start with the lower port, got \"90-80\""},
    {HEAD "    ports: [80, 70000]\n" MATCH, E, VP_D_TYPE, 6, 17, 5,
     "ports must be \"any\", a port 0..65535, a range like 8000-8100, or a list of those, "
     "got \"70000\""},
    {HEAD "    ports: \"80,,81\"\n" MATCH, E, VP_D_TYPE, 6, 12, 5,
     "ports must be \"any\", a port 0..65535, a range like 8000-8100, or a list of those, "
     "got \"80,,81\""},
    {HEAD "    ports: [[80]]\n" MATCH, E, VP_D_STRUCTURE, 6, 13, 5,
     "ports must be \"any\", a port 0..65535, a range like 8000-8100, or a list of those, "
     "got a list"},
    {HEAD "    foo: 1\n    x-foo: 1\n" MATCH, E, VP_D_UNKNOWN_FIELD, 6, 5, 5,
     "unknown rule field 'foo'"},
    {HEAD "    match: []\n", E, VP_D_STRUCTURE, 6, 12, 5,
     "match must be a non-empty list of conditions, got an empty list"},
    {HEAD "    match: [x]\n", E, VP_D_STRUCTURE, 6, 13, 5, "a condition must be a mapping, got \"x\""},
    {HEAD "    name: m\n" MATCH, E, VP_D_DUPLICATE_KEY, 6, 5, 5,
     "duplicate key 'name' (first at 4:5)"},
    {HEAD MATCH "    x-extra: {a: 1, a: 2}\n", E, VP_D_DUPLICATE_KEY, 8, 21, 5,
     "duplicate key 'a' (first at 8:15)"},

    /* conditions */
    {HEAD "    match:\n      - offset: 1\n", E, VP_D_CONDITION, 7, 9, 5,
     "a condition needs one of content, hex, regex, anomaly, isdataat, byte_test or byte_jump"},
    {HEAD "    match:\n      - content: a\n        regex: b\n", E, VP_D_CONDITION, 7, 9, 5,
     "a condition must have exactly one of content, hex, regex, anomaly, isdataat, byte_test or "
     "byte_jump, got content and regex"},
    {HEAD "    match:\n      - content: a\n      - byte_jump: 2\n        distance: 0\n"
          "      - content: b\n        distance: 0\n", E, VP_D_STRUCTURE, 8, 20, 5,
     "byte_jump must be a mapping with bytes and optionally endian, multiplier, align and "
     "post_offset, got \"2\""},
    {HEAD "    match:\n      - content: a\n      - byte_jump: {endian: big}\n        distance: 0\n"
          "      - content: b\n        distance: 0\n", E, VP_D_MISSING, 8, 20, 5,
     "byte_jump needs bytes"},
    {HEAD "    match:\n      - content: a\n      - byte_jump: {bytes: 2, align: 1}\n"
          "        distance: 0\n      - content: b\n        distance: 0\n", E, VP_D_TYPE, 8, 38, 5,
     "byte_jump align must be true or false, got \"1\""},
    {HEAD "    match:\n      - content: a\n      - byte_jump: {bytes: 2, post_offset: 65536}\n"
          "        distance: 0\n      - content: b\n        distance: 0\n", E, VP_D_TYPE, 8, 44, 5,
     "byte_jump post_offset must be at most 65535, got \"65536\""},

    {HEAD "    match:\n      - isdataat: -1\n", E, VP_D_TYPE, 7, 19, 5,
     "isdataat must be a non-negative integer, got \"-1\""},
    {HEAD "    match:\n      - isdataat: 4\n        depth: 2\n", E, VP_D_CONDITION, 8, 9, 5,
     "isdataat takes no offset, depth, distance or within (its value is the position; "
     "relative: true counts it from the previous match)"},
    {HEAD "    match:\n      - isdataat: 4\n        nocase: true\n", E, VP_D_CONDITION, 8, 9, 5,
     "nocase does not apply to isdataat"},
    {HEAD "    match:\n      - content: a\n        relative: true\n", E, VP_D_CONDITION, 8, 9, 5,
     "relative applies to isdataat only (use distance/within for a pattern)"},
    {HEAD "    match:\n      - isdataat: 1\n        endswith: true\n", E, VP_D_CONDITION, 8, 9, 5,
     "endswith applies to content, hex and regex only"},
    {HEAD "    match:\n      - content: a\n        endswith: yes\n", E, VP_D_TYPE, 8, 19, 5,
     "endswith must be true or false, got \"yes\""},
    {HEAD "    match:\n      - content: a\n        negate: true\n        endswith: true\n", E,
     VP_D_CONDITION, 9, 9, 5,
     "endswith cannot be combined with negate: a pattern that does not occur has no end to "
     "place"},
    {HEAD "    match:\n      - content: a\n      - isdataat: 1\n        relative: true\n"
          "      - content: b\n        distance: 0\n", E, VP_D_CONDITION, 10, 9, 5,
     "a relative condition cannot follow isdataat or endswith: they end their chain"},
    {HEAD "    match:\n      - content: a\n        endswith: true\n      - content: b\n"
          "        within: 4\n", E, VP_D_CONDITION, 9, 9, 5,
     "a relative condition cannot follow isdataat or endswith: they end their chain"},
    {HEAD "    match:\n      - isdataat: 1\n        relative: true\n", E, VP_D_CONDITION, 7, 9, 5,
     "the first condition cannot be relative (distance/within)"},
    {HEAD "    match:\n      - content: \"\"\n", E, VP_D_TYPE, 7, 18, 5,
     "content must be a non-empty string, got \"\""},
    {HEAD "    match:\n      - hex: \"909\"\n", E, VP_D_TYPE, 7, 14, 5,
     "hex must be pairs of hex digits like \"90 90 4a\", got \"909\""},
    {HEAD "    match:\n      - hex: \"9g\"\n", E, VP_D_TYPE, 7, 14, 5,
     "hex must be pairs of hex digits like \"90 90 4a\", got \"9g\""},
    {HEAD "    match:\n      - hex: \"9 0\"\n", E, VP_D_TYPE, 7, 14, 5,
     "hex must be pairs of hex digits like \"90 90 4a\", got \"9 0\""},
    {HEAD "    match:\n      - regex: \"\"\n", E, VP_D_TYPE, 7, 16, 5,
     "regex must be a non-empty string, got \"\""},
    {HEAD "    match:\n      - regex: a\n        flags: iq\n", E, VP_D_TYPE, 8, 16, 5,
     "flags must be letters from i, s, m, x, got \"iq\""},
    {HEAD "    match:\n      - content: a\n        flags: i\n", E, VP_D_CONDITION, 8, 9, 5,
     "flags apply to a regex only (use nocase: true for content or hex)"},
    {HEAD "    match:\n      - hex: \"41\"\n        flags: i\n", E, VP_D_CONDITION, 8, 9, 5,
     "flags apply to a regex only (use nocase: true for content or hex)"},
    {HEAD "    match:\n      - regex: a\n        nocase: true\n", E, VP_D_CONDITION, 8, 9, 5,
     "nocase applies to content and hex only (use flags: i for a regex)"},
    {HEAD "    match:\n      - content: a\n        nocase: yes\n", E, VP_D_TYPE, 8, 17, 5,
     "nocase must be true or false, got \"yes\""},
    {HEAD "    match:\n      - content: a\n        negate: 1\n", E, VP_D_TYPE, 8, 17, 5,
     "negate must be true or false, got \"1\""},
    {HEAD "    match:\n      - content: abc\n        depth: ten\n", E, VP_D_TYPE, 8, 16, 5,
     "depth must be a non-negative integer, got \"ten\""},
    {HEAD "    match:\n      - content: abc\n        depth: 0\n", E, VP_D_TYPE, 8, 16, 5,
     "depth must be at least 1, got \"0\""},
    {HEAD "    match:\n      - content: abc\n        depth: 2147483648\n", E, VP_D_TYPE, 8, 16,
     5, "depth must be at most 2147483647, got \"2147483648\""},
    {HEAD "    match:\n      - content: abc\n        offset: -1\n", E, VP_D_TYPE, 8, 17, 5,
     "offset must be a non-negative integer, got \"-1\""},
    {HEAD "    match:\n      - content: abc\n        offset: \"4\"\n", E, VP_D_TYPE, 8, 17, 5,
     "offset must be a non-negative integer, got \"4\""},
    {HEAD "    match:\n      - content: a\n      - content: b\n        distance: x\n", E,
     VP_D_TYPE, 9, 19, 5, "distance must be an integer, got \"x\""},
    {HEAD "    match:\n      - content: a\n      - content: b\n        distance: -2147483648\n",
     E, VP_D_TYPE, 9, 19, 5, "distance must be at least -2147483647, got \"-2147483648\""},
    {HEAD "    match:\n      - content: a\n      - content: b\n        within: 0\n", E,
     VP_D_TYPE, 9, 17, 5, "within must be at least 1, got \"0\""},
    {HEAD "    match:\n      - content: a\n      - content: b\n        within: -3\n", E,
     VP_D_TYPE, 9, 17, 5, "within must be a positive integer, got \"-3\""},
    {HEAD "    match:\n      - content: a\n        buffer: http.bogus\n", E, VP_D_TYPE, 8,
     17, 5, "unknown buffer 'http.bogus' (stream, http.method, http.uri, http.uri.raw, http.request_line, http.header, http.header.raw, http.header_names, http.host, http.user_agent, http.cookie, http.content_type, http.request_body, http.stat_code or http.response_body)"},
    {HEAD "    match:\n      - content: a\n        wat: 1\n        x-wat: 1\n", E,
     VP_D_UNKNOWN_FIELD, 8, 9, 5, "unknown condition field 'wat'"},
    {HEAD "    match:\n      - content: a\n        content: b\n", E, VP_D_DUPLICATE_KEY, 8, 9, 5,
     "duplicate key 'content' (first at 7:9)"},
    {HEAD "    match:\n      - content: a\n        distance: 1\n", E, VP_D_CONDITION, 7, 9, 5,
     "the first condition cannot be relative (distance/within)"},
    {HEAD "    match:\n      - content: a\n        within: 4\n", E, VP_D_CONDITION, 7, 9, 5,
     "the first condition cannot be relative (distance/within)"},
    {HEAD "    match:\n      - content: a\n        negate: true\n      - content: b\n"
          "        within: 5\n",
     E, VP_D_CONDITION, 9, 9, 5,
     "a relative condition cannot follow a negated condition: a negated condition has no "
     "match position"},
    {HEAD "    match:\n      - content: a\n      - regex: b\n        within: 5\n", E,
     VP_D_UNSUPPORTED, 8, 9, 5, "within on a regex is not supported yet (use distance alone)"},
    {HEAD "    match:\n      - content: a\n      - content: abc\n        within: 2\n", E,
     VP_D_CONDITION, 9, 17, 5, "within 2 is shorter than the content (3 bytes)"},
    {HEAD "    match:\n      - content: abcdef\n        depth: 3\n", E, VP_D_CONDITION, 8, 16, 5,
     "depth 3 is shorter than the content (6 bytes)"},
    {HEAD "    match:\n      - hex: \"00 01 02\"\n        depth: 2\n", E, VP_D_CONDITION, 8, 16,
     5, "depth 2 is shorter than the content (3 bytes)"},
    {HEAD "    match:\n      - content: a\n      - content: b\n        distance: 70000\n"
          "        within: 10\n",
     E, VP_D_LIMIT, 10, 17, 5,
     "distance + within = 70010 exceeds the lookback limit of 65536 bytes"},
    {HEAD "    match:\n      - content: a\n      - content: b\n        within: 65537\n", E,
     VP_D_LIMIT, 9, 17, 5, "distance + within = 65537 exceeds the lookback limit of 65536 bytes"},
    {HEAD "    match:\n      - content: a\n      - content: b\n        distance: -70000\n", E,
     VP_D_LIMIT, 9, 19, 5,
     "distance -70000 reaches back further than the lookback limit of 65536 bytes"},

    /* tests */
    {HEAD MATCH "    tests: x\n", E, VP_D_STRUCTURE, 8, 12, 5,
     "tests must be a list of tests, got \"x\""},
    {HEAD MATCH "    tests:\n      - x\n", E, VP_D_STRUCTURE, 9, 9, 5,
     "a test must be a mapping, got \"x\""},
    {HEAD MATCH "    tests:\n      - expect: match\n", E, VP_D_MISSING, 9, 9, 5,
     "test is missing required field 'data' (or 'hex')"},
    {HEAD MATCH "    tests:\n      - data: a\n", E, VP_D_MISSING, 9, 9, 5,
     "test is missing required field 'expect'"},
    {HEAD MATCH "    tests:\n      - data: a\n        hex: \"00\"\n        expect: match\n", E,
     VP_D_CONDITION, 9, 9, 5, "a test must have exactly one of data or hex, not both"},
    {HEAD MATCH "    tests:\n      - data: a\n        expect: maybe\n", E, VP_D_TYPE, 10, 17, 5,
     "expect must be one of match, nomatch, got \"maybe\""},
    {HEAD MATCH "    tests:\n      - data: a\n        expect: match\n        direction: any\n", E,
     VP_D_TYPE, 11, 20, 5, "direction must be one of to_server, to_client, got \"any\""},
    {HEAD MATCH "    tests:\n      - data: a\n        expect: match\n        port: 70000\n", E,
     VP_D_TYPE, 11, 15, 5, "port must be at most 65535, got \"70000\""},
    {HEAD MATCH "    tests:\n      - data: a\n        expect: match\n        port: x\n", E,
     VP_D_TYPE, 11, 15, 5, "port must be an integer 0..65535, got \"x\""},
    {HEAD MATCH "    tests:\n      - hex: \"0\"\n        expect: match\n", E, VP_D_TYPE, 9, 14, 5,
     "hex must be pairs of hex digits like \"90 90 4a\", got \"0\""},
    {HEAD MATCH "    tests:\n      - data: a\n        expect: match\n        foo: 1\n", E,
     VP_D_UNKNOWN_FIELD, 11, 9, 5, "unknown test field 'foo'"},
    {HEAD MATCH "    tests:\n      - data:\n        expect: match\n", E, VP_D_TYPE, 9, 14, 5,
     "data must be a string, got \"\""},

    /* across rules */
    {HEAD MATCH "  - id: 5\n    name: m\n    severity: low\n    match: [{content: b}]\n", E,
     VP_D_DUPLICATE_ID, 8, 9, 5, "duplicate rule id 5 (first defined at 3:9)"},
};

START_TEST(test_diag_case)
{
    const diag_case *c = &diag_cases[_i];
    parsed p;
    parse(&p, c->yaml);
    ck_assert_msg(p.diags.n == 1, "case %d: expected exactly one diagnostic, got:%s", _i,
                  all_diags(&p));
    expect_diag(&p, 0, c->sev, c->code, c->line, c->col, c->rule_id, c->message);
    ck_assert_uint_eq(p.diags.errors, c->sev == VP_DIAG_ERROR ? 1 : 0);
    parsed_free(&p);
}
END_TEST

/* ------------------------------------------------------------ good rules */

static const char full_rule[] =
    "format: 1\n"
    "ruleset: acme-endpoint\n"
    "x-owner: team\n"
    "rules:\n"
    "  - id: 1011242\n"
    "    name: Log4Shell JNDI lookup\n"
    "    description: |\n"
    "      Two lines\n"
    "      of text.\n"
    "    cve: [CVE-2021-44228, CVE-2021-45046]\n"
    "    references: [\"https://example.org/a\"]\n"
    "    tags: [exploit, rce]\n"
    "    severity: critical\n"
    "    cvss: 9.8\n"
    "    modes: [performance, security]\n"
    "    action: detect\n"
    "    protocol: udp\n"
    "    ports: [\"8000-8100, 80\", 443, \"8050-8200\", 81]\n"
    "    direction: to_client\n"
    "    x-note: anything\n"
    "    match:\n"
    "      - content: \"${jndi:\"\n"
    "        nocase: true\n"
    "        offset: 4\n"
    "        depth: 100\n"
    "        buffer: stream\n"
    "      - hex: \"90 90 4A\"\n"
    "        distance: -2\n"
    "        within: 65538\n"
    "        negate: false\n"
    "      - regex: 'ldap(s)?://[^/]+'\n"
    "        flags: ismx\n"
    "        negate: true\n"
    "        x-comment: ok\n"
    "    tests:\n"
    "      - data: \"GET /${jndi:ldap://x/a}\\r\\n\"\n"
    "        expect: match\n"
    "      - hex: \"47 45 54\"\n"
    "        expect: nomatch\n"
    "        direction: to_server\n"
    "        port: 8080\n";

START_TEST(test_full_rule)
{
    parsed p;
    parse(&p, full_rule);
    expect_no_diags(&p);
    const vp_src_file *f = &p.file;
    ck_assert_str_eq(f->path, "t.yaml");
    ck_assert_str_eq(f->ruleset, "acme-endpoint");
    ck_assert_uint_eq(f->n_rules, 1);

    const vp_src_rule *r = &f->rules[0];
    ck_assert_ptr_eq(r->file, f->path);
    ck_assert_uint_eq(r->mark.line, 5);
    ck_assert_uint_eq(r->mark.col, 5);
    ck_assert_uint_eq(r->id_mark.line, 5);
    ck_assert_uint_eq(r->id_mark.col, 9);
    ck_assert_uint_eq(r->id, 1011242);
    ck_assert_str_eq(r->name, "Log4Shell JNDI lookup");
    ck_assert_str_eq(r->description, "Two lines\nof text.\n");
    ck_assert_uint_eq(r->n_cves, 2);
    ck_assert_str_eq(r->cves[0], "CVE-2021-44228");
    ck_assert_str_eq(r->cves[1], "CVE-2021-45046");
    ck_assert_uint_eq(r->n_refs, 1);
    ck_assert_str_eq(r->refs[0], "https://example.org/a");
    ck_assert_uint_eq(r->n_tags, 2);
    ck_assert_str_eq(r->tags[0], "exploit");
    ck_assert_str_eq(r->tags[1], "rce");
    ck_assert_int_eq(r->severity, VP_SEV_CRITICAL);
    ck_assert_int_eq(r->has_cvss, 1);
    ck_assert_double_eq(r->cvss, 9.8);
    ck_assert_uint_eq(r->modes, VP_MODE_BIT(VP_MODE_PERFORMANCE) | VP_MODE_BIT(VP_MODE_SECURITY));
    ck_assert_int_eq(r->action, VP_ACTION_DETECT);
    ck_assert_int_eq(r->proto, VP_PROTO_UDP);
    ck_assert_int_eq(r->direction, VP_DIR_TO_CLIENT);
    /* 80, 81 adjacent; 8000-8100 and 8050-8200 overlap; sorted. */
    ck_assert_uint_eq(r->n_ports, 3);
    ck_assert_uint_eq(r->ports[0].lo, 80);
    ck_assert_uint_eq(r->ports[0].hi, 81);
    ck_assert_uint_eq(r->ports[1].lo, 443);
    ck_assert_uint_eq(r->ports[1].hi, 443);
    ck_assert_uint_eq(r->ports[2].lo, 8000);
    ck_assert_uint_eq(r->ports[2].hi, 8200);

    ck_assert_uint_eq(r->n_conds, 3);
    const vp_src_cond *c = &r->conds[0];
    ck_assert_uint_eq(c->mark.line, 22);
    ck_assert_uint_eq(c->mark.col, 9);
    ck_assert_uint_eq(c->pattern_mark.line, 22);
    ck_assert_uint_eq(c->pattern_mark.col, 18);
    ck_assert_int_eq(c->is_regex, 0);
    expect_bytes(c->bytes, c->len, "${jndi:", 7);
    ck_assert_uint_eq(c->flags, VP_C_NOCASE | VP_C_HAS_OFFSET | VP_C_HAS_DEPTH);
    ck_assert_uint_eq(c->atom_flags, 0);
    ck_assert_uint_eq(c->offset, 4);
    ck_assert_uint_eq(c->depth, 100);

    c = &r->conds[1];
    ck_assert_uint_eq(c->mark.line, 27);
    expect_bytes(c->bytes, c->len, "\x90\x90\x4a", 3);
    ck_assert_uint_eq(c->flags, VP_C_HAS_DISTANCE | VP_C_HAS_WITHIN);
    ck_assert_int_eq(c->distance, -2);
    ck_assert_uint_eq(c->within, 65538); /* -2 + 65538 = 65536: just at the limit */

    c = &r->conds[2];
    ck_assert_int_eq(c->is_regex, 1);
    ck_assert_str_eq((const char *)c->bytes, "ldap(s)?://[^/]+");
    ck_assert_uint_eq(c->len, strlen("ldap(s)?://[^/]+"));
    ck_assert_uint_eq(c->flags, VP_C_REGEX | VP_C_NEGATE);
    ck_assert_uint_eq(c->atom_flags,
                      VP_A_CASELESS | VP_A_DOTALL | VP_A_MULTILINE | VP_A_EXTENDED);

    ck_assert_uint_eq(r->n_tests, 2);
    const vp_src_test *t = &r->tests[0];
    ck_assert_uint_eq(t->mark.line, 36);
    ck_assert_uint_eq(t->mark.col, 9);
    expect_bytes(t->data, t->len, "GET /${jndi:ldap://x/a}\r\n", 25);
    ck_assert_int_eq(t->expect_match, 1);
    ck_assert_int_eq(t->direction, 0);
    ck_assert_int_eq(t->has_port, 0);
    t = &r->tests[1];
    expect_bytes(t->data, t->len, "GET", 3);
    ck_assert_int_eq(t->expect_match, 0);
    ck_assert_int_eq(t->direction, VP_DIR_TO_SERVER);
    ck_assert_int_eq(t->has_port, 1);
    ck_assert_uint_eq(t->port, 8080);
    parsed_free(&p);
}
END_TEST

START_TEST(test_defaults)
{
    parsed p;
    parse(&p, HEAD MATCH);
    expect_no_diags(&p);
    ck_assert_ptr_null(p.file.ruleset);
    ck_assert_uint_eq(p.file.n_rules, 1);
    const vp_src_rule *r = &p.file.rules[0];
    ck_assert_uint_eq(r->id, 5);
    ck_assert_str_eq(r->name, "n");
    ck_assert_ptr_null(r->description);
    ck_assert_uint_eq(r->n_cves + r->n_refs + r->n_tags + r->n_tests, 0);
    ck_assert_int_eq(r->severity, VP_SEV_LOW);
    ck_assert_int_eq(r->has_cvss, 0);
    ck_assert_uint_eq(r->modes, VP_MODE_BIT(VP_MODE_SECURITY));
    ck_assert_int_eq(r->action, VP_ACTION_BLOCK);
    ck_assert_int_eq(r->proto, VP_PROTO_TCP);
    ck_assert_int_eq(r->direction, VP_DIR_TO_SERVER);
    ck_assert_uint_eq(r->n_ports, 0);
    ck_assert_uint_eq(r->n_conds, 1);
    ck_assert_uint_eq(r->conds[0].flags, 0);
    expect_bytes(r->conds[0].bytes, r->conds[0].len, "abc", 3);
    parsed_free(&p);
}
END_TEST

/* One port spec per case, with the merged ranges it must give (none = any). */
static const struct port_case {
    const char *spec;
    size_t n;
    vp_port_range want[3];
} port_cases[] = {
    {"any", 0, {{0, 0}}},
    {"\"any\"", 0, {{0, 0}}},
    {"80", 1, {{80, 80}}},
    {"0x50", 1, {{80, 80}}},
    {"0", 1, {{0, 0}}},
    {"65535", 1, {{65535, 65535}}},
    {"\"80,443,8000-8100\"", 3, {{80, 80}, {443, 443}, {8000, 8100}}},
    {"\" 443 , 80 - 81 \"", 2, {{80, 81}, {443, 443}}},
    {"[80, \"81-82\", 84]", 2, {{80, 82}, {84, 84}}},
    {"[80, any]", 0, {{0, 0}}},
    {"\"1-65535, 7\"", 1, {{1, 65535}}},
};

START_TEST(test_ports)
{
    const struct port_case *pc = &port_cases[_i];
    char yaml[512];
    snprintf(yaml, sizeof yaml, HEAD "    ports: %s\n" MATCH, pc->spec);
    parsed p;
    parse(&p, yaml);
    expect_no_diags(&p);
    const vp_src_rule *r = &p.file.rules[0];
    ck_assert_msg(r->n_ports == pc->n, "ports %s: %zu ranges", pc->spec, r->n_ports);
    for (size_t i = 0; i < pc->n; i++) {
        ck_assert_uint_eq(r->ports[i].lo, pc->want[i].lo);
        ck_assert_uint_eq(r->ports[i].hi, pc->want[i].hi);
    }
    parsed_free(&p);
}
END_TEST

/* A content value as written in YAML, and the bytes it must give. */
static const struct bytes_case {
    const char *yaml_value;
    const char *bytes;
    size_t len;
} content_cases[] = {
    {"\"\\xff\\x00A\"", "\xff\x00" "A", 3},          /* \xHH is a byte, not U+00HH */
    {"\"\\u00e9\\U0001F600\"", "\xc3\xa9\xf0\x9f\x98\x80", 6},
    {"\"\\0\\a\\b\\t\\n\\v\\f\\r\\e\\ \\\"\\/\\\\\"", "\0\a\b\t\n\v\f\r\x1b \"/\\", 13},
    {"\"\\N\\_\\L\\P\"", "\xc2\x85\xc2\xa0\xe2\x80\xa8\xe2\x80\xa9", 10},
    {"\"a\\\tb\"", "a\tb", 3},                   /* backslash + TAB */
    {"\"\xc3\xa9\\xe9\"", "\xc3\xa9\xe9", 3},      /* UTF-8 text copied, escape is a byte */
    {"\"one\n          two\"", "one two", 7},      /* a line break folds to a space */
    {"\"one  \n\n          two\"", "one\ntwo", 7},  /* an empty line is a newline */
    {"\"one\\\n          two\"", "onetwo", 6},     /* escaped line break joins */
    {"\"one \\\n   two\"", "one two", 7},         /* blanks before the escape stay */
    {"\"a\r\n   b\"", "a b", 3},                 /* CRLF folds like LF */
    {"'a\\xff''b'", "a\\xff'b", 7},              /* single quotes: no escapes */
    {"a\\x41 b", "a\\x41 b", 7},                 /* plain: no escapes */
    {"|\n          line\\x\n", "line\\x\n", 7},     /* block scalar */
    {"&anchor \"\\x80\"", "\x80", 1},            /* anchored double-quoted */
    {"!!str \"\\x81\"", "\x81", 1},              /* tagged double-quoted */
};

START_TEST(test_content_decoding)
{
    const struct bytes_case *bc = &content_cases[_i];
    char yaml[512];
    snprintf(yaml, sizeof yaml, HEAD "    match:\n      - content: %s\n", bc->yaml_value);
    parsed p;
    parse(&p, yaml);
    expect_no_diags(&p);
    const vp_src_cond *c = &p.file.rules[0].conds[0];
    ck_assert_msg(c->len == bc->len && memcmp(c->bytes, bc->bytes, bc->len) == 0,
                  "content %s: got %zu bytes", bc->yaml_value, c->len);
    ck_assert_int_eq(c->bytes[c->len], 0);
    parsed_free(&p);
}
END_TEST

START_TEST(test_test_data_decoding)
{
    parsed p;
    parse(&p, HEAD MATCH "    tests:\n"
                         "      - data: \"\\x00\\xfe\\r\\n\"\n"
                         "        expect: match\n"
                         "      - data: 'plain \\x00'\n"
                         "        expect: nomatch\n"
                         "      - data: \"\"\n"
                         "        expect: nomatch\n"
                         "      - hex: \"\"\n"
                         "        expect: nomatch\n"
                         "      - hex: \"00ff\n           10\"\n"
                         "        expect: nomatch\n");
    expect_no_diags(&p);
    const vp_src_rule *r = &p.file.rules[0];
    ck_assert_uint_eq(r->n_tests, 5);
    expect_bytes(r->tests[0].data, r->tests[0].len, "\x00\xfe\r\n", 4);
    expect_bytes(r->tests[1].data, r->tests[1].len, "plain \\x00", 10);
    expect_bytes(r->tests[2].data, r->tests[2].len, "", 0);
    expect_bytes(r->tests[3].data, r->tests[3].len, "", 0);
    expect_bytes(r->tests[4].data, r->tests[4].len, "\x00\xff\x10", 3);
    parsed_free(&p);
}
END_TEST

/* Marks count characters (not bytes) and the decoder still finds the source. */
START_TEST(test_utf8_positions_and_bom)
{
    parsed p;
    parse(&p, "\xef\xbb\xbf" "format: 1\n"
              "rules:\n"
              "  - {id: 9, name: \"\xc3\xa9\xe2\x82\xac\", severity: low, match: [{content: "
              "\"\\xfe\\xff\"}], bogus: 1}\n");
    ck_assert_uint_eq(p.diags.n, 1);
    /* 71 characters (74 bytes) precede the unknown key: it is at column 72. */
    expect_diag(&p, 0, E, VP_D_UNKNOWN_FIELD, 3, 72, 9, "unknown rule field 'bogus'");
    const vp_src_rule *r = &p.file.rules[0];
    ck_assert_str_eq(r->name, "\xc3\xa9\xe2\x82\xac");
    expect_bytes(r->conds[0].bytes, r->conds[0].len, "\xfe\xff", 2);
    ck_assert_uint_eq(r->conds[0].pattern_mark.col, 58);
    parsed_free(&p);
}
END_TEST

START_TEST(test_aliases)
{
    parsed p;
    parse(&p, "format: 1\n"
              "x-cond: &c {content: \"\\xaa\", nocase: true}\n"
              "x-tests: &t [{data: \"\\xbb\", expect: match}]\n"
              "rules:\n"
              "  - {id: 1, name: a, severity: low, match: [*c], tests: *t}\n"
              "  - {id: 2, name: b, severity: low, match: [*c, {content: x, distance: 0}]}\n");
    expect_no_diags(&p);
    ck_assert_uint_eq(p.file.n_rules, 2);
    for (size_t i = 0; i < 2; i++) {
        const vp_src_cond *c = &p.file.rules[i].conds[0];
        expect_bytes(c->bytes, c->len, "\xaa", 1);
        ck_assert_uint_eq(c->flags, VP_C_NOCASE);
        ck_assert_uint_eq(c->mark.line, 2); /* an alias keeps its anchor's position */
    }
    expect_bytes(p.file.rules[0].tests[0].data, p.file.rules[0].tests[0].len, "\xbb", 1);
    ck_assert_uint_eq(p.file.rules[1].conds[1].flags, VP_C_HAS_DISTANCE);
    parsed_free(&p);
}
END_TEST

START_TEST(test_self_referencing_alias)
{
    parsed p;
    parse(&p, "format: 1\nrules: &r [*r]\n");
    ck_assert_uint_eq(p.diags.n, 1);
    expect_diag(&p, 0, E, VP_D_STRUCTURE, 2, 8, 0, "a rule must be a mapping, got a list");
    parsed_free(&p);
}
END_TEST

/* Aliases can describe a tree far bigger than the source: the walk stops on
 * a budget proportional to the source size. */
START_TEST(test_alias_bomb)
{
    static char yaml[64 * 1024];
    size_t n = (size_t)snprintf(yaml, sizeof yaml, "format: 1\nx-a: &a [");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(yaml + n, sizeof yaml - n, "%s\"0123456789\"", i ? ", " : "");
    n += (size_t)snprintf(yaml + n, sizeof yaml - n,
                          "]\nx-r: &r {id: 3, name: n, severity: low, tags: *a, "
                          "match: [{content: a}]}\nrules: [");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(yaml + n, sizeof yaml - n, "%s*r", i ? ", " : "");
    n += (size_t)snprintf(yaml + n, sizeof yaml - n, "]\n");
    ck_assert_uint_lt(n, sizeof yaml - 8);
    parsed p;
    parse(&p, yaml);
    /* 1000 rules of 1000 tags would be 11 MB of strings from an 18 kB source. */
    size_t rules = p.file.n_rules;
    ck_assert_uint_gt(rules, 1);
    ck_assert_uint_lt(rules, 100);
    ck_assert_uint_eq(p.diags.n, rules);
    /* The budget runs out on a tag string (line 2) inside the last rule read. */
    ck_assert_uint_eq(p.diags.v[0].code, VP_D_LIMIT);
    ck_assert_uint_eq(p.diags.v[0].line, 2);
    ck_assert_uint_eq(p.diags.v[0].rule_id, 3);
    ck_assert_str_eq(p.diags.v[0].message,
                     "aliases expand this document to more than 16 times its size; "
                     "reading stopped here");
    /* Every rule read after the first repeats its id. */
    for (size_t i = 1; i < p.diags.n; i++)
        expect_diag(&p, i, E, VP_D_DUPLICATE_ID, 3, 14, 3,
                    "duplicate rule id 3 (first defined at 3:14)");
    parsed_free(&p);
}
END_TEST

START_TEST(test_nesting_limit)
{
    char yaml[512];
    /* The root mapping is level 1: 63 brackets are fine, the 64th is too deep. */
    for (int depth = 63; depth <= 64; depth++) {
        int n = snprintf(yaml, sizeof yaml, "format: 1\nrules: []\nx-deep: ");
        for (int i = 0; i < depth; i++)
            yaml[n++] = '[';
        for (int i = 0; i < depth; i++)
            yaml[n++] = ']';
        yaml[n++] = '\n';
        yaml[n] = 0;
        parsed p;
        parse(&p, yaml);
        if (depth == 63) {
            expect_no_diags(&p);
        } else {
            ck_assert_uint_eq(p.diags.n, 1);
            expect_diag(&p, 0, E, VP_D_LIMIT, 3, 72, 0, "YAML nesting is deeper than 64 levels");
        }
        parsed_free(&p);
    }
}
END_TEST

START_TEST(test_deep_nesting_is_fast)
{
    /* libyaml alone needs seconds for this; the pre-check refuses it at once. */
    size_t depth = 200000, n = 0;
    char *yaml = malloc(2 * depth + 64);
    ck_assert_ptr_nonnull(yaml);
    n += (size_t)sprintf(yaml, "format: 1\nrules: ");
    memset(yaml + n, '[', depth);
    memset(yaml + n + depth, ']', depth);
    n += 2 * depth;
    parsed p;
    parse_len(&p, yaml, n);
    ck_assert_uint_eq(p.diags.n, 1);
    expect_diag(&p, 0, E, VP_D_LIMIT, 2, 71, 0, "YAML nesting is deeper than 64 levels");
    parsed_free(&p);
    free(yaml);
}
END_TEST

START_TEST(test_many_anchors)
{
    size_t cap = 2000 * 16 + 64, n = 0;
    char *yaml = malloc(cap);
    ck_assert_ptr_nonnull(yaml);
    n += (size_t)snprintf(yaml, cap, "format: 1\nrules: []\nx: [");
    for (int i = 0; i < 1025; i++)
        n += (size_t)snprintf(yaml + n, cap - n, "&a%d 1, ", i);
    n += (size_t)snprintf(yaml + n, cap - n, "2]\n");
    parsed p;
    parse(&p, yaml);
    ck_assert_uint_eq(p.diags.n, 1);
    /* "&aN 1, " takes 7 characters for N < 10, 8 below 100, 9 below 1000 and
     * 10 above: the 1025th anchor (&a1024) is at this column. */
    expect_diag(&p, 0, E, VP_D_LIMIT, 3, 5 + 10 * 7 + 90 * 8 + 900 * 9 + 24 * 10, 0,
                "more than 1024 YAML anchors in one file");
    parsed_free(&p);
    free(yaml);
}
END_TEST

START_TEST(test_binary_junk)
{
    uint8_t junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 16);
    }
    for (size_t len = 0; len <= sizeof junk; len += 97) {
        parsed p;
        memset(&p, 0, sizeof p);
        ck_assert_int_eq(vp_reader_parse("t.yaml", junk, len, &p.file, &p.diags), 0);
        ck_assert_uint_ge(p.diags.errors, 1);
        parsed_free(&p);
    }
}
END_TEST

START_TEST(test_null_text)
{
    parsed p;
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(vp_reader_parse(NULL, NULL, 0, &p.file, &p.diags), 0);
    ck_assert_str_eq(p.file.path, "");
    ck_assert_uint_eq(p.diags.n, 1);
    ck_assert_uint_eq(p.diags.v[0].code, VP_D_STRUCTURE);
    parsed_free(&p);
}
END_TEST

/* All errors of a file are reported, in source order, each with its rule id. */
START_TEST(test_collects_everything_in_order)
{
    parsed p;
    parse(&p, "format: 3\n"
              "rules:\n"
              "  - name: first\n"           /* id given last: still in every diagnostic */
              "    severity: nope\n"
              "    match:\n"
              "      - content: abc\n"
              "        depth: -1\n"
              "    id: 12\n"
              "  - id: 13\n"
              "    name: \"\"\n"
              "    severity: low\n"
              "    cvss: 99\n"
              "    match: [{regex: x, flags: z}]\n"
              "  - id: 12\n"
              "    name: again\n"
              "    severity: low\n"
              "    match: [{content: a}]\n"
              "x-after: 1\n"
              "bad-after: 2\n");
    ck_assert_msg(p.diags.n == 8, "got:%s", all_diags(&p));
    expect_diag(&p, 0, E, VP_D_FORMAT, 1, 9, 0, "unsupported format 3, expected 1");
    expect_diag(&p, 1, E, VP_D_TYPE, 4, 15, 12,
                "severity must be one of low, medium, high, critical, got \"nope\"");
    expect_diag(&p, 2, E, VP_D_TYPE, 7, 16, 12, "depth must be a non-negative integer, got \"-1\"");
    expect_diag(&p, 3, E, VP_D_TYPE, 10, 11, 13, "name must be a non-empty string, got \"\"");
    expect_diag(&p, 4, E, VP_D_TYPE, 12, 11, 13, "cvss must be a number 0.0..10.0, got \"99\"");
    expect_diag(&p, 5, E, VP_D_TYPE, 13, 31, 13, "flags must be letters from i, s, m, x, got \"z\"");
    /* found after the walk, reported in source order all the same */
    expect_diag(&p, 6, E, VP_D_DUPLICATE_ID, 14, 9, 12,
                "duplicate rule id 12 (first defined at 8:9)");
    expect_diag(&p, 7, E, VP_D_UNKNOWN_FIELD, 19, 1, 0, "unknown top-level field 'bad-after'");
    parsed_free(&p);

    /* the duplicate id and the unknown key that follows it */
    parse(&p, HEAD MATCH "  - id: 5\n    name: m\n    severity: low\n    match: [{content: b}]\n"
                         "bad-after: 2\n");
    ck_assert_uint_eq(p.diags.n, 2);
    expect_diag(&p, 0, E, VP_D_DUPLICATE_ID, 8, 9, 5, "duplicate rule id 5 (first defined at 3:9)");
    expect_diag(&p, 1, E, VP_D_UNKNOWN_FIELD, 12, 1, 0, "unknown top-level field 'bad-after'");
    ck_assert_uint_eq(p.diags.errors, 2);
    /* every rule is in the AST, errors or not */
    ck_assert_uint_eq(p.file.n_rules, 2);
    parsed_free(&p);
}
END_TEST

START_TEST(test_rules_kept_despite_errors)
{
    parsed p;
    parse(&p, "format: 1\nrules:\n  - id: 1\n    match: [{}, {content: q}, 7]\n  - 5\n  - {}\n");
    ck_assert_uint_eq(p.file.n_rules, 2);
    const vp_src_rule *r = &p.file.rules[0];
    ck_assert_uint_eq(r->id, 1);
    ck_assert_str_eq(r->name, ""); /* absent name: empty, never NULL */
    ck_assert_uint_eq(r->n_conds, 2);
    ck_assert_ptr_nonnull(r->conds[0].bytes);
    ck_assert_int_eq(r->conds[0].bytes[0], 0);
    expect_bytes(r->conds[1].bytes, r->conds[1].len, "q", 1);
    ck_assert_uint_eq(p.file.rules[1].id, 0);
    ck_assert_uint_eq(p.diags.errors, 9);
    parsed_free(&p);
}
END_TEST

START_TEST(test_warning_is_not_an_error)
{
    parsed p;
    parse(&p, HEAD "    modes: [performance, performance]\n" MATCH);
    ck_assert_uint_eq(p.diags.n, 1);
    ck_assert_uint_eq(p.diags.errors, 0);
    expect_diag(&p, 0, W, VP_D_MODES, 6, 12, 5,
                "rule is in performance mode but not in security mode");
    ck_assert_uint_eq(p.file.rules[0].modes, VP_MODE_BIT(VP_MODE_PERFORMANCE));
    parsed_free(&p);
}
END_TEST

START_TEST(test_limits_at_the_edge)
{
    parsed p;
    parse(&p, HEAD "    match:\n"
                   "      - content: a\n"
                   "        offset: 2147483647\n"
                   "        depth: 2147483647\n"
                   "      - content: b\n"
                   "        distance: -65536\n"
                   "      - content: c\n"
                   "        distance: 65535\n"
                   "        within: 1\n"
                   "      - content: d\n"
                   "        distance: 2147483647\n"
                   "  - id: 4294967295\n"
                   "    name: max\n"
                   "    severity: medium\n"
                   "    cvss: 10\n"
                   "    match: [{content: z}]\n");
    expect_no_diags(&p);
    const vp_src_rule *r = &p.file.rules[0];
    ck_assert_uint_eq(r->conds[0].offset, 2147483647u);
    ck_assert_uint_eq(r->conds[0].depth, 2147483647u);
    ck_assert_int_eq(r->conds[1].distance, -65536);
    ck_assert_int_eq(r->conds[3].distance, 2147483647);
    ck_assert_uint_eq(p.file.rules[1].id, 4294967295u);
    ck_assert_double_eq(p.file.rules[1].cvss, 10.0);
    parsed_free(&p);
}
END_TEST

START_TEST(test_diag_add)
{
    vp_diags d;
    memset(&d, 0, sizeof d);
    vp_mark at = {3, 7};
    for (int i = 0; i < 40; i++)
        vp_diag_add(&d, i % 2 ? VP_DIAG_WARNING : VP_DIAG_ERROR, VP_D_TYPE, "f.yaml", at, 9,
                    "value %d is %s", i, "bad");
    ck_assert_uint_eq(d.n, 40);
    ck_assert_uint_eq(d.errors, 20);
    ck_assert_int_eq(d.oom, 0);
    ck_assert_str_eq(d.v[39].message, "value 39 is bad");
    ck_assert_str_eq(d.v[39].file, "f.yaml");
    ck_assert_uint_eq(d.v[39].line, 3);
    ck_assert_uint_eq(d.v[39].col, 7);
    ck_assert_uint_eq(d.v[39].rule_id, 9);
    ck_assert_int_eq(d.v[39].severity, VP_DIAG_WARNING);
    vp_diag_add(&d, VP_DIAG_ERROR, VP_D_IO, NULL, at, 0, "%s", "no file");
    ck_assert_str_eq(d.v[40].file, "");
    vp_diags_free(&d);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_ptr_null(d.v);
}
END_TEST

static Suite *reader_suite(void)
{
    Suite *s = suite_create("reader");
    TCase *tc = tcase_create("diagnostics");
    tcase_add_loop_test(tc, test_diag_case, 0, (int)(sizeof diag_cases / sizeof diag_cases[0]));
    tcase_add_test(tc, test_collects_everything_in_order);
    tcase_add_test(tc, test_rules_kept_despite_errors);
    tcase_add_test(tc, test_warning_is_not_an_error);
    tcase_add_test(tc, test_diag_add);
    suite_add_tcase(s, tc);

    tc = tcase_create("values");
    tcase_add_test(tc, test_full_rule);
    tcase_add_test(tc, test_defaults);
    tcase_add_loop_test(tc, test_ports, 0, (int)(sizeof port_cases / sizeof port_cases[0]));
    tcase_add_loop_test(tc, test_content_decoding, 0,
                        (int)(sizeof content_cases / sizeof content_cases[0]));
    tcase_add_test(tc, test_test_data_decoding);
    tcase_add_test(tc, test_utf8_positions_and_bom);
    tcase_add_test(tc, test_limits_at_the_edge);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_aliases);
    tcase_add_test(tc, test_self_referencing_alias);
    tcase_add_test(tc, test_alias_bomb);
    tcase_add_test(tc, test_nesting_limit);
    tcase_add_test(tc, test_deep_nesting_is_fast);
    tcase_add_test(tc, test_many_anchors);
    tcase_add_test(tc, test_binary_junk);
    tcase_add_test(tc, test_null_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vp_test_run_suite(reader_suite());
}
