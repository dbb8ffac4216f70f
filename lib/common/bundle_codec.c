/*
 * Bundle encoder and validating decoder.  docs/bundle-format.md is the
 * normative description; every check here is a rule of that document, and a
 * bundle is untrusted input: nothing is used before it has been bounded.
 */
#include "bundle_codec.h"
#include "buffers.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "crc32.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__) || defined(__clang__)
#define VP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define VP_PRINTF(f, a)
#endif

#define MODE_MASK (VP_MODE_BIT(VP_MODE_PERFORMANCE) | VP_MODE_BIT(VP_MODE_SECURITY))

/* ================================================================ common */

static const char *const section_names[VP_SECT_LAST_KNOWN + 1] = {
    [VP_SECT_META] = "META",
    [VP_SECT_STRINGS] = "STRINGS",
    [VP_SECT_STRLIST] = "STRLIST",
    [VP_SECT_PORTS] = "PORTS",
    [VP_SECT_ATOMS] = "ATOMS",
    [VP_SECT_CONDS] = "CONDS",
    [VP_SECT_RULES] = "RULES",
    [VP_SECT_HS_STREAM_DB] = "HS_STREAM_DB",
    [VP_SECT_SIGNATURE] = "SIGNATURE",
    [VP_SECT_HS_DB_VARIANTS] = "HS_DB_VARIANTS",
    [VP_SECT_HS_BUFFER_DBS] = "HS_BUFFER_DBS",
    [VP_SECT_FLOWBITS] = "FLOWBITS",
    [VP_SECT_THRESHOLDS] = "THRESHOLDS",
    [VP_SECT_JUMPS] = "JUMPS",
};

const char *vp_bundle_section_name(uint32_t type)
{
    if (type == 0 || type > VP_SECT_LAST_KNOWN)
        return "unknown";
    return section_names[type];
}

int vp_bundle_checksums_enforced(void)
{
#ifdef VP_FUZZING_BUILD
    return 0;
#else
    return 1;
#endif
}

/* Types this version defines as required; every one must appear once. */
static int type_is_required(uint32_t type)
{
    return type >= VP_SECT_META && type <= VP_SECT_HS_STREAM_DB;
}

static int type_is_known(uint32_t type)
{
    return type >= 1 && type <= VP_SECT_LAST_KNOWN;
}

static uint64_t align_up(uint64_t v)
{
    return (v + (VP_BUNDLE_ALIGN - 1)) & ~(uint64_t)(VP_BUNDLE_ALIGN - 1);
}

static size_t table_end_for(uint32_t count)
{
    return VP_BUNDLE_HEADER_SIZE + (size_t)count * VP_BUNDLE_ENTRY_SIZE;
}

/* CRC of header and table with the header_crc field taken as zero, so the
 * field can live inside the bytes it protects (as in GPT). */
static uint32_t header_crc(const uint8_t *d, size_t table_end)
{
    static const uint8_t zero[4];
    uint32_t crc = vp_crc32(0, d, VP_BUNDLE_OFF_HEADER_CRC);
    crc = vp_crc32(crc, zero, sizeof zero);
    return vp_crc32(crc, d + VP_BUNDLE_OFF_HEADER_CRC + 4,
                    table_end - (VP_BUNDLE_OFF_HEADER_CRC + 4));
}

/* ================================================================ encoder */

static void put_array_header(vp_writer *w, size_t n)
{
    vp_put_u32(w, (uint32_t)n);
    vp_put_u32(w, 0);
}

static void enc_meta(vp_writer *w, const vp_model *m)
{
    vp_put_u32(w, m->ruleset);
    vp_put_u32(w, 0);
}

static void enc_strings(vp_writer *w, const vp_model *m)
{
    if (m->strings_len == 0)
        vp_put_u8(w, 0);    /* offset 0 must still be "" */
    else
        vp_put_bytes(w, m->strings, m->strings_len);
}

static void enc_strlist(vp_writer *w, const vp_model *m)
{
    put_array_header(w, m->n_strlist);
    for (size_t i = 0; i < m->n_strlist; i++)
        vp_put_u32(w, m->strlist[i]);
}

static void enc_ports(vp_writer *w, const vp_model *m)
{
    put_array_header(w, m->n_ports);
    for (size_t i = 0; i < m->n_ports; i++) {
        vp_put_u16(w, m->ports[i].lo);
        vp_put_u16(w, m->ports[i].hi);
    }
}

static void enc_atoms(vp_writer *w, const vp_model *m)
{
    put_array_header(w, m->n_atoms);
    for (size_t i = 0; i < m->n_atoms; i++) {
        vp_put_u32(w, m->atoms[i].expr);
        vp_put_u32(w, m->atoms[i].flags);
    }
}

/* Absent optional fields are written as 0: readers demand it, which keeps
 * the encoding canonical whatever the in-memory struct held. */
static void enc_cond(vp_writer *w, const vp_mcond *k)
{
    vp_put_u32(w, k->atom);
    vp_put_u32(w, k->flags);
    vp_put_u32(w, k->length);
    vp_put_u32(w, (k->flags & VP_C_HAS_OFFSET) ? k->offset : 0);
    vp_put_u32(w, (k->flags & VP_C_HAS_DEPTH) ? k->depth : 0);
    vp_put_u32(w, (k->flags & VP_C_HAS_DISTANCE) ? (uint32_t)k->distance : 0);
    vp_put_u32(w, (k->flags & VP_C_HAS_WITHIN) ? k->within : 0);
}

static void enc_conds(vp_writer *w, const vp_model *m)
{
    put_array_header(w, m->n_conds);
    for (size_t i = 0; i < m->n_conds; i++)
        enc_cond(w, &m->conds[i]);
}

static void enc_rule(vp_writer *w, const vp_mrule *r)
{
    vp_put_u32(w, r->id);
    vp_put_u8(w, r->severity);
    vp_put_u8(w, r->action);
    vp_put_u8(w, r->proto);
    vp_put_u8(w, r->direction);
    vp_put_u8(w, r->modes);
    vp_put_u8(w, (uint8_t)(r->service | (r->flags & VP_R_NOALERT ? VP_RULE_NOALERT_BIT : 0) |
                           (r->flags & VP_R_FLOWBITS ? VP_RULE_FLOWBITS_BIT : 0) |
                           (r->flags & VP_R_THRESHOLD ? VP_RULE_THRESHOLD_BIT : 0)));
    vp_put_u16(w, (uint16_t)r->cvss10);
    vp_put_u32(w, r->name);
    vp_put_u32(w, r->description);
    vp_put_u32(w, r->cve_first);
    vp_put_u32(w, r->cve_count);
    vp_put_u32(w, r->ref_first);
    vp_put_u32(w, r->ref_count);
    vp_put_u32(w, r->tag_first);
    vp_put_u32(w, r->tag_count);
    vp_put_u32(w, r->port_first);
    vp_put_u32(w, r->port_count);
    vp_put_u32(w, r->cond_first);
    vp_put_u32(w, r->cond_count);
}

static void enc_rules(vp_writer *w, const vp_model *m)
{
    put_array_header(w, m->n_rules);
    for (size_t i = 0; i < m->n_rules; i++)
        enc_rule(w, &m->rules[i]);
}

static void enc_hsdb(vp_writer *w, const vp_model *m)
{
    vp_put_bytes(w, m->hs_stream_db, m->hs_stream_db_len);
}

static void enc_flowbits(vp_writer *w, const vp_model *m)
{
    put_array_header(w, m->n_flowbits);
    for (size_t i = 0; i < m->n_flowbits; i++) {
        vp_put_u32(w, m->flowbits[i].rule);
        vp_put_u32(w, m->flowbits[i].name);
        vp_put_u8(w, m->flowbits[i].op);
        vp_put_zeros(w, 3);
    }
}

static void enc_thresholds(vp_writer *w, const vp_model *m)
{
    put_array_header(w, m->n_thresholds);
    for (size_t i = 0; i < m->n_thresholds; i++) {
        const vp_mthreshold *t = &m->thresholds[i];
        vp_put_u32(w, t->rule);
        vp_put_u8(w, t->type);
        vp_put_u8(w, t->track);
        vp_put_zeros(w, 2);
        vp_put_u32(w, t->count);
        vp_put_u32(w, t->seconds);
    }
}

static void enc_jumps(vp_writer *w, const vp_model *m)
{
    put_array_header(w, m->n_jumps);
    for (size_t i = 0; i < m->n_jumps; i++) {
        const vp_mjump *j = &m->jumps[i];
        vp_put_u32(w, j->cond);
        vp_put_u8(w, j->bytes);
        vp_put_u8(w, j->flags);
        vp_put_u8(w, j->op);
        vp_put_zeros(w, 1);
        vp_put_u32(w, j->multiplier);
        vp_put_u32(w, j->post_offset);
        vp_put_u64(w, j->value);
    }
}

typedef struct section_emitter {
    uint32_t type;
    void (*emit)(vp_writer *, const vp_model *);
} section_emitter;

