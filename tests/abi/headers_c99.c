/* Build-only check: the public headers are strict C99. */
#include "vpatch/vpatch.h"
#include "vpatch/vpatch_compile.h"

int main(void)
{
    return vp_version_number() == VPATCH_VERSION_NUMBER ? 0 : 1;
}
