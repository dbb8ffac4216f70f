/*
 * Bundle binary format: encoder (compiler side) and validating decoder
 * (runtime side) between a vp_model and bundle bytes.  The layout is
 * specified normatively in docs/bundle-format.md; the constants below are the
 * numbers of that document.
 */
#ifndef VP_COMMON_BUNDLE_CODEC_H
#define VP_COMMON_BUNDLE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "vpatch/vpatch.h"
#include "model.h"

/* File signature, PNG style: 0x89 catches 7-bit channels, CR LF and LF catch
 * newline translation, 0x1A stops `type` on DOS. */
#define VP_BUNDLE_MAGIC "\x89VPB\r\n\x1a\n"
#define VP_BUNDLE_MAGIC_LEN 8

#define VP_BUNDLE_MAJOR 1
#define VP_BUNDLE_MINOR 7

#define VP_BUNDLE_HEADER_SIZE 48     /* fixed header, major 1 */
#define VP_BUNDLE_ENTRY_SIZE 32      /* one section table entry */
#define VP_BUNDLE_MAX_SECTIONS 64    /* section_count limit */
#define VP_BUNDLE_ALIGN 8            /* section offsets are multiples of this */

/* Header field offsets (used for error offsets and by tests). */
#define VP_BUNDLE_OFF_MAJOR 8
#define VP_BUNDLE_OFF_MINOR 10
#define VP_BUNDLE_OFF_FLAGS 12
#define VP_BUNDLE_OFF_SERIAL 16
#define VP_BUNDLE_OFF_HEADER_SIZE 24
#define VP_BUNDLE_OFF_SECTION_COUNT 28
#define VP_BUNDLE_OFF_FILE_SIZE 32
#define VP_BUNDLE_OFF_HEADER_CRC 40
#define VP_BUNDLE_OFF_RESERVED 44

/* Section entry flags. */
#define VP_BUNDLE_SECTION_REQUIRED 1u

/* Section types.  0 is never valid. */
enum {
    VP_SECT_META = 1,          /* required: ruleset name */
    VP_SECT_STRINGS = 2,       /* required: string pool */
    VP_SECT_STRLIST = 3,       /* required: string offset lists */
    VP_SECT_PORTS = 4,         /* required: port ranges */
    VP_SECT_ATOMS = 5,         /* required: Hyperscan expressions */
    VP_SECT_CONDS = 6,         /* required: rule conditions */
    VP_SECT_RULES = 7,         /* required: rules */
    VP_SECT_HS_STREAM_DB = 8,  /* required: serialized Hyperscan stream database */
    VP_SECT_SIGNATURE = 9,     /* optional: Ed25519 signature (minor 1) */
    VP_SECT_HS_DB_VARIANTS = 10, /* optional: databases for other CPU targets (minor 1) */
    VP_SECT_HS_BUFFER_DBS = 11,  /* optional: databases of the HTTP buffers (minor 2) */
    VP_SECT_FLOWBITS = 12,     /* optional: flowbit operations of rules (minor 5) */
    VP_SECT_THRESHOLDS = 13,   /* optional: alert thresholds of rules (minor 6) */
    VP_SECT_JUMPS = 14,        /* optional: byte_jump parameters (minor 7) */
    VP_SECT_LAST_KNOWN = 14
};

/* Record sizes inside the array sections (after the 8-byte count header). */
#define VP_BUNDLE_ARRAY_HEADER 8
#define VP_BUNDLE_META_SIZE 8
#define VP_BUNDLE_STRLIST_REC 4
#define VP_BUNDLE_PORT_REC 4
#define VP_BUNDLE_ATOM_REC 8
#define VP_BUNDLE_COND_REC 28
#define VP_BUNDLE_RULE_REC 60
#define VP_BUNDLE_FLOWBIT_REC 12
#define VP_BUNDLE_THRESHOLD_REC 16
#define VP_BUNDLE_JUMP_REC 24

/* The rule record's service byte: service in bits 0-3, rule flags above. */
#define VP_RULE_SERVICE_MASK 0x0fu
#define VP_RULE_THRESHOLD_BIT 0x20u
#define VP_RULE_NOALERT_BIT 0x40u
#define VP_RULE_FLOWBITS_BIT 0x80u

/* Name of a section type ("STRINGS", ...), "unknown" for others.  Never NULL. */
const char *vp_bundle_section_name(uint32_t type);

/* One section table entry as stored. */
typedef struct vp_bundle_section_info {
    uint32_t type;
    uint32_t flags;     /* VP_BUNDLE_SECTION_REQUIRED */
    uint64_t offset;    /* from the start of the bundle */
    uint64_t size;      /* bytes, padding excluded */
    uint32_t crc;       /* CRC-32 of the section bytes */
} vp_bundle_section_info;

/* Header and section table as stored. */
typedef struct vp_bundle_header_info {
    uint16_t major, minor;
    uint32_t flags;
    uint64_t serial;
    uint32_t header_size;
    uint32_t section_count;
    uint64_t file_size;
    uint32_t header_crc;
    vp_bundle_section_info sections[VP_BUNDLE_MAX_SECTIONS]; /* table order */
} vp_bundle_header_info;

/* 0 on success, -1 on out of memory (or a model too large for the format:
 * more than 2^32-1 records or a string pool over 4 GiB).  *out is malloc'd and
 * owned by the caller.  Fields of a condition whose VP_C_HAS_* flag is absent
 * are written as 0.  The model is not validated: the compiler checks its output
 * by decoding it.  An empty string pool is written as a single NUL. */
int vp_bundle_encode(const vp_model *m, uint8_t **out, size_t *len);

/* An optional section appended after the standard ones. */
typedef struct vp_bundle_extra {
    uint32_t type;
    const uint8_t *data;
    size_t size;
} vp_bundle_extra;

/* Like vp_bundle_encode, followed by the given optional sections in order. */
int vp_bundle_encode_ex(const vp_model *m, const vp_bundle_extra *extra, size_t n_extra,
                        uint8_t **out, size_t *len);

/* Validates the header, section table, layout and checksums (not the section
 * contents) and fills *info.  Status, errbuf and *erroff as for decode.
 * errbuf may be NULL / errcap 0; erroff may be NULL. */
vp_status vp_bundle_peek(const uint8_t *data, size_t len, vp_bundle_header_info *info,
                         char *errbuf, size_t errcap, int64_t *erroff);

/* Validates EVERYTHING and fills *out (owned copies; free with vp_model_free).
 * On failure returns the status (VP_E_BUNDLE_FORMAT, VP_E_BUNDLE_VERSION,
 * VP_E_BUNDLE_CHECKSUM, VP_E_NOMEM; VP_E_INVALID for a NULL out or NULL data
 * with len > 0), leaves *out zeroed, writes a message into errbuf (always
 * NUL-terminated when errcap > 0) and the byte offset of the fault into
 * *erroff (-1 when no offset applies).  Does not print; thread-safe. */
vp_status vp_bundle_decode(const uint8_t *data, size_t len, vp_model *out,
                           char *errbuf, size_t errcap, int64_t *erroff);

/* 1 when checksum mismatches are errors, 0 in a fuzzing build
 * (-DVP_FUZZING_BUILD), where they are ignored so fuzzers reach deep code. */
int vp_bundle_checksums_enforced(void);

#endif