/* Emission order: small metadata first, the big opaque database last. */
static const section_emitter enc_order[] = {
    { VP_SECT_META, enc_meta },       { VP_SECT_STRINGS, enc_strings },
    { VP_SECT_STRLIST, enc_strlist }, { VP_SECT_PORTS, enc_ports },
    { VP_SECT_ATOMS, enc_atoms },     { VP_SECT_CONDS, enc_conds },
    { VP_SECT_RULES, enc_rules },     { VP_SECT_HS_STREAM_DB, enc_hsdb },
};

/* The standard sections, then the optional ones this model needs: a bundle
 * without flowbits or thresholds stays as older versions wrote it. */
static size_t model_sections(const vp_model *m, section_emitter out[VP_BUNDLE_MAX_SECTIONS])
{
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_LEN(enc_order); i++)
        out[n++] = enc_order[i];
    if (m->n_flowbits)
        out[n++] = (section_emitter){ VP_SECT_FLOWBITS, enc_flowbits };
    if (m->n_thresholds)
        out[n++] = (section_emitter){ VP_SECT_THRESHOLDS, enc_thresholds };
    if (m->n_jumps)
        out[n++] = (section_emitter){ VP_SECT_JUMPS, enc_jumps };
    return n;
}

/* The format stores counts and string offsets as u32. */
static int model_fits(const vp_model *m)
{
    return m->strings_len <= UINT32_MAX && m->n_strlist <= UINT32_MAX &&
           m->n_ports <= UINT32_MAX && m->n_atoms <= UINT32_MAX &&
           m->n_conds <= UINT32_MAX && m->n_rules <= UINT32_MAX && m->n_flowbits <= UINT32_MAX &&
           m->n_thresholds <= UINT32_MAX && m->n_jumps <= UINT32_MAX;
}

static void pad_to_align(vp_writer *w)
{
    vp_put_zeros(w, (size_t)(align_up(w->len) - w->len));
}

static void write_entry(uint8_t *p, uint32_t type, const uint8_t *data, size_t off, size_t size)
{
    vp_store_le32(p, type);
    vp_store_le32(p + 4, type_is_required(type) ? VP_BUNDLE_SECTION_REQUIRED : 0);
    vp_store_le64(p + 8, off);
    vp_store_le64(p + 16, size);
    vp_store_le32(p + 24, vp_crc32(0, data + off, size));
    vp_store_le32(p + 28, 0);
}

static void write_header(uint8_t *p, uint64_t serial, uint32_t count, size_t file_size)
{
    memcpy(p, VP_BUNDLE_MAGIC, VP_BUNDLE_MAGIC_LEN);
    vp_store_le16(p + VP_BUNDLE_OFF_MAJOR, VP_BUNDLE_MAJOR);
    vp_store_le16(p + VP_BUNDLE_OFF_MINOR, VP_BUNDLE_MINOR);
    vp_store_le32(p + VP_BUNDLE_OFF_FLAGS, 0);
    vp_store_le64(p + VP_BUNDLE_OFF_SERIAL, serial);
    vp_store_le32(p + VP_BUNDLE_OFF_HEADER_SIZE, VP_BUNDLE_HEADER_SIZE);
    vp_store_le32(p + VP_BUNDLE_OFF_SECTION_COUNT, count);
    vp_store_le64(p + VP_BUNDLE_OFF_FILE_SIZE, file_size);
    vp_store_le32(p + VP_BUNDLE_OFF_RESERVED, 0);
    vp_store_le32(p + VP_BUNDLE_OFF_HEADER_CRC, header_crc(p, table_end_for(count)));
}

int vp_bundle_encode(const vp_model *m, uint8_t **out, size_t *len)
{
    return vp_bundle_encode_ex(m, NULL, 0, out, len);
}

int vp_bundle_encode_ex(const vp_model *m, const vp_bundle_extra *extra, size_t n_extra,
                        uint8_t **out, size_t *len)
{
    if (!out || !len)
        return -1;
    *out = NULL;
    *len = 0;
    if (!m || !model_fits(m))
        return -1;
    section_emitter own[VP_BUNDLE_MAX_SECTIONS];
    size_t N = model_sections(m, own);
    if (n_extra > VP_BUNDLE_MAX_SECTIONS - N || (n_extra && !extra))
        return -1;

    size_t count = N + n_extra;
    size_t off[VP_BUNDLE_MAX_SECTIONS], size[VP_BUNDLE_MAX_SECTIONS];
    vp_writer w = { 0 };
    vp_put_zeros(&w, table_end_for((uint32_t)count)); /* header and table, filled last */
    for (size_t i = 0; i < count; i++) {
        pad_to_align(&w);
        off[i] = w.len;
        if (i < N)
            own[i].emit(&w, m);
        else
            vp_put_bytes(&w, extra[i - N].data, extra[i - N].size);
        size[i] = w.len - off[i];
    }
    pad_to_align(&w);
    if (w.oom) {
        vp_writer_free(&w);
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        write_entry(w.buf + VP_BUNDLE_HEADER_SIZE + i * VP_BUNDLE_ENTRY_SIZE,
                    i < N ? own[i].type : extra[i - N].type,
                    w.buf, off[i], size[i]);
    write_header(w.buf, m->serial, (uint32_t)count, w.len);
    *out = w.buf;
    *len = w.len;
    return 0;
}

/* ================================================================ errors */

typedef struct errsink {
    char *buf;
    size_t cap;
    int64_t *off;
} errsink;

VP_PRINTF(4, 5)
static vp_status fail(const errsink *e, vp_status st, int64_t off, const char *fmt, ...)
{
    if (e->buf && e->cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->buf, e->cap, fmt, ap);
        va_end(ap);
    }
    if (e->off)
        *e->off = off;
    return st;
}

static void clear_error(const errsink *e)
{
    if (e->buf && e->cap)
        e->buf[0] = '\0';
    if (e->off)
        *e->off = -1;
}

static vp_status checksum_mismatch(const errsink *e, int64_t off, const char *what,
                                   uint32_t stored, uint32_t computed)
{
    if (!vp_bundle_checksums_enforced())
        return VP_OK;
    return fail(e, VP_E_BUNDLE_CHECKSUM, off,
                "%s checksum mismatch (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32 ")",
                what, stored, computed);
}

/* ================================================================ header and table */

static vp_status check_magic(const uint8_t *d, size_t len, const errsink *e)
{
    size_t n = len < VP_BUNDLE_MAGIC_LEN ? len : VP_BUNDLE_MAGIC_LEN;
    if (n && memcmp(d, VP_BUNDLE_MAGIC, n) != 0)
        return fail(e, VP_E_BUNDLE_FORMAT, 0, "not a bundle (bad magic)");
    if (len < VP_BUNDLE_HEADER_SIZE)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)len,
                    "truncated header: %zu of %d bytes", len, VP_BUNDLE_HEADER_SIZE);
    return VP_OK;
}

static void read_header(const uint8_t *d, vp_bundle_header_info *h)
{
    vp_reader r = vp_reader_init(d + VP_BUNDLE_MAGIC_LEN,
                                 VP_BUNDLE_HEADER_SIZE - VP_BUNDLE_MAGIC_LEN);
    h->major = vp_get_u16(&r);
    h->minor = vp_get_u16(&r);
    h->flags = vp_get_u32(&r);
    h->serial = vp_get_u64(&r);
    h->header_size = vp_get_u32(&r);
    h->section_count = vp_get_u32(&r);
    h->file_size = vp_get_u64(&r);
    h->header_crc = vp_get_u32(&r);
}

/* What must hold before the header CRC can even be computed. */
static vp_status check_header_shape(const vp_bundle_header_info *h, size_t len, const errsink *e)
{
    if (h->major != VP_BUNDLE_MAJOR)
        return fail(e, VP_E_BUNDLE_VERSION, VP_BUNDLE_OFF_MAJOR,
                    "bundle format %u.%u is not supported (this reader handles %d.x)",
                    h->major, h->minor, VP_BUNDLE_MAJOR);
    if (h->header_size != VP_BUNDLE_HEADER_SIZE)
        return fail(e, VP_E_BUNDLE_FORMAT, VP_BUNDLE_OFF_HEADER_SIZE,
                    "header size %" PRIu32 ", expected %d", h->header_size, VP_BUNDLE_HEADER_SIZE);
    if (h->section_count == 0 || h->section_count > VP_BUNDLE_MAX_SECTIONS)
        return fail(e, VP_E_BUNDLE_FORMAT, VP_BUNDLE_OFF_SECTION_COUNT,
                    "section count %" PRIu32 " outside 1..%d", h->section_count,
                    VP_BUNDLE_MAX_SECTIONS);
    if (table_end_for(h->section_count) > len)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)len,
                    "truncated section table: %zu bytes needed, %zu present",
                    table_end_for(h->section_count), len);
    return VP_OK;
}

