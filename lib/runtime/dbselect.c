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
static int try_deserialize(vp_bundle_t *b, const uint8_t *db, size_t len)
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
        b->db = out;
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
        int rc = try_deserialize(b, x->db, (size_t)x->size);
        if (rc < 0)
            return vp_error_set(err, VP_E_BUNDLE_FORMAT, (int64_t)s->offset,
                                "%s database cannot be deserialized",
                                variant_name(x->cpu_features));
        if (rc > 0)
            b->db_source = variant_name(x->cpu_features);
    }
    return VP_OK;
}

static vp_status recompile(vp_bundle_t *b, vp_error_t **err)
{
    const vp_model *m = &b->m;
    const char **exprs = calloc(m->n_atoms, sizeof(char *));
    unsigned *flags = calloc(m->n_atoms, sizeof(unsigned));
    unsigned *ids = calloc(m->n_atoms, sizeof(unsigned));
    vp_status st = VP_OK;
    if (!exprs || !flags || !ids) {
        st = vp_error_set(err, VP_E_NOMEM, -1, "out of memory recompiling patterns");
        goto out;
    }
    for (size_t i = 0; i < m->n_atoms; i++) {
        exprs[i] = vp_model_str(m, m->atoms[i].expr);
        flags[i] = vp_hs_flags_of(m->atoms[i].flags);
        ids[i] = (unsigned)i;
    }
    hs_compile_error_t *cerr = NULL;
    if (hs_compile_multi(exprs, flags, ids, (unsigned)m->n_atoms, HS_MODE_STREAM, NULL, &b->db,
                         &cerr) != HS_SUCCESS) {
        st = vp_error_set(err, VP_E_BUNDLE_FORMAT, -1,
                          "bundle patterns cannot be recompiled here: %s",
                          cerr && cerr->message ? cerr->message : "unknown error");
        hs_free_compile_error(cerr);
        b->db = NULL;
    } else {
        b->db_source = "recompiled";
    }
out:
    free(exprs);
    free(flags);
    free(ids);
    return st;
}

vp_status vp_select_database(vp_bundle_t *b, const uint8_t *data, const vp_load_options_t *o,
                             vp_error_t **err)
{
    b->db_source = "none";
    if (b->m.n_atoms == 0)
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
        int rc = try_deserialize(b, b->m.hs_stream_db, b->m.hs_stream_db_len);
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
    return recompile(b, err);
}
