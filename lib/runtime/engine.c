/* Engines: a bundle plus the administrator's selection (mode, overrides). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

VP_API vp_status vp_engine_options_create(vp_engine_options_t **out)
{
    if (!out)
        return VP_E_INVALID;
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return VP_E_NOMEM;
    (*out)->mode = VP_MODE_SECURITY;
    vp_engine_options_set_http_limits(*out, 0, 0, 0);
    return VP_OK;
}

VP_API vp_status vp_engine_options_set_http_limits(vp_engine_options_t *o, size_t header_bytes,
                                                   size_t body_bytes, size_t decompressed_bytes)
{
    if (!o || (header_bytes && header_bytes < 64) || header_bytes > (64u << 20))
        return VP_E_INVALID;
    o->http_limits.header_bytes = header_bytes ? header_bytes : VP_HTTP_DEFAULT_HEADER_BYTES;
    o->http_limits.body_bytes = body_bytes ? body_bytes : VP_HTTP_DEFAULT_BODY_BYTES;
    o->http_limits.decompressed_bytes =
        decompressed_bytes ? decompressed_bytes : VP_HTTP_DEFAULT_DECOMPRESSED_BYTES;
    o->http_limits.max_ratio = VP_HTTP_DEFAULT_MAX_RATIO;
    return VP_OK;
}

VP_API void vp_engine_options_free(vp_engine_options_t *o)
{
    if (!o)
        return;
    free(o->enable);
    free(o->disable);
    free(o);
}

VP_API vp_status vp_engine_options_set_mode(vp_engine_options_t *o, vp_mode mode)
{
    if (!o || (mode != VP_MODE_PERFORMANCE && mode != VP_MODE_SECURITY))
        return VP_E_INVALID;
    o->mode = mode;
    return VP_OK;
}

static vp_status append_ids(uint32_t **v, size_t *n, size_t *cap, const uint32_t *ids, size_t k)
{
    if (k && !ids)
        return VP_E_INVALID;
    if (k > SIZE_MAX / sizeof(uint32_t) - *n)
        return VP_E_NOMEM;
    if (*n + k > *cap) {
        size_t ncap = (*n + k) * 2;
        uint32_t *nv = realloc(*v, ncap * sizeof(uint32_t));
        if (!nv)
            return VP_E_NOMEM;
        *v = nv;
        *cap = ncap;
    }
    if (k)
        memcpy(*v + *n, ids, k * sizeof(uint32_t));
    *n += k;
    return VP_OK;
}

VP_API vp_status vp_engine_options_enable(vp_engine_options_t *o, const uint32_t *ids, size_t n)
{
    if (!o)
        return VP_E_INVALID;
    return append_ids(&o->enable, &o->n_enable, &o->cap_enable, ids, n);
}

VP_API vp_status vp_engine_options_disable(vp_engine_options_t *o, const uint32_t *ids, size_t n)
{
    if (!o)
        return VP_E_INVALID;
    return append_ids(&o->disable, &o->n_disable, &o->cap_disable, ids, n);
}

VP_API vp_status vp_engine_options_set_profiling(vp_engine_options_t *o, int enable)
{
    if (!o || (enable != 0 && enable != 1))
        return VP_E_INVALID;
    o->profiling = enable;
    return VP_OK;
}

VP_API vp_status vp_engine_profile_at(const vp_engine_t *e, size_t index, vp_rule_profile_t *out)
{
    if (!e || !out || out->size < sizeof(size_t) || !e->profile || index >= e->m->n_rules)
        return VP_E_INVALID;
    vp_rule_profile_t p;
    p.size = out->size;
    p.rule_id = e->m->rules[index].id;
    p.pattern_hits = atomic_load_explicit(&e->profile[index].hits, memory_order_relaxed);
    p.fires = atomic_load_explicit(&e->profile[index].fires, memory_order_relaxed);
    p.confirm_ns = atomic_load_explicit(&e->profile[index].ns, memory_order_relaxed);
    memcpy(out, &p, out->size < sizeof(p) ? out->size : sizeof(p));
    return VP_OK;
}

VP_API vp_status vp_engine_options_set_detect_only(vp_engine_options_t *o, int detect_only)
{
    if (!o || (detect_only != 0 && detect_only != 1))
        return VP_E_INVALID;
    o->detect_only = detect_only;
    return VP_OK;
}

static vp_status apply_overrides(vp_engine_t *e, const uint32_t *ids, size_t n, uint8_t value,
                                 const char *what, vp_error_t **err)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t r;
        if (!vp_bundle_find_rule(e->bundle, ids[i], &r))
            return vp_error_set(err, VP_E_UNKNOWN_RULE, -1,
                                "cannot %s rule %u: the bundle has no such rule", what, ids[i]);
        e->enabled[r] = value;
    }
    return VP_OK;
}

uint64_t vp_unique_id(const void *object)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return t * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)object;
}

static void free_databases(vp_engine_t *e)
{
    for (int k = 0; k < VP_BUF_COUNT; k++)
        if (e->owned[k])
            hs_free_database(e->dbs[k]);
}

/* A mode or override that leaves out a good part of the rules gets databases
 * of just the patterns it uses: scanning then does only the work of the
 * rules that can fire (performance mode is faster for real).  Below that the
 * bundle's databases are shared as they are. */
