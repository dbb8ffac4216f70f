/*
 * Bundle codec: round trip, golden bytes, and the refusal of every kind of
 * damaged or hostile bundle (truncation, bit flips, crafted bad content with
 * valid checksums).  Expected offsets follow docs/bundle-format.md.
 */
#include "testutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/buffers.h"
#include "lib/common/bundle_codec.h"
#include "lib/common/bytes.h"
#include "lib/common/crc32.h"

/* The bundle of an empty model with serial 0x0102030405060708, generated
 * independently of this code (Python struct + zlib.crc32) from the spec; it
 * is also the worked example of docs/bundle-format.md. */
static const uint8_t golden_empty[] = {
    0x89, 0x56, 0x50, 0x42, 0x0d, 0x0a, 0x1a, 0x0a, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
    0x30, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x68, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x35, 0x86, 0x3e, 0x4f, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x30, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x69, 0xdf, 0x22, 0x65, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x38, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8d, 0xef, 0x02, 0xd2,
    0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x40, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x69, 0xdf, 0x22, 0x65, 0x00, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x48, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x69, 0xdf, 0x22, 0x65, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x50, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x69, 0xdf, 0x22, 0x65,
    0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x58, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x69, 0xdf, 0x22, 0x65, 0x00, 0x00, 0x00, 0x00,
    0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x60, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x69, 0xdf, 0x22, 0x65, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x68, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

#define GOLDEN_SERIAL UINT64_C(0x0102030405060708)
#define MODES_BOTH (VP_MODE_BIT(VP_MODE_PERFORMANCE) | VP_MODE_BIT(VP_MODE_SECURITY))

/* ================================================================ helpers */

typedef struct blob {
    uint8_t *p;
    size_t len;
} blob;

static void *dup_mem(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

static size_t align8(size_t v)
{
    return (v + 7) & ~(size_t)7;
}

typedef struct pool {
    char buf[1024];
    size_t len;
} pool;

static uint32_t pool_add(pool *p, const char *s)
{
    size_t n = strlen(s) + 1;
    ck_assert_uint_le(p->len + n, sizeof p->buf);
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    return (uint32_t)(p->len - n);
}

/* Three rules over six atoms and six conditions, exercising every optional
 * field, negation, a regex, a negative distance, lists and ports. */
static void build_model(vp_model *m)
{
    memset(m, 0, sizeof *m);
    pool p;
    memset(&p, 0, sizeof p);
    p.len = 1;
    m->serial = UINT64_C(0x0102030405060708);
    m->ruleset = pool_add(&p, "acme-endpoint");
    uint32_t n0 = pool_add(&p, "Log4Shell JNDI lookup");
    uint32_t d0 = pool_add(&p, "JNDI lookup in a request");
    uint32_t n1 = pool_add(&p, "Admin probe");
    uint32_t n2 = pool_add(&p, "UDP beacon");
    uint32_t sl[6];
    sl[0] = pool_add(&p, "CVE-2021-44228");
    sl[1] = pool_add(&p, "CVE-2021-45046");
    sl[2] = pool_add(&p, "https://logging.apache.org/log4j/2.x/security.html");
    sl[3] = pool_add(&p, "exploit");
    sl[4] = pool_add(&p, "rce");
    sl[5] = pool_add(&p, "recon");

    static const char *const exprs[6] = { "\\$\\{jndi:", "ldap", "admin[0-9]+", "secret", "PING",
                                          "xyz" };
    static const uint32_t aflags[6] = { 0, VP_A_CASELESS, VP_A_REGEX | VP_A_CASELESS | VP_A_DOTALL,
                                        0, 0, 0 };
    m->n_atoms = 6;
    m->atoms = calloc(6, sizeof *m->atoms);
    ck_assert_ptr_nonnull(m->atoms);
    for (size_t i = 0; i < 6; i++) {
        m->atoms[i].expr = pool_add(&p, exprs[i]);
        m->atoms[i].flags = aflags[i];
    }
    m->strings = dup_mem(p.buf, p.len);
    m->strings_len = p.len;
    m->strlist = dup_mem(sl, sizeof sl);
    m->n_strlist = 6;

    static const vp_port_range ports[4] = { { 80, 80 }, { 443, 443 }, { 8000, 8100 }, { 53, 53 } };
    m->ports = dup_mem(ports, sizeof ports);
    m->n_ports = 4;

    static const vp_mcond conds[6] = {
        { .atom = 0, .flags = VP_C_HAS_OFFSET | VP_C_HAS_DEPTH, .length = 7, .depth = 200 },
        { .atom = 1, .flags = VP_C_NOCASE | VP_C_HAS_DISTANCE | VP_C_HAS_WITHIN, .length = 4,
          .within = 100 },
        { .atom = 2, .flags = VP_C_REGEX | VP_C_HAS_DEPTH, .depth = 64 },
        { .atom = 3, .flags = VP_C_NEGATE | VP_C_HAS_OFFSET, .length = 6, .offset = 10 },
        { .atom = 4, .length = 4 },
        { .atom = 5, .flags = VP_C_HAS_DISTANCE | VP_C_HAS_WITHIN, .length = 3, .distance = -4,
          .within = 10 },
    };
    m->conds = dup_mem(conds, sizeof conds);
    m->n_conds = 6;

    vp_mrule r[3];
    memset(r, 0, sizeof r);
    r[0].id = 1011242;
    r[0].severity = VP_SEV_CRITICAL;
    r[0].action = VP_ACTION_BLOCK;
    r[0].proto = VP_PROTO_TCP;
    r[0].direction = VP_DIR_TO_SERVER;
    r[0].modes = MODES_BOTH;
    r[0].cvss10 = 100;
    r[0].name = n0;
    r[0].description = d0;
    r[0].cve_first = 0, r[0].cve_count = 2;
    r[0].ref_first = 2, r[0].ref_count = 1;
    r[0].tag_first = 3, r[0].tag_count = 2;
    r[0].port_first = 0, r[0].port_count = 2;
    r[0].cond_first = 0, r[0].cond_count = 2;

    r[1].id = 7;
    r[1].severity = VP_SEV_MEDIUM;
    r[1].action = VP_ACTION_DETECT;
    r[1].proto = VP_PROTO_TCP;
    r[1].direction = VP_DIR_ANY;
    r[1].modes = VP_MODE_BIT(VP_MODE_SECURITY);
    r[1].cvss10 = -1;
    r[1].name = n1;
    r[1].tag_first = 5, r[1].tag_count = 1;
    r[1].port_first = 2, r[1].port_count = 1;
    r[1].cond_first = 2, r[1].cond_count = 2;

    r[2].id = 42;
    r[2].severity = VP_SEV_LOW;
    r[2].action = VP_ACTION_BLOCK;
    r[2].proto = VP_PROTO_UDP;
    r[2].direction = VP_DIR_TO_CLIENT;
    r[2].modes = 0;
    r[2].cvss10 = 0;
    r[2].name = n2;
    r[2].port_first = 3, r[2].port_count = 1;
    r[2].cond_first = 4, r[2].cond_count = 2;
    m->rules = dup_mem(r, sizeof r);
    m->n_rules = 3;

    m->hs_stream_db = dup_mem("not-a-real-db", 13);
    m->hs_stream_db_len = 13;
}

static void assert_rules_equal(const vp_mrule *a, const vp_mrule *b)
{
    ck_assert_uint_eq(a->id, b->id);
    ck_assert_uint_eq(a->severity, b->severity);
    ck_assert_uint_eq(a->action, b->action);
    ck_assert_uint_eq(a->proto, b->proto);
    ck_assert_uint_eq(a->direction, b->direction);
    ck_assert_uint_eq(a->modes, b->modes);
    ck_assert_uint_eq(a->service, b->service);
    ck_assert_uint_eq(a->flags, b->flags);
    ck_assert_int_eq(a->cvss10, b->cvss10);
    ck_assert_uint_eq(a->name, b->name);
    ck_assert_uint_eq(a->description, b->description);
    ck_assert_uint_eq(a->cve_first, b->cve_first);
    ck_assert_uint_eq(a->cve_count, b->cve_count);
    ck_assert_uint_eq(a->ref_first, b->ref_first);
    ck_assert_uint_eq(a->ref_count, b->ref_count);
    ck_assert_uint_eq(a->tag_first, b->tag_first);
    ck_assert_uint_eq(a->tag_count, b->tag_count);
    ck_assert_uint_eq(a->port_first, b->port_first);
    ck_assert_uint_eq(a->port_count, b->port_count);
    ck_assert_uint_eq(a->cond_first, b->cond_first);
    ck_assert_uint_eq(a->cond_count, b->cond_count);
}

static void assert_conds_equal(const vp_mcond *a, const vp_mcond *b)
{
    ck_assert_uint_eq(a->atom, b->atom);
    ck_assert_uint_eq(a->flags, b->flags);
    ck_assert_uint_eq(a->length, b->length);
    ck_assert_uint_eq(a->offset, b->offset);
    ck_assert_uint_eq(a->depth, b->depth);
    ck_assert_int_eq(a->distance, b->distance);
    ck_assert_uint_eq(a->within, b->within);
}

static void assert_models_equal(const vp_model *a, const vp_model *b)
{
    ck_assert_uint_eq(a->serial, b->serial);
    ck_assert_uint_eq(a->ruleset, b->ruleset);
    ck_assert_uint_eq(a->strings_len, b->strings_len);
    ck_assert_mem_eq(a->strings, b->strings, a->strings_len);
    ck_assert_uint_eq(a->n_strlist, b->n_strlist);
    for (size_t i = 0; i < a->n_strlist; i++)
        ck_assert_uint_eq(a->strlist[i], b->strlist[i]);
    ck_assert_uint_eq(a->n_ports, b->n_ports);
    for (size_t i = 0; i < a->n_ports; i++) {
        ck_assert_uint_eq(a->ports[i].lo, b->ports[i].lo);
        ck_assert_uint_eq(a->ports[i].hi, b->ports[i].hi);
    }
    ck_assert_uint_eq(a->n_atoms, b->n_atoms);
    for (size_t i = 0; i < a->n_atoms; i++) {
        ck_assert_uint_eq(a->atoms[i].expr, b->atoms[i].expr);
        ck_assert_uint_eq(a->atoms[i].flags, b->atoms[i].flags);
    }
    ck_assert_uint_eq(a->n_conds, b->n_conds);
    for (size_t i = 0; i < a->n_conds; i++)
        assert_conds_equal(&a->conds[i], &b->conds[i]);
    ck_assert_uint_eq(a->n_rules, b->n_rules);
    for (size_t i = 0; i < a->n_rules; i++)
        assert_rules_equal(&a->rules[i], &b->rules[i]);
    ck_assert_uint_eq(a->n_flowbits, b->n_flowbits);
    for (size_t i = 0; i < a->n_flowbits; i++) {
        ck_assert_uint_eq(a->flowbits[i].rule, b->flowbits[i].rule);
        ck_assert_uint_eq(a->flowbits[i].name, b->flowbits[i].name);
        ck_assert_uint_eq(a->flowbits[i].op, b->flowbits[i].op);
    }
    ck_assert_uint_eq(a->n_thresholds, b->n_thresholds);
    for (size_t i = 0; i < a->n_thresholds; i++) {
        ck_assert_uint_eq(a->thresholds[i].rule, b->thresholds[i].rule);
        ck_assert_uint_eq(a->thresholds[i].type, b->thresholds[i].type);
        ck_assert_uint_eq(a->thresholds[i].track, b->thresholds[i].track);
        ck_assert_uint_eq(a->thresholds[i].count, b->thresholds[i].count);
        ck_assert_uint_eq(a->thresholds[i].seconds, b->thresholds[i].seconds);
    }
    ck_assert_uint_eq(a->n_jumps, b->n_jumps);
    for (size_t i = 0; i < a->n_jumps; i++)
        ck_assert_mem_eq(&a->jumps[i], &b->jumps[i], sizeof a->jumps[i]);
    ck_assert_uint_eq(a->hs_stream_db_len, b->hs_stream_db_len);
    if (a->hs_stream_db_len)
        ck_assert_mem_eq(a->hs_stream_db, b->hs_stream_db, a->hs_stream_db_len);
}

static blob encode_model(const vp_model *m)
{
    blob b;
    ck_assert_int_eq(vp_bundle_encode(m, &b.p, &b.len), 0);
    return b;
}

static blob good_bundle(void)
{
    vp_model m;
    build_model(&m);
    blob b = encode_model(&m);
    vp_model_free(&m);
    return b;
}

static void assert_model_zeroed(const vp_model *m)
{
    vp_model zero;
    memset(&zero, 0, sizeof zero);
    ck_assert_mem_eq(m, &zero, sizeof zero);
}

/* Decodes, checks that a failed decode left the model zeroed, frees. */
static vp_status decode_blob(const blob *b, int64_t *off, char *msg, size_t cap)
{
    vp_model m;
    vp_status st = vp_bundle_decode(b->p, b->len, &m, msg, cap, off);
    if (st == VP_OK)
        vp_model_free(&m);
    else
        assert_model_zeroed(&m);
    return st;
}

static void expect_status_at(const blob *b, vp_status want, int64_t want_off, const char *what)
{
    char msg[256] = "untouched";
    int64_t off = -2;
    vp_status st = decode_blob(b, &off, msg, sizeof msg);
    ck_assert_msg(st == want, "%s: status %d, want %d (%s @%lld)", what, (int)st, (int)want, msg,
                  (long long)off);
    if (want == VP_OK) {
        ck_assert_int_eq(off, -1);
        ck_assert_str_eq(msg, "");
        return;
    }
    ck_assert_msg(off == want_off, "%s: erroff %lld, want %lld (%s)", what, (long long)off,
                  (long long)want_off, msg);
    ck_assert_msg(msg[0] != '\0' && strcmp(msg, "untouched") != 0, "%s: no message", what);
}

/* ---------------------------------------------------------------- raw layout access
 * Written from the spec, independently of the decoder. */

static size_t entry_pos(uint32_t i)
{
    return 48 + 32 * (size_t)i;
}

static uint32_t table_count(const blob *b)
{
    return vp_load_le32(b->p + 28);
}

static uint32_t entry_of(const blob *b, uint32_t type)
{
    for (uint32_t i = 0; i < table_count(b); i++)
        if (vp_load_le32(b->p + entry_pos(i)) == type)
            return i;
    ck_abort_msg("section %u not found", type);
    return 0;
}

static size_t sect_off(const blob *b, uint32_t type)
{
    return (size_t)vp_load_le64(b->p + entry_pos(entry_of(b, type)) + 8);
}

static size_t sect_size(const blob *b, uint32_t type)
{
    return (size_t)vp_load_le64(b->p + entry_pos(entry_of(b, type)) + 16);
}

/* Recomputes every section CRC that can be computed and the header CRC, so
 * that only the deliberate damage remains. */
static void reseal(blob *b)
{
    uint32_t n = table_count(b);
    size_t table_end = entry_pos(n > 64 ? 0 : n);
    if (table_end > b->len)
        return;
    for (uint32_t i = 0; i < n && n <= 64; i++) {
        uint8_t *e = b->p + entry_pos(i);
        uint64_t off = vp_load_le64(e + 8), size = vp_load_le64(e + 16);
        if (off <= b->len && size <= b->len - off)
            vp_store_le32(e + 24, vp_crc32(0, b->p + off, (size_t)size));
    }
    vp_store_le32(b->p + 40, 0);
    vp_store_le32(b->p + 40, vp_crc32(0, b->p, table_end));
}

typedef struct tsec {
    uint32_t type, flags;
    const uint8_t *data;
    size_t size;
} tsec;

/* Sections of a bundle in table order; data points into b. */
static size_t split(const blob *b, tsec *out)
{
    uint32_t n = table_count(b);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = b->p + entry_pos(i);
        out[i].type = vp_load_le32(e);
        out[i].flags = vp_load_le32(e + 4);
        out[i].data = b->p + vp_load_le64(e + 8);
        out[i].size = (size_t)vp_load_le64(e + 16);
    }
    return n;
}

/* Lays sections out as the spec says a writer must, with valid checksums. */
static blob assemble(const tsec *s, size_t n, uint16_t minor)
{
    size_t total = entry_pos((uint32_t)n);
    for (size_t i = 0; i < n; i++)
        total = align8(total) + s[i].size;
    total = align8(total);
    blob b = { calloc(1, total), total };
    ck_assert_ptr_nonnull(b.p);
    memcpy(b.p, VP_BUNDLE_MAGIC, 8);
    vp_store_le16(b.p + 8, 1);
    vp_store_le16(b.p + 10, minor);
    vp_store_le64(b.p + 16, GOLDEN_SERIAL);
    vp_store_le32(b.p + 24, 48);
    vp_store_le32(b.p + 28, (uint32_t)n);
    vp_store_le64(b.p + 32, total);
    size_t pos = entry_pos((uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = b.p + entry_pos((uint32_t)i);
        pos = align8(pos);
        vp_store_le32(e, s[i].type);
        vp_store_le32(e + 4, s[i].flags);
        vp_store_le64(e + 8, pos);
        vp_store_le64(e + 16, s[i].size);
        if (s[i].size)
            memcpy(b.p + pos, s[i].data, s[i].size);
        pos += s[i].size;
    }
    reseal(&b);
    return b;
}

static void put_le(uint8_t *p, int width, uint64_t v)
{
    for (int i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int width)
{
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* ================================================================ basics */

START_TEST(test_crc32)
{
    ck_assert_uint_eq(vp_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(vp_crc32(0, NULL, 0), 0);
    ck_assert_uint_eq(vp_crc32(0, "a", 1), 0xE8B7BE43u);
    /* chaining equals one pass */
    uint32_t c = vp_crc32(0, "1234", 4);
    ck_assert_uint_eq(vp_crc32(c, "56789", 5), 0xCBF43926u);
    uint8_t zeros[32] = { 0 };
    ck_assert_uint_eq(vp_crc32(0, zeros, sizeof zeros), 0x190A55ADu);
}
END_TEST

START_TEST(test_bytes_reader)
{
    static const uint8_t d[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                                 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
    vp_reader r = vp_reader_init(d, sizeof d);
    ck_assert_uint_eq(vp_get_u8(&r), 0x01);
    ck_assert_uint_eq(vp_get_u16(&r), 0x0302);
    ck_assert_uint_eq(vp_get_u32(&r), 0x07060504u);
    ck_assert_uint_eq(vp_get_u64(&r), UINT64_C(0x0f0e0d0c0b0a0908));
    ck_assert_int_eq(r.err, 0);
    ck_assert_uint_eq(vp_reader_left(&r), 0);
    ck_assert_uint_eq(vp_get_u8(&r), 0);
    ck_assert_int_eq(r.err, 1);

    vp_reader s = vp_reader_init(d, 3);
    ck_assert_uint_eq(vp_get_u32(&s), 0);    /* short read: error, no partial value */
    ck_assert_int_eq(s.err, 1);
    ck_assert_uint_eq(s.pos, 0);
    ck_assert_uint_eq(vp_get_u8(&s), 0);     /* sticky */
    ck_assert_ptr_null(vp_get_bytes(&s, 0));
}
END_TEST

START_TEST(test_bytes_writer)
{
    vp_writer w = { 0 };
    vp_put_u8(&w, 0x01);
    vp_put_u16(&w, 0x0302);
    vp_put_u32(&w, 0x07060504u);
    vp_put_u64(&w, UINT64_C(0x0f0e0d0c0b0a0908));
    vp_put_bytes(&w, "\x10\x11", 2);
    vp_put_zeros(&w, 3);
    ck_assert_int_eq(w.oom, 0);
    ck_assert_uint_eq(w.len, 20);
    static const uint8_t want[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                                    0, 0, 0 };
    ck_assert_mem_eq(w.buf, want, sizeof want);
    for (int i = 0; i < 10000; i++)     /* growth */
        vp_put_u32(&w, (uint32_t)i);
    ck_assert_uint_eq(w.len, 20 + 40000);
    ck_assert_uint_eq(vp_load_le32(w.buf + 20 + 4 * 9999), 9999);
    ck_assert_ptr_null(vp_put_reserve(&w, SIZE_MAX));
    ck_assert_int_eq(w.oom, 1);
    vp_writer_free(&w);
    ck_assert_ptr_null(w.buf);
}
END_TEST

START_TEST(test_model_free)
{
    vp_model_free(NULL);
    vp_model m;
    build_model(&m);
    vp_model_free(&m);
    assert_model_zeroed(&m);
    vp_model_free(&m);      /* zeroed model: harmless */
}
END_TEST

START_TEST(test_section_names)
{
    ck_assert_str_eq(vp_bundle_section_name(VP_SECT_META), "META");
    ck_assert_str_eq(vp_bundle_section_name(VP_SECT_STRINGS), "STRINGS");
    ck_assert_str_eq(vp_bundle_section_name(VP_SECT_HS_STREAM_DB), "HS_STREAM_DB");
    ck_assert_str_eq(vp_bundle_section_name(VP_SECT_SIGNATURE), "SIGNATURE");
    ck_assert_str_eq(vp_bundle_section_name(0), "unknown");
    ck_assert_str_eq(vp_bundle_section_name(1000), "unknown");
}
END_TEST

/* ================================================================ round trip and golden */

START_TEST(test_round_trip)
{
    vp_model m, d;
    build_model(&m);
    blob b = encode_model(&m);
    char msg[128] = "x";
    int64_t off = 0;
    ck_assert_int_eq(vp_bundle_decode(b.p, b.len, &d, msg, sizeof msg, &off), VP_OK);
    ck_assert_str_eq(msg, "");
    ck_assert_int_eq(off, -1);
    assert_models_equal(&m, &d);
    ck_assert_str_eq(vp_model_str(&d, d.ruleset), "acme-endpoint");
    ck_assert_str_eq(vp_model_str(&d, d.strlist[d.rules[0].cve_first + 1]), "CVE-2021-45046");

    /* canonical: re-encoding the decoded model gives the same bytes */
    blob c = encode_model(&d);
    ck_assert_uint_eq(c.len, b.len);
    ck_assert_mem_eq(c.p, b.p, b.len);
    ck_assert_uint_eq(b.len % 8, 0);
    free(c.p);
    free(b.p);
    vp_model_free(&d);
    vp_model_free(&m);
}
END_TEST

START_TEST(test_golden_empty)
{
    vp_model m;
    memset(&m, 0, sizeof m);
    m.serial = GOLDEN_SERIAL;
    m.strings = dup_mem("", 1);
    m.strings_len = 1;
    blob b = encode_model(&m);
    ck_assert_uint_eq(b.len, sizeof golden_empty);
    /* golden_empty is a format 1.0 bundle: it must keep loading, and the
     * current writer differs from it only in the minor version (and so in
     * the header checksum). */
    vp_model old;
    char msg[128];
    int64_t off;
    ck_assert_int_eq(vp_bundle_decode(golden_empty, sizeof golden_empty, &old, msg, sizeof msg, &off),
                     VP_OK);
    vp_model_free(&old);
    uint8_t want[sizeof golden_empty];
    memcpy(want, golden_empty, sizeof want);
    vp_store_le16(want + VP_BUNDLE_OFF_MINOR, VP_BUNDLE_MINOR);
    size_t table_end = VP_BUNDLE_HEADER_SIZE + 8 * VP_BUNDLE_ENTRY_SIZE;
    vp_store_le32(want + VP_BUNDLE_OFF_HEADER_CRC, 0);
    vp_store_le32(want + VP_BUNDLE_OFF_HEADER_CRC, vp_crc32(0, want, table_end));
    /* header first, for a readable failure */
    ck_assert_mem_eq(b.p, want, VP_BUNDLE_HEADER_SIZE);
    ck_assert_mem_eq(b.p, want, sizeof want);
    free(b.p);
    vp_model_free(&m);

    /* an empty string pool is written as one NUL: the same bytes */
    memset(&m, 0, sizeof m);
    m.serial = GOLDEN_SERIAL;
    b = encode_model(&m);
    ck_assert_mem_eq(b.p, want, sizeof want);
    free(b.p);

    /* and the golden bytes decode */
    vp_model d;
    ck_assert_int_eq(vp_bundle_decode(golden_empty, sizeof golden_empty, &d, NULL, 0, NULL), VP_OK);
    ck_assert_uint_eq(d.serial, GOLDEN_SERIAL);
    ck_assert_uint_eq(d.n_rules, 0);
    ck_assert_uint_eq(d.strings_len, 1);
    ck_assert_str_eq(vp_model_str(&d, d.ruleset), "");
    vp_model_free(&d);
}
END_TEST

START_TEST(test_golden_header_fields)
{
    blob b = good_bundle();
    const uint8_t *h = b.p;
    ck_assert_mem_eq(h, "\x89VPB\r\n\x1a\n", 8);
    ck_assert_uint_eq(vp_load_le16(h + 8), 1);
    ck_assert_uint_eq(vp_load_le16(h + 10), VP_BUNDLE_MINOR);
    ck_assert_uint_eq(vp_load_le32(h + 12), 0);
    ck_assert_mem_eq(h + 16, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
    ck_assert_uint_eq(vp_load_le32(h + 24), 48);
    ck_assert_uint_eq(vp_load_le32(h + 28), 8);
    ck_assert_uint_eq(vp_load_le64(h + 32), b.len);
    ck_assert_uint_eq(vp_load_le32(h + 44), 0);
    /* sections packed in table order right after the table, 8-aligned */
    size_t pos = entry_pos(8);
    for (uint32_t i = 0; i < 8; i++) {
        const uint8_t *e = h + entry_pos(i);
        ck_assert_uint_eq(vp_load_le32(e), i + 1);
        ck_assert_uint_eq(vp_load_le32(e + 4), VP_BUNDLE_SECTION_REQUIRED);
        ck_assert_uint_eq(vp_load_le64(e + 8), align8(pos));
        pos = align8(pos) + (size_t)vp_load_le64(e + 16);
        ck_assert_uint_eq(vp_load_le32(e + 24),
                          vp_crc32(0, h + vp_load_le64(e + 8), (size_t)vp_load_le64(e + 16)));
        ck_assert_uint_eq(vp_load_le32(e + 28), 0);
    }
    ck_assert_uint_eq(align8(pos), b.len);
    ck_assert_uint_eq(sect_size(&b, VP_SECT_RULES), 8 + 3 * 60);
    ck_assert_uint_eq(sect_size(&b, VP_SECT_CONDS), 8 + 6 * 28);
    ck_assert_uint_eq(sect_size(&b, VP_SECT_HS_STREAM_DB), 13);
    free(b.p);
}
END_TEST

START_TEST(test_peek)
{
    blob b = good_bundle();
    vp_bundle_header_info info;
    char msg[64];
    int64_t off = 0;
    ck_assert_int_eq(vp_bundle_peek(b.p, b.len, &info, msg, sizeof msg, &off), VP_OK);
    ck_assert_int_eq(off, -1);
    ck_assert_uint_eq(info.major, 1);
    ck_assert_uint_eq(info.minor, VP_BUNDLE_MINOR);
    ck_assert_uint_eq(info.serial, GOLDEN_SERIAL);
    ck_assert_uint_eq(info.header_size, 48);
    ck_assert_uint_eq(info.section_count, 8);
    ck_assert_uint_eq(info.file_size, b.len);
    ck_assert_uint_eq(info.header_crc, vp_load_le32(b.p + 40));
    for (uint32_t i = 0; i < 8; i++) {
        const uint8_t *e = b.p + entry_pos(i);
        ck_assert_uint_eq(info.sections[i].type, vp_load_le32(e));
        ck_assert_uint_eq(info.sections[i].flags, VP_BUNDLE_SECTION_REQUIRED);
        ck_assert_uint_eq(info.sections[i].offset, vp_load_le64(e + 8));
        ck_assert_uint_eq(info.sections[i].size, vp_load_le64(e + 16));
        ck_assert_uint_eq(info.sections[i].crc, vp_load_le32(e + 24));
    }
    /* peek does not look inside sections: a bad rule still peeks fine */
    vp_store_le32(b.p + sect_off(&b, VP_SECT_RULES) + 8, 0);
    reseal(&b);
    ck_assert_int_eq(vp_bundle_peek(b.p, b.len, &info, NULL, 0, NULL), VP_OK);
    ck_assert_int_eq(vp_bundle_decode(b.p, b.len, &(vp_model){ 0 }, NULL, 0, NULL),
                     VP_E_BUNDLE_FORMAT);
    free(b.p);
}
END_TEST

START_TEST(test_encode_normalizes_absent_fields)
{
    vp_model m, d;
    build_model(&m);
    m.conds[4].offset = 99;       /* no HAS_OFFSET: garbage */
    m.conds[4].depth = 5;
    m.conds[4].distance = -3;
    m.conds[4].within = 8;
    blob b = encode_model(&m);
    ck_assert_int_eq(vp_bundle_decode(b.p, b.len, &d, NULL, 0, NULL), VP_OK);
    ck_assert_uint_eq(d.conds[4].offset, 0);
    ck_assert_uint_eq(d.conds[4].depth, 0);
    ck_assert_int_eq(d.conds[4].distance, 0);
    ck_assert_uint_eq(d.conds[4].within, 0);
    vp_model_free(&d);
    free(b.p);
    vp_model_free(&m);
}
END_TEST

START_TEST(test_arguments)
{
    vp_model m;
    char msg[64];
    int64_t off = 0;
    ck_assert_int_eq(vp_bundle_decode(NULL, 5, &m, msg, sizeof msg, &off), VP_E_INVALID);
    ck_assert_int_eq(vp_bundle_decode(golden_empty, sizeof golden_empty, NULL, NULL, 0, NULL),
                     VP_E_INVALID);
    ck_assert_int_eq(vp_bundle_decode(NULL, 0, &m, msg, sizeof msg, &off), VP_E_BUNDLE_FORMAT);
    ck_assert_int_eq(off, 0);
    ck_assert_int_eq(vp_bundle_peek(golden_empty, sizeof golden_empty, NULL, NULL, 0, NULL),
                     VP_E_INVALID);
    uint8_t *out = (uint8_t *)1;
    size_t len = 1;
    ck_assert_int_eq(vp_bundle_encode(NULL, &out, &len), -1);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(len, 0);

    /* tiny error buffers stay terminated; errcap 0 leaves it alone */
    const uint8_t bad[4] = { 'X', 'Y', 'Z', 'W' };
    msg[0] = 'q';
    ck_assert_int_eq(vp_bundle_decode(bad, sizeof bad, &m, msg, 0, NULL), VP_E_BUNDLE_FORMAT);
    ck_assert_int_eq(msg[0], 'q');
    ck_assert_int_eq(vp_bundle_decode(bad, sizeof bad, &m, msg, 1, NULL), VP_E_BUNDLE_FORMAT);
    ck_assert_int_eq(msg[0], '\0');
    memset(msg, 'q', sizeof msg);
    ck_assert_int_eq(vp_bundle_decode(bad, sizeof bad, &m, msg, 5, NULL), VP_E_BUNDLE_FORMAT);
    ck_assert_uint_eq(strlen(msg), 4);
}
END_TEST

/* ================================================================ damage */

/* Every proper prefix is refused, with the model left empty. Exact-size
 * copies so that valgrind/ASan see any read past the end. */
START_TEST(test_truncation)
{
    blob b = good_bundle();
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(p);
        memcpy(p, b.p, n);
        blob t = { p, n };
        int64_t off = -2;
        char msg[128];
        vp_status st = decode_blob(&t, &off, msg, sizeof msg);
        ck_assert_msg(st == VP_E_BUNDLE_FORMAT, "length %zu: %d", n, st);
        ck_assert_msg(off >= 0 && (size_t)off <= n, "length %zu: erroff %lld", n, (long long)off);
        free(p);
    }
    free(b.p);
}
END_TEST

/* Which section (if any) covers byte i. */
static int in_section(const blob *b, size_t i)
{
    for (uint32_t k = 0; k < table_count(b); k++) {
        const uint8_t *e = b->p + entry_pos(k);
        uint64_t off = vp_load_le64(e + 8), size = vp_load_le64(e + 16);
        if (i >= off && i < off + size)
            return 1;
    }
    return 0;
}

START_TEST(test_bit_flips)
{
    blob b = good_bundle();
    int strict = vp_bundle_checksums_enforced();
    for (size_t i = 0; i < b.len; i++) {
        int covered = in_section(&b, i);
        for (int bit = 0; bit < 8; bit++) {
            b.p[i] ^= (uint8_t)(1u << bit);
            int64_t off = -2;
            char msg[128];
            vp_status st = decode_blob(&b, &off, msg, sizeof msg);
            b.p[i] ^= (uint8_t)(1u << bit);
            if (!strict)
                continue;   /* fuzzing build: only "no crash" holds */
            ck_assert_msg(st != VP_OK, "byte %zu bit %d accepted", i, bit);
            if (covered)
                ck_assert_msg(st == VP_E_BUNDLE_CHECKSUM && off >= 0 && (size_t)off <= i,
                              "byte %zu bit %d: %d @%lld (%s)", i, bit, st, (long long)off, msg);
        }
    }
    free(b.p);
}
END_TEST

START_TEST(test_checksums)
{
    if (!vp_bundle_checksums_enforced())
        return;
    blob b = good_bundle();
    size_t rules = sect_off(&b, VP_SECT_RULES);
    b.p[rules + 20] ^= 1;
    expect_status_at(&b, VP_E_BUNDLE_CHECKSUM, (int64_t)rules, "rules byte");
    b.p[rules + 20] ^= 1;
    b.p[entry_pos(entry_of(&b, VP_SECT_RULES)) + 24] ^= 0x80;   /* stored CRC itself */
    expect_status_at(&b, VP_E_BUNDLE_CHECKSUM, 40, "table crc field");
    b.p[entry_pos(entry_of(&b, VP_SECT_RULES)) + 24] ^= 0x80;
    b.p[17] ^= 4;                                               /* serial */
    expect_status_at(&b, VP_E_BUNDLE_CHECKSUM, 40, "serial");
    b.p[17] ^= 4;
    expect_status_at(&b, VP_OK, -1, "restored");
    free(b.p);
}
END_TEST

/* ---------------------------------------------------------------- crafted content */

#define REC(i, size, field) (8 + (i) * (size) + (field))
#define COND(i, f) REC(i, 28, f)
#define RULE(i, f) REC(i, 60, f)
#define ATOM(i, f) REC(i, 8, f)
#define PORT(i, f) REC(i, 4, f)
#define ENTRY(i, f) (48 + 32 * (i) + (f))
#define SAME LONG_MIN
#define ADD 1               /* value is added to the field */

typedef struct tamper {
    const char *name;
    uint32_t sect;          /* 0: pos is a file position */
    long pos;               /* inside the section; negative: from its end */
    int width;              /* bytes written little-endian */
    uint64_t value;
    vp_status want;
    uint32_t exp_sect;      /* section of the expected erroff (0: same as sect) */
    long exp;               /* expected erroff in that frame; SAME: pos */
    int mode;               /* 0: value replaces the field; ADD: value is added to it */
} tamper;

#define F VP_E_BUNDLE_FORMAT
static const tamper tampers[] = {
    /* header */
    { "magic", 0, 0, 1, 'X', F, 0, SAME, 0 },
    { "magic high bit stripped", 0, 0, 1, 0x09, F, 0, 0, 0 },
    { "magic CRLF -> LF", 0, 4, 1, '\n', F, 0, 0, 0 },
    { "major 2", 0, 8, 2, 2, VP_E_BUNDLE_VERSION, 0, SAME, 0 },
    { "major 0", 0, 8, 2, 0, VP_E_BUNDLE_VERSION, 0, SAME, 0 },
    { "newer minor accepted", 0, 10, 2, 9, VP_OK, 0, 0, 0 },
    { "header flags", 0, 12, 4, 1, F, 0, SAME, 0 },
    { "header flags high bit", 0, 12, 4, 0x80000000u, F, 0, SAME, 0 },
    { "header size", 0, 24, 4, 56, F, 0, SAME, 0 },
    { "section count 0", 0, 28, 4, 0, F, 0, SAME, 0 },
    { "section count 65", 0, 28, 4, 65, F, 0, SAME, 0 },
    { "section count huge", 0, 28, 4, 0xffffffffu, F, 0, SAME, 0 },
    { "table overlaps first section", 0, 28, 4, 9, F, 0, ENTRY(0, 8), 0 },
    { "file size", 0, 32, 8, 8, F, 0, SAME, ADD },
    { "header reserved", 0, 44, 4, 1, F, 0, SAME, 0 },
    /* section table */
    { "entry reserved flag", 0, ENTRY(2, 4), 4, 3, F, 0, SAME, 0 },
    { "entry reserved field", 0, ENTRY(2, 28), 4, 1, F, 0, SAME, 0 },
    { "entry type 0", 0, ENTRY(2, 0), 4, 0, F, 0, SAME, 0 },
    { "required type without flag", 0, ENTRY(2, 4), 4, 0, F, 0, SAME, 0 },
    { "duplicate type", 0, ENTRY(3, 0), 4, VP_SECT_STRLIST, F, 0, SAME, 0 },
    { "unknown required type", 0, ENTRY(3, 0), 4, 1000, F, 0, SAME, 0 },
    { "offset past end", 0, ENTRY(7, 8), 8, UINT64_C(1) << 40, F, 0, SAME, 0 },
    { "size past end", 0, ENTRY(7, 16), 8, 1u << 20, F, 0, ENTRY(7, 8), 0 },
    { "size overflows", 0, ENTRY(7, 16), 8, UINT64_MAX, F, 0, ENTRY(7, 8), 0 },
    { "offset into header", 0, ENTRY(0, 8), 8, 16, F, 0, SAME, 0 },
    { "offset into table", 0, ENTRY(0, 8), 8, 48, F, 0, SAME, 0 },
    { "overlaps previous section", 0, ENTRY(2, 8), 8, (uint64_t)-8, F, 0, SAME, ADD },
    { "grows into next section", 0, ENTRY(1, 16), 8, 8, F, 0, ENTRY(2, 8), ADD },
    { "gap between sections", 0, ENTRY(2, 8), 8, 8, F, 0, SAME, ADD },
    { "misaligned section", 0, ENTRY(2, 8), 8, 4, F, 0, SAME, ADD },
    /* META and STRINGS */
    { "ruleset outside pool", VP_SECT_META, 0, 4, 0xffffff, F, 0, SAME, 0 },
    { "meta reserved", VP_SECT_META, 4, 4, 1, F, 0, SAME, 0 },
    { "pool does not start with NUL", VP_SECT_STRINGS, 0, 1, 'x', F, 0, SAME, 0 },
    { "unterminated string", VP_SECT_STRINGS, -1, 1, 'x', F, 0, SAME, 0 },
    /* array headers: counts are checked against the size before allocating */
    { "strlist count huge", VP_SECT_STRLIST, 0, 4, 0xffffffffu, F, 0, SAME, 0 },
    { "strlist reserved", VP_SECT_STRLIST, 4, 4, 1, F, 0, SAME, 0 },
    { "ports count short", VP_SECT_PORTS, 0, 4, 3, F, 0, SAME, 0 },
    { "atoms count long", VP_SECT_ATOMS, 0, 4, 7, F, 0, SAME, 0 },
    { "conds count huge", VP_SECT_CONDS, 0, 4, 0x80000000u, F, 0, SAME, 0 },
    { "rules count", VP_SECT_RULES, 0, 4, 2, F, 0, SAME, 0 },
    /* records */
    { "strlist entry outside pool", VP_SECT_STRLIST, REC(1, 4, 0), 4, 0x7fffffff, F, 0, SAME, 0 },
    { "port lo > hi", VP_SECT_PORTS, PORT(2, 0), 2, 9000, F, 0, SAME, 0 },
    { "atom expr outside pool", VP_SECT_ATOMS, ATOM(1, 0), 4, 0xffffff, F, 0, SAME, 0 },
    { "atom unknown flag", VP_SECT_ATOMS, ATOM(1, 4), 4, VP_A_CASELESS | (VP_A_ALL_FLAGS + 1u), F,
      0, SAME, 0 },
    { "atom loses REGEX", VP_SECT_ATOMS, ATOM(2, 4), 4, 0, F, VP_SECT_CONDS, COND(2, 4), 0 },
    { "cond atom out of range", VP_SECT_CONDS, COND(0, 0), 4, 6, F, 0, SAME, 0 },
    { "cond atom huge", VP_SECT_CONDS, COND(0, 0), 4, 0xffffffffu, F, 0, SAME, 0 },
    { "cond unknown flag", VP_SECT_CONDS, COND(4, 4), 4, VP_C_ALL_FLAGS + 1u, F, 0, SAME, 0 },
    { "cond REGEX on literal atom", VP_SECT_CONDS, COND(4, 4), 4, VP_C_REGEX, F, 0, SAME, 0 },
    { "regex with length", VP_SECT_CONDS, COND(2, 8), 4, 5, F, 0, SAME, 0 },
    { "literal with length 0", VP_SECT_CONDS, COND(4, 8), 4, 0, F, 0, SAME, 0 },
    { "regex relative", VP_SECT_CONDS, COND(2, 4), 4,
      VP_C_REGEX | VP_C_HAS_DEPTH | VP_C_HAS_DISTANCE, F, 0, SAME, 0 },
    { "offset without flag", VP_SECT_CONDS, COND(4, 12), 4, 5, F, 0, SAME, 0 },
    { "depth without flag", VP_SECT_CONDS, COND(4, 16), 4, 5, F, 0, SAME, 0 },
    { "distance without flag", VP_SECT_CONDS, COND(4, 20), 4, 5, F, 0, SAME, 0 },
    { "within without flag", VP_SECT_CONDS, COND(4, 24), 4, 5, F, 0, SAME, 0 },
    { "offset too big", VP_SECT_CONDS, COND(0, 12), 4, 0x80000000u, F, 0, SAME, 0 },
    { "depth too big", VP_SECT_CONDS, COND(0, 16), 4, 0x80000000u, F, 0, SAME, 0 },
    { "depth 0", VP_SECT_CONDS, COND(0, 16), 4, 0, F, 0, SAME, 0 },
    { "distance INT32_MIN", VP_SECT_CONDS, COND(5, 20), 4, 0x80000000u, F, 0, SAME, 0 },
    { "within too big", VP_SECT_CONDS, COND(1, 24), 4, 0x80000000u, F, 0, SAME, 0 },
    { "within shorter than literal", VP_SECT_CONDS, COND(1, 24), 4, 3, F, 0, SAME, 0 },
    { "within equal to literal", VP_SECT_CONDS, COND(1, 24), 4, 4, VP_OK, 0, 0, 0 },
    { "lookback via within", VP_SECT_CONDS, COND(1, 24), 4, 65537, F, 0, SAME, 0 },
    { "lookback at the limit", VP_SECT_CONDS, COND(1, 24), 4, 65536, VP_OK, 0, 0, 0 },
    { "lookback distance+within", VP_SECT_CONDS, COND(5, 24), 4, 65541, F, 0, SAME, 0 },
    { "lookback distance+within at limit", VP_SECT_CONDS, COND(5, 24), 4, 65540, VP_OK, 0, 0, 0 },
    { "negative distance lookback", VP_SECT_CONDS, COND(5, 20), 4, (uint32_t)-65537, F, 0, SAME,
      0 },
    { "negative distance at limit", VP_SECT_CONDS, COND(5, 20), 4, (uint32_t)-65536, VP_OK, 0, 0,
      0 },
    { "first cond relative", VP_SECT_CONDS, COND(0, 4), 4,
      VP_C_HAS_OFFSET | VP_C_HAS_DEPTH | VP_C_HAS_DISTANCE, F, 0, SAME, 0 },
    { "relative after negated", VP_SECT_CONDS, COND(0, 4), 4,
      VP_C_NEGATE | VP_C_HAS_OFFSET | VP_C_HAS_DEPTH, F, 0, COND(1, 4), 0 },
    { "rule id 0", VP_SECT_RULES, RULE(1, 0), 4, 0, F, 0, SAME, 0 },
    { "duplicate rule id", VP_SECT_RULES, RULE(2, 0), 4, 1011242, F, 0, SAME, 0 },
    { "duplicate rule id, later reported", VP_SECT_RULES, RULE(1, 0), 4, 42, F, 0, RULE(2, 0), 0 },
    { "severity 0", VP_SECT_RULES, RULE(0, 4), 1, 0, F, 0, SAME, 0 },
    { "severity 5", VP_SECT_RULES, RULE(0, 4), 1, 5, F, 0, SAME, 0 },
    { "action 0", VP_SECT_RULES, RULE(0, 5), 1, 0, F, 0, SAME, 0 },
    { "action 3", VP_SECT_RULES, RULE(0, 5), 1, 3, F, 0, SAME, 0 },
    { "proto 7", VP_SECT_RULES, RULE(0, 6), 1, 7, F, 0, SAME, 0 },
    { "direction 0", VP_SECT_RULES, RULE(0, 7), 1, 0, F, 0, SAME, 0 },
    { "direction 4", VP_SECT_RULES, RULE(0, 7), 1, 4, F, 0, SAME, 0 },
    { "mode bit 0", VP_SECT_RULES, RULE(0, 8), 1, 1, F, 0, SAME, 0 },
    { "mode bit 3", VP_SECT_RULES, RULE(0, 8), 1, 8 | MODES_BOTH, F, 0, SAME, 0 },
    { "unknown service", VP_SECT_RULES, RULE(0, 9), 1, 2, F, 0, SAME, 0 },
    { "service http on tcp", VP_SECT_RULES, RULE(0, 9), 1, VP_SERVICE_HTTP, VP_OK, 0, 0, 0 },
    { "service http on udp", VP_SECT_RULES, RULE(2, 9), 1, VP_SERVICE_HTTP, F, 0, SAME, 0 },
    { "cvss 101", VP_SECT_RULES, RULE(0, 10), 2, 101, F, 0, SAME, 0 },
    { "cvss -2", VP_SECT_RULES, RULE(0, 10), 2, 0xfffe, F, 0, SAME, 0 },
    { "cvss -1 accepted", VP_SECT_RULES, RULE(0, 10), 2, 0xffff, VP_OK, 0, 0, 0 },
    { "name outside pool", VP_SECT_RULES, RULE(0, 12), 4, 0x7fffffff, F, 0, SAME, 0 },
    { "description outside pool", VP_SECT_RULES, RULE(0, 16), 4, 0x7fffffff, F, 0, SAME, 0 },
    { "cve range past end", VP_SECT_RULES, RULE(0, 20), 4, 5, F, 0, SAME, 0 },
    { "cve first overflows", VP_SECT_RULES, RULE(0, 20), 4, 0xffffffffu, F, 0, SAME, 0 },
    { "cve count overflows", VP_SECT_RULES, RULE(0, 24), 4, 0xffffffffu, F, 0, RULE(0, 20), 0 },
    { "reference range", VP_SECT_RULES, RULE(0, 28), 4, 6, F, 0, SAME, 0 },
    { "tag range", VP_SECT_RULES, RULE(1, 36), 4, 6, F, 0, SAME, 0 },
    { "port range", VP_SECT_RULES, RULE(2, 44), 4, 4, F, 0, SAME, 0 },
    { "cond range", VP_SECT_RULES, RULE(2, 52), 4, 5, F, 0, SAME, 0 },
    { "rule without conditions", VP_SECT_RULES, RULE(2, 56), 4, 0, F, 0, SAME, 0 },
    { "empty cve range at end ok", VP_SECT_RULES, RULE(1, 20), 4, 6, VP_OK, 0, 0, 0 },
};
#undef F

static size_t frame_base(const blob *b, uint32_t sect)
{
    return sect ? sect_off(b, sect) : 0;
}

START_TEST(test_crafted)
{
    const tamper *t = &tampers[_i];
    blob b = good_bundle();
    size_t base = frame_base(&b, t->sect);
    size_t pos = t->pos < 0 ? base + sect_size(&b, t->sect) - (size_t)-t->pos
                            : base + (size_t)t->pos;
    uint64_t v = t->value;
    if (t->mode == ADD)
        v += get_le(b.p + pos, t->width);
    put_le(b.p + pos, t->width, v);
    reseal(&b);
    int64_t want_off;
    if (t->exp == SAME)
        want_off = (int64_t)pos;
    else
        want_off = (int64_t)(frame_base(&b, t->exp_sect ? t->exp_sect : t->sect) + (size_t)t->exp);
    expect_status_at(&b, t->want, want_off, t->name);
    free(b.p);
}
END_TEST

/* ---------------------------------------------------------------- services */

/* Encodes m, decodes it back and checks nothing changed; returns the bytes. */
static blob round_trip(const vp_model *m)
{
    vp_model back;
    blob b = encode_model(m);
    int64_t off = -1;
    char msg[256];
    ck_assert_msg(vp_bundle_decode(b.p, b.len, &back, msg, sizeof msg, &off) == VP_OK, "%s", msg);
    assert_models_equal(m, &back);
    vp_model_free(&back);
    return b;
}

/* A service rule keeps its service through a round trip, and may not have a
 * condition on an HTTP buffer (the error names that condition's flags). */
START_TEST(test_service_rules)
{
    vp_model m;
    build_model(&m);
    m.rules[1].service = VP_SERVICE_HTTP;
    blob b = round_trip(&m);
    free(b.p);
    int64_t off = -1;
    char msg[256];

    uint32_t c = m.rules[1].cond_first + 1;
    m.conds[c].flags |= (uint32_t)VP_BUF_HEADER << VP_BUF_SHIFT;
    m.atoms[m.conds[c].atom].flags |= (uint32_t)VP_BUF_HEADER << VP_BUF_SHIFT;
    b = encode_model(&m);
    ck_assert_int_eq(decode_blob(&b, &off, msg, sizeof msg), VP_E_BUNDLE_FORMAT);
    ck_assert_msg(strstr(msg, "service") != NULL, "%s", msg);
    ck_assert_int_eq(off, (int64_t)(sect_off(&b, VP_SECT_CONDS) + COND(c, 4)));
    free(b.p);
    vp_model_free(&m);
}
END_TEST

/* ---------------------------------------------------------------- flowbits */

/* Rule 1 (detect) gets noalert and two flowbit records; rule 2 one. */
static void flowbits_model(vp_model *m)
{
    build_model(m);
    m->rules[1].flags = VP_R_NOALERT | VP_R_FLOWBITS;
    m->rules[2].flags = VP_R_FLOWBITS;
    m->rules[2].action = VP_ACTION_DETECT;
    vp_mflowbit fb[3] = {
        {.rule = 1, .name = m->rules[0].name, .op = VP_FB_SET},
        {.rule = 1, .name = m->rules[1].name, .op = VP_FB_ISNOTSET},
        {.rule = 2, .name = m->rules[0].name, .op = VP_FB_TOGGLE},
    };
    m->flowbits = dup_mem(fb, sizeof fb);
    m->n_flowbits = 3;
}

#define FB_REC(i, f) (VP_BUNDLE_ARRAY_HEADER + (i) * VP_BUNDLE_FLOWBIT_REC + (f))

typedef struct fb_case {
    const char *what;
    void (*mutate)(vp_model *m);
    uint32_t sect;  /* where the error is: section, and offset in it */
    size_t at;
} fb_case;

static void fb_no_records(vp_model *m) { m->n_flowbits = 0; }
static void fb_rule_range(vp_model *m) { m->flowbits[1].rule = 9; }
static void fb_op_zero(vp_model *m) { m->flowbits[1].op = 0; }
static void fb_op_six(vp_model *m) { m->flowbits[2].op = 6; }
static void fb_empty_name(vp_model *m) { m->flowbits[0].name = 0; }
static void fb_name_outside(vp_model *m) { m->flowbits[0].name = 0x7fffffff; }
static void fb_unflagged(vp_model *m) { m->flowbits[2].rule = 0; }
static void fb_order(vp_model *m)
{
    m->rules[0].flags = VP_R_FLOWBITS;
    m->flowbits[2].rule = 0;
}
static void fb_noalert_block(vp_model *m) { m->rules[0].flags = VP_R_NOALERT; }
static void fb_missing_for_rule(vp_model *m) { m->rules[0].flags = VP_R_FLOWBITS; }

static const fb_case fb_cases[] = {
    {"flag without FLOWBITS section", fb_no_records, VP_SECT_RULES, RULE(1, 9)},
    {"record for a rule out of range", fb_rule_range, VP_SECT_FLOWBITS, FB_REC(1, 0)},
    {"operation 0", fb_op_zero, VP_SECT_FLOWBITS, FB_REC(1, 8)},
    {"operation 6", fb_op_six, VP_SECT_FLOWBITS, FB_REC(2, 8)},
    {"empty name", fb_empty_name, VP_SECT_FLOWBITS, FB_REC(0, 4)},
    {"name outside the pool", fb_name_outside, VP_SECT_FLOWBITS, FB_REC(0, 4)},
    {"record for a rule without the flag", fb_unflagged, VP_SECT_FLOWBITS, FB_REC(2, 0)},
    {"records out of rule order", fb_order, VP_SECT_FLOWBITS, FB_REC(2, 0)},
    {"noalert on a block rule", fb_noalert_block, VP_SECT_RULES, RULE(0, 9)},
    {"flagged rule without records", fb_missing_for_rule, VP_SECT_RULES, RULE(0, 9)},
};

START_TEST(test_flowbits_round_trip)
{
    vp_model m;
    flowbits_model(&m);
    blob b = round_trip(&m);
    int64_t off = -1;
    char msg[256];
    /* reserved bits of the service byte */
    size_t at = sect_off(&b, VP_SECT_RULES) + RULE(1, 9);
    b.p[at] |= 0x10;
    reseal(&b);
    ck_assert_int_eq(decode_blob(&b, &off, msg, sizeof msg), VP_E_BUNDLE_FORMAT);
    ck_assert_int_eq(off, (int64_t)at);
    /* a reserved byte of a record */
    b.p[at] &= (uint8_t)~0x10;
    size_t rec = sect_off(&b, VP_SECT_FLOWBITS) + FB_REC(1, 10);
    b.p[rec] = 1;
    reseal(&b);
    ck_assert_int_eq(decode_blob(&b, &off, msg, sizeof msg), VP_E_BUNDLE_FORMAT);
    ck_assert_int_eq(off, (int64_t)(rec - 1));
    free(b.p);
    vp_model_free(&m);
}
END_TEST

/* The model `make` builds, changed by t->mutate, is refused at t's offset. */
static void expect_refused(void (*make)(vp_model *), const fb_case *t)
{
    vp_model m;
    make(&m);
    t->mutate(&m);
    blob b = encode_model(&m);
    int64_t off = -1;
    char msg[256];
    ck_assert_msg(decode_blob(&b, &off, msg, sizeof msg) == VP_E_BUNDLE_FORMAT, "%s", t->what);
    ck_assert_msg(off == (int64_t)(sect_off(&b, t->sect) + t->at), "%s: offset %lld (%s)", t->what,
                  (long long)off, msg);
    free(b.p);
    vp_model_free(&m);
}

START_TEST(test_flowbits_invalid)
{
    expect_refused(flowbits_model, &fb_cases[_i]);
}
END_TEST

/* -------------------------------------------------------------- thresholds */

/* Rule 0 (block) gets a limit, rule 2 (made detect) a detection_filter. */
static void thresholds_model(vp_model *m)
{
    build_model(m);
    m->rules[0].flags = VP_R_THRESHOLD;
    m->rules[2].flags = VP_R_THRESHOLD;
    m->rules[2].action = VP_ACTION_DETECT;
    vp_mthreshold t[2] = {
        {.rule = 0, .type = VP_THRESHOLD_LIMIT, .track = VP_TRACK_BY_SRC, .count = 1,
         .seconds = 60},
        {.rule = 2, .type = VP_THRESHOLD_DETECTION_FILTER, .track = VP_TRACK_BY_BOTH,
         .count = 30, .seconds = 4000000000u},
    };
    m->thresholds = dup_mem(t, sizeof t);
    m->n_thresholds = 2;
}

#define TH_REC(i, f) (VP_BUNDLE_ARRAY_HEADER + (i) * VP_BUNDLE_THRESHOLD_REC + (f))

static void th_no_records(vp_model *m) { m->n_thresholds = 0; }
static void th_rule_range(vp_model *m) { m->thresholds[1].rule = 3; }
static void th_unflagged(vp_model *m) { m->thresholds[1].rule = 1; }
static void th_same_rule(vp_model *m)
{
    m->rules[2].flags = 0;
    m->thresholds[1].rule = 0;
}
static void th_type_zero(vp_model *m) { m->thresholds[0].type = 0; }
static void th_type_five(vp_model *m) { m->thresholds[1].type = 5; }
static void th_track_zero(vp_model *m) { m->thresholds[1].track = 0; }
static void th_track_five(vp_model *m) { m->thresholds[0].track = 5; }
static void th_count_zero(vp_model *m) { m->thresholds[1].count = 0; }
static void th_seconds_zero(vp_model *m) { m->thresholds[0].seconds = 0; }
static void th_block_not_limit(vp_model *m) { m->thresholds[0].type = VP_THRESHOLD_BOTH; }
static void th_noalert(vp_model *m) { m->rules[2].flags |= VP_R_NOALERT; }
static void th_missing_for_rule(vp_model *m) { m->rules[1].flags = VP_R_THRESHOLD; }

static const fb_case th_cases[] = {
    {"flag without THRESHOLDS section", th_no_records, VP_SECT_RULES, RULE(0, 9)},
    {"record for a rule out of range", th_rule_range, VP_SECT_THRESHOLDS, TH_REC(1, 0)},
    {"record for a rule without the flag", th_unflagged, VP_SECT_THRESHOLDS, TH_REC(1, 0)},
    {"two records for one rule", th_same_rule, VP_SECT_THRESHOLDS, TH_REC(1, 0)},
    {"type 0", th_type_zero, VP_SECT_THRESHOLDS, TH_REC(0, 4)},
    {"type 5", th_type_five, VP_SECT_THRESHOLDS, TH_REC(1, 4)},
    {"track 0", th_track_zero, VP_SECT_THRESHOLDS, TH_REC(1, 5)},
    {"track 5", th_track_five, VP_SECT_THRESHOLDS, TH_REC(0, 5)},
    {"count 0", th_count_zero, VP_SECT_THRESHOLDS, TH_REC(1, 8)},
    {"seconds 0", th_seconds_zero, VP_SECT_THRESHOLDS, TH_REC(0, 12)},
    {"block rule with a count type", th_block_not_limit, VP_SECT_THRESHOLDS, TH_REC(0, 4)},
    {"noalert rule", th_noalert, VP_SECT_THRESHOLDS, TH_REC(1, 0)},
    {"flagged rule without a record", th_missing_for_rule, VP_SECT_RULES, RULE(1, 9)},
};

START_TEST(test_thresholds_round_trip)
{
    vp_model m;
    thresholds_model(&m);
    blob b = round_trip(&m);
    int64_t off = -1;
    char msg[256];
    /* the reserved bytes of a record */
    size_t rec = sect_off(&b, VP_SECT_THRESHOLDS) + TH_REC(1, 7);
    b.p[rec] = 1;
    reseal(&b);
    ck_assert_int_eq(decode_blob(&b, &off, msg, sizeof msg), VP_E_BUNDLE_FORMAT);
    ck_assert_int_eq(off, (int64_t)(rec - 1));
    free(b.p);
    vp_model_free(&m);
}
END_TEST

START_TEST(test_thresholds_invalid)
{
    expect_refused(thresholds_model, &th_cases[_i]);
}
END_TEST

/* -------------------------------------------------------------- byte_jump */

/* Rule 1: "ab", a 2-byte jump, "cd"; rule 2: "x", "y" 1 after, a 1-byte
 * jump, "z".  Conditions 0-2 and 3-6; the jumps are conditions 1 and 5. */
static void jumps_model(vp_model *m)
{
    static const char yaml[] =
        "format: 1\nrules:\n"
        "  - {id: 1, name: a, severity: low, match: [{content: ab},\n"
        "     {byte_jump: {bytes: 2, endian: little, multiplier: 4, align: true,\n"
        "      post_offset: 7}, distance: 1}, {content: cd, distance: 0}]}\n"
        "  - {id: 2, name: b, severity: low, match: [{content: x}, {content: y, distance: 1},\n"
        "     {byte_jump: {bytes: 1}, distance: 0}, {content: z, within: 3}]}\n"
        "  - {id: 3, name: c, severity: low, match: [{regex: 'q+r'},\n"
        "     {byte_test: {bytes: 2, op: '>', value: 7, endian: little}, distance: 1,\n"
        "      within: 2}]}\n";
    uint8_t *data;
    size_t len;
    vpt_compile(yaml, &data, &len);
    char msg[256];
    int64_t off;
    ck_assert_int_eq(vp_bundle_decode(data, len, m, msg, sizeof msg, &off), VP_OK);
    free(data);
    ck_assert_uint_eq(m->n_jumps, 3);
    ck_assert_uint_eq(m->jumps[0].cond, 1);
    ck_assert_uint_eq(m->jumps[1].cond, 5);
    /* a byte_test after a regex has no literal to be found with: it is read */
    ck_assert_uint_eq(m->jumps[2].cond, 8);
    ck_assert_uint_eq(m->jumps[2].flags, VP_J_TEST | VP_J_LITTLE);
    ck_assert_uint_eq(m->jumps[2].op, VP_TEST_GT);
    ck_assert_uint_eq(m->jumps[2].value, 7);
    ck_assert_uint_eq(m->jumps[0].flags, VP_J_LITTLE | VP_J_ALIGN);
    ck_assert_uint_eq(m->jumps[0].multiplier, 4);
    ck_assert_uint_eq(m->jumps[0].post_offset, 7);
}

#define JUMP_REC(i, f) (VP_BUNDLE_ARRAY_HEADER + (i) * VP_BUNDLE_JUMP_REC + (f))

static void bj_no_records(vp_model *m) { m->n_jumps = 0; }
static void bj_cond_range(vp_model *m) { m->jumps[1].cond = 99; }
static void bj_not_a_jump(vp_model *m) { m->jumps[1].cond = 6; }
static void bj_order(vp_model *m) { m->jumps[1].cond = 1; }
static void bj_bytes(vp_model *m) { m->jumps[0].bytes = 1; }
static void bj_flags(vp_model *m) { m->jumps[0].flags = 8; }
static void bj_mult_zero(vp_model *m) { m->jumps[1].multiplier = 0; }
static void bj_mult_big(vp_model *m) { m->jumps[1].multiplier = 65536; }
static void bj_post_big(vp_model *m) { m->jumps[0].post_offset = 65536; }
static void bj_negated(vp_model *m) { m->conds[1].flags |= VP_C_NEGATE; }
static void bj_negative_distance(vp_model *m) { m->conds[1].distance = -1; }
static void bj_within(vp_model *m) { m->conds[1].within = 3; }
static void bj_too_long(vp_model *m)
{
    m->conds[1].length = m->conds[1].within = 9;
    m->jumps[0].bytes = 9;
}
static void bj_with_offset(vp_model *m)
{
    m->conds[1].flags |= VP_C_HAS_OFFSET;
    m->conds[1].offset = 1;
}
static void bj_atom_expr(vp_model *m) { m->atoms[m->conds[1].atom].expr = m->rules[0].name; }
static void bj_atom_http(vp_model *m)
{
    m->atoms[m->conds[1].atom].flags |= (uint32_t)VP_BUF_URI << VP_BUF_SHIFT;
}
static void bj_tail(vp_model *m) { m->conds[2].flags &= ~(uint32_t)VP_C_RELATIVE; }
static void bj_next_negated(vp_model *m) { m->conds[2].flags |= VP_C_NEGATE; }
static void bj_next_behind(vp_model *m) { m->conds[6].distance = -1, m->conds[6].flags |= VP_C_HAS_DISTANCE; }
static void bj_after_negative(vp_model *m) { m->conds[4].distance = -1; }
static void bj_test_op(vp_model *m) { m->jumps[2].op = VP_TEST_N_OPS; }
static void bj_test_mult(vp_model *m) { m->jumps[2].multiplier = 2; }
static void bj_test_post(vp_model *m) { m->jumps[2].post_offset = 1; }
static void bj_test_align(vp_model *m) { m->jumps[2].flags |= VP_J_ALIGN; }
static void bj_jump_op(vp_model *m) { m->jumps[0].op = 1; }
static void bj_jump_value(vp_model *m) { m->jumps[0].value = 1; }
static void bj_test_after_negative(vp_model *m)
{
    m->conds[8].distance = -1;   /* the test reads before its predecessor's end */
}

static const fb_case bj_cases[] = {
    {"byte_jump condition without a record", bj_no_records, VP_SECT_CONDS, COND(1, 0)},
    {"record for a condition out of range", bj_cond_range, VP_SECT_JUMPS, JUMP_REC(1, 0)},
    {"record for a condition that is no byte_jump", bj_not_a_jump, VP_SECT_JUMPS, JUMP_REC(1, 0)},
    {"records out of order", bj_order, VP_SECT_JUMPS, JUMP_REC(1, 0)},
    {"bytes unlike the condition's length", bj_bytes, VP_SECT_JUMPS, JUMP_REC(0, 4)},
    {"unknown flag", bj_flags, VP_SECT_JUMPS, JUMP_REC(0, 5)},
    {"multiplier 0", bj_mult_zero, VP_SECT_JUMPS, JUMP_REC(1, 8)},
    {"multiplier 65536", bj_mult_big, VP_SECT_JUMPS, JUMP_REC(1, 8)},
    {"post_offset 65536", bj_post_big, VP_SECT_JUMPS, JUMP_REC(0, 12)},
    {"negated byte_jump", bj_negated, VP_SECT_CONDS, COND(1, 4)},
    {"byte_jump reading before the match", bj_negative_distance, VP_SECT_CONDS, COND(1, 4)},
    {"byte_jump window unlike its length", bj_within, VP_SECT_CONDS, COND(1, 4)},
    {"byte_jump of 9 bytes", bj_too_long, VP_SECT_CONDS, COND(1, 4)},
    {"byte_jump with an offset", bj_with_offset, VP_SECT_CONDS, COND(1, 4)},
    {"byte_jump atom with an expression", bj_atom_expr, VP_SECT_ATOMS, ATOM(1, 4)},
    {"byte_jump atom on an HTTP buffer", bj_atom_http, VP_SECT_ATOMS, ATOM(1, 4)},
    {"byte_jump ending its chain", bj_tail, VP_SECT_CONDS, COND(1, 4)},
    {"negated condition after a byte_jump", bj_next_negated, VP_SECT_CONDS, COND(1, 4)},
    {"negative distance after a byte_jump", bj_next_behind, VP_SECT_CONDS, COND(5, 4)},
    {"byte_jump after a negative distance", bj_after_negative, VP_SECT_CONDS, COND(5, 4)},
    {"test with an unknown operator", bj_test_op, VP_SECT_JUMPS, JUMP_REC(2, 6)},
    {"test with a multiplier", bj_test_mult, VP_SECT_JUMPS, JUMP_REC(2, 8)},
    {"test with a post_offset", bj_test_post, VP_SECT_JUMPS, JUMP_REC(2, 12)},
    {"test with align", bj_test_align, VP_SECT_JUMPS, JUMP_REC(2, 5)},
    {"jump with an operator", bj_jump_op, VP_SECT_JUMPS, JUMP_REC(0, 6)},
    {"jump with a value", bj_jump_value, VP_SECT_JUMPS, JUMP_REC(0, 16)},
    {"test reading before its predecessor's end", bj_test_after_negative, VP_SECT_CONDS,
     COND(8, 4)},
};

START_TEST(test_jumps_round_trip)
{
    vp_model m;
    jumps_model(&m);
    blob b = round_trip(&m);
    int64_t off = -1;
    char msg[256];
    size_t rec = sect_off(&b, VP_SECT_JUMPS) + JUMP_REC(1, 7);
    b.p[rec] = 1;
    reseal(&b);
    ck_assert_int_eq(decode_blob(&b, &off, msg, sizeof msg), VP_E_BUNDLE_FORMAT);
    ck_assert_int_eq(off, (int64_t)rec);
    free(b.p);
    vp_model_free(&m);
}
END_TEST

START_TEST(test_jumps_invalid)
{
    expect_refused(jumps_model, &bj_cases[_i]);
}
END_TEST

/* ---------------------------------------------------------------- isdataat atoms */

/* One rule: "ab" on the stream, then an any-byte condition (isdataat 2,
 * relative); a second rule: absolute negated isdataat 5 on http.uri. */
static void anybyte_model(vp_model *m, int with_pattern)
{
    memset(m, 0, sizeof *m);
    m->serial = 1;
    static const char pool[] = "\0r\0ab\0n\0";
    m->strings = dup_mem(pool, sizeof pool - 1);
    m->strings_len = sizeof pool - 1;
    m->ruleset = 1;
    vp_matom atoms[3] = {
        { .expr = 3, .flags = 0 },
        { .expr = 0, .flags = VP_A_ANYBYTE },
        { .expr = 0, .flags = VP_A_ANYBYTE | ((uint32_t)VP_BUF_URI << VP_BUF_SHIFT) },
    };
    if (!with_pattern)
        atoms[0].flags = (uint32_t)VP_BUF_URI << VP_BUF_SHIFT;
    m->atoms = dup_mem(atoms, sizeof atoms);
    m->n_atoms = 3;
    vp_mcond conds[3] = {
        { .atom = 0, .length = 2 },
        { .atom = 1, .flags = VP_C_HAS_DISTANCE | VP_C_HAS_WITHIN, .length = 1, .distance = 2,
          .within = 1 },
        { .atom = 2, .flags = VP_C_NEGATE | VP_C_HAS_OFFSET | VP_C_HAS_DEPTH |
                              ((uint32_t)VP_BUF_URI << VP_BUF_SHIFT),
          .length = 1, .offset = 5, .depth = 1 },
    };
    if (!with_pattern) { /* no stream pattern at all: then no stream database */
        conds[0] = (vp_mcond){ .atom = 1, .flags = VP_C_HAS_OFFSET | VP_C_HAS_DEPTH, .length = 1,
                               .offset = 3, .depth = 1 };
        conds[1] = (vp_mcond){ .atom = 1, .flags = VP_C_NEGATE | VP_C_HAS_OFFSET | VP_C_HAS_DEPTH,
                               .length = 1, .offset = 9, .depth = 1 };
    }
    m->conds = dup_mem(conds, sizeof conds);
    m->n_conds = 3;
    vp_mrule rules[2] = {
        { .id = 1, .severity = VP_SEV_LOW, .action = VP_ACTION_BLOCK, .proto = VP_PROTO_TCP,
          .direction = VP_DIR_TO_SERVER, .modes = MODES_BOTH, .cvss10 = -1, .name = 6,
          .cond_first = 0, .cond_count = 2 },
        { .id = 2, .severity = VP_SEV_LOW, .action = VP_ACTION_BLOCK, .proto = VP_PROTO_TCP,
          .direction = VP_DIR_TO_SERVER, .modes = MODES_BOTH, .cvss10 = -1, .name = 6,
          .cond_first = 2, .cond_count = 1 },
    };
    m->rules = dup_mem(rules, sizeof rules);
    m->n_rules = 2;
    if (with_pattern) {
        m->hs_stream_db = dup_mem("not-a-real-db", 13);
        m->hs_stream_db_len = 13;
    }
}

typedef struct anybyte_case {
    const char *what;
    int with_pattern;
    void (*mutate)(vp_model *m);
    vp_status want;
} anybyte_case;

static void ab_none(vp_model *m) { (void)m; }
static void ab_expr(vp_model *m) { m->atoms[1].expr = 3; }
static void ab_caseless(vp_model *m) { m->atoms[1].flags |= VP_A_CASELESS; }
static void ab_anomaly_buf(vp_model *m)
{
    m->atoms[2].flags = VP_A_ANYBYTE | ((uint32_t)VP_BUF_ANOMALY << VP_BUF_SHIFT);
    m->conds[2].flags = (m->conds[2].flags & ~(uint32_t)VP_BUF_MASK) |
                        ((uint32_t)VP_BUF_ANOMALY << VP_BUF_SHIFT);
}
static void ab_length(vp_model *m) { m->conds[1].length = 2; }
static void ab_within(vp_model *m) { m->conds[1].within = 2; }
static void ab_negative(vp_model *m) { m->conds[1].distance = -1; }
static void ab_depth(vp_model *m) { m->conds[2].depth = 2; }
static void ab_nocase(vp_model *m) { m->conds[2].flags |= VP_C_NOCASE; }
static void ab_both_windows(vp_model *m) { m->conds[1].flags |= VP_C_HAS_OFFSET; }
static void ab_relative_after(vp_model *m)
{
    /* rule 1 takes the third condition too, made relative to the any-byte one */
    m->rules[0].cond_count = 3;
    m->rules[1].cond_first = 0;
    m->rules[1].cond_count = 1;
    m->conds[2] = (vp_mcond){ .atom = 0, .flags = VP_C_HAS_DISTANCE, .length = 2 };
    m->rules[1].cond_first = 2;
    m->n_rules = 1;
}

static const anybyte_case anybyte_cases[] = {
    { "valid", 1, ab_none, VP_OK },
    { "valid, no stream pattern, no database", 0, ab_none, VP_OK },
    { "expression not empty", 1, ab_expr, VP_E_BUNDLE_FORMAT },
    { "other atom flag", 1, ab_caseless, VP_E_BUNDLE_FORMAT },
    { "anomaly buffer", 1, ab_anomaly_buf, VP_E_BUNDLE_FORMAT },
    { "length 2", 1, ab_length, VP_E_BUNDLE_FORMAT },
    { "within 2", 1, ab_within, VP_E_BUNDLE_FORMAT },
    { "negative distance", 1, ab_negative, VP_E_BUNDLE_FORMAT },
    { "depth 2", 1, ab_depth, VP_E_BUNDLE_FORMAT },
    { "nocase", 1, ab_nocase, VP_E_BUNDLE_FORMAT },
    { "absolute and relative window", 1, ab_both_windows, VP_E_BUNDLE_FORMAT },
    { "relative condition after it", 1, ab_relative_after, VP_E_BUNDLE_FORMAT },
};

START_TEST(test_anybyte)
{
    const anybyte_case *c = &anybyte_cases[_i];
    vp_model m;
    anybyte_model(&m, c->with_pattern);
    c->mutate(&m);
    blob b = encode_model(&m);
    vp_model_free(&m);
    char msg[256] = "";
    int64_t off = -2;
    vp_status st = decode_blob(&b, &off, msg, sizeof msg);
    ck_assert_msg(st == c->want, "%s: status %d, want %d (%s @%lld)", c->what, (int)st,
                  (int)c->want, msg, (long long)off);
    if (st != VP_OK)
        ck_assert_msg(off > 0 && (size_t)off < b.len, "%s: error offset %lld", c->what,
                      (long long)off);
    free(b.p);
}
END_TEST

/* ---------------------------------------------------------------- crafted layouts */

START_TEST(test_trailing_bytes)
{
    blob g = good_bundle();
    blob b = { calloc(1, g.len + 8), g.len + 8 };
    ck_assert_ptr_nonnull(b.p);
    memcpy(b.p, g.p, g.len);
    vp_store_le64(b.p + 32, b.len);
    reseal(&b);
    expect_status_at(&b, VP_E_BUNDLE_FORMAT, (int64_t)g.len, "trailing bytes");
    free(b.p);
    free(g.p);
}
END_TEST

START_TEST(test_padding_not_zero)
{
    blob b = good_bundle();
    /* STRINGS is followed by padding in this model, HS_STREAM_DB (13 bytes) too */
    uint32_t types[] = { VP_SECT_STRINGS, VP_SECT_HS_STREAM_DB };
    for (size_t k = 0; k < 2; k++) {
        size_t end = sect_off(&b, types[k]) + sect_size(&b, types[k]);
        ck_assert_uint_ne(end % 8, 0);
        b.p[end] = 0x20;
        expect_status_at(&b, VP_E_BUNDLE_FORMAT, (int64_t)end, "padding");
        b.p[end] = 0;
    }
    free(b.p);
}
END_TEST

static blob good_split(tsec *s, size_t *n)
{
    blob b = good_bundle();
    *n = split(&b, s);
    return b;
}

static tsec *find_tsec(tsec *s, size_t n, uint32_t type)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].type == type)
            return &s[i];
    ck_abort_msg("no section %u", type);
    return NULL;
}

static void expect_same_model(const blob *b)
{
    vp_model m, d;
    build_model(&m);
    ck_assert_int_eq(vp_bundle_decode(b->p, b->len, &d, NULL, 0, NULL), VP_OK);
    assert_models_equal(&m, &d);
    vp_model_free(&d);
    vp_model_free(&m);
}

START_TEST(test_assembler_matches_encoder)
{
    tsec s[16];
    size_t n;
    blob g = good_split(s, &n);
    blob b = assemble(s, n, VP_BUNDLE_MINOR);
    ck_assert_uint_eq(b.len, g.len);
    ck_assert_mem_eq(b.p, g.p, g.len);
    free(b.p);
    free(g.p);
}
END_TEST

START_TEST(test_unknown_optional_sections)
{
    tsec s[16];
    size_t n;
    blob g = good_split(s, &n);
    /* insert an unknown optional section in the middle and a SIGNATURE at the end */
    memmove(&s[4], &s[3], (n - 3) * sizeof *s);
    s[3] = (tsec){ 0x1000, 0, (const uint8_t *)"future data", 11 };
    s[n + 1] = (tsec){ VP_SECT_SIGNATURE, 0, (const uint8_t *)"sig", 3 };
    blob b = assemble(s, n + 2, 3);
    expect_same_model(&b);
    vp_bundle_header_info info;
    ck_assert_int_eq(vp_bundle_peek(b.p, b.len, &info, NULL, 0, NULL), VP_OK);
    ck_assert_uint_eq(info.minor, 3);
    ck_assert_uint_eq(info.section_count, n + 2);
    ck_assert_uint_eq(info.sections[3].type, 0x1000);
    ck_assert_uint_eq(info.sections[3].size, 11);
    free(b.p);

    /* the same section marked required is refused */
    s[3].flags = VP_BUNDLE_SECTION_REQUIRED;
    b = assemble(s, n + 2, 3);
    expect_status_at(&b, VP_E_BUNDLE_FORMAT, ENTRY(3, 0), "unknown required");
    free(b.p);

    /* SIGNATURE is optional by definition: the required flag is wrong */
    s[3].flags = 0;
    s[n + 1].flags = VP_BUNDLE_SECTION_REQUIRED;
    b = assemble(s, n + 2, 3);
    expect_status_at(&b, VP_E_BUNDLE_FORMAT, ENTRY((long)n + 1, 4), "required SIGNATURE");
    free(b.p);
    free(g.p);
}
END_TEST

START_TEST(test_reordered_sections)
{
    tsec s[16], r[16];
    size_t n;
    blob g = good_split(s, &n);
    for (size_t i = 0; i < n; i++)
        r[i] = s[n - 1 - i];
    blob b = assemble(r, n, 0);
    expect_same_model(&b);
    free(b.p);
    free(g.p);
}
END_TEST

START_TEST(test_missing_and_duplicate_sections)
{
    tsec s[16];
    size_t n;
    blob g = good_split(s, &n);
    for (size_t drop = 0; drop < n; drop++) {
        tsec t[16];
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (i != drop)
                t[k++] = s[i];
        blob b = assemble(t, k, 0);
        expect_status_at(&b, VP_E_BUNDLE_FORMAT, 48, "missing section");
        free(b.p);
    }
    s[n] = s[0];
    blob b = assemble(s, n + 1, 0);
    expect_status_at(&b, VP_E_BUNDLE_FORMAT, ENTRY((long)n, 0), "duplicate section");
    free(b.p);
    free(g.p);
}
END_TEST

START_TEST(test_section_sizes)
{
    tsec s[16];
    size_t n;
    blob g = good_split(s, &n);
    blob b;
    static const uint8_t zeros[16] = { 0 };

    tsec *hs = find_tsec(s, n, VP_SECT_HS_STREAM_DB);
    tsec keep = *hs;
    hs->size = 0;
    b = assemble(s, n, 0);
    expect_status_at(&b, VP_E_BUNDLE_FORMAT, (int64_t)sect_off(&b, VP_SECT_HS_STREAM_DB),
                     "empty database with atoms");
    free(b.p);
    *hs = keep;

    tsec *meta = find_tsec(s, n, VP_SECT_META);
    keep = *meta;
    meta->size = 4;
    b = assemble(s, n, 0);
    expect_status_at(&b, VP_E_BUNDLE_FORMAT, (int64_t)sect_off(&b, VP_SECT_META), "short META");
    free(b.p);
    meta->data = zeros;
    meta->size = 16;
    b = assemble(s, n, 0);
    expect_status_at(&b, VP_E_BUNDLE_FORMAT, (int64_t)sect_off(&b, VP_SECT_META), "long META");
    free(b.p);
    *meta = keep;

    tsec *pool = find_tsec(s, n, VP_SECT_STRINGS);
    keep = *pool;
    pool->size = 0;
    b = assemble(s, n, 0);
    expect_status_at(&b, VP_E_BUNDLE_FORMAT, (int64_t)sect_off(&b, VP_SECT_STRINGS), "empty pool");
    free(b.p);
    *pool = keep;

    tsec *conds = find_tsec(s, n, VP_SECT_CONDS);
    keep = *conds;
    conds->size = 7;    /* smaller than the count header */
    b = assemble(s, n, 0);
    expect_status_at(&b, VP_E_BUNDLE_FORMAT, (int64_t)sect_off(&b, VP_SECT_CONDS), "tiny CONDS");
    free(b.p);
    conds->size = keep.size - 1;    /* a partial record */
    b = assemble(s, n, 0);
    expect_status_at(&b, VP_E_BUNDLE_FORMAT, (int64_t)sect_off(&b, VP_SECT_CONDS), "partial CONDS");
    free(b.p);
    *conds = keep;
    free(g.p);

    /* no atoms: the database must be empty */
    blob e = { dup_mem(golden_empty, sizeof golden_empty), sizeof golden_empty };
    n = split(&e, s);
    find_tsec(s, n, VP_SECT_HS_STREAM_DB)->data = (const uint8_t *)"x";
    find_tsec(s, n, VP_SECT_HS_STREAM_DB)->size = 1;
    b = assemble(s, n, 0);
    expect_status_at(&b, VP_E_BUNDLE_FORMAT, (int64_t)sect_off(&b, VP_SECT_HS_STREAM_DB),
                     "database without atoms");
    free(b.p);
    free(e.p);
}
END_TEST

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("basics");
    tcase_add_test(tc, test_crc32);
    tcase_add_test(tc, test_bytes_reader);
    tcase_add_test(tc, test_bytes_writer);
    tcase_add_test(tc, test_model_free);
    tcase_add_test(tc, test_section_names);
    tcase_add_test(tc, test_arguments);
    suite_add_tcase(s, tc);

    tc = tcase_create("format");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_golden_empty);
    tcase_add_test(tc, test_golden_header_fields);
    tcase_add_test(tc, test_peek);
    tcase_add_test(tc, test_encode_normalizes_absent_fields);
    tcase_add_test(tc, test_assembler_matches_encoder);
    suite_add_tcase(s, tc);

    tc = tcase_create("damage");
    tcase_set_timeout(tc, 600);     /* slow under valgrind */
    tcase_add_test(tc, test_truncation);
    tcase_add_test(tc, test_bit_flips);
    tcase_add_test(tc, test_checksums);
    tcase_add_loop_test(tc, test_crafted, 0, (int)(sizeof tampers / sizeof tampers[0]));
    tcase_add_test(tc, test_service_rules);
    tcase_add_test(tc, test_flowbits_round_trip);
    tcase_add_loop_test(tc, test_flowbits_invalid, 0, (int)(sizeof fb_cases / sizeof fb_cases[0]));
    tcase_add_test(tc, test_jumps_round_trip);
    tcase_add_loop_test(tc, test_jumps_invalid, 0, (int)(sizeof bj_cases / sizeof bj_cases[0]));
    tcase_add_test(tc, test_thresholds_round_trip);
    tcase_add_loop_test(tc, test_thresholds_invalid, 0,
                        (int)(sizeof th_cases / sizeof th_cases[0]));
    tcase_add_loop_test(tc, test_anybyte, 0,
                        (int)(sizeof anybyte_cases / sizeof anybyte_cases[0]));
    tcase_add_test(tc, test_trailing_bytes);
    tcase_add_test(tc, test_padding_not_zero);
    tcase_add_test(tc, test_unknown_optional_sections);
    tcase_add_test(tc, test_reordered_sections);
    tcase_add_test(tc, test_missing_and_duplicate_sections);
    tcase_add_test(tc, test_section_sizes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vp_test_run_suite(codec_suite());
}
