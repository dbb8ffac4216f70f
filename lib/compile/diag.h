/*
 * Diagnostics collected while compiling rule sources.  The compiler never stops
 * at the first problem: every check appends here and the caller decides.
 */
#ifndef VP_COMPILE_DIAG_H
#define VP_COMPILE_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "vpatch/vpatch_compile.h"

/* 1-based source position (libyaml marks are 0-based: add 1 when converting). */
typedef struct vp_mark {
    uint32_t line, col;
} vp_mark;

typedef struct vp_diag {
    vp_diag_severity severity;
    vp_diag_code code;
    char *file;      /* owned */
    uint32_t line, col;
    uint32_t rule_id; /* 0 when not inside a rule with a valid id */
    char *message;   /* owned */
} vp_diag;

typedef struct vp_diags {
    vp_diag *v;
    size_t n, cap;
    size_t errors;
    int oom;         /* set when a diagnostic could not be recorded */
} vp_diags;

/* Appends a diagnostic; on allocation failure sets diags->oom (and still
 * counts an error) so that a failed build is never reported as success. */
void vp_diag_add(vp_diags *d, vp_diag_severity sev, vp_diag_code code, const char *file,
                 vp_mark at, uint32_t rule_id, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
void vp_diags_free(vp_diags *d);

#endif
