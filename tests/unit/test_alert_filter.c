/* Alert filter: the rule field `threshold` carried through compiler and
 * bundle, and applied to events per tracked host and period. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *rules =
    "format: 1\n"
    "rules:\n"
    "  - {id: 1, name: limit, severity: low, action: block, match: [{content: a}],\n"
    "     threshold: {type: limit, track: by_src, count: 2, seconds: 10}}\n"
    "  - {id: 2, name: threshold, severity: low, action: detect, match: [{content: b}],\n"
    "     threshold: {type: threshold, track: by_dst, count: 3, seconds: 10}}\n"
    "  - {id: 3, name: both, severity: low, action: detect, match: [{content: c}],\n"
    "     threshold: {type: both, track: by_both, count: 2, seconds: 10}}\n"
    "  - {id: 4, name: detection filter, severity: low, action: detect, match: [{content: d}],\n"
    "     threshold: {type: detection_filter, track: by_rule, count: 2, seconds: 10}}\n"
    "  - {id: 5, name: plain, severity: low, match: [{content: e}]}\n";

static vp_bundle_t *bundle;
static vp_alert_filter_t *filter;

static vp_address_t v4(uint8_t last)
{
    vp_address_t a;
    memset(&a, 0, sizeof a);
    a.family = 4;
    a.bytes[0] = 192, a.bytes[1] = 0, a.bytes[2] = 2, a.bytes[3] = last;
    return a;
}

static void make_filter(size_t max_entries)
{
    uint8_t *data;
    size_t len;
    vpt_compile(rules, &data, &len);
    ck_assert_int_eq(vp_bundle_load_memory(data, len, &bundle, NULL), VP_OK);
    free(data);
    ck_assert_int_eq(vp_alert_filter_create(bundle, max_entries, &filter, NULL), VP_OK);
}

static void setup(void) { make_filter(0); }

static void teardown(void)
{
    vp_alert_filter_free(filter);
    vp_bundle_free(bundle);
    filter = NULL;
    bundle = NULL;
}

/* 1 reported, 0 suppressed; fails the test on an error status. */
static int check(uint32_t id, const vp_address_t *src, const vp_address_t *dst, uint64_t t)
{
    vp_event_t ev = { .rule_id = id, .direction = VP_DIR_TO_SERVER };
    int report = -1;
    ck_assert_int_eq(vp_alert_filter_check(filter, &ev, src, dst, t, &report), VP_OK);
    ck_assert(report == 0 || report == 1);
    return report;
}

/* The reports of `n` events of rule `id` from src to dst at the times given. */
static void expect(uint32_t id, const vp_address_t *src, const vp_address_t *dst,
                   const uint64_t *times, const char *want)
{
    for (size_t i = 0; want[i]; i++)
        ck_assert_msg(check(id, src, dst, times[i]) == (want[i] == '1'),
                      "rule %u, event %zu at %llu: want %c", id, i,
                      (unsigned long long)times[i], want[i]);
}

START_TEST(test_rule_info_carries_threshold)
{
    vp_rule_info_t info = { .size = sizeof info };
    ck_assert_int_eq(vp_bundle_rule_by_id(bundle, 2, &info), VP_OK);
    ck_assert_int_eq(info.threshold_type, VP_THRESHOLD_THRESHOLD);
    ck_assert_int_eq(info.threshold_track, VP_TRACK_BY_DST);
    ck_assert_uint_eq(info.threshold_count, 3);
    ck_assert_uint_eq(info.threshold_seconds, 10);
    ck_assert_int_eq(vp_bundle_rule_by_id(bundle, 5, &info), VP_OK);
    ck_assert_int_eq(info.threshold_type, VP_THRESHOLD_NONE);
    /* an older caller's smaller struct is filled up to its size only */
    vp_rule_info_t old;
    memset(&old, 0xab, sizeof old);
    old.size = offsetof(vp_rule_info_t, threshold_type);
    ck_assert_int_eq(vp_bundle_rule_by_id(bundle, 1, &old), VP_OK);
    ck_assert_uint_eq(old.id, 1);
    ck_assert_int_eq((int)old.threshold_type, (int)0xabababab);
}
END_TEST