static vp_status choose_databases(vp_engine_t *e, vp_error_t **err)
{
    const vp_bundle_t *b = e->bundle;
    const vp_model *m = &b->m;
    uint8_t *used = calloc(m->n_atoms ? m->n_atoms : 1, 1);
    if (!used)
        return vp_error_set(err, VP_E_NOMEM, -1, "out of memory");
    for (size_t r = 0; r < m->n_rules; r++)
        if (e->enabled[r])
            for (uint32_t k = 0; k < m->rules[r].cond_count; k++)
                used[m->conds[m->rules[r].cond_first + k].atom] = 1;
    vp_status st = VP_OK;
    e->db_key = b->uid;
    for (int buf = 0; buf < VP_BUF_COUNT && st == VP_OK; buf++) {
        if (!vp_buf_has_patterns(buf))
            continue;
        hs_database_t *shared = buf == VP_BUF_STREAM ? b->db : b->bufs[buf].db;
        size_t total = 0, in_use = 0;
        for (size_t a = 0; a < m->n_atoms; a++)
            if ((int)VP_BUF_OF(m->atoms[a].flags) == buf && !(m->atoms[a].flags & VP_A_NOT_PATTERN)) {
                total++;
                in_use += used[a];
            }
        if (!shared || in_use == 0)
            continue;
        e->dbs[buf] = shared;
        if (in_use * 4 > total * 3)
            continue;
        hs_database_t *own = NULL;
        vp_error_t *ignored = NULL;
        /* If this fails the shared database still gives the same results. */
        if (vp_compile_atoms(b, buf, used, &own, &ignored) == VP_OK && own) {
            e->dbs[buf] = own;
            e->owned[buf] = 1;
            e->db_key = vp_unique_id(e);
        }
        vp_error_free(ignored);
    }
    free(used);
    return st;
}

