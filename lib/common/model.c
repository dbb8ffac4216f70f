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

/* The record whose leading u32 key is `key` in n sorted records of `size`
 * bytes (THRESHOLDS by rule, JUMPS by condition), NULL when none. */
static const void *find_record(const void *base, size_t n, size_t size, size_t key)
{
    const uint8_t *p = base;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t k;
        memcpy(&k, p + mid * size, sizeof k);
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t k = 0;
    if (lo < n)
        memcpy(&k, p + lo * size, sizeof k);
    return lo < n && k == key ? p + lo * size : NULL;
}

const vp_mjump *vp_model_jump_of(const vp_model *m, size_t cond)
{
    return find_record(m->jumps, m->n_jumps, sizeof *m->jumps, cond);
}

const vp_mthreshold *vp_model_threshold_of(const vp_model *m, size_t rule)
{
    return find_record(m->thresholds, m->n_thresholds, sizeof *m->thresholds, rule);
}