static vp_status check_header_fields(const uint8_t *d, const vp_bundle_header_info *h,
                                     size_t len, const errsink *e)
{
    if (h->flags != 0)
        return fail(e, VP_E_BUNDLE_FORMAT, VP_BUNDLE_OFF_FLAGS,
                    "reserved header flag bits set (0x%08" PRIx32 ")", h->flags);
    if (vp_load_le32(d + VP_BUNDLE_OFF_RESERVED) != 0)
        return fail(e, VP_E_BUNDLE_FORMAT, VP_BUNDLE_OFF_RESERVED,
                    "reserved header field is not zero");
    if (h->file_size != len)
        return fail(e, VP_E_BUNDLE_FORMAT, VP_BUNDLE_OFF_FILE_SIZE,
                    "header says the bundle has %" PRIu64 " bytes but it has %zu "
                    "(truncated or extended)", h->file_size, len);
    return VP_OK;
}

static vp_status check_header(const uint8_t *d, size_t len, vp_bundle_header_info *h,
                              const errsink *e)
{
    vp_status st = check_magic(d, len, e);
    if (st)
        return st;
    read_header(d, h);
    st = check_header_shape(h, len, e);
    if (st)
        return st;
    uint32_t crc = header_crc(d, table_end_for(h->section_count));
    if (crc != h->header_crc) {
        st = checksum_mismatch(e, VP_BUNDLE_OFF_HEADER_CRC, "header", h->header_crc, crc);
        if (st)
            return st;
    }
    return check_header_fields(d, h, len, e);
}

static void read_entry(const uint8_t *p, vp_bundle_section_info *s)
{
    vp_reader r = vp_reader_init(p, VP_BUNDLE_ENTRY_SIZE);
    s->type = vp_get_u32(&r);
    s->flags = vp_get_u32(&r);
    s->offset = vp_get_u64(&r);
    s->size = vp_get_u64(&r);
    s->crc = vp_get_u32(&r);
}

/* Type and flag rules of one entry (eoff = where the entry is stored). */
static vp_status check_entry_kind(const uint8_t *d, const vp_bundle_section_info *s,
                                  size_t eoff, const errsink *e)
{
    if (s->flags & ~VP_BUNDLE_SECTION_REQUIRED)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)eoff + 4,
                    "section entry has reserved flag bits set (0x%08" PRIx32 ")", s->flags);
    if (vp_load_le32(d + eoff + 28) != 0)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)eoff + 28,
                    "section entry reserved field is not zero");
    if (s->type == 0)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)eoff, "section type 0 is invalid");
    int required = (s->flags & VP_BUNDLE_SECTION_REQUIRED) != 0;
    if (!type_is_known(s->type)) {
        if (required)
            return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)eoff,
                        "unknown required section type %" PRIu32, s->type);
        return VP_OK;       /* unknown optional: skipped by this reader */
    }
    if (required != type_is_required(s->type))
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)eoff + 4,
                    "section %s must %shave the required flag", vp_bundle_section_name(s->type),
                    required ? "not " : "");
    return VP_OK;
}

/* Sections are packed in table order: each starts at the 8-aligned end of
 * the previous one (the first right after the table), so every byte of the
 * file belongs to the header, the table, a section or zero padding. */
static vp_status check_entry_place(const uint8_t *d, size_t len, const vp_bundle_section_info *s,
                                   uint64_t prev_end, size_t eoff, const errsink *e)
{
    if (s->offset > len || s->size > len - s->offset)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)eoff + 8,
                    "section %s (offset %" PRIu64 ", size %" PRIu64 ") extends past the end "
                    "of the bundle (%zu bytes)", vp_bundle_section_name(s->type), s->offset,
                    s->size, len);
    if (s->offset % VP_BUNDLE_ALIGN)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)eoff + 8,
                    "section %s offset %" PRIu64 " is not %d-byte aligned",
                    vp_bundle_section_name(s->type), s->offset, VP_BUNDLE_ALIGN);
    uint64_t want = align_up(prev_end);
    if (s->offset < want)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)eoff + 8,
                    "section %s at offset %" PRIu64 " overlaps the header, table or previous "
                    "section (next free offset %" PRIu64 ")", vp_bundle_section_name(s->type),
                    s->offset, want);
    if (s->offset > want)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)eoff + 8,
                    "gap before section %s: offset %" PRIu64 ", expected %" PRIu64,
                    vp_bundle_section_name(s->type), s->offset, want);
    for (uint64_t i = prev_end; i < want; i++)
        if (d[i] != 0)
            return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)i, "padding byte is not zero");
    return VP_OK;
}

static vp_status check_entry_unique(const vp_bundle_header_info *h, uint32_t i, size_t eoff,
                                    const errsink *e)
{
    for (uint32_t j = 0; j < i; j++)
        if (h->sections[j].type == h->sections[i].type)
            return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)eoff,
                        "section type %" PRIu32 " (%s) appears twice", h->sections[i].type,
                        vp_bundle_section_name(h->sections[i].type));
    return VP_OK;
}

/* After the last section: zero padding to the 8-aligned end, nothing more. */
static vp_status check_tail(const uint8_t *d, size_t len, uint64_t last_end, const errsink *e)
{
    uint64_t end = align_up(last_end);
    if (end > len)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)len,
                    "truncated padding after the last section");
    if (end < len)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)end,
                    "%zu unexpected bytes after the last section", len - (size_t)end);
    for (uint64_t i = last_end; i < end; i++)
        if (d[i] != 0)
            return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)i, "padding byte is not zero");
    return VP_OK;
}

static vp_status check_table(const uint8_t *d, size_t len, vp_bundle_header_info *h,
                             const errsink *e)
{
    uint64_t prev_end = table_end_for(h->section_count);
    for (uint32_t i = 0; i < h->section_count; i++) {
        size_t eoff = VP_BUNDLE_HEADER_SIZE + (size_t)i * VP_BUNDLE_ENTRY_SIZE;
        vp_bundle_section_info *s = &h->sections[i];
        read_entry(d + eoff, s);
        vp_status st = check_entry_kind(d, s, eoff, e);
        if (!st)
            st = check_entry_place(d, len, s, prev_end, eoff, e);
        if (!st)
            st = check_entry_unique(h, i, eoff, e);
        if (st)
            return st;
        prev_end = s->offset + s->size;
    }
    return check_tail(d, len, prev_end, e);
}

static vp_status check_section_crcs(const uint8_t *d, const vp_bundle_header_info *h,
                                    const errsink *e)
{
    for (uint32_t i = 0; i < h->section_count; i++) {
        const vp_bundle_section_info *s = &h->sections[i];
        uint32_t crc = vp_crc32(0, d + s->offset, (size_t)s->size);
        if (crc != s->crc) {
            char what[48];
            snprintf(what, sizeof what, "section %s", vp_bundle_section_name(s->type));
            vp_status st = checksum_mismatch(e, (int64_t)s->offset, what, s->crc, crc);
            if (st)
                return st;
        }
    }
    return VP_OK;
}

static vp_status check_required_present(const vp_bundle_header_info *h, const errsink *e)
{
    for (uint32_t t = 1; t <= VP_SECT_LAST_KNOWN; t++) {
        if (!type_is_required(t))
            continue;
        uint32_t i = 0;
        while (i < h->section_count && h->sections[i].type != t)
            i++;
        if (i == h->section_count)
            return fail(e, VP_E_BUNDLE_FORMAT, VP_BUNDLE_HEADER_SIZE,
                        "required section %s is missing", vp_bundle_section_name(t));
    }
    return VP_OK;
}

vp_status vp_bundle_peek(const uint8_t *data, size_t len, vp_bundle_header_info *info,
                         char *errbuf, size_t errcap, int64_t *erroff)
{
    errsink e = { errbuf, errcap, erroff };
    if (!info || (!data && len))
        return fail(&e, VP_E_INVALID, -1, "invalid argument");
    memset(info, 0, sizeof *info);
    vp_status st = check_header(data, len, info, &e);
    if (!st)
        st = check_table(data, len, info, &e);
    if (!st)
        st = check_section_crcs(data, info, &e);
    if (!st)
        st = check_required_present(info, &e);
    if (!st)
        clear_error(&e);
    return st;
}

/* ================================================================ section contents */

typedef struct dec {
    const uint8_t *d;
    const vp_bundle_header_info *h;
    const errsink *e;
    vp_model *m;
    uint64_t conds_at;      /* file offset of CONDS record 0 */
    uint64_t rules_at;      /* file offset of RULES record 0 */
} dec;

/* Peek guarantees presence; should that ever break, an absent section reads
 * as empty, which the content checks refuse, instead of a NULL dereference. */
static const vp_bundle_section_info *find_section(const dec *c, uint32_t type)
{
    static const vp_bundle_section_info absent;
    for (uint32_t i = 0; i < c->h->section_count; i++)
        if (c->h->sections[i].type == type)
            return &c->h->sections[i];
    return &absent;
}

