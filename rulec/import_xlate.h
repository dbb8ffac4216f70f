/*
 * rulec import: translation of one parsed Suricata / Snort 3 rule into a rule
 * of the YAML language, with an issue for everything that is not carried
 * over exactly (see docs/import.md for the mapping tables).
 */
#ifndef RULEC_IMPORT_XLATE_H
#define RULEC_IMPORT_XLATE_H

#include "import_rule.h"
#include "import_vars.h"

typedef struct imp_ctx {
    int dialect;               /* IMP_SURICATA or IMP_SNORT3 */
    const imp_vars *vars;
    const imp_classes *classes;
} imp_ctx;

/* Translates raw into out (zeroed first).  Never fails: problems are issues
 * of out; imp_rule_level(out) == IMP_REJECT means "not imported". */
void imp_translate(const imp_ctx *ctx, const imp_raw *raw, imp_rule *out);

/* Direction of a buffer of the language: 0 either, IMP_DIR_TO_SERVER or
 * IMP_DIR_TO_CLIENT; -1 when the name is not a buffer of the language. */
int imp_buffer_direction(const char *buffer);

/* Every HTTP buffer of the language, NULL-terminated. */
extern const char *const imp_http_buffers[];

#endif /* RULEC_IMPORT_XLATE_H */
