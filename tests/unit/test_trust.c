/* Trusted distribution: signatures, rollback protection, database choice and
 * recompile fallback, hostile bundles, hot reload under traffic. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs.h>
#include <sodium.h>

#include "lib/common/bundle_codec.h"
#include "lib/common/bytes.h"
#include "lib/common/crc32.h"
#include "testutil.h"

static const char *rules_yaml =
    "format: 1\n"
    "rules:\n"
    "  - {id: 1, name: jndi, severity: critical, match: [{content: \"${jndi:\", nocase: true}]}\n"
    "  - {id: 2, name: chain, severity: high, match: [{content: GET}, {content: cmd, within: 20}]}\n"
    "  - {id: 3, name: re, severity: low, action: detect, match: [{regex: \"x[0-9]{3}y\"}]}\n";

static uint8_t pk[32], sk[64], other_pk[32], other_sk[64];

static void keys_setup(void)
{
    ck_assert_int_ge(sodium_init(), 0);
    crypto_sign_keypair(pk, sk);
    crypto_sign_keypair(other_pk, other_sk);
}

static void build(const uint8_t *secret, uint64_t serial, uint8_t **out, size_t *len)
{
    vp_compiler_t *c;
    ck_assert_int_eq(vp_compiler_create(&c), VP_OK);
    ck_assert_int_eq(vp_compiler_add_memory(c, "t.yaml", rules_yaml, strlen(rules_yaml)), VP_OK);
    vp_compiler_set_serial(c, serial);
    if (secret)
        ck_assert_int_eq(vp_compiler_set_signing_key(c, secret), VP_OK);
    ck_assert_int_eq(vp_compiler_build(c, out, len), VP_OK);
    vp_compiler_free(c);
}

static vp_status load_with(const uint8_t *data, size_t len, const uint8_t *key, uint64_t min_serial,
                           unsigned flags, int allow_recompile, vp_bundle_t **b)
{
    vp_load_options_t *o;
    ck_assert_int_eq(vp_load_options_create(&o), VP_OK);
    if (key)
        ck_assert_int_eq(vp_load_options_add_trusted_key(o, key), VP_OK);
    ck_assert_int_eq(vp_load_options_set_min_serial(o, min_serial), VP_OK);
    ck_assert_int_eq(vp_load_options_set_flags(o, flags), VP_OK);
    ck_assert_int_eq(vp_load_options_set_allow_recompile(o, allow_recompile), VP_OK);
    vp_error_t *err = NULL;
    vp_status st = vp_bundle_load_memory_ex(data, len, o, b, &err);
    ck_assert((st == VP_OK) == (err == NULL));
    ck_assert((st == VP_OK) == (*b != NULL));
    vp_error_free(err);
    vp_load_options_free(o);
    return st;
}

/* Recomputes every checksum so that only the signature can notice a change. */
static void fix_checksums(uint8_t *d)
{
    uint32_t count = vp_load_le32(d + VP_BUNDLE_OFF_SECTION_COUNT);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = d + VP_BUNDLE_HEADER_SIZE + i * VP_BUNDLE_ENTRY_SIZE;
        uint64_t off = vp_load_le64(e + 8), size = vp_load_le64(e + 16);
        vp_store_le32(e + 24, vp_crc32(0, d + off, (size_t)size));
    }
    vp_store_le32(d + VP_BUNDLE_OFF_HEADER_CRC, 0);
    vp_store_le32(d + VP_BUNDLE_OFF_HEADER_CRC,
                  vp_crc32(0, d, VP_BUNDLE_HEADER_SIZE + count * VP_BUNDLE_ENTRY_SIZE));
}

/* Sum of rule id * (offset + 1) over a fixed stream: a fingerprint of behaviour. */
static uint64_t behaviour(vp_bundle_t *b)
{
    vp_engine_t *e;
    vp_scratch_t *s;
    ck_assert_int_eq(vp_engine_create(b, NULL, &e, NULL), VP_OK);
    ck_assert_int_eq(vp_scratch_alloc(e, &s), VP_OK);
    vpt_engine t = {NULL, e, s};
    vpt_events ev;
    const char *data = "GET /?a=${JNDI:ldap://x} cmd x123y";
    vpt_scan(&t, 80, VP_DIR_TO_SERVER, data, strlen(data), 5, &ev);
    uint64_t sum = 0;
    for (size_t i = 0; i < ev.n; i++)
        sum += ev.ev[i].rule_id * (ev.ev[i].offset + 1);
    vp_scratch_free(s);
    vp_engine_free(e);
    return sum;
}