static vp_status nomem(const dec *c, uint32_t type)
{
    return fail(c->e, VP_E_NOMEM, -1, "out of memory decoding section %s",
                vp_bundle_section_name(type));
}

/* calloc with n == 0 meaning "no array"; *ok is 0 only on allocation failure.
 * calloc itself refuses n * size overflow. */
static void *alloc_array(size_t n, size_t size, int *ok)
{
    void *p = n ? calloc(n, size) : NULL;
    *ok = !n || p;
    return p;
}

/* Opens an array section: reads the count header and checks that the
 * section holds exactly that many records before anything is allocated. */
static vp_status open_array(dec *c, uint32_t type, size_t rec, vp_reader *r, size_t *n,
                            uint64_t *base)
{
    const vp_bundle_section_info *s = find_section(c, type);
    const char *name = vp_bundle_section_name(type);
    *r = vp_reader_init(c->d + s->offset, (size_t)s->size);
    if (s->size < VP_BUNDLE_ARRAY_HEADER)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                    "section %s is %" PRIu64 " bytes, too small for its count", name, s->size);
    uint32_t count = vp_get_u32(r);
    if (vp_get_u32(r) != 0)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)s->offset + 4,
                    "section %s: reserved field is not zero", name);
    uint64_t body = s->size - VP_BUNDLE_ARRAY_HEADER;
    if ((uint64_t)count * rec != body)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                    "section %s: %" PRIu32 " records of %zu bytes do not fill its %" PRIu64
                    " bytes", name, count, rec, body);
    *n = count;
    *base = s->offset + VP_BUNDLE_ARRAY_HEADER;
    return VP_OK;
}

/* Offsets may point anywhere in the pool (suffix sharing is allowed); the
 * pool ends with NUL, so every such offset yields a terminated string. */
static vp_status check_str(const dec *c, uint32_t off, uint64_t at, const char *what)
{
    if (off >= c->m->strings_len)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)at,
                    "%s: string offset %" PRIu32 " outside the string pool (%zu bytes)", what,
                    off, c->m->strings_len);
    return VP_OK;
}

static vp_status dec_strings(dec *c)
{
    const vp_bundle_section_info *s = find_section(c, VP_SECT_STRINGS);
    const uint8_t *p = c->d + s->offset;
    if (s->size == 0 || p[0] != 0)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                    "string pool must start with a NUL (offset 0 is the empty string)");
    if (s->size > UINT32_MAX)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                    "string pool of %" PRIu64 " bytes exceeds 4 GiB", s->size);
    if (p[s->size - 1] != 0)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)(s->offset + s->size - 1),
                    "string pool does not end with a NUL (unterminated string)");
    c->m->strings = malloc((size_t)s->size);
    if (!c->m->strings)
        return nomem(c, VP_SECT_STRINGS);
    memcpy(c->m->strings, p, (size_t)s->size);
    c->m->strings_len = (size_t)s->size;
    return VP_OK;
}

static vp_status dec_meta(dec *c)
{
    const vp_bundle_section_info *s = find_section(c, VP_SECT_META);
    if (s->size != VP_BUNDLE_META_SIZE)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                    "section META is %" PRIu64 " bytes, expected %d", s->size, VP_BUNDLE_META_SIZE);
    vp_reader r = vp_reader_init(c->d + s->offset, (size_t)s->size);
    c->m->ruleset = vp_get_u32(&r);
    if (vp_get_u32(&r) != 0)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)s->offset + 4,
                    "META: reserved field is not zero");
    return check_str(c, c->m->ruleset, s->offset, "META ruleset");
}

static vp_status dec_strlist(dec *c)
{
    vp_reader r;
    size_t n;
    uint64_t base;
    int ok;
    vp_status st = open_array(c, VP_SECT_STRLIST, VP_BUNDLE_STRLIST_REC, &r, &n, &base);
    if (st)
        return st;
    c->m->strlist = alloc_array(n, sizeof *c->m->strlist, &ok);
    if (!ok)
        return nomem(c, VP_SECT_STRLIST);
    c->m->n_strlist = n;
    for (size_t i = 0; i < n; i++) {
        c->m->strlist[i] = vp_get_u32(&r);
        st = check_str(c, c->m->strlist[i], base + i * VP_BUNDLE_STRLIST_REC, "STRLIST entry");
        if (st)
            return st;
    }
    return VP_OK;
}

static vp_status dec_ports(dec *c)
{
    vp_reader r;
    size_t n;
    uint64_t base;
    int ok;
    vp_status st = open_array(c, VP_SECT_PORTS, VP_BUNDLE_PORT_REC, &r, &n, &base);
    if (st)
        return st;
    c->m->ports = alloc_array(n, sizeof *c->m->ports, &ok);
    if (!ok)
        return nomem(c, VP_SECT_PORTS);
    c->m->n_ports = n;
    for (size_t i = 0; i < n; i++) {
        vp_port_range *pr = &c->m->ports[i];
        pr->lo = vp_get_u16(&r);
        pr->hi = vp_get_u16(&r);
        if (pr->lo > pr->hi)
            return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)(base + i * VP_BUNDLE_PORT_REC),
                        "PORTS[%zu]: lo %u > hi %u", i, pr->lo, pr->hi);
    }
    return VP_OK;
}

static vp_status dec_atoms(dec *c)
{
    vp_reader r;
    size_t n;
    uint64_t base;
    int ok;
    vp_status st = open_array(c, VP_SECT_ATOMS, VP_BUNDLE_ATOM_REC, &r, &n, &base);
    if (st)
        return st;
    c->m->atoms = alloc_array(n, sizeof *c->m->atoms, &ok);
    if (!ok)
        return nomem(c, VP_SECT_ATOMS);
    c->m->n_atoms = n;
    for (size_t i = 0; i < n; i++) {
        vp_matom *a = &c->m->atoms[i];
        uint64_t at = base + i * VP_BUNDLE_ATOM_REC;
        a->expr = vp_get_u32(&r);
        a->flags = vp_get_u32(&r);
        st = check_str(c, a->expr, at, "ATOMS expression");
        if (st)
            return st;
        if (a->flags & ~(uint32_t)VP_A_ALL_FLAGS)
            return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)at + 4,
                        "ATOMS[%zu]: unknown flag bits 0x%08" PRIx32, i, a->flags);
        uint32_t buf = VP_BUF_OF(a->flags);
        if (buf >= VP_BUF_COUNT || ((a->flags & VP_A_ANOMALY) != 0) != (buf == VP_BUF_ANOMALY) ||
            ((a->flags & VP_A_ANOMALY) && (a->flags & VP_A_REGEX)))
            return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)at + 4,
                        "ATOMS[%zu]: bad buffer %" PRIu32 " for its kind", i, buf);
        if ((a->flags & VP_A_ANYBYTE) &&
            ((a->flags & ~(uint32_t)VP_BUF_MASK) != VP_A_ANYBYTE || !vp_buf_has_patterns((int)buf) ||
             vp_model_str(c->m, a->expr)[0] != '\0'))
            return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)at + 4,
                        "ATOMS[%zu]: an any-byte atom takes no other flag and no expression", i);
        if ((a->flags & VP_A_JUMP) &&
            ((a->flags & ~(uint32_t)VP_BUF_MASK) != VP_A_JUMP || buf != VP_BUF_STREAM ||
             vp_model_str(c->m, a->expr)[0] != '\0'))
            return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)at + 4,
                        "ATOMS[%zu]: a byte_jump atom takes no other flag and no expression, "
                        "and inspects the stream", i);
        if ((a->flags & VP_A_ANOMALY) && vp_anomaly_by_name(vp_model_str(c->m, a->expr)) < 0)
            return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)at,
                        "ATOMS[%zu]: unknown anomaly \"%s\"", i, vp_model_str(c->m, a->expr));
    }
    return VP_OK;
}

/* ---------------------------------------------------------------- conditions */

/* Byte offsets of the condition record fields. */
enum { CF_ATOM = 0, CF_FLAGS = 4, CF_LENGTH = 8, CF_OFFSET = 12, CF_DEPTH = 16,
       CF_DISTANCE = 20, CF_WITHIN = 24 };

static void read_cond(vp_reader *r, vp_mcond *k)
{
    k->atom = vp_get_u32(r);
    k->flags = vp_get_u32(r);
    k->length = vp_get_u32(r);
    k->offset = vp_get_u32(r);
    k->depth = vp_get_u32(r);
    k->distance = (int32_t)vp_get_u32(r);
    k->within = vp_get_u32(r);
}

