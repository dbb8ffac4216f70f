// Build-only check: the public headers compile as C++ and link from C++.
#include "vpatch/vpatch.h"
#include "vpatch/vpatch_compile.h"

int main()
{
    vp_status st = VP_OK;
    return (vp_status_str(st)[0] == 'V' && vp_version_number() == VPATCH_VERSION_NUMBER) ? 0 : 1;
}