START_TEST(test_signatures)
{
    keys_setup();
    uint8_t *signed_b, *unsigned_b;
    size_t slen, ulen;
    build(sk, 10, &signed_b, &slen);
    build(NULL, 10, &unsigned_b, &ulen);
    vp_bundle_t *b = NULL;

    ck_assert_int_eq(load_with(signed_b, slen, pk, 0, 0, 1, &b), VP_OK);
    vp_bundle_stats_t st = {.size = sizeof(st)};
    ck_assert_int_eq(vp_bundle_stats(b, &st), VP_OK);
    ck_assert_int_eq(st.is_signed, 1);
    ck_assert_uint_eq(strlen(st.key_id), 16);
    uint64_t expected = behaviour(b);
    ck_assert_uint_gt(expected, 0);
    vp_bundle_free(b);

    ck_assert_int_eq(load_with(signed_b, slen, other_pk, 0, 0, 1, &b), VP_E_SIGNATURE);
    ck_assert_int_eq(load_with(unsigned_b, ulen, pk, 0, 0, 1, &b), VP_E_SIGNATURE);
    /* Without trusted keys both load; the signature is then informative only. */
    ck_assert_int_eq(load_with(signed_b, slen, NULL, 0, 0, 1, &b), VP_OK);
    vp_bundle_free(b);
    ck_assert_int_eq(load_with(unsigned_b, ulen, NULL, 0, 0, 1, &b), VP_OK);
    ck_assert_int_eq(vp_bundle_stats(b, &st), VP_OK);
    ck_assert_int_eq(st.is_signed, 0);
    ck_assert_str_eq(st.key_id, "");
    ck_assert_uint_eq(behaviour(b), expected);
    vp_bundle_free(b);

    /* A changed byte in any section, checksums repaired: only the signature
     * can tell, and it must. */
    vp_bundle_header_info h;
    ck_assert_int_eq(vp_bundle_peek(signed_b, slen, &h, NULL, 0, NULL), VP_OK);
    int checked = 0;
    for (uint32_t i = 0; i < h.section_count; i++) {
        const vp_bundle_section_info *s = &h.sections[i];
        if (s->type == VP_SECT_SIGNATURE || s->size == 0)
            continue;
        uint64_t where[3] = {s->offset, s->offset + s->size / 2, s->offset + s->size - 1};
        for (int k = 0; k < 3; k++) {
            uint8_t *copy = malloc(slen);
            memcpy(copy, signed_b, slen);
            copy[where[k]] ^= 0x01;
            fix_checksums(copy);
            vp_status got = load_with(copy, slen, pk, 0, 0, 1, &b);
            ck_assert_msg(got == VP_E_SIGNATURE, "section %s byte %llu: %s",
                          vp_bundle_section_name(s->type), (unsigned long long)where[k],
                          vp_status_str(got));
            checked++;
            free(copy);
        }
    }
    ck_assert_int_ge(checked, 24);
    /* The serial is signed too. */
    uint8_t *copy = malloc(slen);
    memcpy(copy, signed_b, slen);
    vp_store_le64(copy + VP_BUNDLE_OFF_SERIAL, 11);
    fix_checksums(copy);
    ck_assert_int_eq(load_with(copy, slen, pk, 0, 0, 1, &b), VP_E_SIGNATURE);
    free(copy);
    vp_compiler_bundle_free(signed_b);
    vp_compiler_bundle_free(unsigned_b);
}
END_TEST

START_TEST(test_rollback)
{
    uint8_t *old_b;
    size_t len;
    build(NULL, 100, &old_b, &len);
    vp_bundle_t *b = NULL;
    ck_assert_int_eq(load_with(old_b, len, NULL, 101, 0, 1, &b), VP_E_ROLLBACK);
    ck_assert_int_eq(load_with(old_b, len, NULL, 100, 0, 1, &b), VP_OK);
    vp_bundle_free(b);
    vp_compiler_bundle_free(old_b);
}
END_TEST

