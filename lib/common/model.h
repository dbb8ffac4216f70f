/*
 * The compiled rule set as both libraries see it in memory: what the compiler
 * produces, what a bundle carries, what the runtime loads.  Plain arrays with
 * indices (no pointers between records) so that it maps 1:1 onto bundle
 * sections; see docs/bundle-format.md.
 */
#ifndef VP_COMMON_MODEL_H
#define VP_COMMON_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* Largest offset/depth/within/|distance| a rule may use (fits int32). */
#define VP_MAX_POSITION 0x7fffffffu
/* Longest stretch of stream a relative condition may need to remember
 * (distance+within, or -distance for negative distances).  Bounds per-stream
 * memory: each such condition keeps a bitmap of this many bits at most. */
#define VP_MAX_LOOKBACK 65536u
/* Distinct flowbit names one bundle may use: each flow keeps one bit per
 * name (512 bytes at most). */
#define VP_MAX_FLOWBIT_NAMES 4096u
/* Farthest a byte_jump moves the position beyond the bytes it read: a jump
 * of more does not match (as a jump out of the packet in Suricata or Snort,
 * whose packets are at most 65535 bytes).  Bounds the state of the condition
 * after a jump: it remembers targets this far ahead. */
#define VP_MAX_JUMP 65535u

/* Condition flags (vp_mcond.flags). */
enum {
    VP_C_NEGATE = 1u << 0,
    VP_C_REGEX = 1u << 1,      /* atom is a regex, else a literal of `length` bytes */
    VP_C_NOCASE = 1u << 2,
    VP_C_HAS_OFFSET = 1u << 3,
    VP_C_HAS_DEPTH = 1u << 4,
    VP_C_HAS_DISTANCE = 1u << 5,
    VP_C_HAS_WITHIN = 1u << 6,
    /* bits 8..11: the inspected buffer (VP_BUF_*, lib/common/buffers.h) */
    VP_C_ALL_FLAGS = ((1u << 7) - 1) | (0xfu << 8)
};
#define VP_C_RELATIVE (VP_C_HAS_DISTANCE | VP_C_HAS_WITHIN)

/* Atom flags (vp_matom.flags); the Hyperscan flags are derived from these. */
enum {
    VP_A_REGEX = 1u << 0,
    VP_A_CASELESS = 1u << 1,   /* literal nocase, regex flag i */
    VP_A_DOTALL = 1u << 2,     /* regex flag s */
    VP_A_MULTILINE = 1u << 3,  /* regex flag m */
    VP_A_EXTENDED = 1u << 4,   /* regex flag x */
    VP_A_SINGLEMATCH = 1u << 5,/* only the first match matters (Hyperscan SINGLEMATCH) */
    VP_A_START_ANCHORED = 1u << 6, /* regex uses ^ or \A: valid only before any gap */
    VP_A_ANOMALY = 1u << 7,    /* not a pattern: `expr` names an HTTP anomaly */
    /* bits 8..11: the buffer the atom is matched in (VP_BUF_*) */
    /* Not a pattern: any single byte of the buffer (`isdataat`, `endswith`).
     * Decided from the buffer's length, never given to Hyperscan; `expr` is "". */
    VP_A_ANYBYTE = 1u << 12,
    /* Not a pattern: the bytes a byte_jump reads (JUMPS section, since 1.7).
     * Read from the stream when they arrive, never given to Hyperscan. */
    VP_A_JUMP = 1u << 13,
    VP_A_ALL_FLAGS = ((1u << 8) - 1) | (0xfu << 8) | (1u << 12) | (1u << 13)
};
/* Atoms that are not Hyperscan patterns. */
#define VP_A_NOT_PATTERN (VP_A_ANOMALY | VP_A_ANYBYTE | VP_A_JUMP)

/* Read flags (vp_mjump.flags). */
enum {
    VP_J_LITTLE = 1u << 0,  /* the bytes are little endian (else big) */
    VP_J_ALIGN = 1u << 1,   /* jump: rounded up to a multiple of 4 */
    VP_J_TEST = 1u << 2,    /* a test of the bytes (byte_test), not a jump */
    VP_J_ALL_FLAGS = 7u
};

/* Operators of a test read (vp_mjump.op), as byte_test names them. */
enum { VP_TEST_EQ, VP_TEST_NE, VP_TEST_LT, VP_TEST_LE, VP_TEST_GT, VP_TEST_GE, VP_TEST_AND,
       VP_TEST_NAND, VP_TEST_N_OPS };

/* A condition the engine decides by reading its bytes when they arrive (a
 * JUMP atom): `bytes` bytes at distance D after the previous match (within =
 * length = bytes).  A jump (byte_jump): the conditions after it count from
 * the end of those bytes plus value * multiplier (rounded up to 4 with align)
 * + post_offset.  A test (a byte_test pinned after a jump or a test, which
 * Hyperscan would otherwise have to find everywhere): it holds, ending at
 * its bytes' end, when the value compares to `value` by `op`.  One record
 * per such condition, in condition order. */
typedef struct vp_mjump {
    uint32_t cond;      /* condition index */
    uint8_t bytes;      /* 1..8 */
    uint8_t flags;      /* VP_J_* */
    uint8_t op;         /* test: VP_TEST_*; jump: 0 */
    uint32_t multiplier;  /* jump: 1..65535; test: 1 */
    uint32_t post_offset; /* jump: 0..65535; test: 0 */
    uint64_t value;     /* test: the operand; jump: 0 */
} vp_mjump;

