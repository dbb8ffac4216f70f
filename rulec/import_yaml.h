/*
 * rulec import: YAML emitter for translated rules.
 *
 * Block style, one field per line; strings double-quoted (\xHH for bytes
 * that are not printable ASCII in content), regexes single-quoted when they
 * can be, so that they read exactly as the regex compiler gets them.
 */
#ifndef RULEC_IMPORT_YAML_H
#define RULEC_IMPORT_YAML_H

#include <stddef.h>

#include "import_rule.h"

/* "format: 1", the ruleset name and "rules:" (followed by nothing when
 * n_rules is 0: "rules: []"). */
void imp_yaml_begin(imp_buf *b, const char *ruleset, const char *dialect, size_t n_rules);

enum {
    IMP_Y_FULL = 0,
    IMP_Y_MINIMAL = 1, /* only what the compiler reads (for validation) */
};

/* One rule.  Conditions whose buffer is in `stream_buffers` are written
 * without `buffer:` (validation while the engine lacks that buffer). */
void imp_yaml_rule(imp_buf *b, const imp_rule *r, int mode, char *const *stream_buffers,
                   size_t n_stream_buffers);

/* YAML double-quoted text (valid UTF-8 kept, other bytes as \xHH). */
void imp_yaml_text(imp_buf *b, const char *s);

#endif /* RULEC_IMPORT_YAML_H */
