/*
 * A reference evaluator of the rule language (format 1, docs/rule-format.md):
 * decides whether one rule fires on one whole stream, and at which offset.
 *
 * It is deliberately slow and simple: it lists every match of every pattern
 * (brute force over all start positions), then searches the satisfying
 * assignments of every chain.  It shares no code with lib/ and is meant to be
 * read next to the documentation.  Regexes are run with PCRE2 (DFA matching,
 * which lists every end for a given start), so only the regex subset on which
 * PCRE2 and Hyperscan agree may be given to it: literals, classes, `.`,
 * quantifiers, alternation and groups; no anchors, back-references or
 * look-around.
 */
#ifndef VP_ORACLE_H
#define VP_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* One condition of a rule, as written in the YAML. */
typedef struct orc_cond {
    int is_regex;         /* 0: content bytes, 1: regex text */
    const char *pattern;  /* the bytes (content) or the pattern text (regex) */
    size_t len;           /* length of pattern in bytes */
    int nocase;           /* content only: ASCII case-insensitive */
    const char *flags;    /* regex only: letters from "ismx"; NULL = none */
    int has_offset, has_depth, has_distance, has_within;
    int64_t offset, depth, distance, within;
    int negate;
    /* isdataat: the stream has a byte (not lost in a gap) at position `dataat`,
     * or with has_distance at E + distance (`distance` is then that N and
     * there is no pattern); such a condition ends its chain. */
    int is_dataat;
    int64_t dataat;
    /* endswith: only matches that end where the stream ends count. */
    int endswith;
    /* byte_test: a pattern of bt_bytes bytes (no `pattern`) whose unsigned
     * value, big or little endian, compares to bt_value by bt_op. */
    int is_bytetest;
    int bt_bytes, bt_little, bt_op;
    uint64_t bt_value;
    /* byte_jump: a pattern of bj_bytes bytes (any value, no `pattern`) whose
     * next relative condition counts from its end + the value (big or little
     * endian) * bj_mult, rounded up to 4 with bj_align, + bj_post; a value
     * that moves more than 65535 bytes has no match. */
    int is_jump;
    int bj_bytes, bj_little, bj_align;
    uint32_t bj_mult, bj_post;
} orc_cond;

/* byte_test operators, as the rule language names them. */
enum { ORC_BT_EQ, ORC_BT_NE, ORC_BT_LT, ORC_BT_LE, ORC_BT_GT, ORC_BT_GE, ORC_BT_AND, ORC_BT_NAND };

/* A stream is a list of segments: `len` bytes of data, then `gap` lost bytes
 * (0: no gap).  Segment data may be empty (a gap at the start, two gaps in a
 * row). */
typedef struct orc_segment {
    const uint8_t *data;
    size_t len;
    uint64_t gap;
} orc_segment;

typedef struct orc_result {
    int fires;        /* 1 when the rule fires on the stream */
    int64_t offset;   /* the offset at which it becomes true (when fires) */
} orc_result;

/* Evaluates the rule `conds[0..n)` on the stream.  The rule must follow the
 * compiler's rules: the first condition is not relative, no relative
 * condition follows a negated one, no regex is relative.  Returns 0, or -1
 * when the rule breaks them, a regex does not compile or memory runs out (a
 * message goes to err). */
int orc_eval(const orc_cond *conds, size_t n, const orc_segment *segs, size_t n_segs,
             orc_result *out, char *err, size_t err_len);

/* Ends of the matches of positive pattern condition c that lie in its
 * absolute window (offset/depth; a relative window is not applied), sorted,
 * without repeats: where the rule language checks a waiting rule's flowbits
 * again.  *ends is malloc'd (NULL when none).  Returns 0 or -1 (err). */
int orc_match_ends(const orc_cond *c, const orc_segment *segs, size_t n_segs, int64_t **ends,
                   size_t *n_ends, char *err, size_t err_len);

#endif
