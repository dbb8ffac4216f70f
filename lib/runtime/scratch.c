/* Scratch: per-thread working memory (wraps Hyperscan's scratch). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

VP_API vp_status vp_scratch_alloc(const vp_engine_t *engine, vp_scratch_t **out)
{
    if (!out)
        return VP_E_INVALID;
    *out = NULL;
    if (!engine)
        return VP_E_INVALID;
    vp_scratch_t *s = calloc(1, sizeof(*s));
    if (!s)
        return VP_E_NOMEM;
    atomic_flag_clear(&s->busy);
    vp_status st = vp_scratch_reserve(s, engine);
    if (st != VP_OK) {
        free(s);
        return st;
    }
    *out = s;
    return VP_OK;
}

VP_API vp_status vp_scratch_reserve(vp_scratch_t *s, const vp_engine_t *engine)
{
    if (!s || !engine)
        return VP_E_INVALID;
    uint64_t key = engine->db_key;
    for (size_t i = 0; i < s->n_bundles; i++)
        if (s->bundles[i] == key)
            return VP_OK;
    if (atomic_flag_test_and_set(&s->busy))
        return VP_E_SCRATCH_IN_USE;
    /* Growing keeps the scratch valid for the databases it already served. */
    vp_status st = VP_OK;
    for (int k = 0; k < VP_BUF_COUNT && st == VP_OK; k++)
        if (engine->dbs[k] && hs_alloc_scratch(engine->dbs[k], &s->hs) != HS_SUCCESS)
            st = VP_E_NOMEM;
    if (st == VP_OK) {
        if (s->n_bundles == VP_SCRATCH_MAX_BUNDLES) {
            memmove(s->bundles, s->bundles + 1, sizeof(s->bundles[0]) * (VP_SCRATCH_MAX_BUNDLES - 1));
            s->n_bundles--;
        }
        s->bundles[s->n_bundles++] = key;
    }
    atomic_flag_clear(&s->busy);
    return st;
}

VP_API void vp_scratch_free(vp_scratch_t *s)
{
    if (!s)
        return;
    hs_free_scratch(s->hs);
    free(s);
}
