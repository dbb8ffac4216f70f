/* byte_test expressions (lib/compile/bytetest.c) against the arithmetic they
 * stand for: every 1- and 2-byte string, and random longer ones, through
 * Hyperscan itself, for every operator, both byte orders and values at and
 * around the edges. */
#include <hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compile/bytetest.h"
#include "testutil.h"

static uint64_t value_of(const uint8_t *p, unsigned n, int little)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v = (v << 8) | p[little ? n - 1 - k : k];
    return v;
}

static int passes(uint64_t x, int op, uint64_t v)
{
    switch (op) {
    case VP_BT_EQ: return x == v;
    case VP_BT_NE: return x != v;
    case VP_BT_LT: return x < v;
    case VP_BT_LE: return x <= v;
    case VP_BT_GT: return x > v;
    case VP_BT_GE: return x >= v;
    case VP_BT_AND: return (x & v) != 0;
    default: return (x & v) == 0;
    }
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
                    unsigned flags, void *ctx)
{
    (void)id, (void)from, (void)to, (void)flags;
    *(int *)ctx = 1;
    return 1;
}

/* Compiles \A(?:expr)\z so that a match means "these n bytes are in the set". */
static hs_database_t *compile_whole(const char *expr)
{
    size_t n = strlen(expr) + 16;
    char *whole = malloc(n);
    ck_assert_ptr_nonnull(whole);
    snprintf(whole, n, "\\A(?:%s)\\z", expr);
    hs_database_t *db = NULL;
    hs_compile_error_t *err = NULL;
    hs_error_t rc = hs_compile(whole, HS_FLAG_SINGLEMATCH, HS_MODE_BLOCK, NULL, &db, &err);
    ck_assert_msg(rc == HS_SUCCESS, "%s: %s", whole, err ? err->message : "?");
    free(whole);
    return db;
}

static void check(unsigned n, int little, int op, uint64_t v, const uint8_t *samples,
                  size_t n_samples)
{
    int empty;
    char *expr = vp_bytetest_expr(n, little, op, v, &empty);
    size_t want_any = 0;
    for (size_t i = 0; i < n_samples; i++)
        want_any += (size_t)passes(value_of(samples + i * n, n, little), op, v);
    if (!expr) {
        ck_assert_msg(empty, "n %u op %s v %llu: out of memory?", n, vp_bt_op_name(op),
                      (unsigned long long)v);
        ck_assert_msg(want_any == 0, "n %u op %s v %llu: said empty", n, vp_bt_op_name(op),
                      (unsigned long long)v);
        return;
    }
    hs_database_t *db = compile_whole(expr);
    hs_scratch_t *scratch = NULL;
    ck_assert_int_eq(hs_alloc_scratch(db, &scratch), HS_SUCCESS);
    for (size_t i = 0; i < n_samples; i++) {
        const uint8_t *p = samples + i * n;
        int got = 0;
        hs_scan(db, (const char *)p, n, 0, scratch, on_match, &got);
        int want = passes(value_of(p, n, little), op, v);
        ck_assert_msg(got == want, "n %u %s op %s v %llu, value %llu: expression says %d (%s)",
                      n, little ? "little" : "big", vp_bt_op_name(op), (unsigned long long)v,
                      (unsigned long long)value_of(p, n, little), got, expr);
    }
    hs_free_scratch(scratch);
    hs_free_database(db);
    free(expr);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(test_one_byte_exhaustive)
{
    uint8_t all[256];
    for (unsigned b = 0; b < 256; b++)
        all[b] = (uint8_t)b;
    static const uint64_t values[] = {0, 1, 2, 0x7f, 0x80, 0xaa, 0xfe, 0xff, 0x100, 0x1ff};
    for (int op = 0; op < VP_BT_N_OPS; op++)
        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
            check(1, 0, op, values[i], all, 256);
}
END_TEST

START_TEST(test_two_bytes_exhaustive)
{
    uint8_t *all = malloc(2 * 65536);
    ck_assert_ptr_nonnull(all);
    for (unsigned x = 0; x < 65536; x++)
        all[2 * x] = (uint8_t)(x >> 8), all[2 * x + 1] = (uint8_t)x;
    static const uint64_t values[] = {0, 1, 0xff, 0x100, 0x101, 1000, 0x8000, 0xfffe, 0xffff,
                                      0x10000, 0x00f0};
    for (int little = 0; little < 2; little++)
        for (int op = 0; op < VP_BT_N_OPS; op++)
            for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
                check(2, little, op, values[i], all, 65536);
    free(all);
}
END_TEST

/* Wider values: random strings plus the value itself and its neighbours. */
START_TEST(test_wider_random)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    enum { N_SAMPLES = 3000 };
    uint8_t *samples = malloc(N_SAMPLES * 8);
    ck_assert_ptr_nonnull(samples);
    for (unsigned n = 3; n <= 8; n++) {
        uint64_t max = n == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * n)) - 1;
        for (int round = 0; round < 12; round++) {
            uint64_t v = rnd(&seed) & max;
            if (round == 0)
                v = 0;
            else if (round == 1)
                v = max;
            else if (round == 2)
                v = max + (n < 8); /* beyond the width (n < 8) */
            else if (round % 3 == 0)
                v &= UINT64_C(0xff) << (8 * (rnd(&seed) % n)); /* one byte of bits */
            int little = round & 1;
            for (size_t i = 0; i < N_SAMPLES; i++) {
                uint64_t x = rnd(&seed) & max;
                if (i % 4 == 0)
                    x = v + (uint64_t)(int64_t)((int)(i / 4 % 5) - 2); /* around v */
                x &= max;
                for (unsigned k = 0; k < n; k++) /* store x in the sample's byte order */
                    samples[i * n + (little ? k : n - 1 - k)] = (uint8_t)(x >> (8 * k));
            }
            for (int op = 0; op < VP_BT_N_OPS; op++)
                check(n, little, op, v, samples, N_SAMPLES);
        }
    }
    free(samples);
}
END_TEST

