/*
 * Rule sources after reading: every field of the YAML rule language, decoded
 * and type-checked, with the source position of each node for diagnostics.
 * Produced by reader.c, consumed by plan.c.
 */
#ifndef VP_COMPILE_AST_H
#define VP_COMPILE_AST_H

#include <stddef.h>
#include <stdint.h>

#include "../common/model.h"
#include "diag.h"

typedef struct vp_src_cond {
    vp_mark mark;           /* the condition mapping */
    vp_mark pattern_mark;   /* the content/hex/regex value */
    vp_mark buffer_mark;    /* the buffer value (the condition when absent) */
    int is_regex;
    int is_anomaly;         /* `anomaly: NAME`: bytes hold the name */
    int is_anybyte;         /* `isdataat`, or the check `endswith` adds: any one byte */
    int is_bytetest;        /* `byte_test`: bytes hold its expression, len its width */
    int bt_op, bt_little;   /* byte_test: vp_bt_op, byte order */
    uint64_t bt_value;
    int is_jump;            /* `byte_jump`: len bytes read; bytes is a placeholder */
    int bj_little, bj_align;
    uint32_t bj_mult, bj_post;
    int endswith;           /* `endswith: true`: the reader appends that check */
    uint8_t *bytes;         /* literal bytes, regex text or anomaly name; NUL-terminated */
    size_t len;             /* literal length / regex text length */
    uint32_t flags;         /* VP_C_* (HAS_*, NEGATE, NOCASE, REGEX) */
    uint32_t atom_flags;    /* VP_A_* for the regex flags (i s m x) */
    uint32_t offset, depth, within;
    int32_t distance;
} vp_src_cond;

typedef struct vp_src_test {
    vp_mark mark;
    uint8_t *data;          /* owned; may contain NUL bytes */
    size_t len;
    int expect_match;       /* 1 match, 0 nomatch */
    int direction;          /* vp_direction, 0 = rule default */
    int has_port;
    uint16_t port;
} vp_src_test;

typedef struct vp_src_flowbit {
    vp_mark mark;
    int op;                 /* VP_FB_* */
    char *name;
} vp_src_flowbit;

typedef struct vp_src_rule {
    vp_mark mark;           /* the rule mapping */
    vp_mark id_mark;
    const char *file;       /* borrowed from vp_src_file.path */
    uint32_t id;
    char *name;
    char *description;      /* NULL when absent */
    char **cves; size_t n_cves;
    char **refs; size_t n_refs;
    char **tags; size_t n_tags;
    int severity;           /* vp_severity */
    int has_cvss;
    double cvss;
    unsigned modes;         /* VP_MODE_BIT set; default security */
    int action;             /* vp_action; default block */
    int proto;              /* vp_proto; default tcp */
    int direction;          /* vp_direction; default to_server */
    int service;            /* vp_service; default any */
    vp_mark service_mark;
    vp_src_flowbit *flowbits; size_t n_flowbits;
    int noalert;
    vp_mark noalert_mark;
    int threshold_type;     /* vp_threshold_type; NONE when absent */
    int threshold_track;    /* vp_track */
    uint32_t threshold_count, threshold_seconds;
    vp_mark threshold_mark;
    vp_port_range *ports; size_t n_ports; /* n_ports 0 = any */
    vp_src_cond *conds; size_t n_conds;
    vp_src_test *tests; size_t n_tests;
} vp_src_rule;

typedef struct vp_src_file {
    char *path;             /* as given: used in diagnostics */
    char *ruleset;          /* NULL when absent */
    vp_src_rule *rules; size_t n_rules;
} vp_src_file;

/* Parses one YAML source.  Appends every problem found to `diags` (all of them,
 * not only the first) and fills `out` with the rules that were read, even when
 * some had errors, so that later checks can still report theirs.  Returns 0,
 * or -1 when out of memory. */
int vp_reader_parse(const char *path, const uint8_t *text, size_t len, vp_src_file *out,
                    vp_diags *diags);
void vp_src_file_free(vp_src_file *f);

#endif
