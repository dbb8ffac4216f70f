/* byte_jump: the conditions after it count from the end of the bytes it
 * read plus their value (times multiplier, aligned, plus post_offset); every
 * case is checked at every chunk size, so reads that straddle scan calls are
 * covered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *rules =
    "format: 1\n"
    "rules:\n"
    "  - {id: 1, name: big 2, severity: low, action: detect, match: [{content: HDR},\n"
    "     {byte_jump: {bytes: 2}, distance: 0}, {content: EVIL, within: 4}]}\n"
    "  - {id: 2, name: little aligned, severity: low, action: detect, match: [{hex: 'ca fe'},\n"
    "     {byte_jump: {bytes: 1, endian: little, multiplier: 2, align: true, post_offset: 1},\n"
    "      distance: 1}, {content: X, distance: 0, within: 1}]}\n"
    "  - {id: 3, name: two jumps then a test, severity: low, action: detect,\n"
    "     match: [{content: RPC}, {byte_jump: {bytes: 1}, distance: 0},\n"
    "     {byte_jump: {bytes: 1}, distance: 0},\n"
    "     {byte_test: {bytes: 1, op: '>', value: 100}, distance: 0, within: 1}]}\n"
    "  - {id: 4, name: open window after, severity: low, action: detect, match: [{content: L4},\n"
    "     {byte_jump: {bytes: 4, endian: little}, distance: 2}, {content: Z, distance: 3}]}\n"
    "  - {id: 5, name: isdataat after, severity: low, action: detect, match: [{content: LEN},\n"
    "     {byte_jump: {bytes: 1}, distance: 0}, {isdataat: 0, relative: true}]}\n"
    "  - {id: 6, name: most a jump may move, severity: low, action: detect,\n"
    "     match: [{content: BIG}, {byte_jump: {bytes: 2, multiplier: 2}, distance: 0},\n"
    "     {content: Q, distance: 0, within: 1}]}\n"
    "  - {id: 7, name: one byte, severity: low, action: detect, match: [{content: GJ},\n"
    "     {byte_jump: {bytes: 1}, distance: 0}, {content: EVIL, within: 4}]}\n";

static vpt_engine eng;

static void setup(void) { vpt_build(rules, 1, NULL, &eng); }
static void teardown(void) { vpt_free(&eng); }

static int64_t fires_at(const char *s, size_t len, uint32_t id)
{
    return vpt_fires_at(&eng, 80, VP_DIR_TO_SERVER, s, len, id);
}

#define FIRES(lit, id) fires_at(lit, sizeof(lit) - 1, id)

START_TEST(test_big_endian_jump)
{
    ck_assert_int_eq(FIRES("HDR\x00\x03" "abcEVIL", 1), 12);
    ck_assert_int_eq(FIRES("HDR\x00\x04" "abcEVIL", 1), -1);  /* lands past it */
    ck_assert_int_eq(FIRES("HDR\x00\x02" "abcEVIL", 1), -1);  /* window ends before */
    ck_assert_int_eq(FIRES("HDR\x00\x00" "EVIL", 1), 9);
    /* existential: a later HDR whose jump fits, after one that does not */
    ck_assert_int_eq(FIRES("HDR\x01\x00" "EVIL HDR\x00\x01" "xEVIL", 1), 20);
    /* the bytes of one HDR overlap the next one */
    ck_assert_int_eq(FIRES("HDRHDR\x00\x00" "EVIL", 1), 12);
}
END_TEST

START_TEST(test_little_aligned_multiplied_post)
{
    /* value 1, x2 = 2, aligned to 4, +1: the marker 5 bytes after the read */
    ck_assert_int_eq(FIRES("\xca\xfe?\x01" "pppppX", 2), 10);
    ck_assert_int_eq(FIRES("\xca\xfe?\x01" "ppppX", 2), -1);
    /* value 2, x2 = 4 (aligned already), +1 */
    ck_assert_int_eq(FIRES("\xca\xfe?\x02" "pppppX", 2), 10);
    /* value 3, x2 = 6 -> 8, +1 */
    ck_assert_int_eq(FIRES("\xca\xfe?\x03" "pppppppppX", 2), 14);
}
END_TEST

