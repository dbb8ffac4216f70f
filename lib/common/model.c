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
