#include "model.h"

#include <stdlib.h>
#include <string.h>

void vp_model_free(vp_model *m)
{
    if (!m)
        return;
    free(m->strings);
    free(m->strlist);
    free(m->ports);
    free(m->rules);
    free(m->conds);
    free(m->atoms);
    free(m->flowbits);
    free(m->thresholds);
    free(m->jumps);
    free(m->hs_stream_db);
    free(m->hs_buffer_dbs);
    memset(m, 0, sizeof *m);
}

const vp_mjump *vp_model_jump_of(const vp_model *m, size_t cond)
{
    size_t lo = 0, hi = m->n_jumps;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->jumps[mid].cond < cond)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n_jumps && m->jumps[lo].cond == cond ? &m->jumps[lo] : NULL;
}
