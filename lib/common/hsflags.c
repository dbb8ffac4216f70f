#include "hsflags.h"

#include <hs.h>

#include "model.h"

unsigned vp_hs_flags_of(uint32_t aflags)
{
    unsigned f = 0;
    if (aflags & VP_A_CASELESS)
        f |= HS_FLAG_CASELESS;
    if (aflags & VP_A_DOTALL)
        f |= HS_FLAG_DOTALL;
    if (aflags & VP_A_MULTILINE)
        f |= HS_FLAG_MULTILINE;
    if (aflags & VP_A_SINGLEMATCH)
        f |= HS_FLAG_SINGLEMATCH;
    return f;
}
