/* Unit tests of the example host's flow table (examples/host/flow_table.c):
 * canonical keys, LRU eviction at the bound, idle timeouts, reuse of memory. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "flow_table.h"

typedef struct user {
    int id;
    int released;
} user;

typedef struct rel_log {
    int ids[64];
    ft_reason why[64];
    int n;
} rel_log;

static void on_release(void *u, const ft_key *key, ft_reason why, void *ctx)
{
    (void)key;
    rel_log *l = ctx;
    if (l->n < 64) {
        l->ids[l->n] = ((user *)u)->id;
        l->why[l->n] = why;
    }
    l->n++;
}

static ft_key key_for(int i, int reverse)
{
    uint8_t a[16] = {10, 0, 0, (uint8_t)i}, b[16] = {192, 0, 2, 1};
    ft_key k;
    if (reverse)
        ft_key_make(&k, 4, 6, b, 80, a, (uint16_t)(40000 + i));
    else
        ft_key_make(&k, 4, 6, a, (uint16_t)(40000 + i), b, 80);
    return k;
}

START_TEST(canonical_key_both_directions)
{
    uint8_t a[16] = {10, 0, 0, 1}, b[16] = {192, 0, 2, 1};
    ft_key k1, k2;
    int s1 = ft_key_make(&k1, 4, 6, a, 40000, b, 80);
    int s2 = ft_key_make(&k2, 4, 6, b, 80, a, 40000);
    ck_assert(memcmp(&k1, &k2, sizeof(k1)) == 0);
    ck_assert_int_ne(s1, s2);
    /* Same addresses: the port decides. */
    ft_key k3, k4;
    ck_assert_int_eq(ft_key_make(&k3, 4, 17, a, 53, a, 5353), 0);
    ck_assert_int_eq(ft_key_make(&k4, 4, 17, a, 5353, a, 53), 1);
    ck_assert(memcmp(&k3, &k4, sizeof(k3)) == 0);
}
END_TEST

START_TEST(lookup_and_create)
{
    rel_log l = {0};
    ft_table *t = ft_create(8, sizeof(user), on_release, &l);
    int created;
    ft_key k = key_for(1, 0);
    user *u = ft_get(t, &k, 100, &created);
    ck_assert_ptr_nonnull(u);
    ck_assert_int_eq(created, 1);
    ck_assert_int_eq(u->id, 0);   /* zeroed */
    u->id = 1;
    ft_key r = key_for(1, 1);
    ck_assert_ptr_eq(ft_get(t, &r, 200, &created), u);
    ck_assert_int_eq(created, 0);
    ck_assert_uint_eq(ft_last_seen(u), 200);
    ck_assert(memcmp(ft_key_of(u), &k, sizeof(k)) == 0);
    ck_assert_uint_eq(ft_count(t), 1);
    ft_destroy(t);
    ck_assert_int_eq(l.n, 1);
    ck_assert_int_eq(l.why[0], FT_FLUSHED);
}
END_TEST

START_TEST(evicts_least_recently_used)
{
    rel_log l = {0};
    ft_table *t = ft_create(3, sizeof(user), on_release, &l);
    int created;
    for (int i = 1; i <= 3; i++) {
        ft_key k = key_for(i, 0);
        ((user *)ft_get(t, &k, (uint64_t)i, &created))->id = i;
    }
    ft_key k1 = key_for(1, 0);
    ft_get(t, &k1, 10, &created);   /* 1 is now the most recent; 2 the least */
    ft_key k4 = key_for(4, 0);
    ((user *)ft_get(t, &k4, 11, &created))->id = 4;
    ck_assert_int_eq(l.n, 1);
    ck_assert_int_eq(l.ids[0], 2);
    ck_assert_int_eq(l.why[0], FT_EVICTED);
    ck_assert_uint_eq(ft_count(t), 3);
    ck_assert_uint_eq(ft_get_stats(t)->evicted, 1);
    ck_assert_uint_eq(ft_get_stats(t)->peak, 3);
    ft_key k2 = key_for(2, 0);
    ft_get(t, &k2, 12, &created);
    ck_assert_int_eq(created, 1);   /* it was gone */
    ck_assert_int_eq(l.ids[1], 3);
    ft_destroy(t);
}
END_TEST

START_TEST(idle_timeout)
{
    rel_log l = {0};
    ft_table *t = ft_create(100, sizeof(user), on_release, &l);
    int created;
    for (int i = 1; i <= 5; i++) {
        ft_key k = key_for(i, 0);
        ((user *)ft_get(t, &k, (uint64_t)i * 10, &created))->id = i;
    }
    ft_expire(t, 45, 20);   /* idle > 20 at t=45: flows seen at 10 and 20 */
    ck_assert_int_eq(l.n, 2);
    ck_assert_int_eq(l.ids[0], 1);
    ck_assert_int_eq(l.ids[1], 2);
    ck_assert_int_eq(l.why[0], FT_TIMEOUT);
    ft_expire(t, 5, 0);     /* time going backwards expires nothing */
    ck_assert_int_eq(l.n, 2);
    ck_assert_uint_eq(ft_get_stats(t)->timed_out, 2);
    ft_key k3 = key_for(3, 0);
    ft_remove(t, ft_get(t, &k3, 50, &created));
    ck_assert_int_eq(l.why[2], FT_REMOVED);
    ft_flush(t);
    ck_assert_uint_eq(ft_count(t), 0);
    ck_assert_int_eq(l.n, 5);
    ft_destroy(t);
}
END_TEST

START_TEST(bounded_many_flows)
{
    rel_log l = {0};
    ft_table *t = ft_create(1000, sizeof(user), on_release, &l);
    int created;
    for (int i = 0; i < 100000; i++) {
        uint8_t a[16] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i}, b[16] = {1};
        ft_key k;
        ft_key_make(&k, 4, 6, a, 1234, b, 80);
        ck_assert_ptr_nonnull(ft_get(t, &k, (uint64_t)i, &created));
        ck_assert_int_eq(created, 1);
    }
    ck_assert_uint_eq(ft_count(t), 1000);
    ck_assert_uint_eq(ft_get_stats(t)->peak, 1000);
    ck_assert_uint_eq(ft_get_stats(t)->evicted, 99000);
    ck_assert_uint_eq(ft_get_stats(t)->created, 100000);
    ft_destroy(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("flow_table");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, canonical_key_both_directions);
    tcase_add_test(tc, lookup_and_create);
    tcase_add_test(tc, evicts_least_recently_used);
    tcase_add_test(tc, idle_timeout);
    tcase_add_test(tc, bounded_many_flows);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