/* Kind: flags, atom reference, regex/literal consistency. */
static vp_status check_cond_kind(const dec *c, size_t i, const vp_mcond *k, uint64_t at)
{
    const errsink *e = c->e;
    if (k->flags & ~(uint32_t)VP_C_ALL_FLAGS)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_FLAGS,
                    "CONDS[%zu]: unknown flag bits 0x%08" PRIx32, i, k->flags);
    if (k->atom >= c->m->n_atoms)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_ATOM,
                    "CONDS[%zu]: atom index %" PRIu32 " out of range (%zu atoms)", i, k->atom,
                    c->m->n_atoms);
    int regex = (k->flags & VP_C_REGEX) != 0;
    if (regex != ((c->m->atoms[k->atom].flags & VP_A_REGEX) != 0))
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_FLAGS,
                    "CONDS[%zu]: REGEX flag disagrees with atom %" PRIu32, i, k->atom);
    if (regex && k->length != 0)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_LENGTH,
                    "CONDS[%zu]: regex condition must have length 0", i);
    if (!regex && k->length == 0)
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_LENGTH,
                    "CONDS[%zu]: literal condition must have length >= 1", i);
    if (regex && (k->flags & VP_C_RELATIVE))
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_FLAGS,
                    "CONDS[%zu]: a regex condition cannot be relative", i);
    uint32_t aflags = c->m->atoms[k->atom].flags;
    if (VP_BUF_OF(k->flags) != VP_BUF_OF(aflags))
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_FLAGS,
                    "CONDS[%zu]: buffer disagrees with atom %" PRIu32, i, k->atom);
    if ((aflags & VP_A_ANOMALY) &&
        (k->flags & (VP_C_RELATIVE | VP_C_NEGATE | VP_C_HAS_OFFSET | VP_C_HAS_DEPTH)))
        return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_FLAGS,
                    "CONDS[%zu]: an anomaly condition takes no modifiers", i);
    if (aflags & VP_A_JUMP) {
        /* byte_jump: the bytes at [E+d, E+d+length), d >= 0 */
        uint32_t pos = k->flags & ~(uint32_t)VP_BUF_MASK;
        if (pos != (VP_C_HAS_DISTANCE | VP_C_HAS_WITHIN) || k->distance < 0 ||
            k->within != k->length || k->length > 8)
            return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_FLAGS,
                        "CONDS[%zu]: a byte_jump condition needs distance>=0 and within = "
                        "length (1..8), and nothing else", i);
    }
    if (aflags & VP_A_ANYBYTE) {
        /* isdataat: the one-byte window [offset, offset+1] or [E+d, E+d+1] */
        uint32_t pos = k->flags & ~(uint32_t)(VP_C_NEGATE | VP_BUF_MASK);
        int absolute = pos == (VP_C_HAS_OFFSET | VP_C_HAS_DEPTH) && k->depth == 1;
        int relative = pos == (VP_C_HAS_DISTANCE | VP_C_HAS_WITHIN) && k->within == 1 &&
                       k->distance >= 0;
        if (k->length != 1 || !(absolute || relative))
            return fail(e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_FLAGS,
                        "CONDS[%zu]: an any-byte condition needs length 1 and the window "
                        "offset+depth 1 or distance>=0+within 1", i);
    }
    return VP_OK;
}

/* Optional position fields: present ones bounded, absent ones zero. */
static vp_status check_cond_positions(const dec *c, size_t i, const vp_mcond *k, uint64_t at)
{
    static const struct {
        uint32_t flag;
        unsigned field;
        const char *name;
    } opt[] = {
        { VP_C_HAS_OFFSET, CF_OFFSET, "offset" },
        { VP_C_HAS_DEPTH, CF_DEPTH, "depth" },
        { VP_C_HAS_DISTANCE, CF_DISTANCE, "distance" },
        { VP_C_HAS_WITHIN, CF_WITHIN, "within" },
    };
    const uint32_t val[] = { k->offset, k->depth, (uint32_t)k->distance, k->within };
    for (size_t j = 0; j < ARRAY_LEN(opt); j++) {
        uint32_t v = val[j];
        int present = (k->flags & opt[j].flag) != 0;
        int64_t where = (int64_t)at + opt[j].field;
        if (!present && v != 0)
            return fail(c->e, VP_E_BUNDLE_FORMAT, where,
                        "CONDS[%zu]: %s is set but its flag is absent", i, opt[j].name);
        /* distance is signed: |distance| <= VP_MAX_POSITION excludes INT32_MIN only */
        int too_big = opt[j].flag == VP_C_HAS_DISTANCE ? v == 0x80000000u : v > VP_MAX_POSITION;
        if (present && too_big)
            return fail(c->e, VP_E_BUNDLE_FORMAT, where,
                        "CONDS[%zu]: %s exceeds %u", i, opt[j].name, VP_MAX_POSITION);
    }
    if ((k->flags & VP_C_HAS_DEPTH) && k->depth == 0)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_DEPTH,
                    "CONDS[%zu]: depth must be >= 1", i);
    if ((k->flags & VP_C_HAS_WITHIN) && !(k->flags & VP_C_REGEX) && k->within < k->length)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_WITHIN,
                    "CONDS[%zu]: within %" PRIu32 " is shorter than the literal (%" PRIu32
                    " bytes)", i, k->within, k->length);
    return VP_OK;
}

/* Relative conditions remember at most VP_MAX_LOOKBACK bytes of stream. */
static vp_status check_cond_lookback(const dec *c, size_t i, const vp_mcond *k, uint64_t at)
{
    int64_t dist = (k->flags & VP_C_HAS_DISTANCE) ? k->distance : 0;
    if ((k->flags & VP_C_HAS_WITHIN) && dist + (int64_t)k->within > (int64_t)VP_MAX_LOOKBACK)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_WITHIN,
                    "CONDS[%zu]: distance + within = %" PRId64 " exceeds the lookback limit %u",
                    i, dist + (int64_t)k->within, VP_MAX_LOOKBACK);
    if (dist < 0 && -dist > (int64_t)VP_MAX_LOOKBACK)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)at + CF_DISTANCE,
                    "CONDS[%zu]: negative distance %" PRId64 " exceeds the lookback limit %u",
                    i, dist, VP_MAX_LOOKBACK);
    return VP_OK;
}

static vp_status dec_conds(dec *c)
{
    vp_reader r;
    size_t n;
    uint64_t base;
    int ok;
    vp_status st = open_array(c, VP_SECT_CONDS, VP_BUNDLE_COND_REC, &r, &n, &base);
    if (st)
        return st;
    c->m->conds = alloc_array(n, sizeof *c->m->conds, &ok);
    if (!ok)
        return nomem(c, VP_SECT_CONDS);
    c->m->n_conds = n;
    c->conds_at = base;
    for (size_t i = 0; i < n && !st; i++) {
        vp_mcond *k = &c->m->conds[i];
        uint64_t at = base + i * VP_BUNDLE_COND_REC;
        read_cond(&r, k);
        st = check_cond_kind(c, i, k, at);
        if (!st)
            st = check_cond_positions(c, i, k, at);
        if (!st)
            st = check_cond_lookback(c, i, k, at);
    }
    return st;
}

/* ---------------------------------------------------------------- rules */

/* Byte offsets of the rule record fields. */
enum { RF_ID = 0, RF_SEVERITY = 4, RF_ACTION = 5, RF_PROTO = 6, RF_DIRECTION = 7,
       RF_MODES = 8, RF_SERVICE = 9, RF_CVSS = 10, RF_NAME = 12, RF_DESCRIPTION = 16,
       RF_CVE = 20, RF_REF = 28, RF_TAG = 36, RF_PORT = 44, RF_COND = 52 };

/* Reads the record; returns the reserved bits of its service byte. */
static uint8_t read_rule(vp_reader *r, vp_mrule *u)
{
    u->id = vp_get_u32(r);
    u->severity = vp_get_u8(r);
    u->action = vp_get_u8(r);
    u->proto = vp_get_u8(r);
    u->direction = vp_get_u8(r);
    u->modes = vp_get_u8(r);
    uint8_t sb = vp_get_u8(r);
    u->service = sb & VP_RULE_SERVICE_MASK;
    u->flags = (uint8_t)((sb & VP_RULE_NOALERT_BIT ? VP_R_NOALERT : 0) |
                         (sb & VP_RULE_FLOWBITS_BIT ? VP_R_FLOWBITS : 0) |
                         (sb & VP_RULE_THRESHOLD_BIT ? VP_R_THRESHOLD : 0));
    u->cvss10 = (int16_t)vp_get_u16(r);
    u->name = vp_get_u32(r);
    u->description = vp_get_u32(r);
    uint32_t *ranges[] = { &u->cve_first, &u->cve_count, &u->ref_first, &u->ref_count,
                           &u->tag_first, &u->tag_count, &u->port_first, &u->port_count,
                           &u->cond_first, &u->cond_count };
    for (size_t j = 0; j < ARRAY_LEN(ranges); j++)
        *ranges[j] = vp_get_u32(r);
    return sb & (uint8_t)~(VP_RULE_SERVICE_MASK | VP_RULE_NOALERT_BIT | VP_RULE_FLOWBITS_BIT |
                           VP_RULE_THRESHOLD_BIT);
}

