/*
 * diffrun: long differential runs of the engine against the oracle.
 *
 *   diffrun [--seed S] [--cases N] [--streams K] [--print P] [--verbose]
 *   diffrun --seed S --set I [--stream K]     replay one set (or one case) verbosely
 *   diffrun --seed S --set I --stream K --shrink   shrink a failing case to a small one
 *   diffrun --seed S --cases N --shrink            shrink every failing case of a run
 *
 * N cases are N/K random rule sets, each run on K random streams.  Prints each
 * disagreement in full (the first P of them), then "N passed, M failed".
 * Disagreements on already reported engine bugs (see known_issue() in
 * diffcase.c) are counted apart unless --strict.  Exit status 0 when nothing
 * failed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diffcase.h"

static void usage(void)
{
    fprintf(stderr, "usage: diffrun [--seed S] [--cases N] [--streams K] [--print P] [--verbose] [--strict]\n"
                    "       diffrun [--seed S] [--cases N] --shrink\n"
                    "       diffrun --seed S --set I [--stream K] [--shrink]\n");
    exit(2);
}

static uint64_t num(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (!*s || *end)
        usage();
    return (uint64_t)v;
}

int main(int argc, char **argv)
{
    dc_config cfg = {.seed = 1, .streams_per_set = 4, .log = stdout, .max_printed = 20};
    uint64_t cases = 10000, set = 0;
    int one_set = 0, shrink = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--verbose")) {
            cfg.verbose = 1;
            continue;
        }
        if (!strcmp(a, "--strict")) {
            cfg.strict = 1;
            continue;
        }
        if (!strcmp(a, "--shrink")) {
            shrink = 1;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--seed"))
            cfg.seed = num(v);
        else if (!strcmp(a, "--cases"))
            cases = num(v);
        else if (!strcmp(a, "--streams"))
            cfg.streams_per_set = (unsigned)num(v);
        else if (!strcmp(a, "--print"))
            cfg.max_printed = (size_t)num(v);
        else if (!strcmp(a, "--set"))
            set = num(v), one_set = 1;
        else if (!strcmp(a, "--stream"))
            cfg.stream = (unsigned)num(v), cfg.one_stream = 1;
        else
            usage();
    }
    if (!cfg.streams_per_set)
        usage();
    dc_stats stats = {0};
    clock_t t0 = clock();
    if (shrink && one_set) {
        if (!cfg.one_stream)
            usage();
        dc_shrink(&cfg, set, cfg.stream, stdout);
        return 0;
    }
    if (shrink) { /* shrink every failing case of the run */
        uint64_t sets = (cases + cfg.streams_per_set - 1) / cfg.streams_per_set;
        for (uint64_t i = 0; i < sets; i++)
            for (unsigned k = 0; k < cfg.streams_per_set; k++) {
                stats.cases++;
                if (dc_case_fails(cfg.seed, i, k, cfg.strict)) {
                    stats.failed++;
                    dc_shrink(&cfg, i, k, stdout);
                } else {
                    stats.passed++;
                }
            }
        printf("%zu passed, %zu failed\n", stats.passed, stats.failed);
        return stats.failed ? 1 : 0;
    }
    if (one_set) {
        cfg.verbose = 1;
        dc_run_set(&cfg, set, &stats);
    } else {
        uint64_t sets = (cases + cfg.streams_per_set - 1) / cfg.streams_per_set;
        for (uint64_t i = 0; i < sets; i++)
            dc_run_set(&cfg, i, &stats);
    }
    printf("seed %" PRIu64 ": %zu cases, %zu rule results firing, %zu not firing, %.1f s cpu\n",
           cfg.seed, stats.cases, stats.fired, stats.not_fired,
           (double)(clock() - t0) / CLOCKS_PER_SEC);
    if (stats.known)
        printf("%zu of the passed cases disagree only on known issues (--strict counts them)\n",
               stats.known);
    if (stats.ambiguous)
        printf("%zu flowbit rule results not compared: two flowbit rules due at one offset\n",
               stats.ambiguous);
    printf("%zu passed, %zu failed\n", stats.passed, stats.failed);
    return stats.failed ? 1 : 0;
}
