/*
 * Rule generator for vpbench: rule i (0-based) of a deterministic universe of
 * rules in a realistic mix (see the shape table in bench_rules.c).  A rule set
 * of N rules is rules 0..N-1, so smaller sets are prefixes of larger ones and
 * one traffic corpus serves them all.
 */
#ifndef VPBENCH_RULES_H
#define VPBENCH_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "bench_util.h"

#define BENCH_RULE_ID_BASE 1000000u
#define BENCH_SHAPES 10

/* One Hyperscan expression with its flags (HS_FLAG_*). */
typedef struct bench_expr {
    char *expr;
    unsigned flags;
} bench_expr;

typedef struct bench_ruleset {
    unsigned n;
    char *yaml;          /* the rule file */
    size_t yaml_len;
    uint32_t *ids;       /* n rule ids */
    bench_expr *fast;    /* n: the longest content of each rule, as a literal */
    bench_expr *all;     /* every distinct condition pattern, as the library compiles them */
    unsigned n_all;
} bench_ruleset;

int ruleset_generate(bench_ruleset *rs, unsigned n);
void ruleset_free(bench_ruleset *rs);

/* Shape of rule i (i % BENCH_SHAPES unless disabled). */
unsigned rule_shape(unsigned i);
/* Diagnosis: rules of the shapes in `mask` (bit k = shape k) become shape 0. */
void rule_shapes_disable(unsigned mask);

/* Short description of shape k (for the docs / table). */
const char *rule_shape_name(unsigned k);

/* Traffic side: appends to `out` a message that makes rule i fire on a flow
 * with server port `port` and direction `to_client`, and returns 1; returns 0
 * (appending nothing) when the rule cannot fire on such a flow or needs to be
 * at the start of the stream and `at_start` is 0.  `has_auth` says whether
 * the flow carries an Authorization header somewhere (negated rules). */
int rule_trigger(unsigned i, uint16_t port, int to_client, int tls, int at_start, int has_auth,
                 bench_buf *out);

#endif