START_TEST(test_names_and_bounds)
{
    for (int op = 0; op < VP_BT_N_OPS; op++)
        ck_assert_int_eq(vp_bt_op_of(vp_bt_op_name(op)), op);
    ck_assert_int_eq(vp_bt_op_of("=="), -1);
    int empty;
    ck_assert_ptr_null(vp_bytetest_expr(0, 0, VP_BT_EQ, 1, &empty));
    ck_assert_ptr_null(vp_bytetest_expr(9, 0, VP_BT_EQ, 1, &empty));
    ck_assert_ptr_null(vp_bytetest_expr(1, 0, VP_BT_GT, 255, &empty));
    ck_assert_int_eq(empty, 1);
    ck_assert_ptr_null(vp_bytetest_expr(2, 0, VP_BT_LT, 0, &empty));
    ck_assert_int_eq(empty, 1);
    ck_assert_ptr_null(vp_bytetest_expr(1, 0, VP_BT_AND, 0x100, &empty));
    ck_assert_int_eq(empty, 1);
}
END_TEST

/* In rules: positions like a content of that many bytes, at every chunk
 * size (the chunking helper splits the stream everywhere). */
static const char *rules =
    "format: 1\n"
    "rules:\n"
    "  - {id: 1, name: length after magic, severity: low, match: [{hex: \"de ad\"},\n"
    "     {byte_test: {bytes: 2, op: \">\", value: 1000}, distance: 0, within: 2},\n"
    "     {content: END, distance: 0}]}\n"
    "  - {id: 2, name: little at 4, severity: low, match: [\n"
    "     {byte_test: {bytes: 4, op: \"=\", value: 7, endian: little}, offset: 4, depth: 4}]}\n"
    "  - {id: 3, name: no big length, severity: low, match: [{hex: \"de ad\"},\n"
    "     {byte_test: {bytes: 2, op: \">=\", value: 0x8000}, distance: 0, within: 2, negate: true}]}\n"
    "  - {id: 4, name: flag before marker, severity: low, match: [{content: MK},\n"
    "     {byte_test: {bytes: 1, op: \"&\", value: 1}, distance: -5, within: 1}]}\n"
    /* inside the literal before it: the content after counts from its end */
    "  - {id: 5, name: inside, severity: low, match: [{content: ABCD},\n"
    "     {byte_test: {bytes: 1, op: \"=\", value: 0x43}, distance: -2, within: 1},\n"
    "     {content: XY, distance: 1, within: 2}]}\n"
    /* several on one literal, overlapping, then a content */
    "  - {id: 6, name: flags, severity: low, match: [{hex: \"ff 53 4d 42\"},\n"
    "     {byte_test: {bytes: 1, op: \"&\", value: 0x80}, distance: 2, within: 1},\n"
    "     {byte_test: {bytes: 1, op: \"!&\", value: 1}, distance: -1, within: 1},\n"
    "     {byte_test: {bytes: 2, op: \">=\", value: 0x0102, endian: little}, distance: -1, within: 2},\n"
    "     {content: Z, distance: 0, within: 1}]}\n"
    /* before the literal: the combined match starts earlier */
    "  - {id: 8, name: before, severity: low, match: [{content: xn--},\n"
    "     {byte_test: {bytes: 2, op: \">\", value: 513}, distance: -6, within: 2},\n"
    "     {content: Q, distance: 4, within: 1}]}\n"
    /* pinned at a place: anchored */
    "  - {id: 7, name: at 3, severity: low, match: [\n"
    "     {byte_test: {bytes: 1, op: \">\", value: 0x7f}, offset: 3, depth: 1}]}\n";

