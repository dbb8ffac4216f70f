/* Error objects (vp_error_t) for both libraries; defined in runtime/status.c. */
#ifndef VP_COMMON_ERROR_H
#define VP_COMMON_ERROR_H

#include <stdint.h>

#include "vpatch/vpatch.h"

/* Fills *err (when err is non-NULL) with a new error; always returns status.
 * Falls back to a static out-of-memory error when allocation fails. */
vp_status vp_error_set(vp_error_t **err, vp_status status, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