/* Rule flags (vp_mrule.flags; stored in the high bits of the rule's service
 * byte, see docs/bundle-format.md). */
enum {
    VP_R_NOALERT = 1u << 0,   /* fires silently: no event (action detect only) */
    VP_R_FLOWBITS = 1u << 1,  /* has records in the FLOWBITS section */
    VP_R_THRESHOLD = 1u << 2, /* has a record in the THRESHOLDS section (since 1.6) */
};

/* Flowbit operations (vp_mflowbit.op), applied or checked when a rule fires. */
enum {
    VP_FB_SET = 1,
    VP_FB_UNSET = 2,
    VP_FB_TOGGLE = 3,
    VP_FB_ISSET = 4,     /* checks: the rule fires only when they hold */
    VP_FB_ISNOTSET = 5,
};

/* One flowbit operation of a rule; records are in rule order, and in the
 * order the rule lists them. */
typedef struct vp_mflowbit {
    uint32_t rule;      /* rule index */
    uint32_t name;      /* string offset: the flowbit's name */
    uint8_t op;         /* VP_FB_* */
} vp_mflowbit;

/* The alert threshold of a rule (vp_threshold_type, vp_track of vpatch.h);
 * applied by hosts through vp_alert_filter, see docs/api.md.  One record per
 * rule that has one, in rule order. */
typedef struct vp_mthreshold {
    uint32_t rule;      /* rule index */
    uint8_t type;       /* vp_threshold_type, never NONE */
    uint8_t track;      /* vp_track */
    uint32_t count;     /* >= 1 */
    uint32_t seconds;   /* >= 1 */
} vp_mthreshold;

typedef struct vp_port_range {
    uint16_t lo, hi;
} vp_port_range;

typedef struct vp_mcond {
    uint32_t atom;      /* index into atoms */
    uint32_t flags;     /* VP_C_* */
    uint32_t length;    /* literal length in bytes; 0 for a regex */
    uint32_t offset;    /* valid with VP_C_HAS_OFFSET */
    uint32_t depth;     /* valid with VP_C_HAS_DEPTH */
    int32_t distance;   /* valid with VP_C_HAS_DISTANCE */
    uint32_t within;    /* valid with VP_C_HAS_WITHIN */
} vp_mcond;

typedef struct vp_mrule {
    uint32_t id;
    uint8_t severity;   /* vp_severity */
    uint8_t action;     /* vp_action */
    uint8_t proto;      /* vp_proto */
    uint8_t direction;  /* vp_direction */
    uint8_t modes;      /* VP_MODE_BIT set */
    uint8_t service;    /* vp_service (since bundle 1.4) */
    uint8_t flags;      /* VP_R_* (since bundle 1.5) */
    int16_t cvss10;     /* CVSS * 10, -1 when absent */
    uint32_t name;      /* string offsets */
    uint32_t description;
    uint32_t cve_first, cve_count;  /* ranges in strlist */
    uint32_t ref_first, ref_count;
    uint32_t tag_first, tag_count;
    uint32_t port_first, port_count; /* ranges in ports; count 0 = any port */
    uint32_t cond_first, cond_count; /* ranges in conds, in rule order */
} vp_mrule;

typedef struct vp_matom {
    uint32_t expr;      /* string offset: the Hyperscan expression */
    uint32_t flags;     /* VP_A_* */
} vp_matom;

/* The whole model.  Arrays are owned by the model (vp_model_free). */
typedef struct vp_model {
    uint64_t serial;
    uint32_t ruleset;   /* string offset */
    char *strings;      /* NUL-terminated strings back to back; offset 0 is "" */
    size_t strings_len;
    uint32_t *strlist;  /* string offsets for cve/ref/tag lists */
    size_t n_strlist;
    vp_port_range *ports;
    size_t n_ports;
    vp_mrule *rules;
    size_t n_rules;
    vp_mcond *conds;
    size_t n_conds;
    vp_matom *atoms;
    size_t n_atoms;
    vp_mflowbit *flowbits;  /* FLOWBITS section (optional; since 1.5) */
    size_t n_flowbits;
    vp_mthreshold *thresholds; /* THRESHOLDS section (optional; since 1.6) */
    size_t n_thresholds;
    vp_mjump *jumps;        /* JUMPS section (optional; since 1.7) */
    size_t n_jumps;
    uint8_t *hs_stream_db;  /* serialized Hyperscan streaming database of all atoms */
    size_t hs_stream_db_len;
    /* Compiler side only (not decoded from bundles): the HS_BUFFER_DBS section. */
    uint8_t *hs_buffer_dbs;
    size_t hs_buffer_dbs_len;
} vp_model;

void vp_model_free(vp_model *m);

/* The JUMPS record of condition `cond`, the THRESHOLDS record of rule index
 * `rule` (records are sorted), NULL when none. */
const vp_mjump *vp_model_jump_of(const vp_model *m, size_t cond);
const vp_mthreshold *vp_model_threshold_of(const vp_model *m, size_t rule);

static inline const char *vp_model_str(const vp_model *m, uint32_t off)
{
    return off < m->strings_len ? m->strings + off : "";
}

#endif