START_TEST(test_chained_jumps)
{
    /* RPC, jump 2 ("ab"), jump 1 ("c"), then a byte > 100 */
    ck_assert_int_eq(FIRES("RPC\x02" "ab\x01" "c\xff", 3), 9);
    ck_assert_int_eq(FIRES("RPC\x02" "ab\x01" "c\x05", 3), -1);
    ck_assert_int_eq(FIRES("RPC\x02" "ab\x01" "c", 3), -1);
}
END_TEST

START_TEST(test_open_window_after_jump)
{
    /* 4 bytes little endian at L4 + 2; Z at least 3 after the jump target */
    ck_assert_int_eq(FIRES("L4..\x01\x00\x00\x00" "x...Z", 4), 13);
    ck_assert_int_eq(FIRES("L4..\x01\x00\x00\x00" "x..Z", 4), -1);
    ck_assert_int_eq(FIRES("L4..\x01\x00\x00\x00" "x..Z....Z", 4), 17);
}
END_TEST

START_TEST(test_isdataat_after_jump)
{
    /* the byte at the target must arrive */
    ck_assert_int_eq(FIRES("LEN\x02" "ab", 5), -1);
    ck_assert_int_eq(FIRES("LEN\x02" "abc", 5), 7);
}
END_TEST

START_TEST(test_jump_limit)
{
    /* 2 bytes x2: 0x7fff * 2 = 65534 moves, 0x8000 * 2 = 65536 does not */
    size_t n = 3 + 2 + 65534 + 1;
    char *s = calloc(1, n + 2);
    memcpy(s, "BIG\x7f\xff", 5);
    s[5 + 65534] = 'Q';
    ck_assert_int_eq(vpt_fires_at(&eng, 80, VP_DIR_TO_SERVER, s, n, 6), (int64_t)n);
    memcpy(s, "BIG\x80\x00", 5);
    memset(s + 5, 'Q', n - 5 + 1);
    ck_assert_int_eq(vpt_fires_at(&eng, 80, VP_DIR_TO_SERVER, s, n + 1, 6), -1);
    free(s);
}
END_TEST

/* Bytes lost in a gap are not read; a jump target across a gap is lost
 * with the chain. */
START_TEST(test_gaps)
{
    vpt_events ev;
    /* '~' is a gap of 3 bytes; the reads and the target must not span one */
    vpt_scan_with_gaps(&eng, "GJ\x02" "abEVIL", 3, 0, &ev);
    ck_assert_int_eq(vpt_offset_of(&ev, 7), 9);
    vpt_scan_with_gaps(&eng, "GJ~\x02" "abEVIL", 3, 0, &ev);
    ck_assert_int_eq(vpt_offset_of(&ev, 7), -1);
    vpt_scan_with_gaps(&eng, "GJ\x02~" "abEVIL", 3, 0, &ev);
    ck_assert_int_eq(vpt_offset_of(&ev, 7), -1);
    vpt_scan_with_gaps(&eng, "GJ\x05~EVIL", 3, 0, &ev);  /* target past the gap */
    ck_assert_int_eq(vpt_offset_of(&ev, 7), -1);
    /* a later start after the gap works, in pieces too */
    for (size_t chunk = 0; chunk < 4; chunk++) {
        vpt_scan_with_gaps(&eng, "GJ~GJ\x01" "xEVIL", 3, chunk, &ev);
        ck_assert_int_eq(vpt_offset_of(&ev, 7), 13);
    }
}
END_TEST

/* Per-stream memory stays bounded however many jumps are pending. */
START_TEST(test_state_bounded)
{
    size_t n = 200000;
    char *s = malloc(n);
    for (size_t i = 0; i < n; i += 5)
        memcpy(s + i, "L4\xff\xff\xff", 5);   /* every read jumps too far, or is pending */
    vp_stream_t *st;
    ck_assert_int_eq(vp_stream_open(eng.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, NULL, NULL,
                                    &st), VP_OK);
    size_t peak = 0;
    for (size_t at = 0; at < n; at += 1000) {
        ck_assert_int_eq(vp_stream_scan(st, s + at, 1000, eng.scratch), VP_OK);
        vp_stream_stats_t ss = {.size = sizeof ss};
        ck_assert_int_eq(vp_stream_stats(st, &ss), VP_OK);
        if (at == 100000)
            peak = ss.state_bytes;
        if (at > 100000)
            ck_assert_uint_le(ss.state_bytes, peak);
    }
    ck_assert_uint_lt(peak, 64 * 1024);
    vp_stream_free(st);
    free(s);
}
END_TEST