static vp_status check_rule_enums(const dec *c, size_t i, const vp_mrule *u, uint8_t reserved,
                                  uint64_t at)
{
    const errsink *e = c->e;
    int64_t a = (int64_t)at;
    if (u->id == 0)
        return fail(e, VP_E_BUNDLE_FORMAT, a + RF_ID, "RULES[%zu]: rule id 0 is invalid", i);
    if (u->severity < VP_SEV_LOW || u->severity > VP_SEV_CRITICAL)
        return fail(e, VP_E_BUNDLE_FORMAT, a + RF_SEVERITY, "RULES[%zu]: bad severity %u", i,
                    u->severity);
    if (u->action != VP_ACTION_BLOCK && u->action != VP_ACTION_DETECT)
        return fail(e, VP_E_BUNDLE_FORMAT, a + RF_ACTION, "RULES[%zu]: bad action %u", i,
                    u->action);
    if (u->proto != VP_PROTO_TCP && u->proto != VP_PROTO_UDP)
        return fail(e, VP_E_BUNDLE_FORMAT, a + RF_PROTO, "RULES[%zu]: bad protocol %u", i,
                    u->proto);
    if (u->direction < VP_DIR_TO_SERVER || u->direction > VP_DIR_ANY)
        return fail(e, VP_E_BUNDLE_FORMAT, a + RF_DIRECTION, "RULES[%zu]: bad direction %u", i,
                    u->direction);
    if (u->modes & ~MODE_MASK)
        return fail(e, VP_E_BUNDLE_FORMAT, a + RF_MODES, "RULES[%zu]: unknown mode bits 0x%02x", i,
                    u->modes);
    /* the reserved byte before 1.4: an older reader refuses a service */
    if (reserved)
        return fail(e, VP_E_BUNDLE_FORMAT, a + RF_SERVICE,
                    "RULES[%zu]: reserved bits 0x%02x of the service byte are set", i, reserved);
    if ((u->flags & VP_R_NOALERT) && u->action != VP_ACTION_DETECT)
        return fail(e, VP_E_BUNDLE_FORMAT, a + RF_SERVICE,
                    "RULES[%zu]: noalert needs action detect", i);
    if (u->service > VP_SERVICE_HTTP)
        return fail(e, VP_E_BUNDLE_FORMAT, a + RF_SERVICE, "RULES[%zu]: unknown service %u", i,
                    u->service);
    if (u->service == VP_SERVICE_HTTP && u->proto != VP_PROTO_TCP)
        return fail(e, VP_E_BUNDLE_FORMAT, a + RF_SERVICE,
                    "RULES[%zu]: service http needs protocol tcp", i);
    if (u->cvss10 < -1 || u->cvss10 > 100)
        return fail(e, VP_E_BUNDLE_FORMAT, a + RF_CVSS, "RULES[%zu]: cvss10 %d outside -1, 0..100",
                    i, u->cvss10);
    return VP_OK;
}

static vp_status check_range(const dec *c, size_t i, uint32_t first, uint32_t count, size_t n,
                             int64_t at, const char *what)
{
    if (first > n || count > n - first)
        return fail(c->e, VP_E_BUNDLE_FORMAT, at,
                    "RULES[%zu]: %s range [%" PRIu32 ", +%" PRIu32 ") outside its array (%zu "
                    "entries)", i, what, first, count, n);
    return VP_OK;
}

static vp_status check_rule_refs(const dec *c, size_t i, const vp_mrule *u, uint64_t at)
{
    const vp_model *m = c->m;
    int64_t a = (int64_t)at;
    vp_status st = check_str(c, u->name, at + RF_NAME, "RULES name");
    if (!st)
        st = check_str(c, u->description, at + RF_DESCRIPTION, "RULES description");
    if (!st)
        st = check_range(c, i, u->cve_first, u->cve_count, m->n_strlist, a + RF_CVE, "cve");
    if (!st)
        st = check_range(c, i, u->ref_first, u->ref_count, m->n_strlist, a + RF_REF, "reference");
    if (!st)
        st = check_range(c, i, u->tag_first, u->tag_count, m->n_strlist, a + RF_TAG, "tag");
    if (!st)
        st = check_range(c, i, u->port_first, u->port_count, m->n_ports, a + RF_PORT, "port");
    if (!st)
        st = check_range(c, i, u->cond_first, u->cond_count, m->n_conds, a + RF_COND, "condition");
    if (!st && u->cond_count == 0)
        st = fail(c->e, VP_E_BUNDLE_FORMAT, a + RF_COND + 4, "RULES[%zu]: rule has no conditions",
                  i);
    return st;
}

/* A read condition's bytes are still to come when it learns where they are:
 * every end before it in its chain is found when it happens (no negative
 * distance).  A jump moves the position the next condition counts from: it
 * is followed by a positive relative condition with distance >= 0 (so that
 * condition's set of predecessor ends only lies ahead). */
static vp_status check_rule_jumps(const dec *c, size_t i, const vp_mrule *u)
{
    const vp_mcond *k = c->m->conds + u->cond_first;
    uint32_t chain_start = 0;
    for (uint32_t j = 0; j < u->cond_count; j++) {
        if (!(k[j].flags & VP_C_RELATIVE))
            chain_start = j;
        if (!(c->m->atoms[k[j].atom].flags & VP_A_JUMP))
            continue;
        const vp_mjump *rec = vp_model_jump_of(c->m, u->cond_first + j);
        int test = rec && (rec->flags & VP_J_TEST);
        int64_t at = (int64_t)(c->conds_at + ((uint64_t)u->cond_first + j) * VP_BUNDLE_COND_REC);
        for (uint32_t q = chain_start; q < j; q++)
            if ((k[q].flags & VP_C_HAS_DISTANCE) && k[q].distance < 0)
                return fail(c->e, VP_E_BUNDLE_FORMAT, at + CF_FLAGS,
                            "RULES[%zu] (id %" PRIu32 "): byte_jump CONDS[%" PRIu32 "] comes "
                            "after a negative distance in its chain", i, u->id,
                            u->cond_first + j);
        const vp_mcond *next = j + 1 < u->cond_count ? &k[j + 1] : NULL;
        if (!test && (!next || !(next->flags & VP_C_RELATIVE) || (next->flags & VP_C_NEGATE) ||
                      ((next->flags & VP_C_HAS_DISTANCE) && next->distance < 0)))
            return fail(c->e, VP_E_BUNDLE_FORMAT, at + CF_FLAGS,
                        "RULES[%zu] (id %" PRIu32 "): byte_jump CONDS[%" PRIu32 "] is not "
                        "followed by a positive relative condition with distance >= 0", i,
                        u->id, u->cond_first + j);
    }
    return VP_OK;
}

/* Order rules of the condition chain; the fault is reported at the condition. */
static vp_status check_rule_chain(const dec *c, size_t i, const vp_mrule *u)
{
    const vp_mcond *k = c->m->conds + u->cond_first;
    for (uint32_t j = 0; j < u->cond_count; j++) {
        if (!(k[j].flags & VP_C_RELATIVE))
            continue;
        int64_t at = (int64_t)(c->conds_at + ((uint64_t)u->cond_first + j) * VP_BUNDLE_COND_REC);
        if (j == 0)
            return fail(c->e, VP_E_BUNDLE_FORMAT, at + CF_FLAGS,
                        "RULES[%zu] (id %" PRIu32 "): first condition CONDS[%" PRIu32 "] is "
                        "relative", i, u->id, u->cond_first);
        if (k[j - 1].flags & VP_C_NEGATE)
            return fail(c->e, VP_E_BUNDLE_FORMAT, at + CF_FLAGS,
                        "RULES[%zu] (id %" PRIu32 "): relative condition CONDS[%" PRIu32 "] "
                        "follows a negated condition", i, u->id, u->cond_first + j);
        if (c->m->atoms[k[j - 1].atom].flags & VP_A_ANYBYTE)
            return fail(c->e, VP_E_BUNDLE_FORMAT, at + CF_FLAGS,
                        "RULES[%zu] (id %" PRIu32 "): relative condition CONDS[%" PRIu32 "] "
                        "follows an any-byte condition, which ends its chain", i, u->id,
                        u->cond_first + j);
        if (VP_BUF_OF(k[j - 1].flags) != VP_BUF_OF(k[j].flags))
            return fail(c->e, VP_E_BUNDLE_FORMAT, at + CF_FLAGS,
                        "RULES[%zu] (id %" PRIu32 "): relative condition CONDS[%" PRIu32 "] "
                        "inspects another buffer than the one before it", i, u->id,
                        u->cond_first + j);
    }
    return VP_OK;
}

/* A service rule inspects the raw stream only: HTTP buffers already need a
 * message of the library's HTTP parser, and the engine relies on that. */
