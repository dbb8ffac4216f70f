/* Scratch: per-thread working memory (wraps Hyperscan's scratch). */
#include <stdlib.h>

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
    s->engine = engine;
    if (engine->bundle->db && hs_alloc_scratch(engine->bundle->db, &s->hs) != HS_SUCCESS) {
        free(s);
        return VP_E_NOMEM;
    }
    *out = s;
    return VP_OK;
}

VP_API void vp_scratch_free(vp_scratch_t *s)
{
    if (!s)
        return;
    hs_free_scratch(s->hs);
    free(s);
}