START_TEST(test_limit_per_source_and_period)
{
    vp_address_t a = v4(1), b = v4(2), srv = v4(9);
    static const uint64_t t[] = { 100, 101, 105, 109, 110, 111, 112 };
    /* two per period; the period starts at the first event (100..109) */
    expect(1, &a, &srv, t, "1100110");
    /* another source has its own count */
    static const uint64_t u[] = { 105, 106, 107 };
    expect(1, &b, &srv, u, "110");
}
END_TEST

START_TEST(test_threshold_every_nth)
{
    vp_address_t cli = v4(1), other = v4(3), srv = v4(9);
    static const uint64_t t[] = { 0, 1, 2, 3, 4, 5, 6, 10, 11, 12 };
    /* by_dst: the sources do not matter; every 3rd of the period, and a new
     * period at 10 starts counting again */
    for (size_t i = 0; i < 10; i++) {
        int want = i == 2 || i == 5 || i == 9;
        ck_assert_int_eq(check(2, i % 2 ? &cli : &other, &srv, t[i]), want);
    }
}
END_TEST

START_TEST(test_both_once_per_period_either_way_round)
{
    vp_address_t cli = v4(1), srv = v4(9), third = v4(5);
    static const uint64_t t[] = { 0, 1, 2, 3, 20, 21 };
    for (size_t i = 0; i < 6; i++) {
        int want = i == 1 || i == 5;
        /* the pair is the same key whichever side sent */
        ck_assert_int_eq(i % 2 ? check(3, &srv, &cli, t[i]) : check(3, &cli, &srv, t[i]), want);
    }
    ck_assert_int_eq(check(3, &cli, &third, 21), 0);
}
END_TEST

START_TEST(test_detection_filter_after_count)
{
    static const uint64_t t[] = { 0, 1, 2, 3, 10, 11, 12 };
    /* by_rule needs no addresses */
    expect(4, NULL, NULL, t, "0011001");
}
END_TEST

START_TEST(test_unfiltered_events_always_reported)
{
    vp_address_t a = v4(1);
    for (uint64_t t = 0; t < 5; t++) {
        ck_assert_int_eq(check(5, &a, &a, t), 1);
        ck_assert_int_eq(check(777, NULL, NULL, t), 1); /* not in the bundle */
    }
    vp_alert_filter_stats_t st = { .size = sizeof st };
    ck_assert_int_eq(vp_alert_filter_stats(filter, &st), VP_OK);
    ck_assert_uint_eq(st.checked, 10);
    ck_assert_uint_eq(st.suppressed, 0);
    ck_assert_uint_eq(st.entries, 0);
}
END_TEST

START_TEST(test_address_bytes_beyond_family_ignored)
{
    vp_address_t a = v4(1), a2 = v4(1), srv = v4(9);
    memset(a2.bytes + 4, 0x77, 12);
    ck_assert_int_eq(check(1, &a, &srv, 0), 1);
    ck_assert_int_eq(check(1, &a2, &srv, 0), 1);
    ck_assert_int_eq(check(1, &a, &srv, 0), 0);
    /* the same four bytes as IPv6 are another host */
    vp_address_t six = a;
    six.family = 6;
    ck_assert_int_eq(check(1, &six, &srv, 0), 1);
}
END_TEST

START_TEST(test_time_before_period_counts_inside)
{
    vp_address_t a = v4(1), srv = v4(9);
    static const uint64_t t[] = { 100, 50, 99, 110 };
    expect(1, &a, &srv, t, "1101");
}
END_TEST

