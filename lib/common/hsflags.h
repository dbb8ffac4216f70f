/* Hyperscan compile flags of an atom, shared by the compiler and the
 * runtime's recompile fallback so both build the same database. */
#ifndef VP_COMMON_HSFLAGS_H
#define VP_COMMON_HSFLAGS_H

#include <stdint.h>

unsigned vp_hs_flags_of(uint32_t atom_flags);

#endif
