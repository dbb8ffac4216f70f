/*
 * Choosing the pattern database: the most capable shipped variant that this
 * CPU and this Hyperscan can run, else the baseline database, else (when the
 * host allows it) a database recompiled from the bundle's own patterns, so a
 * bundle works wherever the library does.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/dbvariants.h"
#include "../common/hsflags.h"
#include "internal.h"

static const char *variant_name(uint64_t features)
{
    if (features & HS_CPU_FEATURES_AVX512VBMI)
        return "avx512vbmi";
    if (features & HS_CPU_FEATURES_AVX512)
        return "avx512";
    if (features & HS_CPU_FEATURES_AVX2)
        return "avx2";
    return "baseline";
}

/* 1 loaded, 0 does not fit this system, -1 corrupt. */
static int try_deserialize(hs_database_t **dbp, const uint8_t *db, size_t len)
{
    hs_database_t *out = NULL;
    hs_error_t rc = hs_deserialize_database((const char *)db, len, &out);
    if (rc == HS_SUCCESS) {
        char *info = NULL;
        int streaming = hs_database_info(out, &info) == HS_SUCCESS && info && strstr(info, "STREAM");
        free(info);
        if (!streaming) {
            hs_free_database(out);
            return -1;
        }
        *dbp = out;
        return 1;
    }
    return rc == HS_DB_VERSION_ERROR || rc == HS_DB_PLATFORM_ERROR ? 0 : -1;
}

static vp_status try_variants(vp_bundle_t *b, const uint8_t *data, uint64_t host_features,
                              vp_error_t **err)
{
    const vp_bundle_section_info *s = NULL;
    for (uint32_t i = 0; i < b->hdr.section_count; i++)
        if (b->hdr.sections[i].type == VP_SECT_HS_DB_VARIANTS)
            s = &b->hdr.sections[i];
    if (!s)
        return VP_OK;
    vp_db_variant v[VP_MAX_DB_VARIANTS];
    uint64_t bad = 0;
    int n = vp_db_variants_parse(data + s->offset, s->size, v, &bad);
    if (n < 0)
        return vp_error_set(err, VP_E_BUNDLE_FORMAT, (int64_t)(s->offset + bad),
                            "HS_DB_VARIANTS section is malformed");
    /* Richest first: more feature bits means a more specialised target. */
    int order[VP_MAX_DB_VARIANTS];
    for (int i = 0; i < n; i++) {
        int j = i;
        for (; j > 0 && __builtin_popcountll(v[order[j - 1]].cpu_features) <
                            __builtin_popcountll(v[i].cpu_features); j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (int k = 0; k < n && !b->db; k++) {
        const vp_db_variant *x = &v[order[k]];
        if ((x->cpu_features & ~host_features) || strncmp(x->hs_version, hs_version(), VP_HS_VERSION_LEN) != 0)
            continue;
        int rc = try_deserialize(&b->db, x->db, (size_t)x->size);
        if (rc < 0)
            return vp_error_set(err, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                                "%s database cannot be deserialized",
                                variant_name(x->cpu_features));
        if (rc > 0)
            b->db_source = variant_name(x->cpu_features);
    }
    return VP_OK;
}

static vp_status recompile(const vp_bundle_t *b, int buf, hs_database_t **out, vp_error_t **err)
{
    return vp_compile_atoms(b, buf, NULL, out, err);
}

/* Builds the database of one buffer from the bundle's own patterns, all of
 * them or those with a nonzero byte in `mask` (per atom). */
vp_status vp_compile_atoms(const vp_bundle_t *b, int buf, const uint8_t *mask, hs_database_t **out,
                           vp_error_t **err)
{
    const vp_model *m = &b->m;
    const char **exprs = calloc(m->n_atoms ? m->n_atoms : 1, sizeof(char *));
    unsigned *flags = calloc(m->n_atoms ? m->n_atoms : 1, sizeof(unsigned));
    unsigned *ids = calloc(m->n_atoms ? m->n_atoms : 1, sizeof(unsigned));
    vp_status st = VP_OK;
    unsigned n = 0;
    if (!exprs || !flags || !ids) {
        st = vp_error_set(err, VP_E_NOMEM, -1, "out of memory recompiling patterns");
        goto out;
    }
    for (size_t i = 0; i < m->n_atoms; i++) {
        if ((int)VP_BUF_OF(m->atoms[i].flags) != buf || (m->atoms[i].flags & VP_A_NOT_PATTERN) ||
            (mask && !mask[i]))
            continue;
        exprs[n] = vp_model_str(m, m->atoms[i].expr);
        flags[n] = vp_hs_flags_of(m->atoms[i].flags);
        ids[n++] = (unsigned)i;
    }
    if (n == 0)
        goto out;
    hs_compile_error_t *cerr = NULL;
    if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_STREAM, NULL, out, &cerr) != HS_SUCCESS) {
        st = vp_error_set(err, VP_E_BUNDLE_FORMAT, -1,
                          "bundle patterns (%s) cannot be recompiled here: %s", vp_buf_name(buf),
                          cerr && cerr->message ? cerr->message : "unknown error");
        hs_free_compile_error(cerr);
        *out = NULL;
    }
out:
    free(exprs);
    free(flags);
    free(ids);
    return st;
}

