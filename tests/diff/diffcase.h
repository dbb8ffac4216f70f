/*
 * Differential testing of the engine against the oracle (tests/oracle).
 *
 * A "set" is a random rule set (1-6 rules) compiled once; each set is run
 * against several random streams, and every (set, stream) pair is a case.
 * Everything is derived from (seed, set index, stream index) by a
 * deterministic PRNG, so any case can be replayed on its own.
 */
#ifndef VP_DIFFCASE_H
#define VP_DIFFCASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vpatch/vpatch.h"
#include "../oracle/oracle.h"

#define DC_MAX_RULES 6
#define DC_MAX_CONDS 4
#define DC_MAX_PAT 16
#define DC_MAX_SEGS 5
#define DC_MAX_BYTES 4000 /* 300 in most cases; up to 4000 in "big" sets */

/* Flowbit operations as the rule language names them. */
enum { DC_FB_SET = 1, DC_FB_UNSET, DC_FB_TOGGLE, DC_FB_ISSET, DC_FB_ISNOTSET };

typedef struct dc_rule {
    uint32_t id;
    vp_proto proto;
    vp_direction dir;
    vp_action action;
    const char *severity;
    const char *modes;            /* YAML flow list */
    char ports_yaml[48];          /* as written in the YAML */
    int port_any;
    size_t n_ranges;
    uint16_t lo[4], hi[4];
    size_t n_conds;
    orc_cond conds[DC_MAX_CONDS];
    char pat[DC_MAX_CONDS][DC_MAX_PAT + 1];
    char flags[DC_MAX_CONDS][5];
    int as_hex[DC_MAX_CONDS];
    int service_http;             /* `service: http` (tcp rules only) */
    size_t n_fb;                  /* flowbits: operations (DC_FB_*) on names 'x', 'y' */
    int fb_op[2];
    char fb_name[2];
    int noalert;
} dc_rule;

typedef struct dc_set {
    uint64_t seed, index;
    int allow_gaps; /* no regex offset in this set, so streams may have gaps */
    int big;        /* large windows and long streams (wrap-around of engine state) */
    size_t n_rules;
    dc_rule rules[DC_MAX_RULES];
} dc_set;

typedef struct dc_chunking {
    size_t n;
    uint16_t len[DC_MAX_BYTES + DC_MAX_SEGS]; /* per segment, in order, summing to its length */
} dc_chunking;

typedef struct dc_stream {
    vp_proto proto;
    uint16_t port;
    vp_direction dir;
    size_t n_segs;
    orc_segment segs[DC_MAX_SEGS];
    uint8_t bytes[DC_MAX_BYTES];
    dc_chunking chunks[2]; /* two scans with different cuts (tcp only) */
} dc_stream;

typedef struct dc_config {
    uint64_t seed;
    unsigned streams_per_set;
    FILE *log;          /* disagreements are printed here (NULL: silent) */
    int verbose;        /* print every case, not only failing ones */
    size_t max_printed; /* stop printing full cases after this many */
    int strict;         /* count disagreements on known issues as failures */
    int one_stream;     /* run only stream number `stream` of each set */
    unsigned stream;
} dc_config;

typedef struct dc_stats {
    size_t cases, passed, failed, printed;
    size_t known;       /* passed cases with a disagreement on a known issue */
    size_t fired;       /* (rule, case) pairs where the oracle fires */
    size_t not_fired;   /* applicable (rule, case) pairs where it does not */
    size_t ambiguous;   /* flowbit rule results not compared (two due at one offset) */
} dc_stats;

/* Generates set `index`, compiles it, and runs it against its streams. */
void dc_run_set(const dc_config *cfg, uint64_t index, dc_stats *stats);

/* Shrinks a disagreeing case (set `index`, stream k) by removing rules,
 * conditions, modifiers, gaps and bytes while it still disagrees, and prints
 * the result. */
void dc_shrink(const dc_config *cfg, uint64_t index, unsigned k, FILE *f);
/* Whether case (set `index`, stream k) disagrees (quiet). */
int dc_case_fails(uint64_t seed, uint64_t index, unsigned k, int strict);

/* Pieces, for tests that build their own cases (regressions.c). */
void dc_gen_set(uint64_t seed, uint64_t index, dc_set *set);
void dc_gen_stream(const dc_set *set, uint64_t k, dc_stream *st);
/* Renders the YAML source of a set into buf; returns 0, -1 when it does not fit. */
int dc_set_yaml(const dc_set *set, char *buf, size_t cap);

/* Compiled engine of a YAML source (tests off, every rule enabled). */
typedef struct dc_engine {
    vp_bundle_t *bundle;
    vp_engine_t *engine;
    vp_scratch_t *scratch;
} dc_engine;
/* Returns 0, or -1 with a message in err. */
int dc_engine_build(const char *yaml, dc_engine *out, char *err, size_t err_len);
void dc_engine_free(dc_engine *e);

#define DC_MAX_EVENTS 32
typedef struct dc_events {
    size_t n;
    vp_event_t ev[DC_MAX_EVENTS];
    size_t dropped;
    vp_verdict verdict;
    int api_error; /* a vp_* call failed */
} dc_events;

/* Runs a stream through the engine with chunking 0 or 1 (ignored for udp). */
void dc_engine_run(const dc_engine *e, const dc_stream *st, int chunking, dc_events *out);

/* What the rule language says rule r does on the stream: the oracle's
 * verdict, narrowed by `service: http` (docs/rule-format.md, Services).
 * Flowbits are not applied (see dc_expected_set).  Returns 0, or -1 with a
 * message in err. */
int dc_expected(const dc_rule *r, const dc_stream *st, orc_result *out, char *err,
                size_t err_len);

/* The events of every rule of the set on the stream: dc_expected for the
 * rules that apply, then flowbits played out in offset order (each rule
 * fires at the first of its holding point and later matches of its
 * patterns where its checks hold; noalert rules have no event).  When two
 * rules that touch flowbits are due at one offset the order is not defined:
 * *ambiguous is set and those rules' results must not be compared. */
int dc_expected_set(const dc_set *set, const dc_stream *st, orc_result out[DC_MAX_RULES],
                    int *ambiguous, char *err, size_t err_len);

/* Whether rule r applies to the stream (proto, port, direction). */
int dc_rule_applies(const dc_rule *r, const dc_stream *st);

/* Prints the stream (segments in hex, gaps, chunkings). */
void dc_print_stream(FILE *f, const dc_stream *st);

#endif
