#include "dbvariants.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"

/* A blob of `size` bytes followed by zero padding to a multiple of 8. */
static const uint8_t *get_padded(vp_reader *r, uint64_t size)
{
    const uint8_t *blob = vp_get_bytes(r, (size_t)size);
    size_t pad = (size_t)((8 - size % 8) % 8);
    const uint8_t *zeros = vp_get_bytes(r, pad);
    for (size_t k = 0; zeros && k < pad; k++)
        if (zeros[k])
            return NULL;
    return r->err || !zeros ? NULL : blob;
}

static void put_padded(vp_writer *w, const uint8_t *blob, uint64_t size)
{
    vp_put_bytes(w, blob, (size_t)size);
    vp_put_zeros(w, (size_t)((8 - size % 8) % 8));
}

int vp_db_variants_parse(const uint8_t *p, uint64_t size, vp_db_variant *out, uint64_t *bad_at)
{
    vp_reader r = vp_reader_init(p, (size_t)size);
    uint32_t count = vp_get_u32(&r);
    uint32_t reserved = vp_get_u32(&r);
    if (r.err || reserved || count > VP_MAX_DB_VARIANTS) {
        *bad_at = 0;
        return -1;
    }
    for (uint32_t i = 0; i < count; i++) {
        size_t at = r.pos;
        vp_db_variant *v = &out[i];
        v->cpu_features = vp_get_u64(&r);
        v->tune = vp_get_u32(&r);
        uint32_t res = vp_get_u32(&r);
        v->size = vp_get_u64(&r);
        const uint8_t *ver = vp_get_bytes(&r, VP_HS_VERSION_LEN);
        if (r.err || res || v->size == 0 || v->size > vp_reader_left(&r)) {
            *bad_at = at;
            return -1;
        }
        memcpy(v->hs_version, ver, VP_HS_VERSION_LEN);
        v->hs_version[VP_HS_VERSION_LEN] = '\0';
        v->db = get_padded(&r, v->size);
        if (!v->db) {
            *bad_at = at;
            return -1;
        }
    }
    if (vp_reader_left(&r)) {
        *bad_at = r.pos;
        return -1;
    }
    return (int)count;
}

uint8_t *vp_db_variants_write(const vp_db_variant *v, size_t n, size_t *len)
{
    vp_writer w = {0};
    vp_put_u32(&w, (uint32_t)n);
    vp_put_u32(&w, 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t ver[VP_HS_VERSION_LEN] = {0};
        size_t vl = strlen(v[i].hs_version);
        memcpy(ver, v[i].hs_version, vl < VP_HS_VERSION_LEN ? vl : VP_HS_VERSION_LEN);
        vp_put_u64(&w, v[i].cpu_features);
        vp_put_u32(&w, v[i].tune);
        vp_put_u32(&w, 0);
        vp_put_u64(&w, v[i].size);
        vp_put_bytes(&w, ver, sizeof(ver));
        put_padded(&w, v[i].db, v[i].size);
    }
    if (w.oom) {
        vp_writer_free(&w);
        return NULL;
    }
    *len = w.len;
    return w.buf;
}

int vp_buffer_dbs_parse(const uint8_t *p, uint64_t size, vp_buffer_db *out, uint64_t *bad_at)
{
    vp_reader r = vp_reader_init(p, (size_t)size);
    uint32_t count = vp_get_u32(&r);
    uint32_t reserved = vp_get_u32(&r);
    if (r.err || reserved || count > VP_MAX_BUFFER_DBS) {
        *bad_at = 0;
        return -1;
    }
    for (uint32_t i = 0; i < count; i++) {
        size_t at = r.pos;
        out[i].buf = vp_get_u32(&r);
        uint32_t res = vp_get_u32(&r);
        out[i].size = vp_get_u64(&r);
        if (r.err || res || out[i].size == 0 || out[i].size > vp_reader_left(&r)) {
            *bad_at = at;
            return -1;
        }
        out[i].db = get_padded(&r, out[i].size);
        if (!out[i].db) {
            *bad_at = at;
            return -1;
        }
    }
    if (vp_reader_left(&r)) {
        *bad_at = r.pos;
        return -1;
    }
    return (int)count;
}

uint8_t *vp_buffer_dbs_write(const vp_buffer_db *v, size_t n, size_t *len)
{
    vp_writer w = {0};
    vp_put_u32(&w, (uint32_t)n);
    vp_put_u32(&w, 0);
    for (size_t i = 0; i < n; i++) {
        vp_put_u32(&w, v[i].buf);
        vp_put_u32(&w, 0);
        vp_put_u64(&w, v[i].size);
        put_padded(&w, v[i].db, v[i].size);
    }
    if (w.oom) {
        vp_writer_free(&w);
        return NULL;
    }
    *len = w.len;
    return w.buf;
}