VP_API vp_status vp_engine_create(vp_bundle_t *bundle, const vp_engine_options_t *opts,
                                  vp_engine_t **out, vp_error_t **err)
{
    if (err)
        *err = NULL;
    if (!out)
        return vp_error_set(err, VP_E_INVALID, -1, "out is NULL");
    *out = NULL;
    if (!bundle)
        return vp_error_set(err, VP_E_INVALID, -1, "bundle is NULL");
    vp_engine_options_t defaults;
    memset(&defaults, 0, sizeof(defaults));
    defaults.mode = VP_MODE_SECURITY;
    vp_engine_options_set_http_limits(&defaults, 0, 0, 0);
    if (!opts)
        opts = &defaults;
    vp_engine_t *e = calloc(1, sizeof(*e));
    if (!e)
        return vp_error_set(err, VP_E_NOMEM, -1, "out of memory");
    e->bundle = bundle;
    e->m = &bundle->m;
    e->plan = &bundle->plan;
    e->detect_only = opts->detect_only;
    e->http_limits = opts->http_limits;
    if (opts->profiling) {
        e->profile = calloc(bundle->m.n_rules ? bundle->m.n_rules : 1, sizeof(*e->profile));
        if (!e->profile) {
            free(e);
            return vp_error_set(err, VP_E_NOMEM, -1, "out of memory");
        }
    }
    size_t n = bundle->m.n_rules;
    e->enabled = calloc(n ? n : 1, 1);
    if (!e->enabled) {
        free(e);
        return vp_error_set(err, VP_E_NOMEM, -1, "out of memory");
    }
    unsigned bit = VP_MODE_BIT(opts->mode);
    for (size_t r = 0; r < n; r++)
        e->enabled[r] = (bundle->m.rules[r].modes & bit) != 0;
    vp_status st = apply_overrides(e, opts->enable, opts->n_enable, 1, "enable", err);
    if (st == VP_OK)
        st = apply_overrides(e, opts->disable, opts->n_disable, 0, "disable", err);
    if (st == VP_OK)
        st = choose_databases(e, err);
    if (st == VP_OK && e->dbs[VP_BUF_STREAM] &&
        hs_stream_size(e->dbs[VP_BUF_STREAM], &e->hs_stream_size) != HS_SUCCESS)
        st = vp_error_set(err, VP_E_HYPERSCAN, -1, "cannot size Hyperscan stream state");
    if (st != VP_OK) {
        free_databases(e);
        free(e->enabled);
        free(e->profile);
        free(e);
        return st;
    }
    for (size_t r = 0; r < n; r++) {
        e->n_enabled += e->enabled[r];
        if (e->enabled[r] && bundle->m.rules[r].service != VP_SERVICE_ANY)
            e->has_service = 1;
    }
    e->rule_bytes = (n + 7) / 8;
    e->chain_bytes = (bundle->plan.n_chains + 7) / 8;
    e->neg_bytes = (bundle->plan.n_headneg + 7) / 8;
    /* Element state is made on demand (state.c); this is the fixed part. */
    e->stream_size = sizeof(vp_stream_t) + 2 * e->rule_bytes + 2 * e->chain_bytes + e->neg_bytes;
    if (bundle->fb_first) { /* the flow's bits and the rules waiting on them */
        e->fbit_bytes = (bundle->n_fbits + 7) / 8;
        e->stream_size += e->fbit_bytes + e->rule_bytes;
    }
    atomic_init(&e->refs, 1);
    vp_bundle_ref(bundle);
    *out = e;
    return VP_OK;
}

void vp_engine_acquire(vp_engine_t *e)
{
    atomic_fetch_add(&e->refs, 1);
}

void vp_engine_release(vp_engine_t *e)
{
    if (atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    free_databases(e);
    vp_bundle_free(e->bundle);
    free(e->enabled);
    free(e->profile);
    free(e);
}

VP_API void vp_engine_free(vp_engine_t *e)
{
    if (e)
        vp_engine_release(e);
}

VP_API int vp_engine_rule_enabled(const vp_engine_t *e, uint32_t id)
{
    uint32_t r;
    if (!e || !vp_bundle_find_rule(e->bundle, id, &r))
        return 0;
    return e->enabled[r];
}

VP_API size_t vp_engine_enabled_count(const vp_engine_t *e)
{
    return e ? e->n_enabled : 0;
}

VP_API const vp_bundle_t *vp_engine_bundle(const vp_engine_t *e)
{
    return e ? e->bundle : NULL;
}

VP_API size_t vp_engine_stream_size(const vp_engine_t *e)
{
    return e ? e->stream_size + e->hs_stream_size : 0;
}