static int buffer_has_patterns(const vp_bundle_t *b, int buf)
{
    for (size_t i = 0; i < b->m.n_atoms; i++)
        if ((int)VP_BUF_OF(b->m.atoms[i].flags) == buf && !(b->m.atoms[i].flags & VP_A_NOT_PATTERN))
            return 1;
    return 0;
}

/* HTTP buffer databases: shipped for the baseline target, else recompiled. */
static vp_status select_buffer_dbs(vp_bundle_t *b, const uint8_t *data,
                                   const vp_load_options_t *o, int *recompiled, vp_error_t **err)
{
    const vp_bundle_section_info *s = NULL;
    for (uint32_t i = 0; i < b->hdr.section_count; i++)
        if (b->hdr.sections[i].type == VP_SECT_HS_BUFFER_DBS)
            s = &b->hdr.sections[i];
    vp_buffer_db v[VP_MAX_BUFFER_DBS];
    int n = 0;
    if (s) {
        uint64_t bad = 0;
        n = vp_buffer_dbs_parse(data + s->offset, s->size, v, &bad);
        if (n < 0)
            return vp_error_set(err, VP_E_BUNDLE_FORMAT, (int64_t)(s->offset + bad),
                                "HS_BUFFER_DBS section is malformed");
    }
    for (int i = 0; i < n; i++) {
        if (v[i].buf == VP_BUF_STREAM || !vp_buf_has_patterns((int)v[i].buf) ||
            b->bufs[v[i].buf].db)
            return vp_error_set(err, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                                "HS_BUFFER_DBS holds a bad or repeated buffer %u", v[i].buf);
        if (!buffer_has_patterns(b, (int)v[i].buf))
            return vp_error_set(err, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                                "HS_BUFFER_DBS holds a database for %s, which has no patterns",
                                vp_buf_name((int)v[i].buf));
        if (o->flags & VP_LOAD_FORCE_RECOMPILE)
            continue;
        int rc = try_deserialize(&b->bufs[v[i].buf].db, v[i].db, (size_t)v[i].size);
        if (rc < 0)
            return vp_error_set(err, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                                "%s database cannot be deserialized", vp_buf_name((int)v[i].buf));
    }
    for (int k = VP_BUF_STREAM + 1; k < VP_BUF_COUNT; k++) {
        if (!vp_buf_has_patterns(k) || b->bufs[k].db || !buffer_has_patterns(b, k))
            continue;
        if (!o->allow_recompile)
            return vp_error_set(err, VP_E_BUNDLE_PLATFORM, -1,
                                "no database for %s fits this system and recompiling is not "
                                "allowed", vp_buf_name(k));
        vp_status st = recompile(b, k, &b->bufs[k].db, err);
        if (st != VP_OK)
            return st;
        *recompiled = 1;
    }
    return VP_OK;
}

static vp_status select_stream_db(vp_bundle_t *b, const uint8_t *data,
                                  const vp_load_options_t *o, vp_error_t **err)
{
    b->db_source = "none";
    if (!buffer_has_patterns(b, VP_BUF_STREAM))
        return VP_OK;
    hs_platform_info_t host;
    if (hs_populate_platform(&host) != HS_SUCCESS)
        memset(&host, 0, sizeof(host));
    vp_status st = VP_OK;
    if (!(o->flags & (VP_LOAD_BASELINE_ONLY | VP_LOAD_FORCE_RECOMPILE)))
        st = try_variants(b, data, host.cpu_features, err);
    if (st != VP_OK || b->db)
        return st;
    if (!(o->flags & VP_LOAD_FORCE_RECOMPILE)) {
        int rc = try_deserialize(&b->db, b->m.hs_stream_db, b->m.hs_stream_db_len);
        if (rc < 0)
            return vp_error_set(err, VP_E_BUNDLE_FORMAT, -1,
                                "pattern database cannot be deserialized");
        if (rc > 0) {
            b->db_source = "baseline";
            return VP_OK;
        }
    }
    if (!o->allow_recompile) {
        char *info = NULL;
        hs_serialized_database_info((const char *)b->m.hs_stream_db, b->m.hs_stream_db_len, &info);
        st = vp_error_set(err, VP_E_BUNDLE_PLATFORM, -1,
                          "no database in the bundle fits this system (baseline: %s; this "
                          "library runs Hyperscan %s) and recompiling is not allowed",
                          info ? info : "unreadable", hs_version());
        free(info);
        return st;
    }
    st = recompile(b, VP_BUF_STREAM, &b->db, err);
    if (st == VP_OK)
        b->db_source = "recompiled";
    return st;
}

vp_status vp_select_database(vp_bundle_t *b, const uint8_t *data, const vp_load_options_t *o,
                             vp_error_t **err)
{
    vp_status st = select_stream_db(b, data, o, err);
    int recompiled = 0;
    if (st == VP_OK)
        st = select_buffer_dbs(b, data, o, &recompiled, err);
    if (st == VP_OK && recompiled && strcmp(b->db_source, "none") == 0)
        b->db_source = "recompiled";
    return st;
}
