/*
 * The HS_DB_VARIANTS section: Hyperscan databases built for CPU targets
 * beyond the baseline one in HS_STREAM_DB.  Layout (little-endian):
 *   u32 count, u32 reserved (0)
 *   count times: u64 cpu_features (Hyperscan HS_CPU_FEATURES_* bits),
 *                u32 tune (HS_TUNE_FAMILY_*), u32 reserved (0), u64 size,
 *                32 bytes Hyperscan version (NUL-padded),
 *                size bytes serialized database, zero padding to 8 bytes.
 */
#ifndef VP_COMMON_DBVARIANTS_H
#define VP_COMMON_DBVARIANTS_H

#include <stddef.h>
#include <stdint.h>

#define VP_MAX_DB_VARIANTS 8
#define VP_HS_VERSION_LEN 32

typedef struct vp_db_variant {
    uint64_t cpu_features;
    uint32_t tune;
    char hs_version[VP_HS_VERSION_LEN + 1];
    const uint8_t *db;     /* points into the section */
    uint64_t size;
} vp_db_variant;

/* Parses with every length checked; returns the count, or -1 when malformed
 * (*bad_at is then the offset inside the section). */
int vp_db_variants_parse(const uint8_t *p, uint64_t size, vp_db_variant *out, uint64_t *bad_at);

/* Serializes; returns a malloc'd buffer, NULL when out of memory. */
uint8_t *vp_db_variants_write(const vp_db_variant *v, size_t n, size_t *len);

/*
 * The HS_BUFFER_DBS section: one streaming database per HTTP buffer that has
 * conditions (baseline target), ids being global atom indices.
 *   u32 count, u32 reserved (0)
 *   count times: u32 buffer (VP_BUF_*), u32 reserved (0), u64 size,
 *                size bytes serialized database, zero padding to 8 bytes.
 */
typedef struct vp_buffer_db {
    uint32_t buf;
    const uint8_t *db;
    uint64_t size;
} vp_buffer_db;

#define VP_MAX_BUFFER_DBS 16

int vp_buffer_dbs_parse(const uint8_t *p, uint64_t size, vp_buffer_db *out, uint64_t *bad_at);
uint8_t *vp_buffer_dbs_write(const vp_buffer_db *v, size_t n, size_t *len);

#endif