static int64_t fires_at(vpt_engine *e, const char *hex, uint32_t id)
{
    uint8_t data[64];
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        data[i] = (uint8_t)v;
    }
    return vpt_fires_at(e, 80, VP_DIR_TO_SERVER, data, n, id);
}

START_TEST(test_in_rules)
{
    vpt_engine e;
    vpt_build(rules, 1, NULL, &e);
    ck_assert_int_eq(fires_at(&e, "dead03e9454e44", 1), 7);   /* 1001, then END */
    ck_assert_int_eq(fires_at(&e, "dead03e8454e44", 1), -1);  /* 1000 */
    ck_assert_int_eq(fires_at(&e, "00dead03e9454e44", 1), 8);
    ck_assert_int_eq(fires_at(&e, "0000000007000000", 2), 8);
    ck_assert_int_eq(fires_at(&e, "0000000000000007", 2), -1); /* big endian 7 */
    ck_assert_int_eq(fires_at(&e, "dead7fff", 3), 4);         /* decided at the end */
    ck_assert_int_eq(fires_at(&e, "dead8000", 3), -1);
    ck_assert_int_eq(fires_at(&e, "dead80", 3), 3);           /* not all bytes there */
    ck_assert_int_eq(fires_at(&e, "01ffff4d4b", 4), 5);       /* 01 five before MK's end */
    ck_assert_int_eq(fires_at(&e, "02ffff4d4b", 4), -1);
    ck_assert_int_eq(fires_at(&e, "4142434458", 5), -1);       /* ABCDX */
    ck_assert_int_eq(fires_at(&e, "414243445859", 5), 6);      /* ABCDXY */
    ck_assert_int_eq(fires_at(&e, "414244445859", 5), -1);     /* ABDDXY */
    ck_assert_int_eq(fires_at(&e, "ff534d42000080025a", 6), 9);  /* 0x0280 >= 0x0102 */
    ck_assert_int_eq(fires_at(&e, "ff534d42000081025a", 6), -1); /* low bit set */
    ck_assert_int_eq(fires_at(&e, "ff534d42000080005a", 6), -1); /* 0x0080 < 0x0102 */
    ck_assert_int_eq(fires_at(&e, "ff534d42000000035a", 6), -1); /* no high bit */
    ck_assert_int_eq(fires_at(&e, "ff534d42000080035b", 6), -1); /* no Z */
    ck_assert_int_eq(fires_at(&e, "0202786e2d2d51", 8), 7);   /* 0x0202 xn-- Q */
    ck_assert_int_eq(fires_at(&e, "0201786e2d2d51", 8), -1);  /* 0x0201 */
    ck_assert_int_eq(fires_at(&e, "02786e2d2d51", 8), -1);    /* stream starts inside */
    ck_assert_int_eq(fires_at(&e, "0202786e2d2d5151", 8), 7);
    ck_assert_int_eq(fires_at(&e, "0202786e2d2d2d51", 8), -1); /* Q one too far */
    ck_assert_int_eq(fires_at(&e, "00000080", 7), 4);
    /* documented limit: anchored, so not found after a gap */
    vpt_events ev;
    vpt_scan_with_gaps(&e, "abc\xff", 1, 0, &ev);
    ck_assert_int_eq(vpt_offset_of(&ev, 7), 4);
    vpt_scan_with_gaps(&e, "ab~\xff", 1, 0, &ev);
    ck_assert_int_eq(vpt_offset_of(&ev, 7), -1);
    ck_assert_int_eq(fires_at(&e, "0000007f80", 7), -1);
    vpt_free(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bytetest");
    TCase *tc = tcase_create("expressions");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_one_byte_exhaustive);
    tcase_add_test(tc, test_two_bytes_exhaustive);
    tcase_add_test(tc, test_wider_random);
    tcase_add_test(tc, test_names_and_bounds);
    tcase_add_test(tc, test_in_rules);
    suite_add_tcase(s, tc);
    return vp_test_run_suite(s);
}
