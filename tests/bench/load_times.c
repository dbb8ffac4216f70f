/*
 * Bundle load costs for a generated rule set (default 1,000 rules): plain
 * load, load with the signature check, load forced to recompile the
 * patterns, and the compile itself.  Prints JSON; a benchmark, not a test.
 * usage: load_times [RULES]
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpatch/vpatch.h"
#include "vpatch/vpatch_compile.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median wall time of `reps` loads with the given options. */
static double load_ms(const uint8_t *b, size_t len, const vp_load_options_t *o, int reps)
{
    double t[16];
    for (int i = 0; i < reps; i++) {
        vp_bundle_t *bundle = NULL;
        double t0 = now_ms();
        if (vp_bundle_load_memory_ex(b, len, o, &bundle, NULL) != VP_OK)
            return -1;
        t[i] = now_ms() - t0;
        vp_bundle_free(bundle);
    }
    qsort(t, (size_t)reps, sizeof(double), cmp);
    return t[reps / 2];
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000;
    size_t cap = (size_t)n * 160 + 64, len = 0;
    char *yaml = malloc(cap);
    if (!yaml || sodium_init() < 0)
        return 1;
    len += (size_t)snprintf(yaml, cap, "format: 1\nrules:\n");
    for (unsigned i = 0; i < n; i++)
        len += (size_t)snprintf(yaml + len, cap - len,
                                "  - {id: %u, name: r%u, severity: high, match: [{content: "
                                "\"GET /p%u\"}, {content: \"x=%u\", within: 100}]}\n",
                                i + 1, i, i, i);
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    vp_compiler_t *c;
    uint8_t *bundle;
    size_t blen;
    vp_compiler_create(&c);
    vp_compiler_add_memory(c, "gen.yaml", yaml, len);
    vp_compiler_set_signing_key(c, sk);
    double t0 = now_ms();
    if (vp_compiler_build(c, &bundle, &blen) != VP_OK)
        return 1;
    double compile_ms = now_ms() - t0;
    vp_compiler_free(c);
    free(yaml);

    vp_load_options_t *plain, *keyed, *recompile;
    vp_load_options_create(&plain);
    vp_load_options_create(&keyed);
    vp_load_options_add_trusted_key(keyed, pk);
    vp_load_options_create(&recompile);
    vp_load_options_set_flags(recompile, VP_LOAD_FORCE_RECOMPILE);
    double p = load_ms(bundle, blen, plain, 9);
    double k = load_ms(bundle, blen, keyed, 9);
    double r = load_ms(bundle, blen, recompile, 3);
    printf("{\"rules\": %u, \"bundle_bytes\": %zu, \"compile_ms\": %.1f, \"load_ms\": %.2f, "
           "\"load_signed_verified_ms\": %.2f, \"load_recompile_ms\": %.1f}\n",
           n, blen, compile_ms, p, k, r);
    vp_load_options_free(plain);
    vp_load_options_free(keyed);
    vp_load_options_free(recompile);
    vp_compiler_bundle_free(bundle);
    return 0;
}