static vp_status check_rule_service(const dec *c, size_t i, const vp_mrule *u)
{
    if (u->service == VP_SERVICE_ANY)
        return VP_OK;
    const vp_mcond *k = c->m->conds + u->cond_first;
    for (uint32_t j = 0; j < u->cond_count; j++)
        if (VP_BUF_OF(k[j].flags) != VP_BUF_STREAM) {
            int64_t at =
                (int64_t)(c->conds_at + ((uint64_t)u->cond_first + j) * VP_BUNDLE_COND_REC);
            return fail(c->e, VP_E_BUNDLE_FORMAT, at + CF_FLAGS,
                        "RULES[%zu] (id %" PRIu32 "): a rule with a service inspects only the "
                        "stream, but CONDS[%" PRIu32 "] does not", i, u->id, u->cond_first + j);
        }
    return VP_OK;
}

static vp_status dec_rules(dec *c)
{
    vp_reader r;
    size_t n;
    uint64_t base;
    int ok;
    vp_status st = open_array(c, VP_SECT_RULES, VP_BUNDLE_RULE_REC, &r, &n, &base);
    if (st)
        return st;
    c->m->rules = alloc_array(n, sizeof *c->m->rules, &ok);
    if (!ok)
        return nomem(c, VP_SECT_RULES);
    c->m->n_rules = n;
    c->rules_at = base;
    for (size_t i = 0; i < n && !st; i++) {
        vp_mrule *u = &c->m->rules[i];
        uint64_t at = base + i * VP_BUNDLE_RULE_REC;
        uint8_t reserved = read_rule(&r, u);
        st = check_rule_enums(c, i, u, reserved, at);
        if (!st)
            st = check_rule_refs(c, i, u, at);
        if (!st)
            st = check_rule_chain(c, i, u);
        if (!st)
            st = check_rule_service(c, i, u);
    }
    return st;
}

typedef struct id_pos {
    uint32_t id, index;
} id_pos;

static int cmp_id_pos(const void *a, const void *b)
{
    const id_pos *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorting (not a hash) keeps it O(n log n) with no worst case to provoke. */
static vp_status check_unique_ids(dec *c)
{
    size_t n = c->m->n_rules;
    int ok;
    id_pos *v = alloc_array(n, sizeof *v, &ok);
    if (!ok)
        return nomem(c, VP_SECT_RULES);
    for (size_t i = 0; i < n; i++) {
        v[i].id = c->m->rules[i].id;
        v[i].index = (uint32_t)i;
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_id_pos);
    /* Report the earliest record (in file order) that repeats an id. */
    size_t dup = SIZE_MAX, first = 0;
    for (size_t k = 1; k < n; k++)
        if (v[k].id == v[k - 1].id && v[k].index < dup) {
            dup = v[k].index;
            first = v[k - 1].index;
        }
    free(v);
    if (dup == SIZE_MAX)
        return VP_OK;
    return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)(c->rules_at + dup * VP_BUNDLE_RULE_REC),
                "RULES[%zu]: duplicate rule id %" PRIu32 " (also RULES[%zu])", dup,
                c->m->rules[dup].id, first);
}

static vp_status dec_hsdb(dec *c)
{
    const vp_bundle_section_info *s = find_section(c, VP_SECT_HS_STREAM_DB);
    /* The database holds the atoms of the raw stream buffer only. */
    size_t stream_atoms = 0;
    for (size_t i = 0; i < c->m->n_atoms; i++)
        stream_atoms += VP_BUF_OF(c->m->atoms[i].flags) == VP_BUF_STREAM &&
                        !(c->m->atoms[i].flags & VP_A_NOT_PATTERN);
    if (stream_atoms > 0 && s->size == 0)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                    "HS_STREAM_DB is empty but there are %zu stream atoms", stream_atoms);
    if (stream_atoms == 0 && s->size != 0)
        return fail(c->e, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                    "HS_STREAM_DB must be empty when there are no stream atoms");
    if (s->size == 0)
        return VP_OK;
    c->m->hs_stream_db = malloc((size_t)s->size);
    if (!c->m->hs_stream_db)
        return nomem(c, VP_SECT_HS_STREAM_DB);
    memcpy(c->m->hs_stream_db, c->d + s->offset, (size_t)s->size);
    c->m->hs_stream_db_len = (size_t)s->size;
    return VP_OK;
}

static int has_section(const dec *c, uint32_t type)
{
    for (uint32_t i = 0; i < c->h->section_count; i++)
        if (c->h->sections[i].type == type)
            return 1;
    return 0;
}

/* Opens an optional array section and allocates its n records of `size`
 * bytes into *out (nothing when the section is absent: n = 0). */
static vp_status open_optional(dec *c, uint32_t type, size_t rec, size_t size, vp_reader *r,
                               size_t *n, uint64_t *base, void **out)
{
    *n = 0;
    *base = 0;
    *out = NULL;
    if (!has_section(c, type))
        return VP_OK;
    vp_status st = open_array(c, type, rec, r, n, base);
    if (st)
        return st;
    int ok;
    *out = alloc_array(*n, size, &ok);
    return ok ? VP_OK : nomem(c, type);
}

/* The rule index the FLOWBITS record at `at` names, checked against RULES. */
static vp_status check_flowbit(const dec *c, size_t i, const vp_mflowbit *fb, uint32_t prev_rule,
                               const uint8_t reserved[3], uint64_t at)
{
    const errsink *e = c->e;
    int64_t a = (int64_t)at;
    if (fb->rule >= c->m->n_rules)
        return fail(e, VP_E_BUNDLE_FORMAT, a, "FLOWBITS[%zu]: rule %" PRIu32 " out of range", i,
                    fb->rule);
    if (fb->rule < prev_rule)
        return fail(e, VP_E_BUNDLE_FORMAT, a, "FLOWBITS[%zu]: records are not in rule order", i);
    if (!(c->m->rules[fb->rule].flags & VP_R_FLOWBITS))
        return fail(e, VP_E_BUNDLE_FORMAT, a,
                    "FLOWBITS[%zu]: rule %" PRIu32 " does not have the flowbits flag", i,
                    fb->rule);
    vp_status st = check_str(c, fb->name, at + 4, "FLOWBITS name");
    if (st)
        return st;
    if (c->m->strings[fb->name] == '\0')
        return fail(e, VP_E_BUNDLE_FORMAT, a + 4, "FLOWBITS[%zu]: empty name", i);
    if (fb->op < VP_FB_SET || fb->op > VP_FB_ISNOTSET)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 8, "FLOWBITS[%zu]: unknown operation %u", i,
                    fb->op);
    if (reserved[0] || reserved[1] || reserved[2])
        return fail(e, VP_E_BUNDLE_FORMAT, a + 9, "FLOWBITS[%zu]: reserved bytes are not zero",
                    i);
    return VP_OK;
}

/* FLOWBITS (optional): the records of exactly the rules with the flag. */
static vp_status dec_flowbits(dec *c)
{
    size_t n;
    uint64_t base;
    vp_reader r;
    void *arr;
    vp_status st = open_optional(c, VP_SECT_FLOWBITS, VP_BUNDLE_FLOWBIT_REC,
                                 sizeof *c->m->flowbits, &r, &n, &base, &arr);
    if (st)
        return st;
    c->m->flowbits = arr;
    c->m->n_flowbits = n;
    uint32_t prev = 0;
    for (size_t i = 0; i < n && !st; i++) {
        vp_mflowbit *fb = &c->m->flowbits[i];
        fb->rule = vp_get_u32(&r);
        fb->name = vp_get_u32(&r);
        fb->op = vp_get_u8(&r);
        uint8_t reserved[3] = {vp_get_u8(&r), vp_get_u8(&r), vp_get_u8(&r)};
        st = check_flowbit(c, i, fb, prev, reserved, base + i * VP_BUNDLE_FLOWBIT_REC);
        prev = fb->rule;
    }
    /* every flagged rule has records (they are sorted: walk both at once) */
    size_t k = 0;
    for (size_t i = 0; i < c->m->n_rules && !st; i++) {
        int has = 0;
        while (k < n && c->m->flowbits[k].rule == i)
            k++, has = 1;
        if (!has && (c->m->rules[i].flags & VP_R_FLOWBITS))
            st = fail(c->e, VP_E_BUNDLE_FORMAT,
                      (int64_t)(c->rules_at + i * VP_BUNDLE_RULE_REC + RF_SERVICE),
                      "RULES[%zu]: flowbits flag without FLOWBITS records", i);
    }
    return st;
}