START_TEST(test_database_choice)
{
    uint8_t *bytes;
    size_t len;
    build(NULL, 5, &bytes, &len);
    vp_bundle_t *b = NULL;
    vp_bundle_stats_t st = {.size = sizeof(st)};

    ck_assert_int_eq(load_with(bytes, len, NULL, 0, VP_LOAD_BASELINE_ONLY, 1, &b), VP_OK);
    vp_bundle_stats(b, &st);
    ck_assert_str_eq(st.database, "baseline");
    uint64_t expected = behaviour(b);
    vp_bundle_free(b);

    ck_assert_int_eq(load_with(bytes, len, NULL, 0, 0, 1, &b), VP_OK);
    vp_bundle_stats(b, &st);
    hs_platform_info_t host;
    ck_assert_int_eq(hs_populate_platform(&host), HS_SUCCESS);
    if (host.cpu_features & HS_CPU_FEATURES_AVX2)
        ck_assert_str_ne(st.database, "baseline");
    ck_assert_uint_eq(behaviour(b), expected);
    vp_bundle_free(b);

    ck_assert_int_eq(load_with(bytes, len, NULL, 0, VP_LOAD_FORCE_RECOMPILE, 1, &b), VP_OK);
    vp_bundle_stats(b, &st);
    ck_assert_str_eq(st.database, "recompiled");
    ck_assert_uint_eq(behaviour(b), expected);
    vp_bundle_free(b);

    ck_assert_int_eq(load_with(bytes, len, NULL, 0, VP_LOAD_FORCE_RECOMPILE, 0, &b),
                     VP_E_BUNDLE_PLATFORM);
    vp_load_options_t *o;
    ck_assert_int_eq(vp_load_options_create(&o), VP_OK);
    ck_assert_int_eq(vp_load_options_set_flags(o, 4), VP_E_INVALID);
    ck_assert_int_eq(vp_load_options_set_allow_recompile(o, 2), VP_E_INVALID);
    ck_assert_int_eq(vp_load_options_add_trusted_key(o, NULL), VP_E_INVALID);
    vp_error_t *err = NULL;
    ck_assert_int_eq(vp_load_options_add_trusted_key_file(o, "/nonexistent.pub", &err), VP_E_IO);
    vp_error_free(err);
    vp_load_options_free(o);
    vp_compiler_bundle_free(bytes);
}
END_TEST

/* Truncation at every section boundary and at many other points, random bit
 * flips: always refused with a status, never a crash (ASan/valgrind runs). */
START_TEST(test_hostile_bundles)
{
    keys_setup();
    uint8_t *bytes;
    size_t len;
    build(sk, 5, &bytes, &len);
    vp_bundle_header_info h;
    ck_assert_int_eq(vp_bundle_peek(bytes, len, &h, NULL, 0, NULL), VP_OK);
    vp_bundle_t *b = NULL;
    for (uint32_t i = 0; i < h.section_count; i++) {
        size_t cuts[3] = {(size_t)h.sections[i].offset, (size_t)h.sections[i].offset + 1,
                          (size_t)(h.sections[i].offset + h.sections[i].size)};
        for (int k = 0; k < 3; k++)
            if (cuts[k] < len)
                ck_assert_int_ne(load_with(bytes, cuts[k], NULL, 0, 0, 1, &b), VP_OK);
    }
    unsigned seed = 12345;
    for (int n = 0; n < 2000; n++) {
        seed = seed * 1103515245u + 12345u;
        size_t cut = (seed >> 8) % len;
        ck_assert_int_ne(load_with(bytes, cut, NULL, 0, 0, 1, &b), VP_OK);
        uint8_t *copy = malloc(len);
        memcpy(copy, bytes, len);
        copy[(seed >> 4) % len] ^= (uint8_t)(1u << (seed % 8));
        vp_status st = load_with(copy, len, pk, 0, 0, 1, &b);
        ck_assert_msg(st != VP_OK, "flip %d accepted", n);
        free(copy);
    }
    vp_compiler_bundle_free(bytes);
}
END_TEST

/* ---------------------------------------------------------------- hot reload */

typedef struct host {
    pthread_mutex_t lock;
    vp_engine_t *current;      /* guarded by lock */
    atomic_int stop;
} host;

typedef struct scanner {
    host *h;
    long streams, events, bad;
} scanner;

static void count_event(const vp_event_t *ev, void *ctx)
{
    (void)ev;
    (*(long *)ctx)++;
}

