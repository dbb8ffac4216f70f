/*
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the same function as
 * zlib's crc32(): vp_crc32(0, "123456789", 9) == 0xCBF43926.  Hand-written so
 * the runtime library does not depend on zlib.
 */
#ifndef VP_COMMON_CRC32_H
#define VP_COMMON_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues `crc` (0 to start) over `len` bytes of `data`.  Chaining calls over
 * consecutive pieces gives the CRC of the concatenation.  data may be NULL
 * when len is 0.  Pure function, thread-safe. */
uint32_t vp_crc32(uint32_t crc, const void *data, size_t len);

#endif
