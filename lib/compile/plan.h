/*
 * From parsed sources to the compiled model: string pool, rules, conditions,
 * de-duplicated Hyperscan expressions ("atoms") and the streaming database.
 */
#ifndef VP_COMPILE_PLAN_H
#define VP_COMPILE_PLAN_H

#include "ast.h"

/* Checks what needs the whole set (cross-file ids, regexes, engine limits) and,
 * when no error diagnostic exists at the end, fills *out.  Returns 0, or -1
 * when out of memory. */
int vp_plan_build(vp_src_file *files, size_t n_files, uint64_t serial, vp_model *out,
                  vp_diags *diags);

/* Databases for CPU targets beyond the baseline, as an HS_DB_VARIANTS section
 * (*section NULL when none could be built).  Returns -1 when out of memory. */
int vp_plan_cpu_variants(const vp_model *m, uint8_t **section, size_t *len);

/* Runs every embedded rule test against the bundle bytes; failures become
 * diagnostics.  Returns 0, or -1 when the bundle cannot even be loaded. */
int vp_testrun(const vp_src_file *files, size_t n_files, const uint8_t *bundle, size_t len,
               vp_diags *diags);

#endif