/* The compiler's rules for byte_jump, each with its message. */
static const struct {
    const char *match;
    const char *message;
} bad[] = {
    {"[{content: a}, {byte_jump: {bytes: 2}}, {content: b, distance: 0}]",
     "byte_jump needs distance"},
    {"[{content: a}, {byte_jump: {bytes: 2}, distance: 0, within: 2}, {content: b}]",
     "byte_jump takes distance only"},
    {"[{content: a}, {byte_jump: {bytes: 2}, distance: 0}]",
     "a byte_jump must be followed by a relative condition"},
    {"[{content: a}, {byte_jump: {bytes: 2}, distance: 0}, {content: b, distance: -1}]",
     "a condition relative to a byte_jump must be"},
    {"[{content: a}, {byte_jump: {bytes: 2}, distance: 0}, {content: b, negate: true, "
     "distance: 0}]",
     "a condition relative to a byte_jump must be"},
    {"[{content: a}, {content: b, distance: -3}, {byte_jump: {bytes: 2}, distance: 0}, "
     "{content: c, distance: 0}]",
     "a byte_jump cannot follow a negative distance"},
    {"[{content: a}, {byte_jump: {bytes: 9}, distance: 0}, {content: b, distance: 0}]",
     "byte_jump bytes must be at most 8"},
    {"[{content: a}, {byte_jump: {bytes: 2, multiplier: 0}, distance: 0}, {content: b}]",
     "byte_jump multiplier must be at least 1"},
    {"[{content: a, buffer: http.uri}, {byte_jump: {bytes: 2}, distance: 0, buffer: http.uri},"
     " {content: b, distance: 0, buffer: http.uri}]",
     "byte_jump inspects the stream only"},
    {"[{content: a}, {byte_jump: {bytes: 2}, distance: 0}, {regex: b, distance: 0}]",
     "a condition relative to a byte_jump must be"},
    {"[{content: a}, {byte_jump: {bytes: 2}, distance: 0, negate: true}, {content: b}]",
     "a byte_jump cannot be negated"},
    {"[{content: a}, {byte_jump: {bytes: 2, base: 10}, distance: 0}, {content: b}]",
     "unknown byte_jump field 'base'"},
};

START_TEST(test_compiler_refuses)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "format: 1\nrules:\n  - {id: 1, name: n, severity: low, direction: any, match: %s}\n",
             bad[_i].match);
    vp_compiler_t *c = NULL;
    ck_assert_int_eq(vp_compiler_create(&c), VP_OK);
    ck_assert_int_eq(vp_compiler_add_memory(c, "t.yaml", yaml, strlen(yaml)), VP_OK);
    uint8_t *bundle = NULL;
    size_t len = 0;
    ck_assert_int_eq(vp_compiler_build(c, &bundle, &len), VP_E_COMPILE);
    int found = 0;
    for (size_t i = 0; i < vp_compiler_diag_count(c); i++) {
        vp_diagnostic_t d = {.size = sizeof d};
        ck_assert_int_eq(vp_compiler_diag_at(c, i, &d), VP_OK);
        found |= strstr(d.message, bad[_i].message) != NULL;
    }
    ck_assert_msg(found, "no diagnostic \"%s\" for %s", bad[_i].message, bad[_i].match);
    vp_compiler_bundle_free(bundle);
    vp_compiler_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bytejump");
    TCase *tc = tcase_create("semantics");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_big_endian_jump);
    tcase_add_test(tc, test_little_aligned_multiplied_post);
    tcase_add_test(tc, test_chained_jumps);
    tcase_add_test(tc, test_open_window_after_jump);
    tcase_add_test(tc, test_isdataat_after_jump);
    tcase_add_test(tc, test_jump_limit);
    tcase_add_test(tc, test_gaps);
    tcase_add_test(tc, test_state_bounded);
    suite_add_tcase(s, tc);
    TCase *tc2 = tcase_create("compiler");
    tcase_add_loop_test(tc2, test_compiler_refuses, 0, (int)(sizeof bad / sizeof bad[0]));
    suite_add_tcase(s, tc2);
    return vp_test_run_suite(s);
}
