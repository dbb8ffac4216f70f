/* One engine shared by several threads, each with its own scratch, must give
 * every thread exactly the events a single thread gets. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#define N_THREADS 4
#define N_STREAMS 300

static const char *rules =
    "format: 1\n"
    "rules:\n"
    "  - {id: 1, name: a, severity: high, match: [{content: jndi}, {content: ldap, within: 10}]}\n"
    "  - {id: 2, name: b, severity: high, match: [{regex: \"x[0-9]{3}y\"}]}\n"
    "  - {id: 3, name: c, severity: high, match: [{content: GET}, {content: Z, within: 5, negate: true}]}\n";

typedef struct worker {
    vpt_engine *shared;
    uint64_t sum;   /* sum over streams of (rule id * offset) */
    int failed;
} worker;

static void stream_data(unsigned i, char *buf, size_t *len)
{
    *len = (size_t)snprintf(buf, 128, "GET %u jndi:%sldap x%03uy %s", i, (i % 3) ? "" : "0123456789",
                            i % 1000, (i % 2) ? "Z" : "");
}

static void count(const vp_event_t *ev, void *ctx)
{
    *(uint64_t *)ctx += ev->rule_id * (ev->offset + 1);
}

static void *run(void *arg)
{
    worker *w = arg;
    vp_scratch_t *scratch;
    if (vp_scratch_alloc(w->shared->engine, &scratch) != VP_OK) {
        w->failed = 1;
        return NULL;
    }
    for (unsigned i = 0; i < N_STREAMS; i++) {
        char buf[128];
        size_t len;
        stream_data(i, buf, &len);
        vp_stream_t *s;
        if (vp_stream_open(w->shared->engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, count, &w->sum,
                           &s) != VP_OK) {
            w->failed = 1;
            break;
        }
        for (size_t at = 0; at < len; at += 3)
            if (vp_stream_scan(s, buf + at, len - at < 3 ? len - at : 3, scratch) != VP_OK)
                w->failed = 1;
        if (vp_stream_close(s, scratch) != VP_OK)
            w->failed = 1;
        vp_stream_free(s);
    }
    vp_scratch_free(scratch);
    return NULL;
}

START_TEST(test_shared_engine)
{
    vpt_engine t;
    vpt_build(rules, 0, NULL, &t);
    worker single = {&t, 0, 0};
    run(&single);
    ck_assert_int_eq(single.failed, 0);
    ck_assert_uint_gt(single.sum, 0);
    pthread_t th[N_THREADS];
    worker w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){&t, 0, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, run, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(w[i].failed, 0);
        ck_assert_uint_eq(w[i].sum, single.sum);
    }
    vpt_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_shared_engine);
    suite_add_tcase(s, tc);
    return vp_test_run_suite(s);
}