START_TEST(test_bad_arguments)
{
    vp_address_t a = v4(1), six = v4(2);
    six.family = 6;
    vp_address_t bad = a;
    bad.family = 5;
    vp_event_t ev = { .rule_id = 1 };
    int report = -1;
    ck_assert_int_eq(vp_alert_filter_check(filter, &ev, NULL, &a, 0, &report), VP_E_INVALID);
    ck_assert_int_eq(vp_alert_filter_check(filter, &ev, &bad, &a, 0, &report), VP_E_INVALID);
    ev.rule_id = 2;   /* by_dst */
    ck_assert_int_eq(vp_alert_filter_check(filter, &ev, &a, NULL, 0, &report), VP_E_INVALID);
    ck_assert_int_eq(vp_alert_filter_check(filter, &ev, NULL, &a, 0, &report), VP_OK);
    ev.rule_id = 3;   /* by_both: one family */
    ck_assert_int_eq(vp_alert_filter_check(filter, &ev, &a, &six, 0, &report), VP_E_INVALID);
    ck_assert_int_eq(vp_alert_filter_check(NULL, &ev, &a, &a, 0, &report), VP_E_INVALID);
    ck_assert_int_eq(vp_alert_filter_check(filter, NULL, &a, &a, 0, &report), VP_E_INVALID);
    ck_assert_int_eq(vp_alert_filter_check(filter, &ev, &a, &a, 0, NULL), VP_E_INVALID);
    vp_alert_filter_t *f = (vp_alert_filter_t *)&report;
    vp_error_t *err = NULL;
    ck_assert_int_eq(vp_alert_filter_create(NULL, 0, &f, &err), VP_E_INVALID);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(err);
    vp_error_free(err);
    ck_assert_int_eq(vp_alert_filter_create(bundle, (size_t)1 << 23, &f, &err), VP_E_INVALID);
    ck_assert_str_eq(vp_error_message(err),
                     "alert filter: max_entries 8388608 is over the limit 4194304");
    vp_error_free(err);
    vp_alert_filter_stats_t st = { .size = 0 };
    ck_assert_int_eq(vp_alert_filter_stats(filter, &st), VP_E_INVALID);
}
END_TEST

/* One entry: a second host is not tracked (reported), until the first
 * host's period is over and its slot can be taken. */
START_TEST(test_full_table_reports)
{
    teardown();
    make_filter(1);
    vp_address_t a = v4(1), b = v4(2), srv = v4(9);
    ck_assert_int_eq(check(4, &a, &srv, 0), 0);   /* by_rule takes the one entry */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(check(1, &b, &srv, 1), 1);
    vp_alert_filter_stats_t st = { .size = sizeof st };
    ck_assert_int_eq(vp_alert_filter_stats(filter, &st), VP_OK);
    ck_assert_uint_eq(st.untracked, 3);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_uint_eq(st.capacity, 1);
    /* rule 4's period (0..9) is over at 10: host b takes the slot */
    ck_assert_int_eq(check(1, &b, &srv, 10), 1);
    ck_assert_int_eq(check(1, &b, &srv, 10), 1);
    ck_assert_int_eq(check(1, &b, &srv, 10), 0);
    ck_assert_int_eq(vp_alert_filter_stats(filter, &st), VP_OK);
    ck_assert_uint_eq(st.untracked, 3);
    ck_assert_uint_eq(st.suppressed, 2);
}
END_TEST

/* The filter copies what it needs: the bundle may go first. */
START_TEST(test_outlives_bundle)
{
    vp_bundle_free(bundle);
    bundle = NULL;
    vp_address_t a = v4(1), srv = v4(9);
    static const uint64_t t[] = { 0, 0, 0 };
    expect(1, &a, &srv, t, "110");
}
END_TEST

/* Many hosts at once: each keeps its own count (no slot is shared). */
START_TEST(test_many_hosts)
{
    vp_address_t srv = v4(9);
    for (int round = 0; round < 3; round++)
        for (uint32_t h = 0; h < 5000; h++) {
            vp_address_t a;
            memset(&a, 0, sizeof a);
            a.family = 6;
            memcpy(a.bytes, &h, sizeof h);
            ck_assert_int_eq(check(1, &a, &srv, 0), round < 2);
        }
    vp_alert_filter_stats_t st = { .size = sizeof st };
    ck_assert_int_eq(vp_alert_filter_stats(filter, &st), VP_OK);
    ck_assert_uint_eq(st.entries, 5000);
    ck_assert_uint_eq(st.untracked, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alert_filter");
    TCase *tc = tcase_create("filter");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_rule_info_carries_threshold);
    tcase_add_test(tc, test_limit_per_source_and_period);
    tcase_add_test(tc, test_threshold_every_nth);
    tcase_add_test(tc, test_both_once_per_period_either_way_round);
    tcase_add_test(tc, test_detection_filter_after_count);
    tcase_add_test(tc, test_unfiltered_events_always_reported);
    tcase_add_test(tc, test_address_bytes_beyond_family_ignored);
    tcase_add_test(tc, test_time_before_period_counts_inside);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_full_table_reports);
    tcase_add_test(tc, test_outlives_bundle);
    tcase_add_test(tc, test_many_hosts);
    suite_add_tcase(s, tc);
    return vp_test_run_suite(s);
}