/* The THRESHOLDS record at `at`, checked against RULES. */
static vp_status check_threshold(const dec *c, size_t i, const vp_mthreshold *t, int64_t prev_rule,
                                 uint16_t reserved, uint64_t at)
{
    const errsink *e = c->e;
    int64_t a = (int64_t)at;
    if (t->rule >= c->m->n_rules)
        return fail(e, VP_E_BUNDLE_FORMAT, a, "THRESHOLDS[%zu]: rule %" PRIu32 " out of range", i,
                    t->rule);
    if ((int64_t)t->rule <= prev_rule)
        return fail(e, VP_E_BUNDLE_FORMAT, a,
                    "THRESHOLDS[%zu]: records are not in strictly increasing rule order", i);
    const vp_mrule *u = &c->m->rules[t->rule];
    if (!(u->flags & VP_R_THRESHOLD))
        return fail(e, VP_E_BUNDLE_FORMAT, a,
                    "THRESHOLDS[%zu]: rule %" PRIu32 " does not have the threshold flag", i,
                    t->rule);
    if (t->type < VP_THRESHOLD_LIMIT || t->type > VP_THRESHOLD_DETECTION_FILTER)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 4, "THRESHOLDS[%zu]: unknown type %u", i, t->type);
    if (t->track < VP_TRACK_BY_SRC || t->track > VP_TRACK_BY_RULE)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 5, "THRESHOLDS[%zu]: unknown track %u", i,
                    t->track);
    if (reserved)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 6, "THRESHOLDS[%zu]: reserved bytes are not zero",
                    i);
    if (t->count == 0)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 8, "THRESHOLDS[%zu]: count 0", i);
    if (t->seconds == 0)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 12, "THRESHOLDS[%zu]: seconds 0", i);
    /* the verdict of a block rule never waits for other streams */
    if (u->action == VP_ACTION_BLOCK && t->type != VP_THRESHOLD_LIMIT)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 4,
                    "THRESHOLDS[%zu]: a block rule's threshold must be of type limit", i);
    if (u->flags & VP_R_NOALERT)
        return fail(e, VP_E_BUNDLE_FORMAT, a,
                    "THRESHOLDS[%zu]: rule %" PRIu32 " is noalert and has no events to filter",
                    i, t->rule);
    return VP_OK;
}

/* THRESHOLDS (optional): one record for exactly the rules with the flag. */
static vp_status dec_thresholds(dec *c)
{
    size_t n;
    uint64_t base;
    vp_reader r;
    void *arr;
    vp_status st = open_optional(c, VP_SECT_THRESHOLDS, VP_BUNDLE_THRESHOLD_REC,
                                 sizeof *c->m->thresholds, &r, &n, &base, &arr);
    if (st)
        return st;
    c->m->thresholds = arr;
    c->m->n_thresholds = n;
    int64_t prev = -1;
    for (size_t i = 0; i < n && !st; i++) {
        vp_mthreshold *t = &c->m->thresholds[i];
        t->rule = vp_get_u32(&r);
        t->type = vp_get_u8(&r);
        t->track = vp_get_u8(&r);
        uint16_t reserved = vp_get_u16(&r);
        t->count = vp_get_u32(&r);
        t->seconds = vp_get_u32(&r);
        st = check_threshold(c, i, t, prev, reserved, base + i * VP_BUNDLE_THRESHOLD_REC);
        prev = t->rule;
    }
    /* every flagged rule has its record (both sorted: walk them at once) */
    size_t k = 0;
    for (size_t i = 0; i < c->m->n_rules && !st; i++) {
        int has = k < n && c->m->thresholds[k].rule == i;
        k += (size_t)has;
        if (!has && (c->m->rules[i].flags & VP_R_THRESHOLD))
            st = fail(c->e, VP_E_BUNDLE_FORMAT,
                      (int64_t)(c->rules_at + i * VP_BUNDLE_RULE_REC + RF_SERVICE),
                      "RULES[%zu]: threshold flag without a THRESHOLDS record", i);
    }
    return st;
}

/* JUMPS (optional): one record for exactly the byte_jump conditions. */
static vp_status check_jump(const dec *c, size_t i, const vp_mjump *j, int64_t prev,
                            uint8_t reserved, uint64_t at)
{
    const errsink *e = c->e;
    int64_t a = (int64_t)at;
    if (j->cond >= c->m->n_conds)
        return fail(e, VP_E_BUNDLE_FORMAT, a, "JUMPS[%zu]: condition %" PRIu32 " out of range",
                    i, j->cond);
    if ((int64_t)j->cond <= prev)
        return fail(e, VP_E_BUNDLE_FORMAT, a,
                    "JUMPS[%zu]: records are not in strictly increasing condition order", i);
    const vp_mcond *k = &c->m->conds[j->cond];
    if (!(c->m->atoms[k->atom].flags & VP_A_JUMP))
        return fail(e, VP_E_BUNDLE_FORMAT, a,
                    "JUMPS[%zu]: condition %" PRIu32 " is not a byte_jump", i, j->cond);
    if (j->bytes != k->length)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 4,
                    "JUMPS[%zu]: %u bytes, but the condition is %" PRIu32 " long", i, j->bytes,
                    k->length);
    if (j->flags & ~(uint32_t)VP_J_ALL_FLAGS)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 5, "JUMPS[%zu]: unknown flag bits 0x%02x", i,
                    j->flags);
    int test = (j->flags & VP_J_TEST) != 0;
    if (test ? j->op >= VP_TEST_N_OPS : j->op != 0)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 6, "JUMPS[%zu]: operator %u for a %s", i, j->op,
                    test ? "test" : "jump");
    if (reserved)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 7, "JUMPS[%zu]: reserved byte is not zero", i);
    if (test ? j->multiplier != 1 : j->multiplier < 1 || j->multiplier > VP_MAX_JUMP)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 8, "JUMPS[%zu]: multiplier %" PRIu32
                    " outside %s", i, j->multiplier, test ? "1 (a test)" : "1..65535");
    if (test ? j->post_offset != 0 : j->post_offset > VP_MAX_JUMP)
        return fail(e, VP_E_BUNDLE_FORMAT, a + 12, "JUMPS[%zu]: post_offset %" PRIu32
                    " outside %s", i, j->post_offset, test ? "0 (a test)" : "0..65535");
    if (test ? (j->flags & VP_J_ALIGN) != 0
             : j->value != 0)
        return fail(e, VP_E_BUNDLE_FORMAT, test ? a + 5 : a + 16,
                    "JUMPS[%zu]: %s", i, test ? "a test has no align" : "a jump has no value");
    return VP_OK;
}

static vp_status dec_jumps(dec *c)
{
    size_t n;
    uint64_t base;
    vp_reader r;
    void *arr;
    vp_status st = open_optional(c, VP_SECT_JUMPS, VP_BUNDLE_JUMP_REC, sizeof *c->m->jumps, &r,
                                 &n, &base, &arr);
    if (st)
        return st;
    c->m->jumps = arr;
    c->m->n_jumps = n;
    int64_t prev = -1;
    for (size_t i = 0; i < n && !st; i++) {
        vp_mjump *j = &c->m->jumps[i];
        j->cond = vp_get_u32(&r);
        j->bytes = vp_get_u8(&r);
        j->flags = vp_get_u8(&r);
        j->op = vp_get_u8(&r);
        uint8_t reserved = vp_get_u8(&r);
        j->multiplier = vp_get_u32(&r);
        j->post_offset = vp_get_u32(&r);
        j->value = vp_get_u64(&r);
        st = check_jump(c, i, j, prev, reserved, base + i * VP_BUNDLE_JUMP_REC);
        prev = j->cond;
    }
    size_t k = 0;
    for (size_t i = 0; i < c->m->n_conds && !st; i++) {
        int has = k < n && c->m->jumps[k].cond == i;
        k += (size_t)has;
        if (!has && (c->m->atoms[c->m->conds[i].atom].flags & VP_A_JUMP))
            st = fail(c->e, VP_E_BUNDLE_FORMAT,
                      (int64_t)(c->conds_at + i * VP_BUNDLE_COND_REC + CF_ATOM),
                      "CONDS[%zu]: byte_jump condition without a JUMPS record", i);
    }
    for (size_t i = 0; i < c->m->n_rules && !st; i++)
        st = check_rule_jumps(c, i, &c->m->rules[i]);
    return st;
}

/* Order matters: strings before anything holding offsets, atoms before
 * conditions, conditions before rules. */
static vp_status (*const dec_steps[])(dec *) = {
    dec_strings, dec_meta,  dec_strlist,  dec_ports,      dec_atoms,      dec_conds,
    dec_rules,   check_unique_ids, dec_flowbits, dec_thresholds, dec_jumps, dec_hsdb,
};

vp_status vp_bundle_decode(const uint8_t *data, size_t len, vp_model *out,
                           char *errbuf, size_t errcap, int64_t *erroff)
{
    errsink e = { errbuf, errcap, erroff };
    if (!out)
        return fail(&e, VP_E_INVALID, -1, "invalid argument");
    memset(out, 0, sizeof *out);
    vp_bundle_header_info h;
    vp_status st = vp_bundle_peek(data, len, &h, errbuf, errcap, erroff);
    if (st)
        return st;
    dec c = { data, &h, &e, out, 0, 0 };
    for (size_t i = 0; i < ARRAY_LEN(dec_steps) && !st; i++)
        st = dec_steps[i](&c);
    if (st) {
        vp_model_free(out);
        return st;
    }
    out->serial = h.serial;
    clear_error(&e);
    return VP_OK;
}