static void *scan_loop(void *arg)
{
    scanner *sc = arg;
    vp_scratch_t *scratch = NULL;
    const char *data = "GET cmd /?a=${jndi:ldap://x}";
    size_t len = strlen(data);
    while (!atomic_load(&sc->h->stop)) {
        vp_stream_t *s;
        long events = 0;
        pthread_mutex_lock(&sc->h->lock);
        vp_engine_t *e = sc->h->current;
        vp_status st = scratch ? vp_scratch_reserve(scratch, e) : vp_scratch_alloc(e, &scratch);
        if (st == VP_OK)
            st = vp_stream_open(e, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, count_event, &events, &s);
        pthread_mutex_unlock(&sc->h->lock);
        if (st != VP_OK) {
            sc->bad++;
            continue;
        }
        /* The engine may be swapped and freed by now: the stream keeps it. */
        for (size_t at = 0; at < len; at += 4)
            if (vp_stream_scan(s, data + at, len - at < 4 ? len - at : 4, scratch) != VP_OK)
                sc->bad++;
        if (vp_stream_close(s, scratch) != VP_OK)
            sc->bad++;
        vp_stream_free(s);
        sc->streams++;
        sc->events += events;
        if (events != 2)
            sc->bad++;
    }
    vp_scratch_free(scratch);
    return NULL;
}

START_TEST(test_hot_reload)
{
    host h = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};
    uint8_t *bytes;
    size_t len;
    build(NULL, 1, &bytes, &len);
    vp_bundle_t *b;
    ck_assert_int_eq(vp_bundle_load_memory(bytes, len, &b, NULL), VP_OK);
    ck_assert_int_eq(vp_engine_create(b, NULL, &h.current, NULL), VP_OK);
    vp_bundle_free(b);
    scanner sc[2] = {{&h, 0, 0, 0}, {&h, 0, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, scan_loop, &sc[i]), 0);
    int reloads = 0, failed_loads = 0;
    for (int r = 0; r < 40; r++) {
        struct timespec pause = {0, 2000000};
        nanosleep(&pause, NULL); /* let both threads scan on the current engine */
        /* A failed load leaves the running engine untouched. */
        vp_bundle_t *nb = NULL;
        if (r % 10 == 5) {
            if (vp_bundle_load_memory(bytes, len / 2, &nb, NULL) != VP_OK)
                failed_loads++;
            continue;
        }
        ck_assert_int_eq(vp_bundle_load_memory(bytes, len, &nb, NULL), VP_OK);
        vp_engine_t *ne;
        ck_assert_int_eq(vp_engine_create(nb, NULL, &ne, NULL), VP_OK);
        vp_bundle_free(nb);
        pthread_mutex_lock(&h.lock);
        vp_engine_t *old = h.current;
        h.current = ne;
        pthread_mutex_unlock(&h.lock);
        vp_engine_free(old); /* streams still open on it keep it alive */
        reloads++;
    }
    atomic_store(&h.stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(sc[i].bad, 0);
        ck_assert_int_gt(sc[i].streams, 0);
        ck_assert_int_eq(sc[i].events, 2 * sc[i].streams);
    }
    ck_assert_int_eq(reloads, 36);
    ck_assert_int_eq(failed_loads, 4);
    vp_engine_free(h.current);
    vp_compiler_bundle_free(bytes);
}
END_TEST

START_TEST(test_engine_outlives_free)
{
    uint8_t *bytes;
    size_t len;
    build(NULL, 1, &bytes, &len);
    vp_bundle_t *b;
    vp_engine_t *e;
    vp_scratch_t *s;
    ck_assert_int_eq(vp_bundle_load_memory(bytes, len, &b, NULL), VP_OK);
    ck_assert_int_eq(vp_engine_create(b, NULL, &e, NULL), VP_OK);
    vp_bundle_free(b);
    ck_assert_int_eq(vp_scratch_alloc(e, &s), VP_OK);
    vp_stream_t *st;
    long events = 0;
    ck_assert_int_eq(vp_stream_open(e, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, count_event, &events, &st),
                     VP_OK);
    vp_engine_free(e);
    ck_assert_int_eq(vp_stream_scan(st, "${jndi:", 7, s), VP_OK);
    ck_assert_int_eq(vp_stream_close(st, s), VP_OK);
    ck_assert_int_eq(events, 1);
    vp_stream_free(st);
    vp_scratch_free(s);
    vp_compiler_bundle_free(bytes);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trust");
    TCase *tc = tcase_create("trust");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_signatures);
    tcase_add_test(tc, test_rollback);
    tcase_add_test(tc, test_database_choice);
    tcase_add_test(tc, test_hostile_bundles);
    tcase_add_test(tc, test_hot_reload);
    tcase_add_test(tc, test_engine_outlives_free);
    suite_add_tcase(s, tc);
    return vp_test_run_suite(s);
}
