/*
 * Little-endian byte readers and writers for the bundle format.
 *
 * Everything goes byte by byte: no struct casting, no unaligned loads, so the
 * code is the same on every host and a bundle is never trusted to be aligned.
 * The reader is bounded: reading past the end sets `err` and yields zeros
 * instead of touching memory.  The writer grows on demand and remembers an
 * allocation failure in `oom` so callers check once at the end.
 */
#ifndef VP_COMMON_BYTES_H
#define VP_COMMON_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ raw loads/stores */

static inline uint16_t vp_load_le16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] | ((unsigned)p[1] << 8));
}

static inline uint32_t vp_load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t vp_load_le64(const uint8_t *p)
{
    return (uint64_t)vp_load_le32(p) | ((uint64_t)vp_load_le32(p + 4) << 32);
}

static inline void vp_store_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void vp_store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void vp_store_le64(uint8_t *p, uint64_t v)
{
    vp_store_le32(p, (uint32_t)v);
    vp_store_le32(p + 4, (uint32_t)(v >> 32));
}

/* ------------------------------------------------------------ bounded reader */

typedef struct vp_reader {
    const uint8_t *p;
    size_t len, pos;
    int err;            /* sticky: set by the first read past the end */
} vp_reader;

static inline vp_reader vp_reader_init(const uint8_t *p, size_t len)
{
    vp_reader r = { p, len, 0, 0 };
    return r;
}

static inline size_t vp_reader_left(const vp_reader *r)
{
    return r->len - r->pos;
}

/* Returns the next n bytes and advances, or NULL (and err) when fewer remain. */
static inline const uint8_t *vp_get_bytes(vp_reader *r, size_t n)
{
    if (r->err || n > r->len - r->pos) {
        r->err = 1;
        return NULL;
    }
    const uint8_t *q = r->p + r->pos;
    r->pos += n;
    return q;
}

static inline uint8_t vp_get_u8(vp_reader *r)
{
    const uint8_t *q = vp_get_bytes(r, 1);
    return q ? q[0] : 0;
}

static inline uint16_t vp_get_u16(vp_reader *r)
{
    const uint8_t *q = vp_get_bytes(r, 2);
    return q ? vp_load_le16(q) : 0;
}

static inline uint32_t vp_get_u32(vp_reader *r)
{
    const uint8_t *q = vp_get_bytes(r, 4);
    return q ? vp_load_le32(q) : 0;
}

static inline uint64_t vp_get_u64(vp_reader *r)
{
    const uint8_t *q = vp_get_bytes(r, 8);
    return q ? vp_load_le64(q) : 0;
}

/* ------------------------------------------------------------ growable writer */

typedef struct vp_writer {
    uint8_t *buf;
    size_t len, cap;
    int oom;            /* sticky: set by the first failed allocation */
} vp_writer;

/* Appends n bytes and returns where they go, or NULL (and oom). */
static inline uint8_t *vp_put_reserve(vp_writer *w, size_t n)
{
    if (w->oom)
        return NULL;
    if (n > SIZE_MAX - w->len) {
        w->oom = 1;
        return NULL;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap = cap > SIZE_MAX / 2 ? w->len + n : cap * 2;
        uint8_t *nb = (uint8_t *)realloc(w->buf, cap);
        if (!nb) {
            w->oom = 1;
            return NULL;
        }
        w->buf = nb;
        w->cap = cap;
    }
    uint8_t *q = w->buf + w->len;
    w->len += n;
    return q;
}

static inline void vp_put_u8(vp_writer *w, uint8_t v)
{
    uint8_t *q = vp_put_reserve(w, 1);
    if (q)
        q[0] = v;
}

static inline void vp_put_u16(vp_writer *w, uint16_t v)
{
    uint8_t *q = vp_put_reserve(w, 2);
    if (q)
        vp_store_le16(q, v);
}

static inline void vp_put_u32(vp_writer *w, uint32_t v)
{
    uint8_t *q = vp_put_reserve(w, 4);
    if (q)
        vp_store_le32(q, v);
}

static inline void vp_put_u64(vp_writer *w, uint64_t v)
{
    uint8_t *q = vp_put_reserve(w, 8);
    if (q)
        vp_store_le64(q, v);
}

static inline void vp_put_bytes(vp_writer *w, const void *data, size_t n)
{
    uint8_t *q = vp_put_reserve(w, n);
    if (q && n)
        memcpy(q, data, n);
}

static inline void vp_put_zeros(vp_writer *w, size_t n)
{
    uint8_t *q = vp_put_reserve(w, n);
    if (q && n)
        memset(q, 0, n);
}

static inline void vp_writer_free(vp_writer *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
    w->oom = 0;
}

#endif
