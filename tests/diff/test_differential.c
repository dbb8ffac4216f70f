/*
 * Differential test: the engine against the oracle on a fixed, deterministic
 * set of random cases (rule sets x streams).  Any disagreement is printed in
 * full (YAML, stream bytes, gaps, chunk boundaries) with the command that
 * replays it: diffrun --seed S --set I --stream K.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "diffcase.h"

#define SEED 20240611u
#define STREAMS_PER_SET 4u
/* Under ASan/UBSan (.ci/sanitize) the run looks for memory errors rather than
 * for coverage, and every Hyperscan compile is much slower: fewer cases. */
#if defined(__SANITIZE_ADDRESS__)
#define VP_DIFF_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VP_DIFF_SANITIZED 1
#endif
#endif
#ifdef VP_DIFF_SANITIZED
#define SETS_PER_BLOCK 50u /* 2000 cases */
#else
#define SETS_PER_BLOCK 250u /* 10 x 250 x 4 = 10000 cases */
#endif
#define BLOCKS 10

START_TEST(test_block)
{
    dc_config cfg = {.seed = SEED, .streams_per_set = STREAMS_PER_SET, .log = stderr,
                     .max_printed = 5};
    dc_stats stats = {0};
    for (unsigned i = 0; i < SETS_PER_BLOCK; i++)
        dc_run_set(&cfg, (uint64_t)_i * SETS_PER_BLOCK + i, &stats);
    fprintf(stderr,
            "block %d: %zu cases (%zu firing, %zu not firing rule results), %zu failed, "
            "%zu only on known issues\n",
            _i, stats.cases, stats.fired, stats.not_fired, stats.failed, stats.known);
    ck_assert_msg(stats.failed == 0, "%zu of %zu cases disagree with the oracle (seed %u)",
                  stats.failed, stats.cases, SEED);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("differential");
    TCase *tc = tcase_create("engine-vs-oracle");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_block, 0, BLOCKS);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
